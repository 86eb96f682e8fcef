// The HAL on an NPU, through the NPU test double (tests/npu_double: LibTorch's
// PrivateUse1 device over host memory, not a real device). The double is
// opened exactly as the daemon opens a vendor plugin, by DiscoverDevices, so
// this binary runs apart from the unit tests: once loaded, PrivateUse1 stays
// registered for the whole process.
#include <dlfcn.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "edgeserve/hal/accelerators.h"
#include "edgeserve/hal/torch_executor.h"
#include "edgeserve/repository/model_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgeserve::hal {
namespace {

using ::testing::HasSubstr;

constexpr char kTestModels[] = EDGESERVE_TEST_MODELS;
constexpr char kDouble[] = EDGESERVE_NPU_DOUBLE;
constexpr uint64_t kMemoryLimit = 256ull << 20;

std::string FaultFile() { return ::testing::TempDir() + "/npu_double_fault_" + std::to_string(getpid()); }

// Opens the double once, as the daemon would, with its test settings.
const DeviceInventory& Inventory() {
  static const DeviceInventory* inventory = [] {
    setenv("EDGESERVE_NPU_DOUBLE_MEMORY_LIMIT_BYTES", std::to_string(kMemoryLimit).c_str(), 1);
    setenv("EDGESERVE_NPU_DOUBLE_FAULT_FILE", FaultFile().c_str(), 1);
    absl::StatusOr<DeviceInventory> found = DiscoverDevices(AcceleratorOptions{kDouble, "npu"});
    EXPECT_TRUE(found.ok()) << found.status();
    return new DeviceInventory(found.ok() ? *found : DeviceInventory());
  }();
  return *inventory;
}

uint64_t SynchronizeCount() {
  Inventory();
  void* handle = dlopen(kDouble, RTLD_NOW | RTLD_NOLOAD);
  auto count = reinterpret_cast<unsigned long long (*)()>(dlsym(handle, "edgeserve_npu_double_synchronize_count"));
  return count ? count() : 0;
}

TorchModelSpec SpecFor(const std::string& model, DeviceKind kind) {
  const std::string dir = std::string(kTestModels) + "/" + model;
  absl::StatusOr<repository::ModelConfig> config =
      repository::LoadModelConfig(dir + "/config.yaml", model, repository::ModelConfigLimits());
  EXPECT_TRUE(config.ok()) << config.status();
  TorchModelSpec spec;
  spec.model_file = dir + "/1/model.pt";
  spec.inputs = config->inputs;
  spec.outputs = config->outputs;
  spec.max_batch_size = config->max_batch_size;
  spec.optimization = TorchOptimization::kAuto;
  spec.intra_op_threads = 1;
  spec.device_kind = kind;
  return spec;
}

std::unique_ptr<Executor> Load(const TorchModelSpec& spec) {
  Inventory();
  TorchLoadReport report;
  absl::StatusOr<std::unique_ptr<Executor>> executor = LoadTorchExecutor(spec, &report);
  EXPECT_TRUE(executor.ok()) << executor.status();
  if (!executor.ok()) return nullptr;
  (*executor)->PrepareThread();
  return *std::move(executor);
}

std::vector<float> Floats(const std::string& bytes) {
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

core::TensorView View(core::DataType datatype, core::Shape shape, const std::string& bytes) {
  core::TensorView view;
  view.datatype = datatype;
  view.shape = std::move(shape);
  view.data = bytes;
  return view;
}

TEST(NpuDiscoveryTest, ThePluginsDevicesAreListedWithTheirHooksNames) {
  const DeviceInventory& inventory = Inventory();
  ASSERT_EQ(inventory.IndicesOf(DeviceKind::kNpu).size(), 2u);
  const Device* npu = inventory.Find(DeviceKind::kNpu, 1);
  ASSERT_NE(npu, nullptr);
  EXPECT_EQ(npu->name, "edgeserve NPU test double 1");
  EXPECT_EQ(npu->memory_total_bytes, kMemoryLimit);
  EXPECT_LE(npu->memory_free_bytes, kMemoryLimit);
  EXPECT_EQ(inventory.absent_reasons.count(DeviceKind::kNpu), 0u);
}

// PrivateUse1 has one owner per process: a second library is refused, as an
// absent reason rather than an error. (A plugin that fails to open is tested
// end to end, in a daemon of its own.)
TEST(NpuDiscoveryTest, ASecondPluginIsRefusedAsAnAbsentReason) {
  Inventory();
  absl::StatusOr<DeviceInventory> inventory = DiscoverDevices(AcceleratorOptions{"/opt/other/libnpu.so", "npu"});
  ASSERT_TRUE(inventory.ok());
  EXPECT_TRUE(inventory->IndicesOf(DeviceKind::kNpu).empty());
  EXPECT_THAT(inventory->AbsentReason(DeviceKind::kNpu), HasSubstr("is already loaded in this process"));
}

// A batch of 4 through the classifier on npu:1 and on the CPU.
TEST(NpuExecutorTest, ClassifierOnTheNpuMatchesTheCpuWithOneSynchronisationPerBatch) {
  std::unique_ptr<Executor> cpu = Load(SpecFor("classifier", DeviceKind::kCpu));
  TorchModelSpec npu_spec = SpecFor("classifier", DeviceKind::kNpu);
  npu_spec.device_index = 1;
  std::unique_ptr<Executor> npu = Load(npu_spec);
  ASSERT_NE(cpu, nullptr);
  ASSERT_NE(npu, nullptr);
  EXPECT_EQ(npu->DeviceName(), "npu:1");
  std::vector<float> pixels(4 * 3 * 224 * 224);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = std::sin(static_cast<float>(i) * 0.001f);
  const std::string bytes(reinterpret_cast<const char*>(pixels.data()), pixels.size() * sizeof(float));
  const core::TensorView input = View(core::DataType::kFp32, {4, 3, 224, 224}, bytes);
  core::ExecutionTimings timings;
  absl::StatusOr<std::vector<core::Tensor>> expected = cpu->Execute({&input, 1}, &timings);
  const uint64_t synchronised_before = SynchronizeCount();
  absl::StatusOr<std::vector<core::Tensor>> got = npu->Execute({&input, 1}, &timings);
  EXPECT_EQ(SynchronizeCount() - synchronised_before, 1u);
  ASSERT_TRUE(expected.ok()) << expected.status();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].shape, (*expected)[0].shape);
  const std::vector<float> want = Floats((*expected)[0].data);
  const std::vector<float> have = Floats((*got)[0].data);
  ASSERT_EQ(have.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(have[i], want[i], 1e-3) << i;
}

TEST(NpuExecutorTest, SeveralInputsAndOutputsComeBackBitwise) {
  std::unique_ptr<Executor> npu = Load(SpecFor("add_sub", DeviceKind::kNpu));
  ASSERT_NE(npu, nullptr);
  const std::vector<int32_t> a = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<int32_t> b = {8, 7, 6, 5, 4, 3, 2, 1};
  const std::string a_bytes(reinterpret_cast<const char*>(a.data()), a.size() * 4);
  const std::string b_bytes(reinterpret_cast<const char*>(b.data()), b.size() * 4);
  const std::vector<core::TensorView> inputs = {View(core::DataType::kInt32, {8}, a_bytes),
                                                View(core::DataType::kInt32, {8}, b_bytes)};
  core::ExecutionTimings timings;
  absl::StatusOr<std::vector<core::Tensor>> outputs = npu->Execute(inputs, &timings);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(outputs->size(), 2u);
  std::vector<int32_t> sum(8);
  std::memcpy(sum.data(), (*outputs)[0].data.data(), 32);
  EXPECT_THAT(sum, ::testing::Each(9));
}

TEST(NpuExecutorTest, OutOfMemoryFailsTheBatchWithResourceExhaustedAndTheInstanceRecovers) {
  std::unique_ptr<Executor> npu = Load(SpecFor("identity", DeviceKind::kNpu));
  ASSERT_NE(npu, nullptr);
  const int64_t rows = static_cast<int64_t>(kMemoryLimit / (16 * sizeof(float))) + 1;  // above the limit
  const std::string huge(static_cast<size_t>(rows) * 16 * sizeof(float), '\0');
  const core::TensorView too_big = View(core::DataType::kFp32, {rows, 16}, huge);
  core::ExecutionTimings timings;
  absl::StatusOr<std::vector<core::Tensor>> failed = npu->Execute({&too_big, 1}, &timings);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kResourceExhausted) << failed.status();
  EXPECT_THAT(failed.status().message(), HasSubstr("npu:0 is out of memory for this batch"));
  const std::string small(2 * 16 * sizeof(float), '\0');
  const core::TensorView fits = View(core::DataType::kFp32, {2, 16}, small);
  EXPECT_TRUE(npu->Execute({&fits, 1}, &timings).ok());
  EXPECT_TRUE(npu->CheckHealth().ok());
}

