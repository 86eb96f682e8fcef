#include "edgeserve/core/datatype.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace edgeserve::core {
namespace {

struct DataTypeInfo {
  DataType type;
  absl::string_view name;
  size_t size;
};

constexpr std::array<DataTypeInfo, 10> kDataTypes = {{
    {DataType::kBool, "BOOL", 1},
    {DataType::kUint8, "UINT8", 1},
    {DataType::kInt8, "INT8", 1},
    {DataType::kInt16, "INT16", 2},
    {DataType::kInt32, "INT32", 4},
    {DataType::kInt64, "INT64", 8},
    {DataType::kFp16, "FP16", 2},
    {DataType::kFp32, "FP32", 4},
    {DataType::kFp64, "FP64", 8},
    {DataType::kBytes, "BYTES", 0},
}};

const DataTypeInfo& Info(DataType type) { return kDataTypes[static_cast<size_t>(type)]; }

}  // namespace

std::optional<DataType> DataTypeFromName(absl::string_view name) {
  for (const auto& info : kDataTypes) {
    if (info.name == name) return info.type;
  }
  return std::nullopt;
}

absl::string_view DataTypeName(DataType type) { return Info(type).name; }

size_t DataTypeSize(DataType type) { return Info(type).size; }

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

namespace {

template <typename T>
std::string BytesOf(T value) {
  std::string bytes(sizeof(T), '\0');
  std::memcpy(bytes.data(), &value, sizeof(T));
  return bytes;
}

template <typename Integer>
absl::StatusOr<std::string> IntegerBytes(DataType type, double value) {
  if (!(value >= static_cast<double>(std::numeric_limits<Integer>::min()) &&
        value <= static_cast<double>(std::numeric_limits<Integer>::max()) && std::trunc(value) == value)) {
    return absl::InvalidArgumentError(absl::StrCat(value, " is not a ", DataTypeName(type), " value"));
  }
  return BytesOf(static_cast<Integer>(value));
}

}  // namespace

absl::StatusOr<std::string> ScalarBytes(DataType type, double value) {
  switch (type) {
    case DataType::kBool:
      if (value != 0 && value != 1) {
        return absl::InvalidArgumentError(absl::StrCat(value, " is not a BOOL value (0 or 1)"));
      }
      return BytesOf(static_cast<uint8_t>(value));
    case DataType::kUint8: return IntegerBytes<uint8_t>(type, value);
    case DataType::kInt8: return IntegerBytes<int8_t>(type, value);
    case DataType::kInt16: return IntegerBytes<int16_t>(type, value);
    case DataType::kInt32: return IntegerBytes<int32_t>(type, value);
    case DataType::kInt64:
      // 2^63 is the first double above the range; int64's max itself is not a double.
      if (value >= 9223372036854775808.0) {
        return absl::InvalidArgumentError(absl::StrCat(value, " is not an INT64 value"));
      }
      return IntegerBytes<int64_t>(type, value);
    case DataType::kFp16:
    case DataType::kFp32: {
      const float single = static_cast<float>(value);
      const bool overflows =
          std::isfinite(value) && (type == DataType::kFp16 ? std::fabs(single) > 65504.0f : !std::isfinite(single));
      if (overflows) {
        return absl::InvalidArgumentError(absl::StrCat(value, " is beyond the range of ", DataTypeName(type)));
      }
      return type == DataType::kFp16 ? BytesOf(FloatToHalf(single)) : BytesOf(single);
    }
    case DataType::kFp64: return BytesOf(value);
    case DataType::kBytes: break;
  }
  return absl::InvalidArgumentError("BYTES elements have no fixed size");
}

absl::string_view DataTypeNames() {
  return "BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES";
}

}  // namespace edgeserve::core
