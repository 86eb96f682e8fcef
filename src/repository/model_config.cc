#include "edgeserve/repository/model_config.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "edgeserve/core/config_reader.h"

namespace edgeserve::repository {
namespace {

// Bytes of one item of `spec` (variable dimensions taken as 1), or nullopt
// when that exceeds `limit`.
std::optional<int64_t> ItemBytesWithin(const core::TensorSpec& spec, int64_t limit) {
  int64_t bytes = static_cast<int64_t>(core::DataTypeSize(spec.datatype));
  for (int64_t dim : spec.shape) {
    const int64_t size = dim == -1 ? 1 : dim;
    if (size > 0 && bytes > limit / size) return std::nullopt;
    bytes *= size;
  }
  if (bytes > limit) return std::nullopt;
  return bytes;
}

struct InputOptions {
  int64_t max_item_bytes = 0;  // the most one item may take
  int64_t model_max_batch_size = 0;
  // Per input: the element its `pad_value` gives, or empty.
  std::vector<std::string>* pad_elements = nullptr;
};

void ReadPadValue(core::ConfigReader& element, const core::TensorSpec& spec, const InputOptions& options,
                  std::string* pad_element) {
  if (!element.Has("pad_value")) return;
  double value = 0;
  element.Double("pad_value", &value, -std::numeric_limits<double>::max(), std::numeric_limits<double>::max());
  if (options.model_max_batch_size == 0) {
    element.Error("pad_value",
                  "padding lets requests of different sizes share a batch, so it needs max_batch_size "
                  "above 0");
  } else if (std::find(spec.shape.begin(), spec.shape.end(), -1) == spec.shape.end()) {
    element.Error("pad_value", absl::StrCat("only a dimension declared -1 varies between requests, and shape ",
                                            core::ShapeToString(spec.shape), " has none"));
  } else if (spec.datatype != core::DataType::kBytes) {
    absl::StatusOr<std::string> bytes = core::ScalarBytes(spec.datatype, value);
    if (bytes.ok()) {
      *pad_element = *std::move(bytes);
    } else {
      element.Error("pad_value", std::string(bytes.status().message()));
    }
  }
}

// `inputs`: given for the model's inputs, nothing for its outputs.
void ReadTensors(core::ConfigReader& parent, const std::string& key, std::vector<core::TensorSpec>* tensors,
                 const InputOptions* inputs = nullptr) {
  std::vector<core::ConfigReader> elements = parent.Sequence(key);
  if (!parent.Has(key)) {
    parent.Error(key, "required: list each tensor as {name, datatype, shape}");
    return;
  }
  std::set<std::string> names;
  for (core::ConfigReader& element : elements) {
    core::TensorSpec spec;
    std::string datatype;
    element.String("name", &spec.name);
    element.String("datatype", &datatype);
    element.IntList("shape", &spec.shape);
    if (spec.name.empty()) element.Error("name", "required and must not be empty");
    if (!names.insert(spec.name).second) {
      element.Error("name", absl::StrCat("'", spec.name, "' is used twice in ", key));
    }
    if (datatype.empty()) {
      element.Error("datatype", absl::StrCat("required: one of ", core::DataTypeNames()));
    } else if (auto parsed = core::DataTypeFromName(datatype)) {
      spec.datatype = *parsed;
      if (*parsed == core::DataType::kBytes) {
        element.Error("datatype", "BYTES tensors are not supported by the torchscript platform");
      }
    } else {
      element.Error("datatype", absl::StrCat("unknown datatype '", datatype, "'; expected one of ",
                                             core::DataTypeNames()));
    }
    if (!element.Has("shape")) element.Error("shape", "required, for example [3, 224, 224]");
    bool shape_valid = true;
    for (int64_t dim : spec.shape) {
      if (dim < 1 && dim != -1) {
        element.Error("shape", absl::StrCat("dimensions must be positive or -1 (any size), got ", dim));
        shape_valid = false;
        break;
      }
    }
    if (shape_valid && inputs != nullptr && spec.datatype != core::DataType::kBytes &&
        !ItemBytesWithin(spec, inputs->max_item_bytes)) {
      element.Error("shape", absl::StrCat("one item of shape [", absl::StrJoin(spec.shape, ","), "] takes more than ",
                                          inputs->max_item_bytes,
                                          " bytes, the daemon's server.max_message_bytes: no request could carry it"));
    }
    if (inputs != nullptr) {
      inputs->pad_elements->emplace_back();
      if (shape_valid) ReadPadValue(element, spec, *inputs, &inputs->pad_elements->back());
    }
    parent.Merge(element.Finish());
    tensors->push_back(std::move(spec));
  }
  if (tensors->empty() && parent.Has(key)) parent.Error(key, "must list at least one tensor");
}

void ReadBatching(core::ConfigReader& parent, const ModelConfigLimits& limits, ModelConfig* config) {
  scheduler::BatchingConfig& batching = config->batching;
  batching.max_batch_size = std::max<int64_t>(config->max_batch_size, 1);
  batching.max_queue_size = static_cast<size_t>(limits.max_queue_size);
  if (!parent.Has("batching")) return;
  core::ConfigReader reader = parent.Child("batching");
  std::string mode = "slo";
  reader.Choice("mode", &mode, {"slo", "fixed_delay", "none"});
  batching.mode = mode == "fixed_delay" ? scheduler::BatchingMode::kFixedDelay
                  : mode == "none"      ? scheduler::BatchingMode::kNone
                                        : scheduler::BatchingMode::kSlo;
  if (reader.Has("max_batch_size")) {
    int64_t max_batch_size = batching.max_batch_size;
    reader.Int("max_batch_size", &max_batch_size, 1, limits.max_batch_size);
    if (max_batch_size > std::max<int64_t>(config->max_batch_size, 1)) {
      reader.Error("max_batch_size", absl::StrCat(max_batch_size, " is above the model's max_batch_size (",
                                                  config->max_batch_size, ")"));
    } else {
      batching.max_batch_size = max_batch_size;
    }
  }
  std::vector<int64_t> preferred;
  reader.IntList("preferred_batch_sizes", &preferred);
  for (int64_t size : preferred) {
    if (size < 1 || size > batching.max_batch_size) {
      reader.Error("preferred_batch_sizes", absl::StrCat("each size must be between 1 and batching.max_batch_size (",
                                                         batching.max_batch_size, "), got ", size));
      break;
    }
  }
  batching.preferred_batch_sizes = preferred;
  double latency_target_ms = 0;
  reader.Double("latency_target_ms", &latency_target_ms, 0, 3600.0 * 1000);
  batching.latency_target = std::chrono::microseconds(static_cast<int64_t>(latency_target_ms * 1000));
  int64_t max_queue_delay_us = 0;
  reader.Int("max_queue_delay_us", &max_queue_delay_us, 0, int64_t{60} * 1000 * 1000);
  batching.max_queue_delay = std::chrono::microseconds(max_queue_delay_us);
  int64_t max_queue_size = limits.max_queue_size;
  reader.Int("max_queue_size", &max_queue_size, 1, limits.max_queue_size);
  batching.max_queue_size = static_cast<size_t>(max_queue_size);
  reader.Int("priority_levels", &batching.priority_levels, 1, 255);
  batching.default_priority = (batching.priority_levels + 1) / 2;
  if (reader.Has("default_priority")) {
    reader.Int("default_priority", &batching.default_priority, 1, 255);
    if (batching.default_priority > batching.priority_levels) {
      reader.Error("default_priority", absl::StrCat(batching.default_priority, " is above priority_levels (",
                                                    batching.priority_levels, "); 1 is the highest level"));
    }
  }
  int64_t default_timeout_us = 0;
  reader.Int("default_timeout_us", &default_timeout_us, 0, int64_t{3600} * 1000 * 1000);
  batching.default_timeout = std::chrono::microseconds(default_timeout_us);
  std::string timeout_action = "reject";
  reader.Choice("timeout_action", &timeout_action, {"reject", "delay"});
  batching.timeout_action =
      timeout_action == "delay" ? scheduler::TimeoutAction::kDelay : scheduler::TimeoutAction::kReject;
  parent.Merge(reader.Finish());
}

}  // namespace

absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& file, const std::string& model_name,
                                            const ModelConfigLimits& limits) {
  YAML::Node root;
  if (absl::Status status = core::LoadYamlFile(file, &root); !status.ok()) return status;
  core::ConfigReader reader(root, file, "");
  ModelConfig config;
  config.name = model_name;
  std::string declared_name = model_name;
  reader.String("name", &declared_name);
  if (declared_name != model_name) {
    reader.Error("name", absl::StrCat("'", declared_name, "' differs from the model's folder name '",
                                      model_name, "'"));
  }
  if (!reader.Has("platform")) reader.Error("platform", "required: torchscript");
  reader.Choice("platform", &config.platform, {"torchscript"});
  reader.Int("max_batch_size", &config.max_batch_size, 0, limits.max_batch_size);
  std::vector<std::string> pad_elements;
  const InputOptions input_options{limits.max_message_bytes, config.max_batch_size, &pad_elements};
  ReadTensors(reader, "inputs", &config.inputs, &input_options);
  ReadTensors(reader, "outputs", &config.outputs);
  const auto padded = std::find_if(pad_elements.begin(), pad_elements.end(),
                                   [](const std::string& element) { return !element.empty(); });
  if (padded != pad_elements.end()) {
    for (size_t i = 0; i < config.outputs.size(); ++i) {
      const core::Shape& shape = config.outputs[i].shape;
      if (std::find(shape.begin(), shape.end(), -1) != shape.end()) {
        reader.Error(absl::StrCat("outputs[", i, "].shape"),
                     absl::StrCat("a -1 dimension cannot be cut back to each request's own size after padding (inputs[",
                                  padded - pad_elements.begin(),
                                  "].pad_value): with padding, outputs need fixed "
                                  "shapes"));
      }
    }
  }
  std::string optimization = "auto";
  reader.Choice("optimization", &optimization, {"auto", "optimize", "none"});
  config.optimization = optimization == "optimize" ? Optimization::kOptimize
                        : optimization == "none"   ? Optimization::kNone
                                                   : Optimization::kAuto;
  if (reader.Has("instance_groups")) {
    config.instance_groups.clear();
    for (core::ConfigReader& element : reader.Sequence("instance_groups")) {
      InstanceGroup group;
      std::string kind = "AUTO";
      element.Choice("kind", &kind, {"AUTO", "CPU", "CUDA", "NPU"});
      group.kind = hal::KindFromName(kind);
      element.Int("count", &group.count, 1, 64);
      element.Int("threads", &group.threads, 0, 1024);
      std::vector<int64_t> devices;
      element.IntList("devices", &devices);
      for (int64_t index : devices) {
        if (index < 0 || index > 1023) {
          element.Error("devices", absl::StrCat("device indices are 0 or more, got ", index));
          break;
        }
        group.devices.push_back(static_cast<int>(index));
      }
      if (!devices.empty() && (!group.kind || *group.kind == hal::DeviceKind::kCpu)) {
        element.Error("devices", absl::StrCat("applies to CUDA and NPU groups only, not to kind ", kind));
      }
      reader.Merge(element.Finish());
      config.instance_groups.push_back(group);
    }
    if (config.instance_groups.empty()) reader.Error("instance_groups", "must list at least one group");
  }
  if (reader.Has("placement")) {
    std::vector<std::string> placement;
    reader.StringList("placement", &placement);
    config.placement.clear();
    config.placement_configured = true;
    for (const std::string& name : placement) {
      std::optional<hal::DeviceKind> kind = hal::KindFromName(name);
      if (!kind) {
        reader.Error("placement", absl::StrCat("unknown device kind '", name, "'; expected cuda, npu or cpu"));
      } else if (std::find(config.placement.begin(), config.placement.end(), *kind) != config.placement.end()) {
        reader.Error("placement", absl::StrCat("'", name, "' is listed twice"));
      } else {
        config.placement.push_back(*kind);
      }
    }
    if (placement.empty()) reader.Error("placement", "must list at least one device kind, such as [cuda, cpu]");
  }
  std::string precision = "fp32";
  reader.Choice("precision", &precision, {"fp32", "fp16", "bf16"});
  config.precision = hal::PrecisionFromName(precision).value_or(hal::Precision::kFp32);
  ReadBatching(reader, limits, &config);
  if (padded != pad_elements.end()) config.batching.pad_elements = std::move(pad_elements);
  if (absl::Status status = reader.Finish(); !status.ok()) return status;
  return config;
}

core::Shape ClientShape(const ModelConfig& config, const core::TensorSpec& spec) {
  core::Shape shape;
  if (config.max_batch_size > 0) shape.push_back(-1);
  shape.insert(shape.end(), spec.shape.begin(), spec.shape.end());
  return shape;
}

absl::string_view OptimizationName(Optimization optimization) {
  switch (optimization) {
    case Optimization::kOptimize: return "optimize";
    case Optimization::kNone: return "none";
    case Optimization::kAuto: break;
  }
  return "auto";
}

}  // namespace edgeserve::repository
