// Storage allocation: aligned host memory on the CPU, cudaMalloc (through the CUDA backend) on a GPU.
#include "core/storage.h"

#include <cstdlib>
#include <new>

#include "core/check.h"
#include "ops/cuda_backend.h"  // defines: cuda::device_malloc / device_free

namespace pycnn {

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  size_t padded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  if (padded == 0) padded = kCpuAlignment;  // keep a valid pointer for empty tensors
  if (device.is_cpu()) {
    data_ = std::aligned_alloc(kCpuAlignment, padded);
    if (!data_) throw std::bad_alloc();
  } else {
    data_ = cuda::device_malloc(padded, device.index);
  }
}

Storage::Storage(void* data, size_t nbytes, Device device, std::function<void()> release)
    : data_(data), nbytes_(nbytes), device_(device), release_(std::move(release)) {}

Storage::~Storage() {
  if (release_) {
    release_();
  } else if (device_.is_cpu()) {
    std::free(data_);
  } else {
    cuda::device_free(data_, device_.index);
  }
}

}  // namespace pycnn
