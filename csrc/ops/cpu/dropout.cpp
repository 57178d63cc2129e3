// CPU dropout: y = x * mul + add, where (mul, add) is (keep_mul, keep_add) for kept groups and
// (drop_mul, drop_add) for dropped ones. A group is `group` contiguous elements (1 for Dropout, H*W for
// Dropout2d). Whether group i is kept is a pure function of (seed, i): the splitmix64 output number i of
// the stream seeded with `seed`, so the mask needs no storage, the backward regenerates it, and the
// result does not depend on how the groups are split across threads.
#include <cstdint>

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

namespace {
inline uint64_t splitmix64(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
}  // namespace

template <typename T>
void dropout_apply(const T* x, T* y, int64_t n, int64_t group, double p, uint64_t seed, T keep_mul, T keep_add,
                   T drop_mul, T drop_add) {
  const int64_t groups = n / group;
  const uint64_t threshold = static_cast<uint64_t>(p * 9007199254740992.0);
  parallel_for(groups, std::max<int64_t>(1, 8192 / group), [=](int64_t g0, int64_t g1) {
    if (group == 1) {
      for (int64_t i = g0; i < g1; ++i) {
        const bool keep = (splitmix64(seed, static_cast<uint64_t>(i)) >> 11) >= threshold;
        const T mul = keep ? keep_mul : drop_mul, add = keep ? keep_add : drop_add;  // selects, not branches
        y[i] = x[i] * mul + add;
      }
      return;
    }
    for (int64_t g = g0; g < g1; ++g) {
      const bool keep = (splitmix64(seed, static_cast<uint64_t>(g)) >> 11) >= threshold;
      const T mul = keep ? keep_mul : drop_mul, add = keep ? keep_add : drop_add;
      const T* xg = x + g * group;
      T* yg = y + g * group;
#pragma omp simd
      for (int64_t s = 0; s < group; ++s) yg[s] = xg[s] * mul + add;
    }
  });
}

template void dropout_apply<float>(const float*, float*, int64_t, int64_t, double, uint64_t, float, float, float,
                                   float);
template void dropout_apply<double>(const double*, double*, int64_t, int64_t, double, uint64_t, double, double, double,
                                    double);

}  // namespace pycnn::cpu
