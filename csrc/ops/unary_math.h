// The math of the elementwise unary ops, one struct per entry of PYCNN_UNARY_OPS (ops/ops.h), same name:
//   forward(x, alpha, beta)      -> y = op(x)
//   backward(g, v, alpha, beta)  -> dx = g * op'(x), v being y or x as the list's from_output column says.
// Plain inline functions of one element, usable by any device's kernel (the CPU loops are ops/cpu/activation.cpp).
// alpha/beta are the op's scalars (ops.h), rounded to T once per call by the kernel.
// Bodies are straight-line code with selects (a ? b : c on values computed on both sides), so that loops over
// them vectorise, and stay finite for |x| up to the type's range: exp is only ever taken of a non-positive
// argument where it could overflow. The gradients at kinks and NaN follow torch.
#pragma once
#include <algorithm>  // defines: std::min, std::max
#include <cmath>      // defines: std::exp, std::expm1, std::log1p, std::erf, std::tanh, std::pow, std::floor, ...

#include "pycnn/core/host_device.h"  // defines: PYCNN_HD

namespace pycnn::unary {

// sigmoid(x) = 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) for x < 0: both from e = e^-|x| <= 1, no overflow.
template <typename T>
PYCNN_HD inline T stable_sigmoid(T x) {
  const T e = std::exp(-std::abs(x));
  const T r = T(1) / (T(1) + e);
  return x >= T(0) ? r : e * r;
}

// SELU's constants (Klambauer et al. 2017), as in torch, and GELU's.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt1_2 = 0.70710678118654752440084436210485;      // 1/sqrt(2)
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;   // 1/sqrt(2*pi)
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;  // sqrt(2/pi)
constexpr double kGeluCubic = 0.044715;

struct Sigmoid {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return stable_sigmoid(x); }
  template <typename T> PYCNN_HD static T backward(T g, T y, T, T) { return g * y * (T(1) - y); }
};

struct Tanh {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return std::tanh(x); }
  template <typename T> PYCNN_HD static T backward(T g, T y, T, T) { return g * (T(1) - y * y); }
};

struct ReLU6 {
  template <typename T>
  PYCNN_HD static T forward(T x, T, T) {  // NaN passes through both compares unchanged, as in torch
    const T t = x < T(0) ? T(0) : x;
    return t > T(6) ? T(6) : t;
  }
  // torch's hardtanh backward: the gradient passes strictly inside (0, 6)
  template <typename T> PYCNN_HD static T backward(T g, T x, T, T) { return (x > T(0) && x < T(6)) ? g : T(0); }
};

struct LeakyReLU {  // alpha = negative_slope
  template <typename T> PYCNN_HD static T forward(T x, T alpha, T) { return x > T(0) ? x : x * alpha; }
  template <typename T> PYCNN_HD static T backward(T g, T x, T alpha, T) { return x > T(0) ? g : g * alpha; }
};

struct ELU {
  template <typename T>
  PYCNN_HD static T forward(T x, T alpha, T) {
    return x > T(0) ? x : alpha * std::expm1(std::min(x, T(0)));
  }
  template <typename T>
  PYCNN_HD static T backward(T g, T x, T alpha, T) {
    return x > T(0) ? g : g * alpha * std::exp(std::min(x, T(0)));
  }
};

struct SELU {
  template <typename T>
  PYCNN_HD static T forward(T x, T, T) {
    return T(kSeluScale) * (x > T(0) ? x : T(kSeluAlpha) * std::expm1(std::min(x, T(0))));
  }
  template <typename T>
  PYCNN_HD static T backward(T g, T x, T, T) {
    return g * T(kSeluScale) * (x > T(0) ? T(1) : T(kSeluAlpha) * std::exp(std::min(x, T(0))));
  }
};

struct SiLU {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return x * stable_sigmoid(x); }
  template <typename T>
  PYCNN_HD static T backward(T g, T x, T, T) {  // d/dx x s(x) = s (1 + x (1 - s))
    const T s = stable_sigmoid(x);
    return g * s * (T(1) + x * (T(1) - s));
  }
};

