// Tests of edgeserve-bench's parts that decide what a number means: which
// requests count, how percentiles are taken, what is sent, what is printed.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "echo_server.h"
#include "flags.h"
#include "grpc_bench.h"
#include "infer_request.h"
#include "load_generator.h"
#include "report.h"

namespace edgeserve::bench {
namespace {

inference::ModelMetadataResponse Metadata(std::vector<int64_t> shape, const std::string& datatype = "FP32") {
  inference::ModelMetadataResponse metadata;
  metadata.set_name("m");
  auto* input = metadata.add_inputs();
  input->set_name("x");
  input->set_datatype(datatype);
  input->mutable_shape()->Add(shape.begin(), shape.end());
  return metadata;
}

TEST(SummarizeLatencies, TakesNearestRankPercentiles) {
  std::vector<int64_t> ns;
  for (int64_t i = 100; i >= 1; --i) ns.push_back(i * 1000);
  LatencySummary summary = SummarizeLatencies(ns);
  EXPECT_EQ(summary.count, 100);
  EXPECT_DOUBLE_EQ(summary.p50_us, 50);
  EXPECT_DOUBLE_EQ(summary.p90_us, 90);
  EXPECT_DOUBLE_EQ(summary.p99_us, 99);
  EXPECT_DOUBLE_EQ(summary.max_us, 100);
}

TEST(SummarizeLatencies, IsZeroWithoutSamples) {
  std::vector<int64_t> none;
  LatencySummary summary = SummarizeLatencies(none);
  EXPECT_EQ(summary.count, 0);
  EXPECT_EQ(summary.p99_us, 0);
}

TEST(FormatJson, EscapesTextAndKeepsTheScriptsKeys) {
  Report report;
  report.mode = "grpc";
  report.batch = 4;
  report.duration_s = 2;
  report.requests = 10;
  report.errors = 1;
  report.first_error = "UNAVAILABLE: \"down\"\n";
  report.details.emplace_back("channels", "1");
  const std::string json = FormatJson(report);
  EXPECT_NE(json.find("\"requests_per_s\":5.000"), std::string::npos) << json;
  EXPECT_NE(json.find("\"inferences_per_s\":20.000"), std::string::npos) << json;
  EXPECT_NE(json.find("\"first_error\":\"UNAVAILABLE: \\\"down\\\"\\n\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"details\":{\"channels\":\"1\"}"), std::string::npos) << json;
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

TEST(Flags, ParsesBothFormsAndSwitches) {
  absl::StatusOr<Flags> flags = Flags::Parse({"--concurrency", "16", "--shape=1,3", "--json"}, {"json"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(*flags->Int("concurrency", 1, 1), 16);
  EXPECT_EQ(*flags->Shape("shape"), (std::vector<int64_t>{1, 3}));
  EXPECT_TRUE(flags->Switch("json"));
  EXPECT_TRUE(flags->CheckAllUsed().ok());
}

TEST(Flags, ShapesAreSeparatedByColons) {
  absl::StatusOr<Flags> flags = Flags::Parse({"--shape", "1,16:1,32:2,8"}, {});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(*flags->Shapes("shape"), (std::vector<std::vector<int64_t>>{{1, 16}, {1, 32}, {2, 8}}));
  EXPECT_EQ(flags->Shape("shape").status().message(), "--shape: expected one shape, got 3");
  EXPECT_FALSE(Flags::Parse({"--shape", "1,16:"}, {})->Shapes("shape").ok());
  EXPECT_TRUE(Flags::Parse({}, {})->Shapes("shape")->empty());
}

TEST(Flags, RejectsTyposBadNumbersAndMissingValues) {
  absl::StatusOr<Flags> typo = Flags::Parse({"--concurency", "16"}, {});
  ASSERT_TRUE(typo.ok());
  EXPECT_EQ(*typo->Int("concurrency", 1, 1), 1);
  EXPECT_FALSE(typo->CheckAllUsed().ok());

  absl::StatusOr<Flags> bad = Flags::Parse({"--concurrency", "0", "--shape", "1,-1"}, {});
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->Int("concurrency", 1, 1).ok());
  EXPECT_FALSE(bad->Shape("shape").ok());

  EXPECT_FALSE(Flags::Parse({"--url"}, {}).ok());
  EXPECT_FALSE(Flags::Parse({"url"}, {}).ok());
}

TEST(BuildInferRequest, ResolvesTheBatchDimension) {
  absl::StatusOr<PreparedRequest> one = BuildInferRequest(Metadata({-1, 16}), "m", "", {});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->batch, 1);
  ASSERT_EQ(one->request.inputs_size(), 1);
  EXPECT_EQ(one->request.inputs(0).shape_size(), 2);
  EXPECT_EQ(one->request.inputs(0).shape(0), 1);
  ASSERT_EQ(one->request.raw_input_contents_size(), 1);
  EXPECT_EQ(one->request.raw_input_contents(0).size(), 16u * 4);

  InputChoices batch4;
  batch4.batch = 4;
  absl::StatusOr<PreparedRequest> four = BuildInferRequest(Metadata({-1, 16}), "m", "2", batch4);
  ASSERT_TRUE(four.ok()) << four.status();
  EXPECT_EQ(four->batch, 4);
  EXPECT_EQ(four->request.model_version(), "2");
  EXPECT_EQ(four->request.raw_input_contents(0).size(), 4u * 16 * 4);

  // A fixed leading dimension is not a batch.
  EXPECT_EQ(BuildInferRequest(Metadata({3, 4}), "m", "", {})->batch, 1);
  EXPECT_FALSE(BuildInferRequest(Metadata({3, 4}), "m", "", batch4).ok());
}

TEST(BuildInferRequest, TakesOtherVariableDimensionsFromShape) {
  EXPECT_FALSE(BuildInferRequest(Metadata({-1, 3, -1}), "m", "", {}).ok());

  InputChoices choices;
  choices.shape = {2, 3, 5};
  absl::StatusOr<PreparedRequest> prepared = BuildInferRequest(Metadata({-1, 3, -1}), "m", "", choices);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_EQ(prepared->batch, 2);
  EXPECT_EQ(prepared->request.raw_input_contents(0).size(), 2u * 3 * 5 * 4);

  choices.shape = {2, 4, 5};  // disagrees with the fixed 3
  EXPECT_FALSE(BuildInferRequest(Metadata({-1, 3, -1}), "m", "", choices).ok());
  choices.shape = {2, 3};  // wrong rank
  EXPECT_FALSE(BuildInferRequest(Metadata({-1, 3, -1}), "m", "", choices).ok());
}

TEST(BuildInferRequest, HonoursTheDatatypeOverrideAndRefusesBytes) {
  InputChoices choices;
  choices.datatype = "INT64";
  absl::StatusOr<PreparedRequest> prepared = BuildInferRequest(Metadata({-1, 16}), "m", "", choices);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->request.inputs(0).datatype(), "INT64");
  EXPECT_EQ(prepared->request.raw_input_contents(0).size(), 16u * 8);
  EXPECT_FALSE(BuildInferRequest(Metadata({-1, 16}, "BYTES"), "m", "", {}).ok());
  EXPECT_FALSE(BuildInferRequest(Metadata({-1, 16}, "FP8"), "m", "", {}).ok());
}

TEST(ParseDatatype, TakesTheDaemonsFixedSizeDatatypes) {
  for (const char* name : {"BOOL", "UINT8", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64"}) {
    absl::StatusOr<core::DataType> datatype = ParseDatatype(name);
    ASSERT_TRUE(datatype.ok()) << name;
    EXPECT_EQ(core::DataTypeName(*datatype), name);
  }
  EXPECT_EQ(ParseDatatype("BYTES").status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(ParseDatatype("fp32").status().code(), absl::StatusCode::kInvalidArgument);
  std::string bytes;
  EXPECT_EQ(FillDeterministic(core::DataType::kBytes, 0, bytes).code(), absl::StatusCode::kUnimplemented);
}

TEST(FillDeterministic, RepeatsAndStaysInRange) {
  std::string a(4 * 1000, '\0');
  std::string b(4 * 1000, '\0');
  ASSERT_TRUE(FillDeterministic(core::DataType::kFp32, 7, a).ok());
  ASSERT_TRUE(FillDeterministic(core::DataType::kFp32, 7, b).ok());
  EXPECT_EQ(a, b);
  for (size_t i = 0; i < 1000; ++i) {
    float value;
    std::memcpy(&value, a.data() + 4 * i, 4);
    EXPECT_GE(value, -1.0f);
    EXPECT_LT(value, 1.0f);
  }
  std::string c(4 * 1000, '\0');
  ASSERT_TRUE(FillDeterministic(core::DataType::kFp32, 8, c).ok());
  EXPECT_NE(a, c);
}

TEST(Recorder, CountsOnlyWhatCompletesInsideTheWindow) {
  const Clock::time_point t0 = Clock::now();
  const auto ms = [t0](int n) { return t0 + std::chrono::milliseconds(n); };
  Recorder recorder(2, Window{ms(100), ms(200)});
  recorder.Record(0, ms(50), ms(99), grpc::Status::OK);     // warm-up
  recorder.Record(0, ms(90), ms(110), grpc::Status::OK);    // sent before, counts
  recorder.Record(1, ms(150), ms(160), grpc::Status(grpc::StatusCode::UNAVAILABLE, "second"));
  recorder.Record(0, ms(120), ms(130), grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "first"));
  recorder.Record(1, ms(190), ms(200), grpc::Status::OK);   // ends as the window closes
  Totals totals = recorder.Collect();
  EXPECT_EQ(totals.requests, 1);
  EXPECT_EQ(totals.latencies_ns, (std::vector<int64_t>{20'000'000}));
  EXPECT_EQ(totals.errors, 2);
  EXPECT_EQ(totals.first_error, "RESOURCE_EXHAUSTED: first");
}

TEST(Flags, TellsWhetherAFlagWasGivenAndParsesNumbers) {
  absl::StatusOr<Flags> flags = Flags::Parse({"--rate", "12.5", "--slo-ms", "-1"}, {});
  ASSERT_TRUE(flags.ok());
  EXPECT_TRUE(flags->Has("rate"));
  EXPECT_FALSE(flags->Has("seed"));
  EXPECT_FALSE(flags->CheckAllUsed().ok());  // Has does not count as asking
  EXPECT_DOUBLE_EQ(*flags->Number("rate", 0, 0), 12.5);
  EXPECT_FALSE(flags->Number("slo-ms", 0, 0.001).ok());
  EXPECT_DOUBLE_EQ(*flags->Number("seed", 3, 0), 3);
}

TEST(PoissonArrivals, KeepsTheRateForAFixedSeed) {
  const Clock::time_point start{};
  PoissonArrivals arrivals(1000, 1, start);
  constexpr int kArrivals = 100000;
  Clock::time_point previous = start;
  double sum_s = 0;
  double sum_squares = 0;
  for (int i = 0; i < kArrivals; ++i) {
    const Clock::time_point next = arrivals.Next();
    ASSERT_GE(next, previous);
    const double gap_s = std::chrono::duration<double>(next - previous).count();
    sum_s += gap_s;
    sum_squares += gap_s * gap_s;
    previous = next;
  }
  const double mean_s = sum_s / kArrivals;
  // 100,000 exponential gaps: the mean's standard error is 0.3%, so 1.5% is
  // five of them; the seed is fixed, so this never flakes.
  EXPECT_NEAR(kArrivals / std::chrono::duration<double>(previous - start).count(), 1000, 15);
  // An exponential distribution's standard deviation equals its mean.
  const double stddev_s = std::sqrt(sum_squares / kArrivals - mean_s * mean_s);
  EXPECT_NEAR(stddev_s / mean_s, 1.0, 0.03);
}

TEST(PoissonArrivals, RepeatsForASeedAndDiffersAcrossSeeds) {
  const Clock::time_point start{};
  PoissonArrivals a(50, 7, start);
  PoissonArrivals b(50, 7, start);
  PoissonArrivals c(50, 8, start);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const Clock::time_point next = a.Next();
    EXPECT_EQ(next, b.Next());
    differs = differs || next != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(SummarizeOpenLoop, CountsGoodputAttainmentAndRejections) {
  OpenLoopBenchOptions options;
  options.rate_per_s = 12;
  options.slo_ms = 10;
  options.target.duration_s = 2;
  options.target.warmup_s = 1;
  OpenLoopTotals totals;
  totals.sent = 20;
  totals.dropped = 4;
  constexpr int64_t kMs = 1'000'000;
  // Eight successes, three beyond the SLO; exactly the SLO is within.
  totals.latencies_ns = {1 * kMs, 2 * kMs, 3 * kMs, 4 * kMs, 10 * kMs, 11 * kMs, 20 * kMs, 30 * kMs};
  totals.failures_ns[static_cast<size_t>(grpc::StatusCode::RESOURCE_EXHAUSTED)] = {100'000, 200'000, 300'000};
  totals.failures_ns[static_cast<size_t>(grpc::StatusCode::DEADLINE_EXCEEDED)] = {50 * kMs};
  totals.failures_ns[static_cast<size_t>(grpc::StatusCode::INVALID_ARGUMENT)] = {1 * kMs, 1 * kMs};
  totals.client_timeouts = 1;
  totals.lags_ns = {1000, 2000, 500'000};
  totals.peak_in_flight = 9;
  totals.first_error = "RESOURCE_EXHAUSTED: queue full";

  Report report = SummarizeOpenLoop(totals, options, 1);
  ASSERT_TRUE(report.open_loop.has_value());
  const OpenLoopSummary& open = *report.open_loop;
  EXPECT_EQ(report.mode, "open-loop");
  EXPECT_EQ(report.requests, 8);
  EXPECT_EQ(report.errors, 3 + 1 + 2 + 1);
  EXPECT_DOUBLE_EQ(report.RequestsPerSecond(), 4);
  EXPECT_EQ(open.within_slo, 5);
  EXPECT_DOUBLE_EQ(report.GoodputPerSecond(), 2.5);
  EXPECT_EQ(open.Arrivals(), 24);
  EXPECT_DOUBLE_EQ(open.Attainment(), 5.0 / 24);
  EXPECT_DOUBLE_EQ(report.latency.p50_us, 4000);
  EXPECT_DOUBLE_EQ(report.latency.max_us, 30000);

  ASSERT_EQ(open.rejections.size(), 2u);  // in code order
  EXPECT_EQ(open.rejections[0].code, "DEADLINE_EXCEEDED");
  EXPECT_EQ(open.rejections[0].count, 1);
  EXPECT_EQ(open.rejections[1].code, "RESOURCE_EXHAUSTED");
  EXPECT_EQ(open.rejections[1].count, 3);
  EXPECT_DOUBLE_EQ(open.rejections[1].p50_us, 200);
  EXPECT_DOUBLE_EQ(open.rejections[1].p99_us, 300);
  EXPECT_EQ(open.rejected.count, 4);
  EXPECT_DOUBLE_EQ(open.rejected.p50_us, 200);
  EXPECT_DOUBLE_EQ(open.rejected.p99_us, 50000);
  EXPECT_EQ(open.other_errors, 2 + 1);
  EXPECT_EQ(open.client_timeouts, 1);
  EXPECT_DOUBLE_EQ(open.lag_max_us, 500);
  EXPECT_EQ(open.peak_in_flight, 9);

  const std::string json = FormatJson(report);
  for (const char* key :
       {"\"concurrency\":0", "\"offered_rate_per_s\":12.000", "\"slo_ms\":10.000", "\"sent\":20",
        "\"dropped\":4", "\"successes\":8", "\"throughput_per_s\":4.000", "\"within_slo\":5",
        "\"goodput_per_s\":2.500", "\"slo_attainment\":0.208333",
        "\"rejected\":{\"count\":4,\"p50_us\":200.000,\"p99_us\":50000.000}",
        "\"RESOURCE_EXHAUSTED\":{\"count\":3,", "\"other_errors\":3", "\"client_timeouts\":1",
        "\"lag_max_us\":500.000", "\"peak_in_flight\":9"}) {
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
  }
  const std::string table = FormatTable(report);
  EXPECT_NE(table.find("SLO attainment"), std::string::npos) << table;
  EXPECT_EQ(table.find("concurrency"), std::string::npos) << table;
}

TEST(SummarizeOpenLoop, IsZeroWithoutArrivals) {
  OpenLoopBenchOptions options;
  options.slo_ms = 1;
  options.target.duration_s = 1;
  OpenLoopTotals totals;
  Report report = SummarizeOpenLoop(totals, options, 1);
  EXPECT_EQ(report.open_loop->Attainment(), 0);
  EXPECT_EQ(report.GoodputPerSecond(), 0);
  EXPECT_EQ(report.open_loop->rejected.count, 0);
  EXPECT_EQ(FormatJson(report).find("null"), std::string::npos);
}

TEST(SetSchedulingParameters, WritesThemAsTritonsClientsDo) {
  inference::ModelInferRequest request;
  SetSchedulingParameters({}, request);
  EXPECT_TRUE(request.parameters().empty());
  SchedulingParameters parameters;
  parameters.timeout_us = 5000;
  parameters.priority = 2;
  SetSchedulingParameters(parameters, request);
  ASSERT_EQ(request.parameters().count("timeout"), 1u);
  EXPECT_EQ(request.parameters().at("timeout").parameter_choice_case(), inference::InferParameter::kInt64Param);
  EXPECT_EQ(request.parameters().at("timeout").int64_param(), 5000);
  // On the wire: field 5 (uint64_param), varint 2, as the protocol's own
  // grpc_service.proto numbers it.
  EXPECT_EQ(request.parameters().at("priority").SerializeAsString(), std::string("\x28\x02", 2));
}

// A run against `server`'s identity model, without warm-up.
GrpcBenchOptions EchoTarget(const EchoServer& server) {
  GrpcBenchOptions options;
  options.url = absl::StrCat("127.0.0.1:", server.port());
  options.model = "identity";
  options.warmup_s = 0;
  return options;
}

TEST(EchoServer, AnswersTheClosedLoop) {
  absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  GrpcBenchOptions options = EchoTarget(**server);
  options.concurrency = 4;
  options.duration_s = 0.3;
  absl::StatusOr<Report> report = RunGrpcBench(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->requests, 0);
  EXPECT_EQ(report->errors, 0) << report->first_error;
  EXPECT_EQ(report->batch, 1);
  EXPECT_GT(report->latency.p50_us, 0);
  EXPECT_LE(report->latency.p50_us, report->latency.p99_us);
}

TEST(EchoServer, AnswersRequestsOfSeveralShapesTakenInTurn) {
  absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  GrpcBenchOptions options = EchoTarget(**server);
  options.inputs.shape = {1, 16};
  options.other_shapes = {{2, 16}};
  options.duration_s = 0.2;
  absl::StatusOr<Report> mixed_batches = RunGrpcBench(options);
  EXPECT_EQ(mixed_batches.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mixed_batches.status().message(), "--shape: every shape must have the same batch dimension");

  options.inputs.shape = {2, 16};
  absl::StatusOr<Report> report = RunGrpcBench(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->requests, 0);
  EXPECT_EQ(report->errors, 0) << report->first_error;
  EXPECT_EQ(report->batch, 2);
  const auto inputs = std::find_if(report->details.begin(), report->details.end(),
                                   [](const auto& detail) { return detail.first == "inputs"; });
  ASSERT_NE(inputs, report->details.end());
  EXPECT_EQ(inputs->second, "INPUT0:FP32[2,16] | INPUT0:FP32[2,16]");
}

// A raw input of N FP32 values, each its own index.
std::string Indices(int n) {
  std::string raw(static_cast<size_t>(n) * sizeof(float), '\0');
  for (int i = 0; i < n; ++i) {
    const float value = static_cast<float>(i);
    std::memcpy(&raw[static_cast<size_t>(i) * sizeof(float)], &value, sizeof(float));
  }
  return raw;
}

TEST(EchoServer, CutsRepliesLongerThanTheLimitToWholeElements) {
  absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Start("127.0.0.1:0", 4002);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = inference::GRPCInferenceService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()), grpc::InsecureChannelCredentials()));
  for (const int elements : {16, 150528}) {
    inference::ModelInferRequest request;
    request.set_model_name("identity");
    auto* input = request.add_inputs();
    input->set_name("INPUT0");
    input->set_datatype("FP32");
    input->add_shape(elements / 16);
    input->add_shape(16);
    request.add_raw_input_contents(Indices(elements));
    inference::ModelInferResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub->ModelInfer(&context, request, &response).ok()) << elements;
    ASSERT_EQ(response.raw_output_contents_size(), 1);
    ASSERT_EQ(response.outputs_size(), 1);
    if (elements == 16) {  // 64 bytes: under the limit, echoed whole
      EXPECT_EQ(response.raw_output_contents(0), request.raw_input_contents(0));
      EXPECT_EQ(std::vector<int64_t>(response.outputs(0).shape().begin(), response.outputs(0).shape().end()),
                (std::vector<int64_t>{1, 16}));
    } else {  // 602,112 bytes: the first 1,000 floats, as 4,002 bytes would cut one in half
      EXPECT_EQ(response.raw_output_contents(0), Indices(1000));
      EXPECT_EQ(std::vector<int64_t>(response.outputs(0).shape().begin(), response.outputs(0).shape().end()),
                (std::vector<int64_t>{1000}));
    }
  }
}

TEST(EchoServer, AnswersTheOpenLoop) {
  absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  OpenLoopBenchOptions options;
  options.target = EchoTarget(**server);
  options.target.warmup_s = 0.05;
  options.target.duration_s = 0.3;
  options.rate_per_s = 500;
  options.slo_ms = 1000;
  options.deadline_ms = 5000;
  options.parameters.priority = 1;
  absl::StatusOr<Report> report = RunOpenLoopBench(options);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(report->open_loop.has_value());
  const OpenLoopSummary& open = *report->open_loop;
  // About 150 arrivals; the schedule is seeded, but the count depends on when
  // the clock started only through the window's edges.
  EXPECT_GT(open.sent, 75);
  EXPECT_LT(open.sent, 300);
  EXPECT_EQ(open.dropped, 0);
  EXPECT_EQ(report->errors, 0) << report->first_error;
  EXPECT_EQ(report->requests, open.sent);
  EXPECT_EQ(open.within_slo, open.sent);
  EXPECT_GE(open.peak_in_flight, 1);
}

TEST(RunOpenLoop, ReportsEveryArrivalWhenTheServerIsGone) {
  int port = 0;
  {
    absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Start("127.0.0.1:0");
    ASSERT_TRUE(server.ok());
    port = (*server)->port();
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels = {
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials())};
  InferClient client(channels, {inference::ModelInferRequest()}, std::nullopt);
  OpenLoopOptions options;
  options.rate_per_s = 1000;
  options.duration = std::chrono::milliseconds(100);
  options.drain_timeout = std::chrono::seconds(5);
  OpenLoopTotals totals = RunOpenLoop(client, options);
  EXPECT_GT(totals.sent, 0);
  EXPECT_TRUE(totals.latencies_ns.empty());
  // Every arrival answered, and by gRPC itself: UNAVAILABLE, a fast refusal.
  EXPECT_EQ(static_cast<int64_t>(totals.failures_ns[static_cast<size_t>(grpc::StatusCode::UNAVAILABLE)].size()),
            totals.sent);
  EXPECT_EQ(totals.client_timeouts, 0);
  EXPECT_EQ(totals.lags_ns.size(), static_cast<size_t>(totals.sent));
}

// A server that takes every call and never answers, until the client cancels.
class SilentService : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* /*context*/) override {
    class Silent : public grpc::ServerGenericBidiReactor {
     public:
      void OnCancel() override { Finish(grpc::Status::CANCELLED); }
      void OnDone() override { delete this; }
    };
    return new Silent;
  }
};

