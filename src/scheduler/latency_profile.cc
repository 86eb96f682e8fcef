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

}  // namespace

void LatencyProfile::Record(int64_t rows, std::chrono::nanoseconds took) {
  if (rows <= 0) return;
  const double sample = static_cast<double>(std::max<int64_t>(took.count(), 0));
  Estimate& estimate = by_rows_[rows];
  estimate.rows = rows;
  if (estimate.samples == 0) {
    estimate.mean_ns = sample;
    estimate.deviation_ns = sample / 4;
  } else {
    estimate.deviation_ns += kDeviationGain * (std::fabs(sample - estimate.mean_ns) - estimate.deviation_ns);
    estimate.mean_ns += kMeanGain * (sample - estimate.mean_ns);
  }
  ++estimate.samples;
}

double LatencyProfile::PredictedNs(const Estimate& estimate) const {
  return estimate.mean_ns + 2 * estimate.deviation_ns;
}

std::chrono::nanoseconds LatencyProfile::Predict(int64_t rows) const {
  if (by_rows_.empty() || rows <= 0) return std::chrono::nanoseconds(0);
  auto above = by_rows_.lower_bound(rows);
  double ns = 0;
  if (above != by_rows_.end() && above->first == rows) {
    ns = PredictedNs(above->second);
  } else if (above == by_rows_.begin()) {
    ns = PredictedNs(above->second);  // smaller than anything measured: no faster than the smallest
  } else if (above == by_rows_.end()) {
    auto last = std::prev(by_rows_.end());
    const double last_ns = PredictedNs(last->second);
    double per_row = last_ns / static_cast<double>(last->first);
    if (last != by_rows_.begin()) {
      auto before = std::prev(last);
      per_row = std::max(0.0, (last_ns - PredictedNs(before->second)) /
                                  static_cast<double>(last->first - before->first));
    }
    ns = last_ns + per_row * static_cast<double>(rows - last->first);
  } else {
    auto below = std::prev(above);
    const double fraction = static_cast<double>(rows - below->first) / static_cast<double>(above->first - below->first);
    ns = PredictedNs(below->second) + fraction * (PredictedNs(above->second) - PredictedNs(below->second));
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(ns));
}

std::vector<LatencyProfile::Estimate> LatencyProfile::Estimates() const {
  std::vector<Estimate> estimates;
  estimates.reserve(by_rows_.size());
  for (const auto& [rows, estimate] : by_rows_) estimates.push_back(estimate);
  return estimates;
}

}  // namespace edgeserve::scheduler
