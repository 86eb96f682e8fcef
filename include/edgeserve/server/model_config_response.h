// The ModelConfig RPC's answer: a model's config.yaml in the shape of
// Triton's model_config.proto, which Triton's tools read.
#pragma once

#include "edgeserve/core/datatype.h"
#include "edgeserve/repository/model_config.h"
#include "model_config.pb.h"

namespace edgeserve::server {

// Triton's name for a protocol datatype: kFp32 -> TYPE_FP32, kBytes -> TYPE_STRING.
inference::DataType ToTritonDataType(core::DataType datatype);

// Fills `out` from a parsed config. What Triton's messages have a field for
// goes there (dims without the batch dimension, dynamic_batching for the
// modes that batch, the queue policy in force); the rest goes to
// `parameters` under its config.yaml key.
void FillModelConfig(const repository::ModelConfig& config, inference::ModelConfig* out);

}  // namespace edgeserve::server
