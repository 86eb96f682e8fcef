// Loading TorchScript models into executors on any LibTorch device: the CPU,
// CUDA, or an NPU registered under PrivateUse1 (accelerators.h). The header
// stays free of LibTorch so that only src/hal compiles against it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "edgeserve/core/tensor.h"
#include "edgeserve/hal/device.h"
#include "edgeserve/hal/executor.h"

namespace edgeserve::hal {

enum class TorchOptimization { kAuto, kOptimize, kNone };

struct TorchModelSpec {
  std::string model_file;  // .../<version>/model.pt
  std::vector<core::TensorSpec> inputs;
  std::vector<core::TensorSpec> outputs;
  int64_t max_batch_size = 0;  // 0: shapes are complete, else a batch dim leads
  TorchOptimization optimization = TorchOptimization::kAuto;
  int intra_op_threads = 1;  // LibTorch's CPU threads, also for ops a device leaves to the CPU
  DeviceKind device_kind = DeviceKind::kCpu;
  int device_index = 0;
  std::string npu_name = "npu";  // what DeviceName() calls an NPU
  Precision precision = Precision::kFp32;
};

// What the load decided, for the model's log line and metadata.
struct TorchLoadReport {
  bool optimized = false;
  double as_loaded_ms = 0;  // median warm-up forward as loaded (0 if not timed)
  double optimized_ms = 0;  // median warm-up forward optimised (0 if not timed)
};

// Loads the module on the CPU, moves it to the spec's device and precision,
// prepares it as `spec.optimization` says (frozen, and on the CPU also
// optimised for inference) and checks it against the declared tensors with a
// warm-up forward on zeros (variable dimensions set to 1). Fails with the
// reason when the file is not TorchScript, the module cannot move to the
// device or precision, or the outputs do not match the declaration.
absl::StatusOr<std::unique_ptr<Executor>> LoadTorchExecutor(const TorchModelSpec& spec, TorchLoadReport* report);

// A TorchScript interpreter's error as a client should read it: the error
// itself ("builtins.RuntimeError: ...", the last line) first, then the
// traceback through the model's code. Other errors are kept as they are.
std::string LeadWithTheCause(absl::string_view torch_error);

}  // namespace edgeserve::hal
