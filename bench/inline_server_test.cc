// Tests of the inline server baseline on the test suite's own TorchScript
// models (tests/CMakeLists.txt makes them): what it answers is the model's
// forward, and what it refuses it refuses with the protocol's codes. A binary
// of its own, as it is the bench's only test that needs LibTorch.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "grpc_bench.h"
#include "grpc_service.grpc.pb.h"
#include "inline_server.h"

namespace edgeserve::bench {
namespace {

std::string ModelFile(const std::string& model) {
  return absl::StrCat(EDGESERVE_TEST_MODELS, "/", model, "/1/model.pt");
}

std::string Floats(const std::vector<float>& values) {
  std::string raw(values.size() * sizeof(float), '\0');
  std::memcpy(raw.data(), values.data(), raw.size());
  return raw;
}

std::vector<int64_t> ShapeOf(const inference::ModelInferResponse::InferOutputTensor& output) {
  return {output.shape().begin(), output.shape().end()};
}

class InlineServerTest : public ::testing::Test {
 protected:
  void Start(const std::string& model, std::vector<int64_t> shape) {
    InlineServerOptions options;
    options.model_file = ModelFile(model);
    options.shape = std::move(shape);
    absl::StatusOr<std::unique_ptr<InlineServer>> server = InlineServer::Start("127.0.0.1:0", options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = inference::GRPCInferenceService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  static inference::ModelInferRequest Request(const std::vector<float>& values, const std::string& datatype = "FP32") {
    inference::ModelInferRequest request;
    request.set_model_name("m");
    request.set_id("r1");
    auto* input = request.add_inputs();
    input->set_name("INPUT0");
    input->set_datatype(datatype);
    input->add_shape(static_cast<int64_t>(values.size()));
    request.add_raw_input_contents(Floats(values));
    return request;
  }

  grpc::Status Infer(const inference::ModelInferRequest& request, inference::ModelInferResponse& response) {
    grpc::ClientContext context;
    return stub_->ModelInfer(&context, request, &response);
  }

  std::unique_ptr<InlineServer> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

TEST_F(InlineServerTest, AnswersEveryOutputOfTheForwardInOrder) {
  Start("list_outputs", {2});  // forward(x) = [x + 1, x * 3]
  EXPECT_FALSE(server_->module_form().empty());
  inference::ModelInferResponse response;
  const grpc::Status status = Infer(Request({1.5F, -2.0F}), response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.id(), "r1");
  ASSERT_EQ(response.outputs_size(), 2);
  ASSERT_EQ(response.raw_output_contents_size(), 2);
  EXPECT_EQ(response.outputs(0).name(), "OUTPUT0");
  EXPECT_EQ(response.outputs(1).name(), "OUTPUT1");
  EXPECT_EQ(response.outputs(0).datatype(), "FP32");
  EXPECT_EQ(ShapeOf(response.outputs(1)), (std::vector<int64_t>{2}));
  EXPECT_EQ(response.raw_output_contents(0), Floats({2.5F, -1.0F}));
  EXPECT_EQ(response.raw_output_contents(1), Floats({4.5F, -6.0F}));
}

TEST_F(InlineServerTest, DeclaresTheShapeWithAVariableBatchAndServesTheBenchLoad) {
  Start("identity", {1, 16});
  inference::ModelMetadataRequest request;
  request.set_name("identity");
  inference::ModelMetadataResponse metadata;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ModelMetadata(&context, request, &metadata).ok());
  ASSERT_EQ(metadata.inputs_size(), 1);
  EXPECT_EQ(metadata.inputs(0).datatype(), "FP32");
  EXPECT_EQ(std::vector<int64_t>(metadata.inputs(0).shape().begin(), metadata.inputs(0).shape().end()),
            (std::vector<int64_t>{-1, 16}));

  GrpcBenchOptions options;
  options.url = absl::StrCat("127.0.0.1:", server_->port());
  options.model = "identity";
  options.concurrency = 2;
  options.inputs.batch = 3;
  options.warmup_s = 0;
  options.duration_s = 0.3;
  absl::StatusOr<Report> report = RunGrpcBench(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->requests, 0);
  EXPECT_EQ(report->errors, 0) << report->first_error;
  EXPECT_EQ(report->batch, 3);
}

TEST_F(InlineServerTest, RefusesInputsThatDoNotMatchAndKeepsServing) {
  Start("identity", {1, 16});
  inference::ModelInferResponse response;
  inference::ModelInferRequest short_bytes = Request({1.0F, 2.0F});
  short_bytes.mutable_inputs(0)->add_shape(16);  // [2,16] declared, 2 values sent
  grpc::Status status = Infer(short_bytes, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "inline server: shape [2,16] does not match 8 bytes of FP32");

  status = Infer(Request(std::vector<float>(16, 1.0F), "INT32"), response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "inline server: input datatype INT32, expected FP32");

  inference::ModelInferRequest two_inputs = Request(std::vector<float>(16, 1.0F));
  *two_inputs.add_inputs() = two_inputs.inputs(0);
  two_inputs.add_raw_input_contents(two_inputs.raw_input_contents(0));
  status = Infer(two_inputs, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  inference::ModelInferRequest good = Request(std::vector<float>(16, 0.25F));
  good.mutable_inputs(0)->mutable_shape()->Clear();
  good.mutable_inputs(0)->add_shape(1);
  good.mutable_inputs(0)->add_shape(16);
  response.Clear();
  status = Infer(good, response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.raw_output_contents(0), good.raw_input_contents(0));
  EXPECT_EQ(ShapeOf(response.outputs(0)), (std::vector<int64_t>{1, 16}));
}

TEST_F(InlineServerTest, AnswersAForwardThatRaisesWithInternalAndKeepsServing) {
  Start("failing", {4});  // raises on any negative element
  inference::ModelInferResponse response;
  grpc::Status status = Infer(Request({1.0F, -1.0F, 2.0F, 3.0F}), response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_NE(status.error_message().find("negative input rejected by the model"), std::string::npos)
      << status.error_message();
  response.Clear();
  status = Infer(Request({1.0F, 2.0F, 3.0F, 4.0F}), response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.raw_output_contents(0), Floats({2.0F, 3.0F, 4.0F, 5.0F}));
}

TEST(InlineServer, FailsToStartOnAModelFileThatIsNotThere) {
  InlineServerOptions options;
  options.model_file = ModelFile("no_such_model");
  options.shape = {1, 16};
  absl::StatusOr<std::unique_ptr<InlineServer>> server = InlineServer::Start("127.0.0.1:0", options);
  ASSERT_FALSE(server.ok());
  // Not InvalidArgument, which edgeserve-bench reports as a usage error:
  // it could not run, as torch-loop says of a model it cannot load.
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(server.status().message().find("no_such_model"), std::string::npos) << server.status();
}

}  // namespace
}  // namespace edgeserve::bench
