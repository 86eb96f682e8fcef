// One spdlog logger per module, all writing to stderr (the journal under
// systemd) in text or JSON lines.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
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

// Text that a client controls (a request id, a name quoted in an error),
// bounded for a log line or a status message: beyond `max_bytes` it keeps the
// head and the tail, joined by a note of how much was left out. A client must
// not be able to grow the journal, or push a status past the size of headers
// that gRPC clients accept (8 KB by default), with one long string.
std::string ClipForDisplay(absl::string_view text, size_t max_bytes);
// What a log line keeps of a request's id and of an error's message.
inline constexpr size_t kMaxLoggedIdBytes = 256;
inline constexpr size_t kMaxLoggedMessageBytes = 2048;

// " (N similar lines suppressed)" for a line a LogThrottle admitted after
// refusing N, or "" when it refused none.
std::string SuppressedNote(uint64_t suppressed);

// Bounds lines that clients can cause (rejected requests, model errors): a
// client looping on a bad request must not flood the journal. Admits at most
// `lines_per_second` lines in each second. Thread-safe.
class LogThrottle {
 public:
  explicit LogThrottle(uint32_t lines_per_second) : lines_per_second_(lines_per_second) {}

  // True if a line may be written now; `suppressed` then receives how many
  // were refused since the last admitted line.
  bool Admit(uint64_t* suppressed);

 private:
  const uint32_t lines_per_second_;
  std::mutex mutex_;  // guards the fields below
  std::chrono::steady_clock::time_point window_start_{};
  uint32_t admitted_in_window_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace edgeserve::core
