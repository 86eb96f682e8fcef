#include "edgeserve/scheduler/request_queue.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"

namespace edgeserve::scheduler {
namespace {

// How long a profile may go without learning before a request it predicts
// late is run to measure it again: a few executions a second at most, each
// possibly late, against a model refusing everything for longer.
constexpr std::chrono::milliseconds kProbeAfter{250};

// What admission keeps in hand behind other requests, in single executions,
// is learnt from the requests it lets in: each refused after waiting in the
// queue (the batches ahead overran their estimates) adds kReserveStep, and
// each dispatched takes back a share such that the reserve holds still when
// kTargetMissRate of them are refused after waiting. Those refusals are the
// slow ones, the whole wait; kept well under 1% of refusals, they leave the
// tail of refusal latency to the refusals on arrival. At twice the capacity
// learning took the p99 of refusals from 15-16 ms to 3-7 ms and goodput up
// by a tenth (BENCHMARKS.md); a target of 0.2% cost goodput at the capacity
// itself.
constexpr double kReserveStep = 0.25;
constexpr double kTargetMissRate = 0.005;
constexpr double kMaxReserve = 4;
// It also halves every 10 s, so that a model back at a trickle of requests,
// each giving back a little, does not keep refusing for minutes what a past
// overload taught it. At 300 dispatches a second the give-back per request
// (0.375 executions/s) outweighs this decay of a reserve of one execution
// (0.07/s), so it hardly moves the balance.
constexpr std::chrono::seconds kReserveHalfLife{10};
// Admitting right up to the edge of feasibility makes every deadline in the
// queue tight, so that only small batches fit and throughput falls, even
// where latency is known exactly and nothing is ever refused after waiting.
// So a batch cut short by a deadline, below the size the target allows
// while more requests wait, also adds to the reserve, a fifth of what a
// refusal adds. It starts at half an execution, which raised goodput at
// twice the capacity from 204-214/s to 248-262/s when it was fixed; kept at
// low load, it refused requests that would have made it (BENCHMARKS.md).
constexpr double kCutBatchStep = kReserveStep / 5;
constexpr double kInitialReserve = 0.5;

double Milliseconds(std::chrono::nanoseconds duration) { return static_cast<double>(duration.count()) / 1e6; }

std::string FormatMs(std::chrono::nanoseconds duration) {
  return absl::StrCat(static_cast<double>(static_cast<int64_t>(Milliseconds(duration) * 100)) / 100, " ms");
}

// Padding may at most double a batch's input bytes: beyond that the
// forward would mostly work on padding, and one long request batched with
// many short ones would make the batch tensor many times its members.
constexpr double kMaxPaddedToOwnBytes = 2;

// The inputs of a batch being formed, as requests join it behind its head:
// they must have equal shapes, except in the dimensions of padded inputs.
class BatchShape {
 public:
  BatchShape(const std::vector<std::string>& pad_elements, const QueuedRequest& head) : pad_elements_(pad_elements) {
    for (const core::TensorView& input : head.request->inputs) {
      largest_.emplace_back(input.shape.begin() + (input.shape.empty() ? 0 : 1), input.shape.end());
    }
    Add(head);
  }

  bool Admits(const QueuedRequest& entry) const {
    const std::vector<core::TensorView>& inputs = entry.request->inputs;
    if (inputs.size() != largest_.size()) return false;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const core::Shape& shape = inputs[i].shape;
      if (shape.size() != largest_[i].size() + 1) return false;
      if (i < pad_elements_.size() && !pad_elements_[i].empty()) continue;
      if (!std::equal(shape.begin() + 1, shape.end(), largest_[i].begin())) return false;
    }
    if (pad_elements_.empty()) return true;
    double padded_row_bytes = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      double elements = 1;
      for (size_t k = 0; k < largest_[i].size(); ++k) {
        elements *= static_cast<double>(std::max(inputs[i].shape[k + 1], largest_[i][k]));
      }
      padded_row_bytes += elements * static_cast<double>(core::DataTypeSize(inputs[i].datatype));
    }
    const double rows = static_cast<double>(rows_ + entry.request->batch_size);
    return rows * padded_row_bytes <= kMaxPaddedToOwnBytes * static_cast<double>(own_bytes_ + InputBytes(entry));
  }

