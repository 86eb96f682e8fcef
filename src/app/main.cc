// edgeserve: loads the model repository and serves it over the Open Inference
// Protocol until SIGTERM or SIGINT, then finishes the requests in flight.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <iostream>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "edgeserve/app/daemon_config.h"
#include "edgeserve/core/logging.h"
#include "edgeserve/core/memory_allocator.h"
#include "edgeserve/hal/accelerators.h"
#include "edgeserve/hal/cpu_budget.h"
#include "edgeserve/hal/device.h"
#include "edgeserve/hal/torch_runtime.h"
#include "edgeserve/repository/model_config.h"
#include "edgeserve/repository/model_repository.h"
#include "edgeserve/server/device_service.h"
#include "edgeserve/server/inference_service.h"
#include "edgeserve/server/wire_messages.h"

namespace edgeserve::app {
namespace {

constexpr char kUsage[] = R"(usage: edgeserve [options]

Serves the TorchScript models of a model repository over the Open Inference
Protocol (KServe v2) gRPC API.

options:
  --config FILE            daemon config (YAML); without it, built-in defaults
  --address HOST:PORT      overrides server.address
  --model-repository DIR   overrides repository.path
  --log-level LEVEL        overrides log.level (trace, debug, info, warn, error)
  --log-format text|json   overrides log.format
  --check-config           check the daemon config and every model config, then exit
  --list-devices           print the devices models can be placed on, then exit
  --version                print the version and exit
  --help                   print this text and exit
)";

struct CommandLine {
  std::string config_file;
  std::string address;
  std::string model_repository;
  std::string log_level;
  std::string log_format;
  bool check_config = false;
  bool list_devices = false;
};

// Exit codes: 0 success, 1 failure at start, 64 usage error (sysexits).
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 64;

// How long past server.shutdown_timeout_s a stop may take before the daemon
// gives up on the requests still running.
constexpr std::chrono::seconds kShutdownGrace(2);

bool ParseCommandLine(int argc, char** argv, CommandLine* line, int* exit_code) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        std::cerr << "edgeserve: " << arg << " needs a value\n" << kUsage;
        *exit_code = kExitUsage;
        return false;
      }
      *out = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      *exit_code = 0;
      return false;
    } else if (arg == "--version") {
      std::cout << "edgeserve " << EDGESERVE_VERSION << " (LibTorch " << hal::TorchVersion() << ", gRPC "
                << grpc::Version() << ")\n";
      *exit_code = 0;
      return false;
    } else if (arg == "--check-config") {
      line->check_config = true;
    } else if (arg == "--list-devices") {
      line->list_devices = true;
    } else if (arg == "--config") {
      if (!value(&line->config_file)) return false;
    } else if (arg == "--address") {
      if (!value(&line->address)) return false;
    } else if (arg == "--model-repository") {
      if (!value(&line->model_repository)) return false;
    } else if (arg == "--log-level") {
      if (!value(&line->log_level)) return false;
    } else if (arg == "--log-format") {
      if (!value(&line->log_format)) return false;
    } else {
      std::cerr << "edgeserve: unknown option '" << arg << "'\n" << kUsage;
      *exit_code = kExitUsage;
      return false;
    }
  }
  return true;
}

absl::StatusOr<DaemonConfig> ResolveConfig(const CommandLine& line) {
  DaemonConfig config;
  if (!line.config_file.empty()) {
    absl::StatusOr<DaemonConfig> loaded = LoadDaemonConfig(line.config_file);
    if (!loaded.ok()) return loaded.status();
    config = *std::move(loaded);
  }
  if (!line.address.empty()) {
    if (absl::Status address = CheckListenAddress(line.address); !address.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--address: ", address.message()));
    }
    config.address = line.address;
  }
  if (!line.model_repository.empty()) config.model_repository = line.model_repository;
  if (!line.log_level.empty()) config.log_level = line.log_level;
  if (!line.log_format.empty()) {
    if (line.log_format != "text" && line.log_format != "json") {
      return absl::InvalidArgumentError(
          absl::StrCat("--log-format: expected text or json, got '", line.log_format, "'"));
    }
    config.log_format = line.log_format == "json" ? core::LogFormat::kJson : core::LogFormat::kText;
  }
  if (config.intra_op_threads == 0) config.intra_op_threads = hal::DiscoverCpuBudget().Cores();
  return config;
}

