#include "edgeserve/hal/placement.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgeserve::hal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::vector<DeviceKind> kCudaNpuCpu = {DeviceKind::kCuda, DeviceKind::kNpu, DeviceKind::kCpu};

Device Make(DeviceKind kind, int index) {
  Device device;
  device.kind = kind;
  device.index = index;
  return device;
}

DeviceInventory CpuOnly() {
  DeviceInventory inventory;
  inventory.devices = {Make(DeviceKind::kCpu, 0)};
  inventory.absent_reasons[DeviceKind::kCuda] = "LibTorch without CUDA";
  inventory.absent_reasons[DeviceKind::kNpu] = "no NPU plugin is configured";
  return inventory;
}

DeviceInventory WithCuda(int gpus) {
  DeviceInventory inventory = CpuOnly();
  inventory.absent_reasons.erase(DeviceKind::kCuda);
  for (int i = 0; i < gpus; ++i) inventory.devices.push_back(Make(DeviceKind::kCuda, i));
  return inventory;
}

std::vector<DeviceKind> KindsOf(const GroupPlan& plan) {
  std::vector<DeviceKind> kinds;
  for (const PlacementOption& option : plan.options) kinds.push_back(option.kind);
  return kinds;
}

TEST(PlacementTest, AutoGroupTakesTheFirstPresentKindOfThePreference) {
  const GroupPlan plan = PlanGroup(GroupRequest{}, kCudaNpuCpu, WithCuda(2));
  EXPECT_THAT(KindsOf(plan), ElementsAre(DeviceKind::kCuda, DeviceKind::kCpu));
  EXPECT_THAT(plan.options[0].device_indices, ElementsAre(0, 1));
  EXPECT_THAT(plan.passed_over, IsEmpty());
}

TEST(PlacementTest, AbsentKindsArePassedOverWithTheirReasons) {
  const GroupPlan plan = PlanGroup(GroupRequest{DeviceKind::kCuda, {}}, kCudaNpuCpu, CpuOnly());
  EXPECT_THAT(KindsOf(plan), ElementsAre(DeviceKind::kCpu));
  EXPECT_THAT(plan.passed_over,
              ElementsAre("CUDA: LibTorch without CUDA", "NPU: no NPU plugin is configured"));
  EXPECT_EQ(FirstChoice(GroupRequest{DeviceKind::kCuda, {}}, kCudaNpuCpu), DeviceKind::kCuda);
}

TEST(PlacementTest, TheGroupsOwnKindComesBeforeThePreference) {
  const GroupPlan plan = PlanGroup(GroupRequest{DeviceKind::kCpu, {}}, kCudaNpuCpu, WithCuda(1));
  EXPECT_THAT(KindsOf(plan), ElementsAre(DeviceKind::kCpu, DeviceKind::kCuda));
  EXPECT_THAT(plan.passed_over, IsEmpty());
}

TEST(PlacementTest, NoFallbackToAKindOutsideThePreference) {
  const GroupPlan plan = PlanGroup(GroupRequest{DeviceKind::kCuda, {}}, {DeviceKind::kCuda}, CpuOnly());
  EXPECT_THAT(plan.options, IsEmpty());
  EXPECT_THAT(plan.passed_over, ElementsAre("CUDA: LibTorch without CUDA"));
}

TEST(PlacementTest, NamedDevicesAreHonouredWholeOrTheKindIsPassedOver) {
  const GroupPlan subset = PlanGroup(GroupRequest{DeviceKind::kCuda, {1}}, kCudaNpuCpu, WithCuda(2));
  EXPECT_THAT(subset.options[0].device_indices, ElementsAre(1));

  const GroupPlan missing = PlanGroup(GroupRequest{DeviceKind::kCuda, {0, 3}}, kCudaNpuCpu, WithCuda(2));
  EXPECT_THAT(KindsOf(missing), ElementsAre(DeviceKind::kCpu));
  ASSERT_EQ(missing.passed_over.size(), 2u);
  EXPECT_EQ(missing.passed_over[0], "CUDA: device 3 not found (present: 0, 1)");
}

TEST(PlacementTest, AutoWithAnEmptyPreferenceStaysOnTheCpuAsItsFirstChoice) {
  EXPECT_EQ(FirstChoice(GroupRequest{}, {}), DeviceKind::kCpu);
  const GroupPlan plan = PlanGroup(GroupRequest{}, {DeviceKind::kNpu, DeviceKind::kCpu}, CpuOnly());
  EXPECT_THAT(KindsOf(plan), ElementsAre(DeviceKind::kCpu));
  EXPECT_THAT(plan.passed_over[0], HasSubstr("NPU: no NPU plugin"));
}

}  // namespace
}  // namespace edgeserve::hal
