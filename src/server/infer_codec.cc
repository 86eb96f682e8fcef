#include "edgeserve/server/infer_codec.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"

namespace edgeserve::server {
namespace {

using inference::InferTensorContents;

// Converts typed protobuf values into the tensor's native bytes, checking
// that each value fits the narrower element type.
template <typename Element, typename Values>
absl::Status ConvertValues(const Values& values, absl::string_view input, absl::string_view field, std::string* out) {
  out->resize(static_cast<size_t>(values.size()) * sizeof(Element));
  char* cursor = out->data();
  for (const auto value : values) {
    if constexpr (std::is_integral_v<Element> && !std::is_same_v<Element, bool>) {
      if (value < std::numeric_limits<Element>::min() || value > std::numeric_limits<Element>::max()) {
        return absl::InvalidArgumentError(absl::StrCat("input '", input, "': value ", value, " in contents.", field,
                                                       " does not fit the input's datatype"));
      }
    }
    const Element element = static_cast<Element>(value);
    std::memcpy(cursor, &element, sizeof(Element));
    cursor += sizeof(Element);
  }
  return absl::OkStatus();
}

// The typed contents field that carries `type`; empty for FP16, which has none.
absl::string_view ContentsFieldOf(core::DataType type) {
  switch (type) {
    case core::DataType::kBool: return "bool_contents";
    case core::DataType::kUint8: return "uint_contents";
    case core::DataType::kInt8:
    case core::DataType::kInt16:
    case core::DataType::kInt32: return "int_contents";
    case core::DataType::kInt64: return "int64_contents";
    case core::DataType::kFp32: return "fp32_contents";
    case core::DataType::kFp64: return "fp64_contents";
    case core::DataType::kBytes: return "bytes_contents";
    case core::DataType::kFp16: break;
  }
  return "";
}

// The typed field that carries `type`, its length, and the conversion.
absl::Status ConvertContents(const InferTensorContents& contents, core::DataType type, absl::string_view input,
                             int64_t expected_count, std::string* out) {
  auto check_count = [&](int size, absl::string_view field) -> absl::Status {
    if (size != expected_count) {
      return absl::InvalidArgumentError(absl::StrCat("input '", input, "': its shape needs ", expected_count,
                                                     " values in contents.", field, ", got ", size));
    }
    return absl::OkStatus();
  };
  // Values in any other field would be dropped without a word.
  const std::pair<absl::string_view, int> fields[] = {
      {"bool_contents", contents.bool_contents_size()},   {"int_contents", contents.int_contents_size()},
      {"int64_contents", contents.int64_contents_size()}, {"uint_contents", contents.uint_contents_size()},
      {"uint64_contents", contents.uint64_contents_size()}, {"fp32_contents", contents.fp32_contents_size()},
      {"fp64_contents", contents.fp64_contents_size()},   {"bytes_contents", contents.bytes_contents_size()}};
  const absl::string_view carrier = ContentsFieldOf(type);
  for (const auto& [field, size] : fields) {
    if (size > 0 && !carrier.empty() && field != carrier) {
      return absl::InvalidArgumentError(absl::StrCat("input '", input, "': contents.", field, " has ", size,
                                                     " values, but ", core::DataTypeName(type),
                                                     " values go in contents.", carrier));
    }
  }
  absl::Status status;
  switch (type) {
    case core::DataType::kBool:
      if (status = check_count(contents.bool_contents_size(), "bool_contents"); !status.ok()) return status;
      return ConvertValues<bool>(contents.bool_contents(), input, "bool_contents", out);
    case core::DataType::kUint8:
      if (status = check_count(contents.uint_contents_size(), "uint_contents"); !status.ok()) return status;
      return ConvertValues<uint8_t>(contents.uint_contents(), input, "uint_contents", out);
    case core::DataType::kInt8:
      if (status = check_count(contents.int_contents_size(), "int_contents"); !status.ok()) return status;
      return ConvertValues<int8_t>(contents.int_contents(), input, "int_contents", out);
    case core::DataType::kInt16:
      if (status = check_count(contents.int_contents_size(), "int_contents"); !status.ok()) return status;
      return ConvertValues<int16_t>(contents.int_contents(), input, "int_contents", out);
    case core::DataType::kInt32:
      if (status = check_count(contents.int_contents_size(), "int_contents"); !status.ok()) return status;
      return ConvertValues<int32_t>(contents.int_contents(), input, "int_contents", out);
    case core::DataType::kInt64:
      if (status = check_count(contents.int64_contents_size(), "int64_contents"); !status.ok()) return status;
      return ConvertValues<int64_t>(contents.int64_contents(), input, "int64_contents", out);
    case core::DataType::kFp32:
      if (status = check_count(contents.fp32_contents_size(), "fp32_contents"); !status.ok()) return status;
      return ConvertValues<float>(contents.fp32_contents(), input, "fp32_contents", out);
    case core::DataType::kFp64:
      if (status = check_count(contents.fp64_contents_size(), "fp64_contents"); !status.ok()) return status;
      return ConvertValues<double>(contents.fp64_contents(), input, "fp64_contents", out);
    case core::DataType::kFp16:
      return absl::InvalidArgumentError(
          absl::StrCat("input '", input, "': FP16 has no typed contents field; send it in raw_input_contents"));
    case core::DataType::kBytes:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("input '", input, "': BYTES tensors are not supported by the torchscript platform"));
}

// The protocol's `priority` and `timeout` parameters, read as Triton reads
// them: integers in int64_param or uint64_param (Triton's clients send the
// priority as uint64), 0 meaning the model's default.
absl::Status DecodeSchedulingParameters(const inference::ModelInferRequest& message, core::InferenceRequest* request) {
  // Far enough for any wait and near enough that a deadline stays representable.
  constexpr int64_t kLongestTimeoutUs = int64_t{366} * 24 * 3600 * 1000 * 1000;
  request->priority = 0;
  request->timeout.reset();
  for (const char* name : {"priority", "timeout"}) {
    auto found = message.parameters().find(name);
    if (found == message.parameters().end()) continue;
    const inference::InferParameter& parameter = found->second;
    uint64_t value = 0;
    if (parameter.parameter_choice_case() == inference::InferParameter::kInt64Param) {
      if (parameter.int64_param() < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("parameter '", name, "': must be 0 or more, got ", parameter.int64_param()));
      }
      value = static_cast<uint64_t>(parameter.int64_param());
    } else if (parameter.parameter_choice_case() == inference::InferParameter::kUint64Param) {
      value = parameter.uint64_param();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter '", name, "': expected an integer in int64_param or uint64_param"));
    }
    if (std::string_view(name) == "priority") {
      request->priority = value;
    } else if (value > 0) {
      request->timeout = std::chrono::microseconds(std::min(value, static_cast<uint64_t>(kLongestTimeoutUs)));
    }
  }
  return absl::OkStatus();
}

bool IsSet(const inference::InferParameter& parameter) {
  switch (parameter.parameter_choice_case()) {
    case inference::InferParameter::kBoolParam:
      return parameter.bool_param();
    case inference::InferParameter::kInt64Param:
      return parameter.int64_param() != 0;
    case inference::InferParameter::kUint64Param:
      return parameter.uint64_param() != 0;
    case inference::InferParameter::kStringParam:
      return !parameter.string_param().empty();
    case inference::InferParameter::kDoubleParam:
      return parameter.double_param() != 0;
    default:
      return false;
  }
}

absl::Status RefuseSharedMemory(absl::string_view tensor_kind, const std::string& tensor_name,
                                const google::protobuf::Map<std::string, inference::InferParameter>& parameters,
                                absl::string_view instead) {
  constexpr const char* kRegion = "shared_memory_region";
  if (!parameters.contains(kRegion)) return absl::OkStatus();
  return absl::UnimplementedError(absl::StrCat(tensor_kind, " '", tensor_name, "': parameter '", kRegion,
                                               "': shared memory is not supported; ", instead));
}

// Triton's parameters that change what a request means. Ignored, they would
// get an answer to another question (raw scores for a top-k request, a
// stateless run for a sequence, "no data" for an input in shared memory), so
// they are refused by name; parameters nobody defines are still ignored.
absl::Status RefuseUnsupportedParameters(const inference::ModelInferRequest& message) {
  for (const char* name : {"sequence_id", "sequence_start", "sequence_end"}) {
    auto found = message.parameters().find(name);
    if (found != message.parameters().end() && IsSet(found->second)) {
      return absl::UnimplementedError(absl::StrCat(
          "parameter '", name, "': sequence batching is not supported; edgeserve runs every request on its own"));
    }
  }
  for (const auto& input : message.inputs()) {
    if (absl::Status refused = RefuseSharedMemory("input", input.name(), input.parameters(),
                                                  "send the data in raw_input_contents or the input's contents");
        !refused.ok()) {
      return refused;
    }
  }
  for (const auto& output : message.outputs()) {
    if (absl::Status refused = RefuseSharedMemory("output", output.name(), output.parameters(),
                                                  "the output comes back in raw_output_contents");
        !refused.ok()) {
      return refused;
    }
    auto classification = output.parameters().find("classification");
    if (classification != output.parameters().end() && IsSet(classification->second)) {
      return absl::UnimplementedError(absl::StrCat("output '", output.name(),
                                                   "': parameter 'classification' (top-k labels) is not supported; "
                                                   "request the output without it and take the top k of its scores"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeInferRequest(const inference::ModelInferRequest& message, core::InferenceRequest* request) {
  request->id = message.id();
  if (absl::Status refused = RefuseUnsupportedParameters(message); !refused.ok()) return refused;
  const bool raw = message.raw_input_contents_size() > 0;
  if (raw && message.raw_input_contents_size() != message.inputs_size()) {
    return absl::InvalidArgumentError(absl::StrCat("raw_input_contents has ", message.raw_input_contents_size(),
                                                   " entries for ", message.inputs_size(),
                                                   " inputs; give one per input, in the order of inputs"));
  }
  request->inputs.clear();
  request->inputs.reserve(static_cast<size_t>(message.inputs_size()));
  request->converted_inputs.clear();
  request->converted_inputs.reserve(raw ? 0 : static_cast<size_t>(message.inputs_size()));
  for (int i = 0; i < message.inputs_size(); ++i) {
    const auto& input = message.inputs(i);
    core::TensorView& view = request->inputs.emplace_back();
    view.name = input.name();
    if (input.name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("inputs[", i, "] has no name"));
    }
    auto datatype = core::DataTypeFromName(input.datatype());
    if (!datatype) {
      return absl::InvalidArgumentError(absl::StrCat("input '", input.name(), "': unknown datatype '",
                                                     input.datatype(), "'; expected one of ",
                                                     core::DataTypeNames()));
    }
    view.datatype = *datatype;
    view.shape.assign(input.shape().begin(), input.shape().end());
    const int64_t elements = core::ElementCount(view.shape);
    if (elements < 0) {
      return absl::InvalidArgumentError(absl::StrCat("input '", input.name(), "': shape ",
                                                     core::ShapeToString(view.shape),
                                                     " has a negative dimension or too many elements"));
    }
    if (raw) {
      if (input.has_contents()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input '", input.name(), "' sets contents while the request uses raw_input_contents; use one or the other"));
      }
      view.data = message.raw_input_contents(i);
    } else if (input.has_contents()) {
      std::string& bytes = request->converted_inputs.emplace_back();
      if (absl::Status status = ConvertContents(input.contents(), view.datatype, input.name(), elements, &bytes);
          !status.ok()) {
        return status;
      }
      view.data = bytes;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", input.name(), "' has no data: set raw_input_contents or the input's contents"));
    }
  }
  request->requested_outputs.clear();
  for (const auto& output : message.outputs()) request->requested_outputs.push_back(output.name());
  return DecodeSchedulingParameters(message, request);
}

void EncodeInferOutputs(const std::vector<core::TensorSpec>& specs, const core::InferenceRequest& request,
                        const core::InferenceOutputs& outputs, inference::ModelInferResponse* response) {
  for (size_t index : request.output_indices) {
    core::Tensor& tensor = (*outputs.batch)[index];
    auto* output = response->add_outputs();
    output->set_name(specs[index].name);
    output->set_datatype(std::string(core::DataTypeName(tensor.datatype)));
    for (int64_t dim : core::ShareShape(outputs, tensor)) output->add_shape(dim);
    if (outputs.whole) {
      *response->add_raw_output_contents() = std::move(tensor.data);  // ran alone: its bytes are its own
    } else {
      const absl::string_view share = core::ShareBytes(outputs, tensor);
      response->add_raw_output_contents()->assign(share.data(), share.size());
    }
  }
}

}  // namespace edgeserve::server