// Parses every model config without loading a model: what --check-config does.
int CheckModelConfigs(const DaemonConfig& config) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(config.model_repository, error)) {
    std::cerr << "model repository '" << config.model_repository
              << "' is not a directory (repository.path, or --model-repository)\n";
    return kExitFailure;
  }
  int failures = 0;
  for (const auto& entry : fs::directory_iterator(config.model_repository, error)) {
    const std::string name = entry.path().filename().string();
    std::error_code entry_error;
    if (name.front() == '.') continue;
    if (!entry.is_directory(entry_error)) {
      if (entry_error) {
        std::cout << "model '" << name << "': model folder '" << entry.path().string()
                  << "' cannot be read: " << entry_error.message() << "\n";
        ++failures;
      }
      continue;
    }
    const repository::ModelConfigLimits limits{config.max_batch_size, config.max_queue_size,
                                               config.max_message_bytes};
    absl::StatusOr<repository::ModelConfig> model =
        repository::LoadModelConfig((entry.path() / "config.yaml").string(), name, limits);
    if (model.ok()) {
      std::cout << "model '" << name << "': ok\n";
    } else {
      ++failures;
      std::cout << "model '" << name << "': " << model.status().message() << "\n";
    }
  }
  return failures == 0 ? 0 : kExitFailure;
}

// SIGTERM, SIGINT and SIGHUP reach Run through this pipe, written by their
// handler (a pipe is what a signal handler may safely use). Blocking the
// signals for a sigwait was not enough: libraries start threads before main
// (OpenBLAS does) with the signals open, and a signal that the kernel handed
// to one of them took its default action and killed the daemon in the middle
// of a stop. With a handler, whichever thread receives it only writes here.
int g_signal_pipe[2] = {-1, -1};

extern "C" void OnSignal(int signal_number) {
  const int saved_errno = errno;
  const unsigned char byte = static_cast<unsigned char>(signal_number);
  [[maybe_unused]] const ssize_t written = write(g_signal_pipe[1], &byte, 1);
  errno = saved_errno;
}

bool InstallSignalHandlers() {
  if (pipe2(g_signal_pipe, O_CLOEXEC) != 0) return false;
  struct sigaction action {};
  action.sa_handler = OnSignal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGTERM, SIGINT, SIGHUP}) {
    if (sigaction(signal_number, &action, nullptr) != 0) return false;
  }
  signal(SIGPIPE, SIG_IGN);
  return true;
}

// Not a signal: what Run writes to end the watch over start-up.
constexpr int kEndOfStart = 0;

void EndStartWatch() {
  const unsigned char byte = kEndOfStart;
  [[maybe_unused]] const ssize_t written = write(g_signal_pipe[1], &byte, 1);
}

// The next byte written by OnSignal (or EndStartWatch); -1 when the pipe
// cannot be read.
int NextSignal() {
  unsigned char byte = 0;
  while (read(g_signal_pipe[0], &byte, 1) != 1) {
    if (errno != EINTR) return -1;
  }
  return byte;
}

const char* SignalName(int signal_number) {
  switch (signal_number) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
  }
}

