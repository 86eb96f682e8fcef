// NPUs end to end, through the NPU test double (tests/npu_double: a
// PrivateUse1 plugin over host memory, not a real device) that the daemon
// opens as it would a vendor's: discovery over gRPC, placement and fallback in
// ModelMetadata, results equal to the CPU's, and instance health.
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/daemon_process.h"
#include "edgeserve.grpc.pb.h"

namespace edgeserve::testing {
namespace {

// A repository with `model` linked from the test models under `name`, its
// config replaced by the test model's plus `config_tail`.
void AddModel(const std::string& repo, const std::string& name, const std::string& model,
              const std::string& config_tail) {
  const std::string dir = repo + "/" + name;
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir + "/1").c_str(), 0755), 0);
  const std::string source = std::string(EDGESERVE_TEST_MODELS) + "/" + model;
  ASSERT_EQ(symlink((source + "/1/model.pt").c_str(), (dir + "/1/model.pt").c_str()), 0);
  WriteFile(dir + "/config.yaml", ReadFile(source + "/config.yaml") + "\n" + config_tail + "\n");
}

std::string DaemonConfig(const std::string& repo, const std::string& library) {
  const std::string file = repo + "/../edgeserve.yaml";
  WriteFile(file, "repository: {path: " + repo + "}\n"
                  "devices: {npu: {library: " + library + "}}\n"
                  "health: {retry_interval_ms: 50}\n");
  return file;
}

inference::ModelMetadataResponse Metadata(const DaemonProcess& daemon, const std::string& model) {
  inference::ModelMetadataRequest request;
  request.set_name(model);
  inference::ModelMetadataResponse response;
  const grpc::Status status = daemon.NewStub()->ModelMetadata(ContextWithDeadline().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

bool ModelReady(const DaemonProcess& daemon, const std::string& model) {
  inference::ModelReadyRequest request;
  request.set_name(model);
  inference::ModelReadyResponse response;
  return daemon.NewStub()->ModelReady(ContextWithDeadline().get(), request, &response).ok() && response.ready();
}

// Polls ModelReady until it reads `ready`; false after 30 s.
bool WaitForModelReady(const DaemonProcess& daemon, const std::string& model, bool ready) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ModelReady(daemon, model) != ready) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

grpc::Status Infer(const DaemonProcess& daemon, const inference::ModelInferRequest& request,
                   inference::ModelInferResponse* response) {
  return daemon.NewStub()->ModelInfer(ContextWithDeadline().get(), request, response);
}

std::vector<float> Floats(const std::string& bytes) {
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

class NpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fault_file_ = MakeTempDir("edgeserve-npu-fault-") + "/fault";
    // The daemon inherits this; the double reads it when it is loaded.
    setenv("EDGESERVE_NPU_DOUBLE_FAULT_FILE", fault_file_.c_str(), 1);
    repo_ = MakeTempDir("edgeserve-npu-repo-") + "/models";
    ASSERT_EQ(mkdir(repo_.c_str(), 0755), 0);
  }
  void TearDown() override {
    std::remove(fault_file_.c_str());
    unsetenv("EDGESERVE_NPU_DOUBLE_FAULT_FILE");
  }

  std::string fault_file_;
  std::string repo_;
};

TEST_F(NpuTest, ModelsRunOnTheNpuTheyAskForWithTheCpusResults) {
  AddModel(repo_, "on_npu", "classifier", "instance_groups: [{kind: NPU, count: 1, devices: [1]}]");
  AddModel(repo_, "on_cpu", "classifier", "instance_groups: [{kind: CPU}]");
  AddModel(repo_, "auto", "identity", "");
  DaemonProcess daemon({"--config", DaemonConfig(repo_, EDGESERVE_NPU_DOUBLE)});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();

  // Discovery, over the devices extension.
  auto devices_stub = edgeserve::EdgeServe::NewStub(
      grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials()));
  edgeserve::DeviceListResponse devices;
  ASSERT_TRUE(devices_stub->DeviceList(ContextWithDeadline().get(), {}, &devices).ok());
  int npus = 0;
  for (const auto& device : devices.devices()) {
    if (device.kind() != "NPU") continue;
    ++npus;
    EXPECT_EQ(device.name(), "edgeserve NPU test double " + std::to_string(device.index()));
  }
  EXPECT_EQ(npus, 2);

  // Placement, in the metadata extension.
  const inference::ModelMetadataResponse on_npu = Metadata(daemon, "on_npu");
  ASSERT_EQ(on_npu.edgeserve_instances_size(), 1);
  EXPECT_EQ(on_npu.edgeserve_instances(0).kind(), "NPU");
  EXPECT_EQ(on_npu.edgeserve_instances(0).requested_kind(), "NPU");
  EXPECT_EQ(on_npu.edgeserve_instances(0).device(), "npu:1");
  EXPECT_EQ(on_npu.edgeserve_instances(0).fallback(), "");
  EXPECT_TRUE(on_npu.edgeserve_instances(0).healthy());
  // AUTO with the default preference [cuda, npu, cpu] on a box without
  // CUDA: one instance on each NPU, as count is per device.
  const inference::ModelMetadataResponse automatic = Metadata(daemon, "auto");
  ASSERT_EQ(automatic.edgeserve_instances_size(), 2);
  EXPECT_EQ(automatic.edgeserve_instances(0).device(), "npu:0");
  EXPECT_EQ(automatic.edgeserve_instances(1).device(), "npu:1");
  EXPECT_NE(automatic.edgeserve_instances(0).fallback().find("CUDA: "), std::string::npos);

  // The same batch of two images on the NPU and on the CPU.
  std::vector<float> pixels(2 * 3 * 224 * 224);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = std::cos(static_cast<float>(i) * 0.003f);
  inference::ModelInferResponse from_npu, from_cpu;
  ASSERT_TRUE(Infer(daemon, Fp32Request("on_npu", "images", {2, 3, 224, 224}, pixels), &from_npu).ok());
  ASSERT_TRUE(Infer(daemon, Fp32Request("on_cpu", "images", {2, 3, 224, 224}, pixels), &from_cpu).ok());
  const std::vector<float> npu_logits = Floats(from_npu.raw_output_contents(0));
  const std::vector<float> cpu_logits = Floats(from_cpu.raw_output_contents(0));
  ASSERT_EQ(npu_logits.size(), 2000u);
  ASSERT_EQ(cpu_logits.size(), 2000u);
  for (size_t i = 0; i < npu_logits.size(); ++i) ASSERT_NEAR(npu_logits[i], cpu_logits[i], 1e-3) << i;

  // What a user sees.
  CommandResult cli = RunCli(daemon.address(), "metadata on_npu");
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("npu:1"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("healthy"), std::string::npos) << cli.output;
}