  void Add(const QueuedRequest& entry) {
    // Without padding every member has the head's shapes, and only Admits'
    // comparison with them is needed.
    if (pad_elements_.empty()) return;
    rows_ += entry.request->batch_size;
    own_bytes_ += InputBytes(entry);
    const std::vector<core::TensorView>& inputs = entry.request->inputs;
    for (size_t i = 0; i < largest_.size(); ++i) {
      for (size_t k = 0; k < largest_[i].size(); ++k) largest_[i][k] = std::max(largest_[i][k], inputs[i].shape[k + 1]);
    }
  }

 private:
  static int64_t InputBytes(const QueuedRequest& entry) {
    int64_t bytes = 0;
    for (const core::TensorView& input : entry.request->inputs) bytes += static_cast<int64_t>(input.data.size());
    return bytes;
  }

  const std::vector<std::string>& pad_elements_;
  std::vector<core::Shape> largest_;  // per input, each dimension after the batch's at its largest so far
  int64_t rows_ = 0;
  int64_t own_bytes_ = 0;
};

}  // namespace

absl::string_view BatchingModeName(BatchingMode mode) {
  switch (mode) {
    case BatchingMode::kFixedDelay: return "fixed_delay";
    case BatchingMode::kNone: return "none";
    case BatchingMode::kSlo: break;
  }
  return "slo";
}

RequestQueue::RequestQueue(std::string model_name, BatchingConfig config, int64_t model_max_batch_size,
                           size_t instances)
    : model_name_(std::move(model_name)),
      config_(std::move(config)),
      batches_(model_max_batch_size > 0 && config_.mode != BatchingMode::kNone),
      max_rows_(model_max_batch_size <= 0 ? 1
                : config_.max_batch_size > 0 ? std::min(config_.max_batch_size, model_max_batch_size)
                                             : model_max_batch_size),
      instances_(instances),
      levels_(static_cast<size_t>(std::max(config_.priority_levels, 1))),
      level_rows_(levels_.size(), 0),
      reserve_(kInitialReserve) {}

absl::Status RequestQueue::Admit(QueuedRequest& entry, TimePoint now) {
  if (size_ >= config_.max_queue_size) {
    return absl::ResourceExhaustedError(absl::StrCat("model '", model_name_, "': the queue is full (",
                                                     config_.max_queue_size, " requests waiting)"));
  }
  const core::InferenceRequest& request = *entry.request;
  std::chrono::microseconds budget{0};
  if (request.timeout && request.timeout->count() > 0) {
    budget = *request.timeout;
  } else if (config_.default_timeout.count() > 0) {
    budget = config_.default_timeout;
  } else if (config_.mode == BatchingMode::kSlo) {
    budget = config_.latency_target;
  }
  const TimePoint timeout_at = budget.count() > 0 ? request.received + budget : kNever;
  entry.enqueued = now;
  entry.client_deadline = request.client_deadline;
  entry.deadline = std::min(timeout_at, entry.client_deadline);
  entry.delayed = false;
  entry.level = 0;
  if (levels_.size() > 1) {
    const uint64_t priority =
        request.priority == 0 ? static_cast<uint64_t>(config_.default_priority) : request.priority;
    entry.level = static_cast<int>(std::clamp<uint64_t>(priority, 1, levels_.size()) - 1);
  }
  // Under timeout_action delay only the client's deadline is binding.
  const TimePoint binding =
      config_.timeout_action == TimeoutAction::kDelay ? entry.client_deadline : entry.deadline;
  if (binding != kNever) {
    if (binding <= now) {
      return absl::DeadlineExceededError(
          absl::StrCat("model '", model_name_, "': the request's deadline had passed when it reached the queue"));
    }
    if (config_.mode == BatchingMode::kSlo) {
      AgeReserve(now);
      int64_t rows_ahead = 0;
      for (int level = 0; level <= entry.level; ++level) rows_ahead += level_rows_[static_cast<size_t>(level)];
      // A request admitted with nothing to spare behind others is late as
      // soon as any batch ahead overruns its estimate. How much to keep in
      // hand depends on how far the device strays from its profile, so it
      // is learnt (LearnOutcome).
      const std::chrono::nanoseconds in_hand = rows_ahead > 0 ? AdmissionReserve() : std::chrono::nanoseconds(0);
      const TimePoint answer = PredictAnswer(entry, binding, now) + in_hand;
      entry.probe = answer > binding && ShouldProbe(entry, binding, now);
      if (answer > binding && !entry.probe) {
        return absl::DeadlineExceededError(absl::StrCat(
            "model '", model_name_, "': the request cannot be answered within its deadline (",
            FormatMs(binding - now), " away): ", rows_ahead, " inferences are queued ahead of it and the predicted ",
            "answer is ", answer == kNever ? std::string("beyond it") : absl::StrCat("in ", FormatMs(answer - now))));
      }
    }
  }
  Push(std::move(entry), /*front=*/false);
  return absl::OkStatus();
}

