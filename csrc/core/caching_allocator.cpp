#include "pycnn/core/caching_allocator.h"

#include <algorithm>
#include <functional>
#include <vector>

namespace pycnn {

bool CachingAllocator::BySize::operator()(const Block* a, const Block* b) const {
  if (a->stream != b->stream) return std::less<void*>()(a->stream, b->stream);
  if (a->size != b->size) return a->size < b->size;
  return std::less<char*>()(a->ptr, b->ptr);
}

size_t CachingAllocator::round_size(size_t nbytes) {
  return nbytes == 0 ? kRound : (nbytes + kRound - 1) / kRound * kRound;
}

size_t CachingAllocator::segment_size(size_t rounded) {
  if (rounded <= kSmallRequest) return kSmallSegment;
  if (rounded <= kMidRequest) return kMidSegment;
  return (rounded + kSmallSegment - 1) / kSmallSegment * kSmallSegment;
}

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lock(mu_);
  release_free_segments();
}

CachingAllocator::Block* CachingAllocator::find_free(size_t size, void* stream) {
  Block key{nullptr, size, stream};
  auto it = free_.lower_bound(&key);
  if (it == free_.end() || (*it)->stream != stream) return nullptr;
  // A small request must not pin a large segment's block: it would keep that segment from being returned.
  if (size <= kSmallRequest && (*it)->size > kMidSegment) return nullptr;
  Block* block = *it;
  free_.erase(it);
  return block;
}

CachingAllocator::Block* CachingAllocator::new_segment(size_t size, void* stream) {
  const size_t bytes = segment_size(size);
  void* p = driver_.allocate(bytes);
  if (!p) {
    release_free_segments();
    p = driver_.allocate(bytes);
    if (!p) return nullptr;
  }
  ++stats_.driver_allocs;
  stats_.reserved += bytes;
  stats_.peak_reserved = std::max(stats_.peak_reserved, stats_.reserved);
  return new Block{static_cast<char*>(p), bytes, stream};
}

// Keeps the first `size` bytes in `block` and puts the rest back as a free block, when the rest is worth it.
void CachingAllocator::split(Block* block, size_t size) {
  const size_t rest = block->size - size;
  const size_t min_rest = block->size <= kSmallSegment ? kRound : kSmallRequest;
  if (rest < min_rest) return;
  Block* tail = new Block{block->ptr + size, rest, block->stream, true, block, block->next};
  if (block->next) block->next->prev = tail;
  block->next = tail;
  block->size = size;
  free_.insert(tail);
}

void* CachingAllocator::allocate(size_t nbytes, void* stream) {
  const size_t size = round_size(nbytes);
  std::lock_guard<std::mutex> lock(mu_);
  Block* block = find_free(size, stream);
  if (!block) block = new_segment(size, stream);
  if (!block) return nullptr;
  split(block, size);
  block->free = false;
  live_[block->ptr] = block;
  stats_.allocated += block->size;
  stats_.peak_allocated = std::max(stats_.peak_allocated, stats_.allocated);
  return block->ptr;
}

void CachingAllocator::free(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(ptr);
  if (it == live_.end()) return;  // not ours: ignore rather than corrupt the pool
  Block* block = it->second;
  live_.erase(it);
  stats_.allocated -= block->size;
  block->free = true;
  // Merge with free neighbours; they leave the free set while their size changes.
  for (Block* other : {block->prev, block->next}) {
    if (!other || !other->free) continue;
    free_.erase(other);
    Block* first = other == block->prev ? other : block;
    Block* second = first == other ? block : other;
    first->size += second->size;
    first->next = second->next;
    if (second->next) second->next->prev = first;
    delete second;
    block = first;
  }
  free_.insert(block);
}

// A segment is wholly free when its one block has no neighbours and is free.
void CachingAllocator::release_free_segments() {
  std::vector<Block*> whole;
  for (Block* b : free_)
    if (!b->prev && !b->next) whole.push_back(b);
  for (Block* b : whole) {
    free_.erase(b);
    driver_.release(b->ptr);
    ++stats_.driver_frees;
    stats_.reserved -= b->size;
    delete b;
  }
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  release_free_segments();
}

CachingAllocator::Stats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void CachingAllocator::reset_peaks() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.peak_allocated = stats_.allocated;
  stats_.peak_reserved = stats_.reserved;
}

size_t CachingAllocator::block_size(void* ptr) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(ptr);
  return it == live_.end() ? 0 : it->second->size;
}

}  // namespace pycnn
