// The generic pieces every CUDA kernel file builds on: the current stream, a grid-stride launch of a
// per-element body (the elementwise launcher: contiguous or through a StridedIndexer), and the warp and
// block reductions. Bodies are functor structs with a PYCNN_HD operator()(int64_t i), so that a C++ test can
// run the same body over the whole index range on the CPU.
#pragma once
#include <cuda_runtime.h>

#include "pycnn/core/cuda/cuda_check.cuh"  // defines: CUDA_CHECK, CUDA_CHECK_LAUNCH
#include "pycnn/core/cuda_runtime.h"       // defines: current_stream
#include "pycnn/ops/cuda/indexing.h"       // defines: StridedIndexer, blocks_for, kBlockThreads

namespace pycnn::cuda {

// The current stream of the current device (the dispatch made the op's device current).
inline cudaStream_t stream() {
  int device = 0;
  cudaGetDevice(&device);
  return static_cast<cudaStream_t>(current_stream(device));
}

template <typename Body>
__global__ void for_each_kernel(int64_t n, Body body) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) body(i);
}

// Runs body(i) for i in [0, n) on the current stream. Nothing is launched for n == 0.
template <typename Body>
void for_each(int64_t n, const Body& body, const char* op) {
  if (n <= 0) return;
  for_each_kernel<<<blocks_for(n), kBlockThreads, 0, stream()>>>(n, body);
  CUDA_CHECK_LAUNCH(op);
}

// ---- reductions: sums in a fixed order (warp tree, then the warps' results in order), so that the same
// input gives bitwise the same result on every run ----
template <typename T, typename Op>
__device__ inline T warp_reduce(T v, Op op) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) v = op(v, __shfl_down_sync(0xffffffffu, v, offset));
  return v;
}

// Reduces one value per thread of the block; the result is valid in thread 0. blockDim.x must be a multiple
// of 32 (at most 1024). Ends with a barrier, so that it can be called again at once.
template <typename T, typename Op>
__device__ inline T block_reduce(T v, Op op, T identity) {
  __shared__ T partial[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_reduce(v, op);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / 32;
  v = threadIdx.x < warps ? partial[threadIdx.x] : identity;
  if (warp == 0) v = warp_reduce(v, op);
  __syncthreads();
  return v;
}

struct SumOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    return a + b;
  }
};
struct MaxOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    return a != a || a > b ? a : b;
  }  // NaN wins, as in torch
};

}  // namespace pycnn::cuda