bool RequestQueue::ShouldProbe(const QueuedRequest& entry, TimePoint deadline, TimePoint now) const {
  for (int level = 0; level <= entry.level; ++level) {
    if (!levels_[static_cast<size_t>(level)].empty()) return false;
  }
  const int64_t rows = entry.request->batch_size;
  for (const Instance& instance : instances_) {
    if (!instance.healthy || instance.busy || now - instance.measured_at < kProbeAfter) continue;
    const std::chrono::nanoseconds at_start = instance.baseline.Predict(rows);
    if (at_start.count() > 0 && now + at_start <= deadline) return true;
  }
  return false;
}

void RequestQueue::MeasuredAtStart(size_t instance, TimePoint now) {
  instances_[instance].profile.Calibrated();
  instances_[instance].baseline = instances_[instance].profile;
  instances_[instance].measured_at = now;
}

void RequestQueue::PushFront(QueuedRequest entry) { Push(std::move(entry), /*front=*/true); }

void RequestQueue::Push(QueuedRequest entry, bool front) {
  if (!entry.delayed) level_rows_[static_cast<size_t>(entry.level)] += entry.request->batch_size;
  next_expiry_ = std::min(next_expiry_, ExpiryOf(entry));
  std::deque<QueuedRequest>& queue = QueueOf(entry);
  if (front) {
    queue.push_front(std::move(entry));
  } else {
    queue.push_back(std::move(entry));
  }
  ++size_;
}

std::deque<QueuedRequest>& RequestQueue::QueueOf(const QueuedRequest& entry) {
  return entry.delayed ? delayed_ : levels_[static_cast<size_t>(entry.level)];
}

std::chrono::nanoseconds RequestQueue::PredictBest(int64_t rows) const {
  std::chrono::nanoseconds best = std::chrono::nanoseconds::max();
  for (const Instance& instance : instances_) {
    if (instance.healthy) best = std::min(best, instance.profile.Predict(rows));
  }
  if (best == std::chrono::nanoseconds::max()) {
    for (const Instance& instance : instances_) best = std::min(best, instance.profile.Predict(rows));
  }
  return best == std::chrono::nanoseconds::max() ? std::chrono::nanoseconds(0) : best;
}

TimePoint RequestQueue::ExpiryOf(const QueuedRequest& entry) const {
  if (entry.deadline == kNever) return kNever;
  if (config_.mode != BatchingMode::kSlo || entry.probe) return entry.deadline;
  return entry.deadline - PredictBest(entry.request->batch_size);
}

bool RequestQueue::Expired(const QueuedRequest& entry, TimePoint now) const {
  // The same instant as ExpiryOf, so that after Expire every expiry left lies
  // strictly ahead.
  return entry.deadline != kNever && now >= ExpiryOf(entry);
}

bool RequestQueue::WouldBeDelayed(const QueuedRequest& entry) const {
  return config_.timeout_action == TimeoutAction::kDelay && !entry.delayed && entry.deadline < entry.client_deadline;
}

TimePoint RequestQueue::EarliestExpectedStart(TimePoint now) const {
  TimePoint earliest = kNever;
  for (const Instance& instance : instances_) {
    if (instance.healthy) earliest = std::min(earliest, instance.busy ? std::max(now, instance.expected_free) : now);
  }
  return earliest == kNever ? now : earliest;
}

bool RequestQueue::Doomed(const QueuedRequest& entry, TimePoint earliest_start) const {
  if (config_.mode != BatchingMode::kSlo || entry.probe || entry.deadline == kNever || WouldBeDelayed(entry)) {
    return false;
  }
  std::chrono::nanoseconds fastest = std::chrono::nanoseconds::max();
  for (const Instance& instance : instances_) {
    if (instance.healthy) fastest = std::min(fastest, instance.profile.Expected(entry.request->batch_size));
  }
  if (fastest == std::chrono::nanoseconds::max() || fastest.count() <= 0) return false;  // nothing to expect with
  return earliest_start > entry.deadline - fastest;
}