TEST(NpuExecutorTest, ADeviceFaultFailsExecutionAndHealthUntilItClears) {
  std::unique_ptr<Executor> npu = Load(SpecFor("identity", DeviceKind::kNpu));
  ASSERT_NE(npu, nullptr);
  const std::string bytes(16 * sizeof(float), '\0');
  const core::TensorView input = View(core::DataType::kFp32, {1, 16}, bytes);
  core::ExecutionTimings timings;
  std::ofstream(FaultFile()) << "fault";
  absl::StatusOr<std::vector<core::Tensor>> failed = npu->Execute({&input, 1}, &timings);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(failed.status().message(), HasSubstr("injected device fault"));
  EXPECT_THAT(npu->CheckHealth().message(), HasSubstr("injected device fault"));
  std::remove(FaultFile().c_str());
  EXPECT_TRUE(npu->CheckHealth().ok());
  EXPECT_TRUE(npu->Execute({&input, 1}, &timings).ok());
}

TEST(NpuExecutorTest, Bf16OnTheNpuReturnsTheDeclaredFp32) {
  TorchModelSpec spec = SpecFor("classifier", DeviceKind::kNpu);
  spec.precision = Precision::kBf16;
  std::unique_ptr<Executor> npu = Load(spec);
  ASSERT_NE(npu, nullptr);
  const std::string bytes(3 * 224 * 224 * sizeof(float), '\0');
  const core::TensorView input = View(core::DataType::kFp32, {1, 3, 224, 224}, bytes);
  core::ExecutionTimings timings;
  absl::StatusOr<std::vector<core::Tensor>> outputs = npu->Execute({&input, 1}, &timings);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  EXPECT_EQ((*outputs)[0].datatype, core::DataType::kFp32);
  EXPECT_EQ((*outputs)[0].data.size(), 1000 * sizeof(float));
}

}  // namespace
}  // namespace edgeserve::hal
