#include "torch_loop.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <utility>

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <torch/script.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "edgeserve/core/datatype.h"
#include "edgeserve/core/memory_allocator.h"
#include "edgeserve/core/tensor.h"
#include "edgeserve/hal/blas_threads.h"
#include "edgeserve/hal/torch_types.h"
#include "infer_request.h"

namespace edgeserve::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Forwards timed per candidate when --optimize auto chooses, after a few
// untimed ones that let the profiling executor specialise the graph.
constexpr int kAutoTimedForwards = 20;
constexpr int kAutoUntimedForwards = 3;

// LibTorch would print some warnings on every forward (the optimised
// mobilenet_v3_small's Resize.cpp:17 one), flooding stderr and slowing the
// loop; count them instead and report the first.
class CountingWarningHandler : public c10::WarningHandler {
 public:
  void process(const c10::SourceLocation& location, const std::string& message, bool verbatim) override {
    absl::MutexLock lock(&mu_);
    if (count_++ == 0) first_ = message;
  }

  std::optional<std::string> Summary() {
    absl::MutexLock lock(&mu_);
    if (count_ == 0) return std::nullopt;
    return absl::StrCat(count_, " times; first: ", first_);
  }

 private:
  absl::Mutex mu_;
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_ ABSL_GUARDED_BY(mu_);
};

// Appends every tensor in `value` (a tensor, or tuples, lists and dicts of
// them) to `host` from `offset` on; returns the new end. The buffer only
// grows, so after the first forward no iteration allocates here.
size_t CopyToHost(const c10::IValue& value, std::vector<char>& host, size_t offset) {
  if (value.isTensor()) {
    const at::Tensor tensor = value.toTensor().contiguous();
    const size_t bytes = tensor.nbytes();
    if (host.size() < offset + bytes) host.resize(offset + bytes);
    std::memcpy(host.data() + offset, tensor.data_ptr(), bytes);
    return offset + bytes;
  }
  if (value.isTuple()) {
    for (const c10::IValue& element : value.toTupleRef().elements()) offset = CopyToHost(element, host, offset);
  } else if (value.isList()) {
    for (const c10::IValue& element : value.toListRef()) offset = CopyToHost(element, host, offset);
  } else if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict()) offset = CopyToHost(entry.value(), host, offset);
  }
  return offset;
}

// One timed forward plus the copy out; the caller catches what LibTorch throws.
class Forward {
 public:
  Forward(torch::jit::Module& module, at::Tensor input) : module_(module), inputs_{std::move(input)} {}

  int64_t RunNs() {
    const Clock::time_point start = Clock::now();
    c10::IValue output = module_.forward(inputs_);
    CopyToHost(output, host_, 0);
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
  }

 private:
  torch::jit::Module& module_;
  std::vector<c10::IValue> inputs_;
  std::vector<char> host_;
};

int64_t MedianForwardNs(torch::jit::Module& module, const at::Tensor& input) {
  Forward forward(module, input);
  for (int i = 0; i < kAutoUntimedForwards; ++i) forward.RunNs();
  std::vector<int64_t> samples;
  for (int i = 0; i < kAutoTimedForwards; ++i) samples.push_back(forward.RunNs());
  std::nth_element(samples.begin(), samples.begin() + kAutoTimedForwards / 2, samples.end());
  return samples[kAutoTimedForwards / 2];
}

// The module to run under `form`, and a line saying which form it is and why.
std::pair<torch::jit::Module, std::string> ChooseForm(torch::jit::Module loaded, ModuleForm form,
                                                      const at::Tensor& input) {
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

absl::StatusOr<ModuleForm> ParseModuleForm(const std::string& name) {
  if (name == "auto") return ModuleForm::kAuto;
  if (name == "optimize") return ModuleForm::kOptimize;
  if (name == "freeze") return ModuleForm::kFreeze;
  if (name == "none") return ModuleForm::kNone;
  return absl::InvalidArgumentError(
      absl::StrCat("--optimize: expected auto, optimize, freeze or none, got '", name, "'"));
}

absl::StatusOr<Report> RunTorchLoop(const TorchLoopOptions& options) {
  absl::StatusOr<core::DataType> datatype = ParseDatatype(options.datatype);
  if (!datatype.ok()) {
    return absl::Status(datatype.status().code(), absl::StrCat("--datatype: ", datatype.status().message()));
  }
  const int64_t elements = core::ElementCount(options.shape);
  if (elements < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--shape ", core::ShapeToString(options.shape),
                                                   " has a negative dimension or too many elements"));
  }
  std::string bytes(static_cast<size_t>(elements) * core::DataTypeSize(*datatype), '\0');
  absl::Status filled = FillDeterministic(*datatype, 0, bytes);
  if (!filled.ok()) return filled;

  CountingWarningHandler warnings;
  c10::Warning::WarningHandlerGuard warnings_guard(&warnings);
  at::set_num_threads(options.threads);
  hal::LimitBlasToCallingThread();  // as the daemon does
  // InferenceMode is per thread; this thread runs every forward below.
  c10::InferenceMode inference_mode;

  Report report;
  report.mode = "torch-loop";
  report.target = options.model_file;
  report.concurrency = 1;
  report.batch = options.shape.empty() ? 1 : options.shape.front();
  report.warmup_s = options.warmup_s;

  std::vector<int64_t> latencies_ns;
  try {
    const at::Tensor input =
        torch::from_blob(bytes.data(), options.shape, torch::TensorOptions().dtype(hal::ToScalarType(*datatype))).clone();
    torch::jit::Module loaded = torch::jit::load(options.model_file);
    loaded.eval();
    // One forward as loaded first: it rejects an input of the wrong shape
    // with an error, where the optimised mobilenet_v3_small crashes the
    // process (SIGSEGV in LibTorch 1.13 on a rank-3 image).
    Forward(loaded, input).RunNs();
    auto [module, form] = ChooseForm(std::move(loaded), options.form, input);
    report.details.emplace_back("threads", absl::StrCat(at::get_num_threads()));
    report.details.emplace_back("memory allocator", core::MemoryAllocatorName());
    report.details.emplace_back("module", form);
    report.details.emplace_back("input", absl::StrCat(options.datatype, core::ShapeToString(options.shape)));

    Forward forward(module, input);
    const Clock::time_point begin = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                       std::chrono::duration<double>(options.warmup_s));
    const Clock::time_point end =
        begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.duration_s));
    while (Clock::now() < begin) forward.RunNs();
    // The window closes with the last forward that started inside it, so the
    // rate divides by the time those forwards really took.
    const Clock::time_point measured_from = Clock::now();
    while (Clock::now() < end) latencies_ns.push_back(forward.RunNs());
    report.duration_s = std::chrono::duration<double>(Clock::now() - measured_from).count();
  } catch (const c10::Error& e) {
    // Without the backtrace: a dozen frames of LibTorch internals tell a user nothing.
    return absl::InternalError(absl::StrCat(options.model_file, ": ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(options.model_file, ": ", e.what()));
  }

  if (std::optional<std::string> warned = warnings.Summary()) report.details.emplace_back("torch warnings", *warned);
  report.requests = static_cast<int64_t>(latencies_ns.size());
  report.latency = SummarizeLatencies(latencies_ns);
  return report;
}

}  // namespace edgeserve::bench
