// Load generation against an Open Inference Protocol server. Three parts, so
// that another arrival process (an open loop with Poisson arrivals) can sit
// beside the closed loop and share the rest:
//   InferClient   starts the run's one prepared request asynchronously;
//   Recorder      sorts finished requests into the measured window, lock-free;
//   RunClosedLoop keeps a fixed number of requests in flight.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "grpc_service.grpc.pb.h"

namespace edgeserve::bench {

using Clock = std::chrono::steady_clock;

// "UNAVAILABLE: failed to connect to all addresses", for reports.
std::string DescribeStatus(const grpc::Status& status);

// A request counts when it completes inside [begin, end); the time before
// `begin` is warm-up.
struct Window {
  Clock::time_point begin;
  Clock::time_point end;
};

// What a run measured, once every request has finished.
struct Totals {
  int64_t requests = 0;  // successes inside the window
  int64_t errors = 0;    // failures inside the window
  std::string first_error;  // the earliest failure inside the window
  std::vector<int64_t> latencies_ns;  // one per success
};

// Sorts finished requests into the window. The caller gives each of its
// threads its own lane, so Record takes no lock on the hot path.
class Recorder {
 public:
  Recorder(int lanes, Window window);

  void Record(int lane, Clock::time_point sent, Clock::time_point done, const grpc::Status& status);

  // Merges the lanes; call only after every writer has finished.
  Totals Collect();

 private:
  // Own cache line per lane: lanes are written from different threads tens of
  // thousands of times a second.
  struct alignas(64) Lane {
    std::vector<int64_t> latencies_ns;
    int64_t errors = 0;
    Clock::time_point first_error_at;
    std::string first_error;
  };
  Window window_;
  std::vector<Lane> lanes_;
};

// Starts one prepared ModelInferRequest over a fixed set of channels with
// gRPC's completion-queue API: the caller's few threads each drain a queue of
// their own, and no thread waits on any one request. (On a 2-core box this
// API with 2 threads answered about 40% more echo requests a second than the
// callback API, whose completions hop to gRPC's internal threads.)
// Thread-safe: the request is only read.
class InferClient {
 public:
  // One request in flight at a time, reused for request after request. The
  // owner sets `channel` once and leaves the rest alone until the call's tag
  // (the Call's address) comes out of its queue.
  struct Call {
    int channel = 0;  // modulo the number of channels
    std::optional<grpc::ClientContext> context;
    std::unique_ptr<grpc::ClientAsyncResponseReader<inference::ModelInferResponse>> reader;
    inference::ModelInferResponse response;
    grpc::Status status;
    Clock::time_point sent;
  };

  InferClient(const std::vector<std::shared_ptr<grpc::Channel>>& channels, inference::ModelInferRequest request,
              std::chrono::milliseconds timeout);

  // Sends the request; when it ends, `call.status` and `call.response` are set
  // and `cq` yields the tag &call.
  void Start(Call& call, grpc::CompletionQueue& cq);

 private:
  std::vector<std::unique_ptr<inference::GRPCInferenceService::Stub>> stubs_;
  const inference::ModelInferRequest request_;
  const std::chrono::milliseconds timeout_;
};

struct ClosedLoopOptions {
  int concurrency = 1;  // requests in flight at every moment
  int threads = 1;      // client threads, each with its share of the requests
  Clock::duration warmup{};
  Clock::duration duration{};
};

// Keeps `concurrency` requests in flight for warm-up plus duration: each
// request slot sends again as soon as its previous request answers. Slot i
// uses channel i. Returns after every request still in flight at the end has
// finished (each is bounded by the client's timeout), so nothing outlives the
// run.
Totals RunClosedLoop(InferClient& client, const ClosedLoopOptions& options);

}  // namespace edgeserve::bench
