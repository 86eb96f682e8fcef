#include "load_generator.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

namespace edgeserve::bench {

std::string DescribeStatus(const grpc::Status& status) {
  // grpc::StatusCode's names; gRPC 1.51's C++ API has no function for them.
  static constexpr const char* kNames[] = {
      "OK",       "CANCELLED",      "UNKNOWN",   "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  const int code = static_cast<int>(status.error_code());
  const std::string name = code >= 0 && code < static_cast<int>(std::size(kNames)) ? kNames[code]
                                                                                   : absl::StrCat("code ", code);
  return absl::StrCat(name, ": ", status.error_message());
}

Recorder::Recorder(int lanes, Window window) : window_(window), lanes_(static_cast<size_t>(lanes)) {}

void Recorder::Record(int lane, Clock::time_point sent, Clock::time_point done, const grpc::Status& status) {
  if (done < window_.begin || done >= window_.end) return;
  Lane& mine = lanes_[static_cast<size_t>(lane)];
  if (status.ok()) {
    mine.latencies_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(done - sent).count());
    return;
  }
  if (mine.errors++ == 0) {
    mine.first_error_at = done;
    mine.first_error = DescribeStatus(status);
  }
}

Totals Recorder::Collect() {
  Totals totals;
  std::optional<Clock::time_point> first_error_at;
  size_t samples = 0;
  for (const Lane& lane : lanes_) samples += lane.latencies_ns.size();
  totals.latencies_ns.reserve(samples);
  for (Lane& lane : lanes_) {
    totals.latencies_ns.insert(totals.latencies_ns.end(), lane.latencies_ns.begin(), lane.latencies_ns.end());
    totals.errors += lane.errors;
    if (lane.errors > 0 && (!first_error_at || lane.first_error_at < *first_error_at)) {
      first_error_at = lane.first_error_at;
      totals.first_error = lane.first_error;
    }
  }
  totals.requests = static_cast<int64_t>(totals.latencies_ns.size());
  return totals;
}

InferClient::InferClient(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                         inference::ModelInferRequest request, std::chrono::milliseconds timeout)
    : request_(std::move(request)), timeout_(timeout) {
  for (const auto& channel : channels) stubs_.push_back(inference::GRPCInferenceService::NewStub(channel));
}

void InferClient::Start(Call& call, grpc::CompletionQueue& cq) {
  // A ClientContext serves exactly one call, so each call gets a fresh one.
  call.context.emplace();
  call.sent = Clock::now();
  // gRPC takes deadlines on the system clock or as a gpr_timespec; the
  // monotonic one cannot jump with the wall clock.
  call.context->set_deadline(
      gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(timeout_.count(), GPR_TIMESPAN)));
  auto& stub = stubs_[static_cast<size_t>(call.channel) % stubs_.size()];
  call.reader = stub->AsyncModelInfer(&*call.context, request_, &cq);
  call.reader->Finish(&call.response, &call.status, &call);
}

namespace {

// One client thread of the closed loop: starts its slots' requests, then
// restarts each as its answer comes out of the thread's own queue, until the
// window ends and every slot has stopped.
void RunClosedLoopThread(InferClient& client, const std::vector<int>& slots, const Window& window,
                         Recorder& recorder, int lane) {
  grpc::CompletionQueue cq;
  std::vector<InferClient::Call> calls(slots.size());
  for (size_t i = 0; i < slots.size(); ++i) {
    calls[i].channel = slots[i];
    client.Start(calls[i], cq);
  }
  size_t in_flight = calls.size();
  void* tag = nullptr;
  bool ok = false;
  while (in_flight > 0 && cq.Next(&tag, &ok)) {
    auto* call = static_cast<InferClient::Call*>(tag);
    const Clock::time_point now = Clock::now();
    recorder.Record(lane, call->sent, now, call->status);
    if (now < window.end) {
      client.Start(*call, cq);
    } else {
      --in_flight;
    }
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

}  // namespace

Totals RunClosedLoop(InferClient& client, const ClosedLoopOptions& options) {
  const int threads = std::max(1, std::min(options.threads, options.concurrency));
  std::vector<std::vector<int>> slots(static_cast<size_t>(threads));
  for (int slot = 0; slot < options.concurrency; ++slot) slots[static_cast<size_t>(slot % threads)].push_back(slot);

  const Clock::time_point start = Clock::now();
  const Window window{start + options.warmup, start + options.warmup + options.duration};
  Recorder recorder(threads, window);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back(RunClosedLoopThread, std::ref(client), std::cref(slots[static_cast<size_t>(t)]),
                         std::cref(window), std::ref(recorder), t);
  }
  for (std::thread& worker : workers) worker.join();
  return recorder.Collect();
}

}  // namespace edgeserve::bench
