#include "edgeserve/repository/model_config.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util/temp_dir.h"

namespace edgeserve::repository {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kValidConfig[] = R"(
name: resnet
platform: torchscript
max_batch_size: 8
inputs:
  - {name: images, datatype: FP32, shape: [3, 224, 224]}
  - name: mask
    datatype: BOOL
    shape: [-1]
outputs:
  - {name: logits, datatype: FP32, shape: [1000]}
  - {name: index, datatype: INT64, shape: []}
optimization: none
)";

// Writes `config` as <scratch>/<model>/config.yaml, as a repository holds it.
class ModelConfigTest : public ::testing::Test {
 protected:
  absl::StatusOr<ModelConfig> Load(const std::string& config, const std::string& model = "resnet",
                                   ModelConfigLimits limits = ModelConfigLimits()) {
    file_ = dir_.WriteFile(model + "/config.yaml", config);
    return LoadModelConfig(file_, model, limits);
  }

  // The message of a failed load, which must be INVALID_ARGUMENT.
  std::string LoadError(const std::string& config, const std::string& model = "resnet",
                        ModelConfigLimits limits = ModelConfigLimits()) {
    absl::StatusOr<ModelConfig> loaded = Load(config, model, limits);
    if (loaded.ok()) return "<loaded without error>";
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument) << loaded.status();
    return std::string(loaded.status().message());
  }

  // A valid config with one line replaced.
  static std::string Replace(const std::string& from, const std::string& to) {
    std::string config = kValidConfig;
    const size_t at = config.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) config.replace(at, from.size(), to);
    return config;
  }

  test_util::ScratchDir dir_;
  // Where Load() writes the config: set here for the default model name, so
  // that expectations may build it before or after the load runs.
  std::string file_ = dir_.path() + "/resnet/config.yaml";
};

TEST_F(ModelConfigTest, ValidConfigParsesEveryField) {
  absl::StatusOr<ModelConfig> config = Load(kValidConfig);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name, "resnet");
  EXPECT_EQ(config->platform, "torchscript");
  EXPECT_EQ(config->max_batch_size, 8);
  ASSERT_EQ(config->inputs.size(), 2u);
  EXPECT_EQ(config->inputs[0].name, "images");
  EXPECT_EQ(config->inputs[0].datatype, core::DataType::kFp32);
  EXPECT_THAT(config->inputs[0].shape, ElementsAre(3, 224, 224));
  EXPECT_EQ(config->inputs[1].name, "mask");
  EXPECT_EQ(config->inputs[1].datatype, core::DataType::kBool);
  EXPECT_THAT(config->inputs[1].shape, ElementsAre(-1));
  ASSERT_EQ(config->outputs.size(), 2u);
  EXPECT_EQ(config->outputs[0].name, "logits");
  EXPECT_THAT(config->outputs[0].shape, ElementsAre(1000));
  EXPECT_EQ(config->outputs[1].name, "index");
  EXPECT_EQ(config->outputs[1].datatype, core::DataType::kInt64);
  EXPECT_TRUE(config->outputs[1].shape.empty());
  EXPECT_EQ(config->optimization, Optimization::kNone);
}

TEST_F(ModelConfigTest, NameMayBeLeftOutAndDefaultsApply) {
  absl::StatusOr<ModelConfig> config = Load(
      "platform: torchscript\n"
      "inputs: [{name: x, datatype: INT32, shape: [2]}]\n"
      "outputs: [{name: y, datatype: FP64, shape: [2]}]\n",
      "folder_name");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name, "folder_name");
  EXPECT_EQ(config->max_batch_size, 0);
  EXPECT_EQ(config->optimization, Optimization::kAuto);
}

TEST_F(ModelConfigTest, MissingFileIsNotFound) {
  const std::string file = dir_.path() + "/none/config.yaml";
  absl::StatusOr<ModelConfig> config = LoadModelConfig(file, "none", ModelConfigLimits());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr(file));
}

TEST_F(ModelConfigTest, MalformedYamlNamesTheFile) {
  absl::StatusOr<ModelConfig> config = Load("platform: [torchscript\n");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr(file_ + ": not valid YAML"));
}

TEST_F(ModelConfigTest, MissingPlatform) {
  const std::string error = LoadError(Replace("platform: torchscript\n", ""));
  EXPECT_EQ(error, file_ + ": platform: required: torchscript");
}

