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
  EXPECT_EQ(cpu->kind, DeviceKind::kCpu);
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
  absl::StatusOr<Device> cpu = DiscoverCpu();
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ(cpu->kind, DeviceKind::kCpu);
  EXPECT_GT(cpu->memory_total_bytes, 0u);
  EXPECT_LE(cpu->memory_free_bytes, cpu->memory_total_bytes);
  EXPECT_THAT(DescribeDevice(*cpu), HasSubstr("CPU:0"));
  EXPECT_TRUE(cpu->Supports(Precision::kFp32));
}

TEST(DeviceTest, KindsAndPrecisionsRoundTripTheirNames) {
  for (DeviceKind kind : {DeviceKind::kCpu, DeviceKind::kCuda, DeviceKind::kNpu}) {
    EXPECT_EQ(KindFromName(KindName(kind)), kind);
  }
  EXPECT_EQ(KindFromName("cuda"), DeviceKind::kCuda);  // placement lists are written in lower case
  EXPECT_FALSE(KindFromName("AUTO").has_value());
  EXPECT_FALSE(KindFromName("gpu").has_value());
  for (Precision precision : {Precision::kFp32, Precision::kFp16, Precision::kBf16}) {
    EXPECT_EQ(PrecisionFromName(PrecisionName(precision)), precision);
  }
  EXPECT_FALSE(PrecisionFromName("int8").has_value());
}

TEST(DeviceTest, DeviceWithoutMemoryFiguresSaysSo) {
  Device npu;
  npu.kind = DeviceKind::kNpu;
  npu.index = 1;
  npu.name = "vendor npu";
  npu.capabilities = {"fp32"};
  EXPECT_EQ(DescribeDevice(npu), "NPU:1  vendor npu  memory not reported  [fp32]");
}

TEST(DeviceTest, InventoryFindsDevicesByKindAndExplainsAbsentKinds) {
  DeviceInventory inventory;
  Device cuda1;
  cuda1.kind = DeviceKind::kCuda;
  cuda1.index = 1;
  Device cuda0 = cuda1;
  cuda0.index = 0;
  inventory.devices = {Device{}, cuda1, cuda0};
  inventory.absent_reasons[DeviceKind::kNpu] = "no NPU plugin is configured";
  EXPECT_THAT(inventory.IndicesOf(DeviceKind::kCuda), ::testing::ElementsAre(0, 1));
  EXPECT_NE(inventory.Find(DeviceKind::kCuda, 1), nullptr);
  EXPECT_EQ(inventory.Find(DeviceKind::kNpu, 0), nullptr);
  EXPECT_EQ(inventory.AbsentReason(DeviceKind::kNpu), "no NPU plugin is configured");
  DeviceInventory empty;
  EXPECT_EQ(empty.AbsentReason(DeviceKind::kCuda), "no CUDA device was found");
}

}  // namespace
}  // namespace edgeserve::hal
