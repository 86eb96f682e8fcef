// What every edgeserve-bench mode reports, and the two ways it is printed: a
// table for people and one JSON line for scripts (bench/run_benchmarks.sh).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace edgeserve::bench {

// Latency percentiles in microseconds over the successful requests (or
// forwards) of the measured window; all zero when there were none.
struct LatencySummary {
  int64_t count = 0;
  double p50_us = 0;
  double p90_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

// Nearest-rank percentiles of `latencies_ns`, which it reorders.
LatencySummary SummarizeLatencies(std::vector<int64_t>& latencies_ns);

struct Report {
  std::string mode;    // "grpc", "echo" or "torch-loop"
  std::string target;  // what was measured: "127.0.0.1:8001 model identity", a model file
  int concurrency = 1;  // requests kept in flight (1 for torch-loop)
  int64_t batch = 1;    // inferences per request: the leading dimension sent
  double warmup_s = 0;
  double duration_s = 0;  // length of the measured window
  int64_t requests = 0;   // successful requests (forwards) completed in the window
  int64_t errors = 0;     // failed requests completed in the window
  std::string first_error;  // the earliest of those failures, empty when none
  LatencySummary latency;
  // Mode-specific facts a reader needs to trust the numbers (threads, which
  // form of the module ran, how many channels), in the order they were added.
  std::vector<std::pair<std::string, std::string>> details;

  double RequestsPerSecond() const;
  double InferencesPerSecond() const;
};

// Aligned "name  value" lines, one per field, ending in a newline.
std::string FormatTable(const Report& report);

// One JSON object on one line, no trailing newline; keys are stable for scripts.
std::string FormatJson(const Report& report);

}  // namespace edgeserve::bench
