// GEMM packing and micro-kernels (see simd.h for the packed layouts), compiled twice: with AVX2+FMA the
// MR x NR tile of C is held in 12 ymm accumulators and updated by FMAs from intrinsics; the baseline copy
// is the same loop nest in plain C++ that the compiler vectorises for SSE2. The blocking loops, buffers
// and threads are in ops/cpu/gemm.cpp. Read: packing, then micro_kernel, then gemm_macro_kernel.
#include "ops/cpu/simd/simd.h"  // defines: GemmTile, the declarations below

#ifdef PYCNN_HAVE_AVX2
#include <immintrin.h>  // defines: _mm256_* intrinsics
#endif

namespace pycnn::cpu::PYCNN_KNS {

const char* kernel_set_name() {
#ifdef PYCNN_HAVE_AVX2
  return "avx2";
#else
  return "baseline";
#endif
}

namespace {

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// ---- packing ----------------------------------------------------------------------------------------
// Interleaves MR = 6 rows r[0..5] into dst (dst[k * 6 + i] = r[i][k]) for as many k as it handles in
// vector steps, and returns that count; the caller finishes the rest with scalar code.
template <typename T>
int64_t pack_a_rows_simd(const T* const* r, int64_t kc, T* dst) {
  return 0;
}
#ifdef PYCNN_HAVE_AVX2
// Eight k at a time: a 6 x 8 transpose in registers (unpack pairs of rows, then shuffle pairs of
// pairs), writing 48 contiguous floats; about 3x faster than the scalar interleave, which showed as
// 2-4% of a 1024^3 GEMM.
inline int64_t pack_a_rows_simd(const float* const* r, int64_t kc, float* dst) {
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8, dst += 48) {
    const __m256 r0 = _mm256_loadu_ps(r[0] + k), r1 = _mm256_loadu_ps(r[1] + k);
    const __m256 r2 = _mm256_loadu_ps(r[2] + k), r3 = _mm256_loadu_ps(r[3] + k);
    const __m256 r4 = _mm256_loadu_ps(r[4] + k), r5 = _mm256_loadu_ps(r[5] + k);
    // t01_lo = r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5], and so on.
    const __m256 t01_lo = _mm256_unpacklo_ps(r0, r1), t01_hi = _mm256_unpackhi_ps(r0, r1);
    const __m256 t23_lo = _mm256_unpacklo_ps(r2, r3), t23_hi = _mm256_unpackhi_ps(r2, r3);
    const __m256 t45_lo = _mm256_unpacklo_ps(r4, r5), t45_hi = _mm256_unpackhi_ps(r4, r5);
    // q[j] = rows 0-3 at k + j (low lane) and k + j + 4 (high lane).
    const __m256 q[4] = {_mm256_shuffle_ps(t01_lo, t23_lo, 0x44), _mm256_shuffle_ps(t01_lo, t23_lo, 0xEE),
                         _mm256_shuffle_ps(t01_hi, t23_hi, 0x44), _mm256_shuffle_ps(t01_hi, t23_hi, 0xEE)};
    // Rows 4-5 at k + j: 64-bit halves of t45_lo (j = 0, 1) and t45_hi (j = 2, 3), per lane.
    for (int lane = 0; lane < 2; ++lane) {
      const __m128 e_lo = lane ? _mm256_extractf128_ps(t45_lo, 1) : _mm256_castps256_ps128(t45_lo);
      const __m128 e_hi = lane ? _mm256_extractf128_ps(t45_hi, 1) : _mm256_castps256_ps128(t45_hi);
      float* d = dst + lane * 24;
      for (int j = 0; j < 4; ++j)
        _mm_storeu_ps(d + 6 * j, lane ? _mm256_extractf128_ps(q[j], 1) : _mm256_castps256_ps128(q[j]));
      _mm_storel_pi(reinterpret_cast<__m64*>(d + 4), e_lo);
      _mm_storeh_pi(reinterpret_cast<__m64*>(d + 10), e_lo);
      _mm_storel_pi(reinterpret_cast<__m64*>(d + 16), e_hi);
      _mm_storeh_pi(reinterpret_cast<__m64*>(d + 22), e_hi);
    }
  }
  return k;
}
#endif

// Transposed B, full panel: dst[k * NR + j] = b[j * ldb + k] for as many k as it does in vector steps;
// returns that count.
template <typename T>
int64_t pack_b_trans_simd(const T* b, int64_t ldb, int64_t kc, T* dst) {
  return 0;
}
#ifdef PYCNN_HAVE_AVX2
// Eight k at a time, as two 8 x 8 register transposes (rows j 0-7 and 8-15): replaces 16 strided scalar
// streams, which made B^T GEMMs (conv weight gradients) ~5% slower than B.
inline int64_t pack_b_trans_simd(const float* b, int64_t ldb, int64_t kc, float* dst) {
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    for (int half = 0; half < 2; ++half) {
      const float* s = b + half * 8 * ldb + k;
      __m256 r[8];
      for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(s + j * ldb);
      const __m256 u0 = _mm256_unpacklo_ps(r[0], r[1]), u1 = _mm256_unpackhi_ps(r[0], r[1]);
      const __m256 u2 = _mm256_unpacklo_ps(r[2], r[3]), u3 = _mm256_unpackhi_ps(r[2], r[3]);
      const __m256 u4 = _mm256_unpacklo_ps(r[4], r[5]), u5 = _mm256_unpackhi_ps(r[4], r[5]);
      const __m256 u6 = _mm256_unpacklo_ps(r[6], r[7]), u7 = _mm256_unpackhi_ps(r[6], r[7]);
      // v[j]: rows 0-3 (v0-v3) or 4-7 (v4-v7) at k + j (low lane) and k + j + 4 (high lane).
      const __m256 v0 = _mm256_shuffle_ps(u0, u2, 0x44), v1 = _mm256_shuffle_ps(u0, u2, 0xEE);
      const __m256 v2 = _mm256_shuffle_ps(u1, u3, 0x44), v3 = _mm256_shuffle_ps(u1, u3, 0xEE);
      const __m256 v4 = _mm256_shuffle_ps(u4, u6, 0x44), v5 = _mm256_shuffle_ps(u4, u6, 0xEE);
      const __m256 v6 = _mm256_shuffle_ps(u5, u7, 0x44), v7 = _mm256_shuffle_ps(u5, u7, 0xEE);
      float* d = dst + k * 16 + half * 8;
      _mm256_store_ps(d + 0 * 16, _mm256_permute2f128_ps(v0, v4, 0x20));
      _mm256_store_ps(d + 1 * 16, _mm256_permute2f128_ps(v1, v5, 0x20));
      _mm256_store_ps(d + 2 * 16, _mm256_permute2f128_ps(v2, v6, 0x20));
      _mm256_store_ps(d + 3 * 16, _mm256_permute2f128_ps(v3, v7, 0x20));
      _mm256_store_ps(d + 4 * 16, _mm256_permute2f128_ps(v0, v4, 0x31));
      _mm256_store_ps(d + 5 * 16, _mm256_permute2f128_ps(v1, v5, 0x31));
      _mm256_store_ps(d + 6 * 16, _mm256_permute2f128_ps(v2, v6, 0x31));
      _mm256_store_ps(d + 7 * 16, _mm256_permute2f128_ps(v3, v7, 0x31));
    }
  }
  return k;
}
#endif

