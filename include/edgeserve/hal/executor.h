// A model instance on a device: the only thing the scheduler knows of
// hardware. Executors are made by a device's loader (torch_executor.h for
// LibTorch on the CPU, CUDA and NPU devices) and owned by the model's
// scheduler.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "edgeserve/core/inference.h"
#include "edgeserve/core/tensor.h"

namespace edgeserve::hal {

class Executor {
 public:
  virtual ~Executor() = default;

  // Called once by the worker thread that will call Execute, before the first
  // call: per-thread runtime settings (thread counts, inference mode) go here.
  virtual void PrepareThread() = 0;

  // Runs one batch. `inputs` holds one view per model input in the config's
  // order, already validated against the config. Returns one tensor per model
  // output in the config's order, or the error: RESOURCE_EXHAUSTED when the
  // device ran out of memory (the instance stays usable), INTERNAL with the
  // model's or the device's text otherwise. Not thread-safe: one worker thread
  // calls it at a time.
  virtual absl::StatusOr<std::vector<core::Tensor>> Execute(absl::Span<const core::TensorView> inputs,
                                                            core::ExecutionTimings* timings) = 0;

  // Runs the load's warm-up inference on zeros again. OK means the instance
  // can serve; an error after a failed Execute means the device, not the
  // request, is at fault. Called by the thread that calls Execute.
  virtual absl::Status CheckHealth() = 0;

  // Called by the worker thread when its instance has nothing to do: gives
  // back what the thread holds only to run faster (LibTorch's OpenMP team),
  // because idle teams slow every other instance's (torch_executor.cc).
  // The next Execute takes it again.
  virtual void ReleaseIdleThreads() = 0;

  // "cpu", "cuda:0", "npu:1": for logs and statistics.
  virtual std::string DeviceName() const = 0;
};

}  // namespace edgeserve::hal
