#include "infer_request.h"

#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "edgeserve/core/tensor.h"

namespace edgeserve::bench {
namespace {

// SplitMix64: tiny, fast, and defined by its arithmetic alone, unlike the
// standard library's distributions, whose output differs between libraries.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1) with the 53 bits a double holds.
  double Signed() { return static_cast<double>(Next() >> 11) * 0x1.0p-52 - 1.0; }

 private:
  uint64_t state_;
};

// An IEEE half in [-1, 1): random sign and mantissa, exponent below the bias.
uint16_t RandomHalf(SplitMix64& rng) {
  uint64_t bits = rng.Next();
  uint16_t sign = static_cast<uint16_t>((bits & 1) << 15);
  uint16_t exponent = static_cast<uint16_t>(1 + (bits >> 1) % 14);  // 2^-14 .. 2^-1
  uint16_t mantissa = static_cast<uint16_t>((bits >> 8) & 0x3ff);
  return static_cast<uint16_t>(sign | (exponent << 10) | mantissa);
}

template <typename T>
void FillAs(std::string& bytes, SplitMix64& rng, T (*make)(SplitMix64&)) {
  const size_t count = bytes.size() / sizeof(T);
  for (size_t i = 0; i < count; ++i) {
    T value = make(rng);
    std::memcpy(bytes.data() + i * sizeof(T), &value, sizeof(T));
  }
}

template <typename T>
T SmallInteger(SplitMix64& rng) {
  return static_cast<T>(rng.Next() % 100);
}

absl::Status BytesUnsupported() {
  return absl::UnimplementedError("BYTES inputs have no fixed element size; edgeserve-bench cannot make them");
}

std::string ShapeText(const google::protobuf::RepeatedField<int64_t>& shape) {
  return core::ShapeToString(core::Shape(shape.begin(), shape.end()));
}

}  // namespace

absl::StatusOr<core::DataType> ParseDatatype(absl::string_view name) {
  const std::optional<core::DataType> datatype = core::DataTypeFromName(name);
  if (!datatype.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown datatype '", name, "'; expected one of BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, "
                     "FP32, FP64"));
  }
  if (*datatype == core::DataType::kBytes) return BytesUnsupported();
  return *datatype;
}

absl::Status FillDeterministic(core::DataType datatype, uint64_t seed, std::string& bytes) {
  SplitMix64 rng(seed);
  switch (datatype) {
    case core::DataType::kBool:
      FillAs<uint8_t>(bytes, rng, [](SplitMix64& r) { return static_cast<uint8_t>(r.Next() & 1); });
      return absl::OkStatus();
    case core::DataType::kUint8:
      FillAs<uint8_t>(bytes, rng, SmallInteger<uint8_t>);
      return absl::OkStatus();
    case core::DataType::kInt8:
      FillAs<int8_t>(bytes, rng, SmallInteger<int8_t>);
      return absl::OkStatus();
    case core::DataType::kInt16:
      FillAs<int16_t>(bytes, rng, SmallInteger<int16_t>);
      return absl::OkStatus();
    case core::DataType::kInt32:
      FillAs<int32_t>(bytes, rng, SmallInteger<int32_t>);
      return absl::OkStatus();
    case core::DataType::kInt64:
      FillAs<int64_t>(bytes, rng, SmallInteger<int64_t>);
      return absl::OkStatus();
    case core::DataType::kFp16:
      FillAs<uint16_t>(bytes, rng, RandomHalf);
      return absl::OkStatus();
    case core::DataType::kFp32:
      FillAs<float>(bytes, rng, [](SplitMix64& r) { return static_cast<float>(r.Signed()); });
      return absl::OkStatus();
    case core::DataType::kFp64:
      FillAs<double>(bytes, rng, [](SplitMix64& r) { return r.Signed(); });
      return absl::OkStatus();
    case core::DataType::kBytes:
      break;
  }
  return BytesUnsupported();
}

