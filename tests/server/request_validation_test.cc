#include "edgeserve/server/request_validation.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgeserve::server {
namespace {

using ::testing::ElementsAre;

core::TensorSpec Spec(const std::string& name, core::DataType datatype, core::Shape shape) {
  core::TensorSpec spec;
  spec.name = name;
  spec.datatype = datatype;
  spec.shape = std::move(shape);
  return spec;
}

// A batching model: a FP32 [16], b INT64 [-1, 2]; outputs x, y, z.
repository::ModelConfig BatchingConfig() {
  repository::ModelConfig config;
  config.name = "m";
  config.max_batch_size = 8;
  config.inputs = {Spec("a", core::DataType::kFp32, {16}), Spec("b", core::DataType::kInt64, {-1, 2})};
  config.outputs = {Spec("x", core::DataType::kFp32, {16}), Spec("y", core::DataType::kInt32, {1}),
                    Spec("z", core::DataType::kFp64, {2})};
  return config;
}

// A model without a batch dimension: c INT16 [3].
repository::ModelConfig PlainConfig() {
  repository::ModelConfig config;
  config.name = "plain";
  config.max_batch_size = 0;
  config.inputs = {Spec("c", core::DataType::kInt16, {3})};
  config.outputs = {Spec("d", core::DataType::kInt16, {3})};
  return config;
}

class RequestValidationTest : public ::testing::Test {
 protected:
  // A view whose bytes are a buffer of exactly the size `shape` needs (or
  // `bytes` when given), kept alive by the test.
  core::TensorView Input(const std::string& name, core::DataType datatype, core::Shape shape,
                         int64_t bytes = -1) {
    if (bytes < 0) {
      const int64_t elements = core::ElementCount(shape);
      bytes = elements < 0 ? 0 : elements * static_cast<int64_t>(core::DataTypeSize(datatype));
    }
    names_.push_back(std::make_unique<std::string>(name));
    buffers_.push_back(std::make_unique<std::string>(static_cast<size_t>(bytes), '\x01'));
    core::TensorView view;
    view.name = *names_.back();
    view.datatype = datatype;
    view.shape = std::move(shape);
    view.data = *buffers_.back();
    return view;
  }

  // A valid request for BatchingConfig() with batch size `batch`, inputs in config order.
  core::InferenceRequest ValidRequest(int64_t batch = 2) {
    core::InferenceRequest request;
    request.inputs = {Input("a", core::DataType::kFp32, {batch, 16}),
                      Input("b", core::DataType::kInt64, {batch, 5, 2})};
    return request;
  }

  std::string Error(const repository::ModelConfig& config, core::InferenceRequest request) {
    const absl::Status status = ValidateRequest(config, &request);
    if (status.ok()) return "<valid>";
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    return std::string(status.message());
  }

