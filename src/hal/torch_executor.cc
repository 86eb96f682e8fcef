#include "edgeserve/hal/torch_executor.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include <ATen/Parallel.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <torch/script.h>

#ifdef EDGESERVE_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "edgeserve/core/logging.h"
#include "edgeserve/hal/torch_types.h"
#include "hal/torch_warnings.h"

namespace edgeserve::hal {
namespace {

// LibTorch's OpenMP runtime keeps a team of threads for every thread that has
// run a parallel region, until that thread ends. libgomp counts the teams of
// the whole process and, once their threads outnumber the cores, stops
// spin-waiting between parallel regions in all of them: with the four other
// example models' idle teams alive, the classifier's forward took 9.5 ms
// instead of 4.4 ms (BENCHMARKS.md). OpenMP 5's omp_pause_resource_all frees
// the calling thread's team. It is looked up at run time so that the runtime
// LibTorch itself loaded (Debian's libgomp, a wheel's bundled copy, LLVM's
// libomp) is the one asked, and a LibTorch built without OpenMP needs nothing.
void ReleaseOpenMpTeam() {
  using PauseAll = int (*)(int);
  static const auto pause_all = reinterpret_cast<PauseAll>(dlsym(RTLD_DEFAULT, "omp_pause_resource_all"));
  constexpr int kOmpPauseSoft = 1;  // omp_pause_soft in omp.h
  if (pause_all != nullptr) pause_all(kOmpPauseSoft);
}

using core::Clock;

uint64_t NanosSince(Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}

absl::string_view TorchTypeName(c10::ScalarType type) { return c10::toString(type); }

c10::Device ToTorchDevice(DeviceKind kind, int index) {
  switch (kind) {
    case DeviceKind::kCuda: return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(index));
    // LibTorch 1.13 knows a vendor's device only as PrivateUse1; its name
    // ("npu") is registered from 2.0 on, so the daemon never parses it.
    case DeviceKind::kNpu: return c10::Device(c10::DeviceType::PrivateUse1, static_cast<c10::DeviceIndex>(index));
    case DeviceKind::kCpu: break;
  }
  return c10::Device(c10::kCPU);
}

c10::ScalarType PrecisionScalarType(Precision precision) {
  switch (precision) {
    case Precision::kFp16: return c10::kHalf;
    case Precision::kBf16: return c10::kBFloat16;
    case Precision::kFp32: break;
  }
  return c10::kFloat;
}

bool IsFloating(core::DataType type) {
  return type == core::DataType::kFp16 || type == core::DataType::kFp32 || type == core::DataType::kFp64;
}

// Checks one output against its declaration: datatype, rank, fixed
// dimensions, and the batch dimension when the model batches.
absl::Status CheckOutput(const at::Tensor& tensor, const core::TensorSpec& spec, int64_t max_batch_size,
                         int64_t batch_size) {
  if (tensor.scalar_type() != ToScalarType(spec.datatype)) {
    return absl::InternalError(absl::StrCat("output '", spec.name, "': the model returned ",
                                            TorchTypeName(tensor.scalar_type()), " but the config declares ",
                                            core::DataTypeName(spec.datatype)));
  }
  core::Shape expected;
  expected.reserve(spec.shape.size() + 1);
  if (max_batch_size > 0) expected.push_back(batch_size);
  for (int64_t dim : spec.shape) expected.push_back(dim);
  const auto sizes = tensor.sizes();
  bool matches = sizes.size() == expected.size();
  for (size_t i = 0; matches && i < expected.size(); ++i) {
    matches = expected[i] == -1 || expected[i] == sizes[i];
  }
  if (!matches) {
    return absl::InternalError(absl::StrCat("output '", spec.name, "': the model returned shape ",
                                            core::ShapeToString(core::Shape(sizes.begin(), sizes.end())),
                                            " but the config declares ", core::ShapeToString(expected)));
  }
  return absl::OkStatus();
}

// Maps what forward returned (a tensor, a tuple or list of tensors, or a dict
// keyed by output name) onto the declared outputs, in their order.
absl::StatusOr<std::vector<at::Tensor>> MapOutputs(const c10::IValue& result,
                                                   const std::vector<core::TensorSpec>& outputs) {
  std::vector<at::Tensor> mapped;
  mapped.reserve(outputs.size());
  auto positional = [&](const std::vector<c10::IValue>& values) -> absl::Status {
    if (values.size() != outputs.size()) {
      return absl::InternalError(absl::StrCat("the model returned ", values.size(),
                                              " values but the config declares ", outputs.size(), " outputs"));
    }
    for (size_t i = 0; i < values.size(); ++i) {
      if (!values[i].isTensor()) {
        return absl::InternalError(absl::StrCat("output '", outputs[i].name, "': the model returned a ",
                                                values[i].tagKind(), ", not a tensor"));
      }
      mapped.push_back(values[i].toTensor());
    }
    return absl::OkStatus();
  };
  absl::Status status;
  if (result.isTensor()) {
    status = positional({result});
  } else if (result.isTuple()) {
    status = positional(result.toTupleRef().elements().vec());
  } else if (result.isList()) {
    status = positional(result.toListRef().vec());
  } else if (result.isGenericDict()) {
    const c10::Dict<c10::IValue, c10::IValue> dict = result.toGenericDict();
    for (const core::TensorSpec& spec : outputs) {
      auto found = dict.find(c10::IValue(spec.name));
      if (found == dict.end() || !found->value().isTensor()) {
        return absl::InternalError(
            absl::StrCat("output '", spec.name, "': the dict the model returned has no tensor under that key"));
      }
      mapped.push_back(found->value().toTensor());
    }
  } else {
    status = absl::InternalError(absl::StrCat("the model returned a ", result.tagKind(),
                                              "; expected a tensor, or a tuple, list or dict of tensors"));
  }
  if (!status.ok()) return status;
  return mapped;
}

// "cpu", "cuda:0", "npu:1".
std::string DisplayName(const TorchModelSpec& spec) {
  switch (spec.device_kind) {
    case DeviceKind::kCuda: return absl::StrCat("cuda:", spec.device_index);
    case DeviceKind::kNpu: return absl::StrCat(spec.npu_name, ":", spec.device_index);
    case DeviceKind::kCpu: break;
  }
  return "cpu";
}

// A module on one device. Inputs arrive as host bytes; on the CPU they are
// used in place, elsewhere they are copied in on the instance's own stream,
// and the batch synchronises once, after the outputs are copied back.
class TorchExecutor : public Executor {
 public:
  TorchExecutor(torch::jit::Module module, const TorchModelSpec& spec)
      : module_(std::move(module)), spec_(spec), device_(ToTorchDevice(spec.device_kind, spec.device_index)) {
    if (!device_.is_cpu()) {
      const c10::impl::VirtualGuardImpl guard(device_.type());
      try {
        stream_ = guard.getStreamFromGlobalPool(device_, /*isHighPriority=*/false);
      } catch (const c10::Error&) {
        stream_ = guard.getDefaultStream(device_);  // a plugin without a stream pool
      }
      // Asynchronous copies only where the device can be waited on: without
      // synchronizeStream the copies stay blocking, which is always correct.
      try {
        guard.synchronizeStream(*stream_);
        asynchronous_copies_ = true;
      } catch (const c10::Error&) {
        asynchronous_copies_ = false;
      }
      // Pinned host memory exists only with CUDA; staging through it once per
      // instance, reused, avoids pinning per request (which costs more than
      // the faster copy saves).
      pinned_staging_ = device_.is_cuda();
    }
  }

