// Instance groups: a model's requests spread over several instances, each on
// its own worker with its own thread count.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>

#include <gtest/gtest.h>

#include "e2e/daemon_process.h"

namespace edgeserve::testing {
namespace {

// A repository holding the 'spin' test model under `instance_groups`.
std::string SpinRepository(const std::string& instance_groups) {
  const std::string repo = MakeTempDir("edgeserve-instances-");
  const std::string model = repo + "/spin";
  EXPECT_EQ(mkdir(model.c_str(), 0755), 0);
  EXPECT_EQ(mkdir((model + "/1").c_str(), 0755), 0);
  const std::string source = std::string(EDGESERVE_TEST_MODELS) + "/spin/1/model.pt";
  EXPECT_EQ(symlink(source.c_str(), (model + "/1/model.pt").c_str()), 0);
  WriteFile(model + "/config.yaml",
            "platform: torchscript\n"
            "max_batch_size: 0\n"
            "inputs: [{name: rounds, datatype: FP32, shape: [1]}]\n"
            "outputs: [{name: y, datatype: FP32, shape: [1]}]\n"
            "optimization: none\n"
            "instance_groups: " + instance_groups + "\n");
  return repo;
}

// Sends `count` requests of `rounds` rounds at once and returns the model's
// statistics after all of them are answered.
inference::ModelStatistics RunConcurrently(const DaemonProcess& daemon, int count, float rounds) {
  const inference::ModelInferRequest request = SpinRequest(rounds);
  std::vector<std::future<grpc::Status>> calls;
  for (int i = 0; i < count; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      inference::ModelInferResponse response;
      return daemon.NewStub()->ModelInfer(ContextWithDeadline(std::chrono::seconds(120)).get(), request, &response);
    }));
  }
  for (auto& call : calls) EXPECT_TRUE(call.get().ok());
  inference::ModelStatisticsRequest stats_request;
  stats_request.set_name("spin");
  inference::ModelStatisticsResponse stats;
  EXPECT_TRUE(daemon.NewStub()->ModelStatistics(ContextWithDeadline().get(), stats_request, &stats).ok());
  return stats.model_stats(0);
}

// A cgroup v1 CPU quota that this test process enters, so that a daemon it
// starts inherits the limit, as a container under a Kubernetes CPU limit does.
// Made under the cpu controller's mount, which needs root.
class CpuQuotaCgroup {
 public:
  explicit CpuQuotaCgroup(int quota_us, int period_us = 100000) {
    std::ifstream membership("/proc/self/cgroup");
    for (std::string line; std::getline(membership, line);) {
      const size_t first = line.find(':');
      const size_t second = line.find(':', first + 1);
      if (first == std::string::npos || second == std::string::npos) continue;
      const std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
      if (controllers.find(",cpu,") != std::string::npos) home_ = line.substr(second + 1);
    }
    if (home_.empty() || access((kMount + std::string("/cpu.cfs_quota_us")).c_str(), F_OK) != 0) {
      why_not_ = "no cgroup v1 cpu controller at " + std::string(kMount);
      return;
    }
    dir_ = std::string(kMount) + "/edgeserve-e2e-" + std::to_string(getpid());
    if (mkdir(dir_.c_str(), 0755) != 0) {
      why_not_ = "cannot make " + dir_ + ": " + std::strerror(errno);
      dir_.clear();
      return;
    }
    WriteFile(dir_ + "/cpu.cfs_period_us", std::to_string(period_us));
    WriteFile(dir_ + "/cpu.cfs_quota_us", std::to_string(quota_us));
    WriteFile(dir_ + "/cgroup.procs", std::to_string(getpid()));
  }
  ~CpuQuotaCgroup() {
    Leave();
    if (!dir_.empty()) rmdir(dir_.c_str());
  }

  // Why the cgroup could not be made; empty when the process is in it.
  const std::string& why_not() const { return why_not_; }

  // Moves this process back where it was; children started since stay.
  void Leave() {
    if (dir_.empty() || left_) return;
    WriteFile(std::string(kMount) + (home_ == "/" ? "" : home_) + "/cgroup.procs", std::to_string(getpid()));
    left_ = true;
  }

 private:
  static constexpr char kMount[] = "/sys/fs/cgroup/cpu";
  std::string home_;
  std::string dir_;
  std::string why_not_;
  bool left_ = false;
};

