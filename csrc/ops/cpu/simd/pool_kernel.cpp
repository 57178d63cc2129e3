// Max pooling 2x2 / stride 2 over one row pair of an (H, W) plane, written once for every kernel set: a
// branch-free loop (random data mispredicts half of the branches) that the compiler vectorises at the
// set's width, de-interleaving even and odd columns with shuffles. It keeps the running max and the tap
// number 0..3, then turns the tap into torch's flat h*W+w index. NaN wins, as in torch's kernel.
#include "ops/cpu/simd/kernels.h"  // defines: the declarations this file implements

namespace pycnn::cpu::PYCNN_KNS {

namespace {
template <typename T>
void max_pool_2x2_row_impl(const T* __restrict r0, const T* __restrict r1, int64_t base, int64_t W, int64_t OW,
                           T* __restrict out, int64_t* __restrict idx) {
#pragma omp simd
  for (int64_t ow = 0; ow < OW; ++ow) {
    const int64_t c = 2 * ow;
    const T taps[3] = {r0[c + 1], r1[c], r1[c + 1]};
    T best = r0[c];
    int64_t tap = 0;
    for (int t = 0; t < 3; ++t) {
      const bool take = taps[t] > best || taps[t] != taps[t];
      best = take ? taps[t] : best;
      tap = take ? t + 1 : tap;
    }
    out[ow] = best;
    idx[ow] = base + c + (tap & 1) + (tap >> 1) * W;
  }
}
}  // namespace

void max_pool_2x2_row(const float* r0, const float* r1, int64_t base, int64_t W, int64_t OW, float* out, int64_t* idx) {
  max_pool_2x2_row_impl(r0, r1, base, W, OW, out, idx);
}

void max_pool_2x2_row(const double* r0, const double* r1, int64_t base, int64_t W, int64_t OW, double* out,
                      int64_t* idx) {
  max_pool_2x2_row_impl(r0, r1, base, W, OW, out, idx);
}

}  // namespace pycnn::cpu::PYCNN_KNS
