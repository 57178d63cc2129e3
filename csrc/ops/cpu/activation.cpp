// CPU kernels of the nonlinearities: ReLU, the elementwise unary family (sigmoid ... clamp), PReLU and
// Maxout. Flat loops over contiguous memory, vectorised by the compiler, split across threads.
#include <algorithm>  // defines: std::min, std::max
#include <cmath>      // defines: std::exp, std::expm1, std::log1p, std::erf, std::tanh, std::pow

#include "core/parallel.h"
#include "ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

template <typename T>
void relu_forward(const T* x, T* y, int64_t n) {
  parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = x[i] < T(0) ? T(0) : x[i];  // NaN stays NaN, as in torch
  });
}

template <typename T>
void relu_backward(const T* dout, const T* y, T* dx, int64_t n) {
  parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) {
    // Load dout unconditionally: a conditional load would keep the compiler from vectorising the select
    // (random signs mispredict half the branches: 15x slower).
    for (int64_t i = b; i < e; ++i) {
      const T g = dout[i];
      dx[i] = y[i] > T(0) ? g : T(0);
    }
  });
}

template void relu_forward<float>(const float*, float*, int64_t);
template void relu_forward<double>(const double*, double*, int64_t);
template void relu_backward<float>(const float*, const float*, float*, int64_t);
template void relu_backward<double>(const double*, const double*, double*, int64_t);

}  // namespace pycnn::cpu

// ---- the elementwise unary family ----
// Each op is a small functor applied by one flat loop (map / map2): the switch on the op runs once per call,
// never per element, and the loop body is straight-line code with selects (a ? b : c on values computed on
// both sides), so the compiler can vectorise it. Formulas are written to stay finite for |x| up to the type's
// range: exp is only ever taken of a non-positive argument where it could overflow.

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

// sigmoid(x) = 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) for x < 0: both from e = e^-|x| <= 1, no overflow.
template <typename T>
inline T stable_sigmoid(T x) {
  const T e = std::exp(-std::abs(x));
  const T r = T(1) / (T(1) + e);
  return x >= T(0) ? r : e * r;
}

// SELU's constants (Klambauer et al. 2017), as in torch.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt1_2 = 0.70710678118654752440084436210485;      // 1/sqrt(2)
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;   // 1/sqrt(2*pi)
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;  // sqrt(2/pi)
constexpr double kGeluCubic = 0.044715;

}  // namespace

