#include "edgeserve/core/memory_allocator.h"

#include <dlfcn.h>

#include <cstddef>
#include <string>

namespace edgeserve::core {
namespace {

// Looked up at run time rather than linked, so that this works the same
// whether the allocator was linked, preloaded or is absent.
template <typename Function>
Function* FindSymbol(const char* name) {
  return reinterpret_cast<Function*>(dlsym(RTLD_DEFAULT, name));
}

// jemalloc's version reads "5.3.0-0-g<commit>"; the release is enough.
std::string ReleaseOf(const char* version) {
  const std::string text(version);
  return text.substr(0, text.find('-'));
}

}  // namespace

std::string MemoryAllocatorName() {
  using Mallctl = int(const char*, void*, size_t*, void*, size_t);
  if (Mallctl* mallctl = FindSymbol<Mallctl>("mallctl")) {
    const char* version = nullptr;
    size_t size = sizeof(version);
    if (mallctl("version", &version, &size, nullptr, 0) == 0 && version != nullptr) {
      return "jemalloc " + ReleaseOf(version);
    }
    return "jemalloc";
  }
  using TcVersion = const char*(int*, int*, const char**);
  if (TcVersion* tc_version = FindSymbol<TcVersion>("tc_version")) {
    int major = 0;
    int minor = 0;
    tc_version(&major, &minor, nullptr);
    return "tcmalloc " + std::to_string(major) + "." + std::to_string(minor);
  }
  return "glibc malloc";
}

}  // namespace edgeserve::core
