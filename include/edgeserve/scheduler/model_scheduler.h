// One model's request queue and the workers that feed its instances. Every
// request reaches an executor through here; nothing calls forward directly.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "edgeserve/core/inference.h"
#include "edgeserve/core/logging.h"
#include "edgeserve/core/model_statistics.h"
#include "edgeserve/hal/executor.h"

namespace edgeserve::scheduler {

// Receives the model's outputs in the config's order, or why there are none.
using CompletionCallback = std::function<void(absl::StatusOr<std::vector<core::Tensor>>)>;

struct SchedulerOptions {
  std::string model_name;
  size_t max_queue_size = 1024;
  // How often an instance out of the rotation runs its health check again.
  std::chrono::milliseconds health_retry_interval{10000};
};

// An instance as the scheduler sees it, for ModelReady and ModelMetadata.
struct InstanceHealth {
  bool healthy = true;
  std::string error;  // why it left the rotation; empty while healthy
};

class ModelScheduler {
 public:
  // Starts one worker thread per executor; each worker owns its executor.
  // `statistics` must outlive the scheduler.
  ModelScheduler(SchedulerOptions options, std::vector<std::unique_ptr<hal::Executor>> executors,
                 core::ModelStatistics* statistics);
  ~ModelScheduler();

  ModelScheduler(const ModelScheduler&) = delete;
  ModelScheduler& operator=(const ModelScheduler&) = delete;

  // Queues `request`, which must stay alive until `done` has been called.
  // `done` is called exactly once: on a worker thread after execution, or
  // before Enqueue returns with RESOURCE_EXHAUSTED when the queue is full or
  // UNAVAILABLE after Stop() or while no instance is healthy. Thread-safe.
  //
  // Health: when Execute fails and the instance's health check then fails
  // too, the device is at fault, not the request. The instance leaves the
  // rotation (its worker retries the check every health_retry_interval and
  // rejoins when it passes) and the request runs again on a healthy instance
  // if one is left, once; otherwise it fails with UNAVAILABLE.
  void Enqueue(const core::InferenceRequest* request, CompletionCallback done);

  // True while at least one instance is in the rotation. Thread-safe.
  bool Ready() const;
  // One entry per executor, in the order they were given. Thread-safe.
  std::vector<InstanceHealth> Health() const;

  // Stops accepting requests, lets the workers finish every queued one, and
  // joins them. Idempotent; the destructor calls it.
  void Stop();

  size_t instance_count() const { return workers_.size(); }

 private:
  struct Job {
    const core::InferenceRequest* request;
    CompletionCallback done;
    core::Clock::time_point enqueued;
    bool retried = false;  // already ran once on an instance that then failed its health check
  };

  void WorkerLoop(size_t instance);
  // After a failed Execute whose health check failed: takes `instance` out of
  // the rotation and re-queues or fails `job`.
  void LeaveRotation(size_t instance, Job job, const absl::Status& execution, const absl::Status& health);
  // Blocks until `instance` passes its health check again (true) or the
  // scheduler stops (false).
  bool WaitUntilHealthy(size_t instance);

  const SchedulerOptions options_;
  std::vector<std::unique_ptr<hal::Executor>> executors_;
  core::ModelStatistics* const statistics_;

  // std::mutex rather than absl::Mutex: on the per-request path the latter's
  // bookkeeping showed up in profiles at tens of thousands of requests/s.
  mutable std::mutex mutex_;  // guards queue_, stopping_, health_ and healthy_count_
  std::condition_variable work_available_;
  // Separate from work_available_: an instance out of the rotation must not
  // swallow the one wake-up a queued request sends to a healthy worker.
  std::condition_variable stop_requested_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<InstanceHealth> health_;
  size_t healthy_count_ = 0;

  core::LogThrottle failure_log_{10};  // model errors, caused by clients' inputs
  std::vector<std::thread> workers_;
};

}  // namespace edgeserve::scheduler
