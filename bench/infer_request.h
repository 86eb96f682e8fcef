// Builds the one ModelInferRequest a gRPC run sends over and over, from the
// model's metadata and the user's shape choices. Pure protobuf, no channel.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "edgeserve/core/datatype.h"
#include "grpc_service.pb.h"

namespace edgeserve::bench {

struct InputChoices {
  // Replaces a leading -1 (the batch dimension); 0 means "not given", which
  // sends a batch of 1.
  int64_t batch = 0;
  // The full shape to send for every input that has a variable dimension; it
  // must have the input's rank and agree with its fixed dimensions. Empty
  // means "not given".
  std::vector<int64_t> shape;
  // Sends every input as this datatype instead of the one in the metadata;
  // empty means "as the metadata says".
  std::string datatype;
};

// A datatype the bench can make inputs of: any fixed-size one the daemon knows
// (edgeserve/core/datatype.h; core::DataTypeSize gives its element size). An
// error for BYTES, whose elements have no fixed size, and for unknown names.
absl::StatusOr<core::DataType> ParseDatatype(absl::string_view name);

// Fills `bytes` (whose size is a multiple of the element size) with
// pseudo-random elements of `datatype` from `seed`: the same seed gives the
// same bytes on every run and machine. Floats lie in [-1, 1) and integers in
// [0, 100), so models that take indices or normalised images accept them.
// An error for BYTES.
absl::Status FillDeterministic(core::DataType datatype, uint64_t seed, std::string& bytes);

struct PreparedRequest {
  inference::ModelInferRequest request;
  // Inferences the request carries: the first input's leading dimension when
  // the metadata leaves it variable (a batching model), 1 otherwise.
  int64_t batch = 1;
};

// One request for `model_name` (and `model_version`, empty for the server's
// choice) carrying every input of `metadata` in raw_input_contents. It names no
// outputs, which under the protocol asks for all of them, as most clients do.
absl::StatusOr<PreparedRequest> BuildInferRequest(const inference::ModelMetadataResponse& metadata,
                                                  const std::string& model_name,
                                                  const std::string& model_version,
                                                  const InputChoices& choices);

// The protocol's scheduling parameters, set as Triton's clients set them.
struct SchedulingParameters {
  std::optional<int64_t> timeout_us;  // `timeout`, int64_param, microseconds
  std::optional<uint64_t> priority;   // `priority`, uint64_param
};

// Adds the parameters that are set to `request.parameters`.
void SetSchedulingParameters(const SchedulingParameters& parameters, inference::ModelInferRequest& request);

}  // namespace edgeserve::bench