template <typename T>
void unary_forward(UnaryOp op, const T* x, T* y, int64_t n, double alpha_d, double beta_d) {
  const T alpha = T(alpha_d), beta = T(beta_d);
  switch (op) {
    case UnaryOp::Sigmoid: return map(x, y, n, [](T v) { return stable_sigmoid(v); });
    case UnaryOp::Tanh: return map(x, y, n, [](T v) { return std::tanh(v); });
    case UnaryOp::ReLU6:  // NaN passes through both compares unchanged, as in torch
      return map(x, y, n, [](T v) { const T t = v < T(0) ? T(0) : v; return t > T(6) ? T(6) : t; });
    case UnaryOp::LeakyReLU: return map(x, y, n, [=](T v) { return v > T(0) ? v : v * alpha; });
    case UnaryOp::ELU:
      return map(x, y, n, [=](T v) { return v > T(0) ? v : alpha * std::expm1(std::min(v, T(0))); });
    case UnaryOp::SELU: {
      const T sa = T(kSeluAlpha), sc = T(kSeluScale);
      return map(x, y, n, [=](T v) { return sc * (v > T(0) ? v : sa * std::expm1(std::min(v, T(0)))); });
    }
    case UnaryOp::SiLU: return map(x, y, n, [](T v) { return v * stable_sigmoid(v); });
    case UnaryOp::GELU: {
      const T c = T(kSqrt1_2);
      return map(x, y, n, [=](T v) { return T(0.5) * v * (T(1) + std::erf(v * c)); });
    }
    case UnaryOp::GELUTanh: {
      const T k = T(kSqrt2OverPi), c = T(kGeluCubic);
      return map(x, y, n, [=](T v) { return T(0.5) * v * (T(1) + std::tanh(k * (v + c * v * v * v))); });
    }
    case UnaryOp::Softplus:
      // torch: log(1 + e^(beta x)) / beta, and x itself where beta x > threshold. The log term is computed as
      // max(z, 0) + log1p(e^-|z|), which never overflows whatever threshold is.
      return map(x, y, n, [=](T v) {
        const T z = v * alpha;
        const T sp = (std::max(z, T(0)) + std::log1p(std::exp(-std::abs(z)))) / alpha;
        return z > beta ? v : sp;
      });
    case UnaryOp::Hardswish:
      return map(x, y, n, [](T v) {
        const T t = std::min(std::max(v + T(3), T(0)), T(6));
        return v * t / T(6);
      });
    case UnaryOp::Hardsigmoid:
      return map(x, y, n, [](T v) { return std::min(std::max(v + T(3), T(0)), T(6)) / T(6); });
    case UnaryOp::Exp: return map(x, y, n, [](T v) { return std::exp(v); });
    case UnaryOp::Log: return map(x, y, n, [](T v) { return std::log(v); });
    case UnaryOp::Sqrt: return map(x, y, n, [](T v) { return std::sqrt(v); });
    case UnaryOp::Abs: return map(x, y, n, [](T v) { return std::abs(v); });
    case UnaryOp::Neg: return map(x, y, n, [](T v) { return -v; });
    case UnaryOp::Pow: {
      // Common exponents get exact, cheaper forms (v*v is what torch computes for 2).
      if (alpha_d == 2.0) return map(x, y, n, [](T v) { return v * v; });
      if (alpha_d == 1.0) return map(x, y, n, [](T v) { return v; });
      if (alpha_d == 0.5) return map(x, y, n, [](T v) { return std::sqrt(v); });
      return map(x, y, n, [=](T v) { return std::pow(v, alpha); });
    }
    case UnaryOp::Clamp:
      // min first, then max: with min > max every value becomes max, as in torch; NaN passes through.
      return map(x, y, n, [=](T v) { const T t = v < alpha ? alpha : v; return t > beta ? beta : t; });
  }
}

