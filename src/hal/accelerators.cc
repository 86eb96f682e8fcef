#include "edgeserve/hal/accelerators.h"

#include <dlfcn.h>

#include <mutex>

#include <c10/core/DeviceType.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#ifdef EDGESERVE_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#endif

#include "absl/strings/str_cat.h"
#include "edgeserve/core/logging.h"

namespace edgeserve::hal {
namespace {

// The optional hook a plugin may export to describe its devices (the NPU
// test double does; a vendor library without it gets a generic name).
using DeviceInfoHook = int (*)(int index, char* name, size_t name_capacity, unsigned long long* memory_total_bytes,
                               unsigned long long* memory_free_bytes);

// The plugin, opened once per process: LibTorch's PrivateUse1 registrations
// cannot be undone, so a second, different library is refused.
struct NpuPlugin {
  std::string library;
  void* handle = nullptr;
  std::string error;  // why the plugin offers no device
  DeviceInfoHook device_info = nullptr;
};

const NpuPlugin& OpenNpuPlugin(const std::string& library) {
  static std::mutex mutex;
  static NpuPlugin plugin;
  std::lock_guard<std::mutex> lock(mutex);
  if (!plugin.library.empty()) {
    if (plugin.library != library) {
      static NpuPlugin refused;
      refused.library = library;
      refused.error = absl::StrCat("the NPU plugin ", plugin.library, " is already loaded in this process");
      return refused;
    }
    return plugin;
  }
  plugin.library = library;
  // RTLD_GLOBAL: the plugin's kernels and LibTorch's registries must share
  // one set of symbols, as with `import torch_npu`.
  plugin.handle = dlopen(library.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (plugin.handle == nullptr) {
    const char* why = dlerror();
    plugin.error = absl::StrCat("the NPU plugin ", library, " could not be loaded: ", why ? why : "unknown error");
    return plugin;
  }
  plugin.device_info = reinterpret_cast<DeviceInfoHook>(dlsym(plugin.handle, "edgeserve_device_info"));
  if (!c10::impl::hasDeviceGuardImpl(c10::DeviceType::PrivateUse1)) {
    plugin.error = absl::StrCat("the NPU plugin ", library,
                                " loaded but registered no PrivateUse1 device (no C10_REGISTER_GUARD_IMPL)");
  }
  return plugin;
}

void DiscoverNpus(const AcceleratorOptions& options, DeviceInventory* inventory) {
  if (options.npu_library.empty()) {
    inventory->absent_reasons[DeviceKind::kNpu] = "no NPU plugin is configured (devices.npu.library)";
    return;
  }
  const NpuPlugin& plugin = OpenNpuPlugin(options.npu_library);
  if (!plugin.error.empty()) {
    inventory->absent_reasons[DeviceKind::kNpu] = plugin.error;
    return;
  }
  int count = 0;
  try {
    count = c10::impl::getDeviceGuardImpl(c10::DeviceType::PrivateUse1)->deviceCount();
  } catch (const c10::Error& error) {
    inventory->absent_reasons[DeviceKind::kNpu] =
        absl::StrCat("the NPU plugin ", plugin.library, " failed to count devices: ", error.what_without_backtrace());
    return;
  }
  if (count == 0) {
    inventory->absent_reasons[DeviceKind::kNpu] = absl::StrCat("the NPU plugin ", plugin.library, " reports no device");
    return;
  }
  for (int index = 0; index < count; ++index) {
    Device device;
    device.kind = DeviceKind::kNpu;
    device.index = index;
    device.name = absl::StrCat(options.npu_name, " ", index, " (", plugin.library, ")");
    device.capabilities = {"fp32"};
    char name[256] = {};
    unsigned long long total = 0, free = 0;
    if (plugin.device_info && plugin.device_info(index, name, sizeof(name), &total, &free) == 0) {
      device.name = name;
      device.memory_total_bytes = total;
      device.memory_free_bytes = free;
    }
    inventory->devices.push_back(std::move(device));
  }
}

void DiscoverCudaDevices(DeviceInventory* inventory) {
#ifdef EDGESERVE_WITH_CUDA
  int count = 0;
  try {
    count = static_cast<int>(c10::cuda::device_count());
  } catch (const c10::Error& error) {
    inventory->absent_reasons[DeviceKind::kCuda] =
        absl::StrCat("CUDA could not be initialised: ", error.what_without_backtrace());
    return;
  }
  if (count == 0) {
    inventory->absent_reasons[DeviceKind::kCuda] =
        "LibTorch has CUDA but sees no GPU (driver, CUDA_VISIBLE_DEVICES or the container's GPU runtime)";
    return;
  }
  for (int index = 0; index < count; ++index) {
    const cudaDeviceProp* properties = at::cuda::getDeviceProperties(index);
    Device device;
    device.kind = DeviceKind::kCuda;
    device.index = index;
    device.name = properties->name;
    size_t free = 0, total = 0;
    {
      c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
      if (cudaMemGetInfo(&free, &total) != cudaSuccess) total = properties->totalGlobalMem;
    }
    device.memory_total_bytes = total;
    device.memory_free_bytes = free;
    device.capabilities = {"fp32", "fp16", "int8"};
    if (properties->major >= 8) device.capabilities.push_back("bf16");  // Ampere and later
    inventory->devices.push_back(std::move(device));
  }
#else
  inventory->absent_reasons[DeviceKind::kCuda] =
      "this edgeserve was built against a LibTorch without CUDA (see the README to build with one)";
#endif
}

}  // namespace

bool BuiltWithCuda() {
#ifdef EDGESERVE_WITH_CUDA
  return true;
#else
  return false;
#endif
}

absl::StatusOr<DeviceInventory> DiscoverDevices(const AcceleratorOptions& options) {
  absl::StatusOr<Device> cpu = DiscoverCpu();
  if (!cpu.ok()) return cpu.status();
  DeviceInventory inventory;
  inventory.devices.push_back(*std::move(cpu));
  DiscoverCudaDevices(&inventory);
  DiscoverNpus(options, &inventory);
  return inventory;
}

}  // namespace edgeserve::hal
