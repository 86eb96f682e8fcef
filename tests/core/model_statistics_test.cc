#include "edgeserve/core/model_statistics.h"

#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace edgeserve::core {
namespace {

ExecutionTimings Timings(uint64_t input_ns, uint64_t infer_ns, uint64_t output_ns) {
  ExecutionTimings timings;
  timings.input_ns = input_ns;
  timings.infer_ns = infer_ns;
  timings.output_ns = output_ns;
  return timings;
}

uint64_t NowMs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

TEST(ModelStatisticsTest, StartsAtZero) {
  ModelStatistics statistics;
  const ModelStatisticsSnapshot snapshot = statistics.Snapshot();
  EXPECT_EQ(snapshot.last_inference_ms, 0u);
  EXPECT_EQ(snapshot.inference_count, 0u);
  EXPECT_EQ(snapshot.execution_count, 0u);
  EXPECT_EQ(snapshot.success.count, 0u);
  EXPECT_EQ(snapshot.fail.count, 0u);
  EXPECT_EQ(snapshot.queue.count, 0u);
  EXPECT_EQ(snapshot.compute_infer.count, 0u);
  EXPECT_TRUE(snapshot.batches.empty());
}

TEST(ModelStatisticsTest, ExecutionsAreCountedPerBatchSize) {
  ModelStatistics statistics;
  statistics.RecordExecution(1, 1, Timings(1, 10, 100));
  statistics.RecordExecution(4, 1, Timings(2, 20, 200));
  statistics.RecordExecution(4, 1, Timings(3, 30, 300));
  const ModelStatisticsSnapshot snapshot = statistics.Snapshot();
  EXPECT_EQ(snapshot.execution_count, 3u);
  ASSERT_EQ(snapshot.batches.size(), 2u);
  const BatchStat& one = snapshot.batches.at(1);
  EXPECT_EQ(one.compute_input.count, 1u);
  EXPECT_EQ(one.compute_input.ns, 1u);
  EXPECT_EQ(one.compute_infer.count, 1u);
  EXPECT_EQ(one.compute_infer.ns, 10u);
  EXPECT_EQ(one.compute_output.count, 1u);
  EXPECT_EQ(one.compute_output.ns, 100u);
  const BatchStat& four = snapshot.batches.at(4);
  EXPECT_EQ(four.compute_input.count, 2u);
  EXPECT_EQ(four.compute_input.ns, 5u);
  EXPECT_EQ(four.compute_infer.count, 2u);
  EXPECT_EQ(four.compute_infer.ns, 50u);
  EXPECT_EQ(four.compute_output.count, 2u);
  EXPECT_EQ(four.compute_output.ns, 500u);
}

TEST(ModelStatisticsTest, ComputeIsChargedToEveryRequestButTheBatchTableOncePerExecution) {
  ModelStatistics statistics;
  // One execution of batch 6 made of 3 requests.
  statistics.RecordExecution(6, 3, Timings(7, 11, 13));
  const ModelStatisticsSnapshot snapshot = statistics.Snapshot();
  EXPECT_EQ(snapshot.execution_count, 1u);
  EXPECT_EQ(snapshot.compute_input.count, 3u);
  EXPECT_EQ(snapshot.compute_input.ns, 21u);
  EXPECT_EQ(snapshot.compute_infer.count, 3u);
  EXPECT_EQ(snapshot.compute_infer.ns, 33u);
  EXPECT_EQ(snapshot.compute_output.count, 3u);
  EXPECT_EQ(snapshot.compute_output.ns, 39u);
  ASSERT_EQ(snapshot.batches.count(6), 1u);
  EXPECT_EQ(snapshot.batches.at(6).compute_infer.count, 1u);
  EXPECT_EQ(snapshot.batches.at(6).compute_infer.ns, 11u);
  // Neither the inference count nor the outcome comes from an execution.
  EXPECT_EQ(snapshot.inference_count, 0u);
  EXPECT_EQ(snapshot.success.count, 0u);
}

TEST(ModelStatisticsTest, QueueSuccessAndFailureAreSeparate) {
  ModelStatistics statistics;
  statistics.RecordQueue(5);
  statistics.RecordQueue(7);
  statistics.RecordFailure(1000);
  statistics.RecordSuccess(4, 300);
  statistics.RecordSuccess(1, 200);
  const ModelStatisticsSnapshot snapshot = statistics.Snapshot();
  EXPECT_EQ(snapshot.queue.count, 2u);
  EXPECT_EQ(snapshot.queue.ns, 12u);
  EXPECT_EQ(snapshot.fail.count, 1u);
  EXPECT_EQ(snapshot.fail.ns, 1000u);
  EXPECT_EQ(snapshot.success.count, 2u);
  EXPECT_EQ(snapshot.success.ns, 500u);
  EXPECT_EQ(snapshot.inference_count, 5u);  // batch elements, not requests
  EXPECT_EQ(snapshot.execution_count, 0u);
}

TEST(ModelStatisticsTest, FailureDoesNotCountInferencesOrSetLastInference) {
  ModelStatistics statistics;
  statistics.RecordFailure(10);
  const ModelStatisticsSnapshot snapshot = statistics.Snapshot();
  EXPECT_EQ(snapshot.inference_count, 0u);
  EXPECT_EQ(snapshot.last_inference_ms, 0u);
}

TEST(ModelStatisticsTest, SuccessSetsLastInferenceToWallClockMilliseconds) {
  ModelStatistics statistics;
  const uint64_t before = NowMs();
  statistics.RecordSuccess(1, 1);
  const uint64_t after = NowMs();
  const uint64_t last = statistics.Snapshot().last_inference_ms;
  EXPECT_GE(last, before);
  EXPECT_LE(last, after);
}

TEST(ModelStatisticsTest, SnapshotIsACopy) {
  ModelStatistics statistics;
  statistics.RecordQueue(1);
  const ModelStatisticsSnapshot first = statistics.Snapshot();
  statistics.RecordQueue(1);
  EXPECT_EQ(first.queue.count, 1u);
  EXPECT_EQ(statistics.Snapshot().queue.count, 2u);
}

TEST(ModelStatisticsTest, ConcurrentRecordsAreAllCounted) {
  ModelStatistics statistics;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&statistics] {
      for (int i = 0; i < kPerThread; ++i) {
        statistics.RecordQueue(1);
        statistics.RecordExecution(2, 1, Timings(1, 1, 1));
        statistics.RecordSuccess(2, 1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const ModelStatisticsSnapshot snapshot = statistics.Snapshot();
  constexpr uint64_t kTotal = kThreads * kPerThread;
  EXPECT_EQ(snapshot.queue.count, kTotal);
  EXPECT_EQ(snapshot.execution_count, kTotal);
  EXPECT_EQ(snapshot.batches.at(2).compute_infer.count, kTotal);
  EXPECT_EQ(snapshot.success.count, kTotal);
  EXPECT_EQ(snapshot.inference_count, 2 * kTotal);
}

}  // namespace
}  // namespace edgeserve::core
