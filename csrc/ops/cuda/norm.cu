// Normalisations on a GPU, each a statistics pass (one block per channel or row, reduce.cuh: sums in double
// in a fixed order, no atomics) followed by an elementwise pass: batch norm over x (N, C, S) with the
// running statistics updated on the device; the rows kernel of layer / group / instance norm over (R, D);
// local response norm, one thread per element; the Lp-sum (into a device scalar), its backward and clamp_.
// The bodies and their shapes are in ops/cuda/reduce_bodies.h.
#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/reduce.cuh"

namespace pycnn::cuda {

template <typename T>
void batch_norm_forward(const T* x, const T* w, const T* b, T* y, T* save_mean, T* save_invstd, T* run_mean, T* run_var,
                        int64_t N, int64_t C, int64_t S, bool training, double momentum, double eps) {
  if (training) {
    reduce_segments(C, BatchNormStats<T>{x, save_mean, save_invstd, run_mean, run_var, N * S, C, S, momentum, eps},
                    "batch_norm");
  } else {
    for_each(C, BatchNormEvalStats<T>{run_mean, run_var, save_mean, save_invstd, eps}, "batch_norm");
  }
  for_each(N * C * S, BatchNormApply<T>{x, w, b, save_mean, save_invstd, y, C, S}, "batch_norm");
}

template <typename T>
void batch_norm_backward(const T* dout, const T* x, const T* w, const T* mean, const T* invstd, T* dx, T* dw, T* db,
                         int64_t N, int64_t C, int64_t S, bool training) {
  Tensor sums = device_scratch(2 * C);
  double* s = sums.data<double>();
  reduce_segments(C, BatchNormGradSums<T>{dout, x, mean, invstd, dw, db, s, N * S, C, S}, "batch_norm_backward");
  if (dx)
    for_each(N * C * S, BatchNormGradInput<T>{dout, x, w, mean, invstd, s, dx, C, S, N * S, training},
             "batch_norm_backward");
}

template <typename T>
void rownorm_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* invstd, int64_t R, int64_t G, int64_t Cg,
                     int64_t S, double eps) {
  reduce_segments(R, RowStats<T>{x, mean, invstd, Cg * S, eps}, "rownorm");
  for_each(R * Cg * S, RowApply<T>{x, w, b, mean, invstd, y, G, Cg, S}, "rownorm");
}

template <typename T>
void rownorm_backward(const T* dout, const T* x, const T* w, const T* mean, const T* invstd, T* dx, T* dw, T* db,
                      int64_t R, int64_t G, int64_t Cg, int64_t S) {
  const int64_t D = Cg * S;
  if (dx) {
    Tensor sums = device_scratch(2 * R);
    double* s = sums.data<double>();
    reduce_segments(R, RowGradSums<T>{dout, x, w, mean, s, D, G, Cg, S}, "rownorm_backward");
    for_each(R * D, RowGradInput<T>{dout, x, w, mean, invstd, s, dx, G, Cg, S}, "rownorm_backward");
  }
  if (dw || db)
    reduce_segments(G * Cg, RowParamGrads<T>{dout, x, mean, invstd, dw, db, (R / G) * S, G, Cg, S}, "rownorm_backward");
}

template <typename T>
void lrn_forward(const T* x, T* y, int64_t N, int64_t C, int64_t S, int64_t size, double alpha, double beta, double k) {
  for_each(N * C * S, LrnForward<T>{x, y, LrnWindow{C, S, size, alpha, k}, beta}, "local_response_norm");
}

template <typename T>
void lrn_backward(const T* dout, const T* x, T* dx, int64_t N, int64_t C, int64_t S, int64_t size, double alpha,
                  double beta, double k) {
  for_each(N * C * S, LrnBackward<T>{dout, x, dx, LrnWindow{C, S, size, alpha, k}, beta},
           "local_response_norm_backward");
}

template <typename T>
void lp_sum_into(const T* x, int64_t n, double p, double* out) {
  if (std::isinf(p))
    reduce_segments(1, LpSum<T, MaxCombine>{x, out, n, p}, "lp_sum");
  else
    reduce_segments(1, LpSum<T, SumCombine>{x, out, n, p}, "lp_sum");
}

template <typename T>
void lp_sum_backward(const T* dout, const T* x, T* dx, int64_t n, double p) {
  for_each(n, LpSumBackward<T>{dout, x, dx, p}, "lp_sum_backward");
}

template <typename T>
void clamp_inplace(T* x, int64_t n, T lo, T hi) {
  for_each(n, ClampInplace<T>{x, lo, hi}, "clamp_");
}

#define PYCNN_NORM_INSTANTIATE(T)                                                                                      \
  template void batch_norm_forward<T>(const T*, const T*, const T*, T*, T*, T*, T*, T*, int64_t, int64_t, int64_t,     \
                                      bool, double, double);                                                           \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, \
                                       int64_t, bool);                                                                 \
  template void rownorm_forward<T>(const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, int64_t, int64_t,       \
                                   double);                                                                            \
  template void rownorm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t,    \
                                    int64_t, int64_t);                                                                 \
  template void lrn_forward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, double, double, double);              \
  template void lrn_backward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, int64_t, double, double, double);   \
  template void lp_sum_into<T>(const T*, int64_t, double, double*);                                                    \
  template void lp_sum_backward<T>(const T*, const T*, T*, int64_t, double);                                           \
  template void clamp_inplace<T>(T*, int64_t, T, T);

PYCNN_NORM_INSTANTIATE(float)
PYCNN_NORM_INSTANTIATE(double)

}  // namespace pycnn::cuda
