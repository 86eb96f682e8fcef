// The scheduler through the daemon: batching under concurrency, deadlines
// from gRPC and from the protocol's `timeout`, early rejection against the
// latency target, a full queue, priorities, cancellation, and the latency
// profile in ModelStatistics.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "e2e/daemon_process.h"

namespace edgeserve::testing {
namespace {

using inference::ModelInferRequest;
using inference::ModelInferResponse;

// A repository of one test model, `source`, served as `name` with `config`.
std::string Repository(const std::string& source, const std::string& name, const std::string& config) {
  const std::string repo = MakeTempDir("edgeserve-scheduler-");
  const std::string model = repo + "/" + name;
  EXPECT_EQ(mkdir(model.c_str(), 0755), 0);
  EXPECT_EQ(mkdir((model + "/1").c_str(), 0755), 0);
  const std::string file = std::string(EDGESERVE_TEST_MODELS) + "/" + source + "/1/model.pt";
  EXPECT_EQ(symlink(file.c_str(), (model + "/1/model.pt").c_str()), 0);
  WriteFile(model + "/config.yaml", config);
  return repo;
}

constexpr char kDoublerConfig[] =
    "platform: torchscript\n"
    "max_batch_size: 8\n"
    "inputs: [{name: x, datatype: FP32, shape: [64]}]\n"
    "outputs: [{name: y, datatype: FP32, shape: [64]}]\n"
    "optimization: none\n"
    "instance_groups: [{kind: CPU, count: 1, threads: 1}]\n";

std::string SpinConfig(const std::string& batching) {
  return "platform: torchscript\n"
         "max_batch_size: 0\n"
         "inputs: [{name: rounds, datatype: FP32, shape: [1]}]\n"
         "outputs: [{name: y, datatype: FP32, shape: [1]}]\n"
         "optimization: none\n"
         "instance_groups: [{kind: CPU, count: 1, threads: 1}]\n" +
         batching;
}

inference::ModelStatistics Statistics(const DaemonProcess& daemon, const std::string& model) {
  inference::ModelStatisticsRequest request;
  request.set_name(model);
  inference::ModelStatisticsResponse response;
  EXPECT_TRUE(daemon.NewStub()->ModelStatistics(ContextWithDeadline().get(), request, &response).ok());
  return response.model_stats_size() == 1 ? response.model_stats(0) : inference::ModelStatistics();
}

std::vector<float> Floats(const std::string& bytes) {
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

// Keeps the spin model's one instance busy for a good while on a thread of
// its own; the future holds its status.
std::future<grpc::Status> OccupySpin(const DaemonProcess& daemon, const std::string& model) {
  return std::async(std::launch::async, [&daemon, model] {
    ModelInferRequest request = SpinRequest(200000);
    request.set_model_name(model);
    ModelInferResponse response;
    return daemon.NewStub()->ModelInfer(ContextWithDeadline(std::chrono::seconds(300)).get(), request, &response);
  });
}

// The occupying request goes to the idle instance as soon as it arrives; the
// pause only keeps the requests sent next from overtaking it on the way.
void LetItStart() { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }

TEST(SchedulerTest, UnderConcurrencyRequestsShareExecutionsAndEachGetsItsOwnAnswer) {
  DaemonProcess daemon({"--model-repository", Repository("slow_doubler", "doubler", kDoublerConfig)});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  constexpr int kClients = 16;
  constexpr int kRequests = 25;
  std::vector<std::future<int>> clients;
  for (int client = 0; client < kClients; ++client) {
    clients.push_back(std::async(std::launch::async, [&daemon, client] {
      auto stub = daemon.NewStub();
      int correct = 0;
      for (int i = 0; i < kRequests; ++i) {
        std::vector<float> values(64);
        for (int j = 0; j < 64; ++j) values[static_cast<size_t>(j)] = static_cast<float>(client * 1000 + i) + j / 64.0f;
        ModelInferResponse response;
        const grpc::Status status = stub->ModelInfer(ContextWithDeadline().get(),
                                                     Fp32Request("doubler", "x", {1, 64}, values), &response);
        if (!status.ok() || response.raw_output_contents_size() != 1) continue;
        std::vector<float> doubled = Floats(response.raw_output_contents(0));
        bool same = doubled.size() == 64;
        for (size_t j = 0; same && j < 64; ++j) same = doubled[j] == 2 * values[j];
        correct += same ? 1 : 0;
      }
      return correct;
    }));
  }
  for (auto& client : clients) EXPECT_EQ(client.get(), kRequests);
  const inference::ModelStatistics stats = Statistics(daemon, "doubler");
  EXPECT_EQ(stats.inference_count(), static_cast<uint64_t>(kClients * kRequests));
  EXPECT_LT(stats.execution_count(), stats.inference_count()) << "requests were batched together";
  bool batched = false;
  for (const auto& batch : stats.batch_stats()) batched = batched || batch.batch_size() > 1;
  EXPECT_TRUE(batched);
  ASSERT_TRUE(stats.has_edgeserve_scheduler());
  EXPECT_EQ(stats.edgeserve_scheduler().mode(), "slo");
  EXPECT_EQ(stats.edgeserve_scheduler().max_batch_size(), 8u);
  // Learnt while serving: between nothing and four batch-1 executions.
  double batch1_us = 0;
  for (const auto& estimate : stats.edgeserve_scheduler().latency_profile()) {
    if (estimate.batch_size() == 1) batch1_us = estimate.predicted_us();
  }
  EXPECT_GT(batch1_us, 0);
  EXPECT_GE(stats.edgeserve_scheduler().admission_reserve_us(), 0);
  EXPECT_LE(stats.edgeserve_scheduler().admission_reserve_us(), 4 * batch1_us * 1.001);
  std::vector<uint64_t> profiled;
  for (const auto& estimate : stats.edgeserve_scheduler().latency_profile()) {
    profiled.push_back(estimate.batch_size());
    EXPECT_GT(estimate.predicted_us(), 0);
    EXPECT_GE(estimate.samples(), 3u);
  }
  // Measured at start, and any size served since.
  for (uint64_t size : {1, 2, 4, 8}) {
    EXPECT_NE(std::find(profiled.begin(), profiled.end(), size), profiled.end()) << size;
  }
}

// Clients sending rows of 4 to 7 values to `model` (padded_sum) at once:
// how many answers held their own row's sum, and how many came from a row
// padded beyond its own length (the model reports the length it was given).
struct PaddedSumAnswers {
  int correct = 0;
  int padded = 0;
  std::string first_error;  // of a request that failed, for the assertion's message
};

PaddedSumAnswers SendRowsOfDifferentLengths(const DaemonProcess& daemon, const std::string& model) {
  constexpr int kClients = 8;
  constexpr int kRequests = 20;
  std::vector<std::future<PaddedSumAnswers>> clients;
  for (int client = 0; client < kClients; ++client) {
    clients.push_back(std::async(std::launch::async, [&daemon, &model, client] {
      auto stub = daemon.NewStub();
      PaddedSumAnswers answers;
      for (int i = 0; i < kRequests; ++i) {
        const int length = 4 + (client + i) % 4;
        std::vector<float> values;
        float sum = 0;  // whole numbers: exact in any order of addition
        for (int j = 0; j < length; ++j) {
          values.push_back(static_cast<float>(client * 100 + i + j));
          sum += values.back();
        }
        ModelInferResponse response;
        const grpc::Status status =
            stub->ModelInfer(ContextWithDeadline().get(), Fp32Request(model, "x", {1, length}, values), &response);
        if (!status.ok() || response.raw_output_contents_size() != 2) {
          if (answers.first_error.empty()) answers.first_error = status.error_message();
          continue;
        }
        const std::vector<float> own_sum = Floats(response.raw_output_contents(0));
        const std::vector<float> given_length = Floats(response.raw_output_contents(1));
        if (own_sum.size() != 1 || given_length.size() != 1) continue;
        answers.correct += own_sum[0] == sum ? 1 : 0;
        answers.padded += given_length[0] > static_cast<float>(length) ? 1 : 0;
      }
      return answers;
    }));
  }
  PaddedSumAnswers total;
  for (auto& client : clients) {
    const PaddedSumAnswers answers = client.get();
    total.correct += answers.correct;
    total.padded += answers.padded;
    if (total.first_error.empty()) total.first_error = answers.first_error;
  }
  return total;
}

TEST(SchedulerTest, RequestsOfDifferentLengthsShareBatchesPaddedOnlyWhereTheConfigSaysSo) {
  const std::string config = ReadFile(std::string(EDGESERVE_TEST_MODELS) + "/padded_sum/config.yaml");
  ASSERT_NE(config.find(", pad_value: 0}"), std::string::npos) << config;
  {
    DaemonProcess daemon({"--model-repository", Repository("padded_sum", "padded", config)});
    ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
    const PaddedSumAnswers answers = SendRowsOfDifferentLengths(daemon, "padded");
    EXPECT_EQ(answers.correct, 160) << "each answer is its own row's sum, padding included; " << answers.first_error;
    EXPECT_GT(answers.padded, 0) << "rows of different lengths ran in one batch";
    const inference::ModelStatistics stats = Statistics(daemon, "padded");
    EXPECT_LT(stats.execution_count(), stats.inference_count());
  }
  std::string unpadded = config;
  unpadded.replace(unpadded.find(", pad_value: 0}"), 15, "}");
  DaemonProcess daemon({"--model-repository", Repository("padded_sum", "unpadded", unpadded)});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  const PaddedSumAnswers answers = SendRowsOfDifferentLengths(daemon, "unpadded");
  EXPECT_EQ(answers.correct, 160) << answers.first_error;
  EXPECT_EQ(answers.padded, 0) << "without pad_value only rows of one length share a batch";
  const inference::ModelStatistics stats = Statistics(daemon, "unpadded");
  EXPECT_LT(stats.execution_count(), stats.inference_count()) << "rows of one length still batch";
}

// The `failing` model raises on a negative input; served with batching, such
// a request shares batches with others, which must not fail with it.
TEST(SchedulerTest, ARequestThatMakesTheModelRaiseFailsAloneNotWithItsBatch) {
  const std::string config =
      "platform: torchscript\n"
      "max_batch_size: 4\n"
      "inputs: [{name: x, datatype: FP32, shape: [4]}]\n"
      "outputs: [{name: y, datatype: FP32, shape: [4]}]\n"
      "optimization: none\n"
      "instance_groups: [{kind: CPU, count: 1, threads: 1}]\n";
  DaemonProcess daemon({"--model-repository", Repository("failing", "picky", config)});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  constexpr int kClients = 12;
  constexpr int kRequests = 40;
  struct Outcome {
    int answered = 0;  // good requests answered correctly, bad ones refused with the model's error
    std::string first_wrong;
  };
  std::vector<std::future<Outcome>> clients;
  for (int client = 0; client < kClients; ++client) {
    clients.push_back(std::async(std::launch::async, [&daemon, client] {
      auto stub = daemon.NewStub();
      Outcome outcome;
      const bool bad = client % 4 == 0;
      for (int i = 0; i < kRequests; ++i) {
        const float value = static_cast<float>(client * 100 + i) * (bad ? -1.0f : 1.0f) - (bad ? 1.0f : 0.0f);
        ModelInferResponse response;
        const grpc::Status status = stub->ModelInfer(
            ContextWithDeadline().get(), Fp32Request("picky", "x", {1, 4}, {value, value, value, value}), &response);
        bool right;
        if (bad) {
          right = status.error_code() == grpc::StatusCode::INTERNAL &&
                  status.error_message().find("negative input rejected by the model") != std::string::npos;
        } else {
          right = status.ok() && response.raw_output_contents_size() == 1 &&
                  Floats(response.raw_output_contents(0)) == std::vector<float>(4, value + 1.0f);
        }
        if (right) {
          ++outcome.answered;
        } else if (outcome.first_wrong.empty()) {
          outcome.first_wrong =
              absl::StrCat(bad ? "bad" : "good", " request: ", status.error_code(), " ", status.error_message());
        }
      }
      return outcome;
    }));
  }
  for (auto& client : clients) {
    const Outcome outcome = client.get();
    EXPECT_EQ(outcome.answered, kRequests) << outcome.first_wrong;
  }
  const inference::ModelStatistics stats = Statistics(daemon, "picky");
  bool batched = false;
  for (const auto& batch : stats.batch_stats()) batched = batched || batch.batch_size() > 1;
  EXPECT_TRUE(batched) << "requests shared batches";
  EXPECT_NE(daemon.Log().find("which run again one by one"), std::string::npos) << daemon.Log();
}

TEST(SchedulerTest, ARequestThatCannotMeetTheLatencyTargetIsRejectedAtOnce) {
  const std::string config = std::string(kDoublerConfig) + "batching: {mode: slo, latency_target_ms: 0.001}\n";
  DaemonProcess daemon({"--model-repository", Repository("slow_doubler", "doubler", config)});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  ModelInferResponse response;
  const grpc::Status status = daemon.NewStub()->ModelInfer(
      ContextWithDeadline().get(), Fp32Request("doubler", "x", {1, 64}, std::vector<float>(64, 1.0f)), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // Refused on admission: either the deadline had already passed on the way
  // in, or the latency profile said it would.
  EXPECT_NE(status.error_message().find("deadline"), std::string::npos) << status.error_message();
  const inference::ModelStatistics stats = Statistics(daemon, "doubler");
  EXPECT_EQ(stats.execution_count(), 0u);
  EXPECT_EQ(stats.inference_stats().fail().count(), 1u);
  EXPECT_EQ(stats.edgeserve_scheduler().rejected_deadline(), 1u);
  EXPECT_EQ(stats.edgeserve_scheduler().rejected_deadline_after_waiting(), 0u);
  EXPECT_DOUBLE_EQ(stats.edgeserve_scheduler().latency_target_ms(), 0.001);
  // Nothing has run, so admission still keeps what it starts with: half a
  // batch-1 execution as the profile plans it.
  double batch1_us = 0;
  for (const auto& estimate : stats.edgeserve_scheduler().latency_profile()) {
    if (estimate.batch_size() == 1) batch1_us = estimate.predicted_us();
  }
  EXPECT_GT(batch1_us, 0);
  EXPECT_NEAR(stats.edgeserve_scheduler().admission_reserve_us(), 0.5 * batch1_us, 0.01);
}

TEST(SchedulerTest, QueuedRequestsPastTheirDeadlineOrCancelledAreNeverExecuted) {
  DaemonProcess daemon({"--model-repository", Repository("spin", "spin", SpinConfig(""))});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  std::future<grpc::Status> occupying = OccupySpin(daemon, "spin");
  LetItStart();

  // The client's own deadline.
  auto stub = daemon.NewStub();
  grpc::ClientContext short_deadline;
  short_deadline.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  ModelInferResponse response;
  grpc::Status status = stub->ModelInfer(&short_deadline, SpinRequest(1), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  // The protocol's `timeout`, in microseconds.
  ModelInferRequest with_timeout = SpinRequest(1);
  (*with_timeout.mutable_parameters())["timeout"].set_int64_param(200000);
  const auto sent = std::chrono::steady_clock::now();
  status = stub->ModelInfer(ContextWithDeadline().get(), with_timeout, &response);
  const auto waited = std::chrono::steady_clock::now() - sent;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_NE(status.error_message().find("deadline"), std::string::npos) << status.error_message();
  EXPECT_LT(waited, std::chrono::seconds(2)) << "answered at its timeout, not when the instance freed";

  // A client that gives up while its request waits.
  grpc::ClientContext cancelled;
  std::future<grpc::Status> abandoned = std::async(std::launch::async, [&] {
    ModelInferResponse ignored;
    return stub->ModelInfer(&cancelled, SpinRequest(1), &ignored);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  cancelled.TryCancel();
  EXPECT_EQ(abandoned.get().error_code(), grpc::StatusCode::CANCELLED);

  ASSERT_TRUE(occupying.get().ok());
  // A request after all of them runs, and nothing else ran in between.
  ASSERT_TRUE(stub->ModelInfer(ContextWithDeadline().get(), SpinRequest(1), &response).ok());
  const inference::ModelStatistics stats = Statistics(daemon, "spin");
  EXPECT_EQ(stats.execution_count(), 2u) << "only the occupying request and the last one ran";
  EXPECT_EQ(stats.edgeserve_scheduler().rejected_deadline(), 2u);
  EXPECT_EQ(stats.edgeserve_scheduler().cancelled(), 1u);
}

TEST(SchedulerTest, AFullQueueAnswersResourceExhaustedAtOnceAndPrioritiesAreChecked) {
  DaemonProcess daemon({"--model-repository",
                        Repository("spin", "spin", SpinConfig("batching: {max_queue_size: 1, priority_levels: 2}\n"))});
  ASSERT_TRUE(daemon.WaitUntilLive()) << daemon.Log();
  std::future<grpc::Status> occupying = OccupySpin(daemon, "spin");
  LetItStart();
  auto stub = daemon.NewStub();
  std::future<grpc::Status> queued = std::async(std::launch::async, [&] {
    ModelInferResponse ignored;
    return daemon.NewStub()->ModelInfer(ContextWithDeadline(std::chrono::seconds(300)).get(), SpinRequest(1),
                                        &ignored);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ModelInferResponse response;
  grpc::Status status = stub->ModelInfer(ContextWithDeadline().get(), SpinRequest(1), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("the queue is full (1 requests waiting)"), std::string::npos)
      << status.error_message();

  ModelInferRequest bad_priority = SpinRequest(1);
  (*bad_priority.mutable_parameters())["priority"].set_uint64_param(3);
  status = stub->ModelInfer(ContextWithDeadline().get(), bad_priority, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("parameter 'priority'"), std::string::npos) << status.error_message();

  EXPECT_TRUE(occupying.get().ok());
  EXPECT_TRUE(queued.get().ok());
  EXPECT_EQ(Statistics(daemon, "spin").edgeserve_scheduler().rejected_queue_full(), 1u);
}

}  // namespace
}  // namespace edgeserve::testing
