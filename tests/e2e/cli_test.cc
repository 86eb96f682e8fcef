// edgeserve-cli against a real daemon: what a user types on day one.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "e2e/daemon_process.h"

namespace edgeserve::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string repo = MakeTempDir("edgeserve-cli-repo-");
    for (const char* model : {"identity", "add_sub", "classifier"}) {
      const std::string target = std::string(EDGESERVE_TEST_MODELS) + "/" + model;
      ASSERT_EQ(symlink(target.c_str(), (repo + "/" + model).c_str()), 0);
    }
    daemon_ = new DaemonProcess({"--model-repository", repo});
    ASSERT_TRUE(daemon_->WaitUntilLive()) << daemon_->Log();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(daemon_->StopWith(SIGTERM), 0);
    delete daemon_;
  }
  static DaemonProcess* daemon_;
};

DaemonProcess* CliTest::daemon_ = nullptr;

TEST_F(CliTest, HealthModelsAndMetadata) {
  CommandResult health = RunCli(daemon_->address(), "health");
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_NE(health.output.find("ready: true"), std::string::npos) << health.output;

  CommandResult models = RunCli(daemon_->address(), "models");
  EXPECT_EQ(models.exit_code, 0) << models.output;
  for (const char* name : {"identity", "add_sub", "classifier"}) {
    EXPECT_NE(models.output.find(name), std::string::npos) << models.output;
  }

  CommandResult metadata = RunCli(daemon_->address(), "metadata classifier");
  EXPECT_EQ(metadata.exit_code, 0) << metadata.output;
  EXPECT_NE(metadata.output.find("images  FP32  [-1, 3, 224, 224]"), std::string::npos) << metadata.output;

  CommandResult config = RunCli(daemon_->address(), "config add_sub");
  EXPECT_EQ(config.exit_code, 0) << config.output;
  EXPECT_NE(config.output.find("\"max_batch_size\": 0"), std::string::npos) << config.output;
  EXPECT_NE(config.output.find("\"data_type\": \"TYPE_INT32\""), std::string::npos) << config.output;
  CommandResult unknown = RunCli(daemon_->address(), "config no_such_model");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("NOT_FOUND"), std::string::npos) << unknown.output;
}

TEST_F(CliTest, InferWithRandomDataAndFromNpy) {
  CommandResult random = RunCli(daemon_->address(), "infer classifier --random --batch 2");
  EXPECT_EQ(random.exit_code, 0) << random.output;
  EXPECT_NE(random.output.find("output logits: FP32 [2, 1000]"), std::string::npos) << random.output;

  // A version 1.0 .npy of int32 [3]: the add_sub inputs.
  const std::string dir = MakeTempDir("edgeserve-cli-npy-");
  auto write_npy = [&](const std::string& path, const std::array<int32_t, 3>& values) {
    std::string header = "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }";
    header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
    header.push_back('\n');
    std::string file = std::string("\x93NUMPY\x01\x00", 8);
    file.push_back(static_cast<char>(header.size() & 0xff));
    file.push_back(static_cast<char>(header.size() >> 8));
    file += header;
    file.append(reinterpret_cast<const char*>(values.data()), sizeof(values));
    WriteFile(path, file);
  };
  write_npy(dir + "/a.npy", {1, 2, 3});
  write_npy(dir + "/b.npy", {10, 20, 30});
  CommandResult from_files = RunCli(daemon_->address(), "infer add_sub --input INPUT0=" + dir +
                                                            "/a.npy --input INPUT1=" + dir +
                                                            "/b.npy --output OUTPUT0 --id cli-1");
  EXPECT_EQ(from_files.exit_code, 0) << from_files.output;
  EXPECT_NE(from_files.output.find("[11, 22, 33]"), std::string::npos) << from_files.output;
  EXPECT_NE(from_files.output.find("cli-1"), std::string::npos) << from_files.output;
  EXPECT_EQ(from_files.output.find("OUTPUT1"), std::string::npos) << "only OUTPUT0 was asked for";
}

TEST_F(CliTest, DevicesListsTheCpu) {
  CommandResult devices = RunCli(daemon_->address(), "devices");
  EXPECT_EQ(devices.exit_code, 0) << devices.output;
  EXPECT_NE(devices.output.find("CPU:0"), std::string::npos) << devices.output;
  EXPECT_NE(devices.output.find("fp32"), std::string::npos) << devices.output;
  CommandResult server = RunCli(daemon_->address(), "server");
  EXPECT_NE(server.output.find("edgeserve_devices"), std::string::npos) << server.output;
}

TEST_F(CliTest, ErrorsExitNonZeroWithTheStatus) {
  CommandResult missing = RunCli(daemon_->address(), "infer no_such_model --random");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("error: NOT_FOUND: model 'no_such_model' not found"), std::string::npos)
      << missing.output;
  CommandResult stats = RunCli(daemon_->address(), "stats identity");
  EXPECT_EQ(stats.exit_code, 0) << stats.output;
  EXPECT_NE(stats.output.find("inference_count"), std::string::npos) << stats.output;
  EXPECT_NE(stats.output.find("batching slo, up to 64 per execution, no latency target"), std::string::npos)
      << stats.output;
  EXPECT_NE(stats.output.find("planned"), std::string::npos) << "the latency profile's table" << stats.output;
}

}  // namespace
}  // namespace edgeserve::testing
