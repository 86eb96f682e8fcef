#include "edgeserve/scheduler/model_scheduler.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util/fake_executor.h"

namespace edgeserve::scheduler {
namespace {

using test_util::FakeExecutor;
using test_util::kTestDeadline;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

constexpr char kModel[] = "test_model";

// Every completion the scheduler delivered, in the order it delivered them.
class CompletionLog {
 public:
  struct Completion {
    int request;
    absl::StatusOr<std::vector<core::Tensor>> result;
    std::thread::id thread;
  };

  // The callback for request number `request`.
  CompletionCallback For(int request) {
    return [this, request](absl::StatusOr<core::InferenceOutputs> result) {
      absl::MutexLock lock(&mutex_);
      completions_.push_back(
          Completion{request, test_util::SharedOutputs(std::move(result)), std::this_thread::get_id()});
    };
  }

  // Waits until `count` completions have arrived; false after kTestDeadline.
  bool WaitFor(size_t count) {
    absl::MutexLock lock(&mutex_);
    auto arrived = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return completions_.size() >= count; };
    return mutex_.AwaitWithTimeout(absl::Condition(&arrived), kTestDeadline);
  }

  std::vector<Completion> completions() const {
    absl::MutexLock lock(&mutex_);
    return completions_;
  }

  size_t size() const {
    absl::MutexLock lock(&mutex_);
    return completions_.size();
  }

  // How often each request completed.
  std::map<int, int> Counts() const {
    absl::MutexLock lock(&mutex_);
    std::map<int, int> counts;
    for (const Completion& completion : completions_) ++counts[completion.request];
    return counts;
  }

  // The requests in the order they completed.
  std::vector<int> Order() const {
    absl::MutexLock lock(&mutex_);
    std::vector<int> order;
    for (const Completion& completion : completions_) order.push_back(completion.request);
    return order;
  }

 private:
  mutable absl::Mutex mutex_;  // guards completions_
  std::vector<Completion> completions_ ABSL_GUARDED_BY(mutex_);
};

class ModelSchedulerTest : public ::testing::Test {
 protected:
  void Start(int executors, size_t max_queue_size = 1024,
             std::chrono::milliseconds health_retry_interval = std::chrono::seconds(600)) {
    SchedulerOptions options;
    options.model_name = kModel;
    options.batching.max_queue_size = max_queue_size;
    options.health_retry_interval = health_retry_interval;
    StartWith(std::move(options), executors);
  }

  void StartWith(SchedulerOptions options, int executors) {
    std::vector<std::unique_ptr<hal::Executor>> owned;
    for (int i = 0; i < executors; ++i) {
      auto fake = std::make_unique<FakeExecutor>();
      fakes_.push_back(fake.get());
      owned.push_back(std::move(fake));
    }
    scheduler_ = std::make_unique<ModelScheduler>(std::move(options), std::move(owned), &statistics_);
  }

  // A model that batches up to 8, in mode slo without a target.
  void StartBatching() {
    SchedulerOptions options;
    options.model_name = kModel;
    options.model_max_batch_size = 8;
    StartWith(std::move(options), 1);
  }

  // Opens every gate before the scheduler stops, so that a failed assertion
  // cannot leave a worker waiting forever at one.
  void TearDown() override { DestroyScheduler(); }

  // The scheduler's destructor (which stops it), after which the fakes it
  // owned are gone.
  void DestroyScheduler() {
    for (FakeExecutor* fake : fakes_) fake->ReleaseAll();
    scheduler_.reset();
    fakes_.clear();
  }

  // Request number `requests_.size()`, whose one input holds `payload`.
  const core::InferenceRequest* NewRequest(int64_t batch_size = 1) {
    auto owned = std::make_unique<OwnedRequest>();
    owned->payload = "request-" + std::to_string(requests_.size());
    core::TensorView view;
    view.name = "in";
    view.datatype = core::DataType::kUint8;
    view.shape = {static_cast<int64_t>(owned->payload.size())};
    if (batching_shapes_) view.shape = {batch_size, static_cast<int64_t>(owned->payload.size()) / batch_size};
    view.data = owned->payload;
    owned->request.id = owned->payload;
    owned->request.inputs.push_back(view);
    owned->request.batch_size = batch_size;
    requests_.push_back(std::move(owned));
    return &requests_.back()->request;
  }

  // Enqueues a new request, completing into log_ under its number.
  int Submit(int64_t batch_size = 1) {
    const int number = static_cast<int>(requests_.size());
    scheduler_->Enqueue(NewRequest(batch_size), log_.For(number));
    return number;
  }

