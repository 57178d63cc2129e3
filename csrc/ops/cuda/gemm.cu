// CUDA GEMM: row-major C = act(alpha * op(A) @ op(B) + beta * C + bias), the contract of cpu::gemm and
// cpu::gemm_bias (ops/cpu/cpu_ops.h): op(A) is (M, K), op(B) is (K, N), any sizes, beta == 0 ignores C's
// old contents. Two kernels share the phases of ops/cuda/gemm_tiles.h (read that first):
//   gemm_kernel       SIMT, 128x128 (or 64x64) block tiles, 8x8 (4x4) register tiles, double-buffered shared
//                     tiles fed by 16-byte loads; float and double.
//   gemm_tf32_kernel  float on tensor cores in TF32 (wmma m16n16k8), only when set_allow_tf32(true).
// Also the deterministic column sum of linear_backward's bias gradient.
#include <cuda_runtime.h>
#include <mma.h>  // defines: nvcuda::wmma

#include <atomic>  // defines: std::atomic

#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/gemm_tiles.h"  // defines: GemmProblem, the configs and the kernel phases
#include "pycnn/ops/cuda/launch.cuh"    // defines: stream, for_each, CUDA_CHECK_LAUNCH

namespace pycnn::cuda {

namespace {

// TF32 rounds both inputs to a 10-bit mantissa (relative rounding error up to 2^-11) and accumulates in
// float, so a TF32 result differs from the float one by up to about 1e-3 * sum_k |a_ik| |b_kj| (torch
// documents the same). Off by default, as in torch: float GEMMs are then float FMAs throughout.
std::atomic<bool> g_allow_tf32{false};

}  // namespace

void set_allow_tf32(bool allow) { g_allow_tf32.store(allow); }
bool allow_tf32() { return g_allow_tf32.load(); }

// Grid: one block per (BM, BN) tile of C, a 1-D grid (tile_coords). Each block sweeps K in BK-deep slices
// through two shared buffers: while the threads multiply slice t out of one, their loads of slice t + 1 are in
// flight into registers, then go to the other buffer; one barrier per slice.
template <class Cfg>
__global__ void __launch_bounds__(Cfg::kThreads, Cfg::kMinBlocks)
    gemm_kernel(const GemmProblem<typename Cfg::Scalar> p, int64_t tiles_m, int64_t tiles_n) {
  using T = typename Cfg::Scalar;
  using SA = typename Cfg::ShapeA;
  using SB = typename Cfg::ShapeB;
  __shared__ __align__(16) T as[2][Cfg::BK * SA::LD];
  __shared__ __align__(16) T bs[2][Cfg::BK * SB::LD];

  int64_t tm, tn;
  tile_coords(blockIdx.x, tiles_m, tiles_n, tm, tn);
  const int64_t row0 = tm * Cfg::BM, col0 = tn * Cfg::BN;
  const int tid = threadIdx.x, tx = tid % Cfg::kThreadsN, ty = tid / Cfg::kThreadsN;
  // A is k-contiguous unless transposed; B (K, N) is k-contiguous only when transposed.
  const bool a_kc = !p.trans_a, b_kc = p.trans_b;

  T acc[Cfg::TM][Cfg::TN];
#pragma unroll
  for (int i = 0; i < Cfg::TM; ++i)
#pragma unroll
    for (int j = 0; j < Cfg::TN; ++j) acc[i][j] = T(0);

  T ra[SA::kVecs][SA::V], rb[SB::kVecs][SB::V];
  const int64_t slices = div_up(p.K, Cfg::BK);
  if (slices > 0) {
    fetch_tile<SA>(tid, ra, p.A, p.lda, a_kc, p.vec_a, p.M, p.K, row0, 0);
    fetch_tile<SB>(tid, rb, p.B, p.ldb, b_kc, p.vec_b, p.N, p.K, col0, 0);
    stash_tile<SA>(tid, ra, as[0], a_kc);
    stash_tile<SB>(tid, rb, bs[0], b_kc);
    __syncthreads();
  }
  for (int64_t t = 0; t < slices; ++t) {
    const int cur = t & 1;
    const bool more = t + 1 < slices;
    if (more) {
      fetch_tile<SA>(tid, ra, p.A, p.lda, a_kc, p.vec_a, p.M, p.K, row0, (t + 1) * Cfg::BK);
      fetch_tile<SB>(tid, rb, p.B, p.ldb, b_kc, p.vec_b, p.N, p.K, col0, (t + 1) * Cfg::BK);
    }
    multiply_tile<Cfg>(tx, ty, as[cur], bs[cur], acc);
    if (more) {
      // The other buffer was last read in slice t - 1, which every thread finished before the barrier.
      stash_tile<SA>(tid, ra, as[cur ^ 1], a_kc);
      stash_tile<SB>(tid, rb, bs[cur ^ 1], b_kc);
    }
    __syncthreads();
  }
  store_tile<Cfg>(tx, ty, acc, p, row0, col0);
}

namespace wmma = nvcuda::wmma;

// The TF32 kernel: the SIMT kernel's grid, loads and double buffering; each warp multiplies its (WM, WN) warp
// tile with wmma fragments (inputs rounded to TF32, float accumulators), then writes C fragment by fragment
// through a per-warp staging tile, since a fragment's element-to-thread mapping is unspecified.
template <class Cfg>
__global__ void __launch_bounds__(Cfg::kThreads)
    gemm_tf32_kernel(const GemmProblem<float> p, int64_t tiles_m, int64_t tiles_n) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using SA = typename Cfg::ShapeA;
  using SB = typename Cfg::ShapeB;
  using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::col_major>;
  using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major>;
  using FragC = wmma::fragment<wmma::accumulator, 16, 16, 8, float>;
  // wmma wants 32-byte aligned fragment pointers: every fragment origin is a multiple of 8 floats from here.
  __shared__ __align__(128) float as[2][Cfg::BK * SA::LD];
  __shared__ __align__(128) float bs[2][Cfg::BK * SB::LD];
  __shared__ __align__(128) float stage[Cfg::kWarps][16 * 16];