TEST_F(ModelConfigTest, UnknownPlatform) {
  const std::string error = LoadError(Replace("platform: torchscript", "platform: onnx"));
  EXPECT_EQ(error, file_ + ": platform: must be one of torchscript, got 'onnx'");
}

TEST_F(ModelConfigTest, UnknownDatatype) {
  const std::string error = LoadError(Replace("datatype: BOOL", "datatype: FLOAT"));
  EXPECT_EQ(error, file_ +
                       ": inputs[1].datatype: unknown datatype 'FLOAT'; expected one of BOOL, UINT8, INT8, INT16, "
                       "INT32, INT64, FP16, FP32, FP64, BYTES");
}

TEST_F(ModelConfigTest, MissingDatatype) {
  const std::string error = LoadError(Replace("{name: logits, datatype: FP32, shape: [1000]}",
                                              "{name: logits, shape: [1000]}"));
  EXPECT_EQ(error, file_ + ": outputs[0].datatype: required: one of BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, "
                           "FP32, FP64, BYTES");
}

TEST_F(ModelConfigTest, BytesIsRejected) {
  const std::string error = LoadError(Replace("datatype: INT64", "datatype: BYTES"));
  EXPECT_EQ(error, file_ + ": outputs[1].datatype: BYTES tensors are not supported by the torchscript platform");
}

TEST_F(ModelConfigTest, ZeroDimensionIsRejected) {
  const std::string error = LoadError(Replace("shape: [3, 224, 224]", "shape: [3, 0, 224]"));
  EXPECT_EQ(error, file_ + ": inputs[0].shape: dimensions must be positive or -1 (any size), got 0");
}

// The warm-up allocates one item of each input: a declared 4 TB input took
// the daemon down with the kernel's out-of-memory kill.
TEST_F(ModelConfigTest, AnInputNoRequestCouldCarryIsRejected) {
  EXPECT_THAT(LoadError(Replace("shape: [3, 224, 224]", "shape: [100000, 100000, 100]")),
              HasSubstr("inputs[0].shape: one item of shape [100000,100000,100] takes more than 67108864 bytes, the "
                        "daemon's server.max_message_bytes: no request could carry it"));
  EXPECT_THAT(LoadError(Replace("shape: [3, 224, 224]", "shape: [4611686018427387904, 4]")),
              HasSubstr("inputs[0].shape: one item of shape"));
  ModelConfigLimits small;
  small.max_message_bytes = 3 * 224 * 224 * 4;  // exactly one image fits
  EXPECT_TRUE(Load(kValidConfig, "resnet", small).ok());
  small.max_message_bytes -= 1;
  EXPECT_THAT(LoadError(kValidConfig, "resnet", small), HasSubstr("inputs[0].shape"));
}

TEST_F(ModelConfigTest, NegativeDimensionOtherThanMinusOneIsRejected) {
  const std::string error = LoadError(Replace("shape: [1000]", "shape: [-2]"));
  EXPECT_EQ(error, file_ + ": outputs[0].shape: dimensions must be positive or -1 (any size), got -2");
}

TEST_F(ModelConfigTest, ShapeThatIsNotAListOfIntegers) {
  const std::string error = LoadError(Replace("shape: [1000]", "shape: [10, x]"));
  EXPECT_EQ(error, file_ + ": outputs[0].shape: expected a list of integers such as [3, 224, 224]");
}

TEST_F(ModelConfigTest, MissingShapeAndName) {
  const std::string error =
      LoadError(Replace("{name: logits, datatype: FP32, shape: [1000]}", "{datatype: FP32}"));
  EXPECT_EQ(error, file_ + ": outputs[0].name: required and must not be empty\n" + file_ +
                       ": outputs[0].shape: required, for example [3, 224, 224]");
}

TEST_F(ModelConfigTest, DuplicateTensorNames) {
  const std::string error = LoadError(Replace("name: mask", "name: images"));
  EXPECT_EQ(error, file_ + ": inputs[1].name: 'images' is used twice in inputs");
}

TEST_F(ModelConfigTest, InputAndOutputMayShareAName) {
  absl::StatusOr<ModelConfig> config = Load(Replace("name: logits", "name: images"));
  EXPECT_TRUE(config.ok()) << config.status();
}

TEST_F(ModelConfigTest, NameDifferingFromTheFolder) {
  const std::string error = LoadError(kValidConfig, "resnet50");
  EXPECT_EQ(error, file_ + ": name: 'resnet' differs from the model's folder name 'resnet50'");
}

