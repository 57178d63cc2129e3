// GEMM packing and micro-kernel (simd.h describes the packed layouts), written once for every kernel set:
// the MR x NR tile of C is MR x NV vectors (simd/vec.h) held in registers and updated by FMAs. The tile
// and the cache blocks follow from the set's vector width (GemmShape below). The blocking loops, buffers
// and threads are in ops/cpu/gemm.cpp and conv2d.cpp. Read: GemmShape, packing, micro_kernel, macro_kernel.
#include "pycnn/ops/cpu/simd/kernels.h"  // defines: the declarations this file implements
#include "pycnn/ops/cpu/simd/vec.h"      // defines: Vec, kLanes, vload, vstore, vbroadcast, vzero

namespace pycnn::cpu::PYCNN_KNS {

namespace {

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Register tile: MR rows of C by NV vectors. Per k step the micro-kernel loads NV vectors of B and
// broadcasts MR values of A for MR * NV independent FMAs, enough to cover two FMA pipes' latency.
//   16-byte and 32-byte sets (16 registers): 6 x 2 accumulators + 2 B vectors + 1 broadcast = 15.
//   64-byte sets (32 registers): 12 x 2 accumulators + 2 + 1 = 27; twice the rows halves the B loads per
//   FMA, which the 512-bit FMAs (twice the work per load of A) need to stay fed.
// Cache blocks: the B micro-panel (kc x NR) stays in L1 (at most 32 KiB), the packed A block (mc x kc) in
// a quarter of L2, the packed B block (kc x nc) in L3. For the 16/32-byte float sets kc = 384 measured
// ~2-3% faster than 256 at n = 1024..2048 (Zen 3).
template <typename T>
struct GemmShape {
  static constexpr int nv = 2;
  static constexpr int mr = kVecBytes == 64 ? 12 : 6;
  static constexpr int nr = nv * kLanes<T>;
  static constexpr int64_t kc = (kVecBytes < 64 && sizeof(T) == 4) ? 384 : 256;
  static constexpr int64_t mc = kVecBytes == 64 ? (sizeof(T) == 4 ? 240 : 120) : (sizeof(T) == 4 ? 120 : 96);
  static constexpr int64_t nc = 4096;
  static_assert(mc % mr == 0 && kc <= kMaxGemmKc, "conv2d.cpp sizes its per-slice arrays with kMaxGemmKc");
};

// ---- packing ----------------------------------------------------------------------------------------
// op(A)(i, k) is a[i * lda + k], or a[k * lda + i] when trans. Rows past mc are padded with zeros so the
// micro-kernel never needs a short-M path inside its k loop.
template <typename T>
void pack_a(bool trans, int64_t mc, int64_t kc, const T* a, int64_t lda, T* dst) {
  constexpr int MR = GemmShape<T>::mr;
  for (int64_t i0 = 0; i0 < mc; i0 += MR, dst += kc * MR) {
    const int64_t m = min64(MR, mc - i0);
    if (trans) {
      // Each k reads m contiguous values of a row of the stored (K, M) matrix.
      const T* src = a + i0;
      for (int64_t k = 0; k < kc; ++k) {
        const T* s = src + k * lda;
        T* d = dst + k * MR;
        for (int64_t i = 0; i < m; ++i) d[i] = s[i];
        for (int64_t i = m; i < MR; ++i) d[i] = T(0);
      }
    } else if (m == MR) {
      // MR row streams read in step; the fixed trip count lets the compiler keep the row pointers in
      // registers and unroll the interleave.
      const T* r[MR];
      for (int i = 0; i < MR; ++i) r[i] = a + (i0 + i) * lda;
      for (int64_t k = 0; k < kc; ++k) {
        T* d = dst + k * MR;
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) d[i] = r[i][k];
      }
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        T* d = dst + k * MR;
        for (int64_t i = 0; i < m; ++i) d[i] = a[(i0 + i) * lda + k];
        for (int64_t i = m; i < MR; ++i) d[i] = T(0);
      }
    }
  }
}

// dst[t * ds + r] = base[off[r] + t] for r < nrows, t < len: rows read contiguously, written as columns.
// Blocks of kLanes rows x kLanes values go through an in-register transpose; the edges are scalar.
template <typename T>
void transpose_rows_impl(const T* base, const int64_t* off, int64_t nrows, int64_t len, T* dst, int64_t ds) {
  constexpr int L = kLanes<T>;
  int64_t r0 = 0;
  for (; r0 + L <= nrows; r0 += L) {
    int64_t t = 0;
    for (; t + L <= len; t += L) {
      Vec<T> v[L];
#pragma GCC unroll 16
      for (int i = 0; i < L; ++i) v[i] = vload(base + off[r0 + i] + t);
      vtranspose<T>(v);
#pragma GCC unroll 16
      for (int i = 0; i < L; ++i) vstore(dst + (t + i) * ds + r0, v[i]);
    }
    for (; t < len; ++t)
      for (int i = 0; i < L; ++i) dst[t * ds + r0 + i] = base[off[r0 + i] + t];
  }
  for (; r0 < nrows; ++r0)
    for (int64_t t = 0; t < len; ++t) dst[t * ds + r0] = base[off[r0] + t];
}

