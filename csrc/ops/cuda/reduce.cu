// sum_arb and argmax_arb on a GPU: x contiguous (A, R, B), reduced over R into out (A, B).
// A sum runs one block per output (a segment reduction, reduce.cuh) when B == 1 or there are too few outputs
// to give each a thread, and otherwise one thread per output walking R (neighbouring threads read
// neighbouring columns, so the loads coalesce). Both orders are fixed: the same input gives the same bits.
#include <type_traits>  // defines: std::is_integral_v

#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/reduce.cuh"

namespace pycnn::cuda {

template <typename T>
void sum_arb(const T* x, T* out, int64_t A, int64_t R, int64_t B) {
  const int64_t outputs = A * B;
  // int64 sums (counts, mostly small) walk R per output: the segment reductions accumulate in double.
  if (!std::is_integral_v<T> && (B == 1 || outputs < 4096)) {
    reduce_segments(outputs, SumSegments<T>{x, out, R, B}, "sum");
    return;
  }
  for_each(outputs, SumColumns<T>{x, out, R, B}, "sum");
}

template <typename T>
void argmax_arb(const T* x, int64_t* out, int64_t A, int64_t R, int64_t B) {
  for_each(A * B, ArgmaxColumns<T>{x, out, R, B}, "argmax");
}

template void sum_arb<float>(const float*, float*, int64_t, int64_t, int64_t);
template void sum_arb<double>(const double*, double*, int64_t, int64_t, int64_t);
template void sum_arb<int64_t>(const int64_t*, int64_t*, int64_t, int64_t, int64_t);
#define PYCNN_ARGMAX(T) template void argmax_arb<T>(const T*, int64_t*, int64_t, int64_t, int64_t);
PYCNN_FOR_EACH_VALUE_TYPE(PYCNN_ARGMAX)
#undef PYCNN_ARGMAX

}  // namespace pycnn::cuda
