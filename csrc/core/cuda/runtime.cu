// The CUDA runtime pieces declared in core/cuda_runtime.h: devices, streams, the device guard, the caching
// allocator's driver, pinned host memory and copies. A build with CUDA must still work on a machine without
// a driver or GPU: device_count() then says 0, and everything that needs a device throws a
// std::runtime_error naming the op and the reason instead of crashing.

// Host code only: hiding it from nvcc's device passes (__CUDA_ARCH__ is set there) spares them parsing the
// standard headers for each target architecture, about a second per architecture.
#ifndef __CUDA_ARCH__
#include <cuda_runtime.h>  // defines: cudaGetDeviceCount, cudaMalloc, cudaMemcpyAsync, ...

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pycnn/core/caching_allocator.h"
#include "pycnn/core/cuda/cuda_check.cuh"  // defines: CUDA_CHECK
#include "pycnn/core/cuda_runtime.h"

namespace pycnn::cuda {

namespace {

constexpr int kMaxDevices = 64;

// cudaGetDeviceCount's answer, asked once: the set of visible devices is fixed when the runtime starts.
// Without a driver it fails; that is an answer (zero devices, and the reason kept for messages), not an error.
struct DeviceCount {
  int count = 0;
  cudaError_t error = cudaSuccess;
};
const DeviceCount& device_count_once() {
  static const DeviceCount answer = [] {
    DeviceCount a;
    a.error = cudaGetDeviceCount(&a.count);
    if (a.error != cudaSuccess) {
      cudaGetLastError();
      a.count = 0;
    }
    a.count = std::min(a.count, kMaxDevices);
    return a;
  }();
  return answer;
}

// The driver the caching allocator draws from: cudaMalloc / cudaFree on one device.
class CudaDriver : public DeviceDriver {
 public:
  explicit CudaDriver(int index) : index_(index) {}
  void* allocate(size_t nbytes) override {
    DeviceGuard guard(Device{DeviceType::CUDA, index_});
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, nbytes);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      return nullptr;
    }
    CUDA_CHECK(err, "cuda.malloc");
    return p;
  }
  void release(void* ptr) override {
    DeviceGuard guard(Device{DeviceType::CUDA, index_});
    cudaError_t err = cudaFree(ptr);  // at exit the runtime may be unloaded already: the memory goes anyway
    if (err != cudaSuccess && err != cudaErrorCudartUnloading)
      std::fprintf(stderr, "[cuda.free] CUDA error %s: %s (cuda:%d)\n", cudaGetErrorName(err), cudaGetErrorString(err),
                   index_);
    cudaGetLastError();
  }

 private:
  int index_;
};

struct DeviceState {
  std::unique_ptr<CudaDriver> driver;
  std::unique_ptr<CachingAllocator> allocator;
  std::atomic<Stream> stream{nullptr};
};

// Never destroyed: tensors may still be freed during static destruction at exit.
DeviceState& state(int index) {
  static DeviceState* states = [] {
    auto* s = new DeviceState[kMaxDevices];
    for (int i = 0; i < kMaxDevices; ++i) {
      s[i].driver = std::make_unique<CudaDriver>(i);
      s[i].allocator = std::make_unique<CachingAllocator>(*s[i].driver);
    }
    return s;
  }();
  return states[index];
}

std::atomic<int64_t> transfers{0};

// PYCNN_CUDA_POISON=1 fills every new device block with all-one bytes (NaN as float or double, -1 as int64), so
// that a kernel leaving part of its output unwritten shows up in the tests (tools/gpu_check.sh sets it).
bool poison_new_blocks() {
  static const bool poison = [] {
    const char* v = std::getenv("PYCNN_CUDA_POISON");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return poison;
}

}  // namespace

bool is_built() { return true; }

int device_count() { return device_count_once().count; }

