// How long one instance takes to execute a batch of each size: measured when
// the model starts, then followed online so that the estimate tracks drift
// (a warmer or a throttled device, a neighbour on the same cores).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

namespace edgeserve::scheduler {

// Not thread-safe: the model's scheduler guards it with its own mutex.
class LatencyProfile {
 public:
  struct Estimate {
    int64_t rows = 0;
    double mean_ns = 0;       // moving mean of the execution time
    double deviation_ns = 0;  // moving mean absolute deviation from it
    uint64_t samples = 0;
  };

  // Adds one execution of `rows` inferences that took `took`.
  void Record(int64_t rows, std::chrono::nanoseconds took);

  // The time to plan for when running `rows` inferences: the moving mean plus
  // twice the moving deviation (the margin TCP keeps over its round-trip
  // estimate), interpolated linearly between measured sizes and extrapolated
  // past the largest. Zero while nothing has been measured.
  std::chrono::nanoseconds Predict(int64_t rows) const;

  // One entry per measured size, smallest first.
  std::vector<Estimate> Estimates() const;

 private:
  double PredictedNs(const Estimate& estimate) const;

  std::map<int64_t, Estimate> by_rows_;
};

}  // namespace edgeserve::scheduler
