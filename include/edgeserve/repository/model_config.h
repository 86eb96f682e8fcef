// A model's config.yaml, parsed and validated into a plain struct.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgeserve/core/tensor.h"
#include "edgeserve/hal/device.h"
#include "edgeserve/scheduler/batching.h"

namespace edgeserve::repository {

// How the TorchScript module is prepared at load.
enum class Optimization {
  kAuto,      // time the module as loaded and frozen+optimised; keep the faster
  kOptimize,  // torch::jit::optimize_for_inference(freeze(module))
  kNone,      // as loaded
};

// Instances of the model on one kind of device, each with its own worker.
struct InstanceGroup {
  // None: AUTO, the first kind of the model's placement that this box has.
  std::optional<hal::DeviceKind> kind;
  // On the CPU in all; on CUDA and NPU per device. 0 (unset): on the CPU,
  // enough instances of `threads` to fill the cores; elsewhere one.
  int count = 0;
  std::vector<int> devices;  // CUDA or NPU indices; empty: every device of the kind
  int threads = 0;  // LibTorch intra-op threads per instance; 0 = the daemon's threads.intra_op
};

struct ModelConfig {
  std::string name;  // the model's folder name
  std::string platform = "torchscript";
  // 0: the model has no batch dimension and shapes are complete. Above 0:
  // every input and output has a leading batch dimension of 1 to
  // max_batch_size that `shape` leaves out.
  int64_t max_batch_size = 0;
  std::vector<core::TensorSpec> inputs;
  std::vector<core::TensorSpec> outputs;
  Optimization optimization = Optimization::kAuto;
  // Requests are spread over every instance of every group.
  std::vector<InstanceGroup> instance_groups = {InstanceGroup{}};
  // The order in which kinds are tried for an AUTO group, and for a group
  // whose kind this box lacks or whose load fails there (a logged, visible
  // fallback). A group never goes to a kind missing from this list, other
  // than its own.
  std::vector<hal::DeviceKind> placement = {hal::DeviceKind::kCuda, hal::DeviceKind::kNpu, hal::DeviceKind::kCpu};
  bool placement_configured = false;  // the config wrote `placement` itself
  hal::Precision precision = hal::Precision::kFp32;
  // How requests are queued and batched. Its max_batch_size is resolved: at
  // most the model's, which it defaults to (1 for a model without a batch
  // dimension).
  scheduler::BatchingConfig batching;
};

// Limits the daemon config puts on every model config.
struct ModelConfigLimits {
  int64_t max_batch_size = 64;
  int64_t max_queue_size = 1024;  // the default and the ceiling of batching.max_queue_size
  // server.max_message_bytes: an input whose single item is larger could
  // never arrive, and the warm-up would allocate it.
  int64_t max_message_bytes = int64_t{64} << 20;
};

// Parses `file` for the model in folder `model_name`. Every problem is
// reported, each naming the file and key.
absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& file, const std::string& model_name,
                                            const ModelConfigLimits& limits);

// The shape a client sees: [-1] + spec.shape for a batching model.
core::Shape ClientShape(const ModelConfig& config, const core::TensorSpec& spec);

absl::string_view OptimizationName(Optimization optimization);

}  // namespace edgeserve::repository
