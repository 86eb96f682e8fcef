#include "cli_commands.h"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "npy.h"

namespace edgeserve::cli {
namespace {

// A server for one model, "adder": inputs "x" (FP32 [-1, 4]) and "flags"
// (BOOL [-1, -1]); outputs "scores" (FP32 [batch, 3], raw) and "count"
// (INT64 [1], raw). It records the last inference request it was sent.
class FakeService final : public inference::GRPCInferenceService::Service {
 public:
  grpc::Status ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                          inference::ServerLiveResponse* response) override {
    response->set_live(true);
    return grpc::Status::OK;
  }

  grpc::Status ServerReady(grpc::ServerContext*, const inference::ServerReadyRequest*,
                           inference::ServerReadyResponse* response) override {
    response->set_ready(ready_);
    return grpc::Status::OK;
  }

  grpc::Status ModelMetadata(grpc::ServerContext*, const inference::ModelMetadataRequest* request,
                             inference::ModelMetadataResponse* response) override {
    if (request->name() != "adder") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "model '" + request->name() + "' is not in the repository");
    }
    response->set_name("adder");
    response->add_versions("1");
    response->set_platform("pytorch_torchscript");
    auto* x = response->add_inputs();
    x->set_name("x");
    x->set_datatype("FP32");
    x->add_shape(-1);
    x->add_shape(4);
    auto* flags = response->add_inputs();
    flags->set_name("flags");
    flags->set_datatype("BOOL");
    flags->add_shape(-1);
    flags->add_shape(-1);
    auto* scores = response->add_outputs();
    scores->set_name("scores");
    scores->set_datatype("FP32");
    auto* count = response->add_outputs();
    count->set_name("count");
    count->set_datatype("INT64");
    return grpc::Status::OK;
  }

  grpc::Status ModelInfer(grpc::ServerContext*, const inference::ModelInferRequest* request,
                          inference::ModelInferResponse* response) override {
    last_request_ = *request;
    const int64_t batch = request->inputs(0).shape(0);
    response->set_model_name(request->model_name());
    response->set_model_version("1");
    response->set_id(request->id());
    std::vector<float> scores;
    for (int64_t i = 0; i < batch * 3; ++i) scores.push_back(static_cast<float>(i % 3));
    auto add_scores = [&] {
      auto* output = response->add_outputs();
      output->set_name("scores");
      output->set_datatype("FP32");
      output->add_shape(batch);
      output->add_shape(3);
      response->add_raw_output_contents(Bytes(scores));
    };
    auto add_count = [&] {
      auto* output = response->add_outputs();
      output->set_name("count");
      output->set_datatype("INT64");
      output->add_shape(1);
      response->add_raw_output_contents(Bytes<int64_t>({batch}));
    };
    if (request->outputs().empty()) {
      add_scores();
      add_count();
    }
    for (const auto& requested : request->outputs()) {
      if (requested.name() == "scores") add_scores();
      if (requested.name() == "count") add_count();
    }
    return grpc::Status::OK;
  }

  grpc::Status ModelConfig(grpc::ServerContext*, const inference::ModelConfigRequest* request,
                           inference::ModelConfigResponse* response) override {
    last_config_request_ = *request;
    response->mutable_config()->set_name(request->name());
    response->mutable_config()->set_max_batch_size(4);
    return grpc::Status::OK;
  }

  grpc::Status RepositoryIndex(grpc::ServerContext*, const inference::RepositoryIndexRequest*,
                               inference::RepositoryIndexResponse* response) override {
    auto* model = response->add_models();
    model->set_name("adder");
    model->set_version("1");
    model->set_state("READY");
    return grpc::Status::OK;
  }

  void set_ready(bool ready) { ready_ = ready; }
  const inference::ModelInferRequest& last_request() const { return last_request_; }
  const inference::ModelConfigRequest& last_config_request() const { return last_config_request_; }

 private:
  bool ready_ = true;
  inference::ModelInferRequest last_request_;
  inference::ModelConfigRequest last_config_request_;
};

class CliCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = inference::GRPCInferenceService::NewStub(
        server_->InProcessChannel(grpc::ChannelArguments()));
    edgeserve_stub_ = edgeserve::EdgeServe::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
    // One directory per test, so that tests run as parallel processes do
    // not share it.
    save_dir_ = ::testing::TempDir() + "/edgeserve_cli_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(save_dir_);
  }

  void TearDown() override {
    server_->Shutdown();
    std::filesystem::remove_all(save_dir_);
  }

  absl::StatusOr<int> Run(std::vector<std::string> args) {
    absl::StatusOr<Options> options = ParseOptions(args);
    if (!options.ok()) return options.status();
    out_.str("");
    return RunCommand(*options, Stubs{*stub_, *edgeserve_stub_}, out_);
  }

  FakeService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  std::unique_ptr<edgeserve::EdgeServe::Stub> edgeserve_stub_;
  std::ostringstream out_;
  std::string save_dir_;
};

TEST_F(CliCommandsTest, HealthExitsZeroWhenReady) {
  absl::StatusOr<int> exit_status = Run({"health"});
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  EXPECT_EQ(*exit_status, kExitOk);
  EXPECT_EQ(out_.str(), "live: true\nready: true\n");
}

TEST_F(CliCommandsTest, HealthExitsOneWhenNotReady) {
  service_.set_ready(false);
  absl::StatusOr<int> exit_status = Run({"health"});
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  EXPECT_EQ(*exit_status, kExitNotReady);
  EXPECT_EQ(out_.str(), "live: true\nready: false\n");
}

TEST_F(CliCommandsTest, DevicesAgainstAServerWithoutTheExtensionIsUnimplemented) {
  absl::StatusOr<int> result = Run({"devices"});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnimplemented) << result.status();
}

TEST_F(CliCommandsTest, ServerMetadataThatIsNotImplementedIsAGrpcError) {
  absl::StatusOr<int> exit_status = Run({"server"});
  ASSERT_FALSE(exit_status.ok());
  EXPECT_EQ(exit_status.status().code(), absl::StatusCode::kUnimplemented);
}

TEST_F(CliCommandsTest, ModelsPrintsTheIndex) {
  absl::StatusOr<int> exit_status = Run({"models"});
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  EXPECT_EQ(out_.str(), "NAME   VERSION  STATE  REASON\nadder  1        READY\n");
}

