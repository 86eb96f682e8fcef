#include "edgeserve/scheduler/model_scheduler.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "edgeserve/core/logging.h"

namespace edgeserve::scheduler {
namespace {

uint64_t NanosBetween(TimePoint from, TimePoint to) {
  return static_cast<uint64_t>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count()));
}

// Executions per batch size when the profile is measured at start: the first
// pays for allocations and is left out.
constexpr int kProfileRuns = 6;

// How long a worker waits with nothing queued before it gives back its
// executor's idle threads. Taking them again costs about one thread start,
// nothing against this long a pause.
constexpr std::chrono::milliseconds kIdleBeforeRelease(100);

// Names `thread` "<model><suffix>" for top -H, perf and /proc: the model's
// name is cut so that the whole fits Linux's 15 characters and the suffix
// survives. Threads the named one starts (an instance's OpenMP team) inherit
// the name.
void NameThread(std::thread& thread, const std::string& model, const std::string& suffix) {
  constexpr size_t kMaxThreadName = 15;
  const size_t model_chars = kMaxThreadName > suffix.size() ? kMaxThreadName - suffix.size() : 0;
  const std::string name = (model.substr(0, model_chars) + suffix).substr(0, kMaxThreadName);
  pthread_setname_np(thread.native_handle(), name.c_str());  // only fails on names too long
}

}  // namespace

ModelScheduler::ModelScheduler(SchedulerOptions options, std::vector<std::unique_ptr<hal::Executor>> executors,
                               core::ModelStatistics* statistics)
    : options_(std::move(options)),
      logger_(core::Logger("scheduler")),
      executors_(std::move(executors)),
      statistics_(statistics),
      worker_state_(executors_.size()),
      queue_(options_.model_name, options_.batching, options_.model_max_batch_size, executors_.size()),
      health_(executors_.size()),
      healthy_count_(executors_.size()) {
  workers_.reserve(executors_.size());
  for (size_t instance = 0; instance < executors_.size(); ++instance) {
    workers_.emplace_back([this, instance] { WorkerLoop(instance); });
    NameThread(workers_.back(), options_.model_name, absl::StrCat("/", instance));
  }
  deadline_watch_ = std::thread([this] { WatchDeadlines(); });
  NameThread(deadline_watch_, options_.model_name, "/watch");
  std::unique_lock<std::mutex> lock(mutex_);
  profiled_changed_.wait(lock, [this] { return profiled_ == executors_.size(); });
}

ModelScheduler::~ModelScheduler() { Stop(); }

void ModelScheduler::Enqueue(const core::InferenceRequest* request, CompletionCallback done) {
  QueuedRequest entry;
  entry.request = request;
  entry.done = std::move(done);
  absl::Status rejection;
  bool earlier_expiry = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      rejection = absl::UnavailableError(absl::StrCat("model '", options_.model_name, "' is shutting down"));
    } else if (healthy_count_ == 0) {
      rejection = absl::UnavailableError(absl::StrCat("model '", options_.model_name, "' has no healthy instance",
                                                      health_.empty() ? "" : ": ", health_.empty() ? "" : health_.front().error));
    } else {
      const TimePoint expiry_before = queue_.next_expiry();
      rejection = queue_.Admit(entry, core::Clock::now());
      earlier_expiry = rejection.ok() && queue_.next_expiry() < expiry_before;
    }
  }
  if (rejection.ok()) {
    work_available_.notify_one();
    if (earlier_expiry) deadline_changed_.notify_one();
    return;
  }
  std::vector<Rejection> rejected;
  rejected.push_back({std::move(entry), std::move(rejection)});
  Reject(std::move(rejected), /*on_arrival=*/true);
}

void ModelScheduler::Reject(std::vector<Rejection> rejected, bool on_arrival) {
  for (Rejection& rejection : rejected) {
    switch (rejection.status.code()) {
      case absl::StatusCode::kResourceExhausted:
        statistics_->RecordRejection(core::RejectionReason::kQueueFull);
        break;
      case absl::StatusCode::kDeadlineExceeded:
        statistics_->RecordRejection(on_arrival ? core::RejectionReason::kDeadline
                                                : core::RejectionReason::kDeadlineAfterWaiting);
        break;
      case absl::StatusCode::kCancelled:
        statistics_->RecordRejection(core::RejectionReason::kCancelled);
        break;
      default:
        break;
    }
    if (rejection.status.code() != absl::StatusCode::kUnavailable) {
      if (uint64_t suppressed = 0; rejection_log_.Admit(&suppressed)) {
        logger_->info("model '{}' request '{}' not run: {}{}", options_.model_name,
                      core::ClipForDisplay(rejection.entry.request->id, core::kMaxLoggedIdBytes),
                      core::ClipForDisplay(rejection.status.message(), core::kMaxLoggedMessageBytes),
                      core::SuppressedNote(suppressed));
      }
    }
    rejection.entry.done(std::move(rejection.status));
  }
}

void ModelScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_available_.notify_all();
  stop_requested_.notify_all();
  deadline_changed_.notify_all();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  if (deadline_watch_.joinable()) deadline_watch_.join();
  // Workers drain the queue before they exit; only a scheduler without any
  // executor can have jobs left, and each still gets its one answer.
  std::vector<QueuedRequest> orphaned;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    orphaned = queue_.TakeAll();
  }
  for (QueuedRequest& entry : orphaned) {
    entry.done(absl::UnavailableError(absl::StrCat("model '", options_.model_name, "' has no instance to run on")));
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

std::chrono::nanoseconds ModelScheduler::AdmissionReserve() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.AdmissionReserve();
}

std::vector<LatencyEstimate> ModelScheduler::LatencyProfiles() const {
  std::vector<LatencyEstimate> estimates;
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t instance = 0; instance < executors_.size(); ++instance) {
    const LatencyProfile& profile = queue_.profile(instance);
    for (const LatencyProfile::Estimate& estimate : profile.Estimates()) {
      LatencyEstimate out;
      out.instance = instance;
      out.batch_size = estimate.rows;
      out.mean_us = estimate.mean_ns / 1e3;
      out.deviation_us = estimate.deviation_ns / 1e3;
      out.predicted_us = static_cast<double>(profile.Predict(estimate.rows).count()) / 1e3;
      out.samples = estimate.samples;
      estimates.push_back(out);
    }
  }
  return estimates;
}

void ModelScheduler::MeasureLatencyProfile(size_t instance) {
  if (options_.inputs.empty()) return;
  std::vector<int64_t> sizes;
  const int64_t max_rows = options_.model_max_batch_size > 0 ? queue_.max_batch_rows() : 0;
  if (max_rows == 0) {
    sizes.push_back(1);
  } else {
    for (int64_t rows = 1; rows < max_rows; rows *= 2) sizes.push_back(rows);
    sizes.push_back(max_rows);
  }
  hal::Executor* executor = executors_[instance].get();
  for (int64_t rows : sizes) {
    std::vector<std::string> bytes;
    std::vector<core::TensorView> views;
    bytes.reserve(options_.inputs.size());
    for (const core::TensorSpec& spec : options_.inputs) {
      core::TensorView view;
      view.name = spec.name;
      view.datatype = spec.datatype;
      if (max_rows > 0) view.shape.push_back(rows);
      for (int64_t dim : spec.shape) view.shape.push_back(dim < 0 ? 1 : dim);
      bytes.emplace_back(static_cast<size_t>(core::ElementCount(view.shape)) * core::DataTypeSize(spec.datatype), '\0');
      views.push_back(view);
    }
    for (size_t i = 0; i < views.size(); ++i) views[i].data = bytes[i];
    for (int run = 0; run < kProfileRuns; ++run) {
      core::ExecutionTimings timings;
      const auto started = core::Clock::now();
      absl::StatusOr<std::vector<core::Tensor>> outputs = executor->Execute(views, &timings);
      const auto took = core::Clock::now() - started;
      if (!outputs.ok()) {
        logger_->warn("model '{}' instance {}: measuring batch size {} failed: {}",
                                        options_.model_name, instance, rows, outputs.status().message());
        return;
      }
      if (run == 0) continue;
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.profile(instance).Record(rows, std::chrono::duration_cast<std::chrono::nanoseconds>(took));
    }
  }
  std::string measured;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.MeasuredAtStart(instance, core::Clock::now());
    const LatencyProfile& profile = queue_.profile(instance);
    for (const LatencyProfile::Estimate& estimate : profile.Estimates()) {
      absl::StrAppend(&measured, measured.empty() ? "" : ", ", "batch ", estimate.rows, " ",
                      absl::SixDigits(estimate.mean_ns / 1e6), " ms (planned as ",
                      absl::SixDigits(static_cast<double>(profile.Predict(estimate.rows).count()) / 1e6), ")");
    }
  }
  logger_->info("model '{}' instance {} on {}: {}", options_.model_name, instance,
                                  executor->DeviceName(), measured);
}