struct GELU {
  template <typename T>
  PYCNN_HD static T forward(T x, T, T) {
    return T(0.5) * x * (T(1) + std::erf(x * T(kSqrt1_2)));
  }
  template <typename T>
  PYCNN_HD static T backward(T g, T x, T, T) {  // Phi(x) + x phi(x); phi underflows to 0, never overflows
    const T cdf = T(0.5) * (T(1) + std::erf(x * T(kSqrt1_2)));
    return g * (cdf + x * T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x));
  }
};

struct GELUTanh {
  template <typename T>
  PYCNN_HD static T forward(T x, T, T) {
    const T k = T(kSqrt2OverPi), c = T(kGeluCubic);
    return T(0.5) * x * (T(1) + std::tanh(k * (x + c * x * x * x)));
  }
  // 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2), t = tanh(k (x + c x^3))
  template <typename T>
  PYCNN_HD static T backward(T g, T x, T, T) {
    const T k = T(kSqrt2OverPi), c = T(kGeluCubic);
    const T x2 = x * x;
    const T t = std::tanh(k * (x + c * x2 * x));
    const T sech2 = T(1) - t * t;
    // sech2 is exactly 0 where |x| is large: select instead of multiplying 0 by a huge (or inf) x^3 term
    const T slope = sech2 == T(0) ? T(0) : T(0.5) * x * sech2 * k * (T(1) + T(3) * c * x2);
    return g * (T(0.5) * (T(1) + t) + slope);
  }
};

struct Softplus {  // alpha = beta, beta = threshold (torch's names)
  // torch: log(1 + e^(beta x)) / beta, and x itself where beta x > threshold. The log term is computed as
  // max(z, 0) + log1p(e^-|z|), which never overflows whatever threshold is.
  template <typename T>
  PYCNN_HD static T forward(T x, T alpha, T beta) {
    const T z = x * alpha;
    const T sp = (std::max(z, T(0)) + std::log1p(std::exp(-std::abs(z)))) / alpha;
    return z > beta ? x : sp;
  }
  // sigmoid(beta x) below the threshold, 1 above it
  template <typename T>
  PYCNN_HD static T backward(T g, T x, T alpha, T beta) {
    const T z = x * alpha;
    return z > beta ? g : g * stable_sigmoid(z);
  }
};

struct Hardswish {
  template <typename T>
  PYCNN_HD static T forward(T x, T, T) {
    const T t = std::min(std::max(x + T(3), T(0)), T(6));
    return x * t / T(6);
  }
  // torch 2.x: 0 up to -3, x/3 + 1/2 strictly inside (-3, 3), 1 from 3 on
  template <typename T>
  PYCNN_HD static T backward(T g, T x, T, T) {
    const T mid = g * (x / T(3) + T(0.5));
    return x <= T(-3) ? T(0) : (x < T(3) ? mid : g);
  }
};

struct Hardsigmoid {
  template <typename T>
  PYCNN_HD static T forward(T x, T, T) {
    return std::min(std::max(x + T(3), T(0)), T(6)) / T(6);
  }
  // torch: 1/6 strictly inside (-3, 3)
  template <typename T>
  PYCNN_HD static T backward(T g, T x, T, T) {
    return (x > T(-3) && x < T(3)) ? g / T(6) : T(0);
  }
};

struct Exp {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return std::exp(x); }
  template <typename T> PYCNN_HD static T backward(T g, T y, T, T) { return g * y; }
};

struct Log {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return std::log(x); }
  template <typename T> PYCNN_HD static T backward(T g, T x, T, T) { return g / x; }
};

struct Sqrt {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return std::sqrt(x); }
  template <typename T> PYCNN_HD static T backward(T g, T y, T, T) { return g / (T(2) * y); }
};

struct Abs {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return std::abs(x); }
  // sign(x), 0 at 0 (torch)
  template <typename T>
  PYCNN_HD static T backward(T g, T x, T, T) {
    return x > T(0) ? g : (x < T(0) ? -g : T(0));
  }
};

struct Neg {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return -x; }
  template <typename T> PYCNN_HD static T backward(T g, T, T, T) { return -g; }
};

