#include "load_generator.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <limits>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace edgeserve::bench {

std::string StatusCodeName(int code) {
  // grpc::StatusCode's names; gRPC 1.51's C++ API has no function for them.
  static constexpr const char* kNames[] = {
      "OK",       "CANCELLED",      "UNKNOWN",   "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  static_assert(std::size(kNames) == kStatusCodes);
  return code >= 0 && code < kStatusCodes ? kNames[code] : absl::StrCat("code ", code);
}

std::string DescribeStatus(const grpc::Status& status) {
  return absl::StrCat(StatusCodeName(static_cast<int>(status.error_code())), ": ", status.error_message());
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
                         std::vector<inference::ModelInferRequest> requests,
                         std::optional<std::chrono::microseconds> deadline)
    : requests_(std::move(requests)), deadline_(deadline) {
  for (const auto& channel : channels) stubs_.push_back(inference::GRPCInferenceService::NewStub(channel));
}

void InferClient::Start(Call& call, grpc::CompletionQueue& cq, void* tag) {
  // A ClientContext serves exactly one call, so each call gets a fresh one.
  call.context.emplace();
  call.sent = Clock::now();
  if (deadline_) {
    // gRPC takes deadlines on the system clock or as a gpr_timespec; the
    // monotonic one cannot jump with the wall clock.
    call.context->set_deadline(
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_micros(deadline_->count(), GPR_TIMESPAN)));
  }
  auto& stub = stubs_[static_cast<size_t>(call.channel) % stubs_.size()];
  const inference::ModelInferRequest& request =
      requests_.size() == 1 ? requests_.front()
                            : requests_[next_request_.fetch_add(1, std::memory_order_relaxed) % requests_.size()];
  call.reader = stub->AsyncModelInfer(&*call.context, request, &cq);
  call.reader->Finish(&call.response, &call.status, tag != nullptr ? tag : &call);
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

PoissonArrivals::PoissonArrivals(double rate_per_s, uint64_t seed, Clock::time_point start)
    : rate_per_s_(rate_per_s), state_(seed), start_(start) {}

Clock::time_point PoissonArrivals::Next() {
  // SplitMix64, as FillDeterministic uses: defined by its arithmetic alone.
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  // Uniform in (0, 1], never 0, so the logarithm stays finite.
  const double uniform = static_cast<double>((z >> 11) + 1) * 0x1.0p-53;
  offset_s_ += -std::log(uniform) / rate_per_s_;
  return start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(offset_s_));
}

namespace {

// One request of the open loop: the reusable call and what the loop must
// remember about it until it answers.
struct OpenCall {
  InferClient::Call call;
  // Written by the sender before Start, read by the completion thread after
  // the tag comes out of its queue: the queue orders the two.
  Clock::time_point arrival;
  bool counted = false;  // arrival inside the window
  // Guarded by CallPool::mutex_.
  bool in_flight = false;
  bool cancelled = false;  // by the client, when the run ended without its answer
};

// The open loop's calls: taken by the sender, given back by the completion
// threads, cancelled by the run at its end. Grows to the peak in flight and
// reuses calls from then on, so a steady run allocates no calls.
class CallPool {
 public:
  explicit CallPool(int64_t max_in_flight) : max_in_flight_(max_in_flight) {}

  // A call to start, or null while max_in_flight calls are out.
  OpenCall* Take() {
    absl::MutexLock lock(&mutex_);
    if (in_flight_ >= max_in_flight_) return nullptr;
    OpenCall* call = nullptr;
    if (free_.empty()) {
      calls_.push_back(std::make_unique<OpenCall>());
      call = calls_.back().get();
    } else {
      call = free_.back();
      free_.pop_back();
    }
    call->in_flight = true;
    call->cancelled = false;
    peak_ = std::max(peak_, ++in_flight_);
    return call;
  }

  // Returns a finished call; true when the client had cancelled it.
  bool Give(OpenCall* call) {
    absl::MutexLock lock(&mutex_);
    call->in_flight = false;
    free_.push_back(call);
    --in_flight_;
    return call->cancelled;
  }

  // Waits until no call is in flight or `timeout` has passed; true when idle.
  bool AwaitIdle(absl::Duration timeout) {
    absl::MutexLock lock(&mutex_);
    return mutex_.AwaitWithTimeout(absl::Condition(this, &CallPool::Idle), timeout);
  }

  // Cancels every call in flight. Only once the sender has stopped: a call's
  // context must not be replaced (by Start) while this reaches into it.
  void CancelInFlight() {
    absl::MutexLock lock(&mutex_);
    for (const auto& call : calls_) {
      if (!call->in_flight) continue;
      call->cancelled = true;
      call->call.context->TryCancel();
    }
  }

  int64_t peak() {
    absl::MutexLock lock(&mutex_);
    return peak_;
  }

 private:
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return in_flight_ == 0; }