  void PrepareThread() override {
    InstallTorchWarningHandler();
    at::set_num_threads(spec_.intra_op_threads);
  }

  void ReleaseIdleThreads() override {
    ReleaseOpenMpTeam();  // CPU work around another device's forward may have made one too
  }

  absl::StatusOr<std::vector<core::Tensor>> Execute(absl::Span<const core::TensorView> inputs,
                                                    core::ExecutionTimings* timings) override {
    c10::InferenceMode inference_mode;
    try {
      std::optional<c10::StreamGuard> on_stream;
      if (stream_) on_stream.emplace(*stream_);
      const auto start = Clock::now();
      std::vector<c10::IValue> arguments;
      arguments.reserve(inputs.size());
      size_t staging_offset = 0;
      if (pinned_staging_) ReserveStaging(inputs);
      for (const core::TensorView& input : inputs) {
        // The request's bytes are used in place: no copy on the host.
        at::Tensor host = torch::from_blob(const_cast<char*>(input.data.data()), input.shape,
                                           torch::TensorOptions().dtype(ToScalarType(input.datatype)));
        if (pinned_staging_) host = Stage(host, &staging_offset);
        arguments.emplace_back(ToDevice(host, IsFloating(input.datatype)));
      }
      const int64_t batch_size = spec_.max_batch_size > 0 && !inputs.empty() ? inputs[0].shape[0] : 1;
      const auto forward_start = Clock::now();
      timings->input_ns = NanosSince(start);
      absl::StatusOr<std::vector<at::Tensor>> outputs = Forward(std::move(arguments), batch_size);
      if (!outputs.ok()) return outputs.status();
      std::vector<at::Tensor> host_outputs;
      host_outputs.reserve(outputs->size());
      for (const at::Tensor& output : *outputs) {
        // Contiguous on the device: the host copy may still be in flight
        // until Synchronize, so nothing may read it before.
        host_outputs.push_back(device_.is_cpu() ? output.contiguous()
                                                : output.contiguous().to(c10::kCPU, asynchronous_copies_));
      }
      Synchronize();
      const auto output_start = Clock::now();
      timings->infer_ns = NanosSince(forward_start);
      std::vector<core::Tensor> results;
      results.reserve(host_outputs.size());
      for (size_t i = 0; i < host_outputs.size(); ++i) {
        const at::Tensor& output = host_outputs[i];
        core::Tensor& result = results.emplace_back();
        result.datatype = spec_.outputs[i].datatype;
        result.shape.assign(output.sizes().begin(), output.sizes().end());
        result.data.assign(static_cast<const char*>(output.data_ptr()), output.nbytes());
      }
      timings->output_ns = NanosSince(output_start);
      return results;
    } catch (const c10::Error& error) {
      return FailureOf(error.what_without_backtrace());
    } catch (const std::exception& error) {
      return FailureOf(error.what());
    }
  }

