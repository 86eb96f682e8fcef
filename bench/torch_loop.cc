#include "torch_loop.h"

#include <chrono>
#include <exception>
#include <optional>

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include "absl/strings/str_cat.h"
#include "edgeserve/core/datatype.h"
#include "edgeserve/core/memory_allocator.h"
#include "edgeserve/core/tensor.h"
#include "edgeserve/hal/blas_threads.h"
#include "edgeserve/hal/torch_types.h"
#include "infer_request.h"
#include "torch_module.h"

namespace edgeserve::bench {
namespace {

using Clock = std::chrono::steady_clock;

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
    auto [module, form] = LoadInForm(options.model_file, options.form, input);
    report.details.emplace_back("threads", absl::StrCat(at::get_num_threads()));
    report.details.emplace_back("memory allocator", core::MemoryAllocatorName());
    report.details.emplace_back("module", form);
    report.details.emplace_back("input", absl::StrCat(options.datatype, core::ShapeToString(options.shape)));

    TimedForward forward(module, input);
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
