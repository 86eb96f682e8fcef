#include "edgeserve/hal/torch_executor.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/time/clock.h"
#include "edgeserve/repository/model_config.h"

namespace edgeserve::hal {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kTestModels[] = EDGESERVE_TEST_MODELS;

// The spec of a test model as its own config declares it.
TorchModelSpec SpecFor(const std::string& model, TorchOptimization optimization = TorchOptimization::kAuto) {
  const std::string dir = std::string(kTestModels) + "/" + model;
  absl::StatusOr<repository::ModelConfig> config =
      repository::LoadModelConfig(dir + "/config.yaml", model, repository::ModelConfigLimits());
  EXPECT_TRUE(config.ok()) << config.status();
  TorchModelSpec spec;
  spec.model_file = dir + "/1/model.pt";
  if (config.ok()) {
    spec.inputs = config->inputs;
    spec.outputs = config->outputs;
    spec.max_batch_size = config->max_batch_size;
  }
  spec.optimization = optimization;
  spec.intra_op_threads = 1;
  return spec;
}

template <typename T>
std::string Bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

template <typename T>
std::vector<T> Values(const core::Tensor& tensor) {
  std::vector<T> values(tensor.data.size() / sizeof(T));
  std::memcpy(values.data(), tensor.data.data(), values.size() * sizeof(T));
  return values;
}

core::TensorView View(const std::string& name, core::DataType datatype, core::Shape shape, const std::string& bytes) {
  core::TensorView view;
  view.name = name;
  view.datatype = datatype;
  view.shape = std::move(shape);
  view.data = bytes;
  return view;
}

std::unique_ptr<Executor> LoadOrFail(const TorchModelSpec& spec, TorchLoadReport* report) {
  absl::StatusOr<std::unique_ptr<Executor>> executor = LoadTorchExecutor(spec, report);
  EXPECT_TRUE(executor.ok()) << executor.status();
  if (!executor.ok()) return nullptr;
  return *std::move(executor);
}

TEST(TorchExecutorTest, AnInterpreterErrorLeadsWithTheErrorItself) {
  const std::string interpreter =
      "The following operation failed in the TorchScript interpreter.\n"
      "Traceback of TorchScript, serialized code (most recent call last):\n"
      "  File \"code/__torch__.py\", line 10, in forward\n"
      "RuntimeError: The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0\n";
  EXPECT_EQ(LeadWithTheCause(interpreter),
            "RuntimeError: The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0\n\n"
            "The following operation failed in the TorchScript interpreter.\n"
            "Traceback of TorchScript, serialized code (most recent call last):\n"
            "  File \"code/__torch__.py\", line 10, in forward");
  EXPECT_EQ(LeadWithTheCause("expected scalar type Float but found Int"), "expected scalar type Float but found Int");
}

TEST(TorchExecutorTest, IdentityReturnsItsInputBitwise) {
  TorchLoadReport report;
  std::unique_ptr<Executor> executor = LoadOrFail(SpecFor("identity", TorchOptimization::kNone), &report);
  ASSERT_NE(executor, nullptr);
  EXPECT_EQ(executor->DeviceName(), "cpu");
  EXPECT_FALSE(report.optimized);
  EXPECT_GT(report.as_loaded_ms, 0.0);
  EXPECT_EQ(report.optimized_ms, 0.0);
  executor->PrepareThread();

  // Two rows of 16 with values whose bits are easy to lose: signed zero,
  // subnormals, infinities, the largest and smallest floats.
  std::vector<float> values(32);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.1f - 1.3f;
  values[0] = -0.0f;
  values[1] = std::numeric_limits<float>::denorm_min();
  values[2] = std::numeric_limits<float>::infinity();
  values[3] = -std::numeric_limits<float>::infinity();
  values[4] = std::numeric_limits<float>::max();
  values[5] = std::numeric_limits<float>::lowest();
  const std::string input = Bytes(values);
  const std::vector<core::TensorView> inputs = {View("INPUT0", core::DataType::kFp32, {2, 16}, input)};
  core::ExecutionTimings timings;
  absl::StatusOr<std::vector<core::Tensor>> outputs = executor->Execute(inputs, &timings);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(outputs->size(), 1u);
  const core::Tensor& output = (*outputs)[0];
  EXPECT_EQ(output.datatype, core::DataType::kFp32);
  EXPECT_THAT(output.shape, ElementsAre(2, 16));
  EXPECT_EQ(output.data, input);
  EXPECT_GT(timings.infer_ns, 0u);
  // The request's bytes are read, never written.
  EXPECT_EQ(input, Bytes(values));
}

// Threads alive in this process.
int ProcessThreads() {
  int threads = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++threads;
  return threads;
}

TEST(TorchExecutorTest, ReleasingIdleThreadsEndsTheTeamTheForwardStarted) {
  TorchLoadReport report;
  TorchModelSpec spec = SpecFor("classifier");
  spec.intra_op_threads = 2;
  std::unique_ptr<Executor> executor = LoadOrFail(spec, &report);
  ASSERT_NE(executor, nullptr);
  const std::string zeros(3 * 224 * 224 * sizeof(float), '\0');
  const std::vector<core::TensorView> inputs = {View("images", core::DataType::kFp32, {1, 3, 224, 224}, zeros)};
  int before = 0;
  int serving = 0;
  int released = 0;
  bool executed = false;
  // A thread of its own, as the scheduler's workers are, so that the team
  // belongs to it and not to the test's main thread.
  std::thread worker([&] {
    executor->PrepareThread();
    before = ProcessThreads();
    core::ExecutionTimings timings;
    executed = executor->Execute(inputs, &timings).ok();
    serving = ProcessThreads();
    executor->ReleaseIdleThreads();
    // The team's threads leave on their own after the release returns.
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while ((released = ProcessThreads()) > before && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  });
  worker.join();
  ASSERT_TRUE(executed);
  EXPECT_GT(serving, before) << "the 2-thread forward started no OpenMP team";
  EXPECT_EQ(released, before);
}

TEST(TorchExecutorTest, IdentityTakesEveryBatchSize) {
  TorchLoadReport report;
  std::unique_ptr<Executor> executor = LoadOrFail(SpecFor("identity", TorchOptimization::kNone), &report);
  ASSERT_NE(executor, nullptr);
  for (int64_t batch : {1, 3, 64}) {
    std::vector<float> values(static_cast<size_t>(batch) * 16);
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
    const std::string input = Bytes(values);
    const std::vector<core::TensorView> inputs = {View("INPUT0", core::DataType::kFp32, {batch, 16}, input)};
    core::ExecutionTimings timings;
    absl::StatusOr<std::vector<core::Tensor>> outputs = executor->Execute(inputs, &timings);
    ASSERT_TRUE(outputs.ok()) << batch << ": " << outputs.status();
    EXPECT_THAT((*outputs)[0].shape, ElementsAre(batch, 16));
    EXPECT_EQ((*outputs)[0].data, input);
  }
}

TEST(TorchExecutorTest, AddSubComputesBothOutputsWithTheirDatatypes) {
  TorchLoadReport report;
  std::unique_ptr<Executor> executor = LoadOrFail(SpecFor("add_sub", TorchOptimization::kAuto), &report);
  ASSERT_NE(executor, nullptr);
  // Auto times both preparations and keeps the faster.
  EXPECT_GT(report.as_loaded_ms, 0.0);
  EXPECT_GT(report.optimized_ms, 0.0);
  const std::string a = Bytes(std::vector<int32_t>{5, -3, 100, 0});
  const std::string b = Bytes(std::vector<int32_t>{2, 7, -50, 0});
  const std::vector<core::TensorView> inputs = {View("INPUT0", core::DataType::kInt32, {4}, a),
                                                View("INPUT1", core::DataType::kInt32, {4}, b)};
  core::ExecutionTimings timings;
  absl::StatusOr<std::vector<core::Tensor>> outputs = executor->Execute(inputs, &timings);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(outputs->size(), 2u);
  EXPECT_EQ((*outputs)[0].datatype, core::DataType::kInt32);
  EXPECT_THAT((*outputs)[0].shape, ElementsAre(4));
  EXPECT_THAT(Values<int32_t>((*outputs)[0]), ElementsAre(7, 4, 50, 0));
  EXPECT_EQ((*outputs)[1].datatype, core::DataType::kFp32);
  EXPECT_THAT((*outputs)[1].shape, ElementsAre(4));
  EXPECT_THAT(Values<float>((*outputs)[1]), ElementsAre(3.0f, -10.0f, 150.0f, 0.0f));
}

TEST(TorchExecutorTest, OptimizedModuleGivesTheSameResults) {
  TorchLoadReport report;
  std::unique_ptr<Executor> executor = LoadOrFail(SpecFor("add_sub", TorchOptimization::kOptimize), &report);
  ASSERT_NE(executor, nullptr);
  EXPECT_TRUE(report.optimized);
  EXPECT_GT(report.optimized_ms, 0.0);
  EXPECT_EQ(report.as_loaded_ms, 0.0);
  const std::string a = Bytes(std::vector<int32_t>{1, 2});
  const std::string b = Bytes(std::vector<int32_t>{10, 20});
  const std::vector<core::TensorView> inputs = {View("INPUT0", core::DataType::kInt32, {2}, a),
                                                View("INPUT1", core::DataType::kInt32, {2}, b)};
  core::ExecutionTimings timings;
  absl::StatusOr<std::vector<core::Tensor>> outputs = executor->Execute(inputs, &timings);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  EXPECT_THAT(Values<int32_t>((*outputs)[0]), ElementsAre(11, 22));
  EXPECT_THAT(Values<float>((*outputs)[1]), ElementsAre(-9.0f, -18.0f));
}

TEST(TorchExecutorTest, DictOutputsAreMappedByNameInConfigOrder) {
  TorchLoadReport report;
  const TorchModelSpec spec = SpecFor("dict_outputs");
  ASSERT_EQ(spec.outputs.size(), 2u);
  ASSERT_EQ(spec.outputs[0].name, "summed");  // the module's dict lists "doubled" first
  std::unique_ptr<Executor> executor = LoadOrFail(spec, &report);
  ASSERT_NE(executor, nullptr);
  const std::string x = Bytes(std::vector<float>{1, 2, 3, 4, 5, 6});
  const std::vector<core::TensorView> inputs = {View("x", core::DataType::kFp32, {2, 3}, x)};
  core::ExecutionTimings timings;
  absl::StatusOr<std::vector<core::Tensor>> outputs = executor->Execute(inputs, &timings);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(outputs->size(), 2u);
  EXPECT_THAT((*outputs)[0].shape, ElementsAre(2, 1));
  EXPECT_THAT(Values<float>((*outputs)[0]), ElementsAre(6.0f, 15.0f));
  EXPECT_THAT((*outputs)[1].shape, ElementsAre(2, 3));
  EXPECT_THAT(Values<float>((*outputs)[1]), ElementsAre(2.0f, 4.0f, 6.0f, 8.0f, 10.0f, 12.0f));
}

TEST(TorchExecutorTest, ListOutputsAreMappedByPosition) {
  TorchLoadReport report;
  std::unique_ptr<Executor> executor = LoadOrFail(SpecFor("list_outputs"), &report);
  ASSERT_NE(executor, nullptr);
  const std::string x = Bytes(std::vector<float>{1, -2});
  const std::vector<core::TensorView> inputs = {View("x", core::DataType::kFp32, {2}, x)};
  core::ExecutionTimings timings;
  absl::StatusOr<std::vector<core::Tensor>> outputs = executor->Execute(inputs, &timings);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(outputs->size(), 2u);
  EXPECT_THAT(Values<float>((*outputs)[0]), ElementsAre(2.0f, -1.0f));
  EXPECT_THAT(Values<float>((*outputs)[1]), ElementsAre(3.0f, -6.0f));
}

TEST(TorchExecutorTest, ModelErrorIsInternalWithTheModelsMessageAndTheExecutorStaysUsable) {
  TorchLoadReport report;
  std::unique_ptr<Executor> executor = LoadOrFail(SpecFor("failing", TorchOptimization::kNone), &report);
  ASSERT_NE(executor, nullptr);
  const std::string negative = Bytes(std::vector<float>{1, -1, 0, 2});
  core::ExecutionTimings timings;
  absl::StatusOr<std::vector<core::Tensor>> failed =
      executor->Execute({View("x", core::DataType::kFp32, {4}, negative)}, &timings);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("negative input rejected by the model"));

  const std::string positive = Bytes(std::vector<float>{1, 2, 3, 4});
  absl::StatusOr<std::vector<core::Tensor>> ok =
      executor->Execute({View("x", core::DataType::kFp32, {4}, positive)}, &timings);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_THAT(Values<float>((*ok)[0]), ElementsAre(2.0f, 3.0f, 4.0f, 5.0f));
}

TEST(TorchExecutorTest, CorruptFileIsNotLoadable) {
  TorchLoadReport report;
  const TorchModelSpec spec = SpecFor("corrupt");
  absl::StatusOr<std::unique_ptr<Executor>> executor = LoadTorchExecutor(spec, &report);
  ASSERT_FALSE(executor.ok());
  EXPECT_EQ(executor.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(executor.status().message()),
              AllOf(HasSubstr(spec.model_file), HasSubstr("not a loadable TorchScript module")));
}

TEST(TorchExecutorTest, MissingFileIsNotLoadable) {
  TorchLoadReport report;
  TorchModelSpec spec = SpecFor("identity");
  spec.model_file = std::string(kTestModels) + "/identity/7/model.pt";
  absl::StatusOr<std::unique_ptr<Executor>> executor = LoadTorchExecutor(spec, &report);
  ASSERT_FALSE(executor.ok());
  EXPECT_THAT(std::string(executor.status().message()),
              AllOf(HasSubstr(spec.model_file), HasSubstr("not a loadable TorchScript module")));
}

TEST(TorchExecutorTest, DeclaredShapeThatDoesNotMatchFailsTheWarmUp) {
  TorchLoadReport report;
  absl::StatusOr<std::unique_ptr<Executor>> executor = LoadTorchExecutor(SpecFor("mismatched"), &report);
  ASSERT_FALSE(executor.ok());
  EXPECT_EQ(executor.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(executor.status().message()),
              AllOf(HasSubstr("warm-up"), HasSubstr("output 'y'"), HasSubstr("the model returned shape [4]"),
                    HasSubstr("the config declares [5]")));
}

TEST(TorchExecutorTest, DeclaredDatatypeThatDoesNotMatchFailsTheWarmUp) {
  TorchLoadReport report;
  TorchModelSpec spec = SpecFor("identity", TorchOptimization::kNone);
  ASSERT_EQ(spec.outputs.size(), 1u);
  spec.outputs[0].datatype = core::DataType::kInt32;
  absl::StatusOr<std::unique_ptr<Executor>> executor = LoadTorchExecutor(spec, &report);
  ASSERT_FALSE(executor.ok());
  EXPECT_EQ(executor.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(executor.status().message()),
              AllOf(HasSubstr("output 'OUTPUT0'"), HasSubstr("the config declares INT32")));
}

}  // namespace
}  // namespace edgeserve::hal

