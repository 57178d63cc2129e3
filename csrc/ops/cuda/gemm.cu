// CUDA GEMM: row-major C = alpha * op(A) @ op(B) + beta * C, the same contract as cpu::gemm
// (ops/cpu/cpu_ops.h): op(A) is (M, K), op(B) is (K, N), any sizes, beta == 0 ignores C's old contents.
// One shared-memory tiled kernel, templated on the tile shape: float uses 64x64 block tiles with a 4x4
// register tile per thread, double 32x32 with 2x2. Read gemm_kernel first; the helpers are its three
// phases (load tiles, multiply, store), __host__ __device__ so that a test can step them on the CPU.
#include <cuda_runtime.h>

#include "ops/cuda/cuda_ops.h"
#include "ops/cuda/launch.cuh"  // defines: stream, CUDA_CHECK_LAUNCH

namespace pycnn::cuda {

// Shared tiles are stored k-major (tile[k][m] and tile[k][n]) so that the inner product loop reads a
// row of each; the +1 column of padding spreads the column-wise stores of a transposed load over banks.
template <typename T, int BM, int BK>
using TileA = T[BK][BM + 1];
template <typename T, int BN, int BK>
using TileB = T[BK][BN + 1];

// Copies op(A)[row0:row0+BM, k0:k0+BK] into `as`, zero-filling past the matrix edge so that the
// multiply needs no bounds checks. The element order follows A's storage order, so consecutive threads
// read consecutive addresses (coalesced) whether or not A is transposed.
template <typename T, int BM, int BK, int kThreads>
__host__ __device__ inline void load_tile_a(int tid, TileA<T, BM, BK>& as, const T* A, int64_t lda, bool trans_a,
                                            int64_t M, int64_t K, int64_t row0, int64_t k0) {
  for (int e = tid; e < BM * BK; e += kThreads) {
    const int m = trans_a ? e % BM : e / BK;  // A is (K, M) when transposed: m varies fastest
    const int k = trans_a ? e / BM : e % BK;
    const int64_t gm = row0 + m, gk = k0 + k;
    T v = T(0);
    if (gm < M && gk < K) v = trans_a ? A[gk * lda + gm] : A[gm * lda + gk];
    as[k][m] = v;
  }
}

// Same for op(B)[k0:k0+BK, col0:col0+BN]; B is (K, N), or (N, K) when transposed.
template <typename T, int BN, int BK, int kThreads>
__host__ __device__ inline void load_tile_b(int tid, TileB<T, BN, BK>& bs, const T* B, int64_t ldb, bool trans_b,
                                            int64_t N, int64_t K, int64_t col0, int64_t k0) {
  for (int e = tid; e < BN * BK; e += kThreads) {
    const int n = trans_b ? e / BK : e % BN;
    const int k = trans_b ? e % BK : e / BN;
    const int64_t gn = col0 + n, gk = k0 + k;
    T v = T(0);
    if (gn < N && gk < K) v = trans_b ? B[gn * ldb + gk] : B[gk * ldb + gn];
    bs[k][n] = v;
  }
}

// Thread (ty, tx) owns rows ty + i * (BM / TM) and columns tx + j * (BN / TN) of the block tile.
// Strided rather than contiguous ownership: a warp then reads consecutive words of bs (no bank
// conflicts), a couple of broadcast words of as, and stores consecutive columns of C (coalesced).
template <typename T, int BM, int BN, int BK, int TM, int TN>
__host__ __device__ inline void multiply_tile(int tx, int ty, const TileA<T, BM, BK>& as, const TileB<T, BN, BK>& bs,
                                              T (&acc)[TM][TN]) {
  constexpr int kRowStep = BM / TM, kColStep = BN / TN;
#pragma unroll
  for (int k = 0; k < BK; ++k) {
    T a[TM], b[TN];  // one column of A and one row of B in registers: TM + TN loads for TM * TN FMAs
#pragma unroll
    for (int i = 0; i < TM; ++i) a[i] = as[k][ty + i * kRowStep];
#pragma unroll
    for (int j = 0; j < TN; ++j) b[j] = bs[k][tx + j * kColStep];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
  }
}

template <typename T, int BM, int BN, int TM, int TN>
__host__ __device__ inline void store_tile(int tx, int ty, const T (&acc)[TM][TN], T alpha, T beta, T* C, int64_t ldc,
                                           int64_t M, int64_t N, int64_t row0, int64_t col0) {
  constexpr int kRowStep = BM / TM, kColStep = BN / TN;
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int64_t gm = row0 + ty + i * kRowStep;
    if (gm >= M) continue;
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int64_t gn = col0 + tx + j * kColStep;
      if (gn >= N) continue;
      T* c = C + gm * ldc + gn;
      // beta == 0 must not read C: it may be uninitialised memory holding NaNs.
      *c = beta == T(0) ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *c;
    }
  }
}

