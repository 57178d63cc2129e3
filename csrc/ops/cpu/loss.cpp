// CPU kernels of the losses: the class losses (cross-entropy / NLL over (N, C, S) log-probabilities), the
// elementwise losses and the multi-class hinge.
#include <algorithm>  // defines: std::max
#include <cmath>

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/loss_math.h"  // defines: loss_math::with_pointwise_loss and the per-kind math

namespace pycnn::cpu {

// ---- class losses over (N, C, S): element i = (n, s) reads lp[n*C*S + c*S + s] ----
// Per element with target y and smoothing e: loss = (1-e) w_y (-lp_y) + e/C sum_c w_c (-lp_c); an ignored
// element has loss 0 and weight 0 (so it drops out of the mean's denominator too).
template <typename T>
void class_loss_forward(const T* lp, const int64_t* target, const T* weight, T* loss, T* denom, int64_t N, int64_t C,
                        int64_t S, int64_t ignore_index, double smoothing) {
  const double keep = 1.0 - smoothing, spread = smoothing / static_cast<double>(C);
  parallel_for(N * S, std::max<int64_t>(1, 4096 / std::max<int64_t>(C, 1)), [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t n = i / S, s = i % S, y = target[i];
      if (y == ignore_index) {  // the targets were range-checked: any other value indexes a class
        loss[i] = 0, denom[i] = 0;
        continue;
      }
      const T* row = lp + n * C * S + s;
      const double wy = weight ? static_cast<double>(weight[y]) : 1.0;
      double l = -keep * wy * row[y * S];
      if (spread != 0) {
        double sm = 0;
        for (int64_t c = 0; c < C; ++c) sm -= (weight ? static_cast<double>(weight[c]) : 1.0) * row[c * S];
        l += spread * sm;
      }
      loss[i] = static_cast<T>(l), denom[i] = static_cast<T>(wy);
    }
  });
}

template <typename T>
void cross_entropy_fused_forward(const T* logits, const int64_t* target, const T* weight, T* lp, T* loss, T* denom,
                                 int64_t N, int64_t C, int64_t S, int64_t ignore_index, double smoothing) {
  softmax_forward(logits, lp, N, C, S, true);
  class_loss_forward(lp, target, weight, loss, denom, N, C, S, ignore_index, smoothing);
}

// d loss / d lp_c = -(1-e) w_y [c == y] - e/C w_c =: a_c. Fused through log_softmax (dx = a - p * sum(a),
// p = exp(lp)): dx_c = g (a_c + p_c ((1-e) w_y + e/C sum_c w_c)), with no softmax recomputation.
template <typename T>
void class_loss_backward(const T* g, int64_t gstride, T gscale, const T* lp, const int64_t* target, const T* weight,
                         T* dx, int64_t N, int64_t C, int64_t S, int64_t ignore_index, double smoothing, bool fused) {
  const double keep = 1.0 - smoothing, spread = smoothing / static_cast<double>(C);
  double wsum = static_cast<double>(C);
  if (weight) {
    wsum = 0;
    for (int64_t c = 0; c < C; ++c) wsum += weight[c];
  }
  parallel_for(N * S, std::max<int64_t>(1, 4096 / std::max<int64_t>(C, 1)), [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t n = i / S, s = i % S, y = target[i];
      const T* row = lp + n * C * S + s;
      T* drow = dx + n * C * S + s;
      if (y == ignore_index) {
        for (int64_t c = 0; c < C; ++c) drow[c * S] = 0;
        continue;
      }
      const double gi = static_cast<double>(g[i * gstride]) * gscale;
      const double wy = weight ? static_cast<double>(weight[y]) : 1.0;
      // dx_c = a p_c - b w_c, then the target's own term; the row-constant branches stay out of the c loops
      const T a = static_cast<T>(gi * (keep * wy + spread * wsum)), b = static_cast<T>(gi * spread);
      if (fused) {
        for (int64_t c = 0; c < C; ++c) drow[c * S] = a * std::exp(row[c * S]);
      } else {
        for (int64_t c = 0; c < C; ++c) drow[c * S] = 0;
      }
      if (b != 0) {
        if (weight) {
          for (int64_t c = 0; c < C; ++c) drow[c * S] -= b * weight[c];
        } else {
          for (int64_t c = 0; c < C; ++c) drow[c * S] -= b;
        }
      }
      drow[y * S] -= static_cast<T>(gi * keep * wy);
    }
  });
}

// Probability targets t' = (1-e) t + e/C: loss = -sum_c w_c t'_c lp_c.
template <typename T>
void prob_loss_forward(const T* lp, const T* target, const T* weight, T* loss, int64_t N, int64_t C, int64_t S,
                       double smoothing) {
  const double keep = 1.0 - smoothing, spread = smoothing / static_cast<double>(C);
  parallel_for(N * S, std::max<int64_t>(1, 4096 / std::max<int64_t>(C, 1)), [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t off = (i / S) * C * S + i % S;
      double l = 0;
      for (int64_t c = 0; c < C; ++c) {
        const double wc = weight ? static_cast<double>(weight[c]) : 1.0;
        l -= wc * (keep * target[off + c * S] + spread) * lp[off + c * S];
      }
      loss[i] = static_cast<T>(l);
    }
  });
}