TEST_F(CliCommandsTest, MetadataOfAnUnknownModelCarriesTheServerCode) {
  absl::StatusOr<int> exit_status = Run({"metadata", "nope"});
  ASSERT_FALSE(exit_status.ok());
  EXPECT_EQ(exit_status.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(exit_status.status().message(), "model 'nope' is not in the repository");
}

TEST_F(CliCommandsTest, ConfigAsksForTheModelAndVersionAndPrintsJson) {
  absl::StatusOr<int> exit_status = Run({"config", "adder", "--version", "2"});
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  EXPECT_EQ(service_.last_config_request().name(), "adder");
  EXPECT_EQ(service_.last_config_request().version(), "2");
  EXPECT_NE(out_.str().find("\"max_batch_size\": 4"), std::string::npos) << out_.str();
}

TEST_F(CliCommandsTest, InferWithRandomInputsSendsRawContentsOfTheResolvedShapes) {
  absl::StatusOr<int> exit_status =
      Run({"infer", "adder", "--random", "--batch", "3", "--id", "r1"});
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  EXPECT_EQ(*exit_status, kExitOk);

  const inference::ModelInferRequest& request = service_.last_request();
  EXPECT_EQ(request.model_name(), "adder");
  EXPECT_EQ(request.id(), "r1");
  ASSERT_EQ(request.inputs_size(), 2);
  EXPECT_EQ(request.inputs(0).name(), "x");
  EXPECT_EQ(request.inputs(0).datatype(), "FP32");
  EXPECT_EQ(
      std::vector<int64_t>(request.inputs(0).shape().begin(), request.inputs(0).shape().end()),
      (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(request.inputs(1).name(), "flags");
  EXPECT_EQ(
      std::vector<int64_t>(request.inputs(1).shape().begin(), request.inputs(1).shape().end()),
      (std::vector<int64_t>{3, 1}));
  ASSERT_EQ(request.raw_input_contents_size(), 2);
  EXPECT_EQ(request.raw_input_contents(0).size(), 3u * 4u * 4u);
  EXPECT_EQ(request.raw_input_contents(1).size(), 3u);
  EXPECT_FALSE(request.inputs(0).has_contents());
  EXPECT_TRUE(request.outputs().empty());

  const std::string out = out_.str();
  EXPECT_TRUE(Contains(out, "input x: FP32 [3, 4] random\n"));
  EXPECT_TRUE(Contains(out, "input flags: BOOL [3, 1] random\n"));
  EXPECT_TRUE(Contains(out, "model: adder version 1\nid: r1\nround trip: "));
  EXPECT_TRUE(Contains(out,
                       "output scores: FP32 [3, 3]\n  values: [0, 1, 2, 0, 1, 2, 0, 1, 2] "
                       "(9 elements)\n  first row: min 0 max 2 argmax 2\n"));
  EXPECT_TRUE(Contains(out, "output count: INT64 [1]\n  values: [3] (1 element)\n"));
}

TEST_F(CliCommandsTest, InferTakesFileInputsAndFillsTheRestRandomly) {
  const std::string path = ::testing::TempDir() + "/edgeserve_cli_x.npy";
  const std::string data = Bytes<float>({1, 2, 3, 4, 5, 6, 7, 8});
  ASSERT_TRUE(WriteNpyFile(path, core::Tensor{core::DataType::kFp32, {2, 4}, data}).ok());

  // Without --random the other input has no data, as the help says.
  absl::StatusOr<int> without_random = Run({"infer", "adder", "--input", "x=" + path});
  ASSERT_FALSE(without_random.ok());
  EXPECT_TRUE(Contains(without_random.status().message(),
                       "input 'flags' has no data: give --input flags=FILE.npy, or --random"))
      << without_random.status();

  absl::StatusOr<int> exit_status = Run({"infer", "adder", "--input", "x=" + path, "--random"});
  std::remove(path.c_str());
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();

  const inference::ModelInferRequest& request = service_.last_request();
  ASSERT_EQ(request.raw_input_contents_size(), 2);
  EXPECT_EQ(request.raw_input_contents(0), data);
  EXPECT_EQ(request.inputs(0).shape(0), 2);
  // The random input takes --batch (1), not the file's batch.
  EXPECT_EQ(request.raw_input_contents(1).size(), 1u);
  EXPECT_TRUE(Contains(out_.str(), "input x: FP32 [2, 4] from " + path + "\n"));
}

TEST_F(CliCommandsTest, InferRequestsOnlyTheNamedOutputs) {
  absl::StatusOr<int> exit_status = Run({"infer", "adder", "--random", "--output", "count"});
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  ASSERT_EQ(service_.last_request().outputs_size(), 1);
  EXPECT_EQ(service_.last_request().outputs(0).name(), "count");
  EXPECT_FALSE(Contains(out_.str(), "output scores"));
  EXPECT_TRUE(Contains(out_.str(), "output count"));
}

TEST_F(CliCommandsTest, InferSavesOutputsAsNpy) {
  absl::StatusOr<int> exit_status =
      Run({"infer", "adder", "--random", "--batch", "2", "--save-dir", save_dir_});
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  absl::StatusOr<core::Tensor> scores = ReadNpyFile(save_dir_ + "/scores.npy");
  ASSERT_TRUE(scores.ok()) << scores.status();
  EXPECT_EQ(scores->datatype, core::DataType::kFp32);
  EXPECT_EQ(scores->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(scores->data, Bytes<float>({0, 1, 2, 0, 1, 2}));
  absl::StatusOr<core::Tensor> count = ReadNpyFile(save_dir_ + "/count.npy");
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(count->data, Bytes<int64_t>({2}));
  EXPECT_TRUE(Contains(out_.str(), "  saved: " + save_dir_ + "/scores.npy\n"));
}

TEST_F(CliCommandsTest, InferRefusesAFileOfTheWrongDatatype) {
  const std::string path = ::testing::TempDir() + "/edgeserve_cli_x64.npy";
  ASSERT_TRUE(
      WriteNpyFile(path, core::Tensor{core::DataType::kFp64, {1, 4}, Bytes<double>({1, 2, 3, 4})})
          .ok());
  // "flags" is the second input: the random "x" before it must not be
  // reported as sent when the request fails.
  absl::StatusOr<int> exit_status = Run({"infer", "adder", "--input", "flags=" + path, "--random"});
  std::remove(path.c_str());
  ASSERT_FALSE(exit_status.ok());
  EXPECT_TRUE(Contains(exit_status.status().message(),
                       "input 'flags': " + path + " holds FP64 data, the model expects BOOL"));
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CliCommandsTest, InferRefusesUnknownInputAndOutputNames) {
  absl::StatusOr<int> input = Run({"infer", "adder", "--input", "y=a.npy"});
  ASSERT_FALSE(input.ok());
  EXPECT_TRUE(
      Contains(input.status().message(), "model 'adder' has no input 'y' (its inputs: x, flags)"));
  absl::StatusOr<int> output = Run({"infer", "adder", "--random", "--output", "probs"});
  ASSERT_FALSE(output.ok());
  EXPECT_TRUE(
      Contains(output.status().message(), "has no output 'probs' (its outputs: scores, count)"));
}

TEST_F(CliCommandsTest, InferReportsAFolderGivenAsAFile) {
  std::filesystem::create_directories(save_dir_);
  absl::StatusOr<int> exit_status = Run({"infer", "adder", "--input", "x=" + save_dir_, "--random"});
  ASSERT_FALSE(exit_status.ok());
  EXPECT_TRUE(Contains(exit_status.status().message(), "'" + save_dir_ + "' is a folder, not a .npy file"))
      << exit_status.status();
}

TEST_F(CliCommandsTest, InferReportsAMissingFile) {
  absl::StatusOr<int> exit_status = Run({"infer", "adder", "--input", "x=/nonexistent/x.npy"});
  ASSERT_FALSE(exit_status.ok());
  EXPECT_EQ(exit_status.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(exit_status.status().message(), "/nonexistent/x.npy"));
}

TEST(CliBuildInferRequestTest, RefusesBytesInputsClearly) {
  inference::ModelMetadataResponse metadata;
  metadata.set_name("tokenizer");
  auto* text = metadata.add_inputs();
  text->set_name("text");
  text->set_datatype("BYTES");
  text->add_shape(1);
  Options options;
  options.command = Command::kInfer;
  options.random = true;
  std::mt19937_64 rng(1);
  std::ostringstream out;
  absl::StatusOr<inference::ModelInferRequest> request =
      BuildInferRequest(options, metadata, rng, out);
  ASSERT_FALSE(request.ok());
  EXPECT_TRUE(
      Contains(request.status().message(), "input 'text': datatype BYTES is not supported"));
}

TEST(CliOutputTensorTest, ReadsTypedContentsWhenThereAreNoRawContents) {
  inference::ModelInferResponse response;
  auto* output = response.add_outputs();
  output->set_name("small");
  output->set_datatype("INT8");
  output->add_shape(3);
  for (int value : {-1, 0, 100}) output->mutable_contents()->add_int_contents(value);
  absl::StatusOr<core::Tensor> tensor = OutputTensor(response, 0, core::DataType::kInt8);
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->data, Bytes<int8_t>({-1, 0, 100}));
}

TEST(CliOutputTensorTest, RefusesContentsThatDoNotMatchTheShape) {
  inference::ModelInferResponse response;
  auto* output = response.add_outputs();
  output->set_name("scores");
  output->set_datatype("FP32");
  output->add_shape(2);
  output->add_shape(3);
  response.add_raw_output_contents(Bytes<float>({1, 2, 3, 4, 5}));
  absl::StatusOr<core::Tensor> tensor = OutputTensor(response, 0, core::DataType::kFp32);
  ASSERT_FALSE(tensor.ok());
  EXPECT_TRUE(Contains(tensor.status().message(),
                       "output 'scores': FP32 [2, 3] needs 6 elements, the response holds 5"));
}

TEST(CliOutputTensorTest, RefusesFp16WithoutRawContents) {
  inference::ModelInferResponse response;
  auto* output = response.add_outputs();
  output->set_name("half");
  output->set_datatype("FP16");
  output->add_shape(1);
  absl::StatusOr<core::Tensor> tensor = OutputTensor(response, 0, core::DataType::kFp16);
  ASSERT_FALSE(tensor.ok());
  EXPECT_TRUE(Contains(tensor.status().message(), "raw_output_contents"));
}

TEST(CliOutputFileNameTest, KeepsNamesInsideTheDirectory) {
  EXPECT_EQ(OutputFileName("output__0"), "output__0.npy");
  EXPECT_EQ(OutputFileName("../etc/passwd"), ".._etc_passwd.npy");
  EXPECT_EQ(OutputFileName("a b:c"), "a_b_c.npy");
}

TEST(CliFromGrpcStatusTest, KeepsCodeAndMessage) {
  absl::Status status =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "too slow"));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(status.message(), "too slow");
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

}  // namespace
}  // namespace edgeserve::cli
