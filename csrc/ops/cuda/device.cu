// The CUDA backend's device management: how many GPUs there are, their names, memory, and copies
// between host and devices (declared in ops/cuda_backend.h). A build with CUDA must still work on a
// machine without a driver or GPU: device_count() then says 0, and everything that needs a device
// throws a std::runtime_error naming the op instead of crashing.

// Host code only: hiding it from nvcc's device passes (__CUDA_ARCH__ is set there) spares them parsing
// the standard headers for each target architecture, about a second per architecture.
#ifndef __CUDA_ARCH__
#include <cuda_runtime.h>  // defines: cudaGetDeviceCount, cudaMalloc, cudaMemcpy, ...

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "ops/cuda/cuda_check.cuh"  // defines: CUDA_CHECK
#include "ops/cuda_backend.h"

namespace pycnn::cuda {

namespace {

// Makes `index` the current device for one scope and restores the caller's afterwards, so that a
// backend call never changes which device the user's own CUDA code talks to.
class DeviceGuard {
 public:
  DeviceGuard(int index, const char* op) {
    CUDA_CHECK(cudaGetDevice(&previous_), op);
    if (previous_ != index) CUDA_CHECK(cudaSetDevice(index), op);
  }
  ~DeviceGuard() {
    int now = previous_;
    if (cudaGetDevice(&now) == cudaSuccess && now != previous_) cudaSetDevice(previous_);
    cudaGetLastError();  // a destructor must not throw; drop anything it left behind
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

// Throws unless `index` names a device that exists.
void check_device(int index, const char* op) {
  int n = device_count();
  PYCNN_CHECK_RUNTIME(n > 0, "[", op,
                      "] no CUDA device is available (no GPU or no driver found; "
                      "pycnn.cuda.is_available() is False)");
  PYCNN_CHECK_RUNTIME(index >= 0 && index < n, "[", op, "] CUDA device index ", index,
                      " is out of range: this machine has ", n, " CUDA device(s)");
}

}  // namespace

bool is_built() { return true; }

int device_count() {
  // Asked once: the set of visible devices is fixed when the runtime initialises. Without a driver,
  // cudaGetDeviceCount fails (cudaErrorNoDevice / cudaErrorInsufficientDriver); that is an answer
  // (zero devices), not an error, so it is cleared and never thrown.
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();
      n = 0;
    }
    return n;
  }();
  return count;
}

const char* device_name(int index) {
  check_device(index, "cuda.get_device_name");
  // The names are kept for the life of the process so that the returned pointer stays valid.
  static std::mutex mutex;
  static std::vector<std::string> names;
  std::lock_guard<std::mutex> lock(mutex);
  if (names.empty()) names.resize(device_count());
  if (names[index].empty()) {
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, index), "cuda.get_device_name");
    names[index] = prop.name;
  }
  return names[index].c_str();
}

void* device_malloc(size_t nbytes, int index) {
  check_device(index, "cuda.malloc");
  DeviceGuard guard(index, "cuda.malloc");
  void* ptr = nullptr;
  cudaError_t err = cudaMalloc(&ptr, nbytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw std::runtime_error(str("[cuda.malloc] out of memory on cuda:", index, " allocating ", nbytes, " bytes"));
  }
  CUDA_CHECK(err, "cuda.malloc");
  return ptr;
}

void device_free(void* ptr, int index) {
  // Called from Storage's destructor, which must not throw: a failure is reported, not raised. At
  // process exit the runtime may already be unloaded; the memory goes with the process then.
  if (ptr == nullptr) return;
  int previous = 0;
  bool switched = cudaGetDevice(&previous) == cudaSuccess && previous != index && cudaSetDevice(index) == cudaSuccess;
  cudaError_t err = cudaFree(ptr);
  if (switched) cudaSetDevice(previous);
  if (err != cudaSuccess && err != cudaErrorCudartUnloading)
    std::fprintf(stderr, "[cuda.free] CUDA error %s: %s (cuda:%d)\n", cudaGetErrorName(err), cudaGetErrorString(err),
                 index);
  cudaGetLastError();
}

void copy_between_devices(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
  const char* op = "to";
  if (dst_device.is_cuda()) check_device(dst_device.index, op);
  if (src_device.is_cuda()) check_device(src_device.index, op);
  if (nbytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, nbytes);
  } else if (src_device.is_cpu()) {
    DeviceGuard guard(dst_device.index, op);
    CUDA_CHECK(cudaMemcpy(dst, src, nbytes, cudaMemcpyHostToDevice), op);
  } else if (dst_device.is_cpu()) {
    DeviceGuard guard(src_device.index, op);
    CUDA_CHECK(cudaMemcpy(dst, src, nbytes, cudaMemcpyDeviceToHost), op);
  } else if (dst_device.index == src_device.index) {
    DeviceGuard guard(dst_device.index, op);
    CUDA_CHECK(cudaMemcpy(dst, src, nbytes, cudaMemcpyDeviceToDevice), op);
  } else {
    // Works with or without peer access (the runtime stages through the host when it must), and is
    // ordered after pending work on both devices, like the same-device copy above on the default stream.
    CUDA_CHECK(cudaMemcpyPeer(dst, dst_device.index, src, src_device.index, nbytes), op);
  }
}

}  // namespace pycnn::cuda
#endif  // __CUDA_ARCH__
