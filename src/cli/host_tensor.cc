#include "host_tensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace edgeserve::cli {
namespace {

// Element bytes are reinterpreted in place, which is only right on the
// little-endian hosts that .npy files and the protocol's raw contents assume.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "edgeserve-cli needs a little-endian host");

template <typename T>
T Load(const std::string& data, int64_t index) {
  T value;
  std::memcpy(&value, data.data() + index * sizeof(T), sizeof(T));
  return value;
}

}  // namespace

absl::StatusOr<core::DataType> ParseDatatype(absl::string_view name) {
  const std::optional<core::DataType> datatype = core::DataTypeFromName(name);
  if (!datatype.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown or unsupported datatype '", name,
                     "' (supported: BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, FP32, FP64)"));
  }
  if (absl::Status supported = CheckSupported(*datatype); !supported.ok()) return supported;
  return *datatype;
}

absl::Status CheckSupported(core::DataType datatype) {
  if (datatype == core::DataType::kBytes) {
    return absl::UnimplementedError(
        "datatype BYTES is not supported by edgeserve-cli: it has no fixed element size, so it "
        "cannot come from .npy files or random data nor be printed");
  }
  return absl::OkStatus();
}

bool IsFloating(core::DataType datatype) {
  return datatype == core::DataType::kFp16 || datatype == core::DataType::kFp32 ||
         datatype == core::DataType::kFp64;
}

uint16_t FloatToHalf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const uint32_t exponent = (bits >> 23) & 0xffu;
  uint32_t mantissa = bits & 0x7fffffu;
  if (exponent == 0xffu) {
    return static_cast<uint16_t>(sign | 0x7c00u | (mantissa != 0 ? 0x200u : 0u));
  }
  const int32_t half_exponent = static_cast<int32_t>(exponent) - 127 + 15;
  if (half_exponent >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);
  if (half_exponent <= 0) {
    if (half_exponent < -10) return static_cast<uint16_t>(sign);
    // A half subnormal counts units of 2^-24; shift the full 24-bit
    // significand down to that scale and round what falls off.
    mantissa |= 0x800000u;
    const uint32_t shift = static_cast<uint32_t>(14 - half_exponent);
    uint32_t half_mantissa = mantissa >> shift;
    const uint32_t remainder = mantissa & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1u);
    if (remainder > halfway || (remainder == halfway && (half_mantissa & 1u) != 0)) {
      ++half_mantissa;
    }
    return static_cast<uint16_t>(sign | half_mantissa);
  }
  uint32_t half = sign | (static_cast<uint32_t>(half_exponent) << 10) | (mantissa >> 13);
  const uint32_t remainder = mantissa & 0x1fffu;
  // A carry out of the mantissa correctly bumps the exponent, up to infinity.
  if (remainder > 0x1000u || (remainder == 0x1000u && (half & 1u) != 0)) ++half;
  return static_cast<uint16_t>(half);
}

float HalfToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign != 0 ? -magnitude : magnitude;
  }
  uint32_t result;
  if (exponent == 0x1fu) {
    result = sign | 0x7f800000u | (mantissa << 13);
  } else {
    result = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  }
  float value;
  std::memcpy(&value, &result, sizeof(value));
  return value;
}

absl::StatusOr<int64_t> CheckedElementCount(const core::Shape& shape) {
  const int64_t count = core::ElementCount(shape);
  if (count >= 0) return count;
  const bool negative =
      std::any_of(shape.begin(), shape.end(), [](int64_t dim) { return dim < 0; });
  return absl::InvalidArgumentError(
      absl::StrCat("shape ", FormatShape(shape),
                   negative ? " has a negative dimension" : " has too many elements"));
}

std::string FormatShape(const core::Shape& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

double ElementAsDouble(const core::Tensor& tensor, int64_t index) {
  switch (tensor.datatype) {
    case core::DataType::kBool:
      return Load<uint8_t>(tensor.data, index) != 0 ? 1.0 : 0.0;
    case core::DataType::kUint8:
      return Load<uint8_t>(tensor.data, index);
    case core::DataType::kInt8:
      return Load<int8_t>(tensor.data, index);
    case core::DataType::kInt16:
      return Load<int16_t>(tensor.data, index);
    case core::DataType::kInt32:
      return Load<int32_t>(tensor.data, index);
    case core::DataType::kInt64:
      return static_cast<double>(Load<int64_t>(tensor.data, index));
    case core::DataType::kFp16:
      return HalfToFloat(Load<uint16_t>(tensor.data, index));
    case core::DataType::kFp32:
      return Load<float>(tensor.data, index);
    case core::DataType::kFp64:
      return Load<double>(tensor.data, index);
    case core::DataType::kBytes:
      break;
  }
  return 0.0;
}

std::string ElementToString(const core::Tensor& tensor, int64_t index) {
  switch (tensor.datatype) {
    case core::DataType::kBool:
      return Load<uint8_t>(tensor.data, index) != 0 ? "true" : "false";
    case core::DataType::kUint8:
      return absl::StrCat(static_cast<int>(Load<uint8_t>(tensor.data, index)));
    case core::DataType::kInt8:
      return absl::StrCat(static_cast<int>(Load<int8_t>(tensor.data, index)));
    case core::DataType::kInt16:
      return absl::StrCat(Load<int16_t>(tensor.data, index));
    case core::DataType::kInt32:
      return absl::StrCat(Load<int32_t>(tensor.data, index));
    case core::DataType::kInt64:
      return absl::StrCat(Load<int64_t>(tensor.data, index));
    case core::DataType::kFp16:
    case core::DataType::kFp32:
    case core::DataType::kFp64:
      return absl::StrFormat("%g", ElementAsDouble(tensor, index));
    case core::DataType::kBytes:
      break;
  }
  return "";
}

}  // namespace edgeserve::cli
