#include "edgeserve/core/inference.h"

namespace edgeserve::core {

Shape ShareShape(const InferenceOutputs& outputs, const Tensor& tensor) {
  Shape shape = tensor.shape;
  if (!outputs.whole && !shape.empty()) shape[0] = outputs.rows;
  return shape;
}

absl::string_view ShareBytes(const InferenceOutputs& outputs, const Tensor& tensor) {
  if (outputs.whole || tensor.shape.empty() || tensor.shape[0] <= 0) return tensor.data;
  // Rows are contiguous and equally sized: the executor returns dense tensors.
  const size_t row_bytes = tensor.data.size() / static_cast<size_t>(tensor.shape[0]);
  return absl::string_view(tensor.data).substr(static_cast<size_t>(outputs.first_row) * row_bytes,
                                               static_cast<size_t>(outputs.rows) * row_bytes);
}

}  // namespace edgeserve::core
