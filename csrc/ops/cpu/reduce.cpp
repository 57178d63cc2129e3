// CPU reductions over the (A, R, B) form: x is contiguous (A, R, B), out is (A, B).
// Sums accumulate in double (int64 in int64) in a fixed order, so results do not depend on the thread count.
#include <cmath>
#include <vector>

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

template <typename T>
void sum_arb(const T* x, T* out, int64_t A, int64_t R, int64_t B) {
  using Acc = sum_accumulator<T>;
  if (B == 1) {
    parallel_for(A, std::max<int64_t>(1, 16384 / std::max<int64_t>(R, 1)), [&](int64_t a0, int64_t a1) {
      for (int64_t a = a0; a < a1; ++a) {
        const T* row = x + a * R;
        // four independent partial sums: vectorisable and more accurate than one running sum
        Acc s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int64_t r = 0;
        for (; r + 4 <= R; r += 4) {
          s0 += row[r];
          s1 += row[r + 1];
          s2 += row[r + 2];
          s3 += row[r + 3];
        }
        for (; r < R; ++r) s0 += row[r];
        out[a] = static_cast<T>((s0 + s1) + (s2 + s3));
      }
    });
    return;
  }
  // Columns: split over (a, b-block) so that both a bias gradient (A = 1) and a per-sample reduction
  // (A large) use every thread.
  const int64_t kBlock = 256;
  const int64_t nblocks = (B + kBlock - 1) / kBlock;
  parallel_for(A * nblocks, 1, [&](int64_t t0, int64_t t1) {
    Acc acc[kBlock];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t a = t / nblocks, b0 = (t % nblocks) * kBlock, nb = std::min(kBlock, B - b0);
      for (int64_t j = 0; j < nb; ++j) acc[j] = 0;
      const T* base = x + a * R * B + b0;
      for (int64_t r = 0; r < R; ++r) {
        const T* row = base + r * B;
        for (int64_t j = 0; j < nb; ++j) acc[j] += row[j];
      }
      for (int64_t j = 0; j < nb; ++j) out[a * B + b0 + j] = static_cast<T>(acc[j]);
    }
  });
}

template <typename T>
void argmax_arb(const T* x, int64_t* out, int64_t A, int64_t R, int64_t B) {
  parallel_for(A * B, 1024, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t a = i / B, b = i % B;
      const T* p = x + a * R * B + b;
      int64_t best = 0;
      T best_v = p[0];
      for (int64_t r = 1; r < R; ++r) {
        T v = p[r * B];
        if (std::isnan(best_v)) break;  // NaN wins, as in torch
        if (v > best_v || std::isnan(v)) {
          best_v = v;
          best = r;
        }
      }
      out[i] = best;
    }
  });
}

template void sum_arb<float>(const float*, float*, int64_t, int64_t, int64_t);
template void sum_arb<double>(const double*, double*, int64_t, int64_t, int64_t);
template void sum_arb<int64_t>(const int64_t*, int64_t*, int64_t, int64_t, int64_t);
#define PYCNN_ARGMAX(T) template void argmax_arb<T>(const T*, int64_t*, int64_t, int64_t, int64_t);
PYCNN_FOR_EACH_VALUE_TYPE(PYCNN_ARGMAX)
#undef PYCNN_ARGMAX

}  // namespace pycnn::cpu
