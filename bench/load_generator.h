// Load generation against an Open Inference Protocol server. The parts:
//   InferClient      starts the run's one prepared request asynchronously;
//   Recorder         sorts finished requests into the measured window, lock-free;
//   RunClosedLoop    keeps a fixed number of requests in flight;
//   PoissonArrivals  the open loop's schedule of arrival times;
//   RunOpenLoop      sends on that schedule whatever is still in flight.
#pragma once

#include <array>
#include <atomic>
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

// "RESOURCE_EXHAUSTED"; "code 42" for a code gRPC does not define.
std::string StatusCodeName(int code);

// gRPC's status codes are 0..16; the open loop keeps one bucket per code.
inline constexpr int kStatusCodes = 17;

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

  // `deadline`, when set, is the gRPC deadline of every call, which the
  // server sees (a scheduler may plan with it); without one, calls carry no
  // deadline and the caller bounds them itself (RunOpenLoop cancels what is
  // left when its run ends).
  // `requests` (at least one) are sent in turn.
  InferClient(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
              std::vector<inference::ModelInferRequest> requests, std::optional<std::chrono::microseconds> deadline);

  // Sends the request; when it ends, `call.status` and `call.response` are set
  // and `cq` yields `tag`, or &call when `tag` is null.
  void Start(Call& call, grpc::CompletionQueue& cq, void* tag = nullptr);

 private:
  std::vector<std::unique_ptr<inference::GRPCInferenceService::Stub>> stubs_;
  const std::vector<inference::ModelInferRequest> requests_;
  std::atomic<size_t> next_request_{0};
  const std::optional<std::chrono::microseconds> deadline_;
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

// Arrival times of a Poisson process: exponential gaps at `rate_per_s`, each
// added to the previous arrival (never to the time it is asked for), so the
// schedule does not drift when its consumer runs late. The gaps come from
// SplitMix64 by inversion rather than from std::exponential_distribution,
// whose output differs between standard libraries, so one seed gives one
// schedule. Not thread-safe.
class PoissonArrivals {
 public:
  PoissonArrivals(double rate_per_s, uint64_t seed, Clock::time_point start);

  // The next arrival, later than (or, rarely, equal to) the one before.
  Clock::time_point Next();

 private:
  double rate_per_s_;
  uint64_t state_;
  Clock::time_point start_;
  double offset_s_ = 0;  // since start_; a double keeps sub-nanosecond gaps adding up
};

struct OpenLoopOptions {
  double rate_per_s = 1;
  uint64_t seed = 1;
  // Requests in flight beyond which arrivals are dropped by the client (and
  // counted) rather than sent: a safety cap, not a concurrency.
  int64_t max_in_flight = 10000;
  int threads = 1;  // client threads draining completions
  Clock::duration warmup{};
  Clock::duration duration{};
  // After the last arrival, how long to wait for answers before cancelling
  // what is still in flight (counted as client timeouts).
  Clock::duration drain_timeout = std::chrono::seconds(10);
};

// What an open-loop run measured over the arrivals scheduled inside the
// window; latencies run from the scheduled arrival, not the actual send, so a
// late sender shows up in them instead of hiding (lags_ns says how late).
struct OpenLoopTotals {
  int64_t sent = 0;     // arrivals in the window that were sent
  int64_t dropped = 0;  // arrivals in the window not sent: max_in_flight reached
  std::vector<int64_t> latencies_ns;  // one per success
  // One latency per failure, by gRPC status code; a call the client cancelled
  // at the end of the run is a client timeout instead.
  std::array<std::vector<int64_t>, kStatusCodes> failures_ns;
  int64_t client_timeouts = 0;
  std::string first_error;  // the failure with the earliest arrival
  std::vector<int64_t> lags_ns;  // per arrival in the window: send time minus scheduled time
  int64_t peak_in_flight = 0;    // over the whole run, warm-up included
};

// Sends one request per arrival of PoissonArrivals(rate, seed) from one sender
// thread, whatever is still in flight, and records completions on `threads`
// threads, each with its own completion queue; arrival k uses channel k.
// Arrivals before the window are sent and not counted. After the last arrival
// it waits up to drain_timeout for every answer and cancels the rest, so
// nothing outlives the run.
OpenLoopTotals RunOpenLoop(InferClient& client, const OpenLoopOptions& options);

}  // namespace edgeserve::bench
