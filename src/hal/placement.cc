#include "edgeserve/hal/placement.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace edgeserve::hal {
namespace {

// The group's kind first, then the preference, each kind once.
std::vector<DeviceKind> KindsInOrder(const GroupRequest& group, const std::vector<DeviceKind>& preference) {
  std::vector<DeviceKind> kinds;
  if (group.kind) kinds.push_back(*group.kind);
  for (DeviceKind kind : preference) {
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
  }
  return kinds;
}

}  // namespace

DeviceKind FirstChoice(const GroupRequest& group, const std::vector<DeviceKind>& preference) {
  if (group.kind) return *group.kind;
  return preference.empty() ? DeviceKind::kCpu : preference.front();
}

GroupPlan PlanGroup(const GroupRequest& group, const std::vector<DeviceKind>& preference,
                    const DeviceInventory& inventory) {
  GroupPlan plan;
  for (DeviceKind kind : KindsInOrder(group, preference)) {
    const std::vector<int> present = inventory.IndicesOf(kind);
    std::string absent;
    std::vector<int> chosen = present;
    if (present.empty()) {
      absent = inventory.AbsentReason(kind);
    } else if (group.kind == kind && !group.devices.empty()) {
      // The layout the group names is honoured whole or not at all: half of
      // it would silently halve the model's capacity.
      std::vector<int> missing;
      for (int index : group.devices) {
        if (std::find(present.begin(), present.end(), index) == present.end()) missing.push_back(index);
      }
      if (missing.empty()) {
        chosen = group.devices;
      } else {
        absent = absl::StrCat("device", missing.size() == 1 ? " " : "s ", absl::StrJoin(missing, ", "),
                              " not found (present: ", absl::StrJoin(present, ", "), ")");
      }
    }
    if (!absent.empty()) {
      if (plan.options.empty()) plan.passed_over.push_back(absl::StrCat(KindName(kind), ": ", absent));
      continue;
    }
    plan.options.push_back(PlacementOption{kind, std::move(chosen)});
  }
  return plan;
}

}  // namespace edgeserve::hal
