#include "edgeserve/server/model_config_response.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgeserve::server {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

repository::ModelConfig ClassifierConfig() {
  repository::ModelConfig config;
  config.name = "classifier";
  config.max_batch_size = 8;
  config.inputs = {{"images", core::DataType::kFp32, {3, 224, 224}}};
  config.outputs = {{"logits", core::DataType::kFp32, {1000}}, {"labels", core::DataType::kBytes, {-1}}};
  config.batching.mode = scheduler::BatchingMode::kSlo;
  config.batching.max_batch_size = 4;
  config.batching.latency_target = std::chrono::microseconds(17430);
  config.batching.max_queue_size = 100;
  return config;
}

std::map<std::string, std::string> Parameters(const inference::ModelConfig& message) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : message.parameters()) out[key] = value.string_value();
  return out;
}

TEST(ModelConfigResponseTest, TensorsKeepTheirDimsWithoutTheBatchDimension) {
  inference::ModelConfig message;
  FillModelConfig(ClassifierConfig(), &message);
  EXPECT_EQ(message.name(), "classifier");
  EXPECT_EQ(message.platform(), "torchscript");
  EXPECT_EQ(message.max_batch_size(), 8);
  EXPECT_EQ(message.default_model_filename(), "model.pt");
  EXPECT_EQ(message.version_policy().latest().num_versions(), 1u);
  ASSERT_EQ(message.input_size(), 1);
  EXPECT_EQ(message.input(0).name(), "images");
  EXPECT_EQ(message.input(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(message.input(0).dims(), ElementsAre(3, 224, 224));
  ASSERT_EQ(message.output_size(), 2);
  EXPECT_EQ(message.output(0).name(), "logits");
  EXPECT_THAT(message.output(0).dims(), ElementsAre(1000));
  EXPECT_EQ(message.output(1).data_type(), inference::TYPE_STRING);
  EXPECT_THAT(message.output(1).dims(), ElementsAre(-1));
}

TEST(ModelConfigResponseTest, EveryDatatypeHasTritonsName) {
  EXPECT_EQ(ToTritonDataType(core::DataType::kBool), inference::TYPE_BOOL);
  EXPECT_EQ(ToTritonDataType(core::DataType::kUint8), inference::TYPE_UINT8);
  EXPECT_EQ(ToTritonDataType(core::DataType::kInt8), inference::TYPE_INT8);
  EXPECT_EQ(ToTritonDataType(core::DataType::kInt16), inference::TYPE_INT16);
  EXPECT_EQ(ToTritonDataType(core::DataType::kInt32), inference::TYPE_INT32);
  EXPECT_EQ(ToTritonDataType(core::DataType::kInt64), inference::TYPE_INT64);
  EXPECT_EQ(ToTritonDataType(core::DataType::kFp16), inference::TYPE_FP16);
  EXPECT_EQ(ToTritonDataType(core::DataType::kFp32), inference::TYPE_FP32);
  EXPECT_EQ(ToTritonDataType(core::DataType::kFp64), inference::TYPE_FP64);
  EXPECT_EQ(ToTritonDataType(core::DataType::kBytes), inference::TYPE_STRING);
}

TEST(ModelConfigResponseTest, ModeSloBatchesDynamicallyWithTheLatencyTargetAsDefaultTimeout) {
  inference::ModelConfig message;
  FillModelConfig(ClassifierConfig(), &message);
  ASSERT_TRUE(message.has_dynamic_batching());
  const inference::ModelDynamicBatching& batching = message.dynamic_batching();
  EXPECT_THAT(batching.preferred_batch_size(), IsEmpty());
  EXPECT_EQ(batching.max_queue_delay_microseconds(), 0u);
  EXPECT_EQ(batching.priority_levels(), 1u);
  EXPECT_EQ(batching.default_priority_level(), 1u);
  EXPECT_EQ(batching.default_queue_policy().timeout_action(), inference::ModelQueuePolicy::REJECT);
  EXPECT_EQ(batching.default_queue_policy().default_timeout_microseconds(), 17430u);
  EXPECT_TRUE(batching.default_queue_policy().allow_timeout_override());
  EXPECT_EQ(batching.default_queue_policy().max_queue_size(), 100u);
  EXPECT_THAT(Parameters(message),
              UnorderedElementsAre(Pair("batching.mode", "slo"), Pair("batching.max_batch_size", "4"),
                                   Pair("batching.latency_target_ms", "17.43"), Pair("optimization", "auto"),
                                   Pair("precision", "fp32"), Pair("placement", "cuda,npu,cpu")));
}

TEST(ModelConfigResponseTest, FixedDelayReportsTritonsKnobs) {
  repository::ModelConfig config = ClassifierConfig();
  config.batching.mode = scheduler::BatchingMode::kFixedDelay;
  config.batching.latency_target = std::chrono::microseconds(0);
  config.batching.preferred_batch_sizes = {2, 4};
  config.batching.max_queue_delay = std::chrono::microseconds(500);
  config.batching.priority_levels = 3;
  config.batching.default_priority = 2;
  config.batching.default_timeout = std::chrono::microseconds(20000);
  config.batching.timeout_action = scheduler::TimeoutAction::kDelay;
  inference::ModelConfig message;
  FillModelConfig(config, &message);
  const inference::ModelDynamicBatching& batching = message.dynamic_batching();
  EXPECT_THAT(batching.preferred_batch_size(), ElementsAre(2, 4));
  EXPECT_EQ(batching.max_queue_delay_microseconds(), 500u);
  EXPECT_EQ(batching.priority_levels(), 3u);
  EXPECT_EQ(batching.default_priority_level(), 2u);
  EXPECT_EQ(batching.default_queue_policy().timeout_action(), inference::ModelQueuePolicy::DELAY);
  EXPECT_EQ(batching.default_queue_policy().default_timeout_microseconds(), 20000u);
  EXPECT_EQ(Parameters(message).at("batching.mode"), "fixed_delay");
  EXPECT_EQ(Parameters(message).count("batching.latency_target_ms"), 0u);
}

TEST(ModelConfigResponseTest, ModeNoneHasNoDynamicBatching) {
  repository::ModelConfig config = ClassifierConfig();
  config.batching.mode = scheduler::BatchingMode::kNone;
  inference::ModelConfig message;
  FillModelConfig(config, &message);
  EXPECT_FALSE(message.has_dynamic_batching());
  EXPECT_EQ(Parameters(message).at("batching.mode"), "none");
}

TEST(ModelConfigResponseTest, PaddedInputsAreListedByName) {
  repository::ModelConfig config = ClassifierConfig();
  inference::ModelConfig message;
  FillModelConfig(config, &message);
  EXPECT_EQ(Parameters(message).count("batching.padded_inputs"), 0u);
  config.inputs.push_back({"mask", core::DataType::kBool, {-1}});
  config.inputs.push_back({"tokens", core::DataType::kInt64, {-1}});
  config.batching.pad_elements = {"", std::string(1, '\0'), std::string(8, '\0')};
  message.Clear();
  FillModelConfig(config, &message);
  EXPECT_EQ(Parameters(message).at("batching.padded_inputs"), "mask,tokens");
}

TEST(ModelConfigResponseTest, InstanceGroupsMapToTritonsKinds) {
  repository::ModelConfig config = ClassifierConfig();
  repository::InstanceGroup automatic;
  automatic.count = 1;  // as the load settles it
  repository::InstanceGroup cpu;
  cpu.kind = hal::DeviceKind::kCpu;
  cpu.count = 2;
  repository::InstanceGroup cuda;
  cuda.kind = hal::DeviceKind::kCuda;
  cuda.devices = {0, 1};
  repository::InstanceGroup npu;
  npu.kind = hal::DeviceKind::kNpu;
  config.instance_groups = {automatic, cpu, cuda, npu};
  config.placement = {hal::DeviceKind::kNpu, hal::DeviceKind::kCpu};
  inference::ModelConfig message;
  FillModelConfig(config, &message);
  ASSERT_EQ(message.instance_group_size(), 4);
  EXPECT_EQ(message.instance_group(0).name(), "classifier_0");
  EXPECT_EQ(message.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_AUTO);
  EXPECT_EQ(message.instance_group(0).count(), 1);
  EXPECT_EQ(message.instance_group(1).name(), "classifier_1");
  EXPECT_EQ(message.instance_group(1).kind(), inference::ModelInstanceGroup::KIND_CPU);
  EXPECT_EQ(message.instance_group(1).count(), 2);
  EXPECT_EQ(message.instance_group(2).kind(), inference::ModelInstanceGroup::KIND_GPU);
  EXPECT_THAT(message.instance_group(2).gpus(), ElementsAre(0, 1));
  EXPECT_EQ(message.instance_group(3).kind(), inference::ModelInstanceGroup::KIND_MODEL);
  EXPECT_EQ(message.instance_group(3).host_policy(), "npu");
  EXPECT_EQ(Parameters(message).at("placement"), "npu,cpu");
}

}  // namespace
}  // namespace edgeserve::server
