#include "edgeserve/core/memory_allocator.h"

#include "gtest/gtest.h"

namespace edgeserve::core {
namespace {

// The unit tests are deliberately not linked with jemalloc (only the daemon
// and edgeserve-bench are), so glibc's malloc serves them unless someone
// preloads another allocator into the test run.
TEST(MemoryAllocatorTest, NamesGlibcWhenNoOtherAllocatorIsLinkedOrPreloaded) {
  EXPECT_EQ(MemoryAllocatorName(), "glibc malloc");
}

}  // namespace
}  // namespace edgeserve::core
