// Max pooling 2x2 / stride 2 over one row pair of an (H, W) plane, compiled twice like every SIMD kernel.
// The AVX2 copy takes 8 outputs per step: it splits 16 inputs of each row into even and odd columns,
// keeps the running max with compare + blend (no branches: random data mispredicts half of them) and the
// tap number 0..3, then turns taps into torch's flat h*W+w indices. NaN wins, as in torch's kernel.
#include "ops/cpu/simd/simd.h"

#ifdef PYCNN_HAVE_AVX2
#include <immintrin.h>  // defines: __m256, _mm256_* intrinsics
#endif

namespace pycnn::cpu::PYCNN_KNS {

namespace {
template <typename T>
inline void keep_max(T v, int64_t i, T& best, int64_t& best_i) {
  if (v > best || v != v) {
    best = v;
    best_i = i;
  }
}

template <typename T>
void max_pool_2x2_scalar(const T* r0, const T* r1, int64_t base, int64_t W, int64_t ow0, int64_t OW, T* out,
                         int64_t* idx) {
  for (int64_t ow = ow0; ow < OW; ++ow) {
    const int64_t c = 2 * ow;
    T best = r0[c];
    int64_t best_i = base + c;
    keep_max(r0[c + 1], base + c + 1, best, best_i);
    keep_max(r1[c], base + W + c, best, best_i);
    keep_max(r1[c + 1], base + W + c + 1, best, best_i);
    out[ow] = best;
    idx[ow] = best_i;
  }
}
}  // namespace

void max_pool_2x2_row(const float* r0, const float* r1, int64_t base, int64_t W, int64_t OW, float* out, int64_t* idx) {
  int64_t ow = 0;
#ifdef PYCNN_HAVE_AVX2
  const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);  // undo shuffle_ps's lane interleave
  const __m256i lane = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  for (; ow + 8 <= OW; ow += 8) {
    const float* p0 = r0 + 2 * ow;
    const float* p1 = r1 + 2 * ow;
    __m256 lo0 = _mm256_loadu_ps(p0), hi0 = _mm256_loadu_ps(p0 + 8);
    __m256 lo1 = _mm256_loadu_ps(p1), hi1 = _mm256_loadu_ps(p1 + 8);
    __m256 a = _mm256_permutevar8x32_ps(_mm256_shuffle_ps(lo0, hi0, 0x88), order);  // row 0, even
    __m256 b = _mm256_permutevar8x32_ps(_mm256_shuffle_ps(lo0, hi0, 0xDD), order);  // row 0, odd
    __m256 c = _mm256_permutevar8x32_ps(_mm256_shuffle_ps(lo1, hi1, 0x88), order);  // row 1, even
    __m256 d = _mm256_permutevar8x32_ps(_mm256_shuffle_ps(lo1, hi1, 0xDD), order);  // row 1, odd
    __m256 best = a;
    __m256i tap = _mm256_setzero_si256();
    const __m256 taps[3] = {b, c, d};
    for (int t = 0; t < 3; ++t) {
      const __m256 v = taps[t];
      const __m256 take = _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
      best = _mm256_blendv_ps(best, v, take);
      tap = _mm256_blendv_epi8(tap, _mm256_set1_epi32(t + 1), _mm256_castps_si256(take));
    }
    _mm256_storeu_ps(out + ow, best);
    // tap 0..3 -> offset (tap & 1) + (tap >> 1) * W from the window's top-left input
    const __m256i off = _mm256_add_epi32(_mm256_and_si256(tap, _mm256_set1_epi32(1)),
                                         _mm256_mullo_epi32(_mm256_srli_epi32(tap, 1), _mm256_set1_epi32(int(W))));
    const __m256i rel = _mm256_add_epi32(off, _mm256_add_epi32(lane, _mm256_set1_epi32(int(2 * ow))));
    const __m256i base4 = _mm256_set1_epi64x(base);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + ow),
                        _mm256_add_epi64(base4, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(rel))));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + ow + 4),
                        _mm256_add_epi64(base4, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(rel, 1))));
  }
#endif
  max_pool_2x2_scalar(r0, r1, base, W, ow, OW, out, idx);
}

void max_pool_2x2_row(const double* r0, const double* r1, int64_t base, int64_t W, int64_t OW, double* out,
                      int64_t* idx) {
  max_pool_2x2_scalar(r0, r1, base, W, 0, OW, out, idx);  // float64 pooling is for gradient checks
}

}  // namespace pycnn::cpu::PYCNN_KNS
