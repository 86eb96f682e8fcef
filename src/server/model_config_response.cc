#include "edgeserve/server/model_config_response.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "edgeserve/hal/device.h"

namespace edgeserve::server {
namespace {

using scheduler::BatchingConfig;
using scheduler::BatchingMode;

void SetParameter(inference::ModelConfig* out, const std::string& key, std::string value) {
  (*out->mutable_parameters())[key].set_string_value(std::move(value));
}

void FillInstanceGroup(const repository::ModelConfig& config, size_t index,
                       inference::ModelInstanceGroup* out) {
  const repository::InstanceGroup& group = config.instance_groups[index];
  // Triton names an unnamed group <model>_<group number>.
  out->set_name(absl::StrCat(config.name, "_", index));
  out->set_count(group.count);
  if (!group.kind) {
    out->set_kind(inference::ModelInstanceGroup::KIND_AUTO);
    return;
  }
  switch (*group.kind) {
    case hal::DeviceKind::kCpu:
      out->set_kind(inference::ModelInstanceGroup::KIND_CPU);
      break;
    case hal::DeviceKind::kCuda:
      out->set_kind(inference::ModelInstanceGroup::KIND_GPU);
      for (int device : group.devices) out->add_gpus(device);
      break;
    case hal::DeviceKind::kNpu:
      out->set_kind(inference::ModelInstanceGroup::KIND_MODEL);
      out->set_host_policy("npu");
      break;
  }
}

// The timeout a request gets when it sets none: the configured default or,
// in mode slo, the latency target (request_queue.cc decides the same way).
uint64_t DefaultTimeoutUs(const BatchingConfig& batching) {
  if (batching.default_timeout.count() > 0) return static_cast<uint64_t>(batching.default_timeout.count());
  if (batching.mode == BatchingMode::kSlo) return static_cast<uint64_t>(batching.latency_target.count());
  return 0;
}

void FillDynamicBatching(const BatchingConfig& batching, inference::ModelDynamicBatching* out) {
  for (int64_t size : batching.preferred_batch_sizes) out->add_preferred_batch_size(static_cast<int32_t>(size));
  out->set_max_queue_delay_microseconds(static_cast<uint64_t>(batching.max_queue_delay.count()));
  out->set_priority_levels(static_cast<uint64_t>(batching.priority_levels));
  out->set_default_priority_level(static_cast<uint64_t>(batching.default_priority));
  inference::ModelQueuePolicy* policy = out->mutable_default_queue_policy();
  policy->set_timeout_action(batching.timeout_action == scheduler::TimeoutAction::kDelay
                                 ? inference::ModelQueuePolicy::DELAY
                                 : inference::ModelQueuePolicy::REJECT);
  policy->set_default_timeout_microseconds(DefaultTimeoutUs(batching));
  policy->set_allow_timeout_override(true);  // a request's `timeout` replaces the default
  policy->set_max_queue_size(static_cast<uint32_t>(batching.max_queue_size));
}

}  // namespace

inference::DataType ToTritonDataType(core::DataType datatype) {
  switch (datatype) {
    case core::DataType::kBool: return inference::TYPE_BOOL;
    case core::DataType::kUint8: return inference::TYPE_UINT8;
    case core::DataType::kInt8: return inference::TYPE_INT8;
    case core::DataType::kInt16: return inference::TYPE_INT16;
    case core::DataType::kInt32: return inference::TYPE_INT32;
    case core::DataType::kInt64: return inference::TYPE_INT64;
    case core::DataType::kFp16: return inference::TYPE_FP16;
    case core::DataType::kFp32: return inference::TYPE_FP32;
    case core::DataType::kFp64: return inference::TYPE_FP64;
    case core::DataType::kBytes: return inference::TYPE_STRING;
  }
  return inference::TYPE_INVALID;
}

void FillModelConfig(const repository::ModelConfig& config, inference::ModelConfig* out) {
  out->set_name(config.name);
  out->set_platform(config.platform);
  out->mutable_version_policy()->mutable_latest()->set_num_versions(1);  // the highest version is served
  out->set_max_batch_size(static_cast<int32_t>(config.max_batch_size));
  for (const core::TensorSpec& spec : config.inputs) {
    inference::ModelInput* input = out->add_input();
    input->set_name(spec.name);
    input->set_data_type(ToTritonDataType(spec.datatype));
    for (int64_t dim : spec.shape) input->add_dims(dim);
  }
  for (const core::TensorSpec& spec : config.outputs) {
    inference::ModelOutput* output = out->add_output();
    output->set_name(spec.name);
    output->set_data_type(ToTritonDataType(spec.datatype));
    for (int64_t dim : spec.shape) output->add_dims(dim);
  }
  for (size_t i = 0; i < config.instance_groups.size(); ++i) FillInstanceGroup(config, i, out->add_instance_group());
  out->set_default_model_filename("model.pt");
  const BatchingConfig& batching = config.batching;
  // Mode none runs one request per execution, as Triton's default scheduler
  // does; the other two batch dynamically.
  if (batching.mode != BatchingMode::kNone) FillDynamicBatching(batching, out->mutable_dynamic_batching());
  SetParameter(out, "batching.mode", std::string(scheduler::BatchingModeName(batching.mode)));
  SetParameter(out, "batching.max_batch_size", absl::StrCat(batching.max_batch_size));
  if (batching.latency_target.count() > 0) {
    SetParameter(out, "batching.latency_target_ms",
                 absl::StrCat(static_cast<double>(batching.latency_target.count()) / 1000));
  }
  std::vector<std::string> padded;
  for (size_t i = 0; i < batching.pad_elements.size() && i < config.inputs.size(); ++i) {
    if (!batching.pad_elements[i].empty()) padded.push_back(config.inputs[i].name);
  }
  if (!padded.empty()) SetParameter(out, "batching.padded_inputs", absl::StrJoin(padded, ","));
  SetParameter(out, "optimization", std::string(repository::OptimizationName(config.optimization)));
  SetParameter(out, "precision", std::string(hal::PrecisionName(config.precision)));
  std::vector<std::string> placement;
  for (hal::DeviceKind kind : config.placement) placement.push_back(absl::AsciiStrToLower(hal::KindName(kind)));
  SetParameter(out, "placement", absl::StrJoin(placement, ","));
}

}  // namespace edgeserve::server