  absl::Status CheckHealth() override {
    absl::StatusOr<double> ms = TimeWarmUp(1);
    return ms.ok() ? absl::OkStatus() : ms.status();
  }

  std::string DeviceName() const override { return DisplayName(spec_); }

  // Runs the warm-up forward on zeros `runs` times; the median duration in
  // milliseconds, or the first error.
  absl::StatusOr<double> TimeWarmUp(int runs) {
    c10::InferenceMode inference_mode;
    try {
      std::optional<c10::StreamGuard> on_stream;
      if (stream_) on_stream.emplace(*stream_);
      std::vector<double> durations;
      for (int i = 0; i < runs; ++i) {
        const auto start = Clock::now();
        std::vector<c10::IValue> arguments;
        for (size_t input = 0; input < spec_.inputs.size(); ++input) {
          arguments.emplace_back(ToDevice(ZeroInput(input), IsFloating(spec_.inputs[input].datatype)));
        }
        absl::StatusOr<std::vector<at::Tensor>> outputs = Forward(std::move(arguments), 1);
        if (!outputs.ok()) return outputs.status();
        Synchronize();
        durations.push_back(static_cast<double>(NanosSince(start)) / 1e6);
      }
      std::sort(durations.begin(), durations.end());
      return durations[durations.size() / 2];
    } catch (const c10::Error& error) {
      return FailureOf(error.what_without_backtrace());
    } catch (const std::exception& error) {
      return FailureOf(error.what());
    }
  }

 private:
  // Forward and the checks of its outputs against the declaration; outputs
  // stay on the device, cast back from the model's precision. Throws what
  // LibTorch throws.
  absl::StatusOr<std::vector<at::Tensor>> Forward(std::vector<c10::IValue> arguments, int64_t batch_size) {
    const c10::IValue result = module_.forward(std::move(arguments));
    absl::StatusOr<std::vector<at::Tensor>> outputs = MapOutputs(result, spec_.outputs);
    if (!outputs.ok()) return outputs;
    for (size_t i = 0; i < outputs->size(); ++i) {
      at::Tensor& output = (*outputs)[i];
      const core::TensorSpec& declared = spec_.outputs[i];
      if (spec_.precision != Precision::kFp32 && IsFloating(declared.datatype) &&
          output.scalar_type() == PrecisionScalarType(spec_.precision)) {
        output = output.to(ToScalarType(declared.datatype));
      }
      if (absl::Status status = CheckOutput(output, declared, spec_.max_batch_size, batch_size); !status.ok()) {
        return status;
      }
    }
    return outputs;
  }

  // A host tensor on the device, in the model's precision when floating.
  at::Tensor ToDevice(const at::Tensor& host, bool floating) const {
    at::Tensor on_device = device_.is_cpu() ? host : host.to(device_, /*non_blocking=*/asynchronous_copies_);
    if (floating && spec_.precision != Precision::kFp32) on_device = on_device.to(PrecisionScalarType(spec_.precision));
    return on_device;
  }

  static constexpr size_t kStagingAlignment = 64;

