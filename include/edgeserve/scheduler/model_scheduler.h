// One model's scheduler: its request queue (request_queue.h decides what runs
// when), the workers that feed its instances, and the watch on deadlines.
// Every request reaches an executor through here; nothing calls forward
// directly.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "edgeserve/core/inference.h"
#include "edgeserve/core/logging.h"
#include "edgeserve/core/model_statistics.h"
#include "edgeserve/hal/executor.h"
#include "edgeserve/scheduler/batching.h"
#include "edgeserve/scheduler/request_queue.h"

namespace edgeserve::scheduler {

struct SchedulerOptions {
  std::string model_name;
  BatchingConfig batching;
  // The model config's max_batch_size: 0 means no batch dimension.
  int64_t model_max_batch_size = 0;
  // The model's inputs. At start each instance measures its latency profile
  // on zeros of these (variable dimensions 1) for batch sizes 1, 2, 4, ... up
  // to the batching limit. Empty: nothing is measured before serving.
  std::vector<core::TensorSpec> inputs;
  // How often an instance out of the rotation runs its health check again.
  std::chrono::milliseconds health_retry_interval{10000};
};

// An instance as the scheduler sees it, for ModelReady and ModelMetadata.
struct InstanceHealth {
  bool healthy = true;
  std::string error;  // why it left the rotation; empty while healthy
};

// One batch size of one instance's latency profile, for ModelStatistics.
struct LatencyEstimate {
  size_t instance = 0;
  int64_t batch_size = 0;
  double mean_us = 0;
  double deviation_us = 0;
  double predicted_us = 0;  // what the scheduler plans with
  uint64_t samples = 0;
};

class ModelScheduler {
 public:
  // Starts one worker thread per executor (each owns its executor) and waits
  // until every instance has measured its latency profile. `statistics` must
  // outlive the scheduler.
  ModelScheduler(SchedulerOptions options, std::vector<std::unique_ptr<hal::Executor>> executors,
                 core::ModelStatistics* statistics);
  ~ModelScheduler();

  ModelScheduler(const ModelScheduler&) = delete;
  ModelScheduler& operator=(const ModelScheduler&) = delete;

  // Queues `request`, which must stay alive until `done` has been called.
  // `done` is called exactly once: on a worker thread with the request's
  // share of its batch's outputs or the batch's error; or without running:
  // before Enqueue returns with RESOURCE_EXHAUSTED (queue full),
  // DEADLINE_EXCEEDED (it could not be answered in time) or UNAVAILABLE
  // (stopped, or no healthy instance), and later with DEADLINE_EXCEEDED
  // (from the deadline watch, as soon as it can no longer be answered in
  // time) or CANCELLED (its client went away). Thread-safe.
  //
  // Health: when Execute fails and the instance's health check then fails
  // too, the device is at fault, not the requests. The instance leaves the
  // rotation (its worker retries the check every health_retry_interval and
  // rejoins when it passes) and the batch's requests run again on a healthy
  // instance if one is left, once; otherwise they fail with UNAVAILABLE.
  void Enqueue(const core::InferenceRequest* request, CompletionCallback done);

  // True while at least one instance is in the rotation. Thread-safe.
  bool Ready() const;
  // One entry per executor, in the order they were given. Thread-safe.
  std::vector<InstanceHealth> Health() const;
  // Every instance's latency profile, instance by instance. Thread-safe.
  std::vector<LatencyEstimate> LatencyProfiles() const;
  // In mode slo, what admission has learnt to keep in hand behind queued
  // requests (RequestQueue::AdmissionReserve). Thread-safe.
  std::chrono::nanoseconds AdmissionReserve() const;
  const BatchingConfig& batching() const { return queue_.config(); }
  int64_t max_batch_rows() const { return queue_.max_batch_rows(); }

  // Stops accepting requests, lets the workers finish every queued one, and
  // joins them. Idempotent; the destructor calls it.
  void Stop();

  size_t instance_count() const { return workers_.size(); }

 private:
  // What one worker keeps from batch to batch.
  struct Worker {
    std::vector<std::string> batch_inputs;  // the assembled inputs' bytes, reused
    std::vector<core::TensorView> batch_views;
  };

  void WorkerLoop(size_t instance);
  void MeasureLatencyProfile(size_t instance);
  void RunBatch(size_t instance, std::vector<QueuedRequest> batch);
  // Copies each request's inputs once into one contiguous tensor per input;
  // where a padded input's shapes differ, into a tensor of the largest of
  // each dimension, filled with its pad element.
  absl::Span<const core::TensorView> Assemble(Worker& worker, const std::vector<QueuedRequest>& batch,
                                              int64_t rows);
  void WatchDeadlines();
  // `on_arrival`: refused by Enqueue, not out of the queue.
  void Reject(std::vector<Rejection> rejected, bool on_arrival = false);
  // After a failed Execute whose health check failed: takes `instance` out of
  // the rotation and re-queues or fails the batch.
  void LeaveRotation(size_t instance, std::vector<QueuedRequest> batch, const absl::Status& execution,
                     const absl::Status& health);
  // Blocks until `instance` passes its health check again (true) or the
  // scheduler stops (false).
  bool WaitUntilHealthy(size_t instance);

  const SchedulerOptions options_;
  // Looked up once: core::Logger takes the registry's mutex, and RunBatch
  // logs (at debug level) after every batch.
  const std::shared_ptr<spdlog::logger> logger_;
  std::vector<std::unique_ptr<hal::Executor>> executors_;
  core::ModelStatistics* const statistics_;
  std::vector<Worker> worker_state_;  // one per instance, touched only by its worker

  // std::mutex rather than absl::Mutex: on the per-request path the latter's
  // bookkeeping showed up in profiles at tens of thousands of requests/s.
  mutable std::mutex mutex_;  // guards queue_, stopping_, health_, healthy_count_, profiled_
  std::condition_variable work_available_;
  // Separate from work_available_: an instance out of the rotation must not
  // swallow the one wake-up a queued request sends to a healthy worker.
  std::condition_variable stop_requested_;
  std::condition_variable deadline_changed_;  // wakes the deadline watch
  std::condition_variable profiled_changed_;
  RequestQueue queue_;
  bool stopping_ = false;
  std::vector<InstanceHealth> health_;
  size_t healthy_count_ = 0;
  size_t profiled_ = 0;  // instances done measuring their latency profile

  core::LogThrottle failure_log_{10};    // model errors, caused by clients' inputs
  core::LogThrottle rejection_log_{10};  // requests refused for lateness or a full queue
  std::vector<std::thread> workers_;
  std::thread deadline_watch_;
};

}  // namespace edgeserve::scheduler
