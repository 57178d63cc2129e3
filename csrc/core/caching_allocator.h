// A caching allocator for one device: blocks carved out of large driver allocations ("segments"), kept
// when freed and reused for later requests on the same stream, so that steady-state training makes no
// driver call (cudaMalloc is slow and cudaFree synchronises the whole device). It knows nothing of CUDA:
// the driver is an interface, so the C++ tests run it on the CPU against a fake one.
//
// Sizes round up to 512 bytes. Requests of up to 1 MiB come from 2 MiB segments, up to 10 MiB from 20 MiB
// segments, larger ones from a segment of their own (rounded to 2 MiB). A free block is split when the rest
// is worth keeping, and merged with its free neighbours of the same segment when freed. A request takes the
// smallest free block of its stream that fits (best fit). When the driver fails, every wholly free segment
// is returned and the request tried once more before the out-of-memory error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <unordered_map>

namespace pycnn {

class DeviceDriver {
 public:
  virtual ~DeviceDriver() = default;
  virtual void* allocate(size_t nbytes) = 0;  // nullptr when out of memory; throws on other errors
  virtual void release(void* ptr) = 0;
};

class CachingAllocator {
 public:
  static constexpr size_t kRound = 512, kSmallRequest = size_t(1) << 20, kSmallSegment = size_t(2) << 20;
  static constexpr size_t kMidRequest = size_t(10) << 20, kMidSegment = size_t(20) << 20;

  struct Stats {
    size_t allocated = 0, peak_allocated = 0, reserved = 0, peak_reserved = 0;
    int64_t driver_allocs = 0, driver_frees = 0;
  };

  explicit CachingAllocator(DeviceDriver& driver) : driver_(driver) {}
  ~CachingAllocator();  // returns every segment to the driver; live blocks must be gone by then
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // nullptr when the driver cannot provide the memory even after the cache was emptied.
  void* allocate(size_t nbytes, void* stream);
  void free(void* ptr);  // ptr must come from allocate(); nullptr is ignored
  void empty_cache();    // returns every wholly free segment to the driver
  Stats stats() const;
  void reset_peaks();
  size_t block_size(void* ptr) const;  // the rounded size of a live block (tests)

 private:
  struct Block {
    char* ptr;
    size_t size;
    void* stream;
    bool free = false;
    Block* prev = nullptr;  // neighbours within the same segment
    Block* next = nullptr;
  };
  struct BySize {  // free blocks ordered by (stream, size, address): lower_bound finds the best fit
    bool operator()(const Block* a, const Block* b) const;
  };

  static size_t round_size(size_t nbytes);
  static size_t segment_size(size_t rounded);
  Block* find_free(size_t size, void* stream);
  Block* new_segment(size_t size, void* stream);
  void split(Block* block, size_t size);
  void release_free_segments();

  DeviceDriver& driver_;
  mutable std::mutex mu_;
  std::set<Block*, BySize> free_;
  std::unordered_map<void*, Block*> live_;
  Stats stats_;
};

}  // namespace pycnn
