// Random input tensors for `infer`, so a model can be exercised from its
// metadata alone.
#ifndef EDGESERVE_CLI_RANDOM_TENSOR_H_
#define EDGESERVE_CLI_RANDOM_TENSOR_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "host_tensor.h"

namespace edgeserve::cli {

// The concrete shape for a declared input shape: a variable (-1) first
// dimension becomes `batch`, any other variable dimension becomes 1.
std::vector<int64_t> ResolveShape(const std::vector<int64_t>& declared, int64_t batch);

// A tensor of `shape` with values drawn from `rng`: floating types uniform in
// [0, 1), BOOL 0 or 1, UINT8 over its full range, the signed integer types in
// [0, 10). Fails when the tensor would not fit in one gRPC message.
absl::StatusOr<core::Tensor> RandomTensor(core::DataType datatype, std::vector<int64_t> shape,
                                          std::mt19937_64& rng);

}  // namespace edgeserve::cli

#endif  // EDGESERVE_CLI_RANDOM_TENSOR_H_
