#include "edgeserve/hal/torch_runtime.h"

#include <mutex>
#include <unordered_set>

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include "edgeserve/core/logging.h"
#include "edgeserve/hal/blas_threads.h"
#include "hal/torch_warnings.h"

namespace edgeserve::hal {
namespace {

// LibTorch warns from inside kernels, some on every forward; each distinct
// message reaches the log once. The set is bounded so that messages carrying
// changing numbers cannot grow it without end.
class LogOnceWarningHandler : public c10::WarningHandler {
 public:
  void process(const c10::SourceLocation& location, const std::string& message, bool) override {
    static constexpr size_t kMaxDistinctMessages = 256;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (seen_.size() >= kMaxDistinctMessages || !seen_.insert(message).second) return;
    }
    core::Logger("torch")->warn("{} ({}:{}; shown once)", message, location.file, location.line);
  }

 private:
  std::mutex mutex_;  // guards seen_
  std::unordered_set<std::string> seen_;
};

}  // namespace

void InstallTorchWarningHandler() {
  static LogOnceWarningHandler* handler = new LogOnceWarningHandler();  // lives for the process
  c10::Warning::set_warning_handler(handler);
}

void ConfigureTorchRuntime(int inter_op_threads) {
  static std::once_flag once;
  std::call_once(once, [inter_op_threads] {
    InstallTorchWarningHandler();
    at::set_num_interop_threads(inter_op_threads);
    if (LimitBlasToCallingThread()) core::Logger("hal")->info("OpenBLAS runs on its callers' threads");
  });
}

std::string TorchVersion() { return TORCH_VERSION; }

}  // namespace edgeserve::hal
