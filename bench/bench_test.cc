// Tests of edgeserve-bench's parts that decide what a number means: which
// requests count, how percentiles are taken, what is sent, what is printed.
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

TEST(EchoServer, AnswersTheClosedLoop) {
  absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  GrpcBenchOptions options;
  options.url = absl::StrCat("127.0.0.1:", (*server)->port());
  options.model = "identity";
  options.concurrency = 4;
  options.warmup_s = 0;
  options.duration_s = 0.3;
  absl::StatusOr<Report> report = RunGrpcBench(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->requests, 0);
  EXPECT_EQ(report->errors, 0) << report->first_error;
  EXPECT_EQ(report->batch, 1);
  EXPECT_GT(report->latency.p50_us, 0);
  EXPECT_LE(report->latency.p50_us, report->latency.p99_us);
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
