// How long one instance takes to execute a batch of each size: measured per
// size when the model starts, then followed online through one drift factor
// that every executed batch, whatever its size, updates (a warmer or a
// throttled device, a neighbour on the same cores), so that sizes that have
// not run lately follow too.
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
    double mean_ns = 0;       // the expected execution time now
    double deviation_ns = 0;  // its expected deviation
    uint64_t samples = 0;     // executions of this size measured, at start and since
  };

  // Adds one execution of `rows` inferences that took `took`. Before
  // Calibrated() it measures that size; after, it updates the drift.
  void Record(int64_t rows, std::chrono::nanoseconds took);
  // The start-up measurement is complete: from now on samples move the drift.
  void Calibrated();
  // The next sample may lower the drift at once instead of nudging it:
  // after a spell without executions the old drift says little about the
  // present.
  void Restart() { restart_ = true; }

  // The time to plan for when running `rows` inferences: the expected time
  // plus its expected deviation, interpolated linearly between measured
  // sizes and extrapolated past the largest. Zero while nothing has been
  // measured.
  std::chrono::nanoseconds Predict(int64_t rows) const;
  // The expected time alone, without Predict's margin: what a refusal that
  // must be certain goes by.
  std::chrono::nanoseconds Expected(int64_t rows) const;

  // One entry per measured size, smallest first.
  std::vector<Estimate> Estimates() const;

 private:
  struct Measured {
    double mean_ns = 0;
    double deviation_ns = 0;
    uint64_t samples = 0;
  };
  // The start-up time of `rows` and its deviation, interpolated.
  void Baseline(int64_t rows, double* mean_ns, double* deviation_ns) const;

  std::map<int64_t, Measured> by_rows_;
  bool calibrated_ = false;
  bool restart_ = false;
  double drift_ = 1;            // observed / start-up time, moving mean
  double drift_deviation_ = 0;  // its moving mean absolute deviation
  double start_deviation_ = 0;  // the start-up measurement's, relative to its mean
};

}  // namespace edgeserve::scheduler
