#include "edgeserve/server/infer_codec.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgeserve::server {
namespace {

// Outputs of a request that ran alone.
core::InferenceOutputs Alone(std::vector<core::Tensor> outputs) {
  core::InferenceOutputs alone;
  alone.rows = outputs.empty() || outputs[0].shape.empty() ? 1 : outputs[0].shape[0];
  alone.batch = std::make_shared<std::vector<core::Tensor>>(std::move(outputs));
  return alone;
}

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using InputTensor = inference::ModelInferRequest::InferInputTensor;

InputTensor* AddInput(inference::ModelInferRequest* message, const std::string& name, const std::string& datatype,
                      std::vector<int64_t> shape) {
  InputTensor* input = message->add_inputs();
  input->set_name(name);
  input->set_datatype(datatype);
  for (int64_t dim : shape) input->add_shape(dim);
  return input;
}

template <typename T>
std::string Bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// Decodes `message`, which must fail with `expected`; returns the message.
std::string DecodeFailure(const inference::ModelInferRequest& message, absl::StatusCode expected) {
  core::InferenceRequest request;
  const absl::Status status = DecodeInferRequest(message, &request);
  if (status.ok()) return "<decoded>";
  EXPECT_EQ(status.code(), expected) << status;
  return std::string(status.message());
}

std::string DecodeError(const inference::ModelInferRequest& message) {
  return DecodeFailure(message, absl::StatusCode::kInvalidArgument);
}

std::string UnimplementedError(const inference::ModelInferRequest& message) {
  return DecodeFailure(message, absl::StatusCode::kUnimplemented);
}

TEST(DecodeInferRequestTest, RawInputsAreViewedInPlace) {
  inference::ModelInferRequest message;
  message.set_id("req-7");
  AddInput(&message, "a", "FP32", {2, 2});
  AddInput(&message, "b", "INT64", {1});
  message.add_raw_input_contents(Bytes(std::vector<float>{1, 2, 3, 4}));
  message.add_raw_input_contents(Bytes(std::vector<int64_t>{-9}));
  message.add_outputs()->set_name("y");
  message.add_outputs()->set_name("x");

  core::InferenceRequest request;
  const absl::Status status = DecodeInferRequest(message, &request);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(request.id, "req-7");
  ASSERT_EQ(request.inputs.size(), 2u);
  EXPECT_EQ(request.inputs[0].name, "a");
  EXPECT_EQ(request.inputs[0].datatype, core::DataType::kFp32);
  EXPECT_THAT(request.inputs[0].shape, ElementsAre(2, 2));
  EXPECT_EQ(request.inputs[0].data.data(), message.raw_input_contents(0).data());
  EXPECT_EQ(request.inputs[0].data.size(), 16u);
  EXPECT_EQ(request.inputs[1].name, "b");
  EXPECT_EQ(request.inputs[1].datatype, core::DataType::kInt64);
  EXPECT_EQ(request.inputs[1].data.data(), message.raw_input_contents(1).data());
  EXPECT_EQ(request.inputs[1].data.size(), 8u);
  EXPECT_THAT(request.converted_inputs, IsEmpty());
  ASSERT_EQ(request.requested_outputs.size(), 2u);
  EXPECT_EQ(request.requested_outputs[0], "y");
  EXPECT_EQ(request.requested_outputs[1], "x");
}

inference::ModelInferRequest OneRawInput() {
  inference::ModelInferRequest message;
  AddInput(&message, "x", "FP32", {1, 2});
  message.add_raw_input_contents(Bytes(std::vector<float>{1, 2}));
  return message;
}

TEST(DecodeInferRequestTest, TritonParametersThatChangeTheMeaningAreRefusedByName) {
  inference::ModelInferRequest sequence = OneRawInput();
  (*sequence.mutable_parameters())["sequence_id"].set_uint64_param(42);
  EXPECT_THAT(UnimplementedError(sequence), HasSubstr("parameter 'sequence_id': sequence batching is not supported"));
  inference::ModelInferRequest sequence_as_double = sequence;
  (*sequence_as_double.mutable_parameters())["sequence_id"].set_double_param(42.0);
  EXPECT_THAT(UnimplementedError(sequence_as_double), HasSubstr("parameter 'sequence_id'"));

  inference::ModelInferRequest start = OneRawInput();
  (*start.mutable_parameters())["sequence_start"].set_bool_param(true);
  EXPECT_THAT(UnimplementedError(start), HasSubstr("parameter 'sequence_start'"));

  // Shared memory replaces the data, so the refusal comes before "no data".
  inference::ModelInferRequest shared_input;
  InputTensor* input = AddInput(&shared_input, "x", "FP32", {1, 2});
  (*input->mutable_parameters())["shared_memory_region"].set_string_param("input_region");
  (*input->mutable_parameters())["shared_memory_byte_size"].set_int64_param(8);
  EXPECT_THAT(UnimplementedError(shared_input),
              HasSubstr("input 'x': parameter 'shared_memory_region': shared memory is not supported"));

  inference::ModelInferRequest shared_output = OneRawInput();
  auto* output = shared_output.add_outputs();
  output->set_name("y");
  (*output->mutable_parameters())["shared_memory_region"].set_string_param("output_region");
  EXPECT_THAT(UnimplementedError(shared_output), HasSubstr("output 'y': parameter 'shared_memory_region'"));

  inference::ModelInferRequest top_k = OneRawInput();
  output = top_k.add_outputs();
  output->set_name("y");
  (*output->mutable_parameters())["classification"].set_int64_param(3);
  EXPECT_THAT(UnimplementedError(top_k), HasSubstr("output 'y': parameter 'classification' (top-k labels)"));
}

TEST(DecodeInferRequestTest, UnsetTritonParametersAndUnknownOnesAreIgnored) {
  inference::ModelInferRequest message = OneRawInput();
  (*message.mutable_parameters())["sequence_id"].set_int64_param(0);
  (*message.mutable_parameters())["sequence_end"].set_bool_param(false);
  (*message.mutable_parameters())["my_tracing_tag"].set_string_param("abc");
  auto* output = message.add_outputs();
  output->set_name("y");
  (*output->mutable_parameters())["classification"].set_int64_param(0);
  (*output->mutable_parameters())["binary_data"].set_bool_param(true);
  core::InferenceRequest request;
  const absl::Status status = DecodeInferRequest(message, &request);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_THAT(request.requested_outputs, ElementsAre("y"));
}

TEST(DecodeInferRequestTest, DecodingAgainReplacesThePreviousRequest) {
  inference::ModelInferRequest first;
  AddInput(&first, "a", "INT32", {1})->mutable_contents()->add_int_contents(1);
  AddInput(&first, "b", "INT32", {1})->mutable_contents()->add_int_contents(2);
  first.add_outputs()->set_name("o");
  inference::ModelInferRequest second;
  AddInput(&second, "c", "UINT8", {1});
  second.add_raw_input_contents(std::string(1, '\x05'));
  core::InferenceRequest request;
  ASSERT_TRUE(DecodeInferRequest(first, &request).ok());
  ASSERT_TRUE(DecodeInferRequest(second, &request).ok());
  ASSERT_EQ(request.inputs.size(), 1u);
  EXPECT_EQ(request.inputs[0].name, "c");
  EXPECT_THAT(request.converted_inputs, IsEmpty());
  EXPECT_THAT(request.requested_outputs, IsEmpty());
}

TEST(DecodeInferRequestTest, RawContentsCountMustMatchInputs) {
  inference::ModelInferRequest message;
  AddInput(&message, "a", "FP32", {1});
  AddInput(&message, "b", "FP32", {1});
  message.add_raw_input_contents(std::string(4, '\0'));
  EXPECT_EQ(DecodeError(message),
            "raw_input_contents has 1 entries for 2 inputs; give one per input, in the order of inputs");
  message.add_raw_input_contents(std::string(4, '\0'));
  message.add_raw_input_contents(std::string(4, '\0'));
  EXPECT_EQ(DecodeError(message),
            "raw_input_contents has 3 entries for 2 inputs; give one per input, in the order of inputs");
}

TEST(DecodeInferRequestTest, ContentsAndRawTogetherAreRejected) {
  inference::ModelInferRequest message;
  AddInput(&message, "a", "FP32", {1});
  AddInput(&message, "b", "FP32", {1})->mutable_contents()->add_fp32_contents(1.0f);
  message.add_raw_input_contents(std::string(4, '\0'));
  message.add_raw_input_contents(std::string(4, '\0'));
  EXPECT_EQ(DecodeError(message),
            "input 'b' sets contents while the request uses raw_input_contents; use one or the other");
}

TEST(DecodeInferRequestTest, InputWithoutDataIsRejected) {
  inference::ModelInferRequest message;
  AddInput(&message, "a", "FP32", {1});
  EXPECT_EQ(DecodeError(message), "input 'a' has no data: set raw_input_contents or the input's contents");
}

TEST(DecodeInferRequestTest, InputWithoutNameIsRejected) {
  inference::ModelInferRequest message;
  AddInput(&message, "a", "FP32", {1})->mutable_contents()->add_fp32_contents(1.0f);
  AddInput(&message, "", "FP32", {1})->mutable_contents()->add_fp32_contents(1.0f);
  EXPECT_EQ(DecodeError(message), "inputs[1] has no name");
}

TEST(DecodeInferRequestTest, UnknownDatatypeIsRejected) {
  inference::ModelInferRequest message;
  AddInput(&message, "a", "FLOAT32", {1});
  message.add_raw_input_contents(std::string(4, '\0'));
  EXPECT_EQ(DecodeError(message),
            "input 'a': unknown datatype 'FLOAT32'; expected one of BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, "
            "FP32, FP64, BYTES");
}

TEST(DecodeInferRequestTest, NegativeOrOverflowingShapeIsRejected) {
  inference::ModelInferRequest message;
  AddInput(&message, "a", "FP32", {2, -3});
  message.add_raw_input_contents(std::string(4, '\0'));
  EXPECT_EQ(DecodeError(message), "input 'a': shape [2,-3] has a negative dimension or too many elements");

  inference::ModelInferRequest huge;
  AddInput(&huge, "h", "FP32", {int64_t{1} << 32, int64_t{1} << 32});
  huge.add_raw_input_contents(std::string(4, '\0'));
  EXPECT_EQ(DecodeError(huge),
            "input 'h': shape [4294967296,4294967296] has a negative dimension or too many elements");
}

TEST(DecodeInferRequestTest, TypedContentsOfEveryDatatypeBecomeNativeBytes) {
  inference::ModelInferRequest message;
  auto* b = AddInput(&message, "bool", "BOOL", {3})->mutable_contents();
  b->add_bool_contents(true);
  b->add_bool_contents(false);
  b->add_bool_contents(true);
  auto* u8 = AddInput(&message, "uint8", "UINT8", {3})->mutable_contents();
  for (uint32_t v : {0u, 7u, 255u}) u8->add_uint_contents(v);
  auto* i8 = AddInput(&message, "int8", "INT8", {3})->mutable_contents();
  for (int32_t v : {-128, 0, 127}) i8->add_int_contents(v);
  auto* i16 = AddInput(&message, "int16", "INT16", {3})->mutable_contents();
  for (int32_t v : {-32768, 1, 32767}) i16->add_int_contents(v);
  auto* i32 = AddInput(&message, "int32", "INT32", {2})->mutable_contents();
  i32->add_int_contents(std::numeric_limits<int32_t>::min());
  i32->add_int_contents(std::numeric_limits<int32_t>::max());
  auto* i64 = AddInput(&message, "int64", "INT64", {2})->mutable_contents();
  i64->add_int64_contents(std::numeric_limits<int64_t>::min());
  i64->add_int64_contents(std::numeric_limits<int64_t>::max());
  auto* f32 = AddInput(&message, "fp32", "FP32", {2})->mutable_contents();
  f32->add_fp32_contents(1.5f);
  f32->add_fp32_contents(-0.0f);
  auto* f64 = AddInput(&message, "fp64", "FP64", {1, 2})->mutable_contents();
  f64->add_fp64_contents(3.25);
  f64->add_fp64_contents(-1e300);

  core::InferenceRequest request;
  const absl::Status status = DecodeInferRequest(message, &request);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(request.inputs.size(), 8u);
  ASSERT_EQ(request.converted_inputs.size(), 8u);
  const std::vector<std::string> expected = {
      std::string("\x01\x00\x01", 3),
      Bytes(std::vector<uint8_t>{0, 7, 255}),
      Bytes(std::vector<int8_t>{-128, 0, 127}),
      Bytes(std::vector<int16_t>{-32768, 1, 32767}),
      Bytes(std::vector<int32_t>{std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}),
      Bytes(std::vector<int64_t>{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}),
      Bytes(std::vector<float>{1.5f, -0.0f}),
      Bytes(std::vector<double>{3.25, -1e300}),
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(std::string(request.inputs[i].data), expected[i]) << request.inputs[i].name;
    // The view points at the converted bytes the request owns.
    EXPECT_EQ(request.inputs[i].data.data(), request.converted_inputs[i].data()) << request.inputs[i].name;
  }
  EXPECT_EQ(request.inputs[7].datatype, core::DataType::kFp64);
  EXPECT_THAT(request.inputs[7].shape, ElementsAre(1, 2));
}

TEST(DecodeInferRequestTest, TypedValuesOutsideTheDatatypeAreRejected) {
  struct Case {
    const char* datatype;
    int64_t value;
    const char* field;
  };
  for (const Case& c : {Case{"INT8", 128, "int_contents"}, Case{"INT8", -129, "int_contents"},
                        Case{"INT16", 32768, "int_contents"}, Case{"INT16", -32769, "int_contents"},
                        Case{"UINT8", 256, "uint_contents"}}) {
    inference::ModelInferRequest message;
    auto* contents = AddInput(&message, "a", c.datatype, {2})->mutable_contents();
    if (std::string(c.field) == "uint_contents") {
      contents->add_uint_contents(1);
      contents->add_uint_contents(static_cast<uint32_t>(c.value));
    } else {
      contents->add_int_contents(1);
      contents->add_int_contents(static_cast<int32_t>(c.value));
    }
    EXPECT_EQ(DecodeError(message), "input 'a': value " + std::to_string(c.value) + " in contents." + c.field +
                                        " does not fit the input's datatype")
        << c.datatype;
  }
}

TEST(DecodeInferRequestTest, TypedValueCountMustMatchTheShape) {
  inference::ModelInferRequest message;
  auto* contents = AddInput(&message, "a", "FP32", {2, 2})->mutable_contents();
  contents->add_fp32_contents(1);
  contents->add_fp32_contents(2);
  contents->add_fp32_contents(3);
  EXPECT_EQ(DecodeError(message), "input 'a': its shape needs 4 values in contents.fp32_contents, got 3");

  // Values in a field other than the datatype's own are refused, not dropped.
  inference::ModelInferRequest wrong_field;
  AddInput(&wrong_field, "u", "UINT8", {1})->mutable_contents()->add_int_contents(1);
  EXPECT_EQ(DecodeError(wrong_field),
            "input 'u': contents.int_contents has 1 values, but UINT8 values go in contents.uint_contents");
  inference::ModelInferRequest extra_field;
  auto* both = AddInput(&extra_field, "a", "FP32", {2})->mutable_contents();
  both->add_fp32_contents(1);
  both->add_fp32_contents(2);
  both->add_int_contents(7);
  EXPECT_EQ(DecodeError(extra_field),
            "input 'a': contents.int_contents has 1 values, but FP32 values go in contents.fp32_contents");
}

TEST(DecodeInferRequestTest, Fp16HasNoTypedContents) {
  inference::ModelInferRequest message;
  AddInput(&message, "half", "FP16", {1})->mutable_contents()->add_fp32_contents(1.0f);
  EXPECT_EQ(DecodeError(message), "input 'half': FP16 has no typed contents field; send it in raw_input_contents");
}

TEST(DecodeInferRequestTest, Fp16RawIsAccepted) {
  inference::ModelInferRequest message;
  AddInput(&message, "half", "FP16", {2});
  message.add_raw_input_contents(std::string("\x00\x3c\x00\x40", 4));
  core::InferenceRequest request;
  ASSERT_TRUE(DecodeInferRequest(message, &request).ok());
  EXPECT_EQ(request.inputs[0].datatype, core::DataType::kFp16);
  EXPECT_EQ(request.inputs[0].data.size(), 4u);
}

TEST(DecodeInferRequestTest, BytesTypedContentsAreRejected) {
  inference::ModelInferRequest message;
  AddInput(&message, "s", "BYTES", {1})->mutable_contents()->add_bytes_contents("text");
  EXPECT_EQ(DecodeError(message), "input 's': BYTES tensors are not supported by the torchscript platform");
}

TEST(EncodeInferOutputsTest, SelectedOutputsInRequestedOrderWithTheirBytes) {
  std::vector<core::TensorSpec> specs(3);
  specs[0].name = "x";
  specs[1].name = "y";
  specs[2].name = "z";
  std::vector<core::Tensor> outputs(3);
  outputs[0].datatype = core::DataType::kFp32;
  outputs[0].shape = {2, 2};
  outputs[0].data = Bytes(std::vector<float>{1, 2, 3, 4});
  outputs[1].datatype = core::DataType::kInt32;
  outputs[1].shape = {1};
  outputs[1].data = Bytes(std::vector<int32_t>{7});
  outputs[2].datatype = core::DataType::kBool;
  outputs[2].shape = {3};
  outputs[2].data = std::string("\x01\x00\x01", 3);
  const std::vector<std::string> bytes = {outputs[0].data, outputs[1].data, outputs[2].data};
  core::InferenceRequest request;
  request.output_indices = {2, 0};

  inference::ModelInferResponse response;
  EncodeInferOutputs(specs, request, Alone(std::move(outputs)), &response);
  ASSERT_EQ(response.outputs_size(), 2);
  ASSERT_EQ(response.raw_output_contents_size(), 2);
  EXPECT_EQ(response.outputs(0).name(), "z");
  EXPECT_EQ(response.outputs(0).datatype(), "BOOL");
  EXPECT_THAT(response.outputs(0).shape(), ElementsAre(3));
  EXPECT_EQ(response.raw_output_contents(0), bytes[2]);
  EXPECT_EQ(response.outputs(1).name(), "x");
  EXPECT_EQ(response.outputs(1).datatype(), "FP32");
  EXPECT_THAT(response.outputs(1).shape(), ElementsAre(2, 2));
  EXPECT_EQ(response.raw_output_contents(1), bytes[0]);
  EXPECT_FALSE(response.outputs(0).has_contents());
}

TEST(EncodeInferOutputsTest, AllOutputsWhenAllAreSelected) {
  std::vector<core::TensorSpec> specs(2);
  specs[0].name = "first";
  specs[1].name = "second";
  std::vector<core::Tensor> outputs(2);
  outputs[0].datatype = core::DataType::kInt64;
  outputs[0].shape = {};
  outputs[0].data = Bytes(std::vector<int64_t>{42});
  outputs[1].datatype = core::DataType::kFp64;
  outputs[1].shape = {0};
  core::InferenceRequest request;
  request.output_indices = {0, 1};
  inference::ModelInferResponse response;
  EncodeInferOutputs(specs, request, Alone(std::move(outputs)), &response);
  ASSERT_EQ(response.outputs_size(), 2);
  EXPECT_EQ(response.outputs(0).name(), "first");
  EXPECT_EQ(response.outputs(0).datatype(), "INT64");
  EXPECT_THAT(response.outputs(0).shape(), IsEmpty());
  EXPECT_EQ(response.raw_output_contents(0), Bytes(std::vector<int64_t>{42}));
  EXPECT_EQ(response.outputs(1).name(), "second");
  EXPECT_THAT(response.outputs(1).shape(), ElementsAre(0));
  EXPECT_EQ(response.raw_output_contents(1), "");
}

TEST(DecodeInferRequestTest, PriorityAndTimeoutParametersAreReadAsTritonSendsThem) {
  inference::ModelInferRequest message;
  AddInput(&message, "x", "FP32", {1})->mutable_contents()->add_fp32_contents(1);
  (*message.mutable_parameters())["priority"].set_uint64_param(2);
  (*message.mutable_parameters())["timeout"].set_int64_param(1500);
  (*message.mutable_parameters())["trace_tag"].set_string_param("ignored");
  core::InferenceRequest request;
  ASSERT_TRUE(DecodeInferRequest(message, &request).ok());
  EXPECT_EQ(request.priority, 2u);
  ASSERT_TRUE(request.timeout.has_value());
  EXPECT_EQ(request.timeout->count(), 1500);

  (*message.mutable_parameters())["timeout"].set_int64_param(0);  // 0: the model's default
  ASSERT_TRUE(DecodeInferRequest(message, &request).ok());
  EXPECT_FALSE(request.timeout.has_value());
}

TEST(DecodeInferRequestTest, BadSchedulingParametersNameTheParameter) {
  inference::ModelInferRequest message;
  AddInput(&message, "x", "FP32", {1})->mutable_contents()->add_fp32_contents(1);
  (*message.mutable_parameters())["timeout"].set_int64_param(-1);
  EXPECT_EQ(DecodeError(message), "parameter 'timeout': must be 0 or more, got -1");
  (*message.mutable_parameters())["timeout"].set_string_param("soon");
  EXPECT_EQ(DecodeError(message), "parameter 'timeout': expected an integer in int64_param or uint64_param");
}

TEST(EncodeInferOutputsTest, ABatchedRequestGetsOnlyItsRows) {
  std::vector<core::TensorSpec> specs(1);
  specs[0].name = "y";
  auto batch = std::make_shared<std::vector<core::Tensor>>(1);
  (*batch)[0].datatype = core::DataType::kInt32;
  (*batch)[0].shape = {3, 2};
  (*batch)[0].data = Bytes(std::vector<int32_t>{1, 2, 3, 4, 5, 6});
  core::InferenceOutputs share{batch, 1, 2, /*whole=*/false};
  core::InferenceRequest request;
  request.output_indices = {0};
  inference::ModelInferResponse response;
  EncodeInferOutputs(specs, request, share, &response);
  EXPECT_THAT(response.outputs(0).shape(), ElementsAre(2, 2));
  EXPECT_EQ(response.raw_output_contents(0), Bytes(std::vector<int32_t>{3, 4, 5, 6}));
  EXPECT_EQ((*batch)[0].data.size(), 6 * sizeof(int32_t));  // the batch stays whole for the other requests
}

}  // namespace
}  // namespace edgeserve::server