// dx_c = g (p_c sum_c' w_c' t'_c' - w_c t'_c) (fused softmax); dt_c = -g (1-e) w_c lp_c.
template <typename T>
void prob_loss_backward(const T* g, int64_t gstride, T gscale, const T* lp, const T* target, const T* weight, T* dx,
                        T* dtarget, int64_t N, int64_t C, int64_t S, double smoothing) {
  const double keep = 1.0 - smoothing, spread = smoothing / static_cast<double>(C);
  parallel_for(N * S, std::max<int64_t>(1, 4096 / std::max<int64_t>(C, 1)), [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t off = (i / S) * C * S + i % S;
      const double gi = static_cast<double>(g[i * gstride]) * gscale;
      double total = 0;
      for (int64_t c = 0; c < C; ++c)
        total += (weight ? static_cast<double>(weight[c]) : 1.0) * (keep * target[off + c * S] + spread);
      for (int64_t c = 0; c < C; ++c) {
        const int64_t k = off + c * S;
        const double wc = weight ? static_cast<double>(weight[c]) : 1.0;
        dx[k] = static_cast<T>(gi * (std::exp(lp[k]) * total - wc * (keep * target[k] + spread)));
        if (dtarget) dtarget[k] = static_cast<T>(-gi * keep * wc * lp[k]);
      }
    }
  });
}

// ---- elementwise losses: one loop per kind (the math is ops/loss_math.h, shared with the CUDA bodies); the
// kind switch stays outside the loop ----
template <typename F>
static void for_each_elem(int64_t n, const F& f) {
  parallel_for(n, 16384, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) f(i);
  });
}

template <typename T>
void pointwise_loss_forward(const PointwiseLossArgs& args, const T* x, const T* y, const T* w, const T* pw, T* loss,
                            int64_t n) {
  const T param = static_cast<T>(args.param);
  loss_math::with_pointwise_loss(args.kind, [&](auto math) {
    using M = decltype(math);
    for_each_elem(n, [=](int64_t i) { loss[i] = M::loss(x[i], y[i], w ? w[i] : T(1), pw ? pw[i] : T(1), param); });
  });
}

template <typename T>
void pointwise_loss_backward(const PointwiseLossArgs& args, const T* g, int64_t gstride, T gscale, const T* x,
                             const T* y, const T* w, const T* pw, T* dx, T* dy, int64_t n) {
  const T param = static_cast<T>(args.param);
  loss_math::with_pointwise_loss(args.kind, [&](auto math) {
    using M = decltype(math);
    for_each_elem(n, [=](int64_t i) {
      const T gi = g[i * gstride] * gscale;
      T d_x = 0, d_y = 0;
      M::grad(x[i], y[i], w ? w[i] : T(1), pw ? pw[i] : T(1), param, d_x, d_y);
      if (dx) dx[i] = gi * d_x;
      if (dy) dy[i] = gi * d_y;
    });
  });
}

// loss_n = sum_{c != y} w_y max(0, margin - x_y + x_c)^p / C
template <typename T>
void multi_margin_forward(const T* x, const int64_t* target, const T* w, T* loss, int64_t N, int64_t C, int64_t p,
                          double margin) {
  parallel_for(N, std::max<int64_t>(1, 4096 / std::max<int64_t>(C, 1)), [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T* row = x + i * C;
      const int64_t y = target[i];
      double l = 0;
      for (int64_t c = 0; c < C; ++c) {
        const double z = std::max(0.0, margin - row[y] + row[c]);
        l += c == y ? 0.0 : (p == 1 ? z : z * z);
      }
      loss[i] = static_cast<T>(l * (w ? static_cast<double>(w[y]) : 1.0) / static_cast<double>(C));
    }
  });
}

template <typename T>
void multi_margin_backward(const T* g, int64_t gstride, T gscale, const T* x, const int64_t* target, const T* w, T* dx,
                           int64_t N, int64_t C, int64_t p, double margin) {
  parallel_for(N, std::max<int64_t>(1, 4096 / std::max<int64_t>(C, 1)), [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T* row = x + i * C;
      T* drow = dx + i * C;
      const int64_t y = target[i];
      const double scale =
          static_cast<double>(g[i * gstride]) * gscale * (w ? static_cast<double>(w[y]) : 1.0) / static_cast<double>(C);
      double dy = 0;
      for (int64_t c = 0; c < C; ++c) {
        const double z = margin - row[y] + row[c];
        const double d = c == y || z <= 0 ? 0.0 : (p == 1 ? 1.0 : 2.0 * z) * scale;
        drow[c] = static_cast<T>(d);
        dy -= d;
      }
      drow[y] = static_cast<T>(dy);
    }
  });
}

template <typename T>
double sum_serial(const T* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  return s;
}

template <typename T>
void loss_reduce(const T* per, const T* denom, int64_t n, double divisor, T* out) {
  const double s = sum_serial(per, n);
  out[0] = static_cast<T>(s / (denom ? sum_serial(denom, n) : divisor));
}

template <typename T>
void class_grad_scale(const T* dout, const int64_t* target, const T* weight, int64_t n, int64_t C, int64_t ignore_index,
                      T* out) {
  double denom = 0;
  for (int64_t i = 0; i < n; ++i)
    denom += target[i] == ignore_index ? 0.0 : (weight ? static_cast<double>(weight[target[i]]) : 1.0);
  out[0] = static_cast<T>(static_cast<double>(dout[0]) * static_cast<double>(static_cast<T>(1.0 / denom)));
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
  template double sum_serial<T>(const T*, int64_t);                                                                    \
  template void loss_reduce<T>(const T*, const T*, int64_t, double, T*);                                               \
  template void class_grad_scale<T>(const T*, const int64_t*, const T*, int64_t, int64_t, int64_t, T*);
PYCNN_INSTANTIATE_LOSS(float)
PYCNN_INSTANTIATE_LOSS(double)

}  // namespace pycnn::cpu
