// edgeserve-bench: load generator for edgeserve and its two baselines (a bare
// gRPC echo server, an in-process LibTorch loop). See kUsage.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "echo_server.h"
#include "flags.h"
#include "grpc_bench.h"
#include "inline_server.h"
#include "report.h"
#include "torch_loop.h"

namespace edgeserve::bench {
namespace {

constexpr char kUsage[] = R"(usage: edgeserve-bench MODE [flags]

  grpc         closed-loop load against a model of an Open Inference Protocol server
      --url HOST:PORT --model NAME [--version V] [--concurrency N=1]
      [--duration-s S=10] [--warmup-s W=2] [--batch B] [--shape D0,D1,...]
      [--datatype T] [--channels C=1] [--client-threads K=cores]
      [--timeout-ms MS=10000] [--json]
    Inputs follow the model's metadata, filled with deterministic pseudo-random
    data and sent as raw_input_contents. A leading -1 becomes --batch (default
    1); other -1 dimensions come from --shape, the full shape to send; shapes
    separated by ':' (--shape 1,16:1,64) are sent in turn, each request taking
    the next. --datatype sends every input as T. Throughput counts inferences as
    requests x batch.

  open-loop    open-loop load: Poisson arrivals at a fixed rate, each request
               sent on schedule whether or not earlier ones have answered
      --url HOST:PORT --model NAME --rate R --slo-ms MS [--seed S=1]
      [--max-in-flight N=10000] [--deadline-ms D] [--timeout-us T]
      [--priority P] and grpc's flags but --concurrency
    Arrivals come from a seeded generator (the same seed gives the same
    schedule) and are sent from one sender thread at their scheduled times;
    --client-threads threads take the answers. Arrivals during --warmup-s are
    sent but not counted; a request counts when its scheduled arrival falls
    in the window, and its latency runs from that arrival, so a sender that
    falls behind shows in the latencies as well as in "sender lag". Beyond
    --max-in-flight requests in flight, arrivals are dropped by the client
    and reported. After the window the run waits for every answer, at most
    --timeout-ms, then cancels the rest (reported as client timeouts).
      --slo-ms       goodput counts successes with latency <= MS; SLO
                     attainment is those over every arrival in the window
      --deadline-ms  a gRPC deadline on every call, decimals allowed (default: none)
      --timeout-us   the protocol's `timeout` parameter (int64_param, us)
      --priority     the protocol's `priority` parameter (uint64_param)
    Failures are reported by gRPC status code: RESOURCE_EXHAUSTED,
    UNAVAILABLE, DEADLINE_EXCEEDED and ABORTED as rejections (with their
    latency: a fast rejection is a cheap one), anything else as other errors.

  echo-server  the bare gRPC baseline: answers ModelMetadata like the identity
               model ([-1,16] FP32 INPUT0 -> OUTPUT0) and echoes ModelInfer
      --listen HOST:PORT (port 0 picks a free one; the first line printed is
      "listening on HOST:PORT") [--max-reply-bytes N]. Runs until SIGINT or
      SIGTERM. --max-reply-bytes cuts each raw input longer than N bytes to
      its first N (whole elements) in the answer, for a model whose output
      is smaller than its input (0, the default: echo everything).

  inline-server  the hand-written server baseline: ModelInfer runs the model's
               forward inline on gRPC's thread, one at a time, and answers
      --listen HOST:PORT --model-file PATH.pt --shape D0,D1,... [--datatype T=FP32]
      [--threads T=1] [--optimize auto|optimize|freeze|none (default auto)]
    The model is loaded and put in its form as by torch-loop. ModelMetadata
    declares one input INPUT0 of --shape with the batch as -1; the answer holds
    every output tensor in order, OUTPUT0, OUTPUT1, ..., as raw contents. Runs
    until SIGINT or SIGTERM; prints "listening on HOST:PORT" first, as
    echo-server does. The daemon runs forwards on its own workers instead, so
    the two differ by what that design costs.

  echo         starts echo-server in this process on a free loopback port and runs
               the grpc load against it; takes grpc's flags but --url
      [--model NAME=identity]
    One command gives a baseline, but client and server then share one gRPC
    runtime and read lower (on 2 cores about 25,000 requests/s where a separate
    echo-server gives about 38,000). The daemon is a process of its own, so
    bench/run_benchmarks.sh measures a separate echo-server with grpc.