int64_t RequestQueue::FullBatchRows() const {
  if (!batches_ || config_.latency_target.count() <= 0) return max_rows_;
  int64_t rows = max_rows_;
  while (rows > 1 && 2 * PredictBest(rows) > config_.latency_target) --rows;
  return rows;
}

int64_t RequestQueue::BatchCap(const LatencyProfile& profile, const QueuedRequest& head) const {
  if (!batches_ || config_.mode != BatchingMode::kSlo || head.deadline == kNever) return max_rows_;
  // Nexus's rule: under a backlog a request waits for the batch ahead of it,
  // then runs in its own, so a batch may take half the request's budget.
  // Larger batches would leave the requests queued behind them too little
  // time, and the batches after them would shrink.
  const auto budget = head.deadline - head.request->received;
  for (int64_t rows = max_rows_; rows > 1; --rows) {
    if (2 * profile.Predict(rows) <= budget) return rows;
  }
  return 1;
}

TimePoint RequestQueue::PredictAnswer(const QueuedRequest& entry, TimePoint deadline, TimePoint now) const {
  std::vector<std::pair<TimePoint, const Instance*>> free_at;
  for (const Instance& instance : instances_) {
    if (!instance.healthy) continue;
    free_at.emplace_back(instance.busy ? std::max(now, instance.busy_until) : now, &instance);
  }
  if (free_at.empty() || PredictBest(1).count() <= 0) return now;  // nothing to predict with
  // What Next will do with the requests ahead and this one, if nothing of a
  // higher priority arrives: each free instance in turn takes the largest
  // batch that keeps its earliest deadline; a request that would miss its
  // own is rejected by then and takes no time.
  std::vector<const QueuedRequest*> pending;
  for (int level = 0; level <= entry.level; ++level) {
    for (const QueuedRequest& ahead : levels_[static_cast<size_t>(level)]) pending.push_back(&ahead);
  }
  pending.push_back(&entry);
  const size_t self = pending.size() - 1;
  size_t next = 0;
  while (next <= self) {
    auto earliest = std::min_element(free_at.begin(), free_at.end());
    const TimePoint start = earliest->first;
    if (start > deadline) return start;
    const LatencyProfile& profile = earliest->second->profile;
    const QueuedRequest& head = *pending[next];
    if (start + profile.Predict(head.request->batch_size) > head.deadline) {
      if (next == self) return start + profile.Predict(head.request->batch_size);
      ++next;  // expires before it runs
      continue;
    }
    const int64_t cap = BatchCap(profile, head);
    int64_t rows = head.request->batch_size;
    TimePoint earliest_deadline = head.deadline;
    size_t end = next + 1;
    while (end < pending.size() && rows + pending[end]->request->batch_size <= cap) {
      const int64_t joined_rows = rows + pending[end]->request->batch_size;
      const TimePoint joined = std::min(earliest_deadline, pending[end]->deadline);
      if (start + profile.Predict(joined_rows) > joined) break;
      rows = joined_rows;
      earliest_deadline = joined;
      ++end;
    }
    earliest->first = start + profile.Predict(rows);
    if (end > self) return earliest->first;
    next = end;
  }
  return now;
}

absl::Status RequestQueue::LateStatus(const QueuedRequest& entry, TimePoint now, TimePoint earliest_start) const {
  const std::string waited = FormatMs(now - entry.enqueued);
  if (now >= entry.deadline) {
    return absl::DeadlineExceededError(
        absl::StrCat("model '", model_name_, "': the request's deadline passed after ", waited, " in the queue"));
  }
  const std::string busy =
      earliest_start > now ? absl::StrCat("every instance is busy for another ", FormatMs(earliest_start - now), " and ")
                           : std::string();
  return absl::DeadlineExceededError(absl::StrCat(
      "model '", model_name_, "': the request can no longer be answered within its deadline (",
      FormatMs(entry.deadline - now), " left, ", busy, "its execution takes ",
      FormatMs(PredictBest(entry.request->batch_size)), "); rejected after ", waited, " in the queue"));
}

