// The daemon's life as a process: start-up checks, logging, and a clean stop
// that loses no request.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/daemon_process.h"

namespace edgeserve::testing {
namespace {

// A repository holding only the models named, linked from the test models.
std::string RepositoryWith(const std::vector<std::string>& models) {
  const std::string dir = MakeTempDir("edgeserve-repo-");
  for (const std::string& model : models) {
    const std::string target = std::string(EDGESERVE_TEST_MODELS) + "/" + model;
    EXPECT_EQ(symlink(target.c_str(), (dir + "/" + model).c_str()), 0) << target;
  }
  return dir;
}

// Requests to the 'slow' test model, sent at once over one connection and
// awaited together.
class SlowRequestsInFlight {
 public:
  SlowRequestsInFlight(const DaemonProcess& daemon, int count) : stub_(daemon.NewStub()), calls_(count) {
    const inference::ModelInferRequest request =
        Fp32Request("slow", "x", {64, 64}, std::vector<float>(64 * 64, 0.5f));
    for (Call& call : calls_) {
      call.context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      auto reader = stub_->AsyncModelInfer(&call.context, request, &queue_);
      reader->Finish(&call.response, &call.status, &call);
    }
  }
  ~SlowRequestsInFlight() {
    queue_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (queue_.Next(&tag, &ok)) {
    }
  }

  // Once the first answer is back the others have reached the daemon's queue
  // (one connection, sent in order). False if none came back.
  bool AwaitFirst() { return Await(1); }
  // Waits for every answer, then checks each succeeded with one output.
  void ExpectAllAnswered() {
    Await(static_cast<int>(calls_.size()));
    for (const Call& call : calls_) {
      EXPECT_TRUE(call.status.ok()) << call.status.error_message();
      EXPECT_EQ(call.response.raw_output_contents_size(), 1);
    }
  }

 private:
  struct Call {
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    grpc::Status status;
  };