void check_device(int index, const char* op) {
  const DeviceCount& dc = device_count_once();
  if (dc.count == 0) {
    const bool no_driver = dc.error == cudaErrorInsufficientDriver || dc.error == cudaErrorNoDevice ||
                           dc.error == cudaErrorInitializationError;
    PYCNN_CHECK_RUNTIME(false, "[", op, "] no CUDA device is available (",
                        no_driver && dc.error != cudaErrorNoDevice ? "no usable CUDA driver: " : "no GPU found: ",
                        cudaGetErrorName(dc.error), "); pycnn.cuda.is_available() is False");
  }
  PYCNN_CHECK_RUNTIME(index >= 0 && index < dc.count, "[", op, "] CUDA device index ", index,
                      " is out of range: this machine has ", dc.count, " CUDA device(s)");
}

const char* device_name(int index) {
  check_device(index, "cuda.get_device_name");
  // The names are kept for the life of the process so that the returned pointer stays valid.
  static std::mutex mutex;
  static std::vector<std::string> names(kMaxDevices);
  std::lock_guard<std::mutex> lock(mutex);
  if (names[index].empty()) {
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, index), "cuda.get_device_name");
    names[index] = prop.name;
  }
  return names[index].c_str();
}

DeviceGuard::DeviceGuard(Device device) {
  if (!device.is_cuda()) return;
  int now = 0;
  CUDA_CHECK(cudaGetDevice(&now), "cuda.device_guard");
  if (now == device.index) return;
  CUDA_CHECK(cudaSetDevice(device.index), "cuda.device_guard");
  previous_ = now;
}

DeviceGuard::~DeviceGuard() {
  if (previous_ < 0) return;
  cudaSetDevice(previous_);
  cudaGetLastError();  // a destructor must not throw; drop anything it left behind
}

Stream current_stream(int index) { return state(index).stream.load(std::memory_order_relaxed); }

void set_current_stream(int index, Stream stream) {
  check_device(index, "cuda.set_stream");
  state(index).stream.store(stream, std::memory_order_relaxed);
}

Stream create_stream(int index) {
  check_device(index, "cuda.Stream");
  DeviceGuard guard(Device{DeviceType::CUDA, index});
  cudaStream_t s = nullptr;
  CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cuda.Stream");
  return s;
}

void destroy_stream(int index, Stream stream) {
  if (!stream) return;
  DeviceGuard guard(Device{DeviceType::CUDA, index});
  cudaStreamDestroy(static_cast<cudaStream_t>(stream));
  cudaGetLastError();
}

void synchronize(int index) {
  check_device(index, "cuda.synchronize");
  DeviceGuard guard(Device{DeviceType::CUDA, index});
  CUDA_CHECK(cudaDeviceSynchronize(), "cuda.synchronize");
}

void synchronize_stream(int index, Stream stream) {
  check_device(index, "cuda.Stream.synchronize");
  DeviceGuard guard(Device{DeviceType::CUDA, index});
  CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)), "cuda.Stream.synchronize");
}

void* device_malloc(size_t nbytes, int index) {
  check_device(index, "cuda.malloc");
  DeviceState& s = state(index);
  const Stream stream = current_stream(index);
  void* p = s.allocator->allocate(nbytes, stream);
  if (!p) {
    const CachingAllocator::Stats st = s.allocator->stats();
    throw std::runtime_error(str("[cuda.malloc] out of memory on cuda:", index, " allocating ", nbytes, " bytes (",
                                 st.allocated, " bytes in use by tensors, ", st.reserved, " reserved by pycnn)"));
  }
  if (poison_new_blocks() && nbytes > 0) {  // queued on the block's stream, so before any kernel that uses it
    DeviceGuard guard(Device{DeviceType::CUDA, index});
    const cudaError_t err = cudaMemsetAsync(p, 0xFF, nbytes, static_cast<cudaStream_t>(stream));
    if (err != cudaSuccess) s.allocator->free(p);
    CUDA_CHECK(err, "cuda.malloc");
  }
  return p;
}

