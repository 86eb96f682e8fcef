// The model repository: `<root>/<name>/config.yaml` and
// `<root>/<name>/<version>/model.pt`. Every model is loaded at start; the
// highest numeric version is served. A model that fails to load stays listed
// as unavailable with its reason while the others serve.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgeserve/core/model_statistics.h"
#include "edgeserve/repository/model_config.h"
#include "edgeserve/scheduler/model_scheduler.h"

namespace edgeserve::repository {

enum class ModelState { kReady, kUnavailable };

// One model as loaded. Requests hold a shared_ptr to it for as long as they
// run, so a later reload can swap it without pulling it from under them.
struct LoadedModel {
  std::string name;
  std::vector<std::string> versions;  // on disk, ascending
  std::string version;                // served; empty when none could be chosen
  ModelState state = ModelState::kUnavailable;
  std::string reason;  // why the model is unavailable
  ModelConfig config;
  std::string device;  // where its instances run
  std::unique_ptr<core::ModelStatistics> statistics = std::make_unique<core::ModelStatistics>();
  std::unique_ptr<scheduler::ModelScheduler> scheduler;  // null unless ready
};

struct RepositoryOptions {
  std::string root;
  ModelConfigLimits limits;
  size_t max_queue_size = 1024;
  int intra_op_threads = 1;
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
