// One spdlog logger per module, all writing to stderr (the journal under
// systemd) in text or JSON lines.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "spdlog/spdlog.h"

// Debian's abseil has its own string_view (not std's); let log lines format
// it, so status messages go into the log as they are.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view value, FormatContext& context) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(value.data(), value.size()), context);
  }
};

namespace edgeserve::core {

enum class LogFormat { kText, kJson };

// Sets the level ("trace", "debug", "info", "warn", "error", "critical",
// "off") and format of every logger, existing and future. Call once at start,
// before other threads log.
absl::Status ConfigureLogging(const std::string& level, LogFormat format);

// The logger of `module` ("server", "scheduler", ...), created on first use.
std::shared_ptr<spdlog::logger> Logger(const std::string& module);

}  // namespace edgeserve::core
