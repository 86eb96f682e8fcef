// Tensor element types under the Open Inference Protocol's names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgeserve::core {

enum class DataType {
  kBool,
  kUint8,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFp16,
  kFp32,
  kFp64,
  kBytes,
};

// "FP32" -> kFp32; nullopt for a name the protocol does not define.
std::optional<DataType> DataTypeFromName(absl::string_view name);

// The protocol's name: kFp32 -> "FP32".
absl::string_view DataTypeName(DataType type);

// Bytes per element; 0 for kBytes, whose elements have no fixed size.
size_t DataTypeSize(DataType type);

// IEEE 754 binary16 <-> binary32, round to nearest even.
uint16_t FloatToHalf(float value);
float HalfToFloat(uint16_t bits);

// One element of `type` holding `value`, as the little-endian bytes a raw
// tensor holds. Integers and BOOL must hold it exactly (a whole number in
// range; 0 or 1); FP16 and FP32 round to nearest, and a finite value beyond
// their range is an error. BYTES is an error.
absl::StatusOr<std::string> ScalarBytes(DataType type, double value);

// The names accepted by DataTypeFromName, for error messages.
absl::string_view DataTypeNames();

}  // namespace edgeserve::core
