// Which malloc serves this process. edgeserve and edgeserve-bench link
// jemalloc where the build found it (LibTorch's CPU forwards run faster with
// it, BENCHMARKS.md), and an LD_PRELOAD may bring another; the daemon's
// start-up line and the benchmark reports say which one ran.
#pragma once

#include <string>

namespace edgeserve::core {

// "jemalloc 5.3.0", "tcmalloc 2.10" or "glibc malloc".
std::string MemoryAllocatorName();

}  // namespace edgeserve::core
