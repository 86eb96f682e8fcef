#include "edgeserve/core/model_statistics.h"

#include <chrono>

namespace edgeserve::core {

void ModelStatistics::RecordExecution(uint64_t batch_size, uint64_t request_count,
                                      const ExecutionTimings& timings) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.execution_count;
  BatchStat& batch = stats_.batches[batch_size];
  batch.compute_input.Add(timings.input_ns);
  batch.compute_infer.Add(timings.infer_ns);
  batch.compute_output.Add(timings.output_ns);
  for (uint64_t i = 0; i < request_count; ++i) {
    stats_.compute_input.Add(timings.input_ns);
    stats_.compute_infer.Add(timings.infer_ns);
    stats_.compute_output.Add(timings.output_ns);
  }
}

void ModelStatistics::RecordQueue(uint64_t wait_ns) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.queue.Add(wait_ns);
}

void ModelStatistics::RecordSuccess(uint64_t inferences, uint64_t duration_ns) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.success.Add(duration_ns);
  stats_.inference_count += inferences;
  stats_.last_inference_ms =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

void ModelStatistics::RecordFailure(uint64_t duration_ns) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.fail.Add(duration_ns);
}

void ModelStatistics::RecordRejection(RejectionReason reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  switch (reason) {
    case RejectionReason::kQueueFull: ++stats_.rejected_queue_full; break;
    case RejectionReason::kDeadline: ++stats_.rejected_deadline; break;
    case RejectionReason::kDeadlineAfterWaiting:
      ++stats_.rejected_deadline;
      ++stats_.rejected_deadline_after_waiting;
      break;
    case RejectionReason::kCancelled: ++stats_.cancelled; break;
  }
}

ModelStatisticsSnapshot ModelStatistics::Snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace edgeserve::core
