// The CUDA runtime pieces the core needs, without any CUDA header: devices, the caching device allocator,
// pinned host memory, copies, the current stream per device and the device guard. Implemented in
// core/cuda/runtime.cu when CUDA is built, and by core/cuda_stub.cpp otherwise (device_count() == 0; asking
// for a device throws "built without CUDA"). A build with CUDA on a machine without a driver or GPU also
// reports 0 devices, without error. Kernels live in ops/cuda/ and see this header too.
#pragma once
#include <cstddef>
#include <cstdint>

#include "pycnn/core/device.h"

namespace pycnn::cuda {

bool is_built();
int device_count();  // 0 without a driver or GPU, never throws
const char* device_name(int index);
// Throws a std::runtime_error naming `op` and the reason in one line: built without CUDA, no driver or no
// device, or the index out of range.
void check_device(int index, const char* op);

// Throws "built without CUDA" naming the kernel: the bodies ops/cuda/cuda_ops.h gives its kernels in a build
// without CUDA call it (never reached there: no tensor can be on a GPU).
[[noreturn]] void kernel_not_built(const char* kernel);

// ---- streams: an opaque cudaStream_t; nullptr is the legacy default stream ----
using Stream = void*;
Stream current_stream(int index);  // the stream every launch and copy on device `index` takes
void set_current_stream(int index, Stream stream);
Stream create_stream(int index);  // non-blocking with respect to the default stream
void destroy_stream(int index, Stream stream);
void synchronize(int index);  // waits for all work on the device
void synchronize_stream(int index, Stream stream);

// Makes a device current for one scope and restores the caller's afterwards; a no-op for the CPU.
class DeviceGuard {
 public:
  explicit DeviceGuard(Device device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;  // -1: nothing to restore
};

// ---- device memory, through the caching allocator (core/caching_allocator.h) ----
// A block belongs to the stream that was current when it was allocated; freed, it is reused at once by
// that stream (stream order makes that safe) and only returned to the driver by empty_cache() or when an
// allocation would otherwise fail.
// With PYCNN_CUDA_POISON=1 in the environment, new blocks are filled with NaN bytes (tests of unwritten output).
void* device_malloc(size_t nbytes, int index);
void device_free(void* ptr, int index);  // never throws (called from destructors)
struct MemoryStats {
  size_t allocated = 0, peak_allocated = 0;  // bytes held by live blocks (rounded sizes)
  size_t reserved = 0, peak_reserved = 0;    // bytes obtained from the driver
  int64_t driver_allocs = 0, driver_frees = 0;
};
MemoryStats memory_stats(int index);
void reset_peak_memory_stats(int index);
void empty_cache();  // returns every unused cached block to the driver, on all devices

// ---- pinned (page-locked) host memory: copies from and to it run asynchronously on the current stream ----
void* host_pinned_malloc(size_t nbytes);
void host_pinned_free(void* ptr);  // never throws

// ---- copies ----
// Copies nbytes between any two devices. Host<->device copies are asynchronous on the current stream when
// the host side is pinned and `non_blocking`, synchronous otherwise (the host buffer is ready on return).
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes,
                bool host_pinned = false, bool non_blocking = false);
// How many copies between a device and the host have run in this process: the test that a training step
// makes no hidden host round trips reads it before and after.
int64_t host_transfer_count();

}  // namespace pycnn::cuda