RequestQueue::Decision RequestQueue::Next(size_t instance, TimePoint now, bool draining,
                                          std::vector<Rejection>* rejected) {
  Decision decision;
  if (now >= next_expiry_) Expire(now, rejected);
  if (size_ == 0) return decision;
  const LatencyProfile& profile = instances_[instance].profile;
  const bool slo = config_.mode == BatchingMode::kSlo;

  struct Pick {
    std::deque<QueuedRequest>* queue;
    size_t index;
  };
  std::vector<Pick> picks;
  const QueuedRequest* head = nullptr;
  std::optional<BatchShape> shape;
  int64_t rows = 0;
  int64_t limit = max_rows_;
  TimePoint earliest_deadline = kNever;
  bool removed = false;
  bool full = false;
  bool cut_by_deadline = false;
  auto consider = [&](std::deque<QueuedRequest>& queue) {
    for (size_t i = 0; i < queue.size() && !full; ++i) {
      QueuedRequest& entry = queue[i];
      if (entry.request == nullptr) continue;
      if (entry.request->cancelled && entry.request->cancelled()) {
        rejected->push_back({std::move(entry), absl::CancelledError(absl::StrCat(
                                                   "model '", model_name_,
                                                   "': the client cancelled the request while it was queued"))});
        entry.request = nullptr;
        removed = true;
        continue;
      }
      const int64_t entry_rows = entry.request->batch_size;
      if (head == nullptr) {
        head = &entry;
        shape.emplace(config_.pad_elements, entry);
        rows = entry_rows;
        earliest_deadline = entry.deadline;
        limit = BatchCap(profile, entry);
        picks.push_back({&queue, i});
        full = !batches_ || rows >= limit || entry.isolated;
        continue;
      }
      if (entry.isolated || !shape->Admits(entry)) continue;
      if (rows + entry_rows > limit) {
        full = true;
        break;
      }
      const TimePoint deadline = std::min(earliest_deadline, entry.deadline);
      if (slo && deadline != kNever && now + profile.Predict(rows + entry_rows) > deadline) {
        full = true;  // a larger batch would make someone late
        cut_by_deadline = rows < FullBatchRows();
        break;
      }
      earliest_deadline = deadline;
      rows += entry_rows;
      shape->Add(entry);
      picks.push_back({&queue, i});
      full = rows >= limit;
    }
  };
  for (auto& level : levels_) consider(level);
  consider(delayed_);
  if (head == nullptr) {
    if (removed) Compact();
    return decision;
  }

  // Whether to hold the batch back for more requests.
  TimePoint hold_until = kNever;
  if (!draining && !full && batches_) {
    if (config_.mode == BatchingMode::kFixedDelay) {
      const auto& preferred = config_.preferred_batch_sizes;
      const bool preferred_reached =
          !preferred.empty() && rows >= *std::max_element(preferred.begin(), preferred.end());
      if (!preferred_reached) hold_until = head->enqueued + config_.max_queue_delay;
    } else if (slo && config_.max_queue_delay.count() > 0) {
      hold_until = head->enqueued + config_.max_queue_delay;
      if (earliest_deadline != kNever) hold_until = std::min(hold_until, earliest_deadline - profile.Predict(rows + 1));
    }
  }
  if (hold_until != kNever && hold_until > now) {
    if (removed) Compact();
    decision.wake_at = hold_until;
    return decision;
  }
  if (config_.mode == BatchingMode::kFixedDelay && !config_.preferred_batch_sizes.empty()) {
    int64_t target = 0;
    for (int64_t size : config_.preferred_batch_sizes) {
      if (size <= rows) target = std::max(target, size);
    }
    while (target > 0 && rows > target && picks.size() > 1) {
      rows -= picks.back().queue->at(picks.back().index).request->batch_size;
      picks.pop_back();
    }
  }
  decision.batch.reserve(picks.size());
  for (const Pick& pick : picks) {
    QueuedRequest& entry = (*pick.queue)[pick.index];
    LearnOutcome(entry, /*dispatched=*/true, now);
    decision.batch.push_back(std::move(entry));
    entry.request = nullptr;
  }
  Compact();
  if (cut_by_deadline) {
    AgeReserve(now);
    reserve_ = std::min(kMaxReserve, reserve_ + kCutBatchStep);
  }
  Instance& runner = instances_[instance];
  runner.busy = true;
  runner.busy_until = now + profile.Predict(rows);
  runner.expected_free = now + profile.Expected(rows);
  // With the last free instance taken, some of those left may now be certain
  // to miss their deadline: answer them now rather than when time runs out.
  // While another instance is free, the expiry at the top already decided.
  if (slo && size_ > 0 && EarliestExpectedStart(now) > now) Expire(now, rejected);
  return decision;
}

