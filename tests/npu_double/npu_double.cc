// A test double for an NPU vendor plugin, not a real device.
//
// libedgeserve_npu_double.so registers LibTorch's out-of-tree device
// (DeviceType::PrivateUse1, dispatch key PrivateUse1, named "privateuseone" in
// LibTorch 1.13) the way a vendor plugin such as Ascend's torch_npu does, so
// that the daemon's plugin path can be tested on machines without an NPU.
// Its tensors live in ordinary host memory and every kernel runs on the CPU.
//
// Everything is registered by static initialisers when the daemon dlopen()s
// the library; there is nothing to call. Behaviour for tests, read from the
// environment once, when the library is loaded:
//   EDGESERVE_NPU_DOUBLE_DEVICES=<n>             number of devices (default 2)
//   EDGESERVE_NPU_DOUBLE_MEMORY_LIMIT_BYTES=<n>  allocations beyond n live
//                                                bytes throw c10::OutOfMemoryError
//   EDGESERVE_NPU_DOUBLE_FAULT_FILE=<path>       while <path> exists, every copy
//                                                to or from the device throws
// and two C hooks found with dlsym: edgeserve_device_info (the optional hook
// the daemon uses to describe a plugin's devices) and
// edgeserve_npu_double_synchronize_count.

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>

#include <ATen/ATen.h>
#include <ATen/EmptyTensor.h>
#include <ATen/native/CPUFallback.h>
#include <ATen/ops/_reshape_alias_native.h>
#include <ATen/ops/as_strided_native.h>
#include <ATen/ops/convolution_ops.h>
#include <ATen/ops/resize_native.h>
#include <ATen/ops/unfold_native.h>
#include <ATen/ops/view_as_complex_native.h>
#include <ATen/ops/view_as_real_native.h>
#include <ATen/ops/view_native.h>
#include <c10/core/Allocator.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <c10/core/impl/alloc_cpu.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

namespace {

constexpr c10::DeviceType kDeviceType = c10::DeviceType::PrivateUse1;
constexpr int kDefaultDeviceCount = 2;
// What edgeserve_device_info reports as a device's memory without a limit.
constexpr unsigned long long kDefaultMemoryBytes = 1ULL << 30;

// ---- Configuration -----------------------------------------------------------

struct Config {
  c10::DeviceIndex device_count = kDefaultDeviceCount;
  std::optional<uint64_t> memory_limit_bytes;  // unset: allocations are not limited
  std::string fault_file;                      // empty: no fault injection
};

// A malformed setting is a broken test: stop at load, loudly, rather than run
// the test against a double configured differently from what it asked for.
[[noreturn]] void InvalidSetting(const char* name, const char* value, const char* expected) {
  std::fprintf(stderr, "npu test double: %s=\"%s\" is not %s\n", name, value, expected);
  std::abort();
}

uint64_t ParseUnsigned(const char* name, const char* value, uint64_t max, const char* expected) {
  errno = 0;
  char* end = nullptr;
  const unsigned long long parsed = std::strtoull(value, &end, 10);
  if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno == ERANGE || parsed > max) {
    InvalidSetting(name, value, expected);
  }
  return parsed;
}

Config ReadConfig() {
  Config config;
  if (const char* devices = std::getenv("EDGESERVE_NPU_DOUBLE_DEVICES")) {
    constexpr c10::DeviceIndex kMax = std::numeric_limits<c10::DeviceIndex>::max();
    config.device_count = static_cast<c10::DeviceIndex>(
        ParseUnsigned("EDGESERVE_NPU_DOUBLE_DEVICES", devices, kMax, "a device count from 0 to 127"));
  }
  if (const char* limit = std::getenv("EDGESERVE_NPU_DOUBLE_MEMORY_LIMIT_BYTES")) {
    config.memory_limit_bytes = ParseUnsigned("EDGESERVE_NPU_DOUBLE_MEMORY_LIMIT_BYTES", limit,
                                              std::numeric_limits<uint64_t>::max(), "a number of bytes");
  }
  if (const char* fault_file = std::getenv("EDGESERVE_NPU_DOUBLE_FAULT_FILE")) config.fault_file = fault_file;
  return config;
}

