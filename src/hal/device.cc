#include "edgeserve/hal/device.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "edgeserve/hal/cpu_budget.h"

namespace edgeserve::hal {
namespace {

// The value after "key:" on the first line that starts with `key`, or "".
absl::string_view FieldOf(absl::string_view text, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, key)) continue;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    return absl::StripAsciiWhitespace(line.substr(colon + 1));
  }
  return "";
}

// "24684096 kB" -> bytes.
bool ParseKilobytes(absl::string_view value, uint64_t* bytes) {
  absl::ConsumeSuffix(&value, " kB");
  uint64_t kilobytes = 0;
  if (!absl::SimpleAtoi(value, &kilobytes)) return false;
  *bytes = kilobytes * 1024;
  return true;
}

absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::string_view KindName(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kCuda: return "CUDA";
    case DeviceKind::kNpu: return "NPU";
    case DeviceKind::kCpu: break;
  }
  return "CPU";
}

std::optional<DeviceKind> KindFromName(absl::string_view name) {
  for (DeviceKind kind : {DeviceKind::kCpu, DeviceKind::kCuda, DeviceKind::kNpu}) {
    if (absl::EqualsIgnoreCase(name, KindName(kind))) return kind;
  }
  return std::nullopt;
}

absl::string_view PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kFp16: return "fp16";
    case Precision::kBf16: return "bf16";
    case Precision::kFp32: break;
  }
  return "fp32";
}

std::optional<Precision> PrecisionFromName(absl::string_view name) {
  for (Precision precision : {Precision::kFp32, Precision::kFp16, Precision::kBf16}) {
    if (name == PrecisionName(precision)) return precision;
  }
  return std::nullopt;
}

bool Device::Supports(Precision precision) const {
  return std::find(capabilities.begin(), capabilities.end(), PrecisionName(precision)) != capabilities.end();
}

const Device* DeviceInventory::Find(DeviceKind kind, int index) const {
  for (const Device& device : devices) {
    if (device.kind == kind && device.index == index) return &device;
  }
  return nullptr;
}

std::vector<int> DeviceInventory::IndicesOf(DeviceKind kind) const {
  std::vector<int> indices;
  for (const Device& device : devices) {
    if (device.kind == kind) indices.push_back(device.index);
  }
  std::sort(indices.begin(), indices.end());
  return indices;
}

std::string DeviceInventory::AbsentReason(DeviceKind kind) const {
  auto found = absent_reasons.find(kind);
  if (found != absent_reasons.end()) return found->second;
  return absl::StrCat("no ", KindName(kind), " device was found");
}

absl::StatusOr<Device> DescribeCpu(absl::string_view cpuinfo, absl::string_view meminfo, unsigned cores) {
  Device cpu;
  cpu.kind = DeviceKind::kCpu;
  absl::string_view model = FieldOf(cpuinfo, "model name");
  if (model.empty()) model = FieldOf(cpuinfo, "Model");  // aarch64 boards such as Jetson
  cpu.name = absl::StrCat(model.empty() ? "CPU" : model, " (", cores, cores == 1 ? " core)" : " cores)");
  if (!ParseKilobytes(FieldOf(meminfo, "MemTotal"), &cpu.memory_total_bytes) ||
      !ParseKilobytes(FieldOf(meminfo, "MemAvailable"), &cpu.memory_free_bytes)) {
    return absl::UnavailableError("/proc/meminfo has no readable MemTotal and MemAvailable");
  }
  cpu.capabilities.push_back("fp32");
  std::vector<absl::string_view> flags = absl::StrSplit(FieldOf(cpuinfo, "flags"), ' ', absl::SkipEmpty());
  if (flags.empty()) flags = absl::StrSplit(FieldOf(cpuinfo, "Features"), ' ', absl::SkipEmpty());  // aarch64
  auto has = [&](absl::string_view flag) { return std::find(flags.begin(), flags.end(), flag) != flags.end(); };
  if (has("avx512_bf16") || has("amx_bf16") || has("bf16")) cpu.capabilities.push_back("bf16");
  if (has("avx512_fp16") || has("fphp")) cpu.capabilities.push_back("fp16");
  // Quantised int8 kernels: fbgemm needs AVX2 on x86; on Arm, qnnpack runs on any asimd core.
  if (has("avx2") || has("asimd")) cpu.capabilities.push_back("int8");
  return cpu;
}

absl::StatusOr<Device> DiscoverCpu() {
  absl::StatusOr<std::string> cpuinfo = ReadWhole("/proc/cpuinfo");
  if (!cpuinfo.ok()) return cpuinfo.status();
  absl::StatusOr<std::string> meminfo = ReadWhole("/proc/meminfo");
  if (!meminfo.ok()) return meminfo.status();
  return DescribeCpu(*cpuinfo, *meminfo, static_cast<unsigned>(DiscoverCpuBudget().Cores()));
}

std::string DescribeDevice(const Device& device) {
  const std::string memory =
      device.memory_total_bytes == 0
          ? "memory not reported"
          : absl::StrFormat("memory %.1f GiB total, %.1f GiB free",
                            static_cast<double>(device.memory_total_bytes) / (1ull << 30),
                            static_cast<double>(device.memory_free_bytes) / (1ull << 30));
  return absl::StrFormat("%s:%d  %s  %s  [%s]", KindName(device.kind), device.index, device.name, memory,
                         absl::StrJoin(device.capabilities, ", "));
}

}  // namespace edgeserve::hal
