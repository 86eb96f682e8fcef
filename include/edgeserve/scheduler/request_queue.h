// A model's queue of requests and the rules for taking batches out of it:
// admission, deadlines, priorities, batch sizes and when to wait. It holds no
// thread and reads no clock: the caller passes the time, so that the policy
// is tested deterministically with a fake clock, and guards it with its own
// mutex (ModelScheduler does).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "edgeserve/core/inference.h"
#include "edgeserve/scheduler/batching.h"
#include "edgeserve/scheduler/latency_profile.h"

namespace edgeserve::scheduler {

using TimePoint = core::Clock::time_point;
inline constexpr TimePoint kNever = TimePoint::max();

// Receives the request's share of its batch's outputs, or why there is none.
using CompletionCallback = std::function<void(absl::StatusOr<core::InferenceOutputs>)>;

struct QueuedRequest {
  const core::InferenceRequest* request = nullptr;
  CompletionCallback done;
  TimePoint enqueued;
  // Set by Admit. When the answer stops being of use: the request's timeout
  // (its own, else the model's default timeout, else in mode slo the latency
  // target) counted from its arrival, or the client's deadline if earlier.
  TimePoint deadline = kNever;
  TimePoint client_deadline = kNever;  // the part of `deadline` no timeout_action relaxes
  int level = 0;         // 0 is the highest priority
  bool delayed = false;  // its timeout passed under timeout_action delay
  bool retried = false;  // already ran once on an instance that then failed its health check
  // Its batch failed on a healthy instance: it runs again by itself, so that
  // a request whose input makes the model fail cannot fail its batch-mates.
  bool isolated = false;
  // Admitted against a stale latency profile to measure it afresh: only its
  // deadline itself, not a prediction, can expire it.
  bool probe = false;
};

// A request answered without running, and the status it gets.
struct Rejection {
  QueuedRequest entry;
  absl::Status status;
};

class RequestQueue {
 public:
  // `model_max_batch_size` 0: the model has no batch dimension, and every
  // execution runs one request.
  RequestQueue(std::string model_name, BatchingConfig config, int64_t model_max_batch_size, size_t instances);

  // Sets `entry`'s deadline and level and queues it, or returns why not
  // (leaving `entry` to the caller): RESOURCE_EXHAUSTED when the queue is
  // full; in mode slo, DEADLINE_EXCEEDED when the requests ahead of it and
  // the instances' latency profiles predict an answer after its deadline,
  // less the admission reserve when any are queued ahead.
  // A profile learns only from batches that run, so one made pessimistic by
  // a burst (a slow spell of the box) would refuse everything for good: when
  // an instance is idle with nothing queued, has learnt nothing for 250 ms,
  // and its start-up measurement says the request would be in time, the
  // request runs anyway, as a probe.
  absl::Status Admit(QueuedRequest& entry, TimePoint now);

  // Puts back, at the head of its level, a request whose instance failed.
  void PushFront(QueuedRequest entry);

  struct Decision {
    std::vector<QueuedRequest> batch;  // in queue order; empty: run nothing now
    // With an empty batch: when to ask again if nothing arrives first.
    TimePoint wake_at = kNever;
  };

  // What idle `instance` should run at `now`. Requests found cancelled, or
  // no longer able to meet their deadline, are moved to `rejected`; in mode
  // slo that includes, once the batch is chosen, every request left queued
  // that is expected to miss its deadline even if it ran on the first
  // instance to come free. A non-empty batch marks the instance busy until
  // Finished. `draining`: the
  // scheduler is stopping, so nothing is held back to fill a batch.
  Decision Next(size_t instance, TimePoint now, bool draining, std::vector<Rejection>* rejected);

  // The batch `instance` ran has finished at `now`; `took` feeds its latency
  // profile (zero: the batch failed and says nothing about latency).
  void Finished(size_t instance, int64_t rows, std::chrono::nanoseconds took, TimePoint now);

  // Moves requests that can no longer be answered in time to `rejected` (or,
  // under timeout_action delay, behind the others). In mode slo that is as
  // soon as the fastest instance could not finish them before their deadline,
  // or, earlier, once every instance is expected to stay busy past the last
  // moment at which they could start.
  void Expire(TimePoint now, std::vector<Rejection>* rejected);
  // When Expire next has work, as far as the queue knows now.
  TimePoint next_expiry() const { return next_expiry_; }

