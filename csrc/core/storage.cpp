// Storage allocation: aligned host memory on the CPU, the caching allocator (core/cuda_runtime.h) on a GPU.
// Large host blocks are recycled through a small cache (see HostBlockCache).
#include "core/storage.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/check.h"
#include "core/cuda_runtime.h"  // defines: cuda::device_malloc / device_free / host_pinned_malloc
#include "core/parallel.h"      // defines: in_forked_child

namespace pycnn {

namespace {

// Freed host blocks of at least kMinBytes are kept for reuse, by exact size, up to kMaxBytes in all.
// Training allocates the same activation sizes every step; handing large blocks back to the OS and
// faulting fresh zeroed pages in again cost ~10% of a LeNet-5 training step. Bypassed in a forked child
// (the mutex may have been held by a thread that fork did not copy).
class HostBlockCache {
 public:
  static constexpr size_t kMinBytes = size_t(64) << 10, kMaxBytes = size_t(256) << 20;

  void* take(size_t nbytes) {
    if (nbytes < kMinBytes || in_forked_child()) return nullptr;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(nbytes);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_ -= nbytes;
    return p;
  }

  // True when the cache took the block; the caller frees it otherwise.
  bool give(void* p, size_t nbytes) {
    if (nbytes < kMinBytes || in_forked_child()) return false;
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_ + nbytes > kMaxBytes) return false;
    free_[nbytes].push_back(p);
    cached_ += nbytes;
    return true;
  }

 private:
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0;
};

// Never destroyed: storages may still be freed during static destruction at exit.
HostBlockCache& host_cache() {
  static HostBlockCache* cache = new HostBlockCache;
  return *cache;
}

size_t padded_size(size_t nbytes) {
  size_t padded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  return padded == 0 ? kCpuAlignment : padded;  // keep a valid pointer for empty tensors
}

}  // namespace

Storage::Storage(size_t nbytes, Device device, bool pinned) : nbytes_(nbytes), device_(device), pinned_(pinned) {
  const size_t padded = padded_size(nbytes);
  if (pinned) {
    PYCNN_CHECK_RUNTIME(device.is_cpu(), "[pin_memory] only host memory can be pinned, not ", device.str());
    data_ = cuda::host_pinned_malloc(padded);
  } else if (device.is_cpu()) {
    data_ = host_cache().take(padded);
    if (!data_) data_ = std::aligned_alloc(kCpuAlignment, padded);
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
  } else if (pinned_) {
    cuda::host_pinned_free(data_);
  } else if (device_.is_cpu()) {
    if (!host_cache().give(data_, padded_size(nbytes_))) std::free(data_);
  } else {
    cuda::device_free(data_, device_.index);
  }
}

}  // namespace pycnn