// op(B)(k, j) is b[k * ldb + j], or b[j * ldb + k] when trans. Columns past nc are zero.
template <typename T>
void pack_b(bool trans, int64_t kc, int64_t nc, const T* b, int64_t ldb, T* dst) {
  constexpr int NR = GemmShape<T>::nr, L = kLanes<T>;
  int64_t row_off[NR];  // trans: where each of the panel's source rows starts
  for (int j = 0; j < NR; ++j) row_off[j] = j * ldb;
  for (int64_t j0 = 0; j0 < nc; j0 += NR, dst += kc * NR) {
    const int64_t n = min64(NR, nc - j0);
    if (!trans && n == NR) {
      // A contiguous NR-wide row segment per k: a straight vector copy.
      const T* src = b + j0;
      for (int64_t k = 0; k < kc; ++k)
#pragma GCC unroll 4
        for (int v = 0; v < NR / L; ++v) vstore(dst + k * NR + v * L, vload(src + k * ldb + v * L));
    } else if (!trans) {
      for (int64_t k = 0; k < kc; ++k) {
        const T* s = b + k * ldb + j0;
        T* d = dst + k * NR;
        for (int64_t j = 0; j < n; ++j) d[j] = s[j];
        for (int64_t j = n; j < NR; ++j) d[j] = T(0);
      }
    } else {
      // Stored (N, K): the panel is the transpose of n source rows.
      transpose_rows_impl(b + j0 * ldb, row_off, n, kc, dst, NR);
      for (int64_t j = n; j < NR; ++j)
        for (int64_t k = 0; k < kc; ++k) dst[k * NR + j] = T(0);
    }
  }
}

// ---- writing a finished tile --------------------------------------------------------------------------
// tile is the MR x NR product (row-major, already times alpha); only its m x n corner lands in C. When C
// is walked transposed (gemm computing C^T, rs_c == 1) the columns are the contiguous runs, so they go
// outermost; the beta test is hoisted out of the loops.
template <typename T>
void store_tile_scalar(const T* tile, int m, int n, T beta, T* c, int64_t rs_c, int64_t cs_c) {
  constexpr int NR = GemmShape<T>::nr;
  const bool by_column = rs_c == 1 && cs_c != 1;
  const int outer = by_column ? n : m, inner = by_column ? m : n;
  const int64_t s_out = by_column ? cs_c : rs_c, s_in = by_column ? rs_c : cs_c;
  const int t_out = by_column ? 1 : NR, t_in = by_column ? NR : 1;  // the same walk through tile
  for (int o = 0; o < outer; ++o) {
    T* p = c + o * s_out;
    const T* t = tile + o * t_out;
    if (beta == T(0)) {
      for (int i = 0; i < inner; ++i) p[i * s_in] = t[i * t_in];
    } else {
      for (int i = 0; i < inner; ++i) p[i * s_in] = t[i * t_in] + beta * p[i * s_in];
    }
  }
}

// ---- micro-kernel ---------------------------------------------------------------------------------------
// C tile (m x n of MR x NR) = alpha * pa @ pb + beta * C. pa: kc steps of MR values, pb: kc steps of NR
// values. The loops over the tile are unrolled completely so the accumulators live in registers; one k
// step per iteration (hand-unrolling k measured slower on Zen 3: GCC then spilled an accumulator).
template <typename T>
void micro_kernel(int64_t kc, const T* __restrict pa, const T* __restrict pb, T alpha, T beta, T* c, int64_t rs_c,
                  int64_t cs_c, int m, int n) {
  constexpr int MR = GemmShape<T>::mr, NV = GemmShape<T>::nv, L = kLanes<T>, NR = NV * L;
  Vec<T> acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = vzero<T>();

  // C's rows will be written right after the loop: start bringing them in now.
  for (int i = 0; i < m; ++i) {
    __builtin_prefetch(c + i * rs_c);
    __builtin_prefetch(c + i * rs_c + (n - 1) * cs_c);
  }

  for (int64_t k = 0; k < kc; ++k, pa += MR, pb += NR) {
    Vec<T> b[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) b[j] = vload(pb + j * L);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const Vec<T> a = vbroadcast(pa[i]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] += a * b[j];
    }
  }

  const Vec<T> va = vbroadcast(alpha);
  if (m == MR && n == NR && cs_c == 1) {
    // Full tile, contiguous rows: vector stores (C need not be aligned).
    if (beta == T(0)) {
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) vstore(c + i * rs_c + j * L, va * acc[i][j]);
    } else {
      const Vec<T> vb = vbroadcast(beta);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) {
          T* p = c + i * rs_c + j * L;
          vstore(p, va * acc[i][j] + vb * vload(p));
        }
    }
    return;
  }
  alignas(64) T tile[MR * NR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) vstore(tile + i * NR + j * L, va * acc[i][j]);
  store_tile_scalar(tile, m, n, beta, c, rs_c, cs_c);
}

// Loop over the micro-tiles of one packed block: jr outside, ir inside, so one B micro-panel stays in L1
// while the MR-row panels of A stream from L2.
template <typename T>
void macro_kernel(int64_t mc, int64_t nc, int64_t kc, T alpha, const T* pa, const T* pb, T beta, T* c, int64_t rs_c,
                  int64_t cs_c) {
  constexpr int MR = GemmShape<T>::mr, NR = GemmShape<T>::nr;
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int n = static_cast<int>(min64(NR, nc - jr));
    const T* b = pb + (jr / NR) * kc * NR;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int m = static_cast<int>(min64(MR, mc - ir));
      micro_kernel<T>(kc, pa + (ir / MR) * kc * MR, b, alpha, beta, c + ir * rs_c + jr * cs_c, rs_c, cs_c, m, n);
    }
  }
}

template <typename T>
GemmKernels<T> make_gemm_kernels() {
  using S = GemmShape<T>;
  return {S::mr, S::nr, S::mc, S::kc, S::nc, pack_a<T>, pack_b<T>, macro_kernel<T>, transpose_rows_impl<T>};
}

}  // namespace

GemmKernels<float> gemm_kernels_f32() { return make_gemm_kernels<float>(); }
GemmKernels<double> gemm_kernels_f64() { return make_gemm_kernels<double>(); }

}  // namespace pycnn::cpu::PYCNN_KNS
