// CUDA 2-D convolution: x (N, C, H, W), w (OC, C/groups, KH, KW), b (OC,) or null, y (N, OC, OH, OW), all
// contiguous; the contract of ops/cpu/conv2d.cpp. Forward, input gradient and weight gradient are implicit
// GEMMs (no im2col buffer): one shared-memory tiled kernel, conv_gemm_kernel, runs the three "problems" of
// ops/cuda/conv_bodies.h, which say how A, B and the output are addressed. Depthwise convolutions (one input
// channel per group) take direct kernels instead, as on the CPU. Everything is deterministic: each output
// element is summed by one thread in a fixed order; the weight gradient's split reduction adds its partials
// in split order.
#include <cuda_runtime.h>

#include <algorithm>  // defines: std::max

#include "pycnn/ops/cuda/conv_bodies.h"  // defines: ConvTile, the problems, the depthwise bodies
#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/launch.cuh"  // defines: stream, for_each, block_reduce, CUDA_CHECK_LAUNCH

namespace pycnn::cuda {

namespace {

// Grid: x walks BN-wide column tiles, y BM-tall row tiles, z (group, split) pairs; split s reduces
// [s * chunk, (s + 1) * chunk) of the problem's depth.
template <typename T, int BM, int BN, int BK, int TM, int TN, typename Problem>
__global__ void __launch_bounds__((BM / TM) * (BN / TN)) conv_gemm_kernel(Problem pb, int splits, int chunk) {
  using Tile = ConvTile<T, BM, BN, BK, TM, TN>;
  __shared__ typename Tile::A as;
  __shared__ typename Tile::B bs;
  const int tid = threadIdx.x;
  const int grp = blockIdx.z / splits, split = blockIdx.z % splits;
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
  const SplitRange range = split_range(pb.depth(), chunk, split);

  T acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = T(0);

  for (int r0 = range.begin; r0 < range.end; r0 += BK) {
    Tile::load_a(pb, tid, as, grp, row0, r0, range.end);
    Tile::load_b(pb, tid, bs, grp, col0, r0, range.end);
    __syncthreads();
    Tile::multiply(tid, as, bs, acc);
    __syncthreads();  // everyone is done reading before the next slice overwrites the tiles
  }
  Tile::store(pb, tid, acc, grp, split, row0, col0);
}

template <typename T, typename Problem>
void launch_conv_gemm(const Problem& pb, int64_t groups, int64_t splits, int64_t chunk, const char* op) {
  using S = ConvTiles<T>;
  const int64_t tiles_n = (pb.cols() + S::BN - 1) / S::BN, tiles_m = (pb.rows() + S::BM - 1) / S::BM;
  if (tiles_n == 0 || tiles_m == 0 || groups == 0) return;  // nothing to write; an empty grid is an error
  PYCNN_CHECK_RUNTIME(tiles_m <= 65535 && groups * splits <= 65535 && tiles_n < (int64_t(1) << 31), "[", op,
                      "] the convolution is too large for the CUDA kernel's grid (", tiles_n, " x ", tiles_m, " x ",
                      groups * splits, " blocks)");
  constexpr int kThreads = ConvTile<T, S::BM, S::BN, S::BK, S::TM, S::TN>::kThreads;
  const dim3 grid(static_cast<unsigned>(tiles_n), static_cast<unsigned>(tiles_m),
                  static_cast<unsigned>(groups * splits));
  conv_gemm_kernel<T, S::BM, S::BN, S::BK, S::TM, S::TN>
      <<<grid, kThreads, 0, stream()>>>(pb, static_cast<int>(splits), static_cast<int>(chunk));
  CUDA_CHECK_LAUNCH(op);
}

bool is_depthwise(const Conv2dGeometry& g) { return g.Cg == 1 && g.G > 1; }  // the CPU kernels' choice

ConvIndex index_of(const Conv2dGeometry& g, const char* op) {
  PYCNN_CHECK_RUNTIME(conv_index_fits(g), "[", op, "] the CUDA kernels index in 32 bits, and this convolution (input ",
                      g.N, "x", g.C, "x", g.H, "x", g.W, ", ", g.OC,
                      " output channels) has a tensor of about 2^31 elements or more: split the batch");
  return conv_index(g);
}

template <typename T>
__global__ void depthwise_weight_grad_kernel(DepthwiseWeightGradPartial<T> body) {
  const T part = body(blockIdx.x, threadIdx.x, blockDim.x);
  const T sum = block_reduce(part, SumOp{}, T(0));
  if (threadIdx.x == 0) body.dw[blockIdx.x] = sum;
}

}  // namespace

template <typename T>
void conv2d_forward(const T* x, const T* w, const T* b, T* y, const Conv2dGeometry& g) {
  if (g.N == 0 || g.OC == 0 || g.P == 0) return;
  const char* op = "conv2d";
  const ConvIndex ix = index_of(g, op);
  if (is_depthwise(g)) return for_each(g.N * g.OC * g.P, DepthwiseForward<T>{ix, x, w, b, y}, op);
  launch_conv_gemm<T>(ConvForwardProblem<T>{ix, x, w, b, y}, g.G, 1, std::max<int64_t>(g.K, 1), op);
}

template <typename T>
void conv2d_input_grad(const T* dout, const T* w, T* dx, const Conv2dGeometry& g) {
  const char* op = "conv2d_backward";
  const ConvIndex ix = index_of(g, op);
  if (is_depthwise(g)) return for_each(g.N * g.C * g.H * g.W, DepthwiseInputGrad<T>{ix, dout, w, dx}, op);
  const ConvInputGradProblem<T> pb{ix, dout, w, dx};
  launch_conv_gemm<T>(pb, g.G, 1, std::max<int64_t>(pb.depth(), 1), op);
}

template <typename T>
void conv2d_weight_grad(const T* dout, const T* x, T* dw, const Conv2dGeometry& g) {
  const char* op = "conv2d_backward";
  const int64_t wsize = g.OC * g.K;
  if (wsize == 0) return;
  const ConvIndex ix = index_of(g, op);
  if (is_depthwise(g)) {
    depthwise_weight_grad_kernel<T>
        <<<static_cast<unsigned>(wsize), kBlockThreads, 0, stream()>>>(DepthwiseWeightGradPartial<T>{ix, dout, x, dw});
    CUDA_CHECK_LAUNCH(op);
    return;
  }
  const SplitPlan plan = weight_grad_split<T>(g);
  const int64_t splits = plan.splits, chunk = plan.chunk;
  if (splits == 1) {
    launch_conv_gemm<T>(ConvWeightGradProblem<T>{ix, dout, x, dw}, g.G, 1, chunk, op);
    return;
  }
  // The partial sums go to a workspace from the caching allocator (stream-ordered: freed on return, reused
  // only by work queued after this), then are added in split order.
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device), op);
  Tensor partial = Tensor::empty({splits * wsize}, dtype_of<T>::value, Device{DeviceType::CUDA, device});
  launch_conv_gemm<T>(ConvWeightGradProblem<T>{ix, dout, x, partial.data<T>()}, g.G, splits, chunk, op);
  for_each(wsize, SumSplits<T>{partial.data<T>(), dw, splits, wsize}, op);
}

#define PYCNN_INSTANTIATE_CONV2D(T)                                                         \
  template void conv2d_forward<T>(const T*, const T*, const T*, T*, const Conv2dGeometry&); \
  template void conv2d_input_grad<T>(const T*, const T*, T*, const Conv2dGeometry&);        \
  template void conv2d_weight_grad<T>(const T*, const T*, T*, const Conv2dGeometry&);
PYCNN_INSTANTIATE_CONV2D(float)
PYCNN_INSTANTIATE_CONV2D(double)

}  // namespace pycnn::cuda
