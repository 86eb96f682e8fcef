#include "edgeserve/hal/cpu_budget.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace edgeserve::hal {
namespace {

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<double> QuotaCores(int64_t quota_us, int64_t period_us) {
  if (quota_us <= 0 || period_us <= 0) return std::nullopt;
  return static_cast<double>(quota_us) / static_cast<double>(period_us);
}

// cgroup v2's cpu.max: "max 100000" (no limit) or "150000 100000".
std::optional<double> QuotaFromCpuMax(absl::string_view text) {
  std::vector<absl::string_view> fields = absl::StrSplit(absl::StripAsciiWhitespace(text), ' ', absl::SkipEmpty());
  int64_t quota = 0;
  int64_t period = 100000;  // the kernel's default, when the file gives only the quota
  if (fields.empty() || !absl::SimpleAtoi(fields[0], &quota)) return std::nullopt;
  if (fields.size() > 1 && !absl::SimpleAtoi(fields[1], &period)) return std::nullopt;
  return QuotaCores(quota, period);
}

// cgroup v1's pair of files in one directory; a quota of -1 is no limit.
std::optional<double> QuotaFromCfsFiles(const std::string& dir) {
  std::optional<std::string> quota_text = ReadSmallFile(dir + "/cpu.cfs_quota_us");
  std::optional<std::string> period_text = ReadSmallFile(dir + "/cpu.cfs_period_us");
  int64_t quota = 0;
  int64_t period = 0;
  if (!quota_text || !period_text || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*quota_text), &quota) ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(*period_text), &period)) {
    return std::nullopt;
  }
  return QuotaCores(quota, period);
}

std::optional<double> Lower(std::optional<double> a, std::optional<double> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// The lowest quota that `quota_in` finds in `mount` + `cgroup_path` and each
// directory above it up to `mount`. Walking up also covers a container that
// sees the host's path for its cgroup but has its own cgroup mounted at
// `mount`.
template <typename QuotaIn>
std::optional<double> LowestOnTheWayUp(const std::string& mount, absl::string_view cgroup_path, QuotaIn quota_in) {
  std::string dir = absl::StrCat(mount, absl::StripSuffix(cgroup_path, "/"));
  std::optional<double> lowest;
  while (true) {
    lowest = Lower(lowest, quota_in(dir));
    if (dir.size() <= mount.size()) break;
    dir.resize(std::max(mount.size(), dir.rfind('/')));
  }
  return lowest;
}

}  // namespace

int CpuBudget::Cores() const {
  int cores = std::max(1, cpu_set_cores);
  if (quota_cores) cores = std::min(cores, static_cast<int>(std::floor(*quota_cores)));
  return std::max(1, cores);
}

std::string CpuBudget::Describe() const {
  const int cores = Cores();
  const std::string counted = absl::StrCat(cores, cores == 1 ? " core" : " cores");
  if (!quota_cores) return absl::StrCat(counted, " (CPU set)");
  return absl::StrFormat("%s (CPU set of %d, cgroup quota %.2f cores)", counted, cpu_set_cores, *quota_cores);
}

std::optional<double> CgroupCpuQuota(const std::string& root) {
  const std::string base = std::string(absl::StripSuffix(root, "/"));
  std::optional<std::string> membership = ReadSmallFile(base + "/proc/self/cgroup");
  if (!membership) return std::nullopt;
  const std::string cgroup_root = base + "/sys/fs/cgroup";
  std::optional<double> lowest;
  // Lines are "hierarchy-id:controllers:path"; cgroup v2's is "0::path".
  for (absl::string_view line : absl::StrSplit(*membership, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (fields.size() != 3) continue;
    const absl::string_view controllers = fields[1];
    const absl::string_view path = fields[2];
    if (fields[0] == "0" && controllers.empty()) {
      lowest = Lower(lowest, LowestOnTheWayUp(cgroup_root, path, [](const std::string& dir) {
                       std::optional<std::string> cpu_max = ReadSmallFile(dir + "/cpu.max");
                       return cpu_max ? QuotaFromCpuMax(*cpu_max) : std::nullopt;
                     }));
      continue;
    }
    std::vector<absl::string_view> names = absl::StrSplit(controllers, ',');
    if (std::find(names.begin(), names.end(), "cpu") == names.end()) continue;
    // cgroup v1 mounts the cpu controller under its joint name ("cpu,cpuacct"),
    // usually with "cpu" as a link to it.
    for (const std::string& mount : {absl::StrCat(cgroup_root, "/", controllers), cgroup_root + "/cpu"}) {
      lowest = Lower(lowest, LowestOnTheWayUp(mount, path, QuotaFromCfsFiles));
    }
  }
  return lowest;
}

CpuBudget DiscoverCpuBudget() {
  CpuBudget budget;
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  budget.cpu_set_cores = sched_getaffinity(0, sizeof(allowed), &allowed) == 0
                             ? CPU_COUNT(&allowed)
                             : static_cast<int>(std::thread::hardware_concurrency());
  budget.cpu_set_cores = std::max(1, budget.cpu_set_cores);
  budget.quota_cores = CgroupCpuQuota();
  return budget;
}

}  // namespace edgeserve::hal
