#include "edgeserve/scheduler/model_scheduler.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "edgeserve/core/logging.h"

namespace edgeserve::scheduler {

ModelScheduler::ModelScheduler(SchedulerOptions options, std::vector<std::unique_ptr<hal::Executor>> executors,
                               core::ModelStatistics* statistics)
    : options_(std::move(options)),
      executors_(std::move(executors)),
      statistics_(statistics),
      health_(executors_.size()),
      healthy_count_(executors_.size()) {
  workers_.reserve(executors_.size());
  for (size_t instance = 0; instance < executors_.size(); ++instance) {
    workers_.emplace_back([this, instance] { WorkerLoop(instance); });
  }
}

ModelScheduler::~ModelScheduler() { Stop(); }

void ModelScheduler::Enqueue(const core::InferenceRequest* request, CompletionCallback done) {
  absl::Status rejection;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      rejection = absl::UnavailableError(absl::StrCat("model '", options_.model_name, "' is shutting down"));
    } else if (healthy_count_ == 0) {
      rejection = absl::UnavailableError(absl::StrCat("model '", options_.model_name, "' has no healthy instance",
                                                      health_.empty() ? "" : ": ", health_.empty() ? "" : health_.front().error));
    } else if (queue_.size() >= options_.max_queue_size) {
      rejection = absl::ResourceExhaustedError(absl::StrCat("model '", options_.model_name, "': the queue is full (",
                                                            options_.max_queue_size, " requests waiting)"));
    } else {
      queue_.push_back(Job{request, std::move(done), core::Clock::now()});
    }
  }
  if (rejection.ok()) {
    work_available_.notify_one();
  } else {
    done(rejection);
  }
}

void ModelScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_available_.notify_all();
  stop_requested_.notify_all();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  // Workers drain the queue before they exit; only a scheduler without any
  // executor can have jobs left, and each still gets its one answer.
  std::deque<Job> orphaned;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    orphaned.swap(queue_);
  }
  for (Job& job : orphaned) {
    job.done(absl::UnavailableError(absl::StrCat("model '", options_.model_name, "' has no instance to run on")));
  }
}

bool ModelScheduler::Ready() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return healthy_count_ > 0 && !stopping_;
}

std::vector<InstanceHealth> ModelScheduler::Health() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return health_;
}

void ModelScheduler::WorkerLoop(size_t instance) {
  hal::Executor* executor = executors_[instance].get();
  executor->PrepareThread();
  auto logger = core::Logger("scheduler");
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_available_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and every queued request is done
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    const auto started = core::Clock::now();
    statistics_->RecordQueue(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(started - job.enqueued).count()));
    core::ExecutionTimings timings;
    absl::StatusOr<std::vector<core::Tensor>> outputs = executor->Execute(job.request->inputs, &timings);
    if (outputs.ok()) {
      statistics_->RecordExecution(static_cast<uint64_t>(job.request->batch_size), 1, timings);
    } else if (!absl::IsResourceExhausted(outputs.status())) {
      // Out of memory is the batch's size, not the device's health.
      if (absl::Status health = executor->CheckHealth(); !health.ok()) {
        LeaveRotation(instance, std::move(job), outputs.status(), health);
        if (!WaitUntilHealthy(instance)) return;
        continue;
      }
    }
    if (!outputs.ok()) {
      if (uint64_t suppressed = 0; failure_log_.Admit(&suppressed)) {
        logger->warn("model '{}' request '{}': {}{}", options_.model_name, job.request->id,
                     outputs.status().message(),
                     suppressed == 0 ? "" : absl::StrCat(" (", suppressed, " similar lines suppressed)"));
      }
    }
    job.done(std::move(outputs));
  }
}

void ModelScheduler::LeaveRotation(size_t instance, Job job, const absl::Status& execution,
                                   const absl::Status& health) {
  const std::string device = executors_[instance]->DeviceName();
  const std::string error = absl::StrCat("instance ", instance, " on ", device, " failed its health check: ",
                                         health.message());
  core::Logger("scheduler")->error("model '{}': {}; it leaves the rotation (request '{}' failed with: {})",
                                   options_.model_name, error, job.request->id, execution.message());
  std::deque<Job> failed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    health_[instance] = InstanceHealth{false, error};
    --healthy_count_;
    if (healthy_count_ > 0 && !job.retried) {
      job.retried = true;
      queue_.push_front(std::move(job));
    } else {
      failed.push_back(std::move(job));
      // No instance is left to run what waits: each request gets its answer now.
      if (healthy_count_ == 0) {
        while (!queue_.empty()) {
          failed.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
    }
  }
  work_available_.notify_one();
  for (Job& unanswered : failed) {
    unanswered.done(absl::UnavailableError(absl::StrCat("model '", options_.model_name, "': ", error)));
  }
}

bool ModelScheduler::WaitUntilHealthy(size_t instance) {
  hal::Executor* executor = executors_[instance].get();
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto retry_at = core::Clock::now() + options_.health_retry_interval;
      if (stop_requested_.wait_until(lock, retry_at, [this] { return stopping_; })) return false;
    }
    if (absl::Status health = executor->CheckHealth(); health.ok()) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        health_[instance] = InstanceHealth{};
        ++healthy_count_;
      }
      core::Logger("scheduler")->info("model '{}': instance {} on {} passed its health check and rejoins the rotation",
                                      options_.model_name, instance, executor->DeviceName());
      return true;
    }
  }
}

}  // namespace edgeserve::scheduler