// op(A)(i, k) is a[i * lda + k], or a[k * lda + i] when trans. Rows past mc are padded with zeros so
// the micro-kernel never needs a short-M path inside its k loop.
template <typename T>
void pack_a(bool trans, int64_t mc, int64_t kc, const T* a, int64_t lda, T* dst) {
  constexpr int MR = GemmTile<T>::mr;
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
      for (int64_t k = pack_a_rows_simd(r, kc, dst); k < kc; ++k) {
        T* d = dst + k * MR;
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

// op(B)(k, j) is b[k * ldb + j], or b[j * ldb + k] when trans. Columns past nc are zero.
template <typename T>
void pack_b(bool trans, int64_t kc, int64_t nc, const T* b, int64_t ldb, T* dst) {
  constexpr int NR = GemmTile<T>::nr;
  for (int64_t j0 = 0; j0 < nc; j0 += NR, dst += kc * NR) {
    const int64_t n = min64(NR, nc - j0);
    if (!trans && n == NR) {
      // A contiguous NR-wide row segment per k: a straight vector copy.
      const T* src = b + j0;
      for (int64_t k = 0; k < kc; ++k) {
        const T* s = src + k * ldb;
        T* d = dst + k * NR;
        for (int j = 0; j < NR; ++j) d[j] = s[j];
      }
    } else if (!trans) {
      for (int64_t k = 0; k < kc; ++k) {
        const T* s = b + k * ldb + j0;
        T* d = dst + k * NR;
        for (int64_t j = 0; j < n; ++j) d[j] = s[j];
        for (int64_t j = n; j < NR; ++j) d[j] = T(0);
      }
    } else {
      // Stored (N, K): full panels go 8 k at a time through pack_b_trans_simd (AVX2 copy); the rest walk
      // each source row contiguously and scatter with stride NR into the panel, which stays in L1/L2.
      const int64_t k0 = n == NR ? pack_b_trans_simd(b + j0 * ldb, ldb, kc, dst) : 0;
      for (int64_t j = 0; j < n; ++j) {
        const T* s = b + (j0 + j) * ldb;
        for (int64_t k = k0; k < kc; ++k) dst[k * NR + j] = s[k];
      }
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
  constexpr int NR = GemmTile<T>::nr;
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

#ifdef PYCNN_HAVE_AVX2
// ---- AVX2 + FMA micro-kernel --------------------------------------------------------------------------
// One overload set per element type, so that a single micro_kernel template serves float and double:
// both tiles are MR x 2 vectors.
inline __m256 vzero(float) { return _mm256_setzero_ps(); }
inline __m256d vzero(double) { return _mm256_setzero_pd(); }
inline __m256 vload(const float* p) { return _mm256_load_ps(p); }
inline __m256d vload(const double* p) { return _mm256_load_pd(p); }
inline __m256 vloadu(const float* p) { return _mm256_loadu_ps(p); }
inline __m256d vloadu(const double* p) { return _mm256_loadu_pd(p); }
inline void vstoreu(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
inline void vstoreu(double* p, __m256d v) { _mm256_storeu_pd(p, v); }
inline void vstore(float* p, __m256 v) { _mm256_store_ps(p, v); }
inline void vstore(double* p, __m256d v) { _mm256_store_pd(p, v); }
inline __m256 vbroadcast(const float* p) { return _mm256_broadcast_ss(p); }
inline __m256d vbroadcast(const double* p) { return _mm256_broadcast_sd(p); }
inline __m256 vset1(float x) { return _mm256_set1_ps(x); }
inline __m256d vset1(double x) { return _mm256_set1_pd(x); }
inline __m256 vfmadd(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
inline __m256d vfmadd(__m256d a, __m256d b, __m256d c) { return _mm256_fmadd_pd(a, b, c); }
inline __m256 vmul(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); }
inline __m256d vmul(__m256d a, __m256d b) { return _mm256_mul_pd(a, b); }

template <typename T>
struct VecOf;
template <>
struct VecOf<float> {
  using type = __m256;
};
template <>
struct VecOf<double> {
  using type = __m256d;
};

// C tile (m x n of MR x NR) = alpha * pa @ pb + beta * C. pa: kc steps of MR values, pb: kc steps of NR
// values (32-byte aligned). Each k step is 2 vector loads of B, MR broadcasts of A and 2*MR independent
// FMAs: 12 chains cover Zen3's 2 FMA pipes x 4-cycle latency with room to spare.
template <typename T>
void micro_kernel(int64_t kc, const T* __restrict pa, const T* __restrict pb, T alpha, T beta, T* c, int64_t rs_c,
                  int64_t cs_c, int m, int n) {
  using V = typename VecOf<T>::type;
  constexpr int MR = GemmTile<T>::mr, NR = GemmTile<T>::nr, L = NR / 2;
  V c00 = vzero(T()), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  V c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;

  // C's rows will be written right after the loop: start bringing them in now.
  for (int i = 0; i < m; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * rs_c), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * rs_c + (n - 1) * cs_c), _MM_HINT_T0);
  }

  // One k step per iteration, no software prefetch: measured faster than 2x/4x hand-unrolled bodies (GCC
  // then spilled an accumulator) and than prefetching A ahead (the hardware prefetcher already follows
  // the sequential panels); Zen3's wide front end absorbs the loop overhead.
  for (int64_t k = 0; k < kc; ++k, pa += MR, pb += NR) {
    const V b0 = vload(pb), b1 = vload(pb + L);
    V a = vbroadcast(pa + 0);
    c00 = vfmadd(a, b0, c00);
    c01 = vfmadd(a, b1, c01);
    a = vbroadcast(pa + 1);
    c10 = vfmadd(a, b0, c10);
    c11 = vfmadd(a, b1, c11);
    a = vbroadcast(pa + 2);
    c20 = vfmadd(a, b0, c20);
    c21 = vfmadd(a, b1, c21);
    a = vbroadcast(pa + 3);
    c30 = vfmadd(a, b0, c30);
    c31 = vfmadd(a, b1, c31);
    a = vbroadcast(pa + 4);
    c40 = vfmadd(a, b0, c40);
    c41 = vfmadd(a, b1, c41);
    a = vbroadcast(pa + 5);
    c50 = vfmadd(a, b0, c50);
    c51 = vfmadd(a, b1, c51);
  }

  const V va = vset1(alpha);
  V acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (m == MR && n == NR && cs_c == 1) {
    // Full tile, contiguous rows: vector stores (C need not be aligned).
    if (beta == T(0)) {
      for (int i = 0; i < MR; ++i) {
        vstoreu(c + i * rs_c, vmul(va, acc[i][0]));
        vstoreu(c + i * rs_c + L, vmul(va, acc[i][1]));
      }
    } else {
      const V vb = vset1(beta);
      for (int i = 0; i < MR; ++i) {
        T* row = c + i * rs_c;
        vstoreu(row, vfmadd(va, acc[i][0], vmul(vb, vloadu(row))));
        vstoreu(row + L, vfmadd(va, acc[i][1], vmul(vb, vloadu(row + L))));
      }
    }
    return;
  }
  alignas(32) T tile[MR * NR];
  for (int i = 0; i < MR; ++i) {
    vstore(tile + i * NR, vmul(va, acc[i][0]));
    vstore(tile + i * NR + L, vmul(va, acc[i][1]));
  }
  store_tile_scalar(tile, m, n, beta, c, rs_c, cs_c);
}

#else
// ---- portable micro-kernel ----------------------------------------------------------------------------
// The same tile in plain C++, computed as two MR x NR/2 halves: a half's accumulators (12 SSE registers
// for float) plus one B row fit SSE2's 16 registers, so the compiler keeps them there and vectorises the
// inner j loop; the whole tile at once spilled every k step and ran ~30x slower.
template <typename T>
void micro_kernel(int64_t kc, const T* __restrict pa, const T* __restrict pb, T alpha, T beta, T* c, int64_t rs_c,
                  int64_t cs_c, int m, int n) {
  constexpr int MR = GemmTile<T>::mr, NR = GemmTile<T>::nr, H = NR / 2;
  alignas(64) T tile[MR * NR];
  for (int half = 0; half < 2; ++half) {
    T acc[MR][H] = {};
    const T* b = pb + half * H;
    const T* a = pa;
    for (int64_t k = 0; k < kc; ++k, a += MR, b += NR)
      for (int i = 0; i < MR; ++i)
        for (int j = 0; j < H; ++j) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < H; ++j) tile[i * NR + half * H + j] = alpha * acc[i][j];
  }
  store_tile_scalar(tile, m, n, beta, c, rs_c, cs_c);
}
#endif

// Loop over the micro-tiles of one packed block: jr outside, ir inside, so one B micro-panel
// (kc x NR, ~16 KiB at kc = 256) stays in L1 while the MR-row panels of A stream from L2.
template <typename T>
void macro_kernel(int64_t mc, int64_t nc, int64_t kc, T alpha, const T* pa, const T* pb, T beta, T* c, int64_t rs_c,
                  int64_t cs_c) {
  constexpr int MR = GemmTile<T>::mr, NR = GemmTile<T>::nr;
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int n = static_cast<int>(min64(NR, nc - jr));
    const T* b = pb + (jr / NR) * kc * NR;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int m = static_cast<int>(min64(MR, mc - ir));
      micro_kernel<T>(kc, pa + (ir / MR) * kc * MR, b, alpha, beta, c + ir * rs_c + jr * cs_c, rs_c, cs_c, m, n);
    }
  }
}

}  // namespace

#define PYCNN_DEFINE_GEMM_KERNELS(T)                                                                          \
  void gemm_pack_a(bool trans, int64_t mc, int64_t kc, const T* a, int64_t lda, T* dst) {                     \
    pack_a<T>(trans, mc, kc, a, lda, dst);                                                                    \
  }                                                                                                           \
  void gemm_pack_b(bool trans, int64_t kc, int64_t nc, const T* b, int64_t ldb, T* dst) {                     \
    pack_b<T>(trans, kc, nc, b, ldb, dst);                                                                    \
  }                                                                                                           \
  void gemm_macro_kernel(int64_t mc, int64_t nc, int64_t kc, T alpha, const T* pa, const T* pb, T beta, T* c, \
                         int64_t rs_c, int64_t cs_c) {                                                        \
    macro_kernel<T>(mc, nc, kc, alpha, pa, pb, beta, c, rs_c, cs_c);                                          \
  }
PYCNN_DEFINE_GEMM_KERNELS(float)
PYCNN_DEFINE_GEMM_KERNELS(double)
#undef PYCNN_DEFINE_GEMM_KERNELS

}  // namespace pycnn::cpu::PYCNN_KNS