  // Enqueues a request of `rows` rows of [rows, payload bytes / rows].
  int SubmitRows(std::string payload, int64_t rows) {
    auto owned = std::make_unique<OwnedRequest>();
    owned->payload = std::move(payload);
    core::TensorView view;
    view.name = "in";
    view.datatype = core::DataType::kUint8;
    view.shape = {rows, static_cast<int64_t>(owned->payload.size()) / rows};
    view.data = owned->payload;
    owned->request.inputs.push_back(view);
    owned->request.batch_size = rows;
    const int number = static_cast<int>(requests_.size());
    requests_.push_back(std::move(owned));
    scheduler_->Enqueue(&requests_.back()->request, log_.For(number));
    return number;
  }

  std::string Payload(int request) const { return requests_[static_cast<size_t>(request)]->payload; }

  struct OwnedRequest {
    std::string payload;
    core::InferenceRequest request;
  };

  bool batching_shapes_ = false;  // inputs shaped [batch, bytes per row]
  core::ModelStatistics statistics_;
  CompletionLog log_;
  std::deque<std::unique_ptr<OwnedRequest>> requests_;
  std::vector<FakeExecutor*> fakes_;  // owned by scheduler_
  std::unique_ptr<ModelScheduler> scheduler_;
};

TEST_F(ModelSchedulerTest, StartsOneWorkerPerExecutor) {
  Start(3);
  EXPECT_EQ(scheduler_->instance_count(), 3u);
}

// The names of this process's threads, as top -H and /proc show them.
std::vector<std::string> ThreadNames() {
  std::vector<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) names.push_back(name);
  }
  return names;
}

TEST_F(ModelSchedulerTest, NamesItsThreadsAfterTheModelAndTheInstance) {
  SchedulerOptions options;
  options.model_name = "a_rather_long_model_name";
  StartWith(std::move(options), 2);
  // Linux keeps 15 characters: the model's name gives way to the suffix.
  EXPECT_THAT(ThreadNames(), ::testing::IsSupersetOf({"a_rather_long/0", "a_rather_long/1", "a_rather_/watch"}));
  DestroyScheduler();
  EXPECT_THAT(ThreadNames(), ::testing::Not(::testing::Contains("a_rather_long/0")));
}

TEST_F(ModelSchedulerTest, EveryRequestCompletesExactlyOnce) {
  Start(1);
  constexpr int kRequests = 100;
  for (int i = 0; i < kRequests; ++i) Submit();
  scheduler_->Stop();
  const std::map<int, int> counts = log_.Counts();
  ASSERT_EQ(counts.size(), static_cast<size_t>(kRequests));
  for (const auto& [request, count] : counts) EXPECT_EQ(count, 1) << "request " << request;
  for (const auto& completion : log_.completions()) EXPECT_TRUE(completion.result.ok()) << completion.result.status();
  EXPECT_EQ(fakes_[0]->started(), kRequests);
  DestroyScheduler();
  EXPECT_EQ(log_.size(), static_cast<size_t>(kRequests));
}

TEST_F(ModelSchedulerTest, EveryRequestCompletesExactlyOnceAcrossInstances) {
  Start(3);
  constexpr int kRequests = 90;
  for (int i = 0; i < kRequests; ++i) Submit();
  scheduler_->Stop();
  const std::map<int, int> counts = log_.Counts();
  ASSERT_EQ(counts.size(), static_cast<size_t>(kRequests));
  for (const auto& [request, count] : counts) EXPECT_EQ(count, 1) << "request " << request;
  EXPECT_EQ(fakes_[0]->started() + fakes_[1]->started() + fakes_[2]->started(), kRequests);
}

TEST_F(ModelSchedulerTest, DestructorCompletesWhatIsQueued) {
  Start(1);
  for (int i = 0; i < 5; ++i) Submit();
  DestroyScheduler();
  EXPECT_THAT(log_.Order(), ElementsAre(0, 1, 2, 3, 4));
}

TEST_F(ModelSchedulerTest, OneInstanceRunsRequestsInArrivalOrder) {
  Start(1);
  FakeExecutor& fake = *fakes_[0];
  fake.Block();
  Submit();
  ASSERT_TRUE(fake.WaitForStarted(1));
  // Request 0 is running; the rest wait in the queue together.
  for (int i = 1; i < 10; ++i) Submit();
  EXPECT_EQ(log_.size(), 0u);
  fake.ReleaseAll();
  ASSERT_TRUE(log_.WaitFor(10));
  std::vector<std::string> expected_payloads;
  std::vector<int> expected_order;
  for (int i = 0; i < 10; ++i) {
    expected_payloads.push_back(Payload(i));
    expected_order.push_back(i);
  }
  std::vector<std::string> executed;
  for (const FakeExecutor::Call& call : fake.calls()) {
    ASSERT_EQ(call.input_bytes.size(), 1u);
    executed.push_back(call.input_bytes[0]);
  }
  EXPECT_THAT(executed, ElementsAreArray(expected_payloads));
  EXPECT_THAT(log_.Order(), ElementsAreArray(expected_order));
}

