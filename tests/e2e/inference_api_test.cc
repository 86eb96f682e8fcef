// The Open Inference Protocol end to end: a real daemon process on the test
// models, every RPC through a real gRPC channel.
#include <algorithm>
#include <cmath>
#include <atomic>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <random>
#include <thread>

#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <ATen/Parallel.h>
#include <torch/script.h>

#include "e2e/daemon_process.h"

namespace edgeserve::testing {
namespace {

using inference::ModelInferRequest;
using inference::ModelInferResponse;

constexpr int kMaxMessageBytes = 4 << 20;

class InferenceApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = MakeTempDir("edgeserve-api-");
    WriteFile(dir + "/edgeserve.yaml", "server:\n  max_message_bytes: " + std::to_string(kMaxMessageBytes) +
                                           "\nrepository:\n  path: " EDGESERVE_TEST_MODELS
                                           "\nthreads:\n  intra_op: 1\n  inter_op: 1\n");
    daemon_ = new DaemonProcess({"--config", dir + "/edgeserve.yaml"});
    ASSERT_TRUE(daemon_->WaitUntilLive()) << daemon_->Log();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(daemon_->StopWith(SIGTERM), 0) << daemon_->Log();
    delete daemon_;
    daemon_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(daemon_, nullptr);
    stub_ = daemon_->NewStub();
  }

  grpc::Status Infer(const ModelInferRequest& request, ModelInferResponse* response) {
    return stub_->ModelInfer(ContextWithDeadline().get(), request, response);
  }

  static DaemonProcess* daemon_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

DaemonProcess* InferenceApiTest::daemon_ = nullptr;

template <typename T>
std::string Bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

template <typename T>
std::vector<T> Values(const std::string& bytes) {
  std::vector<T> values(bytes.size() / sizeof(T));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
  return values;
}

ModelInferRequest::InferInputTensor* AddInput(ModelInferRequest* request, const std::string& name,
                                              const std::string& datatype, std::vector<int64_t> shape) {
  auto* input = request->add_inputs();
  input->set_name(name);
  input->set_datatype(datatype);
  for (int64_t dim : shape) input->add_shape(dim);
  return input;
}

ModelInferRequest IdentityRequest(const std::vector<float>& values, int64_t batch) {
  return Fp32Request("identity", "INPUT0", {batch, 16}, values);
}

TEST_F(InferenceApiTest, ServerLiveAndMetadata) {
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(ContextWithDeadline().get(), {}, &live).ok());
  EXPECT_TRUE(live.live());
  inference::ServerMetadataResponse metadata;
  ASSERT_TRUE(stub_->ServerMetadata(ContextWithDeadline().get(), {}, &metadata).ok());
  EXPECT_EQ(metadata.name(), "edgeserve");
  EXPECT_EQ(metadata.version(), EDGESERVE_VERSION);
  EXPECT_NE(std::find(metadata.extensions().begin(), metadata.extensions().end(), "statistics"),
            metadata.extensions().end());
  EXPECT_NE(std::find(metadata.extensions().begin(), metadata.extensions().end(), "model_configuration"),
            metadata.extensions().end());
}

TEST_F(InferenceApiTest, ServerIsNotReadyWhileAModelFailedToLoadUnderStrictReadiness) {
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(ContextWithDeadline().get(), {}, &ready).ok());
  EXPECT_FALSE(ready.ready()) << "the corrupt test model is unavailable and strict_readiness is on";
}