TEST(RunOpenLoop, DropsBeyondTheCapAndCancelsWhatNeverAnswers) {
  SilentService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  std::vector<std::shared_ptr<grpc::Channel>> channels = {
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials())};
  InferClient client(channels, {inference::ModelInferRequest()}, std::nullopt);
  OpenLoopOptions options;
  options.rate_per_s = 1000;
  options.max_in_flight = 5;
  options.duration = std::chrono::milliseconds(100);
  options.drain_timeout = std::chrono::milliseconds(100);
  OpenLoopTotals totals = RunOpenLoop(client, options);
  // Nothing answers, so the first five arrivals stay in flight and every
  // later one is dropped; the five are cancelled when the run ends.
  EXPECT_EQ(totals.sent, 5);
  EXPECT_GT(totals.dropped, 20);
  EXPECT_EQ(totals.peak_in_flight, 5);
  EXPECT_EQ(totals.client_timeouts, 5);
  EXPECT_TRUE(totals.latencies_ns.empty());
  for (const auto& failures : totals.failures_ns) EXPECT_TRUE(failures.empty());
  EXPECT_EQ(totals.first_error, "CANCELLED: no answer before the client's timeout");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

TEST(RunGrpcBench, FailsToStartWithoutAServer) {
  int port = 0;
  {
    absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Start("127.0.0.1:0");
    ASSERT_TRUE(server.ok());
    port = (*server)->port();
  }
  GrpcBenchOptions options;
  options.url = absl::StrCat("127.0.0.1:", port);
  options.model = "identity";
  options.timeout_ms = 300;
  EXPECT_FALSE(RunGrpcBench(options).ok());
}

}  // namespace
}  // namespace edgeserve::bench
