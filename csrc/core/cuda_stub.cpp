// Stands in for core/cuda/runtime.cu when pycnn is built without CUDA: no devices, and asking for one says
// so. The kernels need no stub: ops/cuda/cuda_ops.h turns each declaration into a throwing body.
#include <cstring>

#include "pycnn/core/check.h"
#include "pycnn/core/cuda_runtime.h"

namespace pycnn::cuda {

[[noreturn]] static void not_built(const char* op) {
  throw std::runtime_error(str("[", op,
                               "] pycnn was built without CUDA; rebuild with nvcc on PATH "
                               "(PYCNN_CUDA=ON) to use cuda tensors"));
}

void kernel_not_built(const char* kernel) { not_built(kernel); }

bool is_built() { return false; }
int device_count() { return 0; }
void check_device(int, const char* op) { not_built(op); }
const char* device_name(int) { not_built("cuda.get_device_name"); }
Stream current_stream(int) { return nullptr; }
void set_current_stream(int, Stream) { not_built("cuda.set_stream"); }
Stream create_stream(int) { not_built("cuda.Stream"); }
void destroy_stream(int, Stream) {}
void synchronize(int) { not_built("cuda.synchronize"); }
void synchronize_stream(int, Stream) { not_built("cuda.Stream.synchronize"); }
DeviceGuard::DeviceGuard(Device) {}
DeviceGuard::~DeviceGuard() {}
void* device_malloc(size_t, int) { not_built("cuda.malloc"); }
void device_free(void*, int) {}
MemoryStats memory_stats(int) { not_built("cuda.memory_stats"); }
void reset_peak_memory_stats(int) { not_built("cuda.reset_peak_memory_stats"); }
void empty_cache() {}
void* host_pinned_malloc(size_t) { not_built("pin_memory"); }
void host_pinned_free(void*) {}
int64_t host_transfer_count() { return 0; }

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes, bool, bool) {
  if (dst_device.is_cuda() || src_device.is_cuda()) not_built("to");
  if (nbytes) std::memcpy(dst, src, nbytes);
}

}  // namespace pycnn::cuda
