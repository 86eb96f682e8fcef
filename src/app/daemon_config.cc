#include "edgeserve/app/daemon_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "edgeserve/core/config_reader.h"

namespace edgeserve::app {

absl::Status CheckListenAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  const std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  const std::string port = colon == std::string::npos ? "" : address.substr(colon + 1);
  const bool port_is_decimal = !port.empty() && port.size() <= 5 &&
                               std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (host.empty() || !port_is_decimal || std::stoi(port) > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected HOST:PORT with PORT a number from 0 (any free port) to 65535, for example 0.0.0.0:8001 or "
        "[::]:8001; got '",
        address, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& file) {
  YAML::Node root;
  if (absl::Status status = core::LoadYamlFile(file, &root); !status.ok()) return status;
  DaemonConfig config;
  core::ConfigReader reader(root, file, "");

  core::ConfigReader server = reader.Child("server");
  server.String("address", &config.address);
  if (absl::Status address = CheckListenAddress(config.address); !address.ok()) {
    server.Error("address", std::string(address.message()));
  }
  server.Int("max_message_bytes", &config.max_message_bytes, 1024, int64_t{2047} << 20);
  server.Int("shutdown_timeout_s", &config.shutdown_timeout_s, 0, 3600);
  server.Bool("strict_readiness", &config.strict_readiness);
  reader.Merge(server.Finish());

  core::ConfigReader repository = reader.Child("repository");
  repository.String("path", &config.model_repository);
  if (config.model_repository.empty()) repository.Error("path", "must not be empty");
  reader.Merge(repository.Finish());

  core::ConfigReader log = reader.Child("log");
  log.Choice("level", &config.log_level, {"trace", "debug", "info", "warn", "error", "critical", "off"});
  std::string format = "text";
  log.Choice("format", &format, {"text", "json"});
  config.log_format = format == "json" ? core::LogFormat::kJson : core::LogFormat::kText;
  reader.Merge(log.Finish());

  core::ConfigReader limits = reader.Child("limits");
  limits.Int("max_batch_size", &config.max_batch_size, 1, 65536);
  limits.Int("max_queue_size", &config.max_queue_size, 1, 1 << 20);
  reader.Merge(limits.Finish());

  core::ConfigReader threads = reader.Child("threads");
  threads.Int("intra_op", &config.intra_op_threads, 0, 1024);
  threads.Int("inter_op", &config.inter_op_threads, 1, 1024);
  reader.Merge(threads.Finish());

  core::ConfigReader devices = reader.Child("devices");
  core::ConfigReader npu = devices.Child("npu");
  npu.String("library", &config.npu_library);
  npu.String("name", &config.npu_name);
  if (config.npu_name.empty()) npu.Error("name", "must not be empty (npu, or privateuseone)");
  devices.Merge(npu.Finish());
  reader.Merge(devices.Finish());

  core::ConfigReader health = reader.Child("health");
  health.Int("retry_interval_ms", &config.health_retry_interval_ms, 10, 3600 * 1000);
  reader.Merge(health.Finish());

  if (absl::Status status = reader.Finish(); !status.ok()) return status;
  return config;
}

}  // namespace edgeserve::app