// Defined before every registration below, so initialised before any of them
// can run; read-only afterwards, so shared by all threads without a lock.
const Config kConfig = ReadConfig();

// ---- Device and stream guard ---------------------------------------------------

// The current device is per thread, as with CUDA and real NPU runtimes.
thread_local c10::DeviceIndex current_device = 0;

std::atomic<uint64_t> synchronize_count{0};

void CheckDeviceIndex(c10::DeviceIndex index) {
  TORCH_CHECK(index >= 0 && index < kConfig.device_count, "npu test double: no device ", static_cast<int>(index), " (",
              static_cast<int>(kConfig.device_count), " devices)");
}

// Host memory is synchronous, so there is one stream per device, always idle,
// and events are already complete when recorded.
class GuardImpl final : public c10::impl::DeviceGuardImplInterface {
 public:
  c10::DeviceType type() const override { return kDeviceType; }

  c10::Device exchangeDevice(c10::Device device) const override {
    const c10::Device previous = getDevice();
    setDevice(device);
    return previous;
  }

  c10::Device getDevice() const override { return c10::Device(kDeviceType, current_device); }

  void setDevice(c10::Device device) const override {
    TORCH_CHECK(device.type() == kDeviceType, "npu test double: cannot make ", device, " current");
    CheckDeviceIndex(device.index());
    current_device = device.index();
  }

  void uncheckedSetDevice(c10::Device device) const noexcept override { current_device = device.index(); }

  c10::Stream getStream(c10::Device device) const noexcept override { return DeviceStream(device); }
  c10::Stream getDefaultStream(c10::Device device) const override { return DeviceStream(device); }
  c10::Stream getStreamFromGlobalPool(c10::Device device, bool) const override { return DeviceStream(device); }
  c10::Stream exchangeStream(c10::Stream stream) const noexcept override { return DeviceStream(stream.device()); }

  void record(void**, const c10::Stream&, const c10::DeviceIndex, const c10::EventFlag) const override {}
  void block(void*, const c10::Stream&) const override {}
  bool queryEvent(void*) const override { return true; }

  c10::DeviceIndex deviceCount() const noexcept override { return kConfig.device_count; }

  bool queryStream(const c10::Stream&) const override { return true; }

  // Nothing to wait for; counted so that tests can check how often the daemon
  // synchronises (once per batch).
  void synchronizeStream(const c10::Stream&) const override { synchronize_count.fetch_add(1); }

 private:
  static c10::Stream DeviceStream(c10::Device device) { return c10::Stream(c10::Stream::DEFAULT, device); }
};

C10_REGISTER_GUARD_IMPL(PrivateUse1, GuardImpl);

// ---- Allocator -----------------------------------------------------------------

// Live bytes over all devices of the double, which share one memory pool.
std::atomic<uint64_t> live_bytes{0};

struct Allocation {
  void* data;
  size_t bytes;
};

void FreeAllocation(void* context) {
  auto* allocation = static_cast<Allocation*>(context);
  c10::free_cpu(allocation->data);
  live_bytes.fetch_sub(allocation->bytes);
  delete allocation;
}

