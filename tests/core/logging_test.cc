#include "edgeserve/core/logging.h"

#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgeserve::core {
namespace {

using ::testing::HasSubstr;

// Every test leaves logging as the daemon starts it, for the tests after.
class LoggingTest : public ::testing::Test {
 protected:
  void TearDown() override { ASSERT_TRUE(ConfigureLogging("info", LogFormat::kText).ok()); }
};

// The lines of `output` that the logger `module` wrote.
std::vector<std::string> LinesOf(const std::string& output, const std::string& marker) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (line.find(marker) != absl::string_view::npos) lines.emplace_back(line);
  }
  return lines;
}

TEST_F(LoggingTest, RejectsUnknownLevels) {
  for (const char* level : {"verbose", "INFO", "Debug", "", "fatal", "information", " info"}) {
    const absl::Status status = ConfigureLogging(level, LogFormat::kText);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << "'" << level << "'";
    EXPECT_EQ(status.message(),
              std::string("unknown log level '") + level +
                  "'; expected trace, debug, info, warn, error, critical or off");
  }
}

TEST_F(LoggingTest, RejectedLevelLeavesTheLevelAsItWas) {
  ASSERT_TRUE(ConfigureLogging("error", LogFormat::kText).ok());
  EXPECT_FALSE(ConfigureLogging("loud", LogFormat::kText).ok());
  EXPECT_EQ(Logger("logging_test_rejected")->level(), spdlog::level::err);
}

TEST_F(LoggingTest, DocumentedLevelsApplyToExistingAndNewLoggers) {
  const std::shared_ptr<spdlog::logger> existing = Logger("logging_test_existing");
  const std::vector<std::pair<std::string, spdlog::level::level_enum>> levels = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
      {"off", spdlog::level::off},
  };
  int created = 0;
  for (const auto& [name, level] : levels) {
    const absl::Status status = ConfigureLogging(name, LogFormat::kText);
    ASSERT_TRUE(status.ok()) << name << ": " << status;
    EXPECT_EQ(existing->level(), level) << name;
    EXPECT_EQ(Logger("logging_test_new_" + std::to_string(created++))->level(), level) << name;
  }
}

TEST_F(LoggingTest, LoggerIsOnePerModule) {
  const std::shared_ptr<spdlog::logger> first = Logger("logging_test_same");
  EXPECT_EQ(Logger("logging_test_same"), first);
  EXPECT_EQ(first->name(), "logging_test_same");
  EXPECT_NE(Logger("logging_test_other"), first);
}

TEST_F(LoggingTest, TextLinesNameLevelAndModule) {
  ASSERT_TRUE(ConfigureLogging("info", LogFormat::kText).ok());
  const std::shared_ptr<spdlog::logger> logger = Logger("logging_test_text");
  ::testing::internal::CaptureStderr();
  logger->info("text line {}", 42);
  logger->debug("below the level");
  const std::string output = ::testing::internal::GetCapturedStderr();
  const std::vector<std::string> lines = LinesOf(output, "[logging_test_text]");
  ASSERT_EQ(lines.size(), 1u) << output;
  EXPECT_THAT(lines[0], HasSubstr("info  [logging_test_text] text line 42"));
  EXPECT_THAT(output, ::testing::Not(HasSubstr("below the level")));
}

TEST_F(LoggingTest, JsonLinesAreValidJsonWhateverTheMessageHolds) {
  ASSERT_TRUE(ConfigureLogging("debug", LogFormat::kJson).ok());
  const std::shared_ptr<spdlog::logger> logger = Logger("logging_test_json");
  const std::string message =
      "model said \"no\"\nsecond line\twith tab, back\\slash, cr\r, bell\x07 and \xc3\xa9";
  ::testing::internal::CaptureStderr();
  logger->warn("{}", message);
  logger->debug("plain");
  const std::string output = ::testing::internal::GetCapturedStderr();
  const std::vector<std::string> lines = LinesOf(output, "\"module\":\"logging_test_json\"");
  ASSERT_EQ(lines.size(), 2u) << output;

  google::protobuf::Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(lines[0], &parsed);
  ASSERT_TRUE(status.ok()) << status.ToString() << "\n" << lines[0];
  const auto& fields = parsed.fields();
  ASSERT_EQ(fields.count("msg"), 1u);
  EXPECT_EQ(fields.at("msg").string_value(), message);
  EXPECT_EQ(fields.at("level").string_value(), "warning");
  EXPECT_EQ(fields.at("module").string_value(), "logging_test_json");
  EXPECT_EQ(fields.at("thread").kind_case(), google::protobuf::Value::kNumberValue);
  EXPECT_THAT(fields.at("time").string_value(),
              ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z"));
  for (char c : lines[0]) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control character in " << lines[0];
  }

  google::protobuf::Struct second;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[1], &second).ok()) << lines[1];
  EXPECT_EQ(second.fields().at("msg").string_value(), "plain");
  EXPECT_EQ(second.fields().at("level").string_value(), "debug");
}

}  // namespace
}  // namespace edgeserve::core

namespace edgeserve::core {
namespace {

TEST(LogThrottleTest, AdmitsUpToTheLimitPerSecondAndCountsTheRest) {
  LogThrottle throttle(3);
  uint64_t suppressed = 99;
  EXPECT_TRUE(throttle.Admit(&suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_TRUE(throttle.Admit(&suppressed));
  EXPECT_TRUE(throttle.Admit(&suppressed));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(throttle.Admit(&suppressed));
}

TEST(ClipForDisplayTest, ShortTextIsKeptAndLongTextKeepsHeadAndTail) {
  EXPECT_EQ(ClipForDisplay("request-7", 16), "request-7");
  EXPECT_EQ(ClipForDisplay("0123456789", 10), "0123456789");
  EXPECT_EQ(ClipForDisplay("0123456789abcdefghij", 9), "012345 [... 11 bytes left out ...] hij");
}

}  // namespace
}  // namespace edgeserve::core
