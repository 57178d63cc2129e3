// Max pooling 2x2 / stride 2 over one row pair of an (H, W) plane, written once for every kernel set: a
// branch-free body that the compiler vectorises at the set's width, de-interleaving even and odd columns
// with shuffles. It keeps the running max and the tap number 0..3, then turns the tap into torch's flat
// h*W+w index. NaN wins, as in torch's kernel.
#include "pycnn/ops/cpu/simd/kernels.h"  // defines: the declarations this file implements
#include "pycnn/ops/cpu/simd/vec.h"      // defines: kLanes

namespace pycnn::cpu::PYCNN_KNS {

namespace {
// Output ow of the row: the max of its window (branch-free: random data mispredicts half of the branches)
// and the tap 0..3 it came from, turned into the flat index.
template <typename T>
inline void pool_one(const T* __restrict r0, const T* __restrict r1, int64_t base, int64_t W, int64_t ow,
                     T* __restrict out, int64_t* __restrict idx) {
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

// Blocks of a fixed count of outputs, each one vector operation wide: a loop of unknown length left to the
// vectoriser got a masked AVX-512 epilogue 4x slower than scalar code on LeNet's 12-wide rows. The full
// vector width first, then blocks of 8, then one at a time.
template <int Block, typename T>
int64_t pool_blocks(const T* r0, const T* r1, int64_t base, int64_t W, int64_t ow, int64_t OW, T* out, int64_t* idx) {
  for (; ow + Block <= OW; ow += Block) {
#pragma omp simd
    for (int j = 0; j < Block; ++j) pool_one(r0, r1, base, W, ow + j, out, idx);
  }
  return ow;
}

template <typename T>
void max_pool_2x2_row_impl(const T* r0, const T* r1, int64_t base, int64_t W, int64_t OW, T* out, int64_t* idx) {
  int64_t ow = pool_blocks<kLanes<T>>(r0, r1, base, W, 0, OW, out, idx);
  if (kLanes<T> > 8) ow = pool_blocks<8>(r0, r1, base, W, ow, OW, out, idx);
  for (; ow < OW; ++ow) pool_one(r0, r1, base, W, ow, out, idx);
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
