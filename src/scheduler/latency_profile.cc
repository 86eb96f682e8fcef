#include "edgeserve/scheduler/latency_profile.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace edgeserve::scheduler {
namespace {

// Weights of a new sample: TCP's choice for its round-trip estimate, which
// forgets a change within about ten samples without chasing every outlier.
constexpr double kMeanGain = 1.0 / 8;
constexpr double kDeviationGain = 1.0 / 4;
// Weight of a sample in its own size's start-up time, once serving: slower
// than the drift's, which follows the box as a whole.
constexpr double kShapeGain = 1.0 / 32;
// Deviations planned for above the expected time. TCP keeps four for its
// retransmission timer; one keeps a box whose load comes and goes from
// refusing work it would have finished in time (measured: BENCHMARKS.md).
constexpr double kMargin = 1;

void Update(double sample, double* mean, double* deviation) {
  *deviation += kDeviationGain * (std::fabs(sample - *mean) - *deviation);
  *mean += kMeanGain * (sample - *mean);
}

}  // namespace

void LatencyProfile::Record(int64_t rows, std::chrono::nanoseconds took) {
  if (rows <= 0) return;
  const double sample = static_cast<double>(std::max<int64_t>(took.count(), 0));
  if (!calibrated_ || by_rows_.empty()) {
    Measured& measured = by_rows_[rows];
    if (measured.samples == 0) {
      measured.mean_ns = sample;  // no spread known yet; the runs that follow measure it
    } else {
      Update(sample, &measured.mean_ns, &measured.deviation_ns);
    }
    ++measured.samples;
    return;
  }
  double baseline_ns = 0, baseline_deviation_ns = 0;
  Baseline(rows, &baseline_ns, &baseline_deviation_ns);
  if (baseline_ns <= 0) return;
  const double ratio = sample / baseline_ns;
  auto found = by_rows_.find(rows);
  if (restart_) {
    // A probe is there to find out whether the box has recovered: it may
    // lower a drift that nothing has confirmed for a while, but one slow
    // sample on a busy box must not raise it.
    restart_ = false;
    if (ratio < drift_) {
      drift_ = ratio;
      drift_deviation_ = start_deviation_;
    }
    if (found != by_rows_.end()) ++found->second.samples;
    return;
  }
  Update(ratio, &drift_, &drift_deviation_);
  // The drift moves every size alike; each measured size also corrects its
  // own start-up time, slowly, so that one measured in a bad moment at start
  // does not stay wrong.
  if (found != by_rows_.end()) {
    found->second.mean_ns += kShapeGain * (sample / drift_ - found->second.mean_ns);
    ++found->second.samples;
  }
}

void LatencyProfile::Calibrated() {
  calibrated_ = true;
  // The start-up spread, relative, seeds the drift's deviation.
  for (const auto& [rows, measured] : by_rows_) {
    if (measured.mean_ns > 0) start_deviation_ = std::max(start_deviation_, measured.deviation_ns / measured.mean_ns);
  }
  drift_deviation_ = start_deviation_;
}

void LatencyProfile::Baseline(int64_t rows, double* mean_ns, double* deviation_ns) const {
  *mean_ns = 0;
  *deviation_ns = 0;
  if (by_rows_.empty() || rows <= 0) return;
  auto above = by_rows_.lower_bound(rows);
  if (above != by_rows_.end() && (above->first == rows || above == by_rows_.begin())) {
    // Measured, or smaller than anything measured: no faster than the smallest.
    *mean_ns = above->second.mean_ns;
    *deviation_ns = above->second.deviation_ns;
    return;
  }
  if (above == by_rows_.end()) {
    auto last = std::prev(by_rows_.end());
    double per_row = last->second.mean_ns / static_cast<double>(last->first);
    if (last != by_rows_.begin()) {
      auto before = std::prev(last);
      per_row = std::max(0.0, (last->second.mean_ns - before->second.mean_ns) /
                                  static_cast<double>(last->first - before->first));
    }
    *mean_ns = last->second.mean_ns + per_row * static_cast<double>(rows - last->first);
    *deviation_ns = last->second.deviation_ns;
    return;
  }
  auto below = std::prev(above);
  const double fraction =
      static_cast<double>(rows - below->first) / static_cast<double>(above->first - below->first);
  *mean_ns = below->second.mean_ns + fraction * (above->second.mean_ns - below->second.mean_ns);
  *deviation_ns = below->second.deviation_ns + fraction * (above->second.deviation_ns - below->second.deviation_ns);
}

std::chrono::nanoseconds LatencyProfile::Predict(int64_t rows) const {
  double mean_ns = 0, deviation_ns = 0;
  Baseline(rows, &mean_ns, &deviation_ns);
  const double planned =
      calibrated_ ? mean_ns * (drift_ + kMargin * drift_deviation_) : mean_ns + kMargin * deviation_ns;
  return std::chrono::nanoseconds(static_cast<int64_t>(planned));
}

std::chrono::nanoseconds LatencyProfile::Expected(int64_t rows) const {
  double mean_ns = 0, deviation_ns = 0;
  Baseline(rows, &mean_ns, &deviation_ns);
  return std::chrono::nanoseconds(static_cast<int64_t>(calibrated_ ? mean_ns * drift_ : mean_ns));
}

std::vector<LatencyProfile::Estimate> LatencyProfile::Estimates() const {
  std::vector<Estimate> estimates;
  estimates.reserve(by_rows_.size());
  for (const auto& [rows, measured] : by_rows_) {
    Estimate estimate;
    estimate.rows = rows;
    estimate.mean_ns = calibrated_ ? measured.mean_ns * drift_ : measured.mean_ns;
    estimate.deviation_ns = calibrated_ ? measured.mean_ns * drift_deviation_ : measured.deviation_ns;
    estimate.samples = measured.samples;
    estimates.push_back(estimate);
  }
  return estimates;
}

}  // namespace edgeserve::scheduler