void ModelScheduler::WorkerLoop(size_t instance) {
  hal::Executor* executor = executors_[instance].get();
  executor->PrepareThread();
  MeasureLatencyProfile(instance);
  executor->ReleaseIdleThreads();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++profiled_;
  }
  profiled_changed_.notify_all();
  bool holds_idle_threads = false;
  for (;;) {
    std::vector<Rejection> rejected;
    RequestQueue::Decision decision;
    bool exit = false;
    bool release = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      TimePoint idle_since = kNever;  // since when nothing has been queued
      for (;;) {
        const TimePoint now = core::Clock::now();
        decision = queue_.Next(instance, now, stopping_, &rejected);
        if (!decision.batch.empty() || !rejected.empty()) break;
        if (stopping_ && queue_.empty()) {
          exit = true;  // every queued request is done
          break;
        }
        if (decision.wake_at != kNever) {
          idle_since = kNever;
          work_available_.wait_until(lock, decision.wake_at);
        } else if (!holds_idle_threads) {
          work_available_.wait(lock);
        } else {
          if (idle_since == kNever) idle_since = now;
          if (now - idle_since >= kIdleBeforeRelease) {
            release = true;
            break;
          }
          work_available_.wait_until(lock, idle_since + kIdleBeforeRelease);
        }
      }
    }
    if (release) {
      executor->ReleaseIdleThreads();
      holds_idle_threads = false;
    }
    Reject(std::move(rejected));
    if (exit) return;
    if (decision.batch.empty()) continue;
    RunBatch(instance, std::move(decision.batch));
    holds_idle_threads = true;
    bool healthy;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      healthy = health_[instance].healthy;
    }
    if (!healthy && !WaitUntilHealthy(instance)) return;
  }
}

absl::Span<const core::TensorView> ModelScheduler::Assemble(Worker& worker, const std::vector<QueuedRequest>& batch,
                                                            int64_t rows) {
  const std::vector<core::TensorView>& first = batch.front().request->inputs;
  const std::vector<std::string>& pad_elements = options_.batching.pad_elements;
  worker.batch_inputs.resize(first.size());
  worker.batch_views.resize(first.size());
  for (size_t input = 0; input < first.size(); ++input) {
    core::TensorView& view = worker.batch_views[input];
    view.name = first[input].name;
    view.datatype = first[input].datatype;
    view.shape = first[input].shape;
    bool padded = false;
    if (input < pad_elements.size() && !pad_elements[input].empty()) {
      for (const QueuedRequest& entry : batch) {
        const core::Shape& shape = entry.request->inputs[input].shape;
        for (size_t k = 1; k < shape.size(); ++k) {
          padded = padded || shape[k] != view.shape[k];
          view.shape[k] = std::max(view.shape[k], shape[k]);
        }
      }
    }
    view.shape[0] = rows;
    std::string& bytes = worker.batch_inputs[input];
    if (padded) {
      const std::string& element = pad_elements[input];
      const size_t size = static_cast<size_t>(core::ElementCount(view.shape)) * element.size();
      if (element.find_first_not_of('\0') == std::string::npos) {
        bytes.assign(size, '\0');
      } else {
        bytes.resize(size);
        for (size_t offset = 0; offset < size; offset += element.size()) {
          std::memcpy(&bytes[offset], element.data(), element.size());
        }
      }
      int64_t first_row = 0;
      for (const QueuedRequest& entry : batch) {
        const core::TensorView& own = entry.request->inputs[input];
        core::CopyIntoPadded(own.data, own.shape, element.size(), view.shape, first_row, bytes.data());
        first_row += own.shape[0];
      }
    } else {
      size_t total = 0;
      for (const QueuedRequest& entry : batch) total += entry.request->inputs[input].data.size();
      bytes.resize(total);
      size_t offset = 0;
      for (const QueuedRequest& entry : batch) {
        const absl::string_view data = entry.request->inputs[input].data;
        if (!data.empty()) std::memcpy(&bytes[offset], data.data(), data.size());
        offset += data.size();
      }
    }
    view.data = bytes;
  }
  return worker.batch_views;
}

