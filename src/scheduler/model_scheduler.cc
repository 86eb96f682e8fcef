#include "edgeserve/scheduler/model_scheduler.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "edgeserve/core/logging.h"

namespace edgeserve::scheduler {

ModelScheduler::ModelScheduler(SchedulerOptions options, std::vector<std::unique_ptr<hal::Executor>> executors,
                               core::ModelStatistics* statistics)
    : options_(std::move(options)), executors_(std::move(executors)), statistics_(statistics) {
  workers_.reserve(executors_.size());
  for (auto& executor : executors_) {
    workers_.emplace_back([this, instance = executor.get()] { WorkerLoop(instance); });
  }
}

ModelScheduler::~ModelScheduler() { Stop(); }

void ModelScheduler::Enqueue(const core::InferenceRequest* request, CompletionCallback done) {
  absl::Status rejection;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      rejection = absl::UnavailableError(absl::StrCat("model '", options_.model_name, "' is shutting down"));
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

void ModelScheduler::WorkerLoop(hal::Executor* executor) {
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
    } else {
      if (uint64_t suppressed = 0; failure_log_.Admit(&suppressed)) {
        logger->warn("model '{}' request '{}': {}{}", options_.model_name, job.request->id,
                     outputs.status().message(),
                     suppressed == 0 ? "" : absl::StrCat(" (", suppressed, " similar lines suppressed)"));
      }
    }
    job.done(std::move(outputs));
  }
}

}  // namespace edgeserve::scheduler
