#include "cli_options.h"

#include <string>
#include <vector>

#include "cli_test_util.h"
#include "gtest/gtest.h"

namespace edgeserve::cli {
namespace {

absl::StatusOr<Options> Parse(std::vector<std::string> args) { return ParseOptions(args); }

std::string ErrorOf(std::vector<std::string> args) {
  absl::StatusOr<Options> options = ParseOptions(args);
  EXPECT_FALSE(options.ok());
  return std::string(options.status().message());
}

TEST(CliOptionsTest, Defaults) {
  absl::StatusOr<Options> options = Parse({"health"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->command, Command::kHealth);
  EXPECT_EQ(options->url, "localhost:8001");
  EXPECT_EQ(options->timeout_ms, 10000);
  EXPECT_EQ(options->batch, 1);
  EXPECT_FALSE(options->random);
}

TEST(CliOptionsTest, GlobalOptionsGoBeforeOrAfterTheCommand) {
  absl::StatusOr<Options> before = Parse({"--url", "edge:9000", "--timeout-ms=250", "models"});
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->command, Command::kModels);
  EXPECT_EQ(before->url, "edge:9000");
  EXPECT_EQ(before->timeout_ms, 250);

  absl::StatusOr<Options> after = Parse({"server", "--url=edge:9001"});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->command, Command::kServer);
  EXPECT_EQ(after->url, "edge:9001");
}

TEST(CliOptionsTest, ParsesInfer) {
  absl::StatusOr<Options> options =
      Parse({"infer", "resnet", "--version", "2", "--input", "images=cat.npy", "--input=mask=m.npy",
             "--random", "--batch", "4", "--output", "logits", "--output", "probs", "--id", "req-7",
             "--save-dir", "/tmp/out"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->command, Command::kInfer);
  EXPECT_EQ(options->model, "resnet");
  EXPECT_EQ(options->version, "2");
  ASSERT_EQ(options->inputs.size(), 2u);
  EXPECT_EQ(options->inputs[0].name, "images");
  EXPECT_EQ(options->inputs[0].path, "cat.npy");
  EXPECT_EQ(options->inputs[1].name, "mask");
  EXPECT_EQ(options->inputs[1].path, "m.npy");
  EXPECT_TRUE(options->random);
  EXPECT_EQ(options->batch, 4);
  EXPECT_EQ(options->outputs, (std::vector<std::string>{"logits", "probs"}));
  EXPECT_EQ(options->id, "req-7");
  EXPECT_EQ(options->save_dir, "/tmp/out");
}

TEST(CliOptionsTest, InputPathMayContainEquals) {
  absl::StatusOr<Options> options = Parse({"infer", "m", "--input", "x=a=b.npy"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->inputs[0].name, "x");
  EXPECT_EQ(options->inputs[0].path, "a=b.npy");
}

TEST(CliOptionsTest, StatsModelIsOptional) {
  absl::StatusOr<Options> all = Parse({"stats"});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->command, Command::kStats);
  EXPECT_TRUE(all->model.empty());
  absl::StatusOr<Options> one = Parse({"stats", "resnet", "--version", "1"});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->model, "resnet");
  EXPECT_EQ(one->version, "1");
}

TEST(CliOptionsTest, HelpWinsAnywhere) {
  EXPECT_EQ(Parse({"--help"})->command, Command::kHelp);
  EXPECT_EQ(Parse({"infer", "-h"})->command, Command::kHelp);
  EXPECT_EQ(Parse({"bogus", "--help"})->command, Command::kHelp);
}

TEST(CliOptionsTest, UsageErrors) {
  EXPECT_TRUE(Contains(ErrorOf({}), "missing command"));
  EXPECT_TRUE(Contains(ErrorOf({"predict"}), "unknown command 'predict'"));
  EXPECT_TRUE(Contains(ErrorOf({"health", "--verbose"}), "unknown option '--verbose'"));
  EXPECT_TRUE(Contains(ErrorOf({"health", "--random"}), "--random is not an option of 'health'"));
  EXPECT_TRUE(Contains(ErrorOf({"models", "--version", "1"}), "not an option of 'models'"));
  EXPECT_TRUE(Contains(ErrorOf({"metadata"}), "'metadata' needs a MODEL"));
  EXPECT_TRUE(Contains(ErrorOf({"infer"}), "'infer' needs a MODEL"));
  EXPECT_TRUE(Contains(ErrorOf({"config"}), "'config' needs a MODEL"));
  EXPECT_TRUE(Contains(ErrorOf({"config", "m", "--random"}), "--random is not an option of 'config'"));
  EXPECT_TRUE(Contains(ErrorOf({"health", "extra"}), "unexpected argument 'extra'"));
  EXPECT_TRUE(Contains(ErrorOf({"infer", "m"}), "needs --input NAME=FILE.npy or --random"));
  EXPECT_TRUE(
      Contains(ErrorOf({"infer", "m", "--input", "images"}), "--input needs NAME=FILE.npy"));
  EXPECT_TRUE(
      Contains(ErrorOf({"infer", "m", "--input", "=a.npy"}), "--input needs NAME=FILE.npy"));
  EXPECT_TRUE(Contains(ErrorOf({"infer", "m", "--input", "a=x.npy", "--input", "a=y.npy"}),
                       "input 'a' is given twice"));
  EXPECT_TRUE(Contains(ErrorOf({"infer", "m", "--random", "--batch", "0"}),
                       "--batch needs a positive integer, got '0'"));
  EXPECT_TRUE(
      Contains(ErrorOf({"health", "--timeout-ms", "soon"}), "--timeout-ms needs a positive"));
  EXPECT_TRUE(Contains(ErrorOf({"health", "--timeout-ms", "9223372036854775807"}),
                       "--timeout-ms: at most 604800000 (a week), got '9223372036854775807'"));
  EXPECT_TRUE(Contains(ErrorOf({"infer", "m", "--random=yes"}), "--random takes no value"));
  EXPECT_TRUE(Contains(ErrorOf({"health", "--url"}), "--url needs a value"));
}

TEST(CliOptionsTest, UsageMentionsEveryCommand) {
  for (const char* command : {"health", "server", "models", "metadata", "config", "stats", "infer", "devices"}) {
    EXPECT_TRUE(Contains(Usage(), command));
  }
}

}  // namespace
}  // namespace edgeserve::cli
