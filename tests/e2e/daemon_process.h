// Test harness: the real edgeserve binary as a child process on a free
// loopback port, and a gRPC stub to it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "grpc_service.grpc.pb.h"

namespace edgeserve::testing {

// A port on 127.0.0.1 that nothing listened on a moment ago.
int FreePort();

// A fresh folder under the test temp dir.
std::string MakeTempDir(const std::string& prefix);

void WriteFile(const std::string& path, const std::string& contents);
std::string ReadFile(const std::string& path);

// The cores in this process's CPU set, which a daemon it starts inherits.
int UsableCores();

class DaemonProcess {
 public:
  // Starts `EDGESERVE_BINARY args... --address 127.0.0.1:PORT` (unless `args`
  // name an address) with stdout and stderr going to a log file.
  explicit DaemonProcess(std::vector<std::string> args);
  ~DaemonProcess();  // SIGKILLs the daemon if it still runs

  // Waits until ServerLive answers; false if the process exited or `timeout`
  // passed first.
  bool WaitUntilLive(std::chrono::seconds timeout = std::chrono::seconds(120));
  // Sends `signal` and returns at once.
  void Signal(int signal);
  // Sends `signal` and waits for the exit; the exit code, or nullopt if it
  // did not exit within `timeout` or died by a signal.
  std::optional<int> StopWith(int signal, std::chrono::seconds timeout = std::chrono::seconds(60));
  // Waits for an exit the daemon makes by itself (a bad config).
  std::optional<int> WaitForExit(std::chrono::seconds timeout);

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string Log() const { return ReadFile(log_file_); }
  std::unique_ptr<inference::GRPCInferenceService::Stub> NewStub(int max_message_bytes = 64 << 20) const;

 private:
  int port_;
  std::string log_file_;
  pid_t pid_ = -1;
};

// A request to `model` with one FP32 input holding `values` in `shape`.
inference::ModelInferRequest Fp32Request(const std::string& model, const std::string& input,
                                         std::vector<int64_t> shape, const std::vector<float>& values);

// A request to the 'spin' test model: `rounds` rounds of work.
inference::ModelInferRequest SpinRequest(float rounds);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `edgeserve-cli --url address arguments` and collects what it prints.
CommandResult RunCli(const std::string& address, const std::string& arguments);

// A unary call's context with a deadline, so no test can hang on the daemon.
std::unique_ptr<grpc::ClientContext> ContextWithDeadline(std::chrono::seconds deadline = std::chrono::seconds(30));

}  // namespace edgeserve::testing
