#include "edgeserve/repository/model_repository.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "edgeserve/core/logging.h"
#include "edgeserve/hal/placement.h"
#include "edgeserve/hal/torch_executor.h"

namespace edgeserve::repository {
namespace {

namespace fs = std::filesystem;

hal::TorchOptimization ToTorchOptimization(Optimization optimization) {
  switch (optimization) {
    case Optimization::kOptimize: return hal::TorchOptimization::kOptimize;
    case Optimization::kNone: return hal::TorchOptimization::kNone;
    case Optimization::kAuto: break;
  }
  return hal::TorchOptimization::kAuto;
}

// Numeric version folders, ascending by number.
std::vector<std::string> FindVersions(const fs::path& model_dir) {
  std::vector<std::pair<uint64_t, std::string>> numbered;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(model_dir, error)) {
    uint64_t number = 0;
    const std::string name = entry.path().filename().string();
    std::error_code entry_error;
    // Only the canonical spelling: "01" or "+1" would be served under a
    // version that clients asking for "1" cannot name.
    if (entry.is_directory(entry_error) && absl::SimpleAtoi(name, &number) && absl::StrCat(number) == name) {
      numbered.emplace_back(number, name);
    }
  }
  std::sort(numbered.begin(), numbered.end());
  std::vector<std::string> versions;
  for (auto& [number, name] : numbered) versions.push_back(std::move(name));
  return versions;
}

std::shared_ptr<LoadedModel> UnreadableModel(const fs::path& model_dir, const std::string& why) {
  auto model = std::make_shared<LoadedModel>();
  model->name = model_dir.filename().string();
  model->reason = absl::StrCat("model folder '", model_dir.string(), "' cannot be read: ", why);
  core::Logger("repository")->error("model '{}' is unavailable: {}", model->name, model->reason);
  return model;
}

std::shared_ptr<LoadedModel> LoadModel(const fs::path& model_dir, const RepositoryOptions& options) {
  auto logger = core::Logger("repository");
  auto model = std::make_shared<LoadedModel>();
  model->name = model_dir.filename().string();
  model->versions = FindVersions(model_dir);
  auto fail = [&](std::string reason) {
    model->reason = std::move(reason);
    logger->error("model '{}' is unavailable: {}", model->name, model->reason);
    return model;
  };

  absl::StatusOr<ModelConfig> config =
      LoadModelConfig((model_dir / "config.yaml").string(), model->name, options.limits);
  if (!config.ok()) return fail(std::string(config.status().message()));
  model->config = *std::move(config);
  if (model->versions.empty()) {
    return fail(absl::StrCat("no version folder (a number, such as ", (model_dir / "1").string(),
                             ") holding model.pt"));
  }
  model->version = model->versions.back();

  hal::TorchModelSpec spec;
  spec.model_file = (model_dir / model->version / "model.pt").string();
  spec.inputs = model->config.inputs;
  spec.outputs = model->config.outputs;
  spec.max_batch_size = model->config.max_batch_size;
  spec.precision = model->config.precision;
  spec.npu_name = options.npu_name;
  const auto started = core::Clock::now();
  std::vector<std::unique_ptr<hal::Executor>> executors;
  std::vector<std::string> layout;
  hal::TorchLoadReport report;
  for (size_t group_index = 0; group_index < model->config.instance_groups.size(); ++group_index) {
    const InstanceGroup& group = model->config.instance_groups[group_index];
    const std::string requested = group.kind ? std::string(hal::KindName(*group.kind)) : "AUTO";
    const hal::GroupRequest request{group.kind, group.devices};
    const hal::GroupPlan plan = hal::PlanGroup(request, model->config.placement, options.devices);
    spec.intra_op_threads = group.threads > 0 ? group.threads : options.intra_op_threads;
    // Several single-thread instances outserve one instance spread over every
    // core once more than one request is in flight, because an OpenMP team
    // stalls whenever gRPC's threads take one of its cores (BENCHMARKS.md).
    auto instances_per_device = [&](hal::DeviceKind kind) {
      if (group.count > 0) return group.count;
      return kind == hal::DeviceKind::kCpu ? std::max(1, options.cpu_cores / spec.intra_op_threads) : 1;
    };
    std::vector<std::string> passed_over = plan.passed_over;
    bool placed = false;
    for (const hal::PlacementOption& option : plan.options) {
      std::vector<std::unique_ptr<hal::Executor>> loaded;
      std::vector<int> loaded_on;  // device index of each
      absl::Status failure;
      // The first instance of an option settles `auto`; the others take its
      // choice rather than timing both forms again.
      spec.optimization = ToTorchOptimization(model->config.optimization);
      spec.device_kind = option.kind;
      for (int device_index : option.device_indices) {
        spec.device_index = device_index;
        for (int i = 0; i < instances_per_device(option.kind) && failure.ok(); ++i) {
          absl::StatusOr<std::unique_ptr<hal::Executor>> executor = hal::LoadTorchExecutor(spec, &report);
          if (!executor.ok()) {
            failure = executor.status();
            break;
          }
          loaded.push_back(*std::move(executor));
          loaded_on.push_back(device_index);
          spec.optimization = report.optimized ? hal::TorchOptimization::kOptimize : hal::TorchOptimization::kNone;
        }
      }
      if (!failure.ok()) {
        passed_over.push_back(absl::StrCat(hal::KindName(option.kind), ": ", failure.message()));
        continue;
      }
      // Every kind ahead of this one was passed over, each with its reason.
      const std::string fallback = absl::StrJoin(passed_over, "; ");
      if (!fallback.empty()) {
        // A model that names no kind and no placement is expected to move
        // down the default preference on a box without accelerators.
        const bool asked = group.kind.has_value() || model->config.placement_configured;
        logger->log(asked ? spdlog::level::warn : spdlog::level::info,
                    "model '{}' instance group {} ({}) runs on {} instead of {}: {}", model->name, group_index,
                    requested, hal::KindName(option.kind),
                    hal::KindName(hal::FirstChoice(request, model->config.placement)), fallback);
      }
      for (size_t i = 0; i < loaded.size(); ++i) {
        model->instances.push_back(InstancePlacement{static_cast<int>(group_index), requested, option.kind,
                                                     loaded_on[i], loaded[i]->DeviceName(), spec.intra_op_threads,
                                                     fallback});
        executors.push_back(std::move(loaded[i]));
      }
      model->config.instance_groups[group_index].count = instances_per_device(option.kind);
      layout.push_back(absl::StrFormat("%d x %s with %d thread%s", loaded_on.size(), hal::KindName(option.kind),
                                       spec.intra_op_threads, spec.intra_op_threads == 1 ? "" : "s"));
      placed = true;
      break;
    }
    if (!placed) {
      model->instances.clear();
      // One option and nothing passed over: the plain reason reads best.
      if (plan.options.size() == 1 && plan.passed_over.empty()) {
        return fail(absl::StrCat("version ", model->version, ": ",
                                 passed_over.back().substr(passed_over.back().find(": ") + 2)));
      }
      // The last kind tried is the one expected to work (the CPU, for AUTO),
      // so its reason leads; the kinds passed over before it follow.
      const std::vector<std::string> earlier(passed_over.begin(), passed_over.end() - 1);
      return fail(absl::StrCat("version ", model->version, ": instance group ", group_index, " (", requested,
                               ") found no device. ", passed_over.back(),
                               earlier.empty() ? ""
                                               : absl::StrCat(" (passed over before it: ",
                                                              absl::StrJoin(earlier, "; "), ")")));
    }
  }
  scheduler::SchedulerOptions scheduling;
  scheduling.model_name = model->name;
  scheduling.batching = model->config.batching;
  scheduling.model_max_batch_size = model->config.max_batch_size;
  scheduling.inputs = model->config.inputs;
  scheduling.health_retry_interval = options.health_retry_interval;
  model->scheduler =
      std::make_unique<scheduler::ModelScheduler>(std::move(scheduling), std::move(executors), model->statistics.get());
  model->state = ModelState::kReady;
  const double load_ms = std::chrono::duration<double, std::milli>(core::Clock::now() - started).count();
  std::string preparation = report.optimized ? "frozen and optimised" : "as loaded";
  if (report.as_loaded_ms > 0 && report.optimized_ms > 0) {
    absl::StrAppend(&preparation, absl::StrFormat(": warm-up forward %.3f ms as loaded, %.3f ms optimised",
                                                  report.as_loaded_ms, report.optimized_ms));
  }
  logger->info("model '{}' version {} ready in {:.0f} ms: {}, {} ({})", model->name, model->version, load_ms,
               absl::StrJoin(layout, ", "), hal::PrecisionName(model->config.precision), preparation);
  return model;
}

}  // namespace

