// CUDA dropout: y = x * mul + add, (mul, add) picked per group by a keep mask drawn from Philox4x32-10 at
// counter = group index, key = seed (ops/cuda/philox.h). The mask is a pure function of (seed, group), so the
// backward regenerates it and a seed reproduces it on every run; it is not the CPU's mask (splitmix64 there).
#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/launch.cuh"
#include "pycnn/ops/cuda/pointwise_bodies.h"

namespace pycnn::cuda {

template <typename T>
void dropout_apply(const T* x, T* y, int64_t n, int64_t group, double p, uint64_t seed, T keep_mul, T keep_add,
                   T drop_mul, T drop_add) {
  // keep when the 53 uniform bits are >= p * 2^53, as cpu::dropout_apply decides
  const uint64_t threshold = static_cast<uint64_t>(p * 9007199254740992.0);
  for_each(n, DropoutApply<T>{x, y, group, seed, threshold, keep_mul, keep_add, drop_mul, drop_add}, "dropout");
}

template void dropout_apply<float>(const float*, float*, int64_t, int64_t, double, uint64_t, float, float, float,
                                   float);
template void dropout_apply<double>(const double*, double*, int64_t, int64_t, double, uint64_t, double, double, double,
                                    double);

}  // namespace pycnn::cuda
