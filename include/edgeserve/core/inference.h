// An inference request and its timings as they travel from the front end
// through the scheduler to an executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "edgeserve/core/tensor.h"

namespace edgeserve::core {

using Clock = std::chrono::steady_clock;

// Owned by the front end. The tensors' bytes live in the front end's request
// message; the request must outlive the completion of its inference.
struct InferenceRequest {
  std::string id;  // the client's request id, for logs; may be empty
  // After validation: one view per model input, in the model config's order.
  std::vector<TensorView> inputs;
  // Names as the client gave them; validation resolves them into
  // `output_indices` (indices into the model config's outputs, in the order
  // the response returns them; all outputs when the client named none).
  std::vector<absl::string_view> requested_outputs;
  std::vector<size_t> output_indices;
  // Bytes of inputs that arrived as typed `contents` and were converted.
  std::vector<std::string> converted_inputs;
  // Number of inferences this request holds: its batch dimension, or 1.
  int64_t batch_size = 1;
  Clock::time_point received = Clock::now();
};

// Where an execution spent its time, as ModelStatistics reports it.
struct ExecutionTimings {
  uint64_t input_ns = 0;   // preparing inputs for the device
  uint64_t infer_ns = 0;   // the model's forward
  uint64_t output_ns = 0;  // bringing outputs back as plain bytes
};

}  // namespace edgeserve::core
