#include "edgeserve/core/datatype.h"

#include <array>
#include <utility>

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

absl::string_view DataTypeNames() {
  return "BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES";
}

}  // namespace edgeserve::core
