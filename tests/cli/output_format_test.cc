#include "output_format.h"

#include <cstdint>
#include <numeric>
#include <vector>

#include "cli_test_util.h"
#include "gtest/gtest.h"

namespace edgeserve::cli {
namespace {

TEST(CliFormatDevicesTest, OneRowPerDeviceWithMemoryInGiB) {
  edgeserve::DeviceListResponse devices;
  auto* cpu = devices.add_devices();
  cpu->set_kind("CPU");
  cpu->set_name("AMD EPYC (2 cores)");
  cpu->set_memory_total_bytes(uint64_t{24} << 30);
  cpu->set_memory_free_bytes(uint64_t{12} << 29);
  cpu->add_capabilities("fp32");
  cpu->add_capabilities("int8");
  EXPECT_EQ(FormatDevices(devices),
            "DEVICE  NAME                MEMORY    FREE     PRECISIONS\n"
            "CPU:0   AMD EPYC (2 cores)  24.0 GiB  6.0 GiB  fp32, int8\n");
  EXPECT_EQ(FormatDevices(edgeserve::DeviceListResponse()), "no devices\n");
}

TEST(CliFormatTensorTest, PrintsValuesAndFirstRowOfAClassifier) {
  core::Tensor logits{core::DataType::kFp32, {2, 3}, Bytes<float>({0.5f, -1.0f, 2.25f, 3, 4, 5})};
  EXPECT_EQ(FormatTensor("logits", logits),
            "output logits: FP32 [2, 3]\n"
            "  values: [0.5, -1, 2.25, 3, 4, 5] (6 elements)\n"
            "  first row: min -1 max 2.25 argmax 2\n");
}

TEST(CliFormatTensorTest, TruncatesAfterSixteenElements) {
  std::vector<int32_t> values(100);
  std::iota(values.begin(), values.end(), 0);
  core::Tensor tensor{core::DataType::kInt32, {100}, Bytes(values)};
  EXPECT_EQ(
      FormatTensor("ids", tensor),
      "output ids: INT32 [100]\n"
      "  values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, ...] (100 elements)\n");
}

TEST(CliFormatTensorTest, NoRowStatisticsForIntegersOrOtherRanks) {
  core::Tensor integers{core::DataType::kInt64, {1, 2}, Bytes<int64_t>({3, 4})};
  EXPECT_FALSE(Contains(FormatTensor("a", integers), "first row"));
  core::Tensor three_d{core::DataType::kFp32, {1, 1, 2}, Bytes<float>({3, 4})};
  EXPECT_FALSE(Contains(FormatTensor("b", three_d), "first row"));
  core::Tensor empty{core::DataType::kFp32, {0, 5}, ""};
  EXPECT_EQ(FormatTensor("c", empty), "output c: FP32 [0, 5]\n  values: [] (0 elements)\n");
}

TEST(CliFormatTensorTest, RowStatisticsForDoubleAndHalf) {
  core::Tensor doubles{core::DataType::kFp64, {1, 3}, Bytes<double>({-0.25, 7.5, 1})};
  EXPECT_TRUE(Contains(FormatTensor("d", doubles), "first row: min -0.25 max 7.5 argmax 1\n"));
  // Ties go to the first index, as with numpy.argmax.
  core::Tensor ties{core::DataType::kFp32, {1, 3}, Bytes<float>({5, 5, 1})};
  EXPECT_TRUE(Contains(FormatTensor("t", ties), "first row: min 1 max 5 argmax 0\n"));
  core::Tensor halves{core::DataType::kFp16, {1, 2}, Bytes<uint16_t>({0x4000, 0x3c00})};
  EXPECT_TRUE(Contains(FormatTensor("h", halves), "first row: min 1 max 2 argmax 0\n"));
}

TEST(CliFormatTensorTest, ScalarAndBool) {
  core::Tensor flag{core::DataType::kBool, {}, Bytes<uint8_t>({1})};
  EXPECT_EQ(FormatTensor("ok", flag), "output ok: BOOL []\n  values: [true] (1 element)\n");
}

TEST(CliFormatTableTest, AlignsColumnsWithoutTrailingSpaces) {
  EXPECT_EQ(
      FormatTable({{"NAME", "VERSION", "STATE"}, {"resnet18", "1", "READY"}, {"a", "12", ""}}),
      "NAME      VERSION  STATE\n"
      "resnet18  1        READY\n"
      "a         12\n");
}

TEST(CliFormatTest, RepositoryIndex) {
  inference::RepositoryIndexResponse index;
  EXPECT_EQ(FormatRepositoryIndex(index), "no models\n");
  auto* model = index.add_models();
  model->set_name("resnet18");
  model->set_version("1");
  model->set_state("READY");
  model = index.add_models();
  model->set_name("broken");
  model->set_version("3");
  model->set_state("UNAVAILABLE");
  model->set_reason("model.pt: file not found");
  EXPECT_EQ(FormatRepositoryIndex(index),
            "NAME      VERSION  STATE        REASON\n"
            "resnet18  1        READY\n"
            "broken    3        UNAVAILABLE  model.pt: file not found\n");
}

TEST(CliFormatTest, ControlCharactersFromTheServerCannotBreakTheLines) {
  EXPECT_EQ(Printable("plain name, UTF-8 \u00e9"), "plain name, UTF-8 \u00e9");
  EXPECT_EQ(Printable(std::string("a\nb\tc\rd\x1b[31m\x7f\0e", 15)), "a\\nb\\tc\\x0dd\\x1b[31m\\x7f\\x00e");

  inference::RepositoryIndexResponse index;
  auto* model = index.add_models();
  model->set_name("two\nlines");
  model->set_version("1");
  model->set_state("UNAVAILABLE");
  model->set_reason("config.yaml: a: unknown key\nconfig.yaml: b: unknown key");
  EXPECT_EQ(FormatRepositoryIndex(index),
            "NAME        VERSION  STATE        REASON\n"
            "two\\nlines  1        UNAVAILABLE  config.yaml: a: unknown key\\nconfig.yaml: b: unknown key\n");

  inference::ModelMetadataResponse metadata;
  metadata.set_name("two\nlines");
  EXPECT_TRUE(Contains(FormatModelMetadata(metadata), "model: two\\nlines\n"));
}

TEST(CliFormatTest, ServerMetadata) {
  inference::ServerMetadataResponse metadata;
  metadata.set_name("edgeserve");
  metadata.set_version("0.1.0");
  EXPECT_EQ(FormatServerMetadata(metadata),
            "name: edgeserve\nversion: 0.1.0\nextensions: (none)\n");
  metadata.add_extensions("model_repository");
  metadata.add_extensions("statistics");
  EXPECT_TRUE(
      Contains(FormatServerMetadata(metadata), "extensions: model_repository, statistics\n"));
}

TEST(CliFormatTest, ModelMetadata) {
  inference::ModelMetadataResponse metadata;
  metadata.set_name("resnet18");
  metadata.set_platform("pytorch_torchscript");
  metadata.add_versions("1");
  metadata.add_versions("2");
  auto* input = metadata.add_inputs();
  input->set_name("images");
  input->set_datatype("FP32");
  for (int64_t dim : {-1, 3, 224, 224}) input->add_shape(dim);
  auto* output = metadata.add_outputs();
  output->set_name("logits");
  output->set_datatype("FP32");
  for (int64_t dim : {-1, 1000}) output->add_shape(dim);
  EXPECT_EQ(FormatModelMetadata(metadata),
            "model: resnet18\n"
            "platform: pytorch_torchscript\n"
            "versions: 1, 2\n"
            "inputs:\n"
            "  images  FP32  [-1, 3, 224, 224]\n"
            "outputs:\n"
            "  logits  FP32  [-1, 1000]\n");
}

TEST(CliFormatTest, ModelConfigIsJsonWithTheProtosFieldNamesAndZeros) {
  inference::ModelConfig config;
  config.set_name("add_sub");
  config.set_max_batch_size(0);
  auto* input = config.add_input();
  input->set_name("INPUT0");
  input->set_data_type(inference::TYPE_INT32);
  input->add_dims(-1);
  const std::string json = FormatModelConfig(config);
  EXPECT_TRUE(Contains(json, "\"name\": \"add_sub\"")) << json;
  EXPECT_TRUE(Contains(json, "\"max_batch_size\": 0")) << json;
  EXPECT_TRUE(Contains(json, "\"data_type\": \"TYPE_INT32\"")) << json;
  EXPECT_TRUE(Contains(json, "\"dims\": [\n    \"-1\"\n   ]")) << json;
  EXPECT_EQ(json.back(), '\n');
}

TEST(CliFormatTest, ModelStatisticsAveragesInMicroseconds) {
  inference::ModelStatisticsResponse response;
  EXPECT_EQ(FormatModelStatistics(response), "no statistics\n");
  auto* model = response.add_model_stats();
  model->set_name("resnet18");
  model->set_version("1");
  model->set_inference_count(4);
  model->set_execution_count(2);
  model->set_last_inference(1700000000123);
  auto* stats = model->mutable_inference_stats();
  stats->mutable_success()->set_count(4);
  stats->mutable_success()->set_ns(10000);
  stats->mutable_queue()->set_count(4);
  stats->mutable_queue()->set_ns(2000);
  stats->mutable_compute_infer()->set_count(2);
  stats->mutable_compute_infer()->set_ns(3000000);
  auto* batch = model->add_batch_stats();
  batch->set_batch_size(2);
  batch->mutable_compute_infer()->set_count(2);
  batch->mutable_compute_infer()->set_ns(3000000);
  EXPECT_EQ(FormatModelStatistics(response),
            "model resnet18 version 1\n"
            "  inference_count 4\n"
            "  execution_count 2\n"
            "  last_inference 2023-11-14T22:13:20.123Z\n"
            "  success         count 4 avg 2.5 us\n"
            "  fail            count 0\n"
            "  queue           count 4 avg 0.5 us\n"
            "  compute_input   count 0\n"
            "  compute_infer   count 2 avg 1500.0 us\n"
            "  compute_output  count 0\n"
            "  batch_size 2: compute_input count 0, compute_infer count 2 avg 1500.0 us, "
            "compute_output count 0\n");
}

TEST(CliFormatTest, SchedulerExtensionShowsBatchingRefusalsAndTheLatencyProfile) {
  inference::ModelStatisticsResponse response;
  auto* model = response.add_model_stats();
  model->set_name("classifier");
  auto* scheduler = model->mutable_edgeserve_scheduler();
  scheduler->set_mode("slo");
  scheduler->set_latency_target_ms(17.5);
  scheduler->set_max_batch_size(8);
  scheduler->set_admission_reserve_us(2345);
  scheduler->set_rejected_deadline(3);
  scheduler->set_rejected_deadline_after_waiting(2);
  scheduler->set_cancelled(1);
  auto* estimate = scheduler->add_latency_profile();
  estimate->set_instance(0);
  estimate->set_batch_size(4);
  estimate->set_mean_us(9000);
  estimate->set_deviation_us(250);
  estimate->set_predicted_us(9250);
  estimate->set_samples(12);
  const std::string text = FormatModelStatistics(response);
  EXPECT_TRUE(Contains(text, "  batching slo, up to 8 per execution, latency target 17.50 ms, 2.35 ms kept in hand at admission\n")) << text;
  EXPECT_TRUE(Contains(text, "  refused: queue full 0, deadline 3 (2 after waiting), cancelled 1\n")) << text;
  EXPECT_TRUE(Contains(text, "9000.0 us")) << text;
  EXPECT_TRUE(Contains(text, "9250.0 us")) << text;
}

TEST(CliFormatTest, NeverInferredModel) {
  inference::ModelStatisticsResponse response;
  response.add_model_stats()->set_name("idle");
  EXPECT_TRUE(Contains(FormatModelStatistics(response), "last_inference never\n"));
}

}  // namespace
}  // namespace edgeserve::cli