  torch-loop   the in-process LibTorch baseline: forward in a loop, no server
      --model-file PATH.pt --shape D0,D1,... [--datatype T=FP32]
      [--duration-s S=10] [--warmup-s W=2] [--threads T=1]
      [--optimize auto|optimize|freeze|none (default auto)] [--json]

Exit status: 0 when every measured request succeeded, 3 when the run finished
but some requests failed (the report says how many; for open-loop, also when
the client dropped arrivals), 1 when it could not run, 2 on a usage error.
)";

constexpr int kExitFailedRequests = 3;
constexpr int kExitCannotRun = 1;
constexpr int kExitUsage = 2;

// The flags every load-generating mode shares: where, what, how long.
absl::StatusOr<GrpcBenchOptions> ParseTargetOptions(Flags& flags, bool needs_url) {
  GrpcBenchOptions options;
  if (needs_url) {
    absl::StatusOr<std::string> url = flags.String("url");
    if (!url.ok()) return url.status();
    options.url = *url;
    absl::StatusOr<std::string> model = flags.String("model");
    if (!model.ok()) return model.status();
    options.model = *model;
  } else {
    options.model = flags.String("model", "identity");
  }
  options.version = flags.String("version", "");
  options.inputs.datatype = flags.String("datatype", "");
  absl::StatusOr<std::vector<std::vector<int64_t>>> shape = flags.Shapes("shape");
  absl::StatusOr<int64_t> batch = flags.Int("batch", 0, 1);
  absl::StatusOr<int64_t> channels = flags.Int("channels", 1, 1);
  absl::StatusOr<int64_t> client_threads = flags.Int("client-threads", 0, 1);
  absl::StatusOr<int64_t> timeout_ms = flags.Int("timeout-ms", options.timeout_ms, 1);
  absl::StatusOr<double> warmup = flags.Seconds("warmup-s", options.warmup_s, 0);
  absl::StatusOr<double> duration = flags.Seconds("duration-s", options.duration_s, 0.001);
  for (const absl::Status& status : {shape.status(), batch.status(), channels.status(), client_threads.status(),
                                     timeout_ms.status(), warmup.status(), duration.status()}) {
    if (!status.ok()) return status;
  }
  if (!shape->empty()) {
    options.inputs.shape = shape->front();
    options.other_shapes.assign(shape->begin() + 1, shape->end());
  }
  options.inputs.batch = *batch;
  options.channels = static_cast<int>(*channels);
  options.client_threads = static_cast<int>(*client_threads);
  options.timeout_ms = static_cast<int>(*timeout_ms);
  options.warmup_s = *warmup;
  options.duration_s = *duration;
  return options;
}

absl::StatusOr<GrpcBenchOptions> ParseGrpcOptions(Flags& flags, bool needs_url) {
  absl::StatusOr<GrpcBenchOptions> options = ParseTargetOptions(flags, needs_url);
  if (!options.ok()) return options.status();
  absl::StatusOr<int64_t> concurrency = flags.Int("concurrency", 1, 1);
  if (!concurrency.ok()) return concurrency.status();
  options->concurrency = static_cast<int>(*concurrency);
  return options;
}

absl::StatusOr<OpenLoopBenchOptions> ParseOpenLoopOptions(Flags& flags) {
  OpenLoopBenchOptions options;
  absl::StatusOr<GrpcBenchOptions> target = ParseTargetOptions(flags, /*needs_url=*/true);
  if (!target.ok()) return target.status();
  options.target = *std::move(target);
  for (const char* required : {"rate", "slo-ms"}) {
    if (!flags.Has(required)) return absl::InvalidArgumentError(absl::StrCat("--", required, " is required"));
  }
  // Smallest values that still make sense: a rate of one request a minute, a
  // microsecond of SLO.
  absl::StatusOr<double> rate = flags.Number("rate", 0, 1.0 / 60);
  absl::StatusOr<double> slo_ms = flags.Number("slo-ms", 0, 0.001);
  absl::StatusOr<int64_t> seed = flags.Int("seed", 1, 0);
  absl::StatusOr<int64_t> max_in_flight = flags.Int("max-in-flight", options.max_in_flight, 1);
  absl::StatusOr<double> deadline_ms = flags.Number("deadline-ms", 0, 0.001);
  absl::StatusOr<int64_t> timeout_us = flags.Int("timeout-us", 0, 1);
  absl::StatusOr<int64_t> priority = flags.Int("priority", 0, 0);
  for (const absl::Status& status : {rate.status(), slo_ms.status(), seed.status(), max_in_flight.status(),
                                     deadline_ms.status(), timeout_us.status(), priority.status()}) {
    if (!status.ok()) return status;
  }
  options.rate_per_s = *rate;
  options.slo_ms = *slo_ms;
  options.seed = static_cast<uint64_t>(*seed);
  options.max_in_flight = *max_in_flight;
  if (flags.Has("deadline-ms")) options.deadline_ms = *deadline_ms;
  if (flags.Has("timeout-us")) options.parameters.timeout_us = *timeout_us;
  if (flags.Has("priority")) options.parameters.priority = static_cast<uint64_t>(*priority);
  return options;
}

absl::StatusOr<TorchLoopOptions> ParseTorchLoopOptions(Flags& flags) {
  TorchLoopOptions options;
  absl::StatusOr<std::string> model_file = flags.String("model-file");
  absl::StatusOr<std::vector<int64_t>> shape = flags.Shape("shape");
  absl::StatusOr<ModuleForm> form = ParseModuleForm(flags.String("optimize", "auto"));
  absl::StatusOr<int64_t> threads = flags.Int("threads", options.threads, 1);
  absl::StatusOr<double> warmup = flags.Seconds("warmup-s", options.warmup_s, 0);
  absl::StatusOr<double> duration = flags.Seconds("duration-s", options.duration_s, 0.001);
  for (const absl::Status& status :
       {model_file.status(), shape.status(), form.status(), threads.status(), warmup.status(), duration.status()}) {
    if (!status.ok()) return status;
  }
  if (shape->empty()) return absl::InvalidArgumentError("--shape is required");
  options.model_file = *model_file;
  options.shape = *shape;
  options.datatype = flags.String("datatype", options.datatype);
  options.form = *form;
  options.threads = static_cast<int>(*threads);
  options.warmup_s = *warmup;
  options.duration_s = *duration;
  return options;
}

// Blocks SIGINT and SIGTERM in every thread (gRPC's threads inherit the mask
// from this one) so that WaitForStopSignal can take them synchronously.
void BlockStopSignals(sigset_t& signals) {
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

// Prints the port a script asked for with port 0 (the host part is its
// own), then serves until SIGINT or SIGTERM. `signals` were blocked before
// the server started, so that every gRPC thread inherits the mask.
template <typename Server>
void ServeUntilStopped(const std::string& listen, Server& server, sigset_t& signals) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::printf("listening on %s:%d\n", host.c_str(), server.port());
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  server.Shutdown();
}

absl::Status RunEchoServer(Flags& flags) {
  absl::StatusOr<std::string> listen = flags.String("listen");
  if (!listen.ok()) return listen.status();
  absl::StatusOr<int64_t> max_reply_bytes = flags.Int("max-reply-bytes", 0, 0);
  if (!max_reply_bytes.ok()) return max_reply_bytes.status();
  if (absl::Status unused = flags.CheckAllUsed(); !unused.ok()) return unused;
  sigset_t signals;
  BlockStopSignals(signals);
  absl::StatusOr<std::unique_ptr<EchoServer>> server =
      *max_reply_bytes == 0 ? EchoServer::Start(*listen)
                            : EchoServer::Start(*listen, static_cast<size_t>(*max_reply_bytes));
  if (!server.ok()) return server.status();
  ServeUntilStopped(*listen, **server, signals);
  return absl::OkStatus();
}

absl::Status RunInlineServer(Flags& flags) {
  absl::StatusOr<std::string> listen = flags.String("listen");
  absl::StatusOr<std::string> model_file = flags.String("model-file");
  absl::StatusOr<std::vector<int64_t>> shape = flags.Shape("shape");
  absl::StatusOr<ModuleForm> form = ParseModuleForm(flags.String("optimize", "auto"));
  InlineServerOptions options;
  absl::StatusOr<int64_t> threads = flags.Int("threads", options.threads, 1);
  for (const absl::Status& status :
       {listen.status(), model_file.status(), shape.status(), form.status(), threads.status()}) {
    if (!status.ok()) return status;
  }
  if (shape->empty()) return absl::InvalidArgumentError("--shape is required");
  options.model_file = *model_file;
  options.shape = *shape;
  options.datatype = flags.String("datatype", options.datatype);
  options.threads = static_cast<int>(*threads);
  options.form = *form;
  if (absl::Status unused = flags.CheckAllUsed(); !unused.ok()) return unused;
  sigset_t signals;
  BlockStopSignals(signals);
  absl::StatusOr<std::unique_ptr<InlineServer>> server = InlineServer::Start(*listen, options);
  if (!server.ok()) return server.status();
  std::fprintf(stderr, "module: %s\n", (*server)->module_form().c_str());
  ServeUntilStopped(*listen, **server, signals);
  return absl::OkStatus();
}

void Print(const Report& report, bool json) {
  if (json) {
    std::printf("%s\n", FormatJson(report).c_str());
  } else {
    std::printf("%s", FormatTable(report).c_str());
  }
  std::fflush(stdout);
}

absl::StatusOr<Report> RunEcho(GrpcBenchOptions options) {
  absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Start("127.0.0.1:0");
  if (!server.ok()) return server.status();
  options.url = absl::StrCat("127.0.0.1:", (*server)->port());
  absl::StatusOr<Report> report = RunGrpcBench(options);
  if (report.ok()) {
    report->mode = "echo";
    report->details.emplace_back("server", "in this process");
  }
  return report;
}

// The report of a load-generating mode. InvalidArgument means a usage error.
absl::StatusOr<Report> RunMode(const std::string& mode, Flags& flags) {
  if (mode == "grpc" || mode == "echo") {
    absl::StatusOr<GrpcBenchOptions> options = ParseGrpcOptions(flags, mode == "grpc");
    if (!options.ok()) return options.status();
    if (absl::Status unused = flags.CheckAllUsed(); !unused.ok()) return unused;
    return mode == "grpc" ? RunGrpcBench(*options) : RunEcho(*options);
  }
  if (mode == "open-loop") {
    absl::StatusOr<OpenLoopBenchOptions> options = ParseOpenLoopOptions(flags);
    if (!options.ok()) return options.status();
    if (absl::Status unused = flags.CheckAllUsed(); !unused.ok()) return unused;
    return RunOpenLoopBench(*options);
  }
  if (mode == "torch-loop") {
    absl::StatusOr<TorchLoopOptions> options = ParseTorchLoopOptions(flags);
    if (!options.ok()) return options.status();
    if (absl::Status unused = flags.CheckAllUsed(); !unused.ok()) return unused;
    return RunTorchLoop(*options);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown mode '", mode, "'; see edgeserve-bench help"));
}

int ExitFor(const std::string& mode, const absl::Status& status) {
  std::fprintf(stderr, "edgeserve-bench %s: %s\n", mode.c_str(), std::string(status.message()).c_str());
  return absl::IsInvalidArgument(status) ? kExitUsage : kExitCannotRun;
}

int Main(const std::string& mode, Flags& flags) {
  if (mode == "echo-server" || mode == "inline-server") {
    absl::Status status = mode == "echo-server" ? RunEchoServer(flags) : RunInlineServer(flags);
    return status.ok() ? 0 : ExitFor(mode, status);
  }
  const bool json = flags.Switch("json");
  absl::StatusOr<Report> report = RunMode(mode, flags);
  if (!report.ok()) return ExitFor(mode, report.status());
  Print(*report, json);
  const bool dropped = report->open_loop && report->open_loop->dropped > 0;
  return report->errors == 0 && !dropped ? 0 : kExitFailedRequests;
}

}  // namespace
}  // namespace edgeserve::bench

int main(int argc, char** argv) {
  using edgeserve::bench::kUsage;
  const std::string mode = argc > 1 ? argv[1] : "";
  // As in the daemon (src/app/main.cc): Debian's abseil checks lock order on
  // every absl::Mutex gRPC takes. Off here too, so that the echo baseline and
  // the client pay what the daemon pays.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (mode.empty()) {
    std::fputs(kUsage, stderr);
    return edgeserve::bench::kExitUsage;
  }
  if (mode == "help" || mode == "--help" || mode == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  // A switch is a flag that takes no value; every mode shares the one.
  absl::StatusOr<edgeserve::bench::Flags> flags =
      edgeserve::bench::Flags::Parse(std::vector<std::string>(argv + 2, argv + argc), {"json"});
  if (!flags.ok()) return edgeserve::bench::ExitFor(mode, flags.status());
  return edgeserve::bench::Main(mode, *flags);
}