  const int64_t max_in_flight_;
  absl::Mutex mutex_;  // guards the pool and every call's in_flight and cancelled
  std::vector<std::unique_ptr<OpenCall>> calls_ ABSL_GUARDED_BY(mutex_);  // every call made
  std::vector<OpenCall*> free_ ABSL_GUARDED_BY(mutex_);
  int64_t in_flight_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t peak_ ABSL_GUARDED_BY(mutex_) = 0;
};

// What one completion thread saw of the arrivals inside the window. Own cache
// line, as the closed loop's lanes.
struct alignas(64) OpenLane {
  std::vector<int64_t> latencies_ns;
  std::array<std::vector<int64_t>, kStatusCodes> failures_ns;
  int64_t client_timeouts = 0;
  Clock::time_point first_error_arrival = Clock::time_point::max();
  std::string first_error;

  void Record(Clock::time_point arrival, Clock::time_point done, const grpc::Status& status, bool cancelled) {
    const int64_t latency_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(done - arrival).count();
    if (status.ok()) {
      latencies_ns.push_back(latency_ns);
      return;
    }
    const bool client_timeout = cancelled && status.error_code() == grpc::StatusCode::CANCELLED;
    if (client_timeout) {
      ++client_timeouts;
    } else {
      int code = static_cast<int>(status.error_code());
      // gRPC turns codes it does not know into UNKNOWN; this only guards the index.
      if (code < 0 || code >= kStatusCodes) code = static_cast<int>(grpc::StatusCode::UNKNOWN);
      failures_ns[static_cast<size_t>(code)].push_back(latency_ns);
    }
    if (arrival < first_error_arrival) {
      first_error_arrival = arrival;
      first_error = client_timeout ? "CANCELLED: no answer before the client's timeout" : DescribeStatus(status);
    }
  }
};

void DrainCompletions(grpc::CompletionQueue& cq, CallPool& pool, OpenLane& lane) {
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
    const Clock::time_point done = Clock::now();
    auto* call = static_cast<OpenCall*>(tag);
    const Clock::time_point arrival = call->arrival;
    const bool counted = call->counted;
    const grpc::Status status = std::move(call->call.status);
    // Given back before recording, so the sender can reuse it sooner; the
    // record needs only the copies above.
    const bool cancelled = pool.Give(call);
    if (counted) lane.Record(arrival, done, status, cancelled);
  }
}

}  // namespace

OpenLoopTotals RunOpenLoop(InferClient& client, const OpenLoopOptions& options) {
  const int threads = std::max(1, options.threads);
  CallPool pool(options.max_in_flight);
  std::vector<std::unique_ptr<grpc::CompletionQueue>> queues;
  std::vector<OpenLane> lanes(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    queues.push_back(std::make_unique<grpc::CompletionQueue>());
    workers.emplace_back(DrainCompletions, std::ref(*queues.back()), std::ref(pool),
                         std::ref(lanes[static_cast<size_t>(t)]));
  }

  OpenLoopTotals totals;
  const Clock::time_point start = Clock::now();
  const Window window{start + options.warmup, start + options.warmup + options.duration};
  // This thread is the sender: it sleeps until each arrival's time and starts
  // the call then, never waiting for an answer.
  PoissonArrivals arrivals(options.rate_per_s, options.seed, start);
  for (uint64_t k = 0;; ++k) {
    const Clock::time_point at = arrivals.Next();
    if (at >= window.end) break;
    std::this_thread::sleep_until(at);
    const bool counted = at >= window.begin;
    OpenCall* call = pool.Take();
    if (call == nullptr) {
      if (counted) ++totals.dropped;
      continue;
    }
    const Clock::time_point now = Clock::now();
    call->arrival = at;
    call->counted = counted;
    call->call.channel = static_cast<int>(k % static_cast<uint64_t>(std::numeric_limits<int>::max()));
    client.Start(call->call, *queues[k % queues.size()], call);
    if (counted) {
      ++totals.sent;
      totals.lags_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(now - at).count());
    }
  }

  if (!pool.AwaitIdle(absl::FromChrono(options.drain_timeout))) {
    pool.CancelInFlight();
    // Cancellation is local, so the calls come back at once.
    pool.AwaitIdle(absl::InfiniteDuration());
  }
  for (auto& queue : queues) queue->Shutdown();
  for (std::thread& worker : workers) worker.join();

  totals.peak_in_flight = pool.peak();
  Clock::time_point first_error_arrival = Clock::time_point::max();
  for (OpenLane& lane : lanes) {
    totals.latencies_ns.insert(totals.latencies_ns.end(), lane.latencies_ns.begin(), lane.latencies_ns.end());
    for (size_t code = 0; code < lane.failures_ns.size(); ++code) {
      auto& into = totals.failures_ns[code];
      into.insert(into.end(), lane.failures_ns[code].begin(), lane.failures_ns[code].end());
    }
    totals.client_timeouts += lane.client_timeouts;
    if (!lane.first_error.empty() && lane.first_error_arrival < first_error_arrival) {
      first_error_arrival = lane.first_error_arrival;
      totals.first_error = lane.first_error;
    }
  }
  return totals;
}

}  // namespace edgeserve::bench
