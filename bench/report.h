// What every edgeserve-bench mode reports, and the two ways it is printed: a
// table for people and one JSON line for scripts (bench/run_benchmarks.sh).
#pragma once

#include <cstdint>
#include <optional>
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

// Failures that share a gRPC status code: how many, and how long they took
// to come back (a scheduler that rejects early answers in microseconds).
struct FailureGroup {
  std::string code;  // "RESOURCE_EXHAUSTED"
  int64_t count = 0;
  double p50_us = 0;
  double p99_us = 0;
};

// What only an open-loop run has. Every count is of arrivals scheduled inside
// the window, and latencies run from the scheduled arrival.
struct OpenLoopSummary {
  double rate_per_s = 0;  // offered
  double slo_ms = 0;
  int64_t sent = 0;
  int64_t dropped = 0;     // not sent: the client's max-in-flight cap was reached
  int64_t within_slo = 0;  // successes with latency <= slo_ms
  // Failures the server uses to refuse or shed work (RESOURCE_EXHAUSTED,
  // UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED), by code in code order; `rejected`
  // is all of them together.
  std::vector<FailureGroup> rejections;
  FailureGroup rejected;
  // Every other failure: a broken run rather than a loaded server. Client
  // timeouts (calls cancelled when the run ended) are among them.
  int64_t other_errors = 0;
  int64_t client_timeouts = 0;
  double lag_p99_us = 0;  // how late the sender started requests, over its schedule
  double lag_max_us = 0;
  int64_t peak_in_flight = 0;

  // sent + dropped: what the load asked of the server.
  int64_t Arrivals() const { return sent + dropped; }
  // within_slo over every arrival, dropped ones included (a request the
  // client gave up on did not meet its SLO); 0 without arrivals.
  double Attainment() const;
};

struct Report {
  std::string mode;    // "grpc", "echo", "open-loop" or "torch-loop"
  std::string target;  // what was measured: "127.0.0.1:8001 model identity", a model file
  // Requests kept in flight (1 for torch-loop); 0 for open-loop, whose
  // requests in flight follow the load (see peak_in_flight).
  int concurrency = 1;
  int64_t batch = 1;    // inferences per request: the leading dimension sent
  double warmup_s = 0;
  double duration_s = 0;  // length of the measured window
  // Successful requests (forwards) completed in the window; open-loop counts
  // those that arrived in it.
  int64_t requests = 0;
  int64_t errors = 0;  // failed requests, counted as `requests` is
  std::string first_error;  // the earliest of those failures, empty when none
  LatencySummary latency;
  // Mode-specific facts a reader needs to trust the numbers (threads, which
  // form of the module ran, how many channels), in the order they were added.
  std::vector<std::pair<std::string, std::string>> details;
  std::optional<OpenLoopSummary> open_loop;  // open-loop only

  double RequestsPerSecond() const;  // throughput: successes a second
  double InferencesPerSecond() const;
  double GoodputPerSecond() const;  // successes within the SLO a second; open-loop only
};

// Whether a failure with this gRPC status code is a rejection in the sense of
// OpenLoopSummary::rejections.
bool IsRejection(int code);

// Aligned "name  value" lines, one per field, ending in a newline.
std::string FormatTable(const Report& report);

// One JSON object on one line, no trailing newline; keys are stable for scripts.
// An open-loop report adds: offered_rate_per_s, slo_ms, sent, dropped,
// successes, throughput_per_s, within_slo, goodput_per_s, slo_attainment (a
// fraction), rejected {count, p50_us, p99_us}, rejections {CODE: {count,
// p50_us, p99_us}}, other_errors, client_timeouts, lag_p99_us, lag_max_us,
// peak_in_flight.
std::string FormatJson(const Report& report);

}  // namespace edgeserve::bench
