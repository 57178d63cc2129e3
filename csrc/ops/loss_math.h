// The math of the elementwise losses, one struct per entry of PYCNN_POINTWISE_LOSSES (ops/ops.h), same name:
//   loss(x, y, w, pw, param)              -> the element's loss
//   grad(x, y, w, pw, param, dx, dy)      -> d loss / dx and d loss / dy (before the upstream gradient)
// w and pw are the element's weight and pos_weight (1 where the loss has none). Plain inline functions of one
// element in T, used by the CPU loops (ops/cpu/loss.cpp) and the CUDA bodies (ops/cuda/reduce_bodies.h), so
// that the math exists once. with_pointwise_loss(kind, f) calls f(Math{}) once per kernel call: the kind switch
// stays outside the loops.
#pragma once
#include <algorithm>  // defines: std::max
#include <cmath>      // defines: std::abs, std::exp, std::log, std::log1p
#include <limits>     // defines: std::numeric_limits

#include "pycnn/core/host_device.h"  // defines: PYCNN_HD
#include "pycnn/ops/ops.h"           // defines: PointwiseLoss

namespace pycnn::loss_math {

template <typename T>
PYCNN_HD inline T sign_of(T d) {
  return static_cast<T>((d > 0) - (d < 0));
}

// softplus(-x) = log(1 + exp(-x)) = max(-x, 0) + log1p(exp(-|x|)): never overflows.
template <typename T>
PYCNN_HD inline T softplus_neg(T x) {
  return std::max(-x, T(0)) + std::log1p(std::exp(-std::abs(x)));
}

struct MSE {
  template <typename T>
  PYCNN_HD static T loss(T x, T y, T, T, T) {
    return (x - y) * (x - y);
  }
  template <typename T>
  PYCNN_HD static void grad(T x, T y, T, T, T, T& dx, T& dy) {
    dx = 2 * (x - y), dy = -dx;
  }
};

struct L1 {
  template <typename T>
  PYCNN_HD static T loss(T x, T y, T, T, T) {
    return std::abs(x - y);
  }
  template <typename T>
  PYCNN_HD static void grad(T x, T y, T, T, T, T& dx, T& dy) {
    dx = sign_of(x - y), dy = -dx;
  }
};

struct SmoothL1 {  // beta == 0 is L1 (0.5 d^2 / beta would divide by zero)
  template <typename T>
  PYCNN_HD static T loss(T x, T y, T, T, T beta) {
    const T a = std::abs(x - y);
    return a < beta ? T(0.5) * a * a / beta : a - T(0.5) * beta;
  }
  template <typename T>
  PYCNN_HD static void grad(T x, T y, T, T, T beta, T& dx, T& dy) {
    const T e = x - y;
    dx = std::abs(e) < beta ? e / beta : sign_of(e), dy = -dx;
  }
};

struct Huber {
  template <typename T>
  PYCNN_HD static T loss(T x, T y, T, T, T delta) {
    const T a = std::abs(x - y);
    return a < delta ? T(0.5) * a * a : delta * (a - T(0.5) * delta);
  }
  template <typename T>
  PYCNN_HD static void grad(T x, T y, T, T, T delta, T& dx, T& dy) {
    const T e = x - y;
    dx = std::abs(e) < delta ? e : delta * sign_of(e), dy = -dx;
  }
};

// Logs clamped at -100 as torch does, so x = 0 or 1 gives a finite loss.
struct BCE {
  template <typename T>
  PYCNN_HD static T loss(T x, T y, T w, T, T) {
    const T lx = std::max(std::log(x), T(-100)), l1x = std::max(std::log1p(-x), T(-100));
    return -w * (y * lx + (1 - y) * l1x);
  }
  // dx = w (x - y) / max(x (1 - x), 1e-12); dy = w (log(1-x) - log x), clamped logs
  template <typename T>
  PYCNN_HD static void grad(T x, T y, T w, T, T, T& dx, T& dy) {
    const T lx = std::max(std::log(x), T(-100)), l1x = std::max(std::log1p(-x), T(-100));
    dx = w * (x - y) / std::max(x * (1 - x), T(1e-12)), dy = w * (l1x - lx);
  }
};

// (1-y) x + (1 + (pw-1) y) softplus(-x); d softplus(-x) / dx = -sigmoid(-x)
struct BCEWithLogits {
  template <typename T>
  PYCNN_HD static T loss(T x, T y, T w, T pw, T) {
    return w * ((1 - y) * x + (1 + (pw - 1) * y) * softplus_neg(x));
  }
  template <typename T>
  PYCNN_HD static void grad(T x, T y, T w, T pw, T, T& dx, T& dy) {
    const T lw = 1 + (pw - 1) * y, sig_neg = 1 / (1 + std::exp(x));
    dx = w * ((1 - y) - lw * sig_neg), dy = w * (-x + (pw - 1) * softplus_neg(x));
  }
};

struct KLDiv {  // y (log y - x), 0 where y == 0 (xlogy), NaN for a negative target
  template <typename T>
  PYCNN_HD static T loss(T x, T y, T, T, T) {
    return y > 0 ? y * (std::log(y) - x) : (y == 0 ? -y * x : std::numeric_limits<T>::quiet_NaN());
  }
  template <typename T>
  PYCNN_HD static void grad(T x, T y, T, T, T, T& dx, T& dy) {
    dx = -y, dy = y > 0 ? std::log(y) + 1 - x : T(0);
  }
};

struct KLDivLogTarget {
  template <typename T>
  PYCNN_HD static T loss(T x, T y, T, T, T) {
    return std::exp(y) * (y - x);
  }
  template <typename T>
  PYCNN_HD static void grad(T x, T y, T, T, T, T& dx, T& dy) {
    const T e = std::exp(y);
    dx = -e, dy = e * (y - x + 1);
  }
};

struct MarginRanking {  // x = x1 - x2, y = +-1
  template <typename T>
  PYCNN_HD static T loss(T x, T y, T, T, T margin) {
    return std::max(T(0), -y * x + margin);
  }
  template <typename T>
  PYCNN_HD static void grad(T x, T y, T, T, T margin, T& dx, T& dy) {
    const T on = -y * x + margin > 0 ? T(1) : T(0);
    dx = -y * on, dy = -x * on;
  }
};

// Calls f(Math{}) with the math struct of `kind`; one case per entry of PYCNN_POINTWISE_LOSSES.
template <typename F>
void with_pointwise_loss(PointwiseLoss kind, F&& f) {
  switch (kind) {
#define PYCNN_POINTWISE_CASE(name, str) \
  case PointwiseLoss::name: f(name{}); break;
    PYCNN_POINTWISE_LOSSES(PYCNN_POINTWISE_CASE)
#undef PYCNN_POINTWISE_CASE
  }
}

}  // namespace pycnn::loss_math
