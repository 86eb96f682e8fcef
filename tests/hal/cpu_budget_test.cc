#include "edgeserve/hal/cpu_budget.h"

#include <sched.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util/temp_dir.h"

namespace edgeserve::hal {
namespace {

using ::testing::DoubleEq;
using ::testing::Optional;
using test_util::ScratchDir;

// A container with its own cgroup namespace, as Docker and containerd make on
// cgroup v2: the process sits at "/" and sees its own limit there.
TEST(CpuBudgetTest, ReadsACgroupV2ContainersOwnCpuMax) {
  ScratchDir root;
  root.WriteFile("proc/self/cgroup", "0::/\n");
  root.WriteFile("sys/fs/cgroup/cpu.max", "150000 100000\n");
  EXPECT_THAT(CgroupCpuQuota(root.path()), Optional(DoubleEq(1.5)));
}

// A Kubernetes pod on cgroup v2 without a cgroup namespace: the pod's limit
// sits on a parent of the container's cgroup.
TEST(CpuBudgetTest, TakesTheLowestCgroupV2LimitOnTheWayUp) {
  ScratchDir root;
  root.WriteFile("proc/self/cgroup", "0::/kubepods/pod7/container3\n");
  root.WriteFile("sys/fs/cgroup/kubepods/pod7/container3/cpu.max", "max 100000\n");
  root.WriteFile("sys/fs/cgroup/kubepods/pod7/cpu.max", "200000 100000\n");
  root.WriteFile("sys/fs/cgroup/kubepods/cpu.max", "800000 100000\n");
  EXPECT_THAT(CgroupCpuQuota(root.path()), Optional(DoubleEq(2.0)));
}

TEST(CpuBudgetTest, ReadsACgroupV1QuotaUnderTheJointControllerMount) {
  ScratchDir root;
  root.WriteFile("proc/self/cgroup", "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n");
  root.WriteFile("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "50000\n");
  root.WriteFile("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  EXPECT_THAT(CgroupCpuQuota(root.path()), Optional(DoubleEq(0.5)));
}

// Docker on cgroup v1 shows the host's path in /proc/self/cgroup but mounts
// the container's own cgroup at the top of /sys/fs/cgroup/cpu.
TEST(CpuBudgetTest, FindsACgroupV1ContainersLimitAtTheMountWhenItsHostPathIsMissing) {
  ScratchDir root;
  root.WriteFile("proc/self/cgroup", "3:cpu:/docker/0123abcd\n");
  root.WriteFile("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "300000\n");
  root.WriteFile("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_THAT(CgroupCpuQuota(root.path()), Optional(DoubleEq(3.0)));
}

TEST(CpuBudgetTest, UnlimitedOrUnreadableCgroupsGiveNoQuota) {
  ScratchDir unlimited;
  unlimited.WriteFile("proc/self/cgroup", "2:cpu:/\n0::/\n");
  unlimited.WriteFile("sys/fs/cgroup/cpu.max", "max 100000\n");
  unlimited.WriteFile("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n");
  unlimited.WriteFile("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(CgroupCpuQuota(unlimited.path()), std::nullopt);

  ScratchDir garbled;
  garbled.WriteFile("proc/self/cgroup", "0::/\n");
  garbled.WriteFile("sys/fs/cgroup/cpu.max", "lots\n");
  EXPECT_EQ(CgroupCpuQuota(garbled.path()), std::nullopt);

  ScratchDir empty;
  EXPECT_EQ(CgroupCpuQuota(empty.path()), std::nullopt);
}

TEST(CpuBudgetTest, CoresAreTheCpuSetLoweredToTheQuotasWholeCores) {
  EXPECT_EQ((CpuBudget{16, 2.0}).Cores(), 2);
  EXPECT_EQ((CpuBudget{16, 2.5}).Cores(), 2);
  EXPECT_EQ((CpuBudget{16, 0.5}).Cores(), 1);
  EXPECT_EQ((CpuBudget{4, 8.0}).Cores(), 4);
  EXPECT_EQ((CpuBudget{4, std::nullopt}).Cores(), 4);
  EXPECT_EQ((CpuBudget{0, std::nullopt}).Cores(), 1);
  EXPECT_EQ((CpuBudget{16, 1.5}).Describe(), "1 core (CPU set of 16, cgroup quota 1.50 cores)");
  EXPECT_EQ((CpuBudget{2, std::nullopt}).Describe(), "2 cores (CPU set)");
}

TEST(CpuBudgetTest, DiscoveryCountsThisProcesssCpuSet) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  const CpuBudget budget = DiscoverCpuBudget();
  EXPECT_EQ(budget.cpu_set_cores, CPU_COUNT(&allowed));
  EXPECT_GE(budget.Cores(), 1);
  EXPECT_LE(budget.Cores(), budget.cpu_set_cores);
}

}  // namespace
}  // namespace edgeserve::hal
