#include "edgeserve/server/request_validation.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace edgeserve::server {
namespace {

std::string TensorNames(const std::vector<core::TensorSpec>& specs) {
  return absl::StrJoin(specs, ", ", [](std::string* out, const core::TensorSpec& spec) { out->append(spec.name); });
}

absl::Status CheckShape(const repository::ModelConfig& config, const core::TensorSpec& spec,
                        const core::TensorView& input) {
  const core::Shape expected = repository::ClientShape(config, spec);
  bool matches = input.shape.size() == expected.size();
  for (size_t i = 0; matches && i < expected.size(); ++i) {
    matches = input.shape[i] >= 0 && (expected[i] == -1 || expected[i] == input.shape[i]);
  }
  if (!matches) {
    return absl::InvalidArgumentError(absl::StrCat("input '", spec.name, "': expected shape ",
                                                   core::ShapeToString(expected), ", got ",
                                                   core::ShapeToString(input.shape)));
  }
  if (config.max_batch_size > 0 && (input.shape[0] < 1 || input.shape[0] > config.max_batch_size)) {
    return absl::InvalidArgumentError(absl::StrCat("input '", spec.name, "': batch size ", input.shape[0],
                                                   " is outside 1 to ", config.max_batch_size,
                                                   " (the model's max_batch_size)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRequest(const repository::ModelConfig& config, core::InferenceRequest* request) {
  for (const core::TensorView& input : request->inputs) {
    const bool known = std::any_of(config.inputs.begin(), config.inputs.end(),
                                   [&](const core::TensorSpec& spec) { return spec.name == input.name; });
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected input '", input.name, "'; model '", config.name,
                                                     "' takes: ", TensorNames(config.inputs)));
    }
  }
  std::vector<core::TensorView> ordered;
  ordered.reserve(config.inputs.size());
  for (const core::TensorSpec& spec : config.inputs) {
    const core::TensorView* found = nullptr;
    for (const core::TensorView& input : request->inputs) {
      if (input.name != spec.name) continue;
      if (found != nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("input '", spec.name, "' is given more than once"));
      }
      found = &input;
    }
    if (found == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("missing input '", spec.name, "'; model '", config.name,
                                                     "' takes: ", TensorNames(config.inputs)));
    }
    if (found->datatype != spec.datatype) {
      return absl::InvalidArgumentError(absl::StrCat("input '", spec.name, "': expected datatype ",
                                                     core::DataTypeName(spec.datatype), ", got ",
                                                     core::DataTypeName(found->datatype)));
    }
    if (absl::Status status = CheckShape(config, spec, *found); !status.ok()) return status;
    const int64_t elements = core::ElementCount(found->shape);
    const uint64_t element_size = core::DataTypeSize(spec.datatype);  // never 0: BYTES is refused at load
    const bool too_large = elements < 0 || element_size == 0 ||
                           static_cast<uint64_t>(elements) > UINT64_MAX / element_size;
    const uint64_t needed = too_large ? 0 : static_cast<uint64_t>(elements) * element_size;
    if (too_large || needed != found->data.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", spec.name, "': shape ", core::ShapeToString(found->shape), " of ",
          core::DataTypeName(spec.datatype), " needs ",
          too_large ? std::string("more bytes than fit in memory") : absl::StrCat(needed, " bytes"), ", got ",
          found->data.size()));
    }
    ordered.push_back(*found);
  }
  if (config.max_batch_size > 0) {
    request->batch_size = ordered.front().shape[0];
    for (const core::TensorView& input : ordered) {
      if (input.shape[0] != request->batch_size) {
        return absl::InvalidArgumentError(absl::StrCat("input '", input.name, "': batch size ", input.shape[0],
                                                       " differs from input '", ordered.front().name, "' (",
                                                       request->batch_size, ")"));
      }
    }
  } else {
    request->batch_size = 1;
  }
  request->inputs = std::move(ordered);

  // A model with one level ignores `priority`, as Triton does without priority levels.
  const int levels = config.batching.priority_levels;
  if (levels > 1 && request->priority > static_cast<uint64_t>(levels)) {
    return absl::InvalidArgumentError(absl::StrCat("parameter 'priority': ", request->priority, " is outside 0 to ",
                                                   levels, "; model '", config.name, "' has ", levels,
                                                   " priority levels (1 is the highest, 0 the default)"));
  }

  request->output_indices.clear();
  if (request->requested_outputs.empty()) {
    for (size_t i = 0; i < config.outputs.size(); ++i) request->output_indices.push_back(i);
    return absl::OkStatus();
  }
  for (absl::string_view name : request->requested_outputs) {
    auto found = std::find_if(config.outputs.begin(), config.outputs.end(),
                              [&](const core::TensorSpec& spec) { return spec.name == name; });
    if (found == config.outputs.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown output '", name, "' requested; model '", config.name,
                                                     "' gives: ", TensorNames(config.outputs)));
    }
    const size_t index = static_cast<size_t>(found - config.outputs.begin());
    if (std::find(request->output_indices.begin(), request->output_indices.end(), index) !=
        request->output_indices.end()) {
      return absl::InvalidArgumentError(absl::StrCat("output '", name, "' is requested more than once"));
    }
    request->output_indices.push_back(index);
  }
  return absl::OkStatus();
}

}  // namespace edgeserve::server
