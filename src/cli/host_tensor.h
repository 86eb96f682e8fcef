// Tensors as edgeserve-cli holds them in memory: a protocol datatype, a shape
// and the elements as little-endian bytes in row-major order, which is both
// the .npy layout and the `raw_*_contents` layout of the protocol.
#ifndef EDGESERVE_CLI_HOST_TENSOR_H_
#define EDGESERVE_CLI_HOST_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgeserve::cli {

// The fixed-size datatypes of the protocol that the CLI can read, generate and
// print. BYTES has no fixed element size and is refused by ParseDatatype.
enum class Datatype { kBool, kUint8, kInt8, kInt16, kInt32, kInt64, kFp16, kFp32, kFp64 };

// Maps a protocol name ("FP32") to a Datatype; the error names the datatype
// and, for BYTES, says that the CLI does not support it.
absl::StatusOr<Datatype> ParseDatatype(absl::string_view name);
absl::string_view DatatypeName(Datatype datatype);
size_t ElementSize(Datatype datatype);
bool IsFloating(Datatype datatype);

// IEEE 754 binary16 <-> binary32, round to nearest even.
uint16_t FloatToHalf(float value);
float HalfToFloat(uint16_t bits);

// The number of elements a shape holds; fails on a negative dimension or on
// overflow, naming the shape.
absl::StatusOr<int64_t> ElementCount(const std::vector<int64_t>& shape);

// "[2, 3]", the way the CLI prints every shape.
std::string ShapeToString(const std::vector<int64_t>& shape);

struct Tensor {
  Datatype datatype = Datatype::kFp32;
  std::vector<int64_t> shape;
  std::string data;
};

// Element `index` of a tensor widened to double, for statistics. The caller
// keeps index below the element count, here and in ElementToString.
double ElementAsDouble(const Tensor& tensor, int64_t index);

// Element `index` as the CLI prints it: integers exactly, BOOL as true/false,
// floating types with six significant digits.
std::string ElementToString(const Tensor& tensor, int64_t index);

}  // namespace edgeserve::cli

#endif  // EDGESERVE_CLI_HOST_TENSOR_H_