struct Pow {  // alpha = exponent; see Variants<Pow> below for the common exponents
  template <typename T> PYCNN_HD static T forward(T x, T p, T) { return std::pow(x, T(p)); }
  template <typename T>
  PYCNN_HD static T backward(T g, T x, T p, T) {
    return g * T(p) * std::pow(x, T(p - 1.0));
  }
};

// Pow's exact, cheaper forms (v*v is what torch computes for 2).
struct PowSquare {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return x * x; }
  template <typename T> PYCNN_HD static T backward(T g, T x, T, T) { return T(2) * g * x; }
};
struct PowOne {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return x; }
  template <typename T> PYCNN_HD static T backward(T g, T, T, T) { return g; }
};
struct PowHalf {  // forward only: exponent 0.5 takes Pow's general backward
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return std::sqrt(x); }
};
struct PowZero {  // backward only: torch's gradient of x^0 is zeros (the forward is Pow's general one)
  template <typename T> PYCNN_HD static T backward(T, T, T, T) { return T(0); }
};

struct Clamp {  // alpha = min, beta = max (+-inf for none)
  // min first, then max: with min > max every value becomes max, as in torch; NaN passes through.
  template <typename T>
  PYCNN_HD static T forward(T x, T alpha, T beta) {
    const T t = x < alpha ? alpha : x;
    return t > beta ? beta : t;
  }
  // torch: the gradient passes where min <= x <= max (inclusive)
  template <typename T>
  PYCNN_HD static T backward(T g, T x, T alpha, T beta) {
    return (x >= alpha && x <= beta) ? g : T(0);
  }
};

// The rounding ops are piecewise constant: torch's gradient is zeros everywhere, jumps included.
struct ZeroGrad {
  template <typename T> PYCNN_HD static T backward(T, T, T, T) { return T(0); }
};
struct Floor : ZeroGrad {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return std::floor(x); }
};
struct Ceil : ZeroGrad {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return std::ceil(x); }
};
struct Round : ZeroGrad {  // halves to even, as torch: nearbyint in the default rounding mode
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return std::nearbyint(x); }
};
struct Trunc : ZeroGrad {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return std::trunc(x); }
};
struct Sign : ZeroGrad {  // 0 at 0, and at NaN too (torch)
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)); }
};

struct Reciprocal {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return T(1) / x; }
  template <typename T> PYCNN_HD static T backward(T g, T y, T, T) { return -g * y * y; }  // d(1/x) = -1/x^2
};

struct Rsqrt {
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return T(1) / std::sqrt(x); }
  // d x^(-1/2) = -x^(-3/2) / 2 = -y^3 / 2
  template <typename T> PYCNN_HD static T backward(T g, T y, T, T) { return T(-0.5) * g * y * y * y; }
};

struct Square {  // x * x, what torch computes
  template <typename T> PYCNN_HD static T forward(T x, T, T) { return x * x; }
  template <typename T> PYCNN_HD static T backward(T g, T x, T, T) { return T(2) * g * x; }
};

// Which struct a kernel applies, and with which scalars, chosen once per call, never per element:
// Variants<Op>::forward(alpha, beta, run) calls run(F{}, alpha', beta') for the F whose forward the loop
// applies with those (double) scalars, which the kernel then rounds to T; backward likewise. Every op has
// one formula and takes the user's scalars, except the ones specialised below.
template <typename Op>
struct Variants {
  template <typename Run> static void forward(double alpha, double beta, Run&& run) { run(Op{}, alpha, beta); }
  template <typename Run> static void backward(double alpha, double beta, Run&& run) { run(Op{}, alpha, beta); }
};

template <>
struct Variants<Pow> {
  template <typename Run>
  static void forward(double p, double beta, Run&& run) {
    if (p == 2.0) return run(PowSquare{}, p, beta);
    if (p == 1.0) return run(PowOne{}, p, beta);
    if (p == 0.5) return run(PowHalf{}, p, beta);
    run(Pow{}, p, beta);
  }
  template <typename Run>
  static void backward(double p, double, Run&& run) {
    if (p == 0.0) return run(PowZero{}, p, 0.0);
    if (p == 2.0) return run(PowSquare{}, p, 0.0);
    if (p == 1.0) return run(PowOne{}, p, 0.0);
    run(Pow{}, p, p - 1.0);
  }
};

}  // namespace pycnn::unary