namespace edgeserve::hal {
namespace {

// Reduced precision on the CPU: the module and floating inputs are cast at
// load and per batch, the outputs come back in the declared FP32.
// Runs the identity model at `precision` on one row of 16 floats starting
// with `first` and `second`; returns the row it answers.
std::vector<float> IdentityAt(Precision precision, float first, float second) {
  TorchModelSpec spec = SpecFor("identity", TorchOptimization::kNone);
  spec.precision = precision;
  TorchLoadReport report;
  std::unique_ptr<Executor> executor = LoadOrFail(spec, &report);
  if (executor == nullptr) return {};
  executor->PrepareThread();
  std::vector<float> input(16, 0.0f);
  input[0] = first;
  input[1] = second;
  const std::string bytes = Bytes(input);
  const core::TensorView view = View("x", core::DataType::kFp32, {1, 16}, bytes);
  core::ExecutionTimings timings;
  absl::StatusOr<std::vector<core::Tensor>> outputs = executor->Execute({&view, 1}, &timings);
  EXPECT_TRUE(outputs.ok()) << outputs.status();
  if (!outputs.ok() || outputs->size() != 1u) {
    ADD_FAILURE() << "expected one output";
    return {};
  }
  EXPECT_EQ((*outputs)[0].datatype, core::DataType::kFp32);
  return Values<float>((*outputs)[0]);
}

TEST(TorchExecutorPrecisionTest, Bf16IdentityReturnsFp32RoundedToBf16) {
  // 1 + 1/1024 is below bf16's 8-bit mantissa and rounds to 1; 3 is exact.
  const std::vector<float> values = IdentityAt(Precision::kBf16, 1.0f + 1.0f / 1024, 3.0f);
  ASSERT_EQ(values.size(), 16u);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], 3.0f);
}

TEST(TorchExecutorPrecisionTest, Fp16IdentityReturnsFp32RoundedToFp16) {
  // 1 + 1/4096 is below fp16's 10-bit mantissa and rounds to 1; 1 + 1/512 is exact.
  const std::vector<float> values = IdentityAt(Precision::kFp16, 1.0f + 1.0f / 4096, 1.0f + 1.0f / 512);
  ASSERT_EQ(values.size(), 16u);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], 1.0f + 1.0f / 512);
}

TEST(TorchExecutorHealthTest, AHealthyCpuInstancePassesItsCheck) {
  TorchLoadReport report;
  std::unique_ptr<Executor> executor = LoadOrFail(SpecFor("add_sub"), &report);
  ASSERT_NE(executor, nullptr);
  executor->PrepareThread();
  EXPECT_TRUE(executor->CheckHealth().ok());
}

}  // namespace
}  // namespace edgeserve::hal
