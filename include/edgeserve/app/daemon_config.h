// The daemon's own config file (configs/edgeserve.yaml), parsed once at start.
// Every default lives here.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "edgeserve/core/logging.h"

namespace edgeserve::app {

struct DaemonConfig {
  // server:
  std::string address = "0.0.0.0:8001";
  int64_t max_message_bytes = 64 << 20;  // largest request or response on the wire
  int shutdown_timeout_s = 30;           // SIGTERM: longest wait for requests in flight
  bool strict_readiness = true;          // ServerReady only when every model is ready
  // repository:
  std::string model_repository = "models";
  // log:
  std::string log_level = "info";
  core::LogFormat log_format = core::LogFormat::kText;
  // limits:
  int64_t max_batch_size = 64;  // ceiling on any model's max_batch_size
  int max_queue_size = 1024;    // requests waiting per model before RESOURCE_EXHAUSTED
  // threads:
  int intra_op_threads = 1;  // LibTorch threads per model instance; 0 = every core
  int inter_op_threads = 1;
  // devices.npu: the vendor's LibTorch extension that registers the NPU
  // under PrivateUse1; empty = no NPU.
  std::string npu_library;
  std::string npu_name = "npu";  // what logs and device names call it
  // health:
  int health_retry_interval_ms = 10000;  // an instance out of the rotation re-checks this often
};

// Reads `file`; every unknown key, wrong type or bad value is an error naming
// the file and the key.
absl::StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& file);

// A listen address as gRPC should get it: HOST:PORT with a decimal PORT from
// 0 (any free port) to 65535. gRPC itself took "host:99999" as port 34463,
// and "host:http" as port 80. The message says what was wrong, not where.
absl::Status CheckListenAddress(const std::string& address);

}  // namespace edgeserve::app
