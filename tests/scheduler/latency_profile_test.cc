#include "edgeserve/scheduler/latency_profile.h"

#include <chrono>

#include "gtest/gtest.h"

namespace edgeserve::scheduler {
namespace {

using std::chrono::microseconds;

double PredictedUs(const LatencyProfile& profile, int64_t rows) {
  return static_cast<double>(profile.Predict(rows).count()) / 1e3;
}

TEST(LatencyProfileTest, NothingMeasuredPredictsZero) {
  LatencyProfile profile;
  EXPECT_EQ(profile.Predict(1).count(), 0);
}

TEST(LatencyProfileTest, ASteadySizeIsPredictedAtItsTime) {
  LatencyProfile profile;
  for (int i = 0; i < 60; ++i) profile.Record(4, microseconds(1000));
  EXPECT_NEAR(PredictedUs(profile, 4), 1000, 1);
}

TEST(LatencyProfileTest, AJitteryTimeIsPredictedWithAMargin) {
  LatencyProfile profile;
  for (int i = 0; i < 60; ++i) profile.Record(1, microseconds(i % 2 == 0 ? 800 : 1200));
  EXPECT_GT(PredictedUs(profile, 1), 1200);
  EXPECT_LT(PredictedUs(profile, 1), 1600);
}

TEST(LatencyProfileTest, EverySizeFollowsTheDriftOfAnyOther) {
  LatencyProfile profile;
  for (int i = 0; i < 5; ++i) {
    profile.Record(2, microseconds(1000));
    profile.Record(8, microseconds(3000));
  }
  profile.Calibrated();
  for (int i = 0; i < 60; ++i) profile.Record(2, microseconds(1300));  // the device slowed by 30%
  EXPECT_NEAR(PredictedUs(profile, 2), 1300, 15);
  // Batches of 8 have not run since, and follow most of the way (size 2's
  // own correction takes a little of the drift).
  EXPECT_GT(PredictedUs(profile, 8), 3600);
  EXPECT_LT(PredictedUs(profile, 8), 3950);
  EXPECT_EQ(profile.Estimates()[0].samples, 65u);
}

TEST(LatencyProfileTest, ASizeMeasuredBadlyAtStartIsCorrectedWhileServing) {
  LatencyProfile profile;
  for (int i = 0; i < 5; ++i) {
    profile.Record(1, microseconds(1000));
    profile.Record(2, microseconds(6000));  // the box was busy just then
  }
  profile.Calibrated();
  for (int i = 0; i < 300; ++i) {
    profile.Record(1, microseconds(1000));
    profile.Record(2, microseconds(1500));
  }
  EXPECT_NEAR(PredictedUs(profile, 1), 1000, 100);
  EXPECT_NEAR(PredictedUs(profile, 2), 1500, 150);
}

TEST(LatencyProfileTest, AfterARestartASlowSampleDoesNotRaiseTheDrift) {
  LatencyProfile profile;
  for (int i = 0; i < 5; ++i) profile.Record(1, microseconds(1000));
  profile.Calibrated();
  for (int i = 0; i < 60; ++i) profile.Record(1, microseconds(2000));
  const double before = PredictedUs(profile, 1);
  profile.Restart();
  profile.Record(1, microseconds(9000));
  EXPECT_LE(PredictedUs(profile, 1), before);
}

TEST(LatencyProfileTest, AfterARestartOneSampleSetsTheDrift) {
  LatencyProfile profile;
  for (int i = 0; i < 5; ++i) profile.Record(1, microseconds(1000));
  profile.Calibrated();
  for (int i = 0; i < 60; ++i) profile.Record(1, microseconds(20000));  // a slow spell
  profile.Restart();
  profile.Record(1, microseconds(1100));
  EXPECT_GE(PredictedUs(profile, 1), 1100);
  EXPECT_LT(PredictedUs(profile, 1), 1200) << "the slow spell is forgotten";
}

TEST(LatencyProfileTest, InterpolatesAndExtrapolatesBetweenMeasuredSizes) {
  LatencyProfile profile;
  for (int i = 0; i < 60; ++i) {
    profile.Record(2, microseconds(2000));
    profile.Record(4, microseconds(3000));
  }
  EXPECT_NEAR(PredictedUs(profile, 1), 2000, 1);  // no faster than the smallest measured
  EXPECT_NEAR(PredictedUs(profile, 3), 2500, 1);
  EXPECT_NEAR(PredictedUs(profile, 8), 5000, 1);
  ASSERT_EQ(profile.Estimates().size(), 2u);
  EXPECT_EQ(profile.Estimates()[1].rows, 4);
  EXPECT_EQ(profile.Estimates()[1].samples, 60u);
}

}  // namespace
}  // namespace edgeserve::scheduler
