// CPU kernels of the nonlinearities: ReLU, softmax and log_softmax, the elementwise unary family (sigmoid ...
// clamp), PReLU and Maxout. Flat loops over contiguous memory, vectorised by the compiler, split across threads.
#include <algorithm>  // defines: std::min, std::max
#include <cmath>      // defines: std::exp, std::log, std::isinf
#include <limits>     // defines: std::numeric_limits

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/cpu/simd/simd.h"  // defines: pointwise_kernels
#include "pycnn/ops/unary_math.h"     // defines: unary::<Op>::forward/backward, unary::Variants

namespace pycnn::cpu {

// ReLU runs the kernel set's span kernel (simd/pointwise_kernel.cpp) on each thread's chunk.
template <typename T>
void relu_forward(const T* x, T* y, int64_t n) {
  const auto kernel = pointwise_kernels<T>().relu_forward;
  parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) { kernel(x + b, y + b, e - b); });
}

template <typename T>
void relu_backward(const T* dout, const T* y, T* dx, int64_t n) {
  const auto kernel = pointwise_kernels<T>().relu_backward;
  parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) { kernel(dout + b, y + b, dx + b, e - b); });
}

template void relu_forward<float>(const float*, float*, int64_t);
template void relu_forward<double>(const double*, double*, int64_t);
template void relu_backward<float>(const float*, const float*, float*, int64_t);
template void relu_backward<double>(const double*, const double*, double*, int64_t);

}  // namespace pycnn::cpu

// ---- softmax and log_softmax: x is contiguous (A, R, B), the softmax runs over R ----
// log_softmax(x) = x - max - log(sum(exp(x - max))): subtracting the max keeps exp from overflowing.

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

template void softmax_forward<float>(const float*, float*, int64_t, int64_t, int64_t, bool);
template void softmax_forward<double>(const double*, double*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t, int64_t, bool);

}  // namespace pycnn::cpu

// ---- the elementwise unary family ----
// One flat loop per op (map / map2) applying the op's struct from ops/unary_math.h; the switch, generated from
// ops.h's list, runs once per call, never per element, so each loop body is the op's straight-line math and
// the compiler can vectorise it.

namespace pycnn::cpu {

namespace {

constexpr int64_t kUnaryGrain = 1 << 14;

template <typename T, typename F>
void map(const T* x, T* y, int64_t n, F f) {
  parallel_for(n, kUnaryGrain, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = f(x[i]);
  });
}

template <typename T, typename F>
void map2(const T* g, const T* v, T* dx, int64_t n, F f) {
  parallel_for(n, kUnaryGrain, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dx[i] = f(g[i], v[i]);
  });
}

// The scalars are rounded to T here, once: a conversion inside the loop could keep it from vectorising.
template <typename Op, typename T>
void unary_forward_loop(const T* x, T* y, int64_t n, double alpha, double beta) {
  unary::Variants<Op>::forward(alpha, beta, [&](auto form, double alpha_d, double beta_d) {
    using F = decltype(form);
    const T a = T(alpha_d), b = T(beta_d);
    map(x, y, n, [=](T v) { return F::forward(v, a, b); });
  });
}

template <typename Op, typename T>
void unary_backward_loop(const T* dout, const T* v, T* dx, int64_t n, double alpha, double beta) {
  unary::Variants<Op>::backward(alpha, beta, [&](auto form, double alpha_d, double beta_d) {
    using F = decltype(form);
    const T a = T(alpha_d), b = T(beta_d);
    map2(dout, v, dx, n, [=](T g, T u) { return F::backward(g, u, a, b); });
  });
}

}  // namespace

template <typename T>
void unary_forward(UnaryOp op, const T* x, T* y, int64_t n, double alpha, double beta) {
  switch (op) {
#define PYCNN_UNARY_FORWARD_CASE(Name, ...) \
  case UnaryOp::Name: return unary_forward_loop<unary::Name>(x, y, n, alpha, beta);
    PYCNN_UNARY_OPS(PYCNN_UNARY_FORWARD_CASE)
#undef PYCNN_UNARY_FORWARD_CASE
  }
}

// v is y for the ops whose gradient uses the output (unary_grad_uses_output), x otherwise
template <typename T>
void unary_backward(UnaryOp op, const T* dout, const T* v, T* dx, int64_t n, double alpha, double beta) {
  switch (op) {
#define PYCNN_UNARY_BACKWARD_CASE(Name, ...) \
  case UnaryOp::Name: return unary_backward_loop<unary::Name>(dout, v, dx, n, alpha, beta);
    PYCNN_UNARY_OPS(PYCNN_UNARY_BACKWARD_CASE)
#undef PYCNN_UNARY_BACKWARD_CASE
  }
}

template void unary_forward<float>(UnaryOp, const float*, float*, int64_t, double, double);
template void unary_forward<double>(UnaryOp, const double*, double*, int64_t, double, double);
template void unary_backward<float>(UnaryOp, const float*, const float*, float*, int64_t, double, double);
template void unary_backward<double>(UnaryOp, const double*, const double*, double*, int64_t, double, double);

