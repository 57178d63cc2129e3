// The losses on a GPU: class losses (NLL / cross-entropy with class weights, ignore_index and label
// smoothing, index or probability targets) one thread per (n, s) walking the C classes; elementwise losses
// one thread per element; the multi-class hinge one thread per row. Reductions ('mean' / 'sum') go into a
// device scalar through a fixed-order segment reduction (reduce.cuh): no atomics, no host round trip.
// The bodies are in ops/cuda/reduce_bodies.h.
#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/reduce.cuh"

namespace pycnn::cuda {

template <typename T>
void class_loss_forward(const T* lp, const int64_t* target, const T* weight, T* loss, T* denom, int64_t N, int64_t C,
                        int64_t S, int64_t ignore_index, double smoothing) {
  for_each(N * S, ClassLossForward<T>{lp, target, weight, loss, denom, C, S, ignore_index, smoothing}, "class_loss");
}

template <typename T>
void cross_entropy_fused_forward(const T* logits, const int64_t* target, const T* weight, T* lp, T* loss, T* denom,
                                 int64_t N, int64_t C, int64_t S, int64_t ignore_index, double smoothing) {
  const ClassLossForward<T> body{lp, target, weight, loss, denom, C, S, ignore_index, smoothing};
  for_each(N * S, CrossEntropyForward<T>{logits, lp, body}, "cross_entropy");
}

template <typename T>
void class_loss_backward(const T* g, int64_t gstride, T gscale, const T* lp, const int64_t* target, const T* weight,
                         T* dx, int64_t N, int64_t C, int64_t S, int64_t ignore_index, double smoothing, bool fused) {
  for_each(N * S,
           ClassLossBackward<T>{g, gstride, gscale, lp, target, weight, dx, C, S, ignore_index, smoothing, fused},
           "class_loss_backward");
}

template <typename T>
void prob_loss_forward(const T* lp, const T* target, const T* weight, T* loss, int64_t N, int64_t C, int64_t S,
                       double smoothing) {
  for_each(N * S, ProbLossForward<T>{lp, target, weight, loss, C, S, smoothing}, "prob_loss");
}

template <typename T>
void prob_loss_backward(const T* g, int64_t gstride, T gscale, const T* lp, const T* target, const T* weight, T* dx,
                        T* dtarget, int64_t N, int64_t C, int64_t S, double smoothing) {
  for_each(N * S, ProbLossBackward<T>{g, gstride, gscale, lp, target, weight, dx, dtarget, C, S, smoothing},
           "prob_loss_backward");
}

template <typename T>
void pointwise_loss_forward(const PointwiseLossArgs& args, const T* x, const T* y, const T* w, const T* pw, T* loss,
                            int64_t n) {
  const T param = static_cast<T>(args.param);
  loss_math::with_pointwise_loss(args.kind, [&](auto math) {
    for_each(n, PointwiseLossForward<T, decltype(math)>{param, x, y, w, pw, loss}, "pointwise_loss");
  });
}

template <typename T>
void pointwise_loss_backward(const PointwiseLossArgs& args, const T* g, int64_t gstride, T gscale, const T* x,
                             const T* y, const T* w, const T* pw, T* dx, T* dy, int64_t n) {
  const T param = static_cast<T>(args.param);
  loss_math::with_pointwise_loss(args.kind, [&](auto math) {
    for_each(n, PointwiseLossBackward<T, decltype(math)>{param, g, gstride, gscale, x, y, w, pw, dx, dy},
             "pointwise_loss_backward");
  });
}

template <typename T>
void multi_margin_forward(const T* x, const int64_t* target, const T* w, T* loss, int64_t N, int64_t C, int64_t p,
                          double margin) {
  for_each(N, MultiMarginForward<T>{x, target, w, loss, C, p, margin}, "multi_margin_loss");
}

template <typename T>
void multi_margin_backward(const T* g, int64_t gstride, T gscale, const T* x, const int64_t* target, const T* w, T* dx,
                           int64_t N, int64_t C, int64_t p, double margin) {
  for_each(N, MultiMarginBackward<T>{g, gstride, gscale, x, target, w, dx, C, p, margin}, "multi_margin_loss_backward");
}

template <typename T>
void loss_reduce(const T* per, const T* denom, int64_t n, double divisor, T* out) {
  reduce_segments(1, LossReduce<T>{per, denom, out, n, divisor}, "loss");
}

template <typename T>
void class_grad_scale(const T* dout, const int64_t* target, const T* weight, int64_t n, int64_t C, int64_t ignore_index,
                      T* out) {
  reduce_segments(1, ClassGradScale<T>{dout, target, weight, out, n, C, ignore_index}, "class_loss_backward");
}

#define PYCNN_INSTANTIATE_LOSS(T)                                                                                      \
  template void class_loss_forward<T>(const T*, const int64_t*, const T*, T*, T*, int64_t, int64_t, int64_t, int64_t,  \
                                      double);                                                                         \
  template void cross_entropy_fused_forward<T>(const T*, const int64_t*, const T*, T*, T*, T*, int64_t, int64_t,       \
                                               int64_t, int64_t, double);                                              \
  template void class_loss_backward<T>(const T*, int64_t, T, const T*, const int64_t*, const T*, T*, int64_t, int64_t, \
                                       int64_t, int64_t, double, bool);                                                \
  template void prob_loss_forward<T>(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t, double);             \
  template void prob_loss_backward<T>(const T*, int64_t, T, const T*, const T*, const T*, T*, T*, int64_t, int64_t,    \
                                      int64_t, double);                                                                \
  template void pointwise_loss_forward<T>(const PointwiseLossArgs&, const T*, const T*, const T*, const T*, T*,        \
                                          int64_t);                                                                    \
  template void pointwise_loss_backward<T>(const PointwiseLossArgs&, const T*, int64_t, T, const T*, const T*,         \
                                           const T*, const T*, T*, T*, int64_t);                                       \
  template void multi_margin_forward<T>(const T*, const int64_t*, const T*, T*, int64_t, int64_t, int64_t, double);    \
  template void multi_margin_backward<T>(const T*, int64_t, T, const T*, const int64_t*, const T*, T*, int64_t,        \
                                         int64_t, int64_t, double);                                                    \
  template void loss_reduce<T>(const T*, const T*, int64_t, double, T*);                                               \
  template void class_grad_scale<T>(const T*, const int64_t*, const T*, int64_t, int64_t, int64_t, T*);
PYCNN_INSTANTIATE_LOSS(float)
PYCNN_INSTANTIATE_LOSS(double)

}  // namespace pycnn::cuda
