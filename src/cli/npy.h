// Reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0).
//
// Only what a model's tensors need is accepted: C-order arrays of the
// fixed-size dtypes that map onto protocol datatypes (bool, uint8, int8,
// int16, int32, int64, float16, float32, float64), little-endian. Every error
// names the file so a user with several --input flags knows which one is bad.
#ifndef EDGESERVE_CLI_NPY_H_
#define EDGESERVE_CLI_NPY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "host_tensor.h"

namespace edgeserve::cli {

// Parses the complete contents of a .npy file; `source` is the name used in
// error messages.
absl::StatusOr<core::Tensor> ParseNpy(absl::string_view bytes, absl::string_view source);

// Encodes a tensor as a .npy file: format 1.0, or 2.0 when the header does not
// fit 1.0. Fails when the data size does not match shape and datatype.
absl::StatusOr<std::string> SerializeNpy(const core::Tensor& tensor);

absl::StatusOr<core::Tensor> ReadNpyFile(const std::string& path);
absl::Status WriteNpyFile(const std::string& path, const core::Tensor& tensor);

}  // namespace edgeserve::cli

#endif  // EDGESERVE_CLI_NPY_H_