TEST_F(ModelConfigTest, MaxBatchSizeAboveTheLimit) {
  EXPECT_EQ(LoadError(Replace("max_batch_size: 8", "max_batch_size: 65")),
            file_ + ": max_batch_size: must be between 0 and 64, got 65");
  EXPECT_TRUE(Load(Replace("max_batch_size: 8", "max_batch_size: 64")).ok());
  ModelConfigLimits tight;
  tight.max_batch_size = 4;
  EXPECT_EQ(LoadError(kValidConfig, "resnet", tight), file_ + ": max_batch_size: must be between 0 and 4, got 8");
  EXPECT_EQ(LoadError(Replace("max_batch_size: 8", "max_batch_size: -1")),
            file_ + ": max_batch_size: must be between 0 and 64, got -1");
}

TEST_F(ModelConfigTest, UnknownKeys) {
  EXPECT_EQ(LoadError(std::string(kValidConfig) + "colour: blue\n"), file_ + ": colour: unknown key");
  EXPECT_EQ(LoadError(Replace("shape: [1000]", "shape: [1000], dims: [2]")), file_ + ": outputs[0].dims: unknown key");
}

TEST_F(ModelConfigTest, OptimizationChoices) {
  const std::vector<std::pair<std::string, Optimization>> choices = {
      {"auto", Optimization::kAuto}, {"optimize", Optimization::kOptimize}, {"none", Optimization::kNone}};
  for (const auto& [name, expected] : choices) {
    absl::StatusOr<ModelConfig> config = Load(Replace("optimization: none", "optimization: " + name));
    ASSERT_TRUE(config.ok()) << name << ": " << config.status();
    EXPECT_EQ(config->optimization, expected) << name;
    EXPECT_EQ(OptimizationName(expected), name);
  }
  absl::StatusOr<ModelConfig> absent = Load(Replace("optimization: none\n", ""));
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_EQ(absent->optimization, Optimization::kAuto);
  EXPECT_EQ(LoadError(Replace("optimization: none", "optimization: fast")),
            file_ + ": optimization: must be one of auto, optimize, none, got 'fast'");
}

TEST_F(ModelConfigTest, MissingInputsAndEmptyOutputs) {
  std::string config = Replace("outputs:\n  - {name: logits, datatype: FP32, shape: [1000]}\n"
                               "  - {name: index, datatype: INT64, shape: []}\n",
                               "outputs: []\n");
  const size_t inputs = config.find("inputs:");
  const size_t outputs = config.find("outputs:");
  config.erase(inputs, outputs - inputs);
  EXPECT_EQ(LoadError(config), file_ + ": inputs: required: list each tensor as {name, datatype, shape}\n" + file_ +
                                   ": outputs: must list at least one tensor");
}

TEST_F(ModelConfigTest, TensorsThatAreNotAList) {
  EXPECT_EQ(LoadError(Replace("outputs:\n  - {name: logits, datatype: FP32, shape: [1000]}\n"
                              "  - {name: index, datatype: INT64, shape: []}\n",
                              "outputs: {name: logits}\n")),
            file_ + ": outputs: expected a list\n" + file_ + ": outputs: must list at least one tensor");
}

// `outputs:` with nothing after it is a missing list, and the message should
// say so once. ReadTensors() returns before it asks the reader for the key, so
// Finish() also reports the key it never asked about as "unknown".
TEST_F(ModelConfigTest, EmptyTensorKeyIsReportedAsRequiredNotUnknown) {
  std::string config = Replace("outputs:\n  - {name: logits, datatype: FP32, shape: [1000]}\n"
                               "  - {name: index, datatype: INT64, shape: []}\n",
                               "outputs:\n");
  const std::string error = LoadError(config);
  EXPECT_THAT(error, HasSubstr(file_ + ": outputs: required"));
  EXPECT_THAT(error, Not(HasSubstr("unknown key")));
}

// A key that is a YAML collection must be an error naming the file, not an
// exception thrown out of LoadModelConfig (which would stop the daemon).
TEST_F(ModelConfigTest, NonScalarKeyIsAnErrorNotAnException) {
  absl::StatusOr<ModelConfig> config = absl::UnknownError("not run");
  EXPECT_NO_THROW(config = Load(std::string(kValidConfig) + "[a, b]: 1\n"));
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr(file_));
}

