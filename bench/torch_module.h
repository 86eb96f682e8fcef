// The LibTorch side both torch baselines share: the in-process loop
// (torch_loop.cc) and the inline server (inline_server.cc) load a model, pick
// its form as the daemon's `optimization: auto` does, and copy its outputs out.
// Includes LibTorch: for those two .cc files only, which are the slow ones to
// compile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <c10/util/Exception.h>
#include <torch/script.h>

#include "absl/synchronization/mutex.h"
#include "torch_loop.h"

namespace edgeserve::bench {

// LibTorch would print some warnings on every forward (the optimised
// mobilenet_v3_small's Resize.cpp:17 one), flooding stderr and slowing the
// loop; count them instead and report the first.
class CountingWarningHandler : public c10::WarningHandler {
 public:
  void process(const c10::SourceLocation& location, const std::string& message, bool verbatim) override;

  // "N times; first: ...", or nothing when LibTorch never warned.
  std::optional<std::string> Summary();

 private:
  absl::Mutex mu_;
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_ ABSL_GUARDED_BY(mu_);
};

// Calls `visit` on every tensor in `value` (a tensor, or tuples, lists and
// dicts of them), in order.
template <typename Visit>
void ForEachTensor(const c10::IValue& value, Visit&& visit) {
  if (value.isTensor()) {
    visit(value.toTensor());
  } else if (value.isTuple()) {
    for (const c10::IValue& element : value.toTupleRef().elements()) ForEachTensor(element, visit);
  } else if (value.isList()) {
    for (const c10::IValue& element : value.toListRef()) ForEachTensor(element, visit);
  } else if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict()) ForEachTensor(entry.value(), visit);
  }
}

// One forward on a fixed input plus the copy of every output tensor into a
// host buffer, as a server must before it can answer. The buffer only grows,
// so after the first forward nothing is allocated for the copy. Throws what
// LibTorch throws.
class TimedForward {
 public:
  TimedForward(torch::jit::Module& module, at::Tensor input);

  // The forward and the copy, in nanoseconds.
  int64_t RunNs();

 private:
  torch::jit::Module& module_;
  std::vector<c10::IValue> inputs_;
  std::vector<char> host_;
};

// A module in the form chosen for it, and a line saying which and why.
struct LoadedModule {
  torch::jit::Module module;
  std::string form;
};

// Loads `model_file` in eval mode, runs one forward on `input` as loaded
// (it rejects an input of the wrong shape with an error, where the optimised
// mobilenet_v3_small crashes the process: SIGSEGV in LibTorch 1.13 on a
// rank-3 image), then puts it in `form`; kAuto times the optimised module
// against the one as loaded and keeps the faster. Call under
// c10::InferenceMode, on the thread whose thread count the forwards will
// use. Throws what LibTorch throws.
LoadedModule LoadInForm(const std::string& model_file, ModuleForm form, const at::Tensor& input);

}  // namespace edgeserve::bench
