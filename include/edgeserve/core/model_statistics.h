// Cumulative statistics of one model version, counted as Triton counts them:
// `success`/`fail` per request with its whole duration, `queue` and
// `compute_*` per request, `inference_count` per batch element,
// `execution_count` and the per-batch-size table per model execution.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>

#include "edgeserve/core/inference.h"

namespace edgeserve::core {

struct DurationStat {
  uint64_t count = 0;
  uint64_t ns = 0;
  void Add(uint64_t duration_ns) {
    ++count;
    ns += duration_ns;
  }
};

struct BatchStat {
  DurationStat compute_input;
  DurationStat compute_infer;
  DurationStat compute_output;
};

// Why a request was answered without running.
enum class RejectionReason {
  kQueueFull,  // RESOURCE_EXHAUSTED at once
  kDeadline,   // DEADLINE_EXCEEDED on arrival: it could not be answered in time
  kDeadlineAfterWaiting,  // DEADLINE_EXCEEDED later, out of the queue
  kCancelled,  // its client went away while it was queued
};

struct ModelStatisticsSnapshot {
  uint64_t last_inference_ms = 0;  // since the epoch; 0 before the first
  uint64_t inference_count = 0;
  uint64_t execution_count = 0;
  DurationStat success;
  DurationStat fail;
  DurationStat queue;
  DurationStat compute_input;
  DurationStat compute_infer;
  DurationStat compute_output;
  std::map<uint64_t, BatchStat> batches;  // by batch size
  // Requests answered without running (also counted in `fail`, except the
  // cancelled ones, which nobody receives).
  uint64_t rejected_queue_full = 0;
  uint64_t rejected_deadline = 0;
  uint64_t rejected_deadline_after_waiting = 0;  // of rejected_deadline
  uint64_t cancelled = 0;
};

// Thread-safe; every method may be called from any thread.
class ModelStatistics {
 public:
  // One model execution over `batch_size` inferences made of `request_count`
  // requests; each request is charged the whole execution's compute times.
  void RecordExecution(uint64_t batch_size, uint64_t request_count, const ExecutionTimings& timings);
  void RecordQueue(uint64_t wait_ns);
  // A request answered: `inferences` counts its batch elements.
  void RecordSuccess(uint64_t inferences, uint64_t duration_ns);
  void RecordFailure(uint64_t duration_ns);
  void RecordRejection(RejectionReason reason);

  ModelStatisticsSnapshot Snapshot() const;

 private:
  mutable std::mutex mutex_;  // guards stats_
  ModelStatisticsSnapshot stats_;
};

}  // namespace edgeserve::core