TEST_F(ModelConfigTest, EveryProblemIsReportedAtOnce) {
  const std::string error = LoadError(
      "name: other\n"
      "platform: onnx\n"
      "max_batch_size: 100\n"
      "inputs:\n"
      "  - {name: a, datatype: BYTES, shape: [0]}\n"
      "outputs:\n"
      "  - {name: b, datatype: FP32, shape: [1], typo: 1}\n"
      "extra: 1\n");
  EXPECT_THAT(error, HasSubstr(file_ + ": name: 'other' differs"));
  EXPECT_THAT(error, HasSubstr(file_ + ": platform: must be one of torchscript"));
  EXPECT_THAT(error, HasSubstr(file_ + ": max_batch_size: must be between 0 and 64, got 100"));
  EXPECT_THAT(error, HasSubstr(file_ + ": inputs[0].datatype: BYTES"));
  EXPECT_THAT(error, HasSubstr(file_ + ": inputs[0].shape: dimensions must be positive"));
  EXPECT_THAT(error, HasSubstr(file_ + ": outputs[0].typo: unknown key"));
  EXPECT_THAT(error, HasSubstr(file_ + ": extra: unknown key"));
}

TEST(ClientShapeTest, PrependsAnyBatchOnlyForBatchingModels) {
  ModelConfig config;
  core::TensorSpec spec;
  spec.shape = {3, -1};
  config.max_batch_size = 0;
  EXPECT_THAT(ClientShape(config, spec), ElementsAre(3, -1));
  config.max_batch_size = 1;
  EXPECT_THAT(ClientShape(config, spec), ElementsAre(-1, 3, -1));
  config.max_batch_size = 64;
  EXPECT_THAT(ClientShape(config, spec), ElementsAre(-1, 3, -1));
  spec.shape = {};
  EXPECT_THAT(ClientShape(config, spec), ElementsAre(-1));
  config.max_batch_size = 0;
  EXPECT_TRUE(ClientShape(config, spec).empty());
}

}  // namespace
}  // namespace edgeserve::repository

namespace edgeserve::repository {
namespace {

class InstanceGroupsTest : public ModelConfigTest {};

TEST_F(InstanceGroupsTest, DefaultIsOneAutoGroupWithTheDaemonsThreadsAndNoCountPreferringCudaThenNpuThenCpu) {
  absl::StatusOr<ModelConfig> config = Load(kValidConfig);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->instance_groups.size(), 1u);
  EXPECT_FALSE(config->instance_groups[0].kind.has_value());
  EXPECT_THAT(config->placement, ElementsAre(hal::DeviceKind::kCuda, hal::DeviceKind::kNpu, hal::DeviceKind::kCpu));
  EXPECT_FALSE(config->placement_configured);
  EXPECT_EQ(config->precision, hal::Precision::kFp32);
  EXPECT_EQ(config->instance_groups[0].count, 0);  // settled at load: fill the cores, or one per device
  EXPECT_EQ(config->instance_groups[0].threads, 0);
}

TEST_F(InstanceGroupsTest, GroupsAreReadInOrder) {
  absl::StatusOr<ModelConfig> config = Load(std::string(kValidConfig) +
                                            "instance_groups:\n"
                                            "  - {kind: CPU, count: 2, threads: 1}\n"
                                            "  - {count: 1, threads: 2}\n");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->instance_groups.size(), 2u);
  EXPECT_EQ(config->instance_groups[0].count, 2);
  EXPECT_EQ(config->instance_groups[0].threads, 1);
  EXPECT_EQ(config->instance_groups[0].kind, hal::DeviceKind::kCpu);
  EXPECT_FALSE(config->instance_groups[1].kind.has_value());
  EXPECT_EQ(config->instance_groups[1].threads, 2);
}

TEST_F(InstanceGroupsTest, AcceleratorGroupsNameTheirDevicesAndThePlacementOrdersKinds) {
  absl::StatusOr<ModelConfig> config = Load(std::string(kValidConfig) +
                                            "instance_groups:\n"
                                            "  - {kind: CUDA, count: 2, devices: [0, 1]}\n"
                                            "  - {kind: NPU}\n"
                                            "  - {kind: AUTO}\n"
                                            "placement: [npu, CPU]\n"
                                            "precision: bf16\n");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->instance_groups.size(), 3u);
  EXPECT_EQ(config->instance_groups[0].kind, hal::DeviceKind::kCuda);
  EXPECT_THAT(config->instance_groups[0].devices, ElementsAre(0, 1));
  EXPECT_EQ(config->instance_groups[1].kind, hal::DeviceKind::kNpu);
  EXPECT_TRUE(config->instance_groups[1].devices.empty());
  EXPECT_FALSE(config->instance_groups[2].kind.has_value());
  EXPECT_THAT(config->placement, ElementsAre(hal::DeviceKind::kNpu, hal::DeviceKind::kCpu));
  EXPECT_TRUE(config->placement_configured);
  EXPECT_EQ(config->precision, hal::Precision::kBf16);
}

