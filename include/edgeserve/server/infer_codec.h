// ModelInferRequest -> core::InferenceRequest and core tensors ->
// ModelInferResponse. The only code that reads or writes tensor bytes in
// protobuf messages.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "edgeserve/core/inference.h"
#include "edgeserve/core/tensor.h"
#include "grpc_service.pb.h"

namespace edgeserve::server {

// Fills `request` from `message`. Raw inputs are viewed in place, so `message`
// must outlive `request`; typed `contents` are converted into
// `request->converted_inputs`. The parameters `priority` and `timeout` (in
// microseconds) are read as Triton reads them. Errors are INVALID_ARGUMENT
// naming the input or parameter, and UNIMPLEMENTED for Triton's parameters
// whose meaning edgeserve lacks (sequence_id, sequence_start, sequence_end,
// shared_memory_region, an output's classification); other parameters are
// ignored.
absl::Status DecodeInferRequest(const inference::ModelInferRequest& message, core::InferenceRequest* request);

// Adds the outputs `request.output_indices` selects, each under its config
// name, as raw_output_contents: the request's share of its batch, copied
// once into the response, or moved when the request ran alone.
void EncodeInferOutputs(const std::vector<core::TensorSpec>& specs, const core::InferenceRequest& request,
                        const core::InferenceOutputs& outputs, inference::ModelInferResponse* response);

}  // namespace edgeserve::server