  int64_t tm, tn;
  tile_coords(blockIdx.x, tiles_m, tiles_n, tm, tn);
  const int64_t row0 = tm * Cfg::BM, col0 = tn * Cfg::BN;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int wr = Cfg::warp_row(warp), wc = Cfg::warp_col(warp);
  const bool a_kc = !p.trans_a, b_kc = p.trans_b;

  FragC acc[Cfg::FM][Cfg::FN];
#pragma unroll
  for (int i = 0; i < Cfg::FM; ++i)
#pragma unroll
    for (int j = 0; j < Cfg::FN; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

  float ra[SA::kVecs][SA::V], rb[SB::kVecs][SB::V];
  const int64_t slices = div_up(p.K, Cfg::BK);
  if (slices > 0) {
    fetch_tile<SA>(tid, ra, p.A, p.lda, a_kc, p.vec_a, p.M, p.K, row0, 0);
    fetch_tile<SB>(tid, rb, p.B, p.ldb, b_kc, p.vec_b, p.N, p.K, col0, 0);
    stash_tile<SA>(tid, ra, as[0], a_kc);
    stash_tile<SB>(tid, rb, bs[0], b_kc);
    __syncthreads();
  }
  for (int64_t t = 0; t < slices; ++t) {
    const int cur = t & 1;
    const bool more = t + 1 < slices;
    if (more) {
      fetch_tile<SA>(tid, ra, p.A, p.lda, a_kc, p.vec_a, p.M, p.K, row0, (t + 1) * Cfg::BK);
      fetch_tile<SB>(tid, rb, p.B, p.ldb, b_kc, p.vec_b, p.N, p.K, col0, (t + 1) * Cfg::BK);
    }
#pragma unroll
    for (int kk = 0; kk < Cfg::BK; kk += 8) {
      FragA a[Cfg::FM];
      FragB b[Cfg::FN];
#pragma unroll
      for (int i = 0; i < Cfg::FM; ++i) {
        wmma::load_matrix_sync(a[i], as[cur] + kk * SA::LD + wr + 16 * i, SA::LD);
#pragma unroll
        for (int e = 0; e < a[i].num_elements; ++e) a[i].x[e] = wmma::__float_to_tf32(a[i].x[e]);
      }
#pragma unroll
      for (int j = 0; j < Cfg::FN; ++j) {
        wmma::load_matrix_sync(b[j], bs[cur] + kk * SB::LD + wc + 16 * j, SB::LD);
#pragma unroll
        for (int e = 0; e < b[j].num_elements; ++e) b[j].x[e] = wmma::__float_to_tf32(b[j].x[e]);
      }
#pragma unroll
      for (int i = 0; i < Cfg::FM; ++i)
#pragma unroll
        for (int j = 0; j < Cfg::FN; ++j) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
    }
    if (more) {
      stash_tile<SA>(tid, ra, as[cur ^ 1], a_kc);
      stash_tile<SB>(tid, rb, bs[cur ^ 1], b_kc);
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < Cfg::FM; ++i)
#pragma unroll
    for (int j = 0; j < Cfg::FN; ++j) {
      wmma::store_matrix_sync(stage[warp], acc[i][j], 16, wmma::mem_row_major);
      __syncwarp();
      store_fragment(stage[warp], lane, p, row0 + wr + 16 * i, col0 + wc + 16 * j);
      __syncwarp();  // the next fragment overwrites the staging tile
    }
#elif defined(__CUDA_ARCH__)
  __trap();  // never launched: device_info() sees that this device's code has no tensor cores
#endif
}

namespace {

struct DeviceInfo {
  int sms = 0;
  bool tf32 = false;  // the device has TF32 tensor cores and runs a TF32 kernel compiled for them
};

// The TF32 kernel is empty when compiled for an architecture below sm_80 (a build for older GPUs only, run on a
// newer one through PTX JIT); the device then runs the SIMT kernel.
bool tf32_kernel_usable(int major) {
  if (major < 8) return false;
  cudaFuncAttributes attr{};
  if (cudaFuncGetAttributes(&attr, gemm_tf32_kernel<Tf32Large>) != cudaSuccess) {
    cudaGetLastError();  // clear it: the next launch check would report it as its own
    return false;
  }
  return attr.ptxVersion >= 80;
}

// The current device's SM count and TF32 support, asked of the driver once per device.
DeviceInfo device_info() {
  constexpr int kMaxDevices = 64;
  static std::atomic<int> sms[kMaxDevices], tf32[kMaxDevices];  // sms 0: not asked yet
  int dev = 0;
  CUDA_CHECK(cudaGetDevice(&dev), "gemm");
  if (dev < kMaxDevices && sms[dev].load(std::memory_order_acquire) != 0)
    return {sms[dev].load(std::memory_order_relaxed), tf32[dev].load(std::memory_order_relaxed) != 0};
  DeviceInfo info;
  int major = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&info.sms, cudaDevAttrMultiProcessorCount, dev), "gemm");
  CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev), "gemm");
  info.tf32 = tf32_kernel_usable(major);
  if (dev < kMaxDevices) {
    tf32[dev].store(info.tf32, std::memory_order_relaxed);
    sms[dev].store(info.sms, std::memory_order_release);
  }
  return info;
}