TEST_F(InstanceGroupsTest, BadPlacementAndPrecisionNameTheKey) {
  EXPECT_THAT(LoadError(std::string(kValidConfig) + "placement: [tpu, cpu]\n"),
              HasSubstr("placement: unknown device kind 'tpu'; expected cuda, npu or cpu"));
  EXPECT_THAT(LoadError(std::string(kValidConfig) + "placement: [cpu, CPU]\n"),
              HasSubstr("placement: 'CPU' is listed twice"));
  EXPECT_THAT(LoadError(std::string(kValidConfig) + "placement: []\n"),
              HasSubstr("placement: must list at least one device kind"));
  EXPECT_THAT(LoadError(std::string(kValidConfig) + "placement: cpu\n"),
              HasSubstr("placement: expected a list of strings"));
  EXPECT_THAT(LoadError(std::string(kValidConfig) + "precision: int8\n"),
              HasSubstr("precision: must be one of fp32, fp16, bf16, got 'int8'"));
  EXPECT_THAT(LoadError(std::string(kValidConfig) + "instance_groups:\n  - {kind: CPU, devices: [0]}\n"),
              HasSubstr("instance_groups[0].devices: applies to CUDA and NPU groups only, not to kind CPU"));
  EXPECT_THAT(LoadError(std::string(kValidConfig) + "instance_groups:\n  - {kind: CUDA, devices: [-1]}\n"),
              HasSubstr("instance_groups[0].devices: device indices are 0 or more, got -1"));
}

TEST_F(InstanceGroupsTest, BadGroupsNameTheKey) {
  EXPECT_THAT(LoadError(std::string(kValidConfig) + "instance_groups:\n  - {kind: GPU}\n"),
              HasSubstr("instance_groups[0].kind: must be one of AUTO, CPU, CUDA, NPU, got 'GPU'"));
  EXPECT_THAT(LoadError(std::string(kValidConfig) + "instance_groups:\n  - {count: 0}\n"),
              HasSubstr("instance_groups[0].count: must be between 1 and 64, got 0"));
  EXPECT_THAT(LoadError(std::string(kValidConfig) + "instance_groups:\n  - {count: 1}\n  - {threads: -1}\n"),
              HasSubstr("instance_groups[1].threads: must be between 0 and 1024, got -1"));
  EXPECT_THAT(LoadError(std::string(kValidConfig) + "instance_groups:\n  - {count: 1, cores: 2}\n"),
              HasSubstr("instance_groups[0].cores: unknown key"));
  EXPECT_THAT(LoadError(std::string(kValidConfig) + "instance_groups: []\n"),
              HasSubstr("instance_groups: must list at least one group"));
}

TEST_F(ModelConfigTest, BatchingDefaultsToSloWithoutATargetAtTheModelsBatchLimit) {
  absl::StatusOr<ModelConfig> config = Load(kValidConfig, "resnet", ModelConfigLimits{64, 300});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->batching.mode, scheduler::BatchingMode::kSlo);
  EXPECT_EQ(config->batching.max_batch_size, 8);
  EXPECT_EQ(config->batching.latency_target.count(), 0);
  EXPECT_EQ(config->batching.max_queue_size, 300u);
  EXPECT_EQ(config->batching.priority_levels, 1);
}

TEST_F(ModelConfigTest, BatchingSectionParsesEveryField) {
  absl::StatusOr<ModelConfig> config = Load(std::string(kValidConfig) + R"(batching:
  mode: fixed_delay
  max_batch_size: 4
  preferred_batch_sizes: [2, 4]
  latency_target_ms: 8.5
  max_queue_delay_us: 1500
  max_queue_size: 64
  priority_levels: 3
  default_priority: 3
  default_timeout_us: 250000
  timeout_action: delay
)");
  ASSERT_TRUE(config.ok()) << config.status();
  const scheduler::BatchingConfig& batching = config->batching;
  EXPECT_EQ(batching.mode, scheduler::BatchingMode::kFixedDelay);
  EXPECT_EQ(batching.max_batch_size, 4);
  EXPECT_THAT(batching.preferred_batch_sizes, ::testing::ElementsAre(2, 4));
  EXPECT_EQ(batching.latency_target.count(), 8500);
  EXPECT_EQ(batching.max_queue_delay.count(), 1500);
  EXPECT_EQ(batching.max_queue_size, 64u);
  EXPECT_EQ(batching.priority_levels, 3);
  EXPECT_EQ(batching.default_priority, 3);
  EXPECT_EQ(batching.default_timeout.count(), 250000);
  EXPECT_EQ(batching.timeout_action, scheduler::TimeoutAction::kDelay);
}

