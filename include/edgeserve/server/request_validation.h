// Checks a decoded request against its model's config before anything runs:
// inputs by name, datatype, shape, batch size and byte length; requested
// outputs by name. No protobuf and no LibTorch here.
#pragma once

#include "absl/status/status.h"
#include "edgeserve/core/inference.h"
#include "edgeserve/repository/model_config.h"

namespace edgeserve::server {

// On success `request->inputs` holds one view per model input in the config's
// order, `request->output_indices` the outputs to return and
// `request->batch_size` the batch dimension (1 for a model without one).
// Errors are INVALID_ARGUMENT naming the input or output, what the model
// expects and what came.
absl::Status ValidateRequest(const repository::ModelConfig& config, core::InferenceRequest* request);

}  // namespace edgeserve::server
