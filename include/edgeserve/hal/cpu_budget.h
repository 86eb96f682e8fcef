// How much CPU this process may use. Two limits apply on an edge box or a
// Kubernetes node: the CPU set (taskset, a container's cpuset, systemd's
// AllowedCPUs=), which hides cores, and a cgroup CPU quota (a Kubernetes or
// Docker CPU limit, systemd's CPUQuota=), which leaves every core visible but
// throttles the process once it has used its share of each period. Filling
// the visible cores of a 16-core node under a 2-CPU limit would run 16
// instances that the kernel stalls for most of every period.
#pragma once

#include <optional>
#include <string>

namespace edgeserve::hal {

struct CpuBudget {
  int cpu_set_cores = 1;
  std::optional<double> quota_cores;  // quota / period; absent when unlimited

  // The cores the process can keep busy: the CPU set, lowered to the whole
  // cores of the quota, and at least 1.
  int Cores() const;
  // "2 cores (CPU set)" or "1 core (CPU set of 2, cgroup quota 1.50 cores)".
  std::string Describe() const;
};

// The lowest CPU quota of this process's cgroup and its ancestors, from
// cgroup v2's cpu.max or cgroup v1's cpu.cfs_quota_us and cpu.cfs_period_us,
// read under `root`: "/" on a real box, a made-up tree in a test. Absent when
// nothing limits the process or nothing can be read.
std::optional<double> CgroupCpuQuota(const std::string& root = "/");

// This process's budget: sched_getaffinity's CPU set and CgroupCpuQuota().
CpuBudget DiscoverCpuBudget();

}  // namespace edgeserve::hal