TEST_F(ModelConfigTest, BatchingErrorsNameTheirKeys) {
  const std::string base = kValidConfig;
  EXPECT_THAT(LoadError(base + "batching: {mode: adaptive}\n"), ::testing::HasSubstr("batching.mode"));
  EXPECT_THAT(LoadError(base + "batching: {max_batch_size: 9}\n"),
              ::testing::HasSubstr("batching.max_batch_size: 9 is above the model's max_batch_size (8)"));
  EXPECT_THAT(LoadError(base + "batching: {preferred_batch_sizes: [16]}\n"),
              ::testing::HasSubstr("batching.preferred_batch_sizes"));
  EXPECT_THAT(LoadError(base + "batching: {latency_target_ms: fast}\n"),
              ::testing::HasSubstr("batching.latency_target_ms: expected a number"));
  EXPECT_THAT(LoadError(base + "batching: {max_queue_size: 5000}\n"), ::testing::HasSubstr("batching.max_queue_size"));
  EXPECT_THAT(LoadError(base + "batching: {priority_levels: 2, default_priority: 3}\n"),
              ::testing::HasSubstr("batching.default_priority: 3 is above priority_levels (2)"));
  EXPECT_THAT(LoadError(base + "batching: {timeout_action: drop}\n"), ::testing::HasSubstr("batching.timeout_action"));
  EXPECT_THAT(LoadError(base + "batching: {max_delay: 5}\n"), ::testing::HasSubstr("batching.max_delay"));
}

constexpr char kPaddedConfig[] = R"(
platform: torchscript
max_batch_size: 8
inputs:
  - {name: tokens, datatype: INT64, shape: [-1], pad_value: 0}
  - {name: mask, datatype: FP16, shape: [2, -1], pad_value: -2}
  - {name: scale, datatype: FP32, shape: [1]}
outputs:
  - {name: logits, datatype: FP32, shape: [3]}
)";

TEST_F(ModelConfigTest, PadValuesBecomeTheElementsThatPadEachInput) {
  absl::StatusOr<ModelConfig> config = Load(kPaddedConfig);
  ASSERT_TRUE(config.ok()) << config.status();
  const std::vector<std::string>& pad = config->batching.pad_elements;
  ASSERT_EQ(pad.size(), 3u);
  EXPECT_EQ(pad[0], std::string(8, '\0'));
  EXPECT_EQ(pad[1], std::string("\x00\xc0", 2));  // FP16 -2
  EXPECT_EQ(pad[2], "");
  EXPECT_TRUE(Load(kValidConfig)->batching.pad_elements.empty());
}

TEST_F(ModelConfigTest, PadValueErrorsNameTheKey) {
  const std::string padded = kPaddedConfig;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string config = padded;
    config.replace(config.find(from), from.size(), to);
    return config;
  };
  EXPECT_THAT(LoadError(with("max_batch_size: 8", "max_batch_size: 0")),
              HasSubstr("inputs[0].pad_value: padding lets requests of different sizes share a batch, so it needs "
                        "max_batch_size above 0"));
  EXPECT_THAT(LoadError(with("shape: [1]}", "shape: [1], pad_value: 0}")),
              HasSubstr("inputs[2].pad_value: only a dimension declared -1 varies between requests, and shape [1] "
                        "has none"));
  EXPECT_THAT(LoadError(with("pad_value: 0}", "pad_value: 0.5}")),
              HasSubstr("inputs[0].pad_value: 0.5 is not a INT64"));
  EXPECT_THAT(LoadError(with("pad_value: 0}", "pad_value: zero}")),
              HasSubstr("inputs[0].pad_value: expected a number"));
  EXPECT_THAT(LoadError(with("shape: [3]}", "shape: [-1]}")),
              HasSubstr("outputs[0].shape: a -1 dimension cannot be cut back to each request's own size after "
                        "padding (inputs[0].pad_value)"));
  EXPECT_THAT(LoadError(with("shape: [3]}", "shape: [3], pad_value: 0}")),
              HasSubstr("outputs[0].pad_value: unknown key"));
}

}  // namespace
}  // namespace edgeserve::repository
