// Index arithmetic shared by the CUDA kernels, written as plain host/device code (PYCNN_HD) so that the C++
// tests run it on the CPU: the strided walk of the elementwise launcher, and the 1-D launch shape.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>

#include "pycnn/core/check.h"
#include "pycnn/core/host_device.h"  // defines: PYCNN_HD
#include "pycnn/ops/kernel_args.h"   // defines: Shape

namespace pycnn::cuda {

constexpr int kMaxDims = 12;

// Element offsets of N strided views of one shape, from the linear (row-major) index of an element. The
// shape is kept innermost-first with mergeable dims merged (so a contiguous tensor has one dim) and size-1
// dims dropped: the per-element cost is one division per remaining dim.
template <int N>
struct StridedIndexer {
  int rank = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};

  PYCNN_HD void offsets(int64_t linear, int64_t (&out)[N]) const {
    for (int t = 0; t < N; ++t) out[t] = 0;
    for (int d = 0; d < rank; ++d) {
      const int64_t i = linear % sizes[d];
      linear /= sizes[d];
      for (int t = 0; t < N; ++t) out[t] += i * strides[t][d];
    }
  }
};

// Builds the indexer for `shape` and one strides vector per view (element strides, 0 along broadcast dims).
template <int N>
StridedIndexer<N> make_indexer(const Shape& shape, const std::array<const Shape*, N>& strides, const char* op) {
  StridedIndexer<N> ix;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    if (shape[d] == 1) continue;
    // Merge into the previous (inner) dim when every view steps over it exactly: stride[d] = stride[inner] * size.
    bool merge = ix.rank > 0;
    for (int t = 0; t < N && merge; ++t) merge = (*strides[t])[d] == ix.strides[t][ix.rank - 1] * ix.sizes[ix.rank - 1];
    if (merge) {
      ix.sizes[ix.rank - 1] *= shape[d];
      continue;
    }
    PYCNN_CHECK(ix.rank < kMaxDims, "[", op, "] CUDA kernels take tensors of at most ", kMaxDims,
                " non-mergeable dims, got shape ", shape_str(shape));
    ix.sizes[ix.rank] = shape[d];
    for (int t = 0; t < N; ++t) ix.strides[t][ix.rank] = (*strides[t])[d];
    ++ix.rank;
  }
  return ix;
}

// A grid-stride launch over n elements: threads per block, and enough blocks to fill the GPU several times
// over without exceeding what one launch may ask for.
constexpr int kBlockThreads = 256;
constexpr int64_t kMaxBlocks = int64_t(1) << 16;
inline unsigned blocks_for(int64_t n, int threads = kBlockThreads) {
  return static_cast<unsigned>(std::clamp<int64_t>((n + threads - 1) / threads, 1, kMaxBlocks));
}

}  // namespace pycnn::cuda
