// How a model's requests are batched: the `batching` section of its config.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace edgeserve::scheduler {

enum class BatchingMode {
  // Batches sized from the latency profile so that every request meets its
  // deadline; requests that cannot are rejected at once.
  kSlo,
  // Triton's dynamic batcher: wait up to max_queue_delay for a full (or a
  // preferred) batch, then run what has come.
  kFixedDelay,
  // One request per execution.
  kNone,
};

// What happens to a request whose timeout passes while it is queued.
enum class TimeoutAction {
  kReject,  // answered at once with DEADLINE_EXCEEDED
  kDelay,   // kept, behind every request still within its timeout
};

struct BatchingConfig {
  BatchingMode mode = BatchingMode::kSlo;
  // Rows (inferences) per execution; at most the model's max_batch_size,
  // which is also the default.
  int64_t max_batch_size = 0;
  // fixed_delay: sizes worth dispatching at once, and to cut a batch down to.
  std::vector<int64_t> preferred_batch_sizes;
  // slo: the latency a request may take from arrival to answer, unless it
  // brings its own timeout. Zero: requests have no target (they are batched
  // greedily and never rejected for lateness).
  std::chrono::microseconds latency_target{0};
  // fixed_delay: how long the oldest request waits for a batch to fill.
  // slo: how long a batch may be held back for more requests, and only while
  // every queued deadline can still be met; zero never holds one back.
  std::chrono::microseconds max_queue_delay{0};
  size_t max_queue_size = 1024;
  // Level 1 is the highest. A request's `priority` 0 means default_priority.
  int priority_levels = 1;
  int default_priority = 1;
  // Timeout of a request that sets no `timeout` parameter; zero: none.
  std::chrono::microseconds default_timeout{0};
  TimeoutAction timeout_action = TimeoutAction::kReject;
  // Per model input, in the config's order (an input's `pad_value`): the
  // bytes of the element that pads it, so that requests differing in its -1
  // dimensions share a batch; empty: requests batch only with equal shapes.
  // Empty vector: no input is padded.
  std::vector<std::string> pad_elements;
};

absl::string_view BatchingModeName(BatchingMode mode);

}  // namespace edgeserve::scheduler
