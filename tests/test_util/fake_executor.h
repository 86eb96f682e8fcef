// A test double of hal::Executor for the scheduler's tests: no LibTorch, no
// device. It answers with the outputs (or the error) it was given, records
// every call and the thread it ran on, and can hold executions at a gate until
// the test releases them, so a test can put the scheduler into a known state
// (a request running, others queued) without sleeping.
//
// The scheduler owns the executor; a test keeps the raw pointer and may use it
// until the scheduler is destroyed (Stop() leaves the executor alive).
#pragma once

#include <functional>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "edgeserve/hal/executor.h"

namespace edgeserve::test_util {

// How long a test waits for something that should happen at once before it
// gives up and fails instead of hanging. Never used to let time pass.
inline constexpr absl::Duration kTestDeadline = absl::Seconds(30);

class FakeExecutor : public hal::Executor {
 public:
  // One Execute call as the executor saw it.
  struct Call {
    std::vector<std::string> input_names;
    std::vector<std::string> input_bytes;  // a copy of each input's bytes
    std::vector<const char*> input_data;   // where each input's bytes were
    std::vector<core::Shape> input_shapes;
    std::thread::id thread;
  };

  FakeExecutor();

  // What every later Execute returns (by default: no outputs, OK).
  void SetResult(absl::StatusOr<std::vector<core::Tensor>> result);
  // From now on Execute returns what `model` makes of its inputs instead.
  using Model = std::function<absl::StatusOr<std::vector<core::Tensor>>(absl::Span<const core::TensorView>)>;
  void SetModel(Model model);
  // What every later CheckHealth returns (by default OK): an error plays a
  // device that has failed.
  void SetHealth(absl::Status health);
  int health_checks() const;
  // The timings every later Execute reports.
  void SetTimings(const core::ExecutionTimings& timings);

  // From now on each Execute waits at the gate, after it has been recorded,
  // until a release lets it through.
  void Block();
  // Lets `count` waiting or future executions through the closed gate.
  void Release(int count = 1);
  // Opens the gate for good: nothing waits any more.
  void ReleaseAll();

  // Waits until at least `count` Execute calls have started (been recorded).
  // Returns false if that does not happen within kTestDeadline.
  bool WaitForStarted(int count);

  std::vector<Call> calls() const;
  int started() const;
  int prepare_count() const;
  std::thread::id prepare_thread() const;
  // True when every Execute came after PrepareThread on the same thread.
  bool executed_only_after_prepare() const;
  // How often ReleaseIdleThreads was called, and whether always on the thread
  // that prepared it.
  int idle_releases() const;
  bool released_only_on_prepared_thread() const;

  void PrepareThread() override;
  absl::StatusOr<std::vector<core::Tensor>> Execute(absl::Span<const core::TensorView> inputs,
                                                    core::ExecutionTimings* timings) override;
  absl::Status CheckHealth() override;
  void ReleaseIdleThreads() override;
  std::string DeviceName() const override { return "fake"; }

 private:
  mutable absl::Mutex mutex_;  // guards every field below
  absl::StatusOr<std::vector<core::Tensor>> result_ ABSL_GUARDED_BY(mutex_);
  Model model_ ABSL_GUARDED_BY(mutex_);
  core::ExecutionTimings timings_ ABSL_GUARDED_BY(mutex_);
  absl::Status health_ ABSL_GUARDED_BY(mutex_);
  int health_checks_ ABSL_GUARDED_BY(mutex_) = 0;
  bool blocking_ ABSL_GUARDED_BY(mutex_) = false;
  int64_t passes_ ABSL_GUARDED_BY(mutex_) = 0;  // executions the gate still lets through
  std::vector<Call> calls_ ABSL_GUARDED_BY(mutex_);
  int prepare_count_ ABSL_GUARDED_BY(mutex_) = 0;
  std::thread::id prepare_thread_ ABSL_GUARDED_BY(mutex_);
  bool execute_order_ok_ ABSL_GUARDED_BY(mutex_) = true;
  int idle_releases_ ABSL_GUARDED_BY(mutex_) = 0;
  bool release_thread_ok_ ABSL_GUARDED_BY(mutex_) = true;
};

// A request's share of its batch's outputs as tensors of its own, to compare.
absl::StatusOr<std::vector<core::Tensor>> SharedOutputs(absl::StatusOr<core::InferenceOutputs> outputs);

// A tensor of `datatype` and `shape` holding `bytes`, for canned outputs.
core::Tensor MakeTensor(core::DataType datatype, core::Shape shape, std::string bytes);

}  // namespace edgeserve::test_util