// Grid: blockIdx.x walks BN-wide column tiles of C, blockIdx.y BM-tall row tiles; (BM/TM)*(BN/TN)
// threads per block. Each block sweeps K in BK-deep slices through shared memory.
template <typename T, int BM, int BN, int BK, int TM, int TN>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
    gemm_kernel(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* __restrict__ A,
                int64_t lda, const T* __restrict__ B, int64_t ldb, T beta, T* __restrict__ C, int64_t ldc) {
  constexpr int kThreads = (BM / TM) * (BN / TN);
  __shared__ TileA<T, BM, BK> as;
  __shared__ TileB<T, BN, BK> bs;
  const int tid = threadIdx.x;
  const int tx = tid % (BN / TN), ty = tid / (BN / TN);
  const int64_t row0 = int64_t(blockIdx.y) * BM, col0 = int64_t(blockIdx.x) * BN;

  T acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = T(0);

  for (int64_t k0 = 0; k0 < K; k0 += BK) {
    load_tile_a<T, BM, BK, kThreads>(tid, as, A, lda, trans_a, M, K, row0, k0);
    load_tile_b<T, BN, BK, kThreads>(tid, bs, B, ldb, trans_b, N, K, col0, k0);
    __syncthreads();
    multiply_tile<T, BM, BN, BK, TM, TN>(tx, ty, as, bs, acc);
    __syncthreads();  // everyone is done reading before the next slice overwrites the tiles
  }
  store_tile<T, BM, BN, TM, TN>(tx, ty, acc, alpha, beta, C, ldc, M, N, row0, col0);
}

template <typename T, int BM, int BN, int BK, int TM, int TN>
static void launch_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                        const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  static_assert(BM % TM == 0 && BN % TN == 0, "the thread grid must tile the block tile exactly");
  constexpr int kThreads = (BM / TM) * (BN / TN);
  const int64_t tiles_n = (N + BN - 1) / BN, tiles_m = (M + BM - 1) / BM;
  // gridDim.y is limited to 65535; gridDim.x to 2^31 - 1.
  PYCNN_CHECK_RUNTIME(tiles_m <= 65535, "[gemm] M = ", M, " is too large for the CUDA kernel's grid (at most ",
                      int64_t(65535) * BM, " rows)");
  const dim3 grid(static_cast<unsigned>(tiles_n), static_cast<unsigned>(tiles_m));
  gemm_kernel<T, BM, BN, BK, TM, TN>
      <<<grid, kThreads, 0, stream()>>>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  CUDA_CHECK_LAUNCH("gemm");
}

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  PYCNN_CHECK(M >= 0 && N >= 0 && K >= 0, "[gemm] negative size: M = ", M, ", N = ", N, ", K = ", K);
  if (M == 0 || N == 0) return;  // an empty grid is a launch error; K == 0 still scales C by beta below
  if constexpr (sizeof(T) == 4) {
    // 256 threads, 16 accumulators each; 2 x 16 x 65 floats = 8.3 KB of shared memory per block.
    launch_gemm<T, 64, 64, 16, 4, 4>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  } else {
    // Double has a fraction of float's throughput on most GPUs; a smaller tile keeps more blocks busy.
    launch_gemm<T, 32, 32, 16, 2, 2>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);

}  // namespace pycnn::cuda