// With two single-threaded instances two requests run side by side, so
// neither waits in the queue for the other; with one instance the second
// waits for the whole of the first.
TEST(InstancesTest, TwoInstancesServeTwoRequestsAtOnce) {
  constexpr float kRounds = 2000;
  DaemonProcess two({"--model-repository", SpinRepository("[{kind: CPU, count: 2, threads: 1}]")});
  ASSERT_TRUE(two.WaitUntilLive()) << two.Log();
  EXPECT_NE(two.Log().find("2 x CPU with 1 thread"), std::string::npos) << two.Log();
  const inference::ModelStatistics parallel = RunConcurrently(two, 2, kRounds);
  ASSERT_EQ(parallel.inference_stats().success().count(), 2u);
  EXPECT_LT(parallel.inference_stats().queue().ns(), parallel.inference_stats().compute_infer().ns() / 8)
      << "queue " << parallel.inference_stats().queue().ns() << " ns, compute "
      << parallel.inference_stats().compute_infer().ns() << " ns";

  DaemonProcess one({"--model-repository", SpinRepository("[{count: 1, threads: 1}]")});
  ASSERT_TRUE(one.WaitUntilLive()) << one.Log();
  const inference::ModelStatistics serial = RunConcurrently(one, 2, kRounds);
  ASSERT_EQ(serial.inference_stats().success().count(), 2u);
  EXPECT_GT(serial.inference_stats().queue().ns(), serial.inference_stats().compute_infer().ns() / 4)
      << "the second request waits for the first";
}

// With the built-in defaults (threads.intra_op 1), a group without a count
// gets one single-thread CPU instance per core the daemon may use, and
// ModelConfig reports that count as Triton would.
TEST(InstancesTest, AGroupWithoutACountFillsTheCoresWithSingleThreadInstances) {
  DaemonProcess daemon({"--model-repository", SpinRepository("[{kind: AUTO}]")});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  const int cores = UsableCores();

  inference::ModelMetadataRequest metadata_request;
  metadata_request.set_name("spin");
  inference::ModelMetadataResponse metadata;
  ASSERT_TRUE(daemon.NewStub()->ModelMetadata(ContextWithDeadline().get(), metadata_request, &metadata).ok());
  ASSERT_EQ(metadata.edgeserve_instances_size(), cores);
  for (const auto& instance : metadata.edgeserve_instances()) {
    EXPECT_EQ(instance.kind(), "CPU");
    EXPECT_EQ(instance.threads(), 1);
  }

  inference::ModelConfigRequest config_request;
  config_request.set_name("spin");
  inference::ModelConfigResponse config;
  ASSERT_TRUE(daemon.NewStub()->ModelConfig(ContextWithDeadline().get(), config_request, &config).ok());
  ASSERT_EQ(config.config().instance_group_size(), 1);
  EXPECT_EQ(config.config().instance_group(0).count(), cores);
}

// Under a CPU limit of one core (a cgroup quota, not a CPU set), a group
// without a count gets one instance, not one per visible core, and the daemon
// says why in its log.
TEST(InstancesTest, ACgroupCpuQuotaLimitsTheInstancesThatFillTheCores) {
  CpuQuotaCgroup one_core(100000);
  if (!one_core.why_not().empty()) GTEST_SKIP() << one_core.why_not();
  // Destroyed before `one_core`, which can go only once the daemon has left.
  DaemonProcess daemon({"--model-repository", SpinRepository("[{kind: AUTO}]")});
  one_core.Leave();
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  EXPECT_NE(daemon.Log().find("CPU budget: 1 core (CPU set of " + std::to_string(UsableCores()) +
                              ", cgroup quota 1.00 cores)"),
            std::string::npos)
      << daemon.Log();

  inference::ModelConfigRequest config_request;
  config_request.set_name("spin");
  inference::ModelConfigResponse config;
  ASSERT_TRUE(daemon.NewStub()->ModelConfig(ContextWithDeadline().get(), config_request, &config).ok());
  ASSERT_EQ(config.config().instance_group_size(), 1);
  EXPECT_EQ(config.config().instance_group(0).count(), 1);
}

}  // namespace
}  // namespace edgeserve::testing
