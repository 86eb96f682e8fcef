#include "edgeserve/core/tensor.h"

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

}  // namespace edgeserve::core
