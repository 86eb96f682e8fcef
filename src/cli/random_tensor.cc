#include "random_tensor.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace edgeserve::cli {
namespace {

// Protobuf refuses messages of 2 GiB or more, so a larger input can never be
// sent; refusing it here avoids allocating it first.
constexpr uint64_t kMaxTensorBytes = (uint64_t{1} << 31) - 1;

// Signed integer inputs are usually indices (token ids, class ids); small
// non-negative values stay inside any embedding table a model may have.
constexpr int kMaxRandomIndex = 9;

template <typename T, typename Draw>
void Fill(std::string& data, int64_t count, Draw draw) {
  for (int64_t i = 0; i < count; ++i) {
    const T value = static_cast<T>(draw());
    std::memcpy(data.data() + i * sizeof(T), &value, sizeof(T));
  }
}

}  // namespace

std::vector<int64_t> ResolveShape(const std::vector<int64_t>& declared, int64_t batch) {
  std::vector<int64_t> shape = declared;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) shape[i] = i == 0 ? batch : 1;
  }
  return shape;
}

absl::StatusOr<core::Tensor> RandomTensor(core::DataType datatype, std::vector<int64_t> shape,
                                          std::mt19937_64& rng) {
  if (absl::Status supported = CheckSupported(datatype); !supported.ok()) return supported;
  absl::StatusOr<int64_t> count = CheckedElementCount(shape);
  if (!count.ok()) return count.status();
  const uint64_t element_size = core::DataTypeSize(datatype);
  if (static_cast<uint64_t>(*count) > kMaxTensorBytes / element_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(core::DataTypeName(datatype), " tensor of shape ", FormatShape(shape),
                     " is larger than the 2 GiB a gRPC message can carry"));
  }
  core::Tensor tensor;
  tensor.datatype = datatype;
  tensor.shape = std::move(shape);
  tensor.data.resize(static_cast<size_t>(*count) * element_size);

  std::uniform_real_distribution<float> unit_float(0.0f, 1.0f);
  std::uniform_real_distribution<double> unit_double(0.0, 1.0);
  std::uniform_int_distribution<int> bit(0, 1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> index(0, kMaxRandomIndex);
  // Multiples of 1/2048 below 1 are exact in FP16, so rounding never reaches 1.
  std::uniform_int_distribution<int> half_step(0, 2047);
  switch (datatype) {
    case core::DataType::kBool:
      Fill<uint8_t>(tensor.data, *count, [&] { return bit(rng); });
      break;
    case core::DataType::kUint8:
      Fill<uint8_t>(tensor.data, *count, [&] { return byte(rng); });
      break;
    case core::DataType::kInt8:
      Fill<int8_t>(tensor.data, *count, [&] { return index(rng); });
      break;
    case core::DataType::kInt16:
      Fill<int16_t>(tensor.data, *count, [&] { return index(rng); });
      break;
    case core::DataType::kInt32:
      Fill<int32_t>(tensor.data, *count, [&] { return index(rng); });
      break;
    case core::DataType::kInt64:
      Fill<int64_t>(tensor.data, *count, [&] { return index(rng); });
      break;
    case core::DataType::kFp16:
      Fill<uint16_t>(tensor.data, *count, [&] { return core::FloatToHalf(half_step(rng) / 2048.0f); });
      break;
    case core::DataType::kFp32:
      Fill<float>(tensor.data, *count, [&] { return unit_float(rng); });
      break;
    case core::DataType::kFp64:
      Fill<double>(tensor.data, *count, [&] { return unit_double(rng); });
      break;
    case core::DataType::kBytes:  // refused above
      break;
  }
  return tensor;
}

}  // namespace edgeserve::cli