TEST_F(InferenceApiTest, ModelReadyPerModelAndVersion) {
  auto ready = [&](const std::string& name, const std::string& version, bool* answer) {
    inference::ModelReadyRequest request;
    request.set_name(name);
    request.set_version(version);
    inference::ModelReadyResponse response;
    grpc::Status status = stub_->ModelReady(ContextWithDeadline().get(), request, &response);
    *answer = response.ready();
    return status;
  };
  bool answer = false;
  ASSERT_TRUE(ready("identity", "", &answer).ok());
  EXPECT_TRUE(answer);
  ASSERT_TRUE(ready("versioned", "3", &answer).ok());
  EXPECT_TRUE(answer);
  ASSERT_TRUE(ready("corrupt", "", &answer).ok());
  EXPECT_FALSE(answer);
  EXPECT_EQ(ready("versioned", "1", &answer).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ready("no_such_model", "", &answer).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(InferenceApiTest, ModelMetadataDescribesTensorsWithBatchDimension) {
  inference::ModelMetadataRequest request;
  request.set_name("classifier");
  inference::ModelMetadataResponse response;
  ASSERT_TRUE(stub_->ModelMetadata(ContextWithDeadline().get(), request, &response).ok());
  EXPECT_EQ(response.name(), "classifier");
  ASSERT_EQ(response.versions_size(), 1);
  EXPECT_EQ(response.versions(0), "1");
  EXPECT_EQ(response.platform(), "torchscript");
  ASSERT_EQ(response.inputs_size(), 1);
  EXPECT_EQ(response.inputs(0).name(), "images");
  EXPECT_EQ(response.inputs(0).datatype(), "FP32");
  EXPECT_EQ(std::vector<int64_t>(response.inputs(0).shape().begin(), response.inputs(0).shape().end()),
            (std::vector<int64_t>{-1, 3, 224, 224}));
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(std::vector<int64_t>(response.outputs(0).shape().begin(), response.outputs(0).shape().end()),
            (std::vector<int64_t>{-1, 1000}));

  request.set_name("add_sub");
  response.Clear();
  ASSERT_TRUE(stub_->ModelMetadata(ContextWithDeadline().get(), request, &response).ok());
  ASSERT_EQ(response.outputs_size(), 2);
  EXPECT_EQ(response.outputs(0).datatype(), "INT32");
  EXPECT_EQ(response.outputs(1).datatype(), "FP32");
  EXPECT_EQ(std::vector<int64_t>(response.inputs(0).shape().begin(), response.inputs(0).shape().end()),
            (std::vector<int64_t>{-1}));
}

TEST_F(InferenceApiTest, ModelMetadataErrors) {
  inference::ModelMetadataRequest request;
  inference::ModelMetadataResponse response;
  request.set_name("no_such_model");
  grpc::Status status = stub_->ModelMetadata(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("no_such_model"), std::string::npos);
  request.set_name("corrupt");
  status = stub_->ModelMetadata(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("not a loadable TorchScript module"), std::string::npos)
      << status.error_message();
}

// Triton's ModelConfig RPC, which its tools (perf_analyzer, tritonclient's
// get_model_config) call before anything else.
TEST_F(InferenceApiTest, ModelConfigAnswersInTritonsShape) {
  inference::ModelConfigRequest request;
  request.set_name("classifier");
  inference::ModelConfigResponse response;
  grpc::Status status = stub_->ModelConfig(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const inference::ModelConfig& classifier = response.config();
  EXPECT_EQ(classifier.name(), "classifier");
  EXPECT_EQ(classifier.platform(), "torchscript");
  EXPECT_EQ(classifier.max_batch_size(), 8);
  ASSERT_EQ(classifier.input_size(), 1);
  EXPECT_EQ(classifier.input(0).name(), "images");
  EXPECT_EQ(classifier.input(0).data_type(), inference::TYPE_FP32);
  EXPECT_EQ(std::vector<int64_t>(classifier.input(0).dims().begin(), classifier.input(0).dims().end()),
            (std::vector<int64_t>{3, 224, 224}));
  ASSERT_EQ(classifier.output_size(), 1);
  EXPECT_EQ(std::vector<int64_t>(classifier.output(0).dims().begin(), classifier.output(0).dims().end()),
            (std::vector<int64_t>{1000}));
  ASSERT_TRUE(classifier.has_dynamic_batching()) << "mode slo is the default and batches";
  EXPECT_EQ(classifier.dynamic_batching().default_queue_policy().max_queue_size(), 1024u);
  ASSERT_EQ(classifier.instance_group_size(), 1);
  EXPECT_EQ(classifier.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_AUTO);
  EXPECT_EQ(classifier.parameters().at("optimization").string_value(), "optimize");
  EXPECT_EQ(classifier.parameters().at("batching.mode").string_value(), "slo");

  request.set_name("add_sub");
  response.Clear();
  ASSERT_TRUE(stub_->ModelConfig(ContextWithDeadline().get(), request, &response).ok());
  EXPECT_EQ(response.config().max_batch_size(), 0);
  ASSERT_EQ(response.config().output_size(), 2);
  EXPECT_EQ(response.config().output(0).data_type(), inference::TYPE_INT32);
  EXPECT_EQ(response.config().output(1).data_type(), inference::TYPE_FP32);
  EXPECT_EQ(std::vector<int64_t>(response.config().input(1).dims().begin(), response.config().input(1).dims().end()),
            (std::vector<int64_t>{-1}));

  request.set_name("versioned");
  request.set_version("3");
  EXPECT_TRUE(stub_->ModelConfig(ContextWithDeadline().get(), request, &response).ok());
  request.set_version("1");
  status = stub_->ModelConfig(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("version '1'"), std::string::npos) << status.error_message();
  request.set_name("no_such_model");
  request.clear_version();
  EXPECT_EQ(stub_->ModelConfig(ContextWithDeadline().get(), request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_name("corrupt");
  status = stub_->ModelConfig(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("not a loadable TorchScript module"), std::string::npos)
      << status.error_message();
}

TEST_F(InferenceApiTest, RepositoryIndexListsEveryModelWithStateAndReason) {
  inference::RepositoryIndexRequest request;
  inference::RepositoryIndexResponse response;
  ASSERT_TRUE(stub_->RepositoryIndex(ContextWithDeadline().get(), request, &response).ok());
  std::map<std::string, inference::RepositoryIndexResponse::ModelIndex> models;
  for (const auto& model : response.models()) models[model.name()] = model;
  ASSERT_EQ(models.size(), 16u);
  EXPECT_EQ(models["identity"].state(), "READY");
  EXPECT_EQ(models["versioned"].version(), "3");
  EXPECT_EQ(models["corrupt"].state(), "UNAVAILABLE");
  EXPECT_NE(models["corrupt"].reason().find("not a loadable TorchScript module"), std::string::npos);
  EXPECT_EQ(models["mismatched"].state(), "UNAVAILABLE");
  EXPECT_NE(models["mismatched"].reason().find("output 'y'"), std::string::npos) << models["mismatched"].reason();

  request.set_ready(true);
  response.Clear();
  ASSERT_TRUE(stub_->RepositoryIndex(ContextWithDeadline().get(), request, &response).ok());
  EXPECT_EQ(response.models_size(), 14);
  for (const auto& model : response.models()) EXPECT_EQ(model.state(), "READY") << model.name();
}

TEST_F(InferenceApiTest, RepositoryIndexRefusesARepositoryNameAsTritonDoes) {
  inference::RepositoryIndexRequest request;
  request.set_repository_name("models");
  inference::RepositoryIndexResponse response;
  const grpc::Status status = stub_->RepositoryIndex(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(status.error_message(),
            "RepositoryIndex: 'repository_name' ('models') is not supported: edgeserve serves one model repository; "
            "leave it empty");
  EXPECT_EQ(response.models_size(), 0);
}

// The int8 example (PyTorch's dynamic quantisation of 'mlp') serves on the
// CPU and mostly agrees with its fp32 original.
TEST_F(InferenceApiTest, QuantisedInt8ModelServesAndAgreesWithItsFp32Original) {
  constexpr int kRows = 64;
  std::vector<float> features(kRows * 64);
  for (size_t i = 0; i < features.size(); ++i) features[i] = std::sin(static_cast<float>(i) * 0.37f);
  ModelInferResponse fp32, int8;
  ASSERT_TRUE(Infer(Fp32Request("mlp", "features", {kRows, 64}, features), &fp32).ok());
  const grpc::Status status = Infer(Fp32Request("mlp_int8", "features", {kRows, 64}, features), &int8);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::vector<float> expected = Values<float>(fp32.raw_output_contents(0));
  const std::vector<float> got = Values<float>(int8.raw_output_contents(0));
  ASSERT_EQ(got.size(), static_cast<size_t>(kRows * 10));
  int agreeing = 0;
  for (int row = 0; row < kRows; ++row) {
    auto argmax = [&](const std::vector<float>& logits) {
      return std::max_element(logits.begin() + row * 10, logits.begin() + row * 10 + 10) - logits.begin();
    };
    agreeing += argmax(expected) == argmax(got) ? 1 : 0;
  }
  EXPECT_GE(agreeing, kRows * 9 / 10);
  EXPECT_NE(got, expected) << "int8 arithmetic should not be bitwise fp32";
}

TEST_F(InferenceApiTest, IdentityRawRoundTripEchoesIdAndModel) {
  std::vector<float> values(2 * 16);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.5f - 3.25f;
  ModelInferRequest request = IdentityRequest(values, 2);
  request.set_id("request-42");
  (*request.mutable_parameters())["some_unknown_parameter"].set_string_param("ignored");
  ModelInferResponse response;
  grpc::Status status = Infer(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.id(), "request-42");
  EXPECT_EQ(response.model_name(), "identity");
  EXPECT_EQ(response.model_version(), "1");
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(response.outputs(0).name(), "OUTPUT0");
  EXPECT_EQ(response.outputs(0).datatype(), "FP32");
  EXPECT_EQ(std::vector<int64_t>(response.outputs(0).shape().begin(), response.outputs(0).shape().end()),
            (std::vector<int64_t>{2, 16}));
  ASSERT_EQ(response.raw_output_contents_size(), 1);
  EXPECT_EQ(response.raw_output_contents(0), Bytes(values));
}

TEST_F(InferenceApiTest, TypedContentsAreAccepted) {
  ModelInferRequest request;
  request.set_model_name("identity");
  auto* input = AddInput(&request, "INPUT0", "FP32", {1, 16});
  std::vector<float> values;
  for (int i = 0; i < 16; ++i) {
    values.push_back(static_cast<float>(i * i));
    input->mutable_contents()->add_fp32_contents(values.back());
  }
  ModelInferResponse response;
  grpc::Status status = Infer(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.raw_output_contents(0), Bytes(values));
}

TEST_F(InferenceApiTest, AddSubTwoInputsTwoOutputsAndOutputSubset) {
  ModelInferRequest request;
  request.set_model_name("add_sub");
  const std::vector<int32_t> a = {1, 2, 3, -4, 100000};
  const std::vector<int32_t> b = {10, 20, 30, 40, -7};
  AddInput(&request, "INPUT1", "INT32", {5});  // out of config order on purpose
  AddInput(&request, "INPUT0", "INT32", {5});
  request.add_raw_input_contents(Bytes(b));
  request.add_raw_input_contents(Bytes(a));
  ModelInferResponse response;
  grpc::Status status = Infer(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.outputs_size(), 2);
  EXPECT_EQ(response.outputs(0).name(), "OUTPUT0");
  EXPECT_EQ(response.outputs(0).datatype(), "INT32");
  EXPECT_EQ(Values<int32_t>(response.raw_output_contents(0)), (std::vector<int32_t>{11, 22, 33, 36, 99993}));
  EXPECT_EQ(response.outputs(1).datatype(), "FP32");
  EXPECT_EQ(Values<float>(response.raw_output_contents(1)), (std::vector<float>{-9, -18, -27, -44, 100007}));

  request.add_outputs()->set_name("OUTPUT1");
  response.Clear();
  status = Infer(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(response.outputs(0).name(), "OUTPUT1");
  EXPECT_EQ(Values<float>(response.raw_output_contents(0)), (std::vector<float>{-9, -18, -27, -44, 100007}));
}

// Triton's example clients all call a model named "simple"; the request below
// is theirs: typed int_contents of shape [1, 16], both outputs named, no
// version. Triton's JavaScript example ran unchanged against this model
// (README, "Triton's own clients").
TEST_F(InferenceApiTest, TritonsQuickstartModelSimpleAnswersTritonsExampleRequest) {
  inference::ModelMetadataRequest metadata_request;
  metadata_request.set_name("simple");
  inference::ModelMetadataResponse metadata;
  ASSERT_TRUE(stub_->ModelMetadata(ContextWithDeadline().get(), metadata_request, &metadata).ok());
  ASSERT_EQ(metadata.inputs_size(), 2);
  EXPECT_EQ(metadata.inputs(1).name(), "INPUT1");
  EXPECT_EQ(std::vector<int64_t>(metadata.inputs(1).shape().begin(), metadata.inputs(1).shape().end()),
            (std::vector<int64_t>{-1, 16}));

  ModelInferRequest request;
  request.set_model_name("simple");
  auto* input0 = AddInput(&request, "INPUT0", "INT32", {1, 16});
  auto* input1 = AddInput(&request, "INPUT1", "INT32", {1, 16});
  for (int i = 0; i < 16; ++i) {
    input0->mutable_contents()->add_int_contents(i);
    input1->mutable_contents()->add_int_contents(1);
  }
  request.add_outputs()->set_name("OUTPUT0");
  request.add_outputs()->set_name("OUTPUT1");
  ModelInferResponse response;
  grpc::Status status = Infer(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.outputs_size(), 2);
  std::vector<int32_t> sums;
  std::vector<int32_t> differences;
  for (int i = 0; i < 16; ++i) {
    sums.push_back(i + 1);
    differences.push_back(i - 1);
  }
  EXPECT_EQ(response.outputs(0).datatype(), "INT32");
  EXPECT_EQ(std::vector<int64_t>(response.outputs(0).shape().begin(), response.outputs(0).shape().end()),
            (std::vector<int64_t>{1, 16}));
  EXPECT_EQ(Values<int32_t>(response.raw_output_contents(0)), sums);
  EXPECT_EQ(Values<int32_t>(response.raw_output_contents(1)), differences);
}

TEST_F(InferenceApiTest, DictOutputsAreMatchedByName) {
  ModelInferRequest request;
  request.set_model_name("dict_outputs");
  AddInput(&request, "x", "FP32", {2, 3});
  request.add_raw_input_contents(Bytes(std::vector<float>{1, 2, 3, 4, 5, 6}));
  ModelInferResponse response;
  grpc::Status status = Infer(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.outputs_size(), 2);
  EXPECT_EQ(response.outputs(0).name(), "summed");
  EXPECT_EQ(Values<float>(response.raw_output_contents(0)), (std::vector<float>{6, 15}));
  EXPECT_EQ(response.outputs(1).name(), "doubled");
  EXPECT_EQ(Values<float>(response.raw_output_contents(1)), (std::vector<float>{2, 4, 6, 8, 10, 12}));
}

TEST_F(InferenceApiTest, HighestVersionIsServed) {
  ModelInferRequest request;
  request.set_model_name("versioned");
  AddInput(&request, "x", "FP32", {2});
  request.add_raw_input_contents(Bytes(std::vector<float>{1, 2}));
  ModelInferResponse response;
  ASSERT_TRUE(Infer(request, &response).ok());
  EXPECT_EQ(response.model_version(), "3");
  EXPECT_EQ(Values<float>(response.raw_output_contents(0)), (std::vector<float>{4, 5}));
  request.set_model_version("1");
  grpc::Status status = Infer(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("version 3 is served"), std::string::npos) << status.error_message();
}

// The daemon serves the classifier frozen and optimised (its config says so);
// the same preparation and forward here must give the same bits.
TEST_F(InferenceApiTest, ClassifierOutputIsBitwiseEqualToDirectLibTorchForward) {
  at::set_num_threads(1);
  torch::jit::Module module = torch::jit::load(std::string(EDGESERVE_TEST_MODELS) + "/classifier/1/model.pt");
  module.eval();
  torch::jit::Module frozen = torch::jit::freeze(module);
  torch::jit::Module optimized = torch::jit::optimize_for_inference(frozen);
  for (int64_t batch : {1, 3}) {
    torch::manual_seed(static_cast<uint64_t>(batch));
    const at::Tensor images = torch::rand({batch, 3, 224, 224});
    at::Tensor expected;
    {
      c10::InferenceMode guard;
      for (int warm = 0; warm < 3; ++warm) expected = optimized.forward({images}).toTensor().contiguous();
    }
    ModelInferRequest request;
    request.set_model_name("classifier");
    AddInput(&request, "images", "FP32", {batch, 3, 224, 224});
    request.add_raw_input_contents(std::string(static_cast<const char*>(images.data_ptr()), images.nbytes()));
    ModelInferResponse response;
    grpc::Status status = Infer(request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.raw_output_contents_size(), 1);
    EXPECT_EQ(std::vector<int64_t>(response.outputs(0).shape().begin(), response.outputs(0).shape().end()),
              (std::vector<int64_t>{batch, 1000}));
    EXPECT_EQ(response.raw_output_contents(0),
              std::string(static_cast<const char*>(expected.data_ptr()), expected.nbytes()))
        << "batch " << batch;
  }
  // The optimised model warns on each forward of a new shape; the daemon's
  // log holds each message once, in its own format, never glog's.
  const std::string log = daemon_->Log();
  EXPECT_EQ(log.find("(function resize_output_check)"), std::string::npos) << log;
  EXPECT_NE(log.find("shown once"), std::string::npos) << log;
}

struct BadInputCase {
  std::string label;
  std::function<void(ModelInferRequest*)> mutate;
  grpc::StatusCode code;
  std::string message_part;
};

TEST_F(InferenceApiTest, BadInputsGetPreciseErrorsAndTheDaemonKeepsServing) {
  const std::vector<float> good(16, 1.0f);
  const std::vector<BadInputCase> cases = {
      {"unknown model", [](ModelInferRequest* r) { r->set_model_name("nope"); }, grpc::StatusCode::NOT_FOUND,
       "model 'nope' not found"},
      {"unknown version", [](ModelInferRequest* r) { r->set_model_version("7"); }, grpc::StatusCode::NOT_FOUND,
       "version '7' is not loaded"},
      {"empty model name", [](ModelInferRequest* r) { r->set_model_name(""); }, grpc::StatusCode::NOT_FOUND,
       "the request names no model: its model name is empty"},
      // Quoted whole, the name would not fit the 8 KB of trailers that gRPC
      // clients accept, and this client would see RESOURCE_EXHAUSTED.
      {"1 MB model name", [](ModelInferRequest* r) { r->set_model_name(std::string(1 << 20, 'x')); },
       grpc::StatusCode::NOT_FOUND, "bytes left out ...] xxx"},
      {"values in a second typed field",
       [](ModelInferRequest* r) {
         r->clear_raw_input_contents();
         for (int i = 0; i < 16; ++i) r->mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.0f);
         r->mutable_inputs(0)->mutable_contents()->add_int_contents(1);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       "input 'INPUT0': contents.int_contents has 1 values, but FP32 values go in contents.fp32_contents"},
      {"wrong datatype", [](ModelInferRequest* r) { r->mutable_inputs(0)->set_datatype("INT32"); },
       grpc::StatusCode::INVALID_ARGUMENT, "input 'INPUT0': expected datatype FP32, got INT32"},
      {"unknown datatype", [](ModelInferRequest* r) { r->mutable_inputs(0)->set_datatype("FP33"); },
       grpc::StatusCode::INVALID_ARGUMENT, "unknown datatype 'FP33'"},
      {"wrong shape", [](ModelInferRequest* r) { r->mutable_inputs(0)->set_shape(1, 15); },
       grpc::StatusCode::INVALID_ARGUMENT, "input 'INPUT0': expected shape [-1,16], got [1,15]"},
      {"wrong rank", [](ModelInferRequest* r) { r->mutable_inputs(0)->mutable_shape()->RemoveLast(); },
       grpc::StatusCode::INVALID_ARGUMENT, "expected shape [-1,16], got [1]"},
      {"batch too large", [](ModelInferRequest* r) { r->mutable_inputs(0)->set_shape(0, 65); },
       grpc::StatusCode::INVALID_ARGUMENT, "batch size 65 is outside 1 to 64"},
      {"raw byte length",
       [](ModelInferRequest* r) { r->mutable_raw_input_contents(0)->resize(60); }, grpc::StatusCode::INVALID_ARGUMENT,
       "input 'INPUT0': shape [1,16] of FP32 needs 64 bytes, got 60"},
      {"missing input",
       [](ModelInferRequest* r) {
         r->clear_inputs();
         r->clear_raw_input_contents();
       },
       grpc::StatusCode::INVALID_ARGUMENT, "missing input 'INPUT0'"},
      {"unexpected input", [](ModelInferRequest* r) { r->mutable_inputs(0)->set_name("IMAGE"); },
       grpc::StatusCode::INVALID_ARGUMENT, "unexpected input 'IMAGE'"},
      {"raw count",
       [](ModelInferRequest* r) { r->add_raw_input_contents("extra"); }, grpc::StatusCode::INVALID_ARGUMENT,
       "raw_input_contents has 2 entries for 1 inputs"},
      {"typed element count",
       [](ModelInferRequest* r) {
         r->clear_raw_input_contents();
         for (int i = 0; i < 15; ++i) r->mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.0f);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "input 'INPUT0': its shape needs 16 values in contents.fp32_contents, got 15"},
      {"unknown output", [](ModelInferRequest* r) { r->add_outputs()->set_name("LOGITS"); },
       grpc::StatusCode::INVALID_ARGUMENT, "unknown output 'LOGITS'"},
      {"unavailable model", [](ModelInferRequest* r) { r->set_model_name("corrupt"); }, grpc::StatusCode::UNAVAILABLE,
       "model 'corrupt' is not ready"},
      {"Triton's top-k",
       [](ModelInferRequest* r) {
         auto* output = r->add_outputs();
         output->set_name("OUTPUT0");
         (*output->mutable_parameters())["classification"].set_int64_param(3);
       },
       grpc::StatusCode::UNIMPLEMENTED, "output 'OUTPUT0': parameter 'classification' (top-k labels) is not supported"},
      {"Triton's shared memory",
       [](ModelInferRequest* r) {
         r->clear_raw_input_contents();
         (*r->mutable_inputs(0)->mutable_parameters())["shared_memory_region"].set_string_param("input0_data");
       },
       grpc::StatusCode::UNIMPLEMENTED, "input 'INPUT0': parameter 'shared_memory_region': shared memory is not supported"},
      {"Triton's sequence", [](ModelInferRequest* r) { (*r->mutable_parameters())["sequence_id"].set_uint64_param(7); },
       grpc::StatusCode::UNIMPLEMENTED, "parameter 'sequence_id': sequence batching is not supported"},
      {"Triton's sequence, as a double",
       [](ModelInferRequest* r) { (*r->mutable_parameters())["sequence_id"].set_double_param(7.0); },
       grpc::StatusCode::UNIMPLEMENTED, "parameter 'sequence_id': sequence batching is not supported"},
  };
  for (const BadInputCase& bad : cases) {
    ModelInferRequest request = IdentityRequest(good, 1);
    bad.mutate(&request);
    ModelInferResponse response;
    grpc::Status status = Infer(request, &response);
    EXPECT_EQ(status.error_code(), bad.code) << bad.label << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(bad.message_part), std::string::npos)
        << bad.label << ": got '" << status.error_message() << "'";
    ModelInferResponse good_response;
    ASSERT_TRUE(Infer(IdentityRequest(good, 1), &good_response).ok()) << "after " << bad.label;
  }
}

TEST_F(InferenceApiTest, AFloodOfBadRequestsDoesNotFloodTheLog) {
  auto count_rejections = [] {
    const std::string log = daemon_->Log();
    size_t count = 0;
    for (size_t at = log.find("flood-"); at != std::string::npos; at = log.find("flood-", at + 1)) ++count;
    return count;
  };
  ModelInferRequest request = IdentityRequest(std::vector<float>(16, 1.0f), 1);
  request.mutable_inputs(0)->set_datatype("INT32");
  ModelInferResponse response;
  for (int i = 0; i < 300; ++i) {
    request.set_id("flood-" + std::to_string(i));
    ASSERT_EQ(Infer(request, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_LE(count_rejections(), 40u) << "at most 10 lines a second are logged";
  // The throttle's window is one second of wall time; the next line reports
  // how many were left out.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  request.set_id("flood-last");
  ASSERT_EQ(Infer(request, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::string log = daemon_->Log();
  EXPECT_NE(log.find("request 'flood-last' rejected"), std::string::npos) << log;
  EXPECT_NE(log.find("similar lines suppressed"), std::string::npos);

  // A line keeps a bounded part of a long id: ten lines a second of 1 MB ids
  // would otherwise write 10 MB a second to the journal.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  request.set_id("long-" + std::string(1 << 20, 'y'));
  ASSERT_EQ(Infer(request, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::string after = daemon_->Log();
  EXPECT_NE(after.find("request 'long-yyy"), std::string::npos);
  EXPECT_NE(after.find("bytes left out"), std::string::npos);
  EXPECT_LT(after.size() - log.size(), 16u << 10);
}

// `bytes` sent as the request of `method` as they are, protobuf or not.
grpc::Status CallWithBytes(const DaemonProcess& daemon, const std::string& method, const std::string& bytes) {
  grpc::GenericStub stub(grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials()));
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer reply;
  std::unique_ptr<grpc::ClientContext> context = ContextWithDeadline();
  std::promise<grpc::Status> done;
  stub.UnaryCall(context.get(), method, grpc::StubOptions(), &request, &reply,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

// gRPC's own callback handlers would answer UNIMPLEMENTED with no message, as
// if the method did not exist.
TEST_F(InferenceApiTest, RequestsThatAreNotProtobufAreInvalidArgumentsNamingTheMessage) {
  const std::string garbage("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);  // a varint too long
  grpc::Status status = CallWithBytes(*daemon_, "/inference.GRPCInferenceService/ModelInfer", garbage);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(status.error_message(),
            "the request is not a valid inference.ModelInferRequest: its protobuf encoding cannot be parsed");

  const std::string truncated("\x0a\x20short", 7);  // field 1 claims 32 bytes and has 5
  status = CallWithBytes(*daemon_, "/inference.GRPCInferenceService/ModelMetadata", truncated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("inference.ModelMetadataRequest"), std::string::npos);

  // A proto3 string must be UTF-8: protobuf refuses it and says so in the
  // daemon's own log, not as a bare line on stderr.
  const std::string bad_utf8("\x0a\x02\xc3\x28", 4);  // ModelInferRequest.model_name
  status = CallWithBytes(*daemon_, "/inference.GRPCInferenceService/ModelInfer", bad_utf8);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(daemon_->Log().find("[protobuf]"), std::string::npos) << daemon_->Log();

  status = CallWithBytes(*daemon_, "/edgeserve.EdgeServe/DeviceList", garbage);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("edgeserve.DeviceListRequest"), std::string::npos);

  ModelInferResponse response;
  ASSERT_TRUE(Infer(IdentityRequest(std::vector<float>(16, 2.0f), 1), &response).ok());
}

TEST_F(InferenceApiTest, OversizedRequestIsRejectedAndTheDaemonKeepsServing) {
  auto big_stub = daemon_->NewStub(64 << 20);
  std::vector<float> values(64 * 16, 1.0f);
  ModelInferRequest request = IdentityRequest(values, 64);
  request.mutable_raw_input_contents(0)->append(std::string(kMaxMessageBytes, 'x'));
  ModelInferResponse response;
  grpc::Status status = big_stub->ModelInfer(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  ASSERT_TRUE(Infer(IdentityRequest(std::vector<float>(16, 2.0f), 1), &response).ok());
}

TEST_F(InferenceApiTest, ModelErrorIsInternalAndTheModelKeepsServing) {
  ModelInferRequest request;
  request.set_model_name("failing");
  AddInput(&request, "x", "FP32", {4});
  request.add_raw_input_contents(Bytes(std::vector<float>{1, -2, 3, 4}));
  ModelInferResponse response;
  grpc::Status status = Infer(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  // The error first, then TorchScript's traceback through the model's code.
  EXPECT_EQ(status.error_message().rfind("builtins.RuntimeError: negative input rejected by the model\n\n", 0), 0u)
      << status.error_message();
  EXPECT_NE(status.error_message().find("Traceback of TorchScript"), std::string::npos) << status.error_message();
  *request.mutable_raw_input_contents(0) = Bytes(std::vector<float>{1, 2, 3, 4});
  status = Infer(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Values<float>(response.raw_output_contents(0)), (std::vector<float>{2, 3, 4, 5}));
}

TEST_F(InferenceApiTest, ModelStatisticsCountInferencesExecutionsAndFailures) {
  inference::ModelStatisticsRequest stats_request;
  stats_request.set_name("add_sub");
  auto read_stats = [&]() {
    inference::ModelStatisticsResponse response;
    EXPECT_TRUE(stub_->ModelStatistics(ContextWithDeadline().get(), stats_request, &response).ok());
    EXPECT_EQ(response.model_stats_size(), 1);
    return response.model_stats(0);
  };
  const inference::ModelStatistics before = read_stats();
  ModelInferRequest request;
  request.set_model_name("add_sub");
  AddInput(&request, "INPUT0", "INT32", {3});
  AddInput(&request, "INPUT1", "INT32", {3});
  request.add_raw_input_contents(Bytes(std::vector<int32_t>{1, 2, 3}));
  request.add_raw_input_contents(Bytes(std::vector<int32_t>{1, 2, 3}));
  ModelInferResponse response;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Infer(request, &response).ok());
  request.mutable_inputs(0)->set_datatype("FP32");
  EXPECT_FALSE(Infer(request, &response).ok());

  const inference::ModelStatistics after = read_stats();
  EXPECT_EQ(after.name(), "add_sub");
  EXPECT_EQ(after.version(), "1");
  EXPECT_EQ(after.inference_count() - before.inference_count(), 5u);
  EXPECT_EQ(after.execution_count() - before.execution_count(), 5u);
  EXPECT_EQ(after.inference_stats().success().count() - before.inference_stats().success().count(), 5u);
  EXPECT_GT(after.inference_stats().success().ns(), before.inference_stats().success().ns());
  EXPECT_EQ(after.inference_stats().fail().count() - before.inference_stats().fail().count(), 1u);
  EXPECT_EQ(after.inference_stats().queue().count() - before.inference_stats().queue().count(), 5u);
  EXPECT_EQ(after.inference_stats().compute_infer().count() - before.inference_stats().compute_infer().count(), 5u);
  EXPECT_GT(after.last_inference(), 0u);
  ASSERT_GE(after.batch_stats_size(), 1);
  EXPECT_EQ(after.batch_stats(0).batch_size(), 1u);

  stats_request.set_name("");
  inference::ModelStatisticsResponse all;
  ASSERT_TRUE(stub_->ModelStatistics(ContextWithDeadline().get(), stats_request, &all).ok());
  EXPECT_EQ(all.model_stats_size(), 14) << "one entry per ready model";
  stats_request.set_name("nope");
  EXPECT_EQ(stub_->ModelStatistics(ContextWithDeadline().get(), stats_request, &all).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(InferenceApiTest, ThirtyTwoConcurrentClientsEachGetTheirOwnAnswers) {
  constexpr int kClients = 32;
  constexpr int kRequestsPerClient = 200;
  std::atomic<int> correct{0};
  std::atomic<int> failed{0};
  std::vector<std::string> first_errors(kClients);
  std::vector<std::thread> clients;
  for (int client = 0; client < kClients; ++client) {
    clients.emplace_back([&, client] {
      auto stub = daemon_->NewStub();
      std::mt19937 random(static_cast<uint32_t>(client));
      std::uniform_real_distribution<float> value(-1000.0f, 1000.0f);
      for (int i = 0; i < kRequestsPerClient; ++i) {
        const int64_t batch = 1 + (i % 3);
        std::vector<float> values(static_cast<size_t>(batch) * 16);
        for (float& v : values) v = value(random);
        ModelInferRequest request = IdentityRequest(values, batch);
        request.set_id(std::to_string(client) + "/" + std::to_string(i));
        ModelInferResponse response;
        grpc::Status status = stub->ModelInfer(ContextWithDeadline().get(), request, &response);
        if (status.ok() && response.id() == request.id() && response.raw_output_contents_size() == 1 &&
            response.raw_output_contents(0) == request.raw_input_contents(0)) {
          ++correct;
        } else {
          if (failed++ == 0 || first_errors[client].empty()) first_errors[client] = status.error_message();
        }
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(correct.load(), kClients * kRequestsPerClient);
  EXPECT_EQ(failed.load(), 0) << first_errors[0];
}

}  // namespace
}  // namespace edgeserve::testing
