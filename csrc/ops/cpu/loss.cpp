// CPU softmax and log-softmax (x is contiguous (A, R, B), the softmax runs over R) and the cross-entropy pieces.
// log_softmax(x) = x - max - log(sum(exp(x - max))): subtracting the max keeps exp from overflowing.
#include <cmath>
#include <limits>

#include "core/parallel.h"
#include "ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

template <typename T>
void softmax_forward(const T* x, T* y, int64_t A, int64_t R, int64_t B, bool log) {
  parallel_for(A * B, std::max<int64_t>(1, 4096 / std::max<int64_t>(R, 1)), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t a = i / B, b = i % B;
      const T* p = x + a * R * B + b;
      T* q = y + a * R * B + b;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t r = 0; r < R; ++r) m = std::max(m, p[r * B]);
      if (std::isinf(m) && m < 0) m = 0;  // all -inf: avoid inf - inf
      double s = 0;
      for (int64_t r = 0; r < R; ++r) s += std::exp(static_cast<double>(p[r * B] - m));
      if (log) {
        // (x - max) - log(s), not x - (max + log(s)): with |x| ~ 1e4 in float32, max + log(s) would round
        // to the ulp of max (~1e-3) and take that error into every output.
        const T log_s = static_cast<T>(std::log(s));
        for (int64_t r = 0; r < R; ++r) q[r * B] = (p[r * B] - m) - log_s;
      } else {
        const double inv = 1.0 / s;
        for (int64_t r = 0; r < R; ++r) q[r * B] = static_cast<T>(std::exp(static_cast<double>(p[r * B] - m)) * inv);
      }
    }
  });
}

// log form: dx = dout - exp(y) * sum(dout); plain form: dx = y * (dout - sum(dout * y)).
template <typename T>
void softmax_backward(const T* dout, const T* y, T* dx, int64_t A, int64_t R, int64_t B, bool log) {
  parallel_for(A * B, std::max<int64_t>(1, 4096 / std::max<int64_t>(R, 1)), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t off = (i / B) * R * B + i % B;
      double s = 0;
      if (log) {
        for (int64_t r = 0; r < R; ++r) s += dout[off + r * B];
        for (int64_t r = 0; r < R; ++r)
          dx[off + r * B] = dout[off + r * B] - std::exp(y[off + r * B]) * static_cast<T>(s);
      } else {
        for (int64_t r = 0; r < R; ++r) s += static_cast<double>(dout[off + r * B]) * y[off + r * B];
        for (int64_t r = 0; r < R; ++r) dx[off + r * B] = y[off + r * B] * (dout[off + r * B] - static_cast<T>(s));
      }
    }
  });
}

template <typename T>
void nll_forward(const T* log_probs, const int64_t* target, T* loss, int64_t N, int64_t C, Reduction reduction) {
  if (reduction == Reduction::None) {
    for (int64_t i = 0; i < N; ++i) loss[i] = -log_probs[i * C + target[i]];
    return;
  }
  double s = 0;
  for (int64_t i = 0; i < N; ++i) s -= log_probs[i * C + target[i]];
  if (reduction == Reduction::Mean) s /= static_cast<double>(N);  // N == 0 gives NaN, as in torch
  *loss = static_cast<T>(s);
}

// dx is zero on entry; only the target entries get -dout (/ N for the mean).
template <typename T>
void nll_backward(const T* dout, const int64_t* target, T* dx, int64_t N, int64_t C, Reduction reduction) {
  const T scale = reduction == Reduction::Mean ? dout[0] / static_cast<T>(N) : dout[0];
  for (int64_t i = 0; i < N; ++i) dx[i * C + target[i]] = -(reduction == Reduction::None ? dout[i] : scale);
}

template <typename T>
void cross_entropy_backward(const T* dout, const T* log_probs, const int64_t* target, T* dx, int64_t N, int64_t C,
                            Reduction reduction) {
  const T scale = reduction == Reduction::Mean ? dout[0] / static_cast<T>(N) : dout[0];
  parallel_for(N, std::max<int64_t>(1, 8192 / std::max<int64_t>(C, 1)), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T g = reduction == Reduction::None ? dout[i] : scale;
      const T* lp = log_probs + i * C;
      T* d = dx + i * C;
      for (int64_t c = 0; c < C; ++c) d[c] = g * std::exp(lp[c]);
      d[target[i]] -= g;
    }
  });
}

#define PYCNN_INSTANTIATE_LOSS(T)                                                                  \
  template void softmax_forward<T>(const T*, T*, int64_t, int64_t, int64_t, bool);                 \
  template void softmax_backward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, bool);      \
  template void nll_forward<T>(const T*, const int64_t*, T*, int64_t, int64_t, Reduction);         \
  template void nll_backward<T>(const T*, const int64_t*, T*, int64_t, int64_t, Reduction);        \
  template void cross_entropy_backward<T>(const T*, const T*, const int64_t*, T*, int64_t, int64_t, Reduction);
PYCNN_INSTANTIATE_LOSS(float)
PYCNN_INSTANTIATE_LOSS(double)

}  // namespace pycnn::cpu