TEST_F(ModelSchedulerTest, InputsReachTheExecutorWithoutACopy) {
  Start(1);
  const int request = Submit();
  ASSERT_TRUE(log_.WaitFor(1));
  const std::vector<FakeExecutor::Call> calls = fakes_[0]->calls();
  ASSERT_EQ(calls.size(), 1u);
  ASSERT_EQ(calls[0].input_data.size(), 1u);
  EXPECT_EQ(calls[0].input_data[0], requests_[static_cast<size_t>(request)]->payload.data());
  EXPECT_THAT(calls[0].input_names, ElementsAre("in"));
}

TEST_F(ModelSchedulerTest, FullQueueIsRejectedBeforeEnqueueReturns) {
  Start(1, /*max_queue_size=*/2);
  FakeExecutor& fake = *fakes_[0];
  fake.Block();
  Submit();  // 0: running
  ASSERT_TRUE(fake.WaitForStarted(1));
  Submit();  // 1: queued
  Submit();  // 2: queued; the queue is now full
  EXPECT_EQ(log_.size(), 0u);

  bool called = false;
  absl::Status rejection;
  std::thread::id callback_thread;
  scheduler_->Enqueue(NewRequest(), [&](absl::StatusOr<core::InferenceOutputs> result) {
    called = true;
    rejection = result.status();
    callback_thread = std::this_thread::get_id();
  });
  ASSERT_TRUE(called) << "the rejection must be delivered before Enqueue returns";
  EXPECT_EQ(rejection.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(rejection.message(), "model 'test_model': the queue is full (2 requests waiting)");
  EXPECT_EQ(callback_thread, std::this_thread::get_id());

  // The running request does not count against the queue: once request 1
  // starts, there is room for one more.
  fake.Release(1);
  ASSERT_TRUE(fake.WaitForStarted(2));
  const int accepted = Submit();
  EXPECT_EQ(log_.Counts().count(accepted), 0u);

  fake.ReleaseAll();
  scheduler_->Stop();
  const std::map<int, int> counts = log_.Counts();
  EXPECT_EQ(counts, (std::map<int, int>{{0, 1}, {1, 1}, {2, 1}, {accepted, 1}}));
  for (const auto& completion : log_.completions()) EXPECT_TRUE(completion.result.ok()) << completion.request;
  EXPECT_EQ(fake.started(), 4);
}

TEST_F(ModelSchedulerTest, ZeroQueueSizeRejectsEverything) {
  Start(1, /*max_queue_size=*/0);
  Submit();
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_.completions()[0].result.status().code(), absl::StatusCode::kResourceExhausted);
  scheduler_->Stop();
  EXPECT_EQ(fakes_[0]->started(), 0);
}

TEST_F(ModelSchedulerTest, StopFinishesQueuedRequestsAndRefusesNewOnes) {
  Start(1, /*max_queue_size=*/2);
  FakeExecutor& fake = *fakes_[0];
  fake.Block();
  Submit();  // running
  ASSERT_TRUE(fake.WaitForStarted(1));
  Submit();
  Submit();

  std::thread stopper([this] { scheduler_->Stop(); });
  // Stop() is now under way on another thread and waits for the worker held
  // at the gate. Until it has marked the scheduler as stopping, a probe is
  // refused because the queue is full; after, because it is shutting down.
  // Every probe is answered inline, so this loop observes state, not time.
  const core::InferenceRequest* probe = NewRequest();
  absl::Status refusal;
  do {
    bool answered = false;
    scheduler_->Enqueue(probe, [&](absl::StatusOr<core::InferenceOutputs> result) {
      answered = true;
      refusal = result.status();
    });
    if (!answered) {
      ADD_FAILURE() << "a refused request must be answered before Enqueue returns";
      break;
    }
    if (refusal.code() == absl::StatusCode::kResourceExhausted) std::this_thread::yield();
  } while (refusal.code() == absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refusal.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refusal.message(), "model 'test_model' is shutting down");
  EXPECT_EQ(log_.size(), 0u);  // nothing queued was dropped or refused

  fake.ReleaseAll();
  stopper.join();
  EXPECT_THAT(log_.Order(), ElementsAre(0, 1, 2));
  for (const auto& completion : log_.completions()) EXPECT_TRUE(completion.result.ok()) << completion.request;
  EXPECT_EQ(fake.started(), 3);
}