TEST_F(NpuTest, AFailedNpuLeavesTheRotationAndModelReadyFollowsItsHealth) {
  AddModel(repo_, "npu_only", "identity", "instance_groups: [{kind: NPU, devices: [0]}]");
  AddModel(repo_, "npu_and_cpu", "identity", "instance_groups: [{kind: NPU, devices: [1]}, {kind: CPU}]");
  DaemonProcess daemon({"--config", DaemonConfig(repo_, EDGESERVE_NPU_DOUBLE)});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  const std::vector<float> values(16, 1.5f);
  inference::ModelInferResponse response;
  ASSERT_TRUE(Infer(daemon, Fp32Request("npu_only", "INPUT0", {1, 16}, values), &response).ok());

  WriteFile(fault_file_, "device fault");
  const grpc::Status failed = Infer(daemon, Fp32Request("npu_only", "INPUT0", {1, 16}, values), &response);
  EXPECT_EQ(failed.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(failed.error_message().find("injected device fault"), std::string::npos) << failed.error_message();
  EXPECT_FALSE(ModelReady(daemon, "npu_only"));
  const inference::ModelMetadataResponse metadata = Metadata(daemon, "npu_only");
  ASSERT_EQ(metadata.edgeserve_instances_size(), 1);
  EXPECT_FALSE(metadata.edgeserve_instances(0).healthy());
  EXPECT_NE(metadata.edgeserve_instances(0).health_error().find("injected device fault"), std::string::npos);

  // With a CPU instance beside it, every request is still answered: the one
  // that met the fault runs again on the CPU.
  for (int i = 0; i < 6; ++i) {
    const grpc::Status status = Infer(daemon, Fp32Request("npu_and_cpu", "INPUT0", {1, 16}, values), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(Floats(response.raw_output_contents(0)), values);
  }
  EXPECT_TRUE(ModelReady(daemon, "npu_and_cpu"));
  EXPECT_NE(daemon.Log().find("leaves the rotation"), std::string::npos) << daemon.Log();

  std::remove(fault_file_.c_str());
  ASSERT_TRUE(WaitForModelReady(daemon, "npu_only", true)) << daemon.Log();
  EXPECT_TRUE(Infer(daemon, Fp32Request("npu_only", "INPUT0", {1, 16}, values), &response).ok());
  EXPECT_NE(daemon.Log().find("rejoins the rotation"), std::string::npos) << daemon.Log();
}

TEST_F(NpuTest, AMissingPluginFallsBackToTheCpuWithTheReasonShown) {
  AddModel(repo_, "wants_npu", "identity", "instance_groups: [{kind: NPU}]\nplacement: [npu, cpu]");
  const std::string config = DaemonConfig(repo_, "/nonexistent/libvendor_npu.so");
  DaemonProcess list({"--config", config, "--list-devices"});
  EXPECT_EQ(list.WaitForExit(std::chrono::seconds(60)), 0);
  EXPECT_NE(list.Log().find("no NPU: the NPU plugin /nonexistent/libvendor_npu.so could not be loaded"),
            std::string::npos)
      << list.Log();

  DaemonProcess daemon({"--config", config});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  const inference::ModelMetadataResponse metadata = Metadata(daemon, "wants_npu");
  // The group names no count, so on the CPU it fills the cores the daemon
  // may use.
  ASSERT_EQ(metadata.edgeserve_instances_size(), UsableCores());
  for (const auto& instance : metadata.edgeserve_instances()) {
    EXPECT_EQ(instance.kind(), "CPU");
    EXPECT_NE(instance.fallback().find("libvendor_npu.so could not be loaded"), std::string::npos)
        << instance.fallback();
  }
  EXPECT_NE(daemon.Log().find("warning [repository] model 'wants_npu' instance group 0 (NPU) runs on CPU"),
            std::string::npos)
      << daemon.Log();
  inference::ModelInferResponse response;
  EXPECT_TRUE(Infer(daemon, Fp32Request("wants_npu", "INPUT0", {1, 16}, std::vector<float>(16, 1.0f)), &response)
                  .ok());
}

}  // namespace
}  // namespace edgeserve::testing
