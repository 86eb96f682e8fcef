#include "grpc_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc_service.grpc.pb.h"
#include "load_generator.h"

namespace edgeserve::bench {
namespace {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& url) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  // gRPC shares one connection between channels with equal arguments unless
  // told otherwise; separate channels are only worth having on separate
  // connections.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(url, grpc::InsecureChannelCredentials(), args);
}

Clock::duration FromSeconds(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// "INPUT0:FP32[1,16]", so a report says what was sent; requests taken in
// turn are separated by " | ".
std::string DescribeInputs(const std::vector<inference::ModelInferRequest>& requests) {
  std::vector<std::string> described;
  for (const inference::ModelInferRequest& request : requests) {
    std::string text;
    for (const auto& input : request.inputs()) {
      absl::StrAppend(&text, text.empty() ? "" : " ", input.name(), ":", input.datatype(), "[",
                      absl::StrJoin(input.shape(), ","), "]");
    }
    described.push_back(std::move(text));
  }
  return absl::StrJoin(described, " | ");
}

// A connected client for one model: what both modes set up before their
// clock starts.
struct Target {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<inference::ModelInferRequest> requests;  // sent in turn
  int64_t batch = 1;                                   // inferences per request
  std::string inputs;                                  // DescribeInputs of the requests
};

absl::StatusOr<Target> Connect(const GrpcBenchOptions& options) {
  const auto timeout = std::chrono::milliseconds(options.timeout_ms);
  Target target;
  for (int i = 0; i < options.channels; ++i) {
    target.channels.push_back(MakeChannel(options.url));
    // Connect before the clock starts so the warm-up measures serving, not
    // TCP and HTTP/2 set-up.
    if (!target.channels.back()->WaitForConnected(std::chrono::system_clock::now() + timeout)) {
      return absl::UnavailableError(absl::StrCat("cannot connect to ", options.url, " within ",
                                                 options.timeout_ms, " ms"));
    }
  }

  inference::ModelMetadataRequest metadata_request;
  metadata_request.set_name(options.model);
  metadata_request.set_version(options.version);
  inference::ModelMetadataResponse metadata;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  grpc::Status status = inference::GRPCInferenceService::NewStub(target.channels.front())
                            ->ModelMetadata(&context, metadata_request, &metadata);
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("ModelMetadata for '", options.model, "' at ", options.url,
                                               " failed: ", DescribeStatus(status)));
  }

  std::vector<InputChoices> mix = {options.inputs};
  for (const std::vector<int64_t>& shape : options.other_shapes) {
    mix.push_back(options.inputs);
    mix.back().shape = shape;
  }
  for (const InputChoices& choices : mix) {
    absl::StatusOr<PreparedRequest> prepared = BuildInferRequest(metadata, options.model, options.version, choices);
    if (!prepared.ok()) return prepared.status();
    if (!target.requests.empty() && prepared->batch != target.batch) {
      return absl::InvalidArgumentError("--shape: every shape must have the same batch dimension");
    }
    target.batch = prepared->batch;
    target.requests.push_back(std::move(prepared->request));
  }
  target.inputs = DescribeInputs(target.requests);
  return target;
}

int ClientThreads(const GrpcBenchOptions& options) {
  return options.client_threads > 0 ? options.client_threads
                                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::string DescribeTarget(const GrpcBenchOptions& options) {
  return absl::StrCat(options.url, " model ", options.model,
                      options.version.empty() ? "" : absl::StrCat(" version ", options.version));
}

// Nearest-rank p50 and p99 of one group of failures.
FailureGroup Group(const std::string& code, std::vector<int64_t>& latencies_ns) {
  FailureGroup group;
  group.code = code;
  const LatencySummary summary = SummarizeLatencies(latencies_ns);
  group.count = summary.count;
  group.p50_us = summary.p50_us;
  group.p99_us = summary.p99_us;
  return group;
}

}  // namespace

absl::StatusOr<Report> RunGrpcBench(const GrpcBenchOptions& options) {
  absl::StatusOr<Target> target = Connect(options);
  if (!target.ok()) return target.status();

  InferClient client(target->channels, std::move(target->requests), std::chrono::milliseconds(options.timeout_ms));
  ClosedLoopOptions loop;
  loop.concurrency = options.concurrency;
  loop.threads = std::min(ClientThreads(options), options.concurrency);
  loop.warmup = FromSeconds(options.warmup_s);
  loop.duration = FromSeconds(options.duration_s);
  Totals totals = RunClosedLoop(client, loop);

  Report report;
  report.mode = "grpc";
  report.target = DescribeTarget(options);
  report.concurrency = options.concurrency;
  report.batch = target->batch;
  report.warmup_s = options.warmup_s;
  report.duration_s = options.duration_s;
  report.requests = totals.requests;
  report.errors = totals.errors;
  report.first_error = std::move(totals.first_error);
  report.latency = SummarizeLatencies(totals.latencies_ns);
  report.details.emplace_back("channels", absl::StrCat(options.channels));
  report.details.emplace_back("client threads", absl::StrCat(loop.threads));
  report.details.emplace_back("inputs", target->inputs);
  return report;
}

