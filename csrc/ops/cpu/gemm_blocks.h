// Pieces shared by the two drivers of the packed GEMM kernels (simd/simd.h): cpu::gemm (gemm.cpp) and
// the implicit-GEMM convolution (conv2d.cpp): per-thread scratch buffers and the block-size arithmetic.
// The kernels and their blocking come from the kernel set in use (gemm_kernels<T>(), simd/simd.h).
#pragma once
#include <algorithm>  // defines: std::max, std::min
#include <cstdint>
#include <new>  // defines: aligned operator new

#include "pycnn/ops/cpu/simd/simd.h"  // defines: GemmKernels, gemm_kernels

namespace pycnn::cpu {

// A grow-only, 64-byte aligned scratch buffer (the macro-kernel reads packed panels with aligned loads).
// Used thread_local, so OpenMP's pooled threads keep theirs across calls: small GEMMs and per-image conv
// work do no allocation after the first call.
class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ~ScratchBuffer() { release(); }

  template <typename T>
  T* get(int64_t count) {
    const size_t bytes = sizeof(T) * static_cast<size_t>(std::max<int64_t>(count, 1));
    if (bytes > capacity_) {
      release();
      data_ = ::operator new(bytes, std::align_val_t{64});
      capacity_ = bytes;
    }
    return static_cast<T*>(data_);
  }

 private:
  void release() {
    if (data_) ::operator delete(data_, std::align_val_t{64});
    data_ = nullptr;
    capacity_ = 0;
  }
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Splits `total` into the fewest blocks of at most `max_block`, of even size rounded up to `unit`: K = 300
// becomes 2 x 150 rather than 256 + 44, so no slice is too thin to amortise its C update.
inline int64_t even_block(int64_t total, int64_t max_block, int64_t unit) {
  if (total <= 0) return unit;
  return std::min(max_block, round_up(ceil_div(total, ceil_div(total, max_block)), unit));
}

}  // namespace pycnn::cpu
