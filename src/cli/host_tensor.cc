#include "host_tensor.h"

#include <cmath>
#include <cstring>
#include <limits>

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

struct DatatypeInfo {
  Datatype datatype;
  absl::string_view name;
  size_t size;
};

// Indexed by Datatype: keep the order of the enum.
constexpr DatatypeInfo kDatatypes[] = {
    {Datatype::kBool, "BOOL", 1},   {Datatype::kUint8, "UINT8", 1}, {Datatype::kInt8, "INT8", 1},
    {Datatype::kInt16, "INT16", 2}, {Datatype::kInt32, "INT32", 4}, {Datatype::kInt64, "INT64", 8},
    {Datatype::kFp16, "FP16", 2},   {Datatype::kFp32, "FP32", 4},   {Datatype::kFp64, "FP64", 8},
};

const DatatypeInfo& Info(Datatype datatype) { return kDatatypes[static_cast<size_t>(datatype)]; }

template <typename T>
T Load(const std::string& data, int64_t index) {
  T value;
  std::memcpy(&value, data.data() + index * sizeof(T), sizeof(T));
  return value;
}

}  // namespace

absl::StatusOr<Datatype> ParseDatatype(absl::string_view name) {
  for (const DatatypeInfo& info : kDatatypes) {
    if (info.name == name) return info.datatype;
  }
  if (name == "BYTES") {
    return absl::UnimplementedError(
        "datatype BYTES is not supported by edgeserve-cli: it has no fixed element size, so it "
        "cannot come from .npy files or random data nor be printed");
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown or unsupported datatype '", name,
                                                 "' (supported: BOOL, UINT8, INT8, INT16, INT32, "
                                                 "INT64, FP16, FP32, FP64)"));
}

absl::string_view DatatypeName(Datatype datatype) { return Info(datatype).name; }

size_t ElementSize(Datatype datatype) { return Info(datatype).size; }

bool IsFloating(Datatype datatype) {
  return datatype == Datatype::kFp16 || datatype == Datatype::kFp32 || datatype == Datatype::kFp64;
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

absl::StatusOr<int64_t> ElementCount(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeToString(shape), " has a negative dimension"));
    }
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeToString(shape), " has too many elements"));
    }
    count *= dim;
  }
  return count;
}

std::string ShapeToString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

double ElementAsDouble(const Tensor& tensor, int64_t index) {
  switch (tensor.datatype) {
    case Datatype::kBool:
      return Load<uint8_t>(tensor.data, index) != 0 ? 1.0 : 0.0;
    case Datatype::kUint8:
      return Load<uint8_t>(tensor.data, index);
    case Datatype::kInt8:
      return Load<int8_t>(tensor.data, index);
    case Datatype::kInt16:
      return Load<int16_t>(tensor.data, index);
    case Datatype::kInt32:
      return Load<int32_t>(tensor.data, index);
    case Datatype::kInt64:
      return static_cast<double>(Load<int64_t>(tensor.data, index));
    case Datatype::kFp16:
      return HalfToFloat(Load<uint16_t>(tensor.data, index));
    case Datatype::kFp32:
      return Load<float>(tensor.data, index);
    case Datatype::kFp64:
      return Load<double>(tensor.data, index);
  }
  return 0.0;
}

std::string ElementToString(const Tensor& tensor, int64_t index) {
  switch (tensor.datatype) {
    case Datatype::kBool:
      return Load<uint8_t>(tensor.data, index) != 0 ? "true" : "false";
    case Datatype::kUint8:
      return absl::StrCat(static_cast<int>(Load<uint8_t>(tensor.data, index)));
    case Datatype::kInt8:
      return absl::StrCat(static_cast<int>(Load<int8_t>(tensor.data, index)));
    case Datatype::kInt16:
      return absl::StrCat(Load<int16_t>(tensor.data, index));
    case Datatype::kInt32:
      return absl::StrCat(Load<int32_t>(tensor.data, index));
    case Datatype::kInt64:
      return absl::StrCat(Load<int64_t>(tensor.data, index));
    case Datatype::kFp16:
    case Datatype::kFp32:
    case Datatype::kFp64:
      return absl::StrFormat("%g", ElementAsDouble(tensor, index));
  }
  return "";
}

}  // namespace edgeserve::cli