void RequestQueue::Compact() {
  size_ = 0;
  auto compact = [this](std::deque<QueuedRequest>& queue) {
    queue.erase(std::remove_if(queue.begin(), queue.end(),
                               [](const QueuedRequest& entry) { return entry.request == nullptr; }),
                queue.end());
    size_ += queue.size();
  };
  for (size_t level = 0; level < levels_.size(); ++level) {
    compact(levels_[level]);
    level_rows_[level] = 0;
    for (const QueuedRequest& entry : levels_[level]) level_rows_[level] += entry.request->batch_size;
  }
  compact(delayed_);
}

std::chrono::nanoseconds RequestQueue::AdmissionReserve() const {
  if (config_.mode != BatchingMode::kSlo) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<int64_t>(reserve_ * static_cast<double>(PredictBest(1).count())));
}

void RequestQueue::AgeReserve(TimePoint now) {
  if (reserve_aged_at_ != TimePoint::min() && now > reserve_aged_at_ && reserve_ > 0) {
    const double half_lives = std::chrono::duration<double>(now - reserve_aged_at_) / kReserveHalfLife;
    reserve_ *= std::exp2(-half_lives);
  }
  reserve_aged_at_ = std::max(reserve_aged_at_, now);
}

void RequestQueue::LearnOutcome(const QueuedRequest& entry, bool dispatched, TimePoint now) {
  if (config_.mode != BatchingMode::kSlo || entry.probe || entry.delayed || entry.deadline == kNever) return;
  AgeReserve(now);
  if (dispatched) {
    reserve_ = std::max(0.0, reserve_ - kReserveStep * kTargetMissRate / (1 - kTargetMissRate));
  } else {
    reserve_ = std::min(kMaxReserve, reserve_ + kReserveStep);
  }
}

void RequestQueue::Finished(size_t instance, int64_t rows, std::chrono::nanoseconds took, TimePoint now) {
  Instance& runner = instances_[instance];
  runner.busy = false;
  if (took.count() > 0) {
    if (now - runner.measured_at >= kProbeAfter) runner.profile.Restart();
    runner.profile.Record(rows, took);
    runner.measured_at = now;
  }
}

void RequestQueue::Expire(TimePoint now, std::vector<Rejection>* rejected) {
  const TimePoint earliest_start = EarliestExpectedStart(now);
  auto late = [&](const QueuedRequest& entry) { return Expired(entry, now) || Doomed(entry, earliest_start); };
  TimePoint next = kNever;
  std::vector<QueuedRequest> now_delayed;
  bool removed = false;
  auto sweep = [&](std::deque<QueuedRequest>& queue) {
    for (QueuedRequest& entry : queue) {
      if (entry.request == nullptr) continue;
      if (!late(entry)) {
        next = std::min(next, ExpiryOf(entry));
        continue;
      }
      removed = true;
      if (WouldBeDelayed(entry)) {
        entry.delayed = true;
        entry.deadline = entry.client_deadline;
        now_delayed.push_back(std::move(entry));
      } else {
        LearnOutcome(entry, /*dispatched=*/false, now);
        absl::Status status = LateStatus(entry, now, earliest_start);
        rejected->push_back({std::move(entry), std::move(status)});
      }
      entry.request = nullptr;
    }
  };
  for (auto& level : levels_) sweep(level);
  sweep(delayed_);
  if (removed) Compact();
  for (QueuedRequest& entry : now_delayed) {
    if (late(entry)) {
      absl::Status status = LateStatus(entry, now, earliest_start);
      rejected->push_back({std::move(entry), std::move(status)});
      continue;
    }
    next = std::min(next, ExpiryOf(entry));
    delayed_.push_back(std::move(entry));
    ++size_;
  }
  next_expiry_ = next;
}

void RequestQueue::SetHealthy(size_t instance, bool healthy) {
  instances_[instance].healthy = healthy;
  instances_[instance].busy = false;
}

std::vector<QueuedRequest> RequestQueue::TakeAll() {
  std::vector<QueuedRequest> all;
  all.reserve(size_);
  for (auto& level : levels_) {
    for (QueuedRequest& entry : level) all.push_back(std::move(entry));
    level.clear();
  }
  for (QueuedRequest& entry : delayed_) all.push_back(std::move(entry));
  delayed_.clear();
  std::fill(level_rows_.begin(), level_rows_.end(), 0);
  size_ = 0;
  next_expiry_ = kNever;
  return all;
}

}  // namespace edgeserve::scheduler
