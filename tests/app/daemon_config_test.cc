#include "edgeserve/app/daemon_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util/temp_dir.h"

namespace edgeserve::app {
namespace {

using ::testing::HasSubstr;

TEST(CheckListenAddressTest, TakesHostAndDecimalPortUpTo65535) {
  for (const char* good : {"0.0.0.0:8001", "127.0.0.1:0", "localhost:65535", "[::]:8001", "box.lan:1"}) {
    EXPECT_TRUE(CheckListenAddress(good).ok()) << good;
  }
  for (const char* bad : {"127.0.0.1:99999", ":65536", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:-1",
                          "127.0.0.1:+80", "8001", "", ":8001", "127.0.0.1:0x50"}) {
    const absl::Status status = CheckListenAddress(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(), HasSubstr(std::string("got '") + bad + "'"));
  }
}

TEST(LoadDaemonConfigTest, ABadPortNamesTheFileAndTheKey) {
  test_util::ScratchDir dir;
  const std::string file = dir.WriteFile("edgeserve.yaml", "server:\n  address: 127.0.0.1:99999\n");
  absl::StatusOr<DaemonConfig> config = LoadDaemonConfig(file);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr(file + ": server.address: expected HOST:PORT with PORT a number from 0 (any free port) to "
                               "65535"));
}

}  // namespace
}  // namespace edgeserve::app