// Host memory from the CPU allocator, tagged with the thread's current device
// (callers put a device guard around allocations), counted against the limit.
class Allocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t bytes) const override {
    CheckDeviceIndex(current_device);
    const c10::Device device(kDeviceType, current_device);
    if (bytes == 0) return c10::DataPtr(nullptr, device);
    Reserve(bytes);
    try {
      void* data = c10::alloc_cpu(bytes);
      return c10::DataPtr(data, new Allocation{data, bytes}, &FreeAllocation, device);
    } catch (...) {
      live_bytes.fetch_sub(bytes);
      throw;
    }
  }

 private:
  // Reserving before allocating keeps the limit exact under concurrent
  // allocations from several threads.
  static void Reserve(size_t bytes) {
    uint64_t in_use = live_bytes.load();
    do {
      const std::optional<uint64_t>& limit = kConfig.memory_limit_bytes;
      // Two comparisons, so that nothing wraps around: bytes fits first.
      if (limit && (bytes > *limit || in_use > *limit - bytes)) {
        TORCH_CHECK_WITH(OutOfMemoryError, false, "npu test double: out of memory: tried to allocate ", bytes,
                         " bytes with ", in_use, " of ", *limit, " bytes in use");
      }
    } while (!live_bytes.compare_exchange_weak(in_use, in_use + bytes));
  }
};

Allocator allocator;
REGISTER_ALLOCATOR(c10::DeviceType::PrivateUse1, &allocator);

// ---- Kernels -------------------------------------------------------------------

constexpr c10::DispatchKeySet kDeviceKeys(c10::DispatchKey::PrivateUse1);

at::Tensor Empty(at::IntArrayRef size, c10::optional<at::ScalarType> dtype, c10::optional<at::Layout> layout,
                 c10::optional<at::Device> device, c10::optional<bool>, c10::optional<at::MemoryFormat> memory_format) {
  TORCH_CHECK(c10::layout_or_default(layout) == c10::kStrided, "npu test double: only strided tensors");
  const c10::OptionalDeviceGuard guard(device);
  return at::detail::empty_generic(size, &allocator, kDeviceKeys, c10::dtype_or_default(dtype), memory_format);
}

at::Tensor EmptyStrided(at::IntArrayRef size, at::IntArrayRef stride, c10::optional<at::ScalarType> dtype,
                        c10::optional<at::Layout> layout, c10::optional<at::Device> device, c10::optional<bool>) {
  TORCH_CHECK(c10::layout_or_default(layout) == c10::kStrided, "npu test double: only strided tensors");
  const c10::OptionalDeviceGuard guard(device);
  return at::detail::empty_strided_generic(size, stride, &allocator, kDeviceKeys, c10::dtype_or_default(dtype));
}

// Resizing may allocate: the guard tags new memory with the tensor's device.
const at::Tensor& Resize(const at::Tensor& self, at::IntArrayRef size, c10::optional<at::MemoryFormat> memory_format) {
  const c10::DeviceGuard guard(self.device());
  return at::native::resize_(self, size, memory_format);
}

bool FaultInjected() {
  struct stat info;
  return !kConfig.fault_file.empty() && ::stat(kConfig.fault_file.c_str(), &info) == 0;
}

// The double's memory is host memory: a CPU tensor over the same bytes.
at::Tensor HostAlias(const at::Tensor& tensor) {
  if (tensor.is_cpu()) return tensor;
  return at::from_blob(tensor.data_ptr(), tensor.sizes(), tensor.strides(), tensor.options().device(at::kCPU));
}

// Every copy that involves the device, in either direction or between two of
// its devices, comes here (copy_ hands devices it does not know to _copy_from).
// The CPU's copy_ does the work: broadcasting, strides, dtype conversion.
// Host memory is synchronous, so non_blocking changes nothing.
at::Tensor CopyFrom(const at::Tensor& self, const at::Tensor& dst, bool) {
  TORCH_CHECK(!FaultInjected(), "npu test double: injected device fault");
  if (dst.numel() > 0) HostAlias(dst).copy_(HostAlias(self));
  return dst;
}

// Used by the CPU fallback to write results back into the device's tensors
// (outputs of out= and in-place operators).
at::Tensor CopyFromAndResize(const at::Tensor& self, const at::Tensor& dst) {
  // Checked before resizing too, so that a fault leaves dst as it was.
  TORCH_CHECK(!FaultInjected(), "npu test double: injected device fault");
  if (dst.sizes() != self.sizes()) Resize(dst, self.sizes(), c10::nullopt);
  return CopyFrom(self, dst, false);
}

