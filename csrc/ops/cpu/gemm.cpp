// CPU GEMM, GotoBLAS/BLIS style: C is cut into nc-wide column blocks, K into kc-deep slices; each slice
// of op(B) is packed into NR-wide panels, each mc-row block of op(A) into MR-row panels, and the
// macro-kernel (simd/gemm_kernel.cpp, of the kernel set simd_level() picks) runs the register
// tiles over them. Threads each take a rectangle of C and run that whole loop nest on it; a narrow C is
// computed transposed. gemm_naive, the triple loop at the end, is the reference for tests.
#include <algorithm>  // defines: std::max
#include <utility>    // defines: std::swap

#include "pycnn/core/parallel.h"  // defines: parallel_for, get_num_threads
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/cpu/gemm_blocks.h"  // defines: ScratchBuffer, even_block
#include "pycnn/ops/cpu/simd/simd.h"    // defines: GemmKernels, gemm_kernels

namespace pycnn::cpu {

namespace {

thread_local ScratchBuffer tl_pack_a;
thread_local ScratchBuffer tl_pack_b;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// C = beta * C on an M x N view (beta == 0 writes zeros, ignoring NaN in C).
template <typename T>
void scale_c(int64_t M, int64_t N, T beta, T* C, int64_t rs_c, int64_t cs_c) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      T* p = C + i * rs_c + j * cs_c;
      *p = beta == T(0) ? T(0) : beta * *p;
    }
}

// The blocked loop nest for one thread's rectangle of C; A and B point at op(A)(0, 0) and op(B)(0, 0).
template <typename T>
void gemm_blocked(const GemmKernels<T>& kern, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                  const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t rs_c, int64_t cs_c) {
  const int64_t MR = kern.mr, NR = kern.nr;
  const int64_t mc = even_block(M, kern.mc, MR);
  const int64_t kc = even_block(K, kern.kc, 1);
  const int64_t nc = even_block(N, kern.nc, NR);
  T* pack_a = tl_pack_a.get<T>(round_up(mc, MR) * kc);
  T* pack_b = tl_pack_b.get<T>(round_up(nc, NR) * kc);

  for (int64_t jc = 0; jc < N; jc += nc) {
    const int64_t n = min64(nc, N - jc);
    for (int64_t pc = 0; pc < K; pc += kc) {
      const int64_t k = min64(kc, K - pc);
      kern.pack_b(trans_b, k, n, trans_b ? B + jc * ldb + pc : B + pc * ldb + jc, ldb, pack_b);
      // Later K slices accumulate onto the first one's result.
      const T beta_slice = pc == 0 ? beta : T(1);
      for (int64_t ic = 0; ic < M; ic += mc) {
        const int64_t m = min64(mc, M - ic);
        kern.pack_a(trans_a, m, k, trans_a ? A + pc * lda + ic : A + ic * lda + pc, lda, pack_a);
        kern.macro(m, n, k, alpha, pack_a, pack_b, beta_slice, C + ic * rs_c + jc * cs_c, rs_c, cs_c);
      }
    }
  }
}

// Fraction of the computed MR x NR tiles' area that is real output.
template <typename T>
double tile_efficiency(const GemmKernels<T>& kern, int64_t M, int64_t N) {
  const int64_t MR = kern.mr, NR = kern.nr;
  return double(M) / double(round_up(M, MR)) * double(N) / double(round_up(N, NR));
}