absl::StatusOr<PreparedRequest> BuildInferRequest(const inference::ModelMetadataResponse& metadata,
                                                  const std::string& model_name,
                                                  const std::string& model_version,
                                                  const InputChoices& choices) {
  if (metadata.inputs_size() == 0) {
    return absl::FailedPreconditionError(absl::StrCat("model '", model_name, "' declares no inputs"));
  }
  PreparedRequest prepared;
  inference::ModelInferRequest& request = prepared.request;
  request.set_model_name(model_name);
  request.set_model_version(model_version);
  for (int i = 0; i < metadata.inputs_size(); ++i) {
    const auto& declared = metadata.inputs(i);
    auto* input = request.add_inputs();
    input->set_name(declared.name());
    input->set_datatype(choices.datatype.empty() ? declared.datatype() : choices.datatype);

    if (i == 0 && choices.batch != 0 && (declared.shape_size() == 0 || declared.shape(0) >= 0)) {
      return absl::InvalidArgumentError(absl::StrCat("--batch given, but input '", declared.name(), "' of shape ",
                                                     ShapeText(declared.shape()),
                                                     " has no variable leading (batch) dimension"));
    }
    bool variable = false;
    for (int64_t dim : declared.shape()) variable = variable || dim < 0;
    if (variable && !choices.shape.empty()) {
      if (static_cast<int>(choices.shape.size()) != declared.shape_size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--shape has ", choices.shape.size(), " dimensions but input '", declared.name(), "' has shape ",
            ShapeText(declared.shape())));
      }
      for (int d = 0; d < declared.shape_size(); ++d) {
        if (declared.shape(d) >= 0 && declared.shape(d) != choices.shape[d]) {
          return absl::InvalidArgumentError(absl::StrCat("--shape disagrees with input '", declared.name(),
                                                         "' of shape ", ShapeText(declared.shape()),
                                                         " at dimension ", d));
        }
      }
      if (choices.batch != 0 && declared.shape(0) < 0 && choices.shape[0] != choices.batch) {
        return absl::InvalidArgumentError(absl::StrCat("--batch ", choices.batch,
                                                       " disagrees with the leading dimension of --shape"));
      }
      input->mutable_shape()->Add(choices.shape.begin(), choices.shape.end());
    } else {
      for (int d = 0; d < declared.shape_size(); ++d) {
        int64_t dim = declared.shape(d);
        if (dim < 0 && d == 0) {
          dim = choices.batch != 0 ? choices.batch : 1;
        } else if (dim < 0) {
          return absl::InvalidArgumentError(absl::StrCat("input '", declared.name(), "' has shape ",
                                                         ShapeText(declared.shape()),
                                                         "; give the full shape to send with --shape"));
        }
        input->add_shape(dim);
      }
    }
    if (i == 0 && declared.shape_size() > 0 && declared.shape(0) < 0) prepared.batch = input->shape(0);

    absl::StatusOr<core::DataType> datatype = ParseDatatype(input->datatype());
    if (!datatype.ok()) {
      return absl::Status(datatype.status().code(),
                          absl::StrCat("input '", declared.name(), "': ", datatype.status().message()));
    }
    const int64_t elements = core::ElementCount(core::Shape(input->shape().begin(), input->shape().end()));
    if (elements < 0) {
      return absl::InvalidArgumentError(absl::StrCat("input '", declared.name(), "': shape ", ShapeText(input->shape()),
                                                     " has a negative dimension or too many elements"));
    }
    std::string* raw = request.add_raw_input_contents();
    raw->resize(static_cast<size_t>(elements) * core::DataTypeSize(*datatype));
    absl::Status filled = FillDeterministic(*datatype, static_cast<uint64_t>(i), *raw);
    if (!filled.ok()) return filled;
  }
  return prepared;
}

void SetSchedulingParameters(const SchedulingParameters& parameters, inference::ModelInferRequest& request) {
  if (parameters.timeout_us) (*request.mutable_parameters())["timeout"].set_int64_param(*parameters.timeout_us);
  if (parameters.priority) (*request.mutable_parameters())["priority"].set_uint64_param(*parameters.priority);
}

}  // namespace edgeserve::bench
