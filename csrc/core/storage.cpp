// Storage allocation: aligned host memory on the CPU, the caching allocator (core/cuda_runtime.h) on a GPU.
// Large host blocks are recycled through a small cache (see HostBlockCache).
#include "pycnn/core/storage.h"

#include <algorithm>  // defines: std::max, std::min
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "pycnn/core/check.h"
#include "pycnn/core/cuda_runtime.h"  // defines: cuda::device_malloc / device_free / host_pinned_malloc
#include "pycnn/core/parallel.h"      // defines: in_forked_child

namespace pycnn {

namespace {

// Host blocks of at least kMinBytes go through this cache: freed ones are kept for reuse, by exact size.
// Training allocates the same activation sizes every step; handing large blocks back to the OS and faulting
// fresh zeroed pages in again cost ~10% of a LeNet-5 training step, and at ResNet-18 batch 128 (1.3 GB of
// activations) the page faults took 30% of the step. The cache may hold as much as the peak of live bytes
// (at least kMinCapacity): a step's blocks then all come back the next step, while the memory the process
// holds (live + cached) stays within what it already needed at its peak: before a new block is taken from
// the OS, cached blocks of other sizes are returned until live + cached + the request fits that bound.
// Bypassed in a forked child (the mutex may have been held by a thread that fork did not copy).
class HostBlockCache {
 public:
  static constexpr size_t kMinBytes = size_t(64) << 10, kMinCapacity = size_t(256) << 20;

  void* allocate(size_t nbytes) {
    if (nbytes < kMinBytes || in_forked_child()) return checked_alloc(nbytes);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(nbytes);
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      cached_ -= nbytes, live_ += nbytes;
      return p;
    }
    peak_live_ = std::max(peak_live_, live_ + nbytes);
    const size_t capacity = std::max(peak_live_, kMinCapacity);
    evict_to(capacity - std::min(capacity, live_ + nbytes));
    void* p = std::aligned_alloc(kCpuAlignment, nbytes);
    if (!p) {  // out of memory: give every cached block back and try once more
      evict_to(0);
      p = checked_alloc(nbytes);
    }
    live_ += nbytes;
    return p;
  }

  HostCacheStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return {live_, cached_, peak_live_, kMinCapacity};
  }

  void release(void* p, size_t nbytes) {
    if (nbytes < kMinBytes || in_forked_child()) return std::free(p);
    std::lock_guard<std::mutex> lock(mu_);
    live_ -= nbytes;
    free_[nbytes].push_back(p);  // live + cached is unchanged
    cached_ += nbytes;
  }

 private:
  static void* checked_alloc(size_t nbytes) {
    void* p = std::aligned_alloc(kCpuAlignment, nbytes);
    if (!p) throw std::bad_alloc();
    return p;
  }

  // Returns cached blocks to the OS until at most `bytes` stay cached.
  void evict_to(size_t bytes) {
    for (auto it = free_.begin(); it != free_.end() && cached_ > bytes; ++it)
      while (!it->second.empty() && cached_ > bytes) {
        std::free(it->second.back());
        it->second.pop_back();
        cached_ -= it->first;
      }
  }

  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0, live_ = 0, peak_live_ = 0;
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

HostCacheStats host_cache_stats() { return host_cache().stats(); }

Storage::Storage(size_t nbytes, Device device, bool pinned) : nbytes_(nbytes), device_(device), pinned_(pinned) {
  const size_t padded = padded_size(nbytes);
  if (pinned) {
    PYCNN_CHECK_RUNTIME(device.is_cpu(), "[pin_memory] only host memory can be pinned, not ", device.str());
    data_ = cuda::host_pinned_malloc(padded);
  } else if (device.is_cpu()) {
    data_ = host_cache().allocate(padded);
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
    host_cache().release(data_, padded_size(nbytes_));
  } else {
    cuda::device_free(data_, device_.index);
  }
}

}  // namespace pycnn
