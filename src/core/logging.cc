#include "edgeserve/core/logging.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace edgeserve::core {
namespace {

// Writes the message as the body of a JSON string, so a log line stays valid
// JSON whatever a model's error text contains.
class JsonEscapedMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr char kHex[] = "0123456789abcdef";
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      switch (c) {
        case '"': dest.append(std::string_view("\\\"")); break;
        case '\\': dest.append(std::string_view("\\\\")); break;
        case '\n': dest.append(std::string_view("\\n")); break;
        case '\r': dest.append(std::string_view("\\r")); break;
        case '\t': dest.append(std::string_view("\\t")); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            const char escaped[] = {'\\', 'u', '0', '0', kHex[(c >> 4) & 0xf], kHex[c & 0xf]};
            dest.append(escaped, escaped + sizeof(escaped));
          } else {
            dest.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

struct LoggingState {
  std::mutex mutex;  // guards the fields below and logger creation
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  spdlog::level::level_enum level = spdlog::level::info;
  LogFormat format = LogFormat::kText;
};

LoggingState& State() {
  static LoggingState* state = new LoggingState();  // never destroyed: loggers outlive statics
  return *state;
}

std::unique_ptr<spdlog::formatter> MakeFormatter(LogFormat format) {
  if (format == LogFormat::kJson) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonEscapedMessage>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","module":"%n","thread":%t,"msg":"%*"})");
    return formatter;
  }
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->set_pattern("%Y-%m-%d %H:%M:%S.%e %-5l [%n] %v");
  return formatter;
}

}  // namespace

absl::Status ConfigureLogging(const std::string& level, LogFormat format) {
  const auto parsed = spdlog::level::from_str(level);
  // from_str answers "off" for any name it does not know.
  if (parsed == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown log level '", level, "'; expected trace, debug, info, warn, error, critical or off"));
  }
  LoggingState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.level = parsed;
  state.format = format;
  state.sink->set_formatter(MakeFormatter(format));
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) { logger->set_level(parsed); });
  return absl::OkStatus();
}

std::shared_ptr<spdlog::logger> Logger(const std::string& module) {
  LoggingState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (auto existing = spdlog::get(module)) return existing;
  static bool formatter_set = false;
  if (!formatter_set) {
    state.sink->set_formatter(MakeFormatter(state.format));
    formatter_set = true;
  }
  auto logger = std::make_shared<spdlog::logger>(module, state.sink);
  logger->set_level(state.level);
  logger->flush_on(spdlog::level::info);
  spdlog::register_logger(logger);
  return logger;
}

std::string ClipForDisplay(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  const size_t tail = max_bytes / 3;
  const size_t head = max_bytes - tail;
  return absl::StrCat(text.substr(0, head), " [... ", text.size() - head - tail, " bytes left out ...] ",
                      text.substr(text.size() - tail));
}

std::string SuppressedNote(uint64_t suppressed) {
  return suppressed == 0 ? std::string() : absl::StrCat(" (", suppressed, " similar lines suppressed)");
}

bool LogThrottle::Admit(uint64_t* suppressed) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  if (now - window_start_ >= std::chrono::seconds(1)) {
    window_start_ = now;
    admitted_in_window_ = 0;
  }
  if (admitted_in_window_ >= lines_per_second_) {
    ++suppressed_;
    return false;
  }
  ++admitted_in_window_;
  *suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

}  // namespace edgeserve::core