// ---- PReLU: x (outer, C, inner), w (C,) ----

template <typename T>
void prelu_forward(const T* x, const T* w, T* y, int64_t outer, int64_t C, int64_t inner) {
  // one task per (n, c) row of `inner` elements: the slope is a constant of the inner loop
  parallel_for(outer * C, std::max<int64_t>(1, kUnaryGrain / std::max<int64_t>(inner, 1)), [=](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T a = w[r % C];
      const T* xr = x + r * inner;
      T* yr = y + r * inner;
      for (int64_t i = 0; i < inner; ++i) yr[i] = xr[i] > T(0) ? xr[i] : a * xr[i];
    }
  });
}

template <typename T>
void prelu_backward(const T* dout, const T* x, const T* w, T* dx, T* dw, int64_t outer, int64_t C, int64_t inner) {
  if (dx) {
    parallel_for(outer * C, std::max<int64_t>(1, kUnaryGrain / std::max<int64_t>(inner, 1)), [=](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T a = w[r % C];
        const T *gr = dout + r * inner, *xr = x + r * inner;
        T* dr = dx + r * inner;
        for (int64_t i = 0; i < inner; ++i) {
          const T g = gr[i];
          dr[i] = xr[i] > T(0) ? g : a * g;
        }
      }
    });
  }
  if (dw) {
    // dw[c] = sum over n, i of (x < 0 ? x * dout : 0). One task per channel, summed in a fixed order
    // (n outer, i inner, in double), so the result does not depend on the thread count.
    parallel_for(C, 1, [=](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        double acc = 0;
        for (int64_t n = 0; n < outer; ++n) {
          const T *gr = dout + (n * C + c) * inner, *xr = x + (n * C + c) * inner;
          T row = 0;
          for (int64_t i = 0; i < inner; ++i) row += xr[i] > T(0) ? T(0) : xr[i] * gr[i];
          acc += row;
        }
        dw[c] = T(acc);
      }
    });
  }
}

template void prelu_forward<float>(const float*, const float*, float*, int64_t, int64_t, int64_t);
template void prelu_forward<double>(const double*, const double*, double*, int64_t, int64_t, int64_t);
template void prelu_backward<float>(const float*, const float*, const float*, float*, float*, int64_t, int64_t,
                                    int64_t);
template void prelu_backward<double>(const double*, const double*, const double*, double*, double*, int64_t, int64_t,
                                     int64_t);

// ---- Maxout: x (N, C*k, inner) -> y, indices (N, C, inner) ----

template <typename T>
void maxout_forward(const T* x, T* y, int64_t* indices, int64_t N, int64_t C, int64_t k, int64_t inner) {
  parallel_for(N * C, std::max<int64_t>(1, kUnaryGrain / std::max<int64_t>(inner * k, 1)), [=](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {  // r = n * C + c; its k input rows start at (n * C + c) * k
      const T* xr = x + r * k * inner;
      T* yr = y + r * inner;
      int64_t* ir = indices + r * inner;
      for (int64_t i = 0; i < inner; ++i) {
        yr[i] = xr[i];
        ir[i] = 0;
      }
      for (int64_t j = 1; j < k; ++j) {
        const T* xj = xr + j * inner;
        for (int64_t i = 0; i < inner; ++i) {
          const T v = xj[i], best = yr[i];
          // strictly greater keeps the first maximum; a NaN replaces any number and is then kept
          const bool take = v > best || (v != v && best == best);
          yr[i] = take ? v : best;
          ir[i] = take ? j : ir[i];
        }
      }
    }
  });
}

template <typename T>
void maxout_backward(const T* dout, const int64_t* indices, T* dx, int64_t N, int64_t C, int64_t k, int64_t inner) {
  parallel_for(N * C, std::max<int64_t>(1, kUnaryGrain / std::max<int64_t>(inner * k, 1)), [=](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* gr = dout + r * inner;
      const int64_t* ir = indices + r * inner;
      for (int64_t j = 0; j < k; ++j) {  // every dx element is written: the gradient where j won, else 0
        T* dj = dx + (r * k + j) * inner;
        for (int64_t i = 0; i < inner; ++i) {
          const T g = gr[i];
          dj[i] = ir[i] == j ? g : T(0);
        }
      }
    }
  });
}

template void maxout_forward<float>(const float*, float*, int64_t*, int64_t, int64_t, int64_t, int64_t);
template void maxout_forward<double>(const double*, double*, int64_t*, int64_t, int64_t, int64_t, int64_t);
template void maxout_backward<float>(const float*, const int64_t*, float*, int64_t, int64_t, int64_t, int64_t);
template void maxout_backward<double>(const double*, const int64_t*, double*, int64_t, int64_t, int64_t, int64_t);

}  // namespace pycnn::cpu
