#include "torch_module.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace edgeserve::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Forwards timed per candidate when kAuto chooses, after a few untimed ones
// that let the profiling executor specialise the graph.
constexpr int kAutoTimedForwards = 20;
constexpr int kAutoUntimedForwards = 3;

int64_t MedianForwardNs(torch::jit::Module& module, const at::Tensor& input) {
  TimedForward forward(module, input);
  for (int i = 0; i < kAutoUntimedForwards; ++i) forward.RunNs();
  std::vector<int64_t> samples;
  for (int i = 0; i < kAutoTimedForwards; ++i) samples.push_back(forward.RunNs());
  std::nth_element(samples.begin(), samples.begin() + kAutoTimedForwards / 2, samples.end());
  return samples[kAutoTimedForwards / 2];
}

LoadedModule ChooseForm(torch::jit::Module loaded, ModuleForm form, const at::Tensor& input) {
  switch (form) {
    case ModuleForm::kNone:
      return {loaded, "as loaded"};
    case ModuleForm::kFreeze:
      return {torch::jit::freeze(loaded), "frozen"};
    case ModuleForm::kOptimize: {
      torch::jit::Module frozen = torch::jit::freeze(loaded);
      return {torch::jit::optimize_for_inference(frozen), "frozen and optimised"};
    }
    case ModuleForm::kAuto:
      break;
  }
  std::optional<torch::jit::Module> optimised;
  std::string why_not;
  try {
    torch::jit::Module frozen = torch::jit::freeze(loaded);
    optimised = torch::jit::optimize_for_inference(frozen);
  } catch (const c10::Error& e) {
    // Some models do not survive freezing; the module as loaded still runs.
    why_not = e.what_without_backtrace();
  }
  if (!optimised) return {loaded, absl::StrCat("as loaded (auto: optimising failed: ", why_not, ")")};
  const int64_t optimised_ns = MedianForwardNs(*optimised, input);
  const int64_t loaded_ns = MedianForwardNs(loaded, input);
  std::string medians = absl::StrFormat("median of %d forwards: %.3f ms optimised, %.3f ms as loaded",
                                        kAutoTimedForwards, optimised_ns / 1e6, loaded_ns / 1e6);
  if (optimised_ns <= loaded_ns) return {*optimised, absl::StrCat("frozen and optimised (auto: ", medians, ")")};
  return {loaded, absl::StrCat("as loaded (auto: ", medians, ")")};
}

}  // namespace

void CountingWarningHandler::process(const c10::SourceLocation& location, const std::string& message, bool verbatim) {
  absl::MutexLock lock(&mu_);
  if (count_++ == 0) first_ = message;
}

std::optional<std::string> CountingWarningHandler::Summary() {
  absl::MutexLock lock(&mu_);
  if (count_ == 0) return std::nullopt;
  return absl::StrCat(count_, " times; first: ", first_);
}

TimedForward::TimedForward(torch::jit::Module& module, at::Tensor input) : module_(module), inputs_{std::move(input)} {}

int64_t TimedForward::RunNs() {
  const Clock::time_point start = Clock::now();
  c10::IValue output = module_.forward(inputs_);
  size_t offset = 0;
  ForEachTensor(output, [&](const at::Tensor& tensor) {
    const at::Tensor contiguous = tensor.contiguous();
    const size_t bytes = contiguous.nbytes();
    if (host_.size() < offset + bytes) host_.resize(offset + bytes);
    std::memcpy(host_.data() + offset, contiguous.data_ptr(), bytes);
    offset += bytes;
  });
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

LoadedModule LoadInForm(const std::string& model_file, ModuleForm form, const at::Tensor& input) {
  torch::jit::Module loaded = torch::jit::load(model_file);
  loaded.eval();
  TimedForward(loaded, input).RunNs();
  return ChooseForm(std::move(loaded), form, input);
}

}  // namespace edgeserve::bench
