// Tensors as they cross module boundaries: plain bytes, row-major, no padding.
// No LibTorch, no protobuf: the front end and the HAL each convert once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "edgeserve/core/datatype.h"

namespace edgeserve::core {

using Shape = std::vector<int64_t>;

// A tensor as a model config declares it. With a batching model the shape
// leaves out the batch dimension; -1 marks a dimension of any size.
struct TensorSpec {
  std::string name;
  DataType datatype = DataType::kFp32;
  Shape shape;
};

// A tensor whose bytes belong to someone else (the request message) and stay
// valid for as long as the request that holds the view is alive.
struct TensorView {
  absl::string_view name;
  DataType datatype = DataType::kFp32;
  Shape shape;
  absl::string_view data;
};

// A tensor that owns its bytes: an output on its way to the client.
struct Tensor {
  DataType datatype = DataType::kFp32;
  Shape shape;
  std::string data;
};

// Number of elements in `shape`, or -1 if a dimension is negative or the
// product overflows.
int64_t ElementCount(const Shape& shape);

// "[1,3,224,224]"
std::string ShapeToString(const Shape& shape);

// Copies the row-major tensor `source` of `source_shape` into the row-major
// tensor at `destination` of `destination_shape`, from row `first_row` of
// its leading dimension on. Each element keeps its index; where the
// destination is larger, its bytes are left as they are (the padding). The
// shapes have the same rank, at least 1, and the destination holds the
// source at that row in every dimension.
void CopyIntoPadded(absl::string_view source, const Shape& source_shape, size_t element_size,
                    const Shape& destination_shape, int64_t first_row, char* destination);

}  // namespace edgeserve::core
