#include "edgeserve/hal/torch_executor.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include <ATen/Parallel.h>
#include <torch/script.h>

#include "absl/strings/str_cat.h"
#include "edgeserve/core/logging.h"
#include "edgeserve/hal/torch_types.h"
#include "hal/torch_warnings.h"

namespace edgeserve::hal {
namespace {

using core::Clock;

uint64_t NanosSince(Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}

absl::string_view TorchTypeName(c10::ScalarType type) { return c10::toString(type); }

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

class TorchCpuExecutor : public Executor {
 public:
  TorchCpuExecutor(torch::jit::Module module, TorchModelSpec spec)
      : module_(std::move(module)), spec_(std::move(spec)) {}

  void PrepareThread() override {
    InstallTorchWarningHandler();
    at::set_num_threads(spec_.intra_op_threads);
  }

  absl::StatusOr<std::vector<core::Tensor>> Execute(absl::Span<const core::TensorView> inputs,
                                                    core::ExecutionTimings* timings) override {
    c10::InferenceMode inference_mode;
    try {
      const auto start = Clock::now();
      std::vector<c10::IValue> arguments;
      arguments.reserve(inputs.size());
      for (const core::TensorView& input : inputs) {
        // The request's bytes are used in place: no copy on the CPU.
        arguments.emplace_back(torch::from_blob(const_cast<char*>(input.data.data()), input.shape,
                                                torch::TensorOptions().dtype(ToScalarType(input.datatype))));
      }
      const int64_t batch_size = spec_.max_batch_size > 0 && !inputs.empty() ? inputs[0].shape[0] : 1;
      const auto forward_start = Clock::now();
      timings->input_ns = NanosSince(start);
      absl::StatusOr<std::vector<at::Tensor>> outputs = Forward(std::move(arguments), batch_size);
      const auto output_start = Clock::now();
      timings->infer_ns = NanosSince(forward_start);
      if (!outputs.ok()) return outputs.status();
      std::vector<core::Tensor> results;
      results.reserve(outputs->size());
      for (size_t i = 0; i < outputs->size(); ++i) {
        const at::Tensor contiguous = (*outputs)[i].contiguous();
        core::Tensor& result = results.emplace_back();
        result.datatype = spec_.outputs[i].datatype;
        result.shape.assign(contiguous.sizes().begin(), contiguous.sizes().end());
        result.data.assign(static_cast<const char*>(contiguous.data_ptr()), contiguous.nbytes());
      }
      timings->output_ns = NanosSince(output_start);
      return results;
    } catch (const c10::Error& error) {
      return absl::InternalError(error.what_without_backtrace());
    } catch (const std::exception& error) {
      return absl::InternalError(error.what());
    }
  }

  std::string DeviceName() const override { return "cpu"; }

  // Forward and the checks of its outputs against the declaration. Throws
  // what LibTorch throws.
  absl::StatusOr<std::vector<at::Tensor>> Forward(std::vector<c10::IValue> arguments, int64_t batch_size) {
    const c10::IValue result = module_.forward(std::move(arguments));
    absl::StatusOr<std::vector<at::Tensor>> outputs = MapOutputs(result, spec_.outputs);
    if (!outputs.ok()) return outputs;
    for (size_t i = 0; i < outputs->size(); ++i) {
      if (absl::Status status = CheckOutput((*outputs)[i], spec_.outputs[i], spec_.max_batch_size, batch_size);
          !status.ok()) {
        return status;
      }
    }
    return outputs;
  }

 private:
  torch::jit::Module module_;
  const TorchModelSpec spec_;
};

std::vector<c10::IValue> ZeroInputs(const TorchModelSpec& spec) {
  std::vector<c10::IValue> inputs;
  for (const core::TensorSpec& input : spec.inputs) {
    std::vector<int64_t> shape;
    if (spec.max_batch_size > 0) shape.push_back(1);
    for (int64_t dim : input.shape) shape.push_back(dim == -1 ? 1 : dim);
    inputs.emplace_back(torch::zeros(shape, torch::TensorOptions().dtype(ToScalarType(input.datatype))));
  }
  return inputs;
}

// Runs the warm-up forward a few times and returns the median duration in
// milliseconds, or the first error.
absl::StatusOr<double> WarmUp(TorchCpuExecutor& executor, const TorchModelSpec& spec, int runs) {
  c10::InferenceMode inference_mode;
  std::vector<double> durations;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    absl::StatusOr<std::vector<at::Tensor>> outputs = executor.Forward(ZeroInputs(spec), 1);
    if (!outputs.ok()) return outputs.status();
    durations.push_back(static_cast<double>(NanosSince(start)) / 1e6);
  }
  std::sort(durations.begin(), durations.end());
  return durations[durations.size() / 2];
}

absl::StatusOr<std::unique_ptr<Executor>> LoadOnThisThread(const TorchModelSpec& spec, TorchLoadReport* report) {
  // Profiling needs a few runs before the graph settles; the median of the
  // rest is what a request will see.
  static constexpr int kWarmUpRuns = 7;
  auto logger = core::Logger("hal");
  at::set_num_threads(spec.intra_op_threads);
  torch::jit::Module loaded;
  try {
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
    std::optional<torch::jit::Module> optimized;
    if (spec.optimization != TorchOptimization::kNone) {
      try {
        torch::jit::Module frozen = torch::jit::freeze(loaded);
        optimized = torch::jit::optimize_for_inference(frozen);
      } catch (const c10::Error& error) {
        logger->warn("{}: freezing and optimising failed, serving the module as loaded: {}", spec.model_file,
                     error.what_without_backtrace());
      }
    }
    std::unique_ptr<TorchCpuExecutor> chosen;
    absl::Status optimized_failure;
    if (optimized) {
      auto candidate = std::make_unique<TorchCpuExecutor>(*optimized, spec);
      absl::StatusOr<double> optimized_ms = WarmUp(*candidate, spec, kWarmUpRuns);
      if (optimized_ms.ok()) {
        report->optimized = true;
        report->optimized_ms = *optimized_ms;
        chosen = std::move(candidate);
      } else {
        optimized_failure = optimized_ms.status();
      }
    }
    if (!chosen || spec.optimization == TorchOptimization::kAuto) {
      auto as_loaded = std::make_unique<TorchCpuExecutor>(loaded, spec);
      absl::StatusOr<double> as_loaded_ms = WarmUp(*as_loaded, spec, kWarmUpRuns);
      if (!as_loaded_ms.ok() && !chosen) {
        return absl::FailedPreconditionError(
            absl::StrCat("the warm-up inference on zeros failed: ", as_loaded_ms.status().message()));
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

absl::StatusOr<std::unique_ptr<Executor>> LoadTorchCpuExecutor(const TorchModelSpec& spec,
                                                              TorchLoadReport* report) {
  // The warm-up's OpenMP team belongs to the thread that runs it and lives
  // until that thread ends. Left on a long-lived thread, it makes libgomp count
  // more threads than cores and stop spin-waiting, which tripled the
  // classifier's forward time on the serving thread (see BENCHMARKS.md). A
  // short-lived loading thread takes its team with it.
  absl::StatusOr<std::unique_ptr<Executor>> result = absl::UnknownError("not loaded");
  std::thread loader([&] {
    InstallTorchWarningHandler();
    result = LoadOnThisThread(spec, report);
  });
  loader.join();
  return result;
}

}  // namespace edgeserve::hal
