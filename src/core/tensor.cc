#include "edgeserve/core/tensor.h"

#include <cstring>
#include <limits>

#include "absl/strings/str_join.h"

namespace edgeserve::core {

int64_t ElementCount(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return -1;
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) return -1;
    count *= dim;
  }
  return count;
}

std::string ShapeToString(const Shape& shape) { return "[" + absl::StrJoin(shape, ",") + "]"; }

void CopyIntoPadded(absl::string_view source, const Shape& source_shape, size_t element_size,
                    const Shape& destination_shape, int64_t first_row, char* destination) {
  const size_t rank = source_shape.size();
  // Bytes between consecutive indices of each dimension of the destination.
  std::vector<size_t> strides(rank, element_size);
  for (size_t k = rank - 1; k > 0; --k) strides[k - 1] = strides[k] * static_cast<size_t>(destination_shape[k]);
  const size_t run = static_cast<size_t>(source_shape[rank - 1]) * element_size;
  const int64_t runs = ElementCount(Shape(source_shape.begin(), source_shape.end() - 1));
  // The index of the current run over the source's outer dimensions.
  std::vector<int64_t> index(rank - 1, 0);
  const char* from = source.data();
  for (int64_t done = 0; done < runs; ++done) {
    size_t offset = static_cast<size_t>(first_row) * strides[0];
    for (size_t k = 0; k + 1 < rank; ++k) offset += static_cast<size_t>(index[k]) * strides[k];
    if (run > 0) std::memcpy(destination + offset, from, run);
    from += run;
    for (size_t k = rank - 1; k-- > 0;) {
      if (++index[k] < source_shape[k]) break;
      index[k] = 0;
    }
  }
}

}  // namespace edgeserve::core
