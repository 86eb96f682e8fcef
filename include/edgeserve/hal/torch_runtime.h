// Process-wide LibTorch settings, made once at start before any model loads.
#pragma once

#include <string>

namespace edgeserve::hal {

// Sets LibTorch's inter-op thread count (possible only before any parallel
// work) and routes LibTorch's warnings into the "torch" logger, each distinct
// message once, so a model that warns on every forward cannot flood the log
// (executors do the same on their own threads).
void ConfigureTorchRuntime(int inter_op_threads);

// "1.13.1", for --version.
std::string TorchVersion();

}  // namespace edgeserve::hal