  std::vector<std::unique_ptr<std::string>> names_;
  std::vector<std::unique_ptr<std::string>> buffers_;
};

TEST_F(RequestValidationTest, ValidRequestSetsBatchSizeAndAllOutputs) {
  core::InferenceRequest request = ValidRequest(3);
  request.batch_size = 99;
  const absl::Status status = ValidateRequest(BatchingConfig(), &request);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(request.batch_size, 3);
  ASSERT_EQ(request.inputs.size(), 2u);
  EXPECT_EQ(request.inputs[0].name, "a");
  EXPECT_EQ(request.inputs[1].name, "b");
  EXPECT_THAT(request.output_indices, ElementsAre(0u, 1u, 2u));
}

TEST_F(RequestValidationTest, InputsAreReorderedIntoConfigOrderWithoutCopying) {
  core::InferenceRequest request;
  const core::TensorView b = Input("b", core::DataType::kInt64, {1, 7, 2});
  const core::TensorView a = Input("a", core::DataType::kFp32, {1, 16});
  request.inputs = {b, a};
  const absl::Status status = ValidateRequest(BatchingConfig(), &request);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(request.inputs.size(), 2u);
  EXPECT_EQ(request.inputs[0].name, "a");
  EXPECT_EQ(request.inputs[0].data.data(), a.data.data());
  EXPECT_THAT(request.inputs[0].shape, ElementsAre(1, 16));
  EXPECT_EQ(request.inputs[1].name, "b");
  EXPECT_EQ(request.inputs[1].data.data(), b.data.data());
  EXPECT_THAT(request.inputs[1].shape, ElementsAre(1, 7, 2));
}

TEST_F(RequestValidationTest, RequestedOutputsResolveInRequestedOrder) {
  core::InferenceRequest request = ValidRequest();
  request.requested_outputs = {"z", "x"};
  const absl::Status status = ValidateRequest(BatchingConfig(), &request);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(request.output_indices, ElementsAre(2u, 0u));
}

TEST_F(RequestValidationTest, OutputIndicesAreRebuiltOnEveryCall) {
  core::InferenceRequest request = ValidRequest();
  request.output_indices = {1, 1, 1};
  request.requested_outputs = {"y"};
  ASSERT_TRUE(ValidateRequest(BatchingConfig(), &request).ok());
  EXPECT_THAT(request.output_indices, ElementsAre(1u));
}

TEST_F(RequestValidationTest, ModelWithoutBatchDimensionHasBatchSizeOne) {
  core::InferenceRequest request;
  request.inputs = {Input("c", core::DataType::kInt16, {3})};
  request.batch_size = 5;
  const absl::Status status = ValidateRequest(PlainConfig(), &request);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(request.batch_size, 1);
  EXPECT_THAT(request.output_indices, ElementsAre(0u));
}

TEST_F(RequestValidationTest, UnexpectedInput) {
  core::InferenceRequest request = ValidRequest();
  request.inputs.push_back(Input("extra", core::DataType::kFp32, {2, 16}));
  EXPECT_EQ(Error(BatchingConfig(), request), "unexpected input 'extra'; model 'm' takes: a, b");
}

TEST_F(RequestValidationTest, MissingInput) {
  core::InferenceRequest request = ValidRequest();
  request.inputs.pop_back();
  EXPECT_EQ(Error(BatchingConfig(), request), "missing input 'b'; model 'm' takes: a, b");
  request.inputs.clear();
  EXPECT_EQ(Error(BatchingConfig(), request), "missing input 'a'; model 'm' takes: a, b");
}

TEST_F(RequestValidationTest, DuplicateInput) {
  core::InferenceRequest request = ValidRequest();
  request.inputs.push_back(Input("a", core::DataType::kFp32, {2, 16}));
  EXPECT_EQ(Error(BatchingConfig(), request), "input 'a' is given more than once");
}

TEST_F(RequestValidationTest, WrongDatatype) {
  core::InferenceRequest request = ValidRequest();
  request.inputs[0] = Input("a", core::DataType::kFp64, {2, 16});
  EXPECT_EQ(Error(BatchingConfig(), request), "input 'a': expected datatype FP32, got FP64");
}

TEST_F(RequestValidationTest, WrongDimension) {
  core::InferenceRequest request = ValidRequest();
  request.inputs[0] = Input("a", core::DataType::kFp32, {1, 15});
  EXPECT_EQ(Error(BatchingConfig(), request), "input 'a': expected shape [-1,16], got [1,15]");
}

TEST_F(RequestValidationTest, WrongRank) {
  core::InferenceRequest request = ValidRequest();
  request.inputs[0] = Input("a", core::DataType::kFp32, {16});
  EXPECT_EQ(Error(BatchingConfig(), request), "input 'a': expected shape [-1,16], got [16]");
  request.inputs[0] = Input("a", core::DataType::kFp32, {1, 1, 16});
  EXPECT_EQ(Error(BatchingConfig(), request), "input 'a': expected shape [-1,16], got [1,1,16]");
  request.inputs[0] = Input("a", core::DataType::kFp32, {});
  EXPECT_EQ(Error(BatchingConfig(), request), "input 'a': expected shape [-1,16], got []");
}

TEST_F(RequestValidationTest, NegativeDimensionWhereAnySizeIsAllowed) {
  core::InferenceRequest request = ValidRequest();
  request.inputs[1] = Input("b", core::DataType::kInt64, {2, -1, 2}, 0);
  EXPECT_EQ(Error(BatchingConfig(), request), "input 'b': expected shape [-1,-1,2], got [2,-1,2]");
  request.inputs[1] = Input("b", core::DataType::kInt64, {-1, 1, 2}, 16);
  EXPECT_EQ(Error(BatchingConfig(), request), "input 'b': expected shape [-1,-1,2], got [-1,1,2]");
}

TEST_F(RequestValidationTest, BatchSizeOutsideOneToMax) {
  EXPECT_EQ(Error(BatchingConfig(), ValidRequest(0)),
            "input 'a': batch size 0 is outside 1 to 8 (the model's max_batch_size)");
  EXPECT_EQ(Error(BatchingConfig(), ValidRequest(9)),
            "input 'a': batch size 9 is outside 1 to 8 (the model's max_batch_size)");
  EXPECT_EQ(Error(BatchingConfig(), ValidRequest(8)), "<valid>");
  EXPECT_EQ(Error(BatchingConfig(), ValidRequest(1)), "<valid>");
}

TEST_F(RequestValidationTest, InputsWithDifferentBatchSizes) {
  core::InferenceRequest request;
  request.inputs = {Input("a", core::DataType::kFp32, {2, 16}), Input("b", core::DataType::kInt64, {3, 1, 2})};
  EXPECT_EQ(Error(BatchingConfig(), request), "input 'b': batch size 3 differs from input 'a' (2)");
}

TEST_F(RequestValidationTest, ByteLengthMismatch) {
  core::InferenceRequest request = ValidRequest();
  request.inputs[0] = Input("a", core::DataType::kFp32, {2, 16}, 127);
  EXPECT_EQ(Error(BatchingConfig(), request), "input 'a': shape [2,16] of FP32 needs 128 bytes, got 127");
  request.inputs[0] = Input("a", core::DataType::kFp32, {2, 16}, 129);
  EXPECT_EQ(Error(BatchingConfig(), request), "input 'a': shape [2,16] of FP32 needs 128 bytes, got 129");
  request.inputs[0] = Input("a", core::DataType::kFp32, {2, 16}, 0);
  EXPECT_EQ(Error(BatchingConfig(), request), "input 'a': shape [2,16] of FP32 needs 128 bytes, got 0");
}

TEST_F(RequestValidationTest, ZeroSizedDimensionNeedsNoBytes) {
  core::InferenceRequest request = ValidRequest();
  request.inputs[1] = Input("b", core::DataType::kInt64, {2, 0, 2});
  EXPECT_EQ(request.inputs[1].data.size(), 0u);
  EXPECT_EQ(Error(BatchingConfig(), request), "<valid>");
}

TEST_F(RequestValidationTest, ElementCountThatOverflowsIsRejected) {
  repository::ModelConfig config = PlainConfig();
  config.inputs = {Spec("c", core::DataType::kInt16, {-1, -1})};
  core::InferenceRequest request;
  request.inputs = {Input("c", core::DataType::kInt16, {int64_t{1} << 32, int64_t{1} << 32}, 8)};
  EXPECT_EQ(Error(config, request),
            "input 'c': shape [4294967296,4294967296] of INT16 needs more bytes than fit in memory, got 8");
}

// An element count that fits in int64 but whose byte length does not fit in
// uint64 is rejected, but the message multiplies anyway and prints the
// wrapped-around product: for 2^62 + 1 FP32 elements it says "needs 4 bytes".
TEST_F(RequestValidationTest, ByteLengthThatOverflowsIsReportedAsTooLarge) {
  repository::ModelConfig config = PlainConfig();
  config.inputs = {Spec("c", core::DataType::kFp32, {-1})};
  core::InferenceRequest request;
  request.inputs = {Input("c", core::DataType::kFp32, {(int64_t{1} << 62) + 1}, 4)};
  EXPECT_EQ(Error(config, request),
            "input 'c': shape [4611686018427387905] of FP32 needs more bytes than fit in memory, got 4");
}

TEST_F(RequestValidationTest, UnknownRequestedOutput) {
  core::InferenceRequest request = ValidRequest();
  request.requested_outputs = {"x", "w"};
  EXPECT_EQ(Error(BatchingConfig(), request), "unknown output 'w' requested; model 'm' gives: x, y, z");
}

TEST_F(RequestValidationTest, DuplicateRequestedOutput) {
  core::InferenceRequest request = ValidRequest();
  request.requested_outputs = {"y", "x", "y"};
  EXPECT_EQ(Error(BatchingConfig(), request), "output 'y' is requested more than once");
}

TEST_F(RequestValidationTest, PriorityMustBeOneOfTheModelsLevels) {
  repository::ModelConfig config = BatchingConfig();
  core::InferenceRequest request = ValidRequest();
  request.priority = 3;
  EXPECT_EQ(Error(config, request), "<valid>");  // one level: ignored, as Triton ignores it
  config.batching.priority_levels = 2;
  EXPECT_EQ(Error(config, request),
            "parameter 'priority': 3 is outside 0 to 2; model 'm' has 2 priority levels (1 is the highest, 0 the default)");
  request.priority = 2;
  EXPECT_EQ(Error(config, request), "<valid>");
  request.priority = UINT64_MAX;  // Triton's clients send priorities as uint64: the message quotes it as sent
  EXPECT_EQ(Error(config, request), "parameter 'priority': 18446744073709551615 is outside 0 to 2; model 'm' has 2 "
                                    "priority levels (1 is the highest, 0 the default)");
}

}  // namespace
}  // namespace edgeserve::server