TEST_F(ModelSchedulerTest, EnqueueAfterStopIsUnavailableInline) {
  Start(2);
  scheduler_->Stop();
  scheduler_->Stop();  // idempotent
  bool called = false;
  absl::Status status;
  scheduler_->Enqueue(NewRequest(), [&](absl::StatusOr<core::InferenceOutputs> result) {
    called = true;
    status = result.status();
  });
  ASSERT_TRUE(called);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "model 'test_model' is shutting down");
  EXPECT_EQ(fakes_[0]->started() + fakes_[1]->started(), 0);
}

TEST_F(ModelSchedulerTest, TwoInstancesRunAtTheSameTime) {
  Start(2);
  fakes_[0]->Block();
  fakes_[1]->Block();
  Submit();
  Submit();
  // Both requests are inside Execute at once, each on its own instance.
  ASSERT_TRUE(fakes_[0]->WaitForStarted(1));
  ASSERT_TRUE(fakes_[1]->WaitForStarted(1));
  const std::thread::id first = fakes_[0]->calls()[0].thread;
  const std::thread::id second = fakes_[1]->calls()[0].thread;
  EXPECT_NE(first, second);
  EXPECT_NE(first, std::this_thread::get_id());
  EXPECT_NE(second, std::this_thread::get_id());

  // A third waits while both instances are busy, and goes to the first that frees.
  Submit();
  EXPECT_EQ(fakes_[0]->started() + fakes_[1]->started(), 2);
  fakes_[1]->Release(1);
  ASSERT_TRUE(fakes_[1]->WaitForStarted(2));
  EXPECT_EQ(fakes_[0]->started(), 1);
  ASSERT_TRUE(log_.WaitFor(1));
  EXPECT_EQ(log_.completions()[0].thread, second);

  fakes_[0]->ReleaseAll();
  fakes_[1]->ReleaseAll();
  ASSERT_TRUE(log_.WaitFor(3));
  EXPECT_EQ(log_.Counts(), (std::map<int, int>{{0, 1}, {1, 1}, {2, 1}}));
}

TEST_F(ModelSchedulerTest, PrepareThreadRunsOnceOnEachWorkerBeforeExecute) {
  Start(2);
  fakes_[0]->Block();
  fakes_[1]->Block();
  Submit();
  Submit();
  ASSERT_TRUE(fakes_[0]->WaitForStarted(1));
  ASSERT_TRUE(fakes_[1]->WaitForStarted(1));
  fakes_[0]->ReleaseAll();
  fakes_[1]->ReleaseAll();
  for (int i = 0; i < 6; ++i) Submit();
  scheduler_->Stop();
  for (FakeExecutor* fake : fakes_) {
    EXPECT_EQ(fake->prepare_count(), 1);
    EXPECT_NE(fake->prepare_thread(), std::this_thread::get_id());
    EXPECT_TRUE(fake->executed_only_after_prepare());
    for (const FakeExecutor::Call& call : fake->calls()) EXPECT_EQ(call.thread, fake->prepare_thread());
  }
  EXPECT_NE(fakes_[0]->prepare_thread(), fakes_[1]->prepare_thread());
}

TEST_F(ModelSchedulerTest, PrepareThreadRunsEvenWithoutRequests) {
  Start(2);
  scheduler_->Stop();
  EXPECT_EQ(fakes_[0]->prepare_count(), 1);
  EXPECT_EQ(fakes_[1]->prepare_count(), 1);
}