Report SummarizeOpenLoop(OpenLoopTotals& totals, const OpenLoopBenchOptions& options, int64_t batch) {
  Report report;
  report.mode = "open-loop";
  report.concurrency = 0;
  report.batch = batch;
  report.warmup_s = options.target.warmup_s;
  report.duration_s = options.target.duration_s;
  report.requests = static_cast<int64_t>(totals.latencies_ns.size());
  report.first_error = totals.first_error;

  OpenLoopSummary open;
  open.rate_per_s = options.rate_per_s;
  open.slo_ms = options.slo_ms;
  open.sent = totals.sent;
  open.dropped = totals.dropped;
  // In integer nanoseconds, so a latency of exactly the SLO counts as within.
  const auto slo_ns = static_cast<int64_t>(std::llround(options.slo_ms * 1e6));
  open.within_slo = std::count_if(totals.latencies_ns.begin(), totals.latencies_ns.end(),
                                  [slo_ns](int64_t latency_ns) { return latency_ns <= slo_ns; });
  std::vector<int64_t> all_rejected;
  for (int code = 0; code < kStatusCodes; ++code) {
    std::vector<int64_t>& failures = totals.failures_ns[static_cast<size_t>(code)];
    if (failures.empty()) continue;
    report.errors += static_cast<int64_t>(failures.size());
    if (!IsRejection(code)) {
      open.other_errors += static_cast<int64_t>(failures.size());
      continue;
    }
    all_rejected.insert(all_rejected.end(), failures.begin(), failures.end());
    open.rejections.push_back(Group(StatusCodeName(code), failures));
  }
  open.rejected = Group("all", all_rejected);
  open.client_timeouts = totals.client_timeouts;
  open.other_errors += totals.client_timeouts;
  report.errors += totals.client_timeouts;
  const LatencySummary lag = SummarizeLatencies(totals.lags_ns);
  open.lag_p99_us = lag.p99_us;
  open.lag_max_us = lag.max_us;
  open.peak_in_flight = totals.peak_in_flight;
  report.latency = SummarizeLatencies(totals.latencies_ns);
  report.open_loop = std::move(open);
  return report;
}

absl::StatusOr<Report> RunOpenLoopBench(const OpenLoopBenchOptions& options) {
  const GrpcBenchOptions& where = options.target;
  absl::StatusOr<Target> target = Connect(where);
  if (!target.ok()) return target.status();
  for (inference::ModelInferRequest& request : target->requests) SetSchedulingParameters(options.parameters, request);

  std::optional<std::chrono::microseconds> deadline;
  if (options.deadline_ms) deadline = std::chrono::microseconds(static_cast<int64_t>(*options.deadline_ms * 1000));
  InferClient client(target->channels, std::move(target->requests), deadline);
  OpenLoopOptions loop;
  loop.rate_per_s = options.rate_per_s;
  loop.seed = options.seed;
  loop.max_in_flight = options.max_in_flight;
  loop.threads = ClientThreads(where);
  loop.warmup = FromSeconds(where.warmup_s);
  loop.duration = FromSeconds(where.duration_s);
  loop.drain_timeout = std::chrono::milliseconds(where.timeout_ms);
  OpenLoopTotals totals = RunOpenLoop(client, loop);

  Report report = SummarizeOpenLoop(totals, options, target->batch);
  report.target = DescribeTarget(where);
  report.details.emplace_back("channels", absl::StrCat(where.channels));
  report.details.emplace_back("client threads", absl::StrCat(loop.threads, " + 1 sender"));
  report.details.emplace_back("inputs", target->inputs);
  report.details.emplace_back("seed", absl::StrCat(options.seed));
  report.details.emplace_back("max in flight", absl::StrCat(options.max_in_flight));
  report.details.emplace_back("deadline",
                              options.deadline_ms ? absl::StrCat(*options.deadline_ms, " ms") : "none");
  report.details.emplace_back("timeout parameter", options.parameters.timeout_us
                                                       ? absl::StrCat(*options.parameters.timeout_us, " us")
                                                       : "none");
  report.details.emplace_back("priority parameter",
                              options.parameters.priority ? absl::StrCat(*options.parameters.priority) : "none");
  return report;
}

}  // namespace edgeserve::bench