// Both are plain TensorImpls over strided memory, so Module::to may swap a
// parameter's data between the CPU and the device (set_data); LibTorch 1.13's
// own check knows only its in-tree devices.
bool IsPlainStrided(const at::Tensor& tensor) {
  return tensor.layout() == c10::kStrided && !tensor.is_quantized() &&
         (tensor.is_cpu() || tensor.device().type() == kDeviceType);
}

bool HasCompatibleShallowCopyType(const at::Tensor& self, const at::Tensor& from) {
  return (IsPlainStrided(self) && IsPlainStrided(from)) ||
         self.unsafeGetTensorImpl()->has_compatible_shallow_copy_type(from.key_set());
}

// The convolution's composite kernel sends a device it does not know to
// convolution_overrideable; run the whole convolution on the CPU instead.
at::Tensor Convolution(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                       at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation, bool transposed,
                       at::IntArrayRef output_padding, int64_t groups) {
  return at::native::call_fallback_fn<&at::native::cpu_fallback, at::_ops::convolution>::call(
      input, weight, bias, stride, padding, dilation, transposed, output_padding, groups);
}

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) {
  m.impl("empty.memory_format", &Empty);
  m.impl("empty_strided", &EmptyStrided);
  m.impl("resize_", &Resize);
  m.impl("_copy_from", &CopyFrom);
  m.impl("_copy_from_and_resize", &CopyFromAndResize);
  m.impl("convolution_overrideable", &Convolution);
  m.impl("_has_compatible_shallow_copy_type", &HasCompatibleShallowCopyType);
  // The CPU fallback cannot return views, so every view operator whose only
  // kernels are per device gets its device-independent native kernel here.
  m.impl("as_strided", &at::native::as_strided_tensorimpl);
  m.impl("view", &at::native::view);
  m.impl("_reshape_alias", &at::native::_reshape_alias);
  m.impl("unfold", &at::native::unfold);
  m.impl("view_as_real", &at::native::view_as_real);
  m.impl("view_as_complex", &at::native::view_as_complex);
}

// _has_compatible_shallow_copy_type is a composite operator: a kernel for the
// device replaces the composite one for it, and for autograd's key as well,
// which is left with none unless given the same.
TORCH_LIBRARY_IMPL(aten, AutogradPrivateUse1, m) {
  m.impl("_has_compatible_shallow_copy_type", &HasCompatibleShallowCopyType);
}

// Every other operator: inputs copied to the CPU, the CPU kernel, outputs
// copied back (all through _copy_from, so injected faults reach them too).
TORCH_LIBRARY_IMPL(_, PrivateUse1, m) {
  m.fallback(torch::CppFunction::makeFromBoxedFunction<&at::native::cpu_fallback>());
}

}  // namespace

// ---- C hooks, found with dlsym -----------------------------------------------

extern "C" __attribute__((visibility("default"))) int edgeserve_device_info(int index, char* name, size_t name_capacity,
                                                                            unsigned long long* memory_total_bytes,
                                                                            unsigned long long* memory_free_bytes) {
  if (index < 0 || index >= kConfig.device_count) return 1;
  if (name != nullptr && name_capacity > 0) {
    std::snprintf(name, name_capacity, "edgeserve NPU test double %d", index);
  }
  const unsigned long long total = kConfig.memory_limit_bytes ? *kConfig.memory_limit_bytes : kDefaultMemoryBytes;
  // Without a limit the live bytes may pass the nominal total.
  const unsigned long long in_use = std::min<unsigned long long>(live_bytes.load(), total);
  if (memory_total_bytes != nullptr) *memory_total_bytes = total;
  if (memory_free_bytes != nullptr) *memory_free_bytes = total - in_use;
  return 0;
}

extern "C" __attribute__((visibility("default"))) unsigned long long edgeserve_npu_double_synchronize_count(void) {
  return synchronize_count.load();
}