  // Grows the instance's pinned buffer to hold the whole batch. It is reused
  // from batch to batch, so no request pays for pinning; replacing it is safe
  // because the previous batch has synchronised.
  void ReserveStaging(absl::Span<const core::TensorView> inputs) {
    size_t needed = 0;
    for (const core::TensorView& input : inputs) {
      needed = (needed + kStagingAlignment - 1) / kStagingAlignment * kStagingAlignment + input.data.size();
    }
    if (staging_.defined() && static_cast<size_t>(staging_.numel()) >= needed) return;
    staging_ = at::empty({static_cast<int64_t>(std::max<size_t>(needed, 1 << 20))},
                         at::TensorOptions().dtype(at::kByte).pinned_memory(true));
  }

  // Copies `host` into the pinned buffer at `*offset`, so that the copy to
  // the device can run asynchronously.
  at::Tensor Stage(const at::Tensor& host, size_t* offset) {
    const size_t start = (*offset + kStagingAlignment - 1) / kStagingAlignment * kStagingAlignment;
    char* destination = static_cast<char*>(staging_.data_ptr()) + start;
    std::memcpy(destination, host.data_ptr(), host.nbytes());
    *offset = start + host.nbytes();
    return torch::from_blob(destination, host.sizes(), host.options());
  }

  at::Tensor ZeroInput(size_t index) const {
    const core::TensorSpec& input = spec_.inputs[index];
    std::vector<int64_t> shape;
    if (spec_.max_batch_size > 0) shape.push_back(1);
    for (int64_t dim : input.shape) shape.push_back(dim == -1 ? 1 : dim);
    return torch::zeros(shape, torch::TensorOptions().dtype(ToScalarType(input.datatype)));
  }

  // What a LibTorch exception means for the request. Out of memory is told by
  // its text: inside a TorchScript forward, LibTorch 1.13's interpreter
  // rethrows c10::OutOfMemoryError as a plain std::runtime_error.
  absl::Status FailureOf(absl::string_view message) const {
    if (absl::StrContains(message, "out of memory")) {
      ReleaseCachedMemory();
      return absl::ResourceExhaustedError(absl::StrCat(DeviceName(), " is out of memory for this batch: ", message));
    }
    return absl::InternalError(LeadWithTheCause(message));
  }

  // The one wait of a batch: every copy and kernel queued on the stream.
  void Synchronize() const {
    if (stream_ && asynchronous_copies_) c10::impl::VirtualGuardImpl(device_.type()).synchronizeStream(*stream_);
  }

  // After an out-of-memory error the failed batch's tensors are gone; handing
  // the caching allocator's blocks back lets the next batch start clean.
  void ReleaseCachedMemory() const {
#ifdef EDGESERVE_WITH_CUDA
    if (device_.is_cuda()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
  }

  torch::jit::Module module_;
  const TorchModelSpec spec_;
  const c10::Device device_;
  std::optional<c10::Stream> stream_;  // the instance's own; none on the CPU
  bool asynchronous_copies_ = false;
  bool pinned_staging_ = false;
  at::Tensor staging_;  // pinned host bytes, CUDA only
};

// Moves the module as loaded to the spec's device and precision.
absl::Status PlaceModule(torch::jit::Module& module, const TorchModelSpec& spec, const std::string& device_name) {
  const c10::Device device = ToTorchDevice(spec.device_kind, spec.device_index);
  try {
    if (!device.is_cpu()) module.to(device);
    if (spec.precision != Precision::kFp32) module.to(PrecisionScalarType(spec.precision));
  } catch (const c10::Error& error) {
    return absl::FailedPreconditionError(absl::StrCat("the module cannot be moved to ", device_name, " in ",
                                                      PrecisionName(spec.precision), ": ",
                                                      error.what_without_backtrace()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Executor>> LoadOnThisThread(const TorchModelSpec& spec, TorchLoadReport* report) {
  // Profiling needs a few runs before the graph settles; the median of the
  // rest is what a request will see.
  static constexpr int kWarmUpRuns = 7;
  auto logger = core::Logger("hal");
  at::set_num_threads(spec.intra_op_threads);
  torch::jit::Module loaded;
  try {
    // Always onto the CPU first: LibTorch 1.13 cannot map a file onto a
    // PrivateUse1 device, and one path for every device is simpler.
    loaded = torch::jit::load(spec.model_file, torch::kCPU);
    loaded.eval();
  } catch (const c10::Error& error) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec.model_file, " is not a loadable TorchScript module: ", error.what_without_backtrace()));
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec.model_file, " is not a loadable TorchScript module: ", error.what()));
  }

