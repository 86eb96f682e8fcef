// Where a model's instance groups go on this box: the kind each group asks
// for, then the model's placement preference, skipping kinds this box lacks.
// Every kind passed over carries its reason, so a fallback is never silent.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "edgeserve/hal/device.h"

namespace edgeserve::hal {

// One instance group as the model config asks for it.
struct GroupRequest {
  std::optional<DeviceKind> kind;  // none: AUTO, the first kind of the preference present
  std::vector<int> devices;        // indices of `kind`; empty: every device of the kind
};

// A place an instance group can go: its instances on each of `device_indices`.
struct PlacementOption {
  DeviceKind kind = DeviceKind::kCpu;
  std::vector<int> device_indices;
};

struct GroupPlan {
  // Present kinds, best first. The loader tries them in order and falls back
  // to the next when loading on one fails.
  std::vector<PlacementOption> options;
  // "CUDA: LibTorch was built without CUDA", one per kind ahead of
  // options.front() that this box cannot offer. Empty when the group gets its
  // first choice.
  std::vector<std::string> passed_over;
};

// The first choice of a group: its kind, else the preference's first kind.
DeviceKind FirstChoice(const GroupRequest& group, const std::vector<DeviceKind>& preference);

// Plans `group` against `inventory`. `options` is empty when no kind in the
// group's order is present; `passed_over` then says why for each.
GroupPlan PlanGroup(const GroupRequest& group, const std::vector<DeviceKind>& preference,
                    const DeviceInventory& inventory);

}  // namespace edgeserve::hal
