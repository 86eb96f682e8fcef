// What edgeserve-cli adds to the protocol's datatypes and host tensors
// (edgeserve/core/datatype.h, edgeserve/core/tensor.h): the CLI holds inputs
// and outputs as core::Tensor, elements as little-endian bytes in row-major
// order, which is both the .npy layout and the `raw_*_contents` layout of the
// protocol. The CLI handles only the fixed-size datatypes; BYTES is refused
// where a datatype name is parsed, so every function below may assume a
// datatype other than BYTES.
#ifndef EDGESERVE_CLI_HOST_TENSOR_H_
#define EDGESERVE_CLI_HOST_TENSOR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "edgeserve/core/datatype.h"
#include "edgeserve/core/tensor.h"

namespace edgeserve::cli {

// Maps a protocol name ("FP32") to its datatype; the error names the datatype
// and, for BYTES, says that the CLI does not support it.
absl::StatusOr<core::DataType> ParseDatatype(absl::string_view name);

// OK for a fixed-size datatype; for BYTES, the error ParseDatatype gives.
absl::Status CheckSupported(core::DataType datatype);

bool IsFloating(core::DataType datatype);

// core::ElementCount as a status: fails on a negative dimension or on
// overflow, naming the shape.
absl::StatusOr<int64_t> CheckedElementCount(const core::Shape& shape);

// "[2, 3]", the way the CLI prints every shape (the daemon's
// core::ShapeToString writes "[2,3]"; the CLI's output keeps its own style).
std::string FormatShape(const core::Shape& shape);

// Element `index` of a tensor widened to double, for statistics. The caller
// keeps index below the element count, here and in ElementToString.
double ElementAsDouble(const core::Tensor& tensor, int64_t index);

// Element `index` as the CLI prints it: integers exactly, BOOL as true/false,
// floating types with six significant digits.
std::string ElementToString(const core::Tensor& tensor, int64_t index);

}  // namespace edgeserve::cli

#endif  // EDGESERVE_CLI_HOST_TENSOR_H_
