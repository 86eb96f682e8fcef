// The `grpc` and `open-loop` modes: a closed-loop or an open-loop load run
// against one model of an Open Inference Protocol server (the daemon, or the
// echo baseline).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "infer_request.h"
#include "load_generator.h"
#include "report.h"

namespace edgeserve::bench {

struct GrpcBenchOptions {
  std::string url;  // HOST:PORT
  std::string model;
  std::string version;  // empty: the server's choice
  InputChoices inputs;
  // Further shapes (`--shape A:B:...` gives A in `inputs` and B... here):
  // requests take each shape in turn.
  std::vector<std::vector<int64_t>> other_shapes;
  int concurrency = 1;
  // Connections to spread the slots over; each channel gets its own TCP
  // connection, as separate clients would have.
  int channels = 1;
  // Client threads sharing the requests in flight; 0 picks one per core.
  // Against the echo server on 2 cores at concurrency 16, 2 threads did as
  // well as 1 or a little better, and 4 about a quarter worse.
  int client_threads = 0;
  double warmup_s = 2;
  double duration_s = 10;
  // The client's own bound on waiting: for connecting, for the metadata and,
  // in the closed loop, as every request's gRPC deadline, so a stuck server
  // cannot hang a run.
  int timeout_ms = 10000;
};

// Fetches the model's metadata, builds the request, runs the closed loop. An
// error means the run could not start (server down, unknown model, bad
// shape); failures of individual requests are counted in the report instead.
absl::StatusOr<Report> RunGrpcBench(const GrpcBenchOptions& options);

struct OpenLoopBenchOptions {
  // Where and what to send; `concurrency` is unused, and `timeout_ms` bounds
  // the wait for answers after the last arrival instead of being a deadline.
  GrpcBenchOptions target;
  double rate_per_s = 1;
  double slo_ms = 0;  // a success counts towards goodput when its latency is at most this
  uint64_t seed = 1;
  int64_t max_in_flight = 10000;
  std::optional<double> deadline_ms;  // every call's gRPC deadline; none when unset
  SchedulingParameters parameters;     // `timeout` and `priority` in every request
};

// Fetches the model's metadata, builds the request, runs the open loop. Errors
// as RunGrpcBench's.
absl::StatusOr<Report> RunOpenLoopBench(const OpenLoopBenchOptions& options);

// The report's numbers from what the open loop measured (separate so that the
// arithmetic can be tested on made-up totals): throughput, goodput and
// attainment against options.slo_ms, rejections by code, lag. Leaves target
// and details empty. Reorders the totals' latency vectors.
Report SummarizeOpenLoop(OpenLoopTotals& totals, const OpenLoopBenchOptions& options, int64_t batch);

}  // namespace edgeserve::bench
