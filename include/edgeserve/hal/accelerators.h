// Discovery of every device models can be placed on: the CPU, the CUDA
// devices the LibTorch found at build time can see, and the NPU devices a
// vendor's LibTorch extension registers under the PrivateUse1 dispatch key.
// Free of LibTorch; the code behind it is not.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "edgeserve/hal/device.h"

namespace edgeserve::hal {

struct AcceleratorOptions {
  // The vendor's LibTorch extension (torch_npu-style), opened once per process
  // with dlopen; its static initialisers register the PrivateUse1 device.
  // Empty: no NPU.
  std::string npu_library;
  // What logs and device names call that device. LibTorch before 2.0 knows it
  // only as "privateuseone"; vendors call theirs "npu".
  std::string npu_name = "npu";
};

// Every device of this box. Opens the NPU plugin on the first call; later
// calls refresh free memory. A kind that is missing (no CUDA in this build, a
// plugin that fails to open or registers no device) is not an error: the
// inventory records why, for fallback messages. Fails only when the CPU
// cannot be described.
absl::StatusOr<DeviceInventory> DiscoverDevices(const AcceleratorOptions& options);

// True when this edgeserve was built against a LibTorch with CUDA.
bool BuiltWithCuda();

}  // namespace edgeserve::hal