  bool Await(int answers) {
    void* tag = nullptr;
    bool ok = false;
    while (completed_ < answers && queue_.Next(&tag, &ok)) ++completed_;
    return completed_ >= answers;
  }

  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  grpc::CompletionQueue queue_;
  std::vector<Call> calls_;
  int completed_ = 0;
};

TEST(LifecycleTest, SigtermFinishesEveryRequestInFlightAndExitsZero) {
  DaemonProcess daemon({"--model-repository", RepositoryWith({"slow"})});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  SlowRequestsInFlight requests(daemon, 12);
  ASSERT_TRUE(requests.AwaitFirst());
  // SIGTERM must not lose any of the requests already queued.
  std::future<std::optional<int>> exit_code =
      std::async(std::launch::async, [&] { return daemon.StopWith(SIGTERM); });
  requests.ExpectAllAnswered();
  EXPECT_EQ(exit_code.get(), 0) << daemon.Log();
  EXPECT_NE(daemon.Log().find("SIGTERM received"), std::string::npos);
}

// Libraries start threads before main with these signals open (OpenBLAS
// does); a second SIGTERM used to reach one of them and kill the daemon in
// the middle of its stop, and SIGHUP killed it outright.
TEST(LifecycleTest, SighupAndRepeatedStopSignalsLoseNoRequest) {
  DaemonProcess daemon({"--model-repository", RepositoryWith({"slow"})});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  daemon.Signal(SIGHUP);
  SlowRequestsInFlight requests(daemon, 8);
  ASSERT_TRUE(requests.AwaitFirst());
  daemon.Signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  daemon.Signal(SIGTERM);
  daemon.Signal(SIGINT);
  daemon.Signal(SIGHUP);
  requests.ExpectAllAnswered();
  EXPECT_EQ(daemon.WaitForExit(std::chrono::seconds(60)), 0) << daemon.Log();
  const std::string log = daemon.Log();
  EXPECT_NE(log.find("SIGHUP received and ignored"), std::string::npos) << log;
  EXPECT_NE(log.find("SIGTERM received: refusing new requests"), std::string::npos) << log;
}

// The classifier's load (optimisation, warm-up, latency profile) takes the
// better part of a second: a stop asked for meanwhile does not wait for it.
TEST(LifecycleTest, AStopDuringStartUpExitsBeforeServing) {
  DaemonProcess daemon({"--model-repository", RepositoryWith({"classifier", "identity"})});
  const auto start = std::chrono::steady_clock::now();
  while (daemon.Log().find("starting") == std::string::npos &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(30)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  daemon.Signal(SIGHUP);
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.WaitForExit(std::chrono::seconds(60)), 0) << daemon.Log();
  const std::string log = daemon.Log();
  EXPECT_NE(log.find("SIGTERM received during start-up: exiting before serving"), std::string::npos) << log;
  EXPECT_EQ(log.find("serving on"), std::string::npos) << log;
}

TEST(LifecycleTest, AForwardThatNeverReturnsCannotHoldTheStopBeyondTheTimeoutAndGrace) {
  const std::string dir = MakeTempDir("edgeserve-config-");
  WriteFile(dir + "/edgeserve.yaml", "server:\n  shutdown_timeout_s: 1\n");
  DaemonProcess daemon({"--config", dir + "/edgeserve.yaml", "--model-repository", RepositoryWith({"spin"})});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  auto stub = daemon.NewStub();
  const inference::ModelInferRequest request = SpinRequest(1e9f);  // hours of work
  std::future<grpc::Status> call = std::async(std::launch::async, [&] {
    inference::ModelInferResponse response;
    return stub->ModelInfer(ContextWithDeadline(std::chrono::seconds(60)).get(), request, &response);
  });
  // The worker records a request's queue wait as it takes it, so a queue
  // count of 1 means the endless forward has begun.
  const auto start = std::chrono::steady_clock::now();
  bool running = false;
  while (!running && std::chrono::steady_clock::now() - start < std::chrono::seconds(30)) {
    inference::ModelStatisticsRequest stats_request;
    stats_request.set_name("spin");
    inference::ModelStatisticsResponse stats;
    ASSERT_TRUE(stub->ModelStatistics(ContextWithDeadline().get(), stats_request, &stats).ok());
    running = stats.model_stats(0).inference_stats().queue().count() == 1;
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(running) << daemon.Log();
  const auto stop_started = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon.StopWith(SIGTERM, std::chrono::seconds(30)), 1) << daemon.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, std::chrono::seconds(10));
  EXPECT_NE(daemon.Log().find("exiting without them"), std::string::npos) << daemon.Log();
  EXPECT_FALSE(call.get().ok()) << "the request cannot succeed: its daemon is gone";
}

TEST(LifecycleTest, SigintStopsAnIdleDaemonPromptly) {
  DaemonProcess daemon({"--model-repository", RepositoryWith({"identity"})});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon.StopWith(SIGINT), 0) << daemon.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(LifecycleTest, ServerReadyWhenEveryModelLoaded) {
  DaemonProcess daemon({"--model-repository", RepositoryWith({"identity", "add_sub"})});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(daemon.NewStub()->ServerReady(ContextWithDeadline().get(), {}, &ready).ok());
  EXPECT_TRUE(ready.ready());
}

TEST(LifecycleTest, NonStrictReadinessIgnoresAFailedModel) {
  const std::string dir = MakeTempDir("edgeserve-config-");
  WriteFile(dir + "/edgeserve.yaml", "server:\n  strict_readiness: false\n");
  DaemonProcess daemon(
      {"--config", dir + "/edgeserve.yaml", "--model-repository", RepositoryWith({"identity", "corrupt"})});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(daemon.NewStub()->ServerReady(ContextWithDeadline().get(), {}, &ready).ok());
  EXPECT_TRUE(ready.ready());
  EXPECT_NE(daemon.Log().find("model 'corrupt' is unavailable"), std::string::npos) << daemon.Log();
}

struct BadConfigCase {
  std::string yaml;
  std::string expected;
};

TEST(LifecycleTest, BadConfigStopsTheDaemonWithTheFileAndKey) {
  const std::vector<BadConfigCase> cases = {
      {"server:\n  adress: 0.0.0.0:8001\n", "server.adress: unknown key"},
      {"server:\n  max_message_bytes: lots\n", "server.max_message_bytes: expected an integer"},
      {"log:\n  level: chatty\n", "log.level: must be one of"},
      {"threads: 4\n", "threads: expected a mapping"},
      {"server: [unclosed\n", "not valid YAML"},
  };
  for (const BadConfigCase& bad : cases) {
    const std::string dir = MakeTempDir("edgeserve-badconfig-");
    const std::string file = dir + "/edgeserve.yaml";
    WriteFile(file, bad.yaml);
    DaemonProcess daemon({"--config", file});
    EXPECT_EQ(daemon.WaitForExit(std::chrono::seconds(30)), 1) << bad.yaml;
    const std::string log = daemon.Log();
    EXPECT_NE(log.find(file), std::string::npos) << log;
    EXPECT_NE(log.find(bad.expected), std::string::npos) << log;
  }
  DaemonProcess missing({"--config", "/nonexistent/edgeserve.yaml"});
  EXPECT_EQ(missing.WaitForExit(std::chrono::seconds(30)), 1);
  EXPECT_NE(missing.Log().find("/nonexistent/edgeserve.yaml: no such file"), std::string::npos) << missing.Log();
}

TEST(LifecycleTest, CheckConfigReportsEachModelConfig) {
  const std::string repo = MakeTempDir("edgeserve-check-");
  ASSERT_EQ(mkdir((repo + "/good").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((repo + "/bad").c_str(), 0755), 0);
  WriteFile(repo + "/good/config.yaml",
            "platform: torchscript\ninputs: [{name: x, datatype: FP32, shape: [2]}]\n"
            "outputs: [{name: y, datatype: FP32, shape: [2]}]\n");
  WriteFile(repo + "/bad/config.yaml",
            "platform: torchscript\ninputs: [{name: x, datatype: FLOAT, shape: [2]}]\n"
            "outputs: [{name: y, datatype: FP32, shape: [2]}]\n");
  ASSERT_EQ(mkdir((repo + "/huge").c_str(), 0755), 0);
  WriteFile(repo + "/huge/config.yaml",
            "platform: torchscript\ninputs: [{name: x, datatype: FP32, shape: [100000, 100000, 100]}]\n"
            "outputs: [{name: y, datatype: FP32, shape: [2]}]\n");
  ASSERT_EQ(symlink((repo + "/nowhere").c_str(), (repo + "/dangling").c_str()), 0);
  DaemonProcess daemon({"--check-config", "--model-repository", repo});
  EXPECT_EQ(daemon.WaitForExit(std::chrono::seconds(30)), 1);
  const std::string log = daemon.Log();
  EXPECT_NE(log.find("model 'good': ok"), std::string::npos) << log;
  EXPECT_NE(log.find("inputs[0].datatype: unknown datatype 'FLOAT'"), std::string::npos) << log;
  EXPECT_NE(log.find("inputs[0].shape: one item of shape [100000,100000,100] takes more than 67108864 bytes"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("model 'dangling': model folder '" + repo + "/dangling' cannot be read"), std::string::npos)
      << log;
}

// A link that leads nowhere or in a circle, or an input no request could
// carry (whose warm-up once took all memory), makes that model unavailable;
// the others serve.
TEST(LifecycleTest, UnreadableOrImpossibleModelsLeaveTheOthersServing) {
  const std::string repo = RepositoryWith({"identity"});
  ASSERT_EQ(symlink((repo + "/nowhere").c_str(), (repo + "/dangling").c_str()), 0);
  ASSERT_EQ(symlink((repo + "/circle_b").c_str(), (repo + "/circle_a").c_str()), 0);
  ASSERT_EQ(symlink((repo + "/circle_a").c_str(), (repo + "/circle_b").c_str()), 0);
  ASSERT_EQ(mkdir((repo + "/huge").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((repo + "/huge/1").c_str(), 0755), 0);
  const std::string identity_file = std::string(EDGESERVE_TEST_MODELS) + "/identity/1/model.pt";
  ASSERT_EQ(symlink(identity_file.c_str(), (repo + "/huge/1/model.pt").c_str()), 0);
  WriteFile(repo + "/huge/config.yaml",
            "platform: torchscript\ninputs: [{name: INPUT0, datatype: FP32, shape: [100000, 100000, 100]}]\n"
            "outputs: [{name: OUTPUT0, datatype: FP32, shape: [100000, 100000, 100]}]\n");
  DaemonProcess daemon({"--model-repository", repo});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  inference::RepositoryIndexRequest index_request;
  inference::RepositoryIndexResponse index;
  ASSERT_TRUE(daemon.NewStub()->RepositoryIndex(ContextWithDeadline().get(), index_request, &index).ok());
  std::map<std::string, std::pair<std::string, std::string>> states;
  for (const auto& model : index.models()) states[model.name()] = {model.state(), model.reason()};
  ASSERT_EQ(states.size(), 5u) << daemon.Log();
  EXPECT_EQ(states["identity"].first, "READY");
  for (const std::string name : {"dangling", "circle_a", "circle_b", "huge"}) {
    EXPECT_EQ(states[name].first, "UNAVAILABLE") << name;
  }
  EXPECT_NE(states["dangling"].second.find("dangling' cannot be read"), std::string::npos) << states["dangling"].second;
  EXPECT_NE(states["circle_a"].second.find("cannot be read"), std::string::npos) << states["circle_a"].second;
  EXPECT_NE(states["huge"].second.find("no request could carry it"), std::string::npos) << states["huge"].second;
  inference::ModelInferResponse response;
  const grpc::Status status = daemon.NewStub()->ModelInfer(
      ContextWithDeadline().get(), Fp32Request("identity", "INPUT0", {1, 16}, std::vector<float>(16, 1.0f)),
      &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST(LifecycleTest, VersionAndHelp) {
  DaemonProcess version({"--version"});
  EXPECT_EQ(version.WaitForExit(std::chrono::seconds(30)), 0);
  EXPECT_NE(version.Log().find("edgeserve " EDGESERVE_VERSION), std::string::npos) << version.Log();
  DaemonProcess help({"--help"});
  EXPECT_EQ(help.WaitForExit(std::chrono::seconds(30)), 0);
  EXPECT_NE(help.Log().find("--check-config"), std::string::npos);
  DaemonProcess unknown({"--frobnicate"});
  EXPECT_EQ(unknown.WaitForExit(std::chrono::seconds(30)), 64);
  EXPECT_NE(unknown.Log().find("unknown option '--frobnicate'"), std::string::npos);
}

TEST(LifecycleTest, ListDevicesPrintsTheCpuAndTheStartLogNamesIt) {
  DaemonProcess list({"--list-devices"});
  EXPECT_EQ(list.WaitForExit(std::chrono::seconds(30)), 0);
  EXPECT_NE(list.Log().find("CPU:0"), std::string::npos) << list.Log();
  EXPECT_NE(list.Log().find("GiB total"), std::string::npos) << list.Log();
  DaemonProcess daemon({"--model-repository", RepositoryWith({"identity"})});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  EXPECT_NE(daemon.Log().find("device CPU:0"), std::string::npos) << daemon.Log();
}

// EDGESERVE_ALLOCATOR is what the build linked ("jemalloc" or "glibc
// malloc"); the daemon finds out at run time which one really serves it.
TEST(LifecycleTest, TheStartLogNamesTheMemoryAllocatorTheBuildLinked) {
  DaemonProcess daemon({"--model-repository", RepositoryWith({"identity"})});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  EXPECT_NE(daemon.Log().find(std::string("memory allocator ") + EDGESERVE_ALLOCATOR), std::string::npos)
      << daemon.Log();
}

TEST(LifecycleTest, JsonLogLinesAreJsonObjects) {
  DaemonProcess daemon({"--log-format", "json", "--model-repository", RepositoryWith({"identity", "corrupt"})});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  EXPECT_EQ(daemon.StopWith(SIGTERM), 0);
  std::istringstream lines(daemon.Log());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
    EXPECT_NE(line.find("\"msg\":\""), std::string::npos) << line;
  }
  EXPECT_GE(count, 3);
  EXPECT_NE(daemon.Log().find("\"level\":\"error\""), std::string::npos) << "the corrupt model's error";
}

// gRPC took port 99999 as 34463 and a service name as its port number.
TEST(LifecycleTest, AnAddressWithABadPortIsAUsageErrorNamingIt) {
  DaemonProcess daemon({"--address", "127.0.0.1:99999"});
  EXPECT_EQ(daemon.WaitForExit(std::chrono::seconds(60)), 1) << daemon.Log();
  EXPECT_NE(daemon.Log().find("--address: expected HOST:PORT with PORT a number from 0 (any free port) to 65535"),
            std::string::npos)
      << daemon.Log();
}

TEST(LifecycleTest, AddressInUseIsAClearStartupError) {
  DaemonProcess first({"--model-repository", RepositoryWith({"identity"})});
  ASSERT_TRUE(first.WaitUntilLive()) << first.Log();
  const std::string taken = first.address();
  DaemonProcess second({"--model-repository", RepositoryWith({"identity"}), "--address", taken});
  EXPECT_EQ(second.WaitForExit(std::chrono::seconds(60)), 1) << second.Log();
  EXPECT_NE(second.Log().find("cannot listen on " + taken + " (server.address"), std::string::npos) << second.Log();
}

}  // namespace
}  // namespace edgeserve::testing
