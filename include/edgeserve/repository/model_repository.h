// The model repository: `<root>/<name>/config.yaml` and
// `<root>/<name>/<version>/model.pt`. Every model is loaded at start; the
// highest numeric version is served. A model that fails to load stays listed
// as unavailable with its reason while the others serve.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgeserve/core/model_statistics.h"
#include "edgeserve/hal/device.h"
#include "edgeserve/repository/model_config.h"
#include "edgeserve/scheduler/model_scheduler.h"

namespace edgeserve::repository {

enum class ModelState { kReady, kUnavailable };

// Where one instance of a model was placed, in the scheduler's instance order.
struct InstancePlacement {
  int group = 0;               // index into the config's instance_groups
  std::string requested_kind;  // "AUTO", "CPU", "CUDA", "NPU"
  hal::DeviceKind kind = hal::DeviceKind::kCpu;
  int device_index = 0;
  std::string device;  // "cpu", "cuda:0", "npu:1"
  int threads = 1;
  // Why the group is not on its first choice ("CUDA: no CUDA device ...");
  // empty when it is. Also logged as a warning at load.
  std::string fallback;
};

// One model as loaded. Requests hold a shared_ptr to it for as long as they
// run, so a later reload can swap it without pulling it from under them.
struct LoadedModel {
  std::string name;
  std::vector<std::string> versions;  // on disk, ascending
  std::string version;                // served; empty when none could be chosen
  ModelState state = ModelState::kUnavailable;
  std::string reason;  // why the model is unavailable
  ModelConfig config;
  std::vector<InstancePlacement> instances;  // empty unless ready
  std::unique_ptr<core::ModelStatistics> statistics = std::make_unique<core::ModelStatistics>();
  std::unique_ptr<scheduler::ModelScheduler> scheduler;  // null unless ready

  // Ready, with at least one instance in the rotation.
  bool Serving() const { return state == ModelState::kReady && scheduler && scheduler->Ready(); }
};

struct RepositoryOptions {
  std::string root;
  ModelConfigLimits limits;
  int intra_op_threads = 1;
  int cpu_cores = 1;  // what CPU groups without a count fill
  // What instance groups can be placed on; the daemon passes what discovery
  // found. The default, the CPU alone, suits tests.
  hal::DeviceInventory devices{{hal::Device{}}, {}};
  std::string npu_name = "npu";
  std::chrono::milliseconds health_retry_interval{10000};
};

class ModelRepository {
 public:
  // Loads every model folder under `options.root`. Fails only when the root
  // itself cannot be read; a failing model is recorded as unavailable.
  static absl::StatusOr<std::unique_ptr<ModelRepository>> Load(const RepositoryOptions& options);

  // Null when no folder of that name exists. Thread-safe.
  std::shared_ptr<const LoadedModel> Find(absl::string_view name) const;
  // Every model, sorted by name. Thread-safe.
  const std::vector<std::shared_ptr<const LoadedModel>>& models() const { return models_; }
  bool AllReady() const;

  // Stops every model's scheduler after its queued requests are done.
  void StopAll();

 private:
  explicit ModelRepository(std::vector<std::shared_ptr<const LoadedModel>> models);
  std::vector<std::shared_ptr<const LoadedModel>> models_;  // immutable after Load
};

}  // namespace edgeserve::repository
