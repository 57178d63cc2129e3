// Storage: one reference-counted block of memory on one device. Tensors are views into a Storage
// (shape, strides, offset), so reshape/transpose/slices share memory. CPU blocks are 64-byte aligned.
// Device blocks come from the caching allocator (core/cuda_runtime.h).
// A Storage can also wrap memory it does not own (a NumPy array), kept alive by its deleter.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "pycnn/core/device.h"

namespace pycnn {

class Storage {
 public:
  // Allocates nbytes on `device` (uninitialised). A pinned block is page-locked host memory (CPU device), which
  // copies to and from a GPU can use asynchronously.
  Storage(size_t nbytes, Device device, bool pinned = false);
  // Wraps foreign memory; `release` runs when the last tensor viewing it goes away.
  Storage(void* data, size_t nbytes, Device device, std::function<void()> release);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  bool pinned() const { return pinned_; }

  // Counts in-place writes to this memory, for every view of it: autograd records it when it saves a tensor for
  // backward and refuses to use the tensor if it has moved since (the values are no longer the ones saved).
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  bool pinned_ = false;
  std::function<void()> release_;
  std::atomic<uint64_t> version_{0};
};

constexpr size_t kCpuAlignment = 64;

// The host block cache (storage.cpp): bytes of live and of cached blocks of at least 64 KiB, the peak of
// live bytes, and the least it may cache; live + cached never exceeds max(peak_live, min_capacity).
struct HostCacheStats {
  size_t live, cached, peak_live, min_capacity;
};
HostCacheStats host_cache_stats();

}  // namespace pycnn