  // The instance's profile as it stands, after the start-up measurement, is
  // its baseline for probes (see Admit).
  void MeasuredAtStart(size_t instance, TimePoint now);

  // An unhealthy instance is left out of predictions.
  void SetHealthy(size_t instance, bool healthy);

  // Empties the queue, in dispatch order.
  std::vector<QueuedRequest> TakeAll();

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t max_batch_rows() const { return max_rows_; }
  const BatchingConfig& config() const { return config_; }
  LatencyProfile& profile(size_t instance) { return instances_[instance].profile; }
  const LatencyProfile& profile(size_t instance) const { return instances_[instance].profile; }
  // In mode slo, the time admission keeps in hand when other requests are
  // queued ahead, learnt from the requests refused after waiting and the
  // batches cut short by a deadline (see request_queue.cc), as of the last
  // admission or dispatch. Zero in the other modes.
  std::chrono::nanoseconds AdmissionReserve() const;

 private:
  struct Instance {
    LatencyProfile profile;
    bool healthy = true;
    bool busy = false;
    TimePoint busy_until;  // predicted end of the running batch
    TimePoint expected_free;  // its expected end, without the prediction's margin
    TimePoint measured_at;   // when the profile last learnt from a batch
    LatencyProfile baseline;  // the profile as measured at start
  };

  // Whether `entry`, predicted late for `deadline`, should run anyway to
  // refresh a profile that may be stale.
  bool ShouldProbe(const QueuedRequest& entry, TimePoint deadline, TimePoint now) const;

  std::chrono::nanoseconds PredictBest(int64_t rows) const;
  // Fastest-instance time below which `entry` can no longer be answered.
  TimePoint ExpiryOf(const QueuedRequest& entry) const;
  bool Expired(const QueuedRequest& entry, TimePoint now) const;
  // When the first healthy instance is expected to come free: `now` if one
  // is idle or running over its expected time.
  TimePoint EarliestExpectedStart(TimePoint now) const;
  // In mode slo, whether `entry` is expected to miss its deadline even if it
  // started at `earliest_start` on the fastest instance. Probes and requests
  // that timeout_action delay would keep are left to their deadline.
  bool Doomed(const QueuedRequest& entry, TimePoint earliest_start) const;
  bool WouldBeDelayed(const QueuedRequest& entry) const;
  // In mode slo: when `entry`, not yet queued, would be answered, running
  // the dispatch rule forward over the requests ahead of it.
  TimePoint PredictAnswer(const QueuedRequest& entry, TimePoint deadline, TimePoint now) const;
  // In mode slo, the most rows a batch headed by `head` should hold.
  int64_t BatchCap(const LatencyProfile& profile, const QueuedRequest& head) const;
  // The largest batch the latency target allows (BatchCap's rule on the
  // fastest instance).
  int64_t FullBatchRows() const;
  std::deque<QueuedRequest>& QueueOf(const QueuedRequest& entry);
  void Push(QueuedRequest entry, bool front);
  // Removes the entries `Next` marked (request set to null) and recounts.
  void Compact();
  absl::Status LateStatus(const QueuedRequest& entry, TimePoint now, TimePoint earliest_start) const;
  // An admitted request left the queue for an instance, or was refused after
  // waiting because it could no longer be answered in time: moves the
  // admission reserve.
  void LearnOutcome(const QueuedRequest& entry, bool dispatched, TimePoint now);
  // Lets the reserve fade with time (as of `now`).
  void AgeReserve(TimePoint now);

  const std::string model_name_;
  const BatchingConfig config_;
  const bool batches_;  // the model has a batch dimension and the mode batches
  const int64_t max_rows_;
  std::vector<Instance> instances_;
  // Dispatch order: levels_[0] first, FIFO within a level, delayed_ last.
  std::vector<std::deque<QueuedRequest>> levels_;
  std::deque<QueuedRequest> delayed_;
  std::vector<int64_t> level_rows_;  // rows queued per level
  size_t size_ = 0;
  TimePoint next_expiry_ = kNever;
  double reserve_;  // in single executions of the fastest instance
  TimePoint reserve_aged_at_ = TimePoint::min();  // min: never yet
};

}  // namespace edgeserve::scheduler