template <typename T>
void unary_backward(UnaryOp op, const T* dout, const T* v_in, T* dx, int64_t n, double alpha_d, double beta_d) {
  const T alpha = T(alpha_d), beta = T(beta_d);
  const T* v = v_in;  // y for Sigmoid/Tanh/Exp/Sqrt, x otherwise
  switch (op) {
    case UnaryOp::Sigmoid: return map2(dout, v, dx, n, [](T g, T y) { return g * y * (T(1) - y); });
    case UnaryOp::Tanh: return map2(dout, v, dx, n, [](T g, T y) { return g * (T(1) - y * y); });
    case UnaryOp::ReLU6:  // torch's hardtanh backward: the gradient passes strictly inside (0, 6)
      return map2(dout, v, dx, n, [](T g, T x) { return (x > T(0) && x < T(6)) ? g : T(0); });
    case UnaryOp::LeakyReLU: return map2(dout, v, dx, n, [=](T g, T x) { return x > T(0) ? g : g * alpha; });
    case UnaryOp::ELU:
      return map2(dout, v, dx, n, [=](T g, T x) { return x > T(0) ? g : g * alpha * std::exp(std::min(x, T(0))); });
    case UnaryOp::SELU: {
      const T sa = T(kSeluAlpha), sc = T(kSeluScale);
      return map2(dout, v, dx, n, [=](T g, T x) {
        return g * sc * (x > T(0) ? T(1) : sa * std::exp(std::min(x, T(0))));
      });
    }
    case UnaryOp::SiLU:  // d/dx x s(x) = s (1 + x (1 - s))
      return map2(dout, v, dx, n, [](T g, T x) {
        const T s = stable_sigmoid(x);
        return g * s * (T(1) + x * (T(1) - s));
      });
    case UnaryOp::GELU: {  // Phi(x) + x phi(x); phi underflows to 0 for large |x|, never overflows
      const T c = T(kSqrt1_2), d = T(kInvSqrt2Pi);
      return map2(dout, v, dx, n, [=](T g, T x) {
        const T cdf = T(0.5) * (T(1) + std::erf(x * c));
        return g * (cdf + x * d * std::exp(T(-0.5) * x * x));
      });
    }
    case UnaryOp::GELUTanh: {  // 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2), t = tanh(k (x + c x^3))
      const T k = T(kSqrt2OverPi), c = T(kGeluCubic);
      return map2(dout, v, dx, n, [=](T g, T x) {
        const T x2 = x * x;
        const T t = std::tanh(k * (x + c * x2 * x));
        const T sech2 = T(1) - t * t;
        // sech2 is exactly 0 where |x| is large: select instead of multiplying 0 by a huge (or inf) x^3 term
        const T slope = sech2 == T(0) ? T(0) : T(0.5) * x * sech2 * k * (T(1) + T(3) * c * x2);
        return g * (T(0.5) * (T(1) + t) + slope);
      });
    }
    case UnaryOp::Softplus:  // sigmoid(beta x) below the threshold, 1 above it
      return map2(dout, v, dx, n, [=](T g, T x) {
        const T z = x * alpha;
        return z > beta ? g : g * stable_sigmoid(z);
      });
    case UnaryOp::Hardswish:  // torch 2.x: 0 up to -3, x/3 + 1/2 strictly inside (-3, 3), 1 from 3 on
      return map2(dout, v, dx, n, [](T g, T x) {
        const T mid = g * (x / T(3) + T(0.5));
        return x <= T(-3) ? T(0) : (x < T(3) ? mid : g);
      });
    case UnaryOp::Hardsigmoid:  // torch: 1/6 strictly inside (-3, 3)
      return map2(dout, v, dx, n, [](T g, T x) { return (x > T(-3) && x < T(3)) ? g / T(6) : T(0); });
    case UnaryOp::Exp: return map2(dout, v, dx, n, [](T g, T y) { return g * y; });
    case UnaryOp::Log: return map2(dout, v, dx, n, [](T g, T x) { return g / x; });
    case UnaryOp::Sqrt: return map2(dout, v, dx, n, [](T g, T y) { return g / (T(2) * y); });
    case UnaryOp::Abs:  // sign(x), 0 at 0 (torch)
      return map2(dout, v, dx, n, [](T g, T x) { return x > T(0) ? g : (x < T(0) ? -g : T(0)); });
    case UnaryOp::Neg: return map2(dout, v, dx, n, [](T g, T) { return -g; });
    case UnaryOp::Pow: {
      if (alpha_d == 0.0) return map2(dout, v, dx, n, [](T, T) { return T(0); });  // torch: zeros
      if (alpha_d == 2.0) return map2(dout, v, dx, n, [](T g, T x) { return T(2) * g * x; });
      if (alpha_d == 1.0) return map2(dout, v, dx, n, [](T g, T) { return g; });
      const T pm1 = T(alpha_d - 1.0);
      return map2(dout, v, dx, n, [=](T g, T x) { return g * alpha * std::pow(x, pm1); });
    }
    case UnaryOp::Clamp:  // torch: the gradient passes where min <= x <= max (inclusive)
      return map2(dout, v, dx, n, [=](T g, T x) { return (x >= alpha && x <= beta) ? g : T(0); });
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
    parallel_for(outer * C, std::max<int64_t>(1, kUnaryGrain / std::max<int64_t>(inner, 1)),
                 [=](int64_t b, int64_t e) {
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
template void prelu_backward<double>(const double*, const double*, const double*, double*, double*, int64_t,
                                     int64_t, int64_t);

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
