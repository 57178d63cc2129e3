// The segmented reduction launcher of reduce.cu, norm.cu and loss.cu: one block per segment of a segment
// body (ops/cuda/reduce_bodies.h), threads striding over its terms, then a block reduction in a fixed order.
// Few long segments are split into chunks reduced in two passes (partials in a scratch tensor, then each
// segment's chunks in order), so that a single sum still fills the GPU. The split depends on the shapes
// only, so results are bitwise reproducible. Scratch memory comes from the caching allocator (a Tensor on
// the current device and stream), never from cudaMalloc, and is freed without a synchronisation.
#pragma once
#include "pycnn/core/tensor.h"             // defines: Tensor (scratch)
#include "pycnn/ops/cuda/launch.cuh"       // defines: stream, block_reduce, CUDA_CHECK_LAUNCH
#include "pycnn/ops/cuda/reduce_bodies.h"  // defines: ChunkPartials, ChunkTotals

namespace pycnn::cuda {

constexpr int kReduceThreads = 512;

template <typename Combine>
struct CombineOp {
  __device__ double operator()(double a, double b) const { return Combine::combine(a, b); }
};

template <typename Seg>
__global__ void __launch_bounds__(kReduceThreads) segment_reduce_kernel(int64_t segments, Seg seg) {
  using Combine = typename Seg::Combine;
  for (int64_t g = blockIdx.x; g < segments; g += gridDim.x) {
    double acc[Seg::K];
#pragma unroll
    for (int k = 0; k < Seg::K; ++k) acc[k] = 0;
    for (int64_t j = threadIdx.x; j < seg.len; j += blockDim.x) seg.term(g, j, acc);
#pragma unroll
    for (int k = 0; k < Seg::K; ++k) acc[k] = block_reduce(acc[k], CombineOp<Combine>{}, 0.0);
    if (threadIdx.x == 0) seg.finish(g, acc);
  }
}

template <typename Seg>
void launch_segments(int64_t segments, const Seg& seg, const char* op) {
  if (segments <= 0) return;
  segment_reduce_kernel<<<blocks_for(segments, 1), kReduceThreads, 0, stream()>>>(segments, seg);
  CUDA_CHECK_LAUNCH(op);
}

// A float64 scratch tensor of n elements on the current device (stream-ordered: safe to drop while the
// kernels that use it are still queued).
inline Tensor device_scratch(int64_t n) {
  int device = 0;
  cudaGetDevice(&device);
  return Tensor::empty({n}, DType::Float64, Device{DeviceType::CUDA, device});
}

// How many chunks each segment is split into: enough blocks to fill the GPU when there are few long
// segments, each chunk still at least kMinChunk terms long.
inline int64_t chunks_for(int64_t segments, int64_t len) {
  constexpr int64_t kMinChunk = 16384, kTargetBlocks = 1024;
  if (segments >= kTargetBlocks / 4 || len < 2 * kMinChunk) return 1;
  return std::max<int64_t>(1, std::min((len + kMinChunk - 1) / kMinChunk, kTargetBlocks / segments));
}

// Runs seg.finish(g, ...) for every g in [0, segments) with the reduction of its seg.len terms.
template <typename Seg>
void reduce_segments(int64_t segments, const Seg& seg, const char* op) {
  if (segments <= 0) return;  // chunks_for divides by segments
  const int64_t chunks = chunks_for(segments, seg.len);
  if (chunks == 1) return launch_segments(segments, seg, op);
  Tensor partial = device_scratch(segments * chunks * Seg::K);
  double* p = partial.data<double>();
  const int64_t chunk_len = (seg.len + chunks - 1) / chunks;
  launch_segments(segments * chunks, ChunkPartials<Seg>{seg, chunks, chunk_len, p}, op);
  launch_segments(segments, ChunkTotals<Seg>{seg, chunks, p}, op);
}

}  // namespace pycnn::cuda