  try {
    const std::string device_name = DisplayName(spec);
    const c10::Device device = ToTorchDevice(spec.device_kind, spec.device_index);
    if (!device.is_cpu() && !c10::impl::hasDeviceGuardImpl(device.type())) {
      return absl::FailedPreconditionError(absl::StrCat(
          device_name, " is not usable: LibTorch has no ",
          device.is_cuda() ? "CUDA (this edgeserve was built against a CPU-only LibTorch)"
                           : "PrivateUse1 device registered (is the NPU plugin loaded?)"));
    }
    if (absl::Status status = PlaceModule(loaded, spec, device_name); !status.ok()) return status;
    // Freezing inlines the weights where they now live; optimize_for_inference
    // rewrites for the CPU's kernels (MKLDNN) and is used there only.
    std::optional<torch::jit::Module> optimized;
    if (spec.optimization != TorchOptimization::kNone) {
      try {
        torch::jit::Module frozen = torch::jit::freeze(loaded);
        optimized = spec.device_kind == DeviceKind::kCpu ? torch::jit::optimize_for_inference(frozen) : frozen;
      } catch (const c10::Error& error) {
        logger->warn("{}: freezing and optimising failed, serving the module as loaded: {}", spec.model_file,
                     error.what_without_backtrace());
      }
    }
    std::unique_ptr<TorchExecutor> chosen;
    absl::Status optimized_failure;
    if (optimized) {
      auto candidate = std::make_unique<TorchExecutor>(*optimized, spec);
      absl::StatusOr<double> optimized_ms = candidate->TimeWarmUp(kWarmUpRuns);
      if (optimized_ms.ok()) {
        report->optimized = true;
        report->optimized_ms = *optimized_ms;
        chosen = std::move(candidate);
      } else {
        optimized_failure = optimized_ms.status();
      }
    }
    if (!chosen || spec.optimization == TorchOptimization::kAuto) {
      auto as_loaded = std::make_unique<TorchExecutor>(loaded, spec);
      absl::StatusOr<double> as_loaded_ms = as_loaded->TimeWarmUp(kWarmUpRuns);
      if (!as_loaded_ms.ok() && !chosen) {
        return absl::FailedPreconditionError(absl::StrCat("the warm-up inference on zeros on ", device_name,
                                                          " failed: ", as_loaded_ms.status().message()));
      }
      if (as_loaded_ms.ok()) {
        report->as_loaded_ms = *as_loaded_ms;
        if (!chosen || report->as_loaded_ms < report->optimized_ms) {
          report->optimized = false;
          chosen = std::move(as_loaded);
        }
      }
    }
    if (!optimized_failure.ok()) {
      logger->warn("{}: the frozen and optimised module failed its warm-up, serving the module as loaded: {}",
                   spec.model_file, optimized_failure.message());
    }
    return std::unique_ptr<Executor>(std::move(chosen));
  } catch (const c10::Error& error) {
    return absl::FailedPreconditionError(
        absl::StrCat("the warm-up inference on zeros failed: ", error.what_without_backtrace()));
  } catch (const std::exception& error) {
    return absl::FailedPreconditionError(absl::StrCat("the warm-up inference on zeros failed: ", error.what()));
  }
}

}  // namespace

std::string LeadWithTheCause(absl::string_view torch_error) {
  constexpr absl::string_view kInterpreterFailure = "The following operation failed in the TorchScript interpreter.";
  absl::string_view trimmed = absl::StripTrailingAsciiWhitespace(torch_error);
  if (!absl::StartsWith(trimmed, kInterpreterFailure)) return std::string(torch_error);
  const size_t last_line = trimmed.rfind('\n');
  if (last_line == absl::string_view::npos) return std::string(torch_error);
  return absl::StrCat(trimmed.substr(last_line + 1), "\n\n", trimmed.substr(0, last_line));
}

absl::StatusOr<std::unique_ptr<Executor>> LoadTorchExecutor(const TorchModelSpec& spec, TorchLoadReport* report) {
  // The warm-up's OpenMP team belongs to the thread that runs it (see
  // ReleaseOpenMpTeam). A short-lived loading thread takes its team with it,
  // whatever the OpenMP runtime.
  absl::StatusOr<std::unique_ptr<Executor>> result = absl::UnknownError("not loaded");
  std::thread loader([&] {
    InstallTorchWarningHandler();
    result = LoadOnThisThread(spec, report);
  });
  loader.join();
  return result;
}

}  // namespace edgeserve::hal