ModelRepository::ModelRepository(std::vector<std::shared_ptr<const LoadedModel>> models)
    : models_(std::move(models)) {}

absl::StatusOr<std::unique_ptr<ModelRepository>> ModelRepository::Load(const RepositoryOptions& options) {
  std::error_code error;
  if (!fs::is_directory(options.root, error)) {
    return absl::NotFoundError(absl::StrCat("model repository '", options.root,
                                            "' is not a directory (repository.path, or --model-repository)"));
  }
  std::vector<fs::path> model_dirs;
  std::vector<std::shared_ptr<const LoadedModel>> models;
  for (const auto& entry : fs::directory_iterator(options.root, error)) {
    if (entry.path().filename().string().front() == '.') continue;
    std::error_code entry_error;
    if (entry.is_directory(entry_error)) {
      model_dirs.push_back(entry.path());
    } else if (entry_error) {
      // A dangling or circular link: that model is unavailable, the others serve.
      models.push_back(UnreadableModel(entry.path(), entry_error.message()));
    }
  }
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat("model repository '", options.root, "' cannot be read: ", error.message()));
  }
  for (const fs::path& dir : model_dirs) models.push_back(LoadModel(dir, options));
  std::sort(models.begin(), models.end(), [](const auto& a, const auto& b) { return a->name < b->name; });
  return std::unique_ptr<ModelRepository>(new ModelRepository(std::move(models)));
}

std::shared_ptr<const LoadedModel> ModelRepository::Find(absl::string_view name) const {
  auto found = std::lower_bound(models_.begin(), models_.end(), name,
                                [](const auto& model, absl::string_view key) { return model->name < key; });
  if (found == models_.end() || (*found)->name != name) return nullptr;
  return *found;
}

bool ModelRepository::AllReady() const {
  return std::all_of(models_.begin(), models_.end(),
                     [](const auto& model) { return model->Serving(); });
}

void ModelRepository::StopAll() {
  for (const auto& model : models_) {
    if (model->scheduler) model->scheduler->Stop();
  }
}

}  // namespace edgeserve::repository