int Run(int argc, char** argv) {
  if (!InstallSignalHandlers()) {
    std::cerr << "edgeserve: cannot install signal handlers: " << std::strerror(errno) << "\n";
    return kExitFailure;
  }
  // Debian builds abseil with its debug checks, so every absl::Mutex that
  // gRPC locks also updates a lock-order graph: about 3% of the daemon's CPU
  // under small requests (perf, BENCHMARKS.md). Ours are std::mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  CommandLine line;
  int exit_code = 0;
  if (!ParseCommandLine(argc, argv, &line, &exit_code)) return exit_code;
  absl::StatusOr<DaemonConfig> config = ResolveConfig(line);
  if (!config.ok()) {
    std::cerr << "edgeserve: bad configuration:\n" << config.status().message() << "\n";
    return kExitFailure;
  }
  const hal::AcceleratorOptions accelerators{config->npu_library, config->npu_name};
  absl::StatusOr<hal::DeviceInventory> devices = hal::DiscoverDevices(accelerators);
  if (!devices.ok()) {
    std::cerr << "edgeserve: cannot discover devices: " << devices.status().message() << "\n";
    return kExitFailure;
  }
  if (line.list_devices) {
    for (const hal::Device& device : devices->devices) std::cout << hal::DescribeDevice(device) << "\n";
    for (const auto& [kind, reason] : devices->absent_reasons) {
      std::cout << "no " << hal::KindName(kind) << ": " << reason << "\n";
    }
    return 0;
  }
  if (absl::Status status = core::ConfigureLogging(config->log_level, config->log_format); !status.ok()) {
    std::cerr << "edgeserve: " << status.message() << "\n";
    return kExitFailure;
  }
  if (line.check_config) {
    std::cout << "daemon config: ok\n";
    return CheckModelConfigs(*config);
  }

  auto logger = core::Logger("app");
  server::ForwardProtobufLogs();
  const auto started = std::chrono::steady_clock::now();
  logger->info(
      "edgeserve {} starting (LibTorch {}, gRPC {}, memory allocator {}); {} LibTorch threads per instance, {} "
      "inter-op",
      EDGESERVE_VERSION, hal::TorchVersion(), grpc::Version(), core::MemoryAllocatorName(), config->intra_op_threads,
      config->inter_op_threads);
  const hal::CpuBudget cpu_budget = hal::DiscoverCpuBudget();
  logger->info("CPU budget: {}", cpu_budget.Describe());
  for (const hal::Device& device : devices->devices) logger->info("device {}", hal::DescribeDevice(device));
  for (const auto& [kind, reason] : devices->absent_reasons) logger->info("no {}: {}", hal::KindName(kind), reason);
  hal::ConfigureTorchRuntime(config->inter_op_threads);

  repository::RepositoryOptions repository_options;
  repository_options.root = config->model_repository;
  repository_options.limits.max_batch_size = config->max_batch_size;
  repository_options.limits.max_queue_size = config->max_queue_size;
  repository_options.limits.max_message_bytes = config->max_message_bytes;
  repository_options.intra_op_threads = config->intra_op_threads;
  repository_options.cpu_cores = cpu_budget.Cores();
  repository_options.devices = *devices;
  repository_options.npu_name = config->npu_name;
  repository_options.health_retry_interval = std::chrono::milliseconds(config->health_retry_interval_ms);
  // Loading can take minutes on a small box; a stop asked for meanwhile ends
  // the process at once, since no request has been taken yet.
  std::thread start_watch([logger] {
    for (int signal_number = NextSignal(); signal_number > kEndOfStart; signal_number = NextSignal()) {
      if (signal_number == SIGHUP) {
        logger->info("SIGHUP received during start-up and ignored");
        continue;
      }
      logger->info("{} received during start-up: exiting before serving", SignalName(signal_number));
      std::_Exit(0);
    }
  });
  absl::StatusOr<std::unique_ptr<repository::ModelRepository>> repository =
      repository::ModelRepository::Load(repository_options);
  EndStartWatch();
  start_watch.join();
  if (!repository.ok()) {
    logger->critical("{}", repository.status().message());
    return kExitFailure;
  }

  server::InferenceService service(repository->get(),
                                   server::ServiceOptions{"edgeserve", EDGESERVE_VERSION, config->strict_readiness});
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(config->address, grpc::InsecureServerCredentials(), &bound_port);
  // Without this a second daemon on the same port would start and share it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config->max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(config->max_message_bytes));
  builder.RegisterService(&service);
  server::DeviceService device_service(accelerators);
  builder.RegisterService(&device_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    logger->critical("cannot listen on {} (server.address{}): the port is in use or the host is not this box's",
                     config->address, line.config_file.empty() ? " or --address" : " in " + line.config_file + ", or --address");
    (*repository)->StopAll();
    return kExitFailure;
  }
  size_t ready_models = 0;
  for (const auto& model : (*repository)->models()) {
    ready_models += model->state == repository::ModelState::kReady ? 1 : 0;
  }
  logger->info("serving on {} (port {}); {} of {} models ready; ready {:.2f} s after start", config->address,
               bound_port, ready_models, (*repository)->models().size(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  int signal_number = NextSignal();
  while (signal_number == SIGHUP) {
    logger->info("SIGHUP received and ignored: edgeserve reloads nothing; restart it to apply a changed config or "
                 "repository");
    signal_number = NextSignal();
  }
  logger->info("{} received: refusing new requests, finishing those in flight (at most {} s)",
               SignalName(signal_number), config->shutdown_timeout_s);
  service.BeginShutdown();
  // Signals during the stop change nothing: the stop is already bounded.
  std::thread([logger] {
    for (int later = NextSignal(); later > 0; later = NextSignal()) {
      logger->info("{} received while stopping: already stopping", SignalName(later));
    }
  }).detach();
  // gRPC cancels what is still open at the deadline but then waits for every
  // reactor, and a worker waits for its forward: a model that never returns
  // would hold the process forever. The stop runs aside and is given a grace
  // period beyond the deadline; past it the daemon exits without it.
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(config->shutdown_timeout_s);
  std::promise<void> stopped;
  std::future<void> stop_done = stopped.get_future();
  std::thread stopper([&] {
    server->Shutdown(deadline);
    (*repository)->StopAll();
    stopped.set_value();
  });
  if (stop_done.wait_until(deadline + kShutdownGrace) == std::future_status::timeout) {
    logger->error("requests still running {} s after the stop began (server.shutdown_timeout_s is {}); exiting "
                  "without them",
                  config->shutdown_timeout_s + kShutdownGrace.count(), config->shutdown_timeout_s);
    std::_Exit(kExitFailure);
  }
  stopper.join();
  logger->info("stopped");
  return 0;
}

}  // namespace
}  // namespace edgeserve::app

int main(int argc, char** argv) { return edgeserve::app::Run(argc, argv); }