// Below this many multiply-adds (~10-20 us of one core) a second thread's start-up and the duplicated
// packing cost more than they save.
constexpr double kMinMacsPerThread = 1 << 19;

}  // namespace

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  int64_t rs_c = ldc, cs_c = 1;
  if (K <= 0 || alpha == T(0)) {
    scale_c(M, N, beta, C, rs_c, cs_c);
    return;
  }
  const GemmKernels<T>& kern = gemm_kernels<T>();
  const int64_t MR = kern.mr, NR = kern.nr;
  // A narrow C (N = 6 output channels, say) would waste most of each 16-wide tile: compute C^T = op(B)^T
  // op(A)^T instead, which is the same memory written with swapped strides.
  if (N < NR && tile_efficiency(kern, N, M) > 1.25 * tile_efficiency(kern, M, N)) {
    std::swap(A, B);
    std::swap(lda, ldb);
    std::swap(M, N);
    std::swap(trans_a, trans_b);
    trans_a = !trans_a;
    trans_b = !trans_b;
    rs_c = 1;
    cs_c = ldc;
  }

  // Threads split C into a tm x tn grid of rectangles (tm * tn = threads) aligned to the tiles; each packs
  // its own panels, so there is no synchronisation at all. The grid is the one with the smallest
  // per-thread rectangle, counting its packing work (proportional to its perimeter) too; on a tie, rows
  // are split, so that the duplicated packing is B's contiguous copy rather than A's interleave.
  const double macs = double(M) * double(N) * double(K);
  int threads = get_num_threads();  // 1 inside another parallel region
  if (threads > 1 && macs < kMinMacsPerThread * threads) threads = static_cast<int>(macs / kMinMacsPerThread);
  if (threads <= 1) {
    gemm_blocked(kern, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, rs_c, cs_c);
    return;
  }
  int64_t best_tm = 1, best_m = M, best_n = N;
  double best_cost = -1;
  for (int tm = threads; tm >= 1; --tm) {
    if (threads % tm) continue;
    const int64_t tn = threads / tm;
    const int64_t m = round_up(ceil_div(M, tm), MR), n = round_up(ceil_div(N, tn), NR);
    const double cost = double(m) * double(n) + 8.0 * double(m + n);
    if (best_cost < 0 || cost < best_cost) best_cost = cost, best_tm = tm, best_m = m, best_n = n;
  }
  const int64_t tn = threads / best_tm;
  parallel_for(threads, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t i0 = (t / tn) * best_m, j0 = (t % tn) * best_n;
      if (i0 >= M || j0 >= N) continue;
      const int64_t m = min64(best_m, M - i0), n = min64(best_n, N - j0);
      const T* a = trans_a ? A + i0 : A + i0 * lda;
      const T* b = trans_b ? B + j0 * ldb : B + j0;
      gemm_blocked(kern, trans_a, trans_b, m, n, K, alpha, a, lda, b, ldb, beta, C + i0 * rs_c + j0 * cs_c, rs_c, cs_c);
    }
  });
}

template <typename T>
void gemm_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      T acc = 0;
      for (int64_t k = 0; k < K; ++k) {
        T a = trans_a ? A[k * lda + i] : A[i * lda + k];
        T b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        acc += a * b;
      }
      C[i * ldc + j] = alpha * acc + (beta == T(0) ? T(0) : beta * C[i * ldc + j]);
    }
}

template <typename T>
void gemm_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
               const T* B, int64_t ldb, T beta, T* C, int64_t ldc, const T* bias, bool bias_per_row, bool relu) {
  if (M <= 0 || N <= 0) return;
  const int64_t grain = std::max<int64_t>(1, 32768 / N);  // rows per thread: ~32K elements
  if (bias != nullptr) {
    parallel_for(M, grain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = 0; j < N; ++j) {
          T& c = C[i * ldc + j];
          const T b = bias[bias_per_row ? i : j];
          c = beta == T(0) ? b : beta * c + b;
        }
    });
    beta = T(1);
  }
  gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  if (relu) {
    parallel_for(M, grain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = 0; j < N; ++j) {
          T& c = C[i * ldc + j];
          c = c < T(0) ? T(0) : c;  // NaN stays NaN
        }
    });
  }
}

template <typename T>
void sum_rows(const T* x, T* out, int64_t rows, int64_t cols) {
  sum_arb(x, out, 1, rows, cols);
}

#define PYCNN_INSTANTIATE_GEMM(T)                                                                                    \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*,       \
                        int64_t);                                                                                    \
  template void gemm_naive<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*, \
                              int64_t);                                                                              \
  template void gemm_bias<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*,  \
                             int64_t, const T*, bool, bool);                                                         \
  template void sum_rows<T>(const T*, T*, int64_t, int64_t);
PYCNN_INSTANTIATE_GEMM(float)
PYCNN_INSTANTIATE_GEMM(double)

}  // namespace pycnn::cpu