TEST_F(ModelSchedulerTest, AnIdleWorkerGivesBackItsExecutorsThreadsOnItsOwnThread) {
  Start(1);
  EXPECT_EQ(fakes_[0]->idle_releases(), 1) << "after the start-up measurement";
  Submit();
  ASSERT_TRUE(log_.WaitFor(1));
  const absl::Time give_up = absl::Now() + test_util::kTestDeadline;
  while (fakes_[0]->idle_releases() < 2 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(fakes_[0]->idle_releases(), 2) << "after the batch, once idle";
  // Nothing ran since: nothing more to give back.
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(fakes_[0]->idle_releases(), 2);
  EXPECT_TRUE(fakes_[0]->released_only_on_prepared_thread());
}

TEST_F(ModelSchedulerTest, OutputsReachTheCallbackOnTheWorkerThread) {
  Start(1);
  std::vector<core::Tensor> outputs;
  const std::string floats("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);  // 1.0f, 2.0f
  outputs.push_back(test_util::MakeTensor(core::DataType::kFp32, {1, 2}, floats));
  outputs.push_back(test_util::MakeTensor(core::DataType::kInt64, {1}, std::string(8, '\x07')));
  fakes_[0]->SetResult(outputs);
  Submit();
  ASSERT_TRUE(log_.WaitFor(1));
  const CompletionLog::Completion completion = log_.completions()[0];
  ASSERT_TRUE(completion.result.ok()) << completion.result.status();
  ASSERT_EQ(completion.result->size(), 2u);
  EXPECT_EQ((*completion.result)[0].datatype, core::DataType::kFp32);
  EXPECT_THAT((*completion.result)[0].shape, ElementsAre(1, 2));
  EXPECT_EQ((*completion.result)[0].data, outputs[0].data);
  EXPECT_EQ((*completion.result)[1].datatype, core::DataType::kInt64);
  EXPECT_EQ((*completion.result)[1].data, outputs[1].data);
  EXPECT_EQ(completion.thread, fakes_[0]->prepare_thread());
}

TEST_F(ModelSchedulerTest, ExecutorErrorReachesTheCallback) {
  Start(1);
  fakes_[0]->SetResult(absl::InternalError("the model exploded"));
  Submit();
  Submit();
  scheduler_->Stop();
  ASSERT_EQ(log_.size(), 2u);
  for (const auto& completion : log_.completions()) {
    EXPECT_EQ(completion.result.status().code(), absl::StatusCode::kInternal);
    EXPECT_EQ(completion.result.status().message(), "the model exploded");
  }
  EXPECT_EQ(statistics_.Snapshot().queue.count, 2u);
}

TEST_F(ModelSchedulerTest, StatisticsCountQueueWaitsAndExecutionsPerBatchSize) {
  Start(1);
  core::ExecutionTimings timings;
  timings.input_ns = 10;
  timings.infer_ns = 20;
  timings.output_ns = 30;
  fakes_[0]->SetTimings(timings);
  Submit(4);
  Submit(4);
  Submit(4);
  Submit(1);
  Submit(1);
  scheduler_->Stop();
  const core::ModelStatisticsSnapshot snapshot = statistics_.Snapshot();
  EXPECT_EQ(snapshot.queue.count, 5u);
  EXPECT_EQ(snapshot.execution_count, 5u);
  ASSERT_EQ(snapshot.batches.size(), 2u);
  EXPECT_EQ(snapshot.batches.at(4).compute_infer.count, 3u);
  EXPECT_EQ(snapshot.batches.at(4).compute_infer.ns, 60u);
  EXPECT_EQ(snapshot.batches.at(4).compute_input.ns, 30u);
  EXPECT_EQ(snapshot.batches.at(4).compute_output.ns, 90u);
  EXPECT_EQ(snapshot.batches.at(1).compute_infer.count, 2u);
  EXPECT_EQ(snapshot.compute_infer.count, 5u);
  EXPECT_EQ(snapshot.compute_infer.ns, 100u);
  // Outcomes (success, fail, inference_count) are the front end's to record.
  EXPECT_EQ(snapshot.success.count, 0u);
  EXPECT_EQ(snapshot.inference_count, 0u);
}

TEST_F(ModelSchedulerTest, QueueTimeIncludesTheWaitBehindARunningRequest) {
  Start(1);
  FakeExecutor& fake = *fakes_[0];
  fake.Block();
  Submit();
  ASSERT_TRUE(fake.WaitForStarted(1));
  Submit();
  // Request 1 was stamped before this point and cannot start before request 0
  // is let through below, so its wait is at least the time in between.
  const auto queued_at = core::Clock::now();
  while (core::Clock::now() == queued_at) std::this_thread::yield();
  const auto released_at = core::Clock::now();
  fake.ReleaseAll();
  scheduler_->Stop();
  const core::ModelStatisticsSnapshot snapshot = statistics_.Snapshot();
  EXPECT_EQ(snapshot.queue.count, 2u);
  const uint64_t lower_bound = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(released_at - queued_at).count());
  EXPECT_GE(snapshot.queue.ns, lower_bound);
}

// Waits until the scheduler's readiness is `ready`; false after kTestDeadline.
bool WaitForReady(const ModelScheduler& scheduler, bool ready) {
  const auto give_up = std::chrono::steady_clock::now() + absl::ToChronoSeconds(kTestDeadline);
  while (scheduler.Ready() != ready) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST_F(ModelSchedulerTest, ModelErrorOnAHealthyInstanceFailsOnlyThatRequest) {
  Start(1);
  fakes_[0]->SetResult(absl::InternalError("negative input rejected by the model"));
  Submit();
  ASSERT_TRUE(log_.WaitFor(1));
  EXPECT_EQ(log_.completions()[0].result.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(fakes_[0]->health_checks(), 1);
  EXPECT_TRUE(scheduler_->Ready());
  EXPECT_TRUE(scheduler_->Health()[0].healthy);
}

TEST_F(ModelSchedulerTest, OutOfMemoryDoesNotCheckHealth) {
  Start(1);
  fakes_[0]->SetResult(absl::ResourceExhaustedError("cuda:0 is out of memory for this batch"));
  Submit();
  ASSERT_TRUE(log_.WaitFor(1));
  EXPECT_EQ(log_.completions()[0].result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(fakes_[0]->health_checks(), 0);
  EXPECT_TRUE(scheduler_->Ready());
}

TEST_F(ModelSchedulerTest, FailedDeviceLeavesTheRotationAndItsRequestRunsOnAnotherInstance) {
  Start(2);
  fakes_[0]->Block();
  fakes_[1]->Block();
  Submit();
  Submit();
  ASSERT_TRUE(fakes_[0]->WaitForStarted(1));
  ASSERT_TRUE(fakes_[1]->WaitForStarted(1));
  const std::string on_failed_device = fakes_[0]->calls()[0].input_bytes[0];
  fakes_[0]->SetResult(absl::InternalError("device lost"));
  fakes_[0]->SetHealth(absl::InternalError("npu test double: injected device fault"));
  fakes_[0]->Release();
  fakes_[1]->Release(2);
  ASSERT_TRUE(log_.WaitFor(2));
  for (const auto& completion : log_.completions()) EXPECT_TRUE(completion.result.ok()) << completion.request;
  ASSERT_EQ(fakes_[1]->calls().size(), 2u);
  EXPECT_EQ(fakes_[1]->calls()[1].input_bytes[0], on_failed_device);
  EXPECT_TRUE(scheduler_->Ready());
  const std::vector<InstanceHealth> health = scheduler_->Health();
  EXPECT_FALSE(health[0].healthy);
  EXPECT_THAT(health[0].error, ::testing::HasSubstr("injected device fault"));
  EXPECT_TRUE(health[1].healthy);
  // Later requests reach only the healthy instance.
  fakes_[1]->ReleaseAll();
  Submit();
  ASSERT_TRUE(log_.WaitFor(3));
  EXPECT_EQ(fakes_[1]->calls().size(), 3u);
  EXPECT_EQ(fakes_[0]->calls().size(), 1u);
}

TEST_F(ModelSchedulerTest, WithoutAHealthyInstanceRequestsFailAtOnceUntilTheDeviceRecovers) {
  Start(1, 1024, std::chrono::milliseconds(10));
  fakes_[0]->Block();
  Submit();
  ASSERT_TRUE(fakes_[0]->WaitForStarted(1));
  Submit();  // queued behind the request that will fail
  fakes_[0]->SetResult(absl::InternalError("device lost"));
  fakes_[0]->SetHealth(absl::InternalError("injected device fault"));
  fakes_[0]->Release();
  ASSERT_TRUE(log_.WaitFor(2));
  for (const auto& completion : log_.completions()) {
    EXPECT_EQ(completion.result.status().code(), absl::StatusCode::kUnavailable) << completion.request;
    EXPECT_THAT(completion.result.status().message(), ::testing::HasSubstr("injected device fault"));
  }
  EXPECT_FALSE(scheduler_->Ready());
  Submit();
  ASSERT_TRUE(log_.WaitFor(3));
  EXPECT_EQ(log_.completions()[2].result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fakes_[0]->calls().size(), 1u);

  fakes_[0]->SetResult(std::vector<core::Tensor>());
  fakes_[0]->SetHealth(absl::OkStatus());
  fakes_[0]->ReleaseAll();
  ASSERT_TRUE(WaitForReady(*scheduler_, true));
  EXPECT_TRUE(scheduler_->Health()[0].healthy);
  Submit();
  ASSERT_TRUE(log_.WaitFor(4));
  EXPECT_TRUE(log_.completions()[3].result.ok());
}

TEST_F(ModelSchedulerTest, RequestsQueuedTogetherRunAsOneBatchAndEachGetsItsOwnRows) {
  batching_shapes_ = true;
  StartBatching();
  fakes_[0]->Block();
  Submit();
  ASSERT_TRUE(fakes_[0]->WaitForStarted(1));
  const int first = Submit(), second = Submit(), third = Submit();
  fakes_[0]->SetResult(std::vector<core::Tensor>{test_util::MakeTensor(core::DataType::kUint8, {3, 2}, "aabbcc")});
  fakes_[0]->ReleaseAll();
  ASSERT_TRUE(log_.WaitFor(4));

  const std::vector<FakeExecutor::Call> calls = fakes_[0]->calls();
  ASSERT_EQ(calls.size(), 2u);  // the first alone, the three queued behind it together
  EXPECT_EQ(calls[1].input_bytes[0], Payload(first) + Payload(second) + Payload(third));
  const std::map<int, std::string> expected = {{first, "aa"}, {second, "bb"}, {third, "cc"}};
  for (const CompletionLog::Completion& completion : log_.completions()) {
    if (completion.request == 0) continue;
    ASSERT_TRUE(completion.result.ok()) << completion.result.status();
    ASSERT_EQ(completion.result->size(), 1u);
    EXPECT_EQ((*completion.result)[0].data, expected.at(completion.request));
    EXPECT_THAT((*completion.result)[0].shape, ElementsAre(1, 2));
  }
  const core::ModelStatisticsSnapshot snapshot = statistics_.Snapshot();
  EXPECT_EQ(snapshot.execution_count, 2u);
  ASSERT_EQ(snapshot.batches.count(3), 1u);
  EXPECT_EQ(snapshot.batches.at(3).compute_infer.count, 1u);
}

TEST_F(ModelSchedulerTest, RequestsOfDifferentSizesShareABatchPaddedWhereTheConfigAllowsIt) {
  SchedulerOptions options;
  options.model_name = kModel;
  options.model_max_batch_size = 8;
  options.batching.pad_elements = {"."};
  StartWith(std::move(options), 1);
  fakes_[0]->Block();
  SubmitRows("xy", 1);
  ASSERT_TRUE(fakes_[0]->WaitForStarted(1));
  SubmitRows("abc", 1);
  SubmitRows("de", 1);
  SubmitRows("fghi", 2);
  fakes_[0]->SetResult(std::vector<core::Tensor>{test_util::MakeTensor(core::DataType::kUint8, {4, 1}, "1234")});
  fakes_[0]->ReleaseAll();
  ASSERT_TRUE(log_.WaitFor(4));

  const std::vector<FakeExecutor::Call> calls = fakes_[0]->calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_THAT(calls[1].input_shapes[0], ElementsAre(4, 3));
  EXPECT_EQ(calls[1].input_bytes[0],
            "abc"
            "de."
            "fg."
            "hi.");
  const std::map<int, std::string> expected = {{1, "1"}, {2, "2"}, {3, "34"}};
  for (const CompletionLog::Completion& completion : log_.completions()) {
    if (completion.request == 0) continue;
    ASSERT_TRUE(completion.result.ok()) << completion.result.status();
    EXPECT_EQ((*completion.result)[0].data, expected.at(completion.request));
  }
}

TEST_F(ModelSchedulerTest, ARequestThatFailsItsBatchFailsAloneAndItsBatchMatesRunAgainByThemselves) {
  StartBatching();
  // A model that raises on any row holding 'X', and otherwise returns each
  // row's first byte.
  fakes_[0]->SetModel([](absl::Span<const core::TensorView> inputs) -> absl::StatusOr<std::vector<core::Tensor>> {
    const core::TensorView& input = inputs[0];
    if (input.data.find('X') != absl::string_view::npos) return absl::InternalError("the model raised on X");
    std::string firsts;
    const int64_t rows = input.shape[0];
    for (int64_t row = 0; row < rows; ++row) firsts.push_back(input.data[static_cast<size_t>(row * input.shape[1])]);
    return std::vector<core::Tensor>{test_util::MakeTensor(core::DataType::kUint8, {rows, 1}, firsts)};
  });
  fakes_[0]->Block();
  SubmitRows("c-request", 1);
  ASSERT_TRUE(fakes_[0]->WaitForStarted(1));
  const int good = SubmitRows("a-request", 1);
  const int poison = SubmitRows("X-request", 1);
  const int other = SubmitRows("b-request", 1);
  fakes_[0]->ReleaseAll();
  ASSERT_TRUE(log_.WaitFor(4));

  const std::vector<FakeExecutor::Call> calls = fakes_[0]->calls();
  ASSERT_EQ(calls.size(), 5u);  // the first; the three together; each of them alone
  EXPECT_THAT(calls[1].input_shapes[0], ElementsAre(3, 9));
  for (size_t call = 2; call < 5; ++call) EXPECT_EQ(calls[call].input_shapes[0][0], 1) << call;
  const std::map<int, int> counts = log_.Counts();
  for (const CompletionLog::Completion& completion : log_.completions()) {
    EXPECT_EQ(counts.at(completion.request), 1) << completion.request;
    if (completion.request == poison) {
      EXPECT_EQ(completion.result.status().code(), absl::StatusCode::kInternal);
    } else if (completion.request == good || completion.request == other) {
      ASSERT_TRUE(completion.result.ok()) << completion.result.status();
      EXPECT_EQ((*completion.result)[0].data, completion.request == good ? "a" : "b");
    }
  }
  const core::ModelStatisticsSnapshot snapshot = statistics_.Snapshot();
  EXPECT_EQ(snapshot.execution_count, 3u) << "the first and the two good requests alone";
}

TEST_F(ModelSchedulerTest, ABatchWhoseOutputsLackItsRowsFailsEveryRequestInIt) {
  batching_shapes_ = true;
  StartBatching();
  fakes_[0]->Block();
  Submit();
  ASSERT_TRUE(fakes_[0]->WaitForStarted(1));
  Submit();
  Submit();
  fakes_[0]->SetResult(std::vector<core::Tensor>{test_util::MakeTensor(core::DataType::kUint8, {1, 2}, "aa")});
  fakes_[0]->ReleaseAll();
  ASSERT_TRUE(log_.WaitFor(3));
  for (const CompletionLog::Completion& completion : log_.completions()) {
    if (completion.request == 0) continue;
    EXPECT_EQ(completion.result.status().code(), absl::StatusCode::kInternal);
    EXPECT_THAT(std::string(completion.result.status().message()), ::testing::HasSubstr("for a batch of 2"));
  }
}

TEST_F(ModelSchedulerTest, TheDeadlineWatchRejectsAQueuedRequestWhileEveryInstanceIsBusy) {
  Start(1);
  fakes_[0]->Block();
  Submit();
  ASSERT_TRUE(fakes_[0]->WaitForStarted(1));
  core::InferenceRequest* request = const_cast<core::InferenceRequest*>(NewRequest());
  request->client_deadline = core::Clock::now() + std::chrono::milliseconds(20);
  scheduler_->Enqueue(request, log_.For(1));
  ASSERT_TRUE(log_.WaitFor(1));  // answered while the first request still runs
  EXPECT_EQ(fakes_[0]->started(), 1);
  const CompletionLog::Completion rejected = log_.completions()[0];
  EXPECT_EQ(rejected.request, 1);
  EXPECT_EQ(rejected.result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(statistics_.Snapshot().rejected_deadline, 1u);
  EXPECT_EQ(statistics_.Snapshot().rejected_deadline_after_waiting, 1u);
  fakes_[0]->ReleaseAll();
  ASSERT_TRUE(log_.WaitFor(2));
  EXPECT_EQ(fakes_[0]->started(), 1);
}

TEST_F(ModelSchedulerTest, ARequestCancelledWhileQueuedIsNeverExecuted) {
  Start(1);
  fakes_[0]->Block();
  Submit();
  ASSERT_TRUE(fakes_[0]->WaitForStarted(1));
  auto gone = std::make_shared<std::atomic<bool>>(false);
  core::InferenceRequest* request = const_cast<core::InferenceRequest*>(NewRequest());
  request->cancelled = [gone] { return gone->load(); };
  scheduler_->Enqueue(request, log_.For(1));
  Submit();
  gone->store(true);
  fakes_[0]->ReleaseAll();
  ASSERT_TRUE(log_.WaitFor(3));
  EXPECT_EQ(fakes_[0]->started(), 2);
  for (const CompletionLog::Completion& completion : log_.completions()) {
    if (completion.request == 1) {
      EXPECT_EQ(completion.result.status().code(), absl::StatusCode::kCancelled);
    }
  }
  EXPECT_EQ(statistics_.Snapshot().cancelled, 1u);
}

TEST_F(ModelSchedulerTest, EachInstanceMeasuresItsLatencyProfileBeforeServing) {
  SchedulerOptions options;
  options.model_name = kModel;
  options.model_max_batch_size = 8;
  options.inputs = {core::TensorSpec{"in", core::DataType::kFp32, {-1, 3}}};
  StartWith(std::move(options), 2);
  std::vector<int64_t> sizes;
  for (const LatencyEstimate& estimate : scheduler_->LatencyProfiles()) {
    if (estimate.instance == 1) sizes.push_back(estimate.batch_size);
    EXPECT_EQ(estimate.samples, 5u);  // the first run of each size is left out
  }
  EXPECT_THAT(sizes, ElementsAre(1, 2, 4, 8));
  const std::vector<FakeExecutor::Call> calls = fakes_[1]->calls();
  ASSERT_EQ(calls.size(), 24u);
  EXPECT_EQ(calls.back().input_bytes[0].size(), 8u * 1 * 3 * sizeof(float));
}

}  // namespace
}  // namespace edgeserve::scheduler
