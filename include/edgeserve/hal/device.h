// The devices of this box that models can be placed on, found at start.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgeserve::hal {

struct Device {
  std::string kind;  // "CPU" (the instance_groups kind that places a model here)
  int index = 0;
  std::string name;   // "AMD EPYC (2 cores)"
  uint64_t memory_total_bytes = 0;
  uint64_t memory_free_bytes = 0;  // available for new allocations at discovery
  // Precisions its kernels run natively: "fp32", and "bf16", "fp16", "int8"
  // where the instruction set has them.
  std::vector<std::string> capabilities;
};

// The CPU as /proc/cpuinfo and /proc/meminfo (their text passed in) describe it.
absl::StatusOr<Device> DescribeCpu(absl::string_view cpuinfo, absl::string_view meminfo, unsigned cores);

// Every device of this box: today the CPU. Fails only when /proc cannot be read.
absl::StatusOr<std::vector<Device>> DiscoverDevices();

// One line per device, for --list-devices and the start-up log.
std::string DescribeDevice(const Device& device);

}  // namespace edgeserve::hal
