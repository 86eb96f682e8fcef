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
      return core::HalfToFloat(Load<uint16_t>(tensor.data, index));
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