void ModelScheduler::RunBatch(size_t instance, std::vector<QueuedRequest> batch) {
  hal::Executor* executor = executors_[instance].get();
  const auto started = core::Clock::now();
  int64_t rows = 0;
  for (const QueuedRequest& entry : batch) {
    statistics_->RecordQueue(NanosBetween(entry.enqueued, started));
    rows += entry.request->batch_size;
  }
  const bool alone = batch.size() == 1;
  absl::Span<const core::TensorView> inputs =
      alone ? absl::Span<const core::TensorView>(batch.front().request->inputs)
            : Assemble(worker_state_[instance], batch, rows);
  core::ExecutionTimings timings;
  absl::StatusOr<std::vector<core::Tensor>> outputs = executor->Execute(inputs, &timings);
  const bool execution_failed = !outputs.ok();
  const auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(core::Clock::now() - started);
  if (outputs.ok() && !alone) {
    for (const core::Tensor& tensor : *outputs) {
      if (tensor.shape.empty() || tensor.shape[0] != rows) {
        outputs = absl::InternalError(absl::StrCat("model '", options_.model_name, "' returned an output of shape ",
                                                   core::ShapeToString(tensor.shape), " for a batch of ", rows));
        break;
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.Finished(instance, rows, outputs.ok() ? took : std::chrono::nanoseconds(0), started + took);
  }
  logger_->debug("model '{}' instance {}: batch of {} in {} us", options_.model_name, instance, rows,
                                   took.count() / 1000);
  if (outputs.ok()) {
    statistics_->RecordExecution(static_cast<uint64_t>(rows), batch.size(), timings);
    auto shared = std::make_shared<std::vector<core::Tensor>>(*std::move(outputs));
    int64_t first_row = 0;
    for (QueuedRequest& entry : batch) {
      core::InferenceOutputs share{shared, first_row, entry.request->batch_size, alone};
      first_row += entry.request->batch_size;
      entry.done(std::move(share));
    }
    return;
  }
  if (!absl::IsResourceExhausted(outputs.status())) {
    // Out of memory is the batch's size, not the device's health.
    if (absl::Status health = executor->CheckHealth(); !health.ok()) {
      LeaveRotation(instance, std::move(batch), outputs.status(), health);
      return;
    }
  }
  if (uint64_t suppressed = 0; failure_log_.Admit(&suppressed)) {
    const std::string batch_mates = alone ? std::string()
                                          : absl::StrCat(" and ", batch.size() - 1, " batched with it",
                                                         execution_failed ? ", which run again one by one" : "");
    logger_->warn("model '{}' request '{}'{}: {}{}", options_.model_name,
                  core::ClipForDisplay(batch.front().request->id, core::kMaxLoggedIdBytes), batch_mates,
                  core::ClipForDisplay(outputs.status().message(), core::kMaxLoggedMessageBytes),
                  core::SuppressedNote(suppressed));
  }
  // Outputs without a row for each request break the config's batching
  // contract whatever the inputs; they fail the batch.
  if (alone || !execution_failed) {
    for (QueuedRequest& entry : batch) entry.done(outputs.status());
    return;
  }
  // One request's input may have failed the whole batch (a model that raises
  // on it, or a batch too large for the device's memory): each runs again by
  // itself, ahead of the queue, and only those that fail alone fail.
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto entry = batch.rbegin(); entry != batch.rend(); ++entry) {
      entry->isolated = true;
      queue_.PushFront(std::move(*entry));
    }
  }
  work_available_.notify_all();
  deadline_changed_.notify_one();
}

void ModelScheduler::WatchDeadlines() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    const TimePoint next = queue_.next_expiry();
    if (next == kNever) {
      deadline_changed_.wait(lock);
    } else {
      deadline_changed_.wait_until(lock, next);
    }
    if (stopping_) break;
    const TimePoint now = core::Clock::now();
    if (now < queue_.next_expiry()) continue;
    std::vector<Rejection> rejected;
    queue_.Expire(now, &rejected);
    if (rejected.empty()) continue;
    lock.unlock();
    Reject(std::move(rejected));
    lock.lock();
  }
}

void ModelScheduler::LeaveRotation(size_t instance, std::vector<QueuedRequest> batch, const absl::Status& execution,
                                   const absl::Status& health) {
  const std::string device = executors_[instance]->DeviceName();
  const std::string error = absl::StrCat("instance ", instance, " on ", device, " failed its health check: ",
                                         health.message());
  logger_->error("model '{}': {}; it leaves the rotation (request '{}' failed with: {})", options_.model_name, error,
                 core::ClipForDisplay(batch.front().request->id, core::kMaxLoggedIdBytes),
                 core::ClipForDisplay(execution.message(), core::kMaxLoggedMessageBytes));
  std::vector<QueuedRequest> failed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    health_[instance] = InstanceHealth{false, error};
    queue_.SetHealthy(instance, false);
    --healthy_count_;
    // Back to the head of the queue in their order, each once.
    for (auto entry = batch.rbegin(); entry != batch.rend(); ++entry) {
      if (healthy_count_ > 0 && !entry->retried) {
        entry->retried = true;
        queue_.PushFront(std::move(*entry));
      } else {
        failed.push_back(std::move(*entry));
      }
    }
    // No instance is left to run what waits: each request gets its answer now.
    if (healthy_count_ == 0) {
      for (QueuedRequest& entry : queue_.TakeAll()) failed.push_back(std::move(entry));
    }
  }
  work_available_.notify_all();
  for (QueuedRequest& unanswered : failed) {
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
        queue_.SetHealthy(instance, true);
        ++healthy_count_;
      }
      logger_->info("model '{}': instance {} on {} passed its health check and rejoins the rotation",
                                      options_.model_name, instance, executor->DeviceName());
      return true;
    }
  }
}

}  // namespace edgeserve::scheduler
