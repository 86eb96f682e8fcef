#include "test_util/fake_executor.h"

#include <utility>

namespace edgeserve::test_util {

FakeExecutor::FakeExecutor() : result_(std::vector<core::Tensor>()) {}

void FakeExecutor::SetModel(Model model) {
  absl::MutexLock lock(&mutex_);
  model_ = std::move(model);
}

void FakeExecutor::SetResult(absl::StatusOr<std::vector<core::Tensor>> result) {
  absl::MutexLock lock(&mutex_);
  result_ = std::move(result);
}

void FakeExecutor::SetHealth(absl::Status health) {
  absl::MutexLock lock(&mutex_);
  health_ = std::move(health);
}

int FakeExecutor::health_checks() const {
  absl::MutexLock lock(&mutex_);
  return health_checks_;
}

absl::Status FakeExecutor::CheckHealth() {
  absl::MutexLock lock(&mutex_);
  ++health_checks_;
  return health_;
}

void FakeExecutor::SetTimings(const core::ExecutionTimings& timings) {
  absl::MutexLock lock(&mutex_);
  timings_ = timings;
}

void FakeExecutor::Block() {
  absl::MutexLock lock(&mutex_);
  blocking_ = true;
  passes_ = 0;
}

void FakeExecutor::Release(int count) {
  absl::MutexLock lock(&mutex_);
  passes_ += count;
}

void FakeExecutor::ReleaseAll() {
  absl::MutexLock lock(&mutex_);
  blocking_ = false;
}

bool FakeExecutor::WaitForStarted(int count) {
  absl::MutexLock lock(&mutex_);
  auto started = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return static_cast<int>(calls_.size()) >= count;
  };
  return mutex_.AwaitWithTimeout(absl::Condition(&started), kTestDeadline);
}

std::vector<FakeExecutor::Call> FakeExecutor::calls() const {
  absl::MutexLock lock(&mutex_);
  return calls_;
}

int FakeExecutor::started() const {
  absl::MutexLock lock(&mutex_);
  return static_cast<int>(calls_.size());
}

int FakeExecutor::prepare_count() const {
  absl::MutexLock lock(&mutex_);
  return prepare_count_;
}

std::thread::id FakeExecutor::prepare_thread() const {
  absl::MutexLock lock(&mutex_);
  return prepare_thread_;
}

bool FakeExecutor::executed_only_after_prepare() const {
  absl::MutexLock lock(&mutex_);
  return execute_order_ok_;
}

int FakeExecutor::idle_releases() const {
  absl::MutexLock lock(&mutex_);
  return idle_releases_;
}

bool FakeExecutor::released_only_on_prepared_thread() const {
  absl::MutexLock lock(&mutex_);
  return release_thread_ok_;
}

void FakeExecutor::ReleaseIdleThreads() {
  absl::MutexLock lock(&mutex_);
  ++idle_releases_;
  if (prepare_count_ == 0 || prepare_thread_ != std::this_thread::get_id()) release_thread_ok_ = false;
}

void FakeExecutor::PrepareThread() {
  absl::MutexLock lock(&mutex_);
  ++prepare_count_;
  prepare_thread_ = std::this_thread::get_id();
}

absl::StatusOr<std::vector<core::Tensor>> FakeExecutor::Execute(absl::Span<const core::TensorView> inputs,
                                                                core::ExecutionTimings* timings) {
  absl::MutexLock lock(&mutex_);
  Call call;
  call.thread = std::this_thread::get_id();
  for (const core::TensorView& input : inputs) {
    call.input_names.emplace_back(input.name.data(), input.name.size());
    call.input_bytes.emplace_back(input.data.data(), input.data.size());
    call.input_data.push_back(input.data.data());
    call.input_shapes.push_back(input.shape);
  }
  if (prepare_count_ == 0 || prepare_thread_ != call.thread) execute_order_ok_ = false;
  calls_.push_back(std::move(call));
  auto may_pass = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return !blocking_ || passes_ > 0; };
  mutex_.Await(absl::Condition(&may_pass));
  if (blocking_) --passes_;
  *timings = timings_;
  return model_ ? model_(inputs) : result_;
}

absl::StatusOr<std::vector<core::Tensor>> SharedOutputs(absl::StatusOr<core::InferenceOutputs> outputs) {
  if (!outputs.ok()) return outputs.status();
  std::vector<core::Tensor> tensors;
  for (const core::Tensor& tensor : *outputs->batch) {
    const absl::string_view bytes = core::ShareBytes(*outputs, tensor);
    tensors.push_back(MakeTensor(tensor.datatype, core::ShareShape(*outputs, tensor), std::string(bytes)));
  }
  return tensors;
}

core::Tensor MakeTensor(core::DataType datatype, core::Shape shape, std::string bytes) {
  core::Tensor tensor;
  tensor.datatype = datatype;
  tensor.shape = std::move(shape);
  tensor.data = std::move(bytes);
  return tensor;
}

}  // namespace edgeserve::test_util
