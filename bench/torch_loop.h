// The `torch-loop` mode: the in-process LibTorch baseline. It runs a
// TorchScript model's forward in a tight loop on one thread of ours, as a
// hand-written C++ program would, so classifier-on-edgeserve divided by this
// loop is what serving costs over calling the model directly.
//
// This header is free of LibTorch on purpose: only torch_loop.cc includes it,
// and that is the one slow file to compile.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "report.h"

namespace edgeserve::bench {

// Which form of the module runs. kAuto times the optimised form against the
// module as loaded over a few forwards and keeps the faster, as the daemon's
// `optimization: auto` does at load.
enum class ModuleForm { kAuto, kOptimize, kFreeze, kNone };

// "auto", "optimize", "freeze", "none".
absl::StatusOr<ModuleForm> ParseModuleForm(const std::string& name);

struct TorchLoopOptions {
  std::string model_file;
  std::vector<int64_t> shape;  // of the one input; the leading dimension is the batch
  std::string datatype = "FP32";
  double warmup_s = 2;
  double duration_s = 10;
  int threads = 1;  // at::set_num_threads; LibTorch's own default here is 1
  ModuleForm form = ModuleForm::kAuto;
};

// Loads the model, picks its form, runs warm-up then the measured window. Each
// iteration runs forward under c10::InferenceMode on a fixed input made by
// FillDeterministic (the bytes a gRPC run sends) and copies every output
// tensor into a host buffer, as a server must before it can answer. An error
// means the model could not be loaded or a forward threw.
absl::StatusOr<Report> RunTorchLoop(const TorchLoopOptions& options);

}  // namespace edgeserve::bench