void device_free(void* ptr, int index) {
  if (ptr && index >= 0 && index < kMaxDevices) state(index).allocator->free(ptr);
}

MemoryStats memory_stats(int index) {
  check_device(index, "cuda.memory_stats");
  const CachingAllocator::Stats st = state(index).allocator->stats();
  MemoryStats m;
  m.allocated = st.allocated, m.peak_allocated = st.peak_allocated;
  m.reserved = st.reserved, m.peak_reserved = st.peak_reserved;
  m.driver_allocs = st.driver_allocs, m.driver_frees = st.driver_frees;
  return m;
}

void reset_peak_memory_stats(int index) {
  check_device(index, "cuda.reset_peak_memory_stats");
  state(index).allocator->reset_peaks();
}

void empty_cache() {
  for (int i = 0; i < device_count(); ++i) {
    synchronize(i);  // blocks freed on a stream may still be read by queued work
    state(i).allocator->empty_cache();
  }
}

void* host_pinned_malloc(size_t nbytes) {
  check_device(0, "pin_memory");
  void* p = nullptr;
  cudaError_t err = cudaHostAlloc(&p, nbytes == 0 ? 1 : nbytes, cudaHostAllocPortable);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw std::runtime_error(str("[pin_memory] out of page-locked host memory allocating ", nbytes, " bytes"));
  }
  CUDA_CHECK(err, "pin_memory");
  return p;
}

void host_pinned_free(void* ptr) {
  if (!ptr) return;
  cudaFreeHost(ptr);
  cudaGetLastError();
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes, bool host_pinned,
                bool non_blocking) {
  const char* op = "to";
  if (dst_device.is_cuda()) check_device(dst_device.index, op);
  if (src_device.is_cuda()) check_device(src_device.index, op);
  if (nbytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, nbytes);
    return;
  }
  const Device gpu = dst_device.is_cuda() ? dst_device : src_device;
  DeviceGuard guard(gpu);
  auto stream = static_cast<cudaStream_t>(current_stream(gpu.index));
  if (dst_device.is_cuda() && src_device.is_cuda()) {
    // Ordered on the destination's current stream; the source device's queued work is waited for first (the
    // runtime stages through the host when the devices have no peer access).
    if (src_device.index == dst_device.index) {
      CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, nbytes, stream), op);
      return;
    }
    synchronize_stream(src_device.index, current_stream(src_device.index));
    CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, nbytes, stream), op);
    // The copy still reads src when this returns: the source's stream waits for it, so that later work there
    // (an in-place op, or the caching allocator handing a freed temporary's block to the next request on that
    // stream) cannot overwrite src under the copy.
    cudaEvent_t copied = nullptr;
    CUDA_CHECK(cudaEventCreateWithFlags(&copied, cudaEventDisableTiming), op);
    cudaError_t err = cudaEventRecord(copied, stream);
    if (err == cudaSuccess) {
      DeviceGuard src_guard(src_device);
      err = cudaStreamWaitEvent(static_cast<cudaStream_t>(current_stream(src_device.index)), copied, 0);
    }
    cudaEventDestroy(copied);  // released once the wait is satisfied
    CUDA_CHECK(err, op);
    return;
  }
  ++transfers;
  const cudaMemcpyKind kind = dst_device.is_cpu() ? cudaMemcpyDeviceToHost : cudaMemcpyHostToDevice;
  CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, kind, stream), op);
  // Pageable host memory: the host buffer must be complete (device -> host) or reusable (host -> device)
  // on return. Pinned memory with non_blocking leaves the copy queued on the stream, like torch.
  if (!(host_pinned && non_blocking)) CUDA_CHECK(cudaStreamSynchronize(stream), op);
}

int64_t host_transfer_count() { return transfers.load(); }

}  // namespace pycnn::cuda
#endif  // __CUDA_ARCH__
