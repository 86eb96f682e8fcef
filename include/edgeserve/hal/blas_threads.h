// LibTorch's fp32 matrix products go to the system BLAS. With OpenBLAS
// (libopenblas0-pthread, which install-deps adds) they run about 6x faster on
// one thread than with Debian's reference BLAS, but OpenBLAS's own thread pool
// then competes with LibTorch's OpenMP threads for the same cores, which more
// than halved the classifier's throughput on a 2-core box (BENCHMARKS.md).
// LibTorch parallelises already, so OpenBLAS runs on its caller's thread.
// Shared by the daemon and the benchmark's in-process loop, header-only.
#pragma once

#include <dlfcn.h>

namespace edgeserve::hal {

// Limits OpenBLAS, when it is the BLAS in use, to the calling thread. Returns
// true when it was found. Any thread may call it, at any time.
inline bool LimitBlasToCallingThread() {
  using SetThreads = void (*)(int);
  auto set_threads = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set_threads == nullptr) return false;
  set_threads(1);
  return true;
}

}  // namespace edgeserve::hal
