// The devices of this box that models can be placed on, and the names the
// configs use for their kinds and precisions. Free of LibTorch: discovery of
// accelerators, which needs it, lives in accelerators.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgeserve::hal {

enum class DeviceKind { kCpu, kCuda, kNpu };

// "CPU", "CUDA", "NPU": the instance_groups kinds.
absl::string_view KindName(DeviceKind kind);
// Accepts the kinds in any case ("cuda" as in a placement list, "CUDA").
std::optional<DeviceKind> KindFromName(absl::string_view name);

// The numeric precision a model runs in on its device. Inputs and outputs
// keep their declared datatypes; the executor casts on the device.
enum class Precision { kFp32, kFp16, kBf16 };

absl::string_view PrecisionName(Precision precision);  // "fp32", "fp16", "bf16"
std::optional<Precision> PrecisionFromName(absl::string_view name);

struct Device {
  DeviceKind kind = DeviceKind::kCpu;
  int index = 0;
  std::string name;                // "AMD EPYC (2 cores)", "NVIDIA H100 80GB HBM3"
  uint64_t memory_total_bytes = 0;  // 0 when the device does not say
  uint64_t memory_free_bytes = 0;   // available for new allocations at discovery
  // Precisions its kernels run natively: "fp32", and "bf16", "fp16", "int8"
  // where the hardware has them.
  std::vector<std::string> capabilities;

  bool Supports(Precision precision) const;
};

// What discovery found: every device, and for each kind without one, why
// (shown when a model falls back from that kind).
struct DeviceInventory {
  std::vector<Device> devices;
  std::map<DeviceKind, std::string> absent_reasons;

  // The device of `kind` with `index`, or null.
  const Device* Find(DeviceKind kind, int index) const;
  // Indices of the devices of `kind`, ascending.
  std::vector<int> IndicesOf(DeviceKind kind) const;
  // Why `kind` has no device: the recorded reason, or a generic one.
  std::string AbsentReason(DeviceKind kind) const;
};

// The CPU as /proc/cpuinfo and /proc/meminfo (their text passed in) describe it.
absl::StatusOr<Device> DescribeCpu(absl::string_view cpuinfo, absl::string_view meminfo, unsigned cores);

// This box's CPU. Fails only when /proc cannot be read.
absl::StatusOr<Device> DiscoverCpu();

// One line per device, for --list-devices and the start-up log.
std::string DescribeDevice(const Device& device);

}  // namespace edgeserve::hal