template <class Cfg, typename T, typename Kernel>
void launch(Kernel kernel, const GemmProblem<T>& p) {
  const int64_t tiles_m = div_up(p.M, Cfg::BM), tiles_n = div_up(p.N, Cfg::BN);
  PYCNN_CHECK_RUNTIME(tiles_m * tiles_n <= int64_t(0x7fffffff), "[gemm] C of shape (", p.M, ", ", p.N,
                      ") has too many tiles for one CUDA grid");
  kernel<<<static_cast<unsigned>(tiles_m * tiles_n), Cfg::kThreads, 0, stream()>>>(p, tiles_m, tiles_n);
  CUDA_CHECK_LAUNCH("gemm");
}

// 128x128 tiles when they give every SM at least one block; 64x64 otherwise (four times the blocks).
bool large_tiles(int64_t M, int64_t N, int sms) { return div_up(M, 128) * div_up(N, 128) >= sms; }

void run(const GemmProblem<float>& p) {
  const DeviceInfo dev = device_info();
  const bool large = large_tiles(p.M, p.N, dev.sms);
  if (allow_tf32() && dev.tf32) {
    if (large)
      launch<Tf32Large>(gemm_tf32_kernel<Tf32Large>, p);
    else
      launch<Tf32Small>(gemm_tf32_kernel<Tf32Small>, p);
  } else if (large) {
    launch<SgemmLarge>(gemm_kernel<SgemmLarge>, p);
  } else {
    launch<SgemmSmall>(gemm_kernel<SgemmSmall>, p);
  }
}

void run(const GemmProblem<double>& p) { launch<Dgemm>(gemm_kernel<Dgemm>, p); }

}  // namespace

template <typename T>
void gemm_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
               const T* B, int64_t ldb, T beta, T* C, int64_t ldc, const T* bias, bool bias_per_row, bool relu) {
  PYCNN_CHECK(M >= 0 && N >= 0 && K >= 0, "[gemm] negative size: M = ", M, ", N = ", N, ", K = ", K);
  if (M == 0 || N == 0) return;  // an empty grid is a launch error; K == 0 still applies the epilogue
  constexpr int V = 16 / sizeof(T);
  run(make_gemm_problem<T, V>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, bias_per_row,
                              relu));
}

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  gemm_bias<T>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nullptr, false, false);
}

template <typename T>
void sum_rows(const T* x, T* out, int64_t rows, int64_t cols) {
  for_each(cols, ColumnSum<T>{x, out, rows, cols}, "linear_backward");
}

#define PYCNN_INSTANTIATE_GEMM(T)                                                                                   \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*,      \
                        int64_t);                                                                                   \
  template void gemm_bias<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*, \
                             int64_t, const T*, bool, bool);                                                        \
  template void sum_rows<T>(const T*, T*, int64_t, int64_t);
PYCNN_INSTANTIATE_GEMM(float)
PYCNN_INSTANTIATE_GEMM(double)

}  // namespace pycnn::cuda
