#include "edgeserve/hal/device.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgeserve::hal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kMeminfo[] = "MemTotal:       24684096 kB\nMemFree:        1000 kB\nMemAvailable:   24268316 kB\n";

TEST(DeviceTest, DescribesAnX86CpuFromProcFiles) {
  const char* cpuinfo =
      "processor\t: 0\nmodel name\t: AMD EPYC\n"
      "flags\t\t: fpu sse f16c avx2 avx512f avx512_bf16 avx512_vnni\n";
  absl::StatusOr<Device> cpu = DescribeCpu(cpuinfo, kMeminfo, 2);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ(cpu->kind, "CPU");
  EXPECT_EQ(cpu->index, 0);
  EXPECT_EQ(cpu->name, "AMD EPYC (2 cores)");
  EXPECT_EQ(cpu->memory_total_bytes, 24684096ull * 1024);
  EXPECT_EQ(cpu->memory_free_bytes, 24268316ull * 1024);
  EXPECT_THAT(cpu->capabilities, ElementsAre("fp32", "bf16", "int8"));
}

TEST(DeviceTest, DescribesAnArmBoardWithoutModelName) {
  const char* cpuinfo = "processor\t: 0\nFeatures\t: fp asimd evtstrm fphp asimdhp\nModel\t: NVIDIA Jetson Orin Nano\n";
  absl::StatusOr<Device> cpu = DescribeCpu(cpuinfo, kMeminfo, 1);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ(cpu->name, "NVIDIA Jetson Orin Nano (1 core)");
  EXPECT_THAT(cpu->capabilities, ElementsAre("fp32", "fp16", "int8"));
}

TEST(DeviceTest, MissingMemoryFieldsAreAnError) {
  absl::StatusOr<Device> cpu = DescribeCpu("model name : X\n", "MemTotal: 10 kB\n", 1);
  EXPECT_FALSE(cpu.ok());
  EXPECT_THAT(std::string(cpu.status().message()), HasSubstr("MemAvailable"));
}

TEST(DeviceTest, DiscoveryFindsThisBoxsCpu) {
  absl::StatusOr<std::vector<Device>> devices = DiscoverDevices();
  ASSERT_TRUE(devices.ok()) << devices.status();
  ASSERT_GE(devices->size(), 1u);
  EXPECT_EQ(devices->front().kind, "CPU");
  EXPECT_GT(devices->front().memory_total_bytes, 0u);
  EXPECT_LE(devices->front().memory_free_bytes, devices->front().memory_total_bytes);
  EXPECT_THAT(DescribeDevice(devices->front()), HasSubstr("CPU:0"));
}

}  // namespace
}  // namespace edgeserve::hal
