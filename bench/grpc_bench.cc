#include "grpc_bench.h"

#include <algorithm>
#include <chrono>
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

// "INPUT0:FP32[1,16]", so a report says what was sent.
std::string DescribeInputs(const inference::ModelInferRequest& request) {
  std::string text;
  for (const auto& input : request.inputs()) {
    absl::StrAppend(&text, text.empty() ? "" : " ", input.name(), ":", input.datatype(), "[",
                    absl::StrJoin(input.shape(), ","), "]");
  }
  return text;
}

}  // namespace

absl::StatusOr<Report> RunGrpcBench(const GrpcBenchOptions& options) {
  const auto timeout = std::chrono::milliseconds(options.timeout_ms);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < options.channels; ++i) {
    channels.push_back(MakeChannel(options.url));
    // Connect before the clock starts so the warm-up measures serving, not
    // TCP and HTTP/2 set-up.
    if (!channels.back()->WaitForConnected(std::chrono::system_clock::now() + timeout)) {
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
  grpc::Status status =
      inference::GRPCInferenceService::NewStub(channels.front())->ModelMetadata(&context, metadata_request, &metadata);
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("ModelMetadata for '", options.model, "' at ", options.url,
                                               " failed: ", DescribeStatus(status)));
  }

  absl::StatusOr<PreparedRequest> prepared =
      BuildInferRequest(metadata, options.model, options.version, options.inputs);
  if (!prepared.ok()) return prepared.status();

  const std::string inputs = DescribeInputs(prepared->request);
  InferClient client(channels, std::move(prepared->request), timeout);
  ClosedLoopOptions loop;
  loop.concurrency = options.concurrency;
  loop.threads = options.client_threads > 0 ? options.client_threads
                                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  loop.threads = std::min(loop.threads, options.concurrency);
  loop.warmup = FromSeconds(options.warmup_s);
  loop.duration = FromSeconds(options.duration_s);
  Totals totals = RunClosedLoop(client, loop);

  Report report;
  report.mode = "grpc";
  report.target = absl::StrCat(options.url, " model ", options.model,
                               options.version.empty() ? "" : absl::StrCat(" version ", options.version));
  report.concurrency = options.concurrency;
  report.batch = prepared->batch;
  report.warmup_s = options.warmup_s;
  report.duration_s = options.duration_s;
  report.requests = totals.requests;
  report.errors = totals.errors;
  report.first_error = std::move(totals.first_error);
  report.latency = SummarizeLatencies(totals.latencies_ns);
  report.details.emplace_back("channels", absl::StrCat(options.channels));
  report.details.emplace_back("client threads", absl::StrCat(loop.threads));
  report.details.emplace_back("inputs", inputs);
  return report;
}

}  // namespace edgeserve::bench
