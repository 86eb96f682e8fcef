// The `grpc` mode: a closed-loop load run against one model of an Open
// Inference Protocol server (the daemon, or the echo baseline).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "infer_request.h"
#include "report.h"

namespace edgeserve::bench {

struct GrpcBenchOptions {
  std::string url;  // HOST:PORT
  std::string model;
  std::string version;  // empty: the server's choice
  InputChoices inputs;
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
  int timeout_ms = 10000;  // per request, so a stuck server cannot hang a run
};

// Fetches the model's metadata, builds the request, runs the closed loop. An
// error means the run could not start (server down, unknown model, bad
// shape); failures of individual requests are counted in the report instead.
absl::StatusOr<Report> RunGrpcBench(const GrpcBenchOptions& options);

}  // namespace edgeserve::bench
