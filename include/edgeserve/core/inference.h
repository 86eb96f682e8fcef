// An inference request and its timings as they travel from the front end
// through the scheduler to an executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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

  // The protocol's `priority` parameter: 1 is the highest level, 0 the
  // model's default. Unsigned, as Triton's clients send it.
  uint64_t priority = 0;
  // The protocol's `timeout` parameter: how long after `received` the answer
  // is still of use. None: the model's default.
  std::optional<std::chrono::microseconds> timeout;
  // The client's own deadline (gRPC's), past which nobody waits for the
  // answer. Clock::time_point::max() when the client set none.
  Clock::time_point client_deadline = Clock::time_point::max();
  // True once the client has gone away; the scheduler drops such a request
  // instead of running it. Empty: the request cannot be cancelled.
  std::function<bool()> cancelled;
};

// A request's share of a batch's outputs: rows [first_row, first_row + rows)
// of every output's leading (batch) dimension. The batch's outputs are shared
// by the requests that ran together, so each request's bytes are read in
// place rather than copied out; `whole` marks a request that ran alone and
// owns every byte (the front end may then move them).
struct InferenceOutputs {
  std::shared_ptr<std::vector<Tensor>> batch;  // in the model config's output order
  int64_t first_row = 0;
  int64_t rows = 0;
  bool whole = true;
};

// The shape and bytes of `outputs`' share of `tensor`, one of its batch's
// outputs. For a whole share, the tensor itself.
Shape ShareShape(const InferenceOutputs& outputs, const Tensor& tensor);
absl::string_view ShareBytes(const InferenceOutputs& outputs, const Tensor& tensor);

// Where an execution spent its time, as ModelStatistics reports it.
struct ExecutionTimings {
  uint64_t input_ns = 0;   // preparing inputs for the device
  uint64_t infer_ns = 0;   // the model's forward
  uint64_t output_ns = 0;  // bringing outputs back as plain bytes
};

}  // namespace edgeserve::core
