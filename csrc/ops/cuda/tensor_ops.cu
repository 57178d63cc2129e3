// Tensor operations on a GPU: gathers and scatters along one dim of (A, N, B), max/min with indices,
// comparisons, where and maximum/minimum (operands already broadcast and contiguous), and masked
// select/scatter. Per-element bodies: ops/cuda/tensor_ops_bodies.h. Scatters own their destinations (no
// floating-point atomics; the one atomic is masked_select's integer count), so every result is deterministic.
#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/launch.cuh"
#include "pycnn/ops/cuda/tensor_ops_bodies.h"

namespace pycnn::cuda {

using namespace tensor_ops_bodies;

template <typename T>
void index_select_anb(const T* x, const int64_t* index, T* out, int64_t A, int64_t N, int64_t K, int64_t B) {
  for_each(A * K * B, IndexSelect<T>{x, index, out, N, K, B}, "index_select");
}

// Ordered runs over the rows (see IndexAdd): deterministic without atomics.
template <typename T>
void index_add_anb(const T* dout, const int64_t* index, T* dx, int64_t A, int64_t N, int64_t K, int64_t B) {
  int64_t chunks, chunk;
  index_add_runs(A * B, N, chunks, chunk);
  for_each(chunks * A * B, IndexAdd<T>{dout, index, dx, A, N, K, B, chunk}, "index_select_backward");
}

// ---- masked select / scatter: the output position of element i is the count of set mask entries before
// it, an exclusive prefix sum. One block walks the tensor in chunks of its size, scanning each chunk with
// warp shuffles and carrying the running count: no scratch memory, in order, deterministic; but a single
// block, so it runs on one SM (fine for masks of up to a few million elements). ----
namespace {  // file-local: kernel and helper names other families might also use
constexpr int kScanThreads = 1024;

// The exclusive prefix count of `flag` over the block, plus the block's total in *total; ends synchronised.
__device__ inline int block_exclusive_count(int flag, int* total) {
  __shared__ int warp_sums[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  int v = flag;
  for (int o = 1; o < 32; o *= 2) {
    const int u = __shfl_up_sync(0xffffffffu, v, o);
    if (lane >= o) v += u;
  }
  if (lane == 31) warp_sums[warp] = v;
  __syncthreads();
  if (warp == 0) {
    int w = lane < warps ? warp_sums[lane] : 0;
    for (int o = 1; o < 32; o *= 2) {
      const int u = __shfl_up_sync(0xffffffffu, w, o);
      if (lane >= o) w += u;
    }
    if (lane < warps) warp_sums[lane] = w;  // inclusive over warps
  }
  __syncthreads();
  const int excl = (warp > 0 ? warp_sums[warp - 1] : 0) + v - flag;
  *total = warp_sums[warps - 1];
  __syncthreads();  // warp_sums is reused by the next call
  return excl;
}

// select: out[pos(i)] = x[i]; scatter: dx[i] = src[pos(i)] where the mask is set (dx is zeroed).
template <typename T>
__global__ void __launch_bounds__(kScanThreads)
    masked_kernel(const T* src, const bool* mask, T* dst, int64_t n, bool scatter) {
  int64_t base = 0;
  for (int64_t start = 0; start < n; start += blockDim.x) {
    const int64_t i = start + threadIdx.x;
    const int flag = i < n && mask[i] != 0;
    int total;
    const int64_t pos = base + block_exclusive_count(flag, &total);
    if (flag) {
      if (scatter)
        dst[i] = src[pos];
      else
        dst[pos] = src[i];
    }
    base += total;
  }
}

}  // namespace

template <typename T>
void masked_select(const T* x, const bool* mask, T* out, int64_t n) {
  if (n <= 0) return;
  masked_kernel<T><<<1, kScanThreads, 0, stream()>>>(x, mask, out, n, false);
  CUDA_CHECK_LAUNCH("masked_select");
}

template <typename T>
void masked_scatter(const T* src, const bool* mask, T* dx, int64_t n) {
  if (n <= 0) return;
  masked_kernel<T><<<1, kScanThreads, 0, stream()>>>(src, mask, dx, n, true);
  CUDA_CHECK_LAUNCH("masked_select_backward");
}

// The number of non-zero mask entries into *count (one int64 on the device, zeroed here): per-block
// counts, then one integer atomicAdd per block (integer addition: the total does not depend on the order).
namespace {
__global__ void count_nonzero_kernel(const bool* mask, int64_t n, unsigned long long* count) {
  unsigned long long c = 0;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) c += mask[i] != 0;
  c = block_reduce(c, SumOp{}, 0ull);
  if (threadIdx.x == 0 && c) atomicAdd(count, c);
}

}  // namespace

void count_nonzero(const bool* mask, int64_t n, int64_t* count) {
  CUDA_CHECK(cudaMemsetAsync(count, 0, sizeof(int64_t), stream()), "masked_select");
  if (n <= 0) return;
  count_nonzero_kernel<<<blocks_for(n), kBlockThreads, 0, stream()>>>(mask, n,
                                                                      reinterpret_cast<unsigned long long*>(count));
  CUDA_CHECK_LAUNCH("masked_select");
}

// ---- max / min over a dim ----
template <typename T>
void minmax_arb(const T* x, T* values, int64_t* indices, int64_t A, int64_t R, int64_t B, bool is_min) {
  for_each(A * B, MinMax<T>{x, values, indices, R, B, is_min}, is_min ? "min" : "max");
}

template <typename T>
void scatter_arb(const T* dout, const int64_t* indices, T* dx, int64_t A, int64_t R, int64_t B) {
  for_each(A * B, ScatterR<T>{dout, indices, dx, R, B}, "max_backward");
}

// ---- elementwise ----
template <typename T>
void compare(CompareOp op, const T* a, const T* b, bool* out, int64_t n) {
  for_each(n, Compare<T>{op, a, b, out}, "compare");
}

template <typename T>
void where(const bool* cond, const T* a, const T* b, T* out, int64_t n) {
  for_each(n, Where<T>{cond, a, b, out}, "where");
}

template <typename T>
void where_grad(const bool* cond, const T* dout, T* da, T* db, int64_t n) {
  for_each(n, WhereGrad<T>{cond, dout, da, db}, "where_backward");
}

template <typename T>
void maximum(const T* a, const T* b, T* out, int64_t n, bool is_min) {
  for_each(n, Maximum<T>{a, b, out, is_min}, is_min ? "minimum" : "maximum");
}

template <typename T>
void maximum_grad(const T* a, const T* b, const T* dout, T* da, T* db, int64_t n, bool is_min) {
  for_each(n, MaximumGrad<T>{a, b, dout, da, db, is_min}, "maximum_backward");
}

// The same instantiations as the cpu:: kernels: the gathers for every dtype, the gradients for floats.
#define PYCNN_TENSOR_OPS_ALL(T)                                                                        \
  template void index_select_anb<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t); \
  template void masked_select<T>(const T*, const bool*, T*, int64_t);                                  \
  template void compare<T>(CompareOp, const T*, const T*, bool*, int64_t);                             \
  template void where<T>(const bool*, const T*, const T*, T*, int64_t);                                \
  template void minmax_arb<T>(const T*, T*, int64_t*, int64_t, int64_t, int64_t, bool);
#define PYCNN_TENSOR_OPS_FLOAT(T)                                                                   \
  template void index_add_anb<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t); \
  template void masked_scatter<T>(const T*, const bool*, T*, int64_t);                              \
  template void scatter_arb<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t);            \
  template void where_grad<T>(const bool*, const T*, T*, T*, int64_t);                              \
  template void maximum<T>(const T*, const T*, T*, int64_t, bool);                                  \
  template void maximum_grad<T>(const T*, const T*, const T*, T*, T*, int64_t, bool);
PYCNN_FOR_EACH_VALUE_TYPE(PYCNN_TENSOR_OPS_ALL)
PYCNN_TENSOR_OPS_FLOAT(float)
PYCNN_TENSOR_OPS_FLOAT(double)

}  // namespace pycnn::cuda
