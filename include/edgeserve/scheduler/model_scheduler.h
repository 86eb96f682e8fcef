// One model's request queue and the workers that feed its instances. Every
// request reaches an executor through here; nothing calls forward directly.
#pragma once

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
  // UNAVAILABLE after Stop(). Thread-safe.
  void Enqueue(const core::InferenceRequest* request, CompletionCallback done);

  // Stops accepting requests, lets the workers finish every queued one, and
  // joins them. Idempotent; the destructor calls it.
  void Stop();

  size_t instance_count() const { return workers_.size(); }

 private:
  struct Job {
    const core::InferenceRequest* request;
    CompletionCallback done;
    core::Clock::time_point enqueued;
  };

  void WorkerLoop(hal::Executor* executor);

  const SchedulerOptions options_;
  std::vector<std::unique_ptr<hal::Executor>> executors_;
  core::ModelStatistics* const statistics_;

  // std::mutex rather than absl::Mutex: on the per-request path the latter's
  // bookkeeping showed up in profiles at tens of thousands of requests/s.
  std::mutex mutex_;  // guards queue_ and stopping_
  std::condition_variable work_available_;
  std::deque<Job> queue_;
  bool stopping_ = false;

  core::LogThrottle failure_log_{10};  // model errors, caused by clients' inputs
  std::vector<std::thread> workers_;
};

}  // namespace edgeserve::scheduler
