// The per-element bodies of the CUDA pointwise kernels (activation.cu, elementwise.cu, dropout.cu, optim.cu):
// functor structs with a PYCNN_HD operator()(int64_t i), launched by for_each on the GPU and run over the
// whole index range on the CPU by tests/cpp/test_cuda_pointwise.cpp, which compares them with the cpu::
// kernels. Each body computes exactly what its cpu:: kernel computes, in the same order of operations.
// Plain C++ (no CUDA syntax), so that g++ compiles it too.
#pragma once
#include <cmath>  // defines: std::exp, std::log, std::sqrt, std::isinf
#include <cstdint>
#include <type_traits>  // defines: std::is_same_v

#include "pycnn/core/host_device.h"   // defines: PYCNN_HD
#include "pycnn/ops/cuda/indexing.h"  // defines: StridedIndexer
#include "pycnn/ops/cuda/philox.h"    // defines: philox_bits53
#include "pycnn/ops/ops.h"            // defines: SgdArgs, AdamArgs, RmspropArgs, AdagradArgs, AdadeltaArgs
#include "pycnn/ops/unary_math.h"     // defines: unary::<Op>

namespace pycnn::cuda {

// ---- activations: flat arrays of n elements ----

template <typename T>
struct ReluForward {
  const T* x;
  T* y;
  PYCNN_HD void operator()(int64_t i) const { y[i] = x[i] < T(0) ? T(0) : x[i]; }  // NaN stays NaN
};

template <typename T>
struct ReluBackward {
  const T *dout, *y;
  T* dx;
  PYCNN_HD void operator()(int64_t i) const { dx[i] = y[i] > T(0) ? dout[i] : T(0); }
};

// F is one of the structs of ops/unary_math.h (or a Variants form); a, b the op's scalars rounded to T.
template <typename F, typename T>
struct UnaryForward {
  const T* x;
  T* y;
  T a, b;
  PYCNN_HD void operator()(int64_t i) const { y[i] = F::forward(x[i], a, b); }
};

template <typename F, typename T>
struct UnaryBackward {
  const T *dout, *v;  // v is y or x (unary_grad_uses_output)
  T* dx;
  T a, b;
  PYCNN_HD void operator()(int64_t i) const { dx[i] = F::backward(dout[i], v[i], a, b); }
};

// PReLU: x (outer, C, inner), w (C,); element i is in channel (i / inner) % C.
template <typename T>
struct PreluForward {
  const T *x, *w;
  T* y;
  int64_t C, inner;
  PYCNN_HD void operator()(int64_t i) const {
    const T a = w[(i / inner) % C];
    y[i] = x[i] > T(0) ? x[i] : a * x[i];
  }
};

template <typename T>
struct PreluInputGrad {
  const T *dout, *x, *w;
  T* dx;
  int64_t C, inner;
  PYCNN_HD void operator()(int64_t i) const {
    const T a = w[(i / inner) % C];
    dx[i] = x[i] > T(0) ? dout[i] : a * dout[i];
  }
};

// dw[c] = sum over n, i of (x < 0 ? x * dout : 0). partial(c, t, nt) is thread t's share of channel c when nt
// threads split it: the elements k = t, t + nt, ... of the channel's (n, i) sequence, summed in double in
// that order. The kernel adds the nt partials with the fixed-order block_reduce, so the result is the same on
// every run (not bitwise the CPU's, which sums rows in T first).
template <typename T>
struct PreluWeightGrad {
  const T *dout, *x;
  int64_t outer, C, inner;
  PYCNN_HD double partial(int64_t c, int64_t t, int64_t nt) const {
    double acc = 0;
    for (int64_t k = t; k < outer * inner; k += nt) {
      const int64_t off = ((k / inner) * C + c) * inner + k % inner;
      acc += x[off] > T(0) ? 0.0 : double(x[off] * dout[off]);
    }
    return acc;
  }
};

// Maxout: x (N, C*k, inner) -> y, indices (N, C, inner); output element i = r * inner + s with r = n*C + c.
template <typename T>
struct MaxoutForward {
  const T* x;
  T* y;
  int64_t* indices;
  int64_t k, inner;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t r = i / inner, s = i % inner;
    const T* xr = x + r * k * inner + s;
    T best = xr[0];
    int64_t arg = 0;
    for (int64_t j = 1; j < k; ++j) {
      const T v = xr[j * inner];
      // strictly greater keeps the first maximum; a NaN replaces any number and is then kept
      if (v > best || (v != v && best == best)) best = v, arg = j;
    }
    y[i] = best;
    indices[i] = arg;
  }
};

// dx (N, C*k, inner) element i = (r*k + j) * inner + s: the gradient where piece j won, else 0 (every element
// is written; an out-of-range index gives zeros).
template <typename T>
struct MaxoutBackward {
  const T* dout;
  const int64_t* indices;
  T* dx;
  int64_t k, inner;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t row = i / inner, s = i % inner;
    const int64_t o = (row / k) * inner + s;
    dx[i] = indices[o] == row % k ? dout[o] : T(0);
  }
};

// ---- softmax / log_softmax over R of contiguous (A, R, B): one row per (a, b), row = a * B + b ----
// The steps split across nt threads (thread t takes r = t, t + nt, ...): max, then the sum of exp(x - max) in
// double, then the writes; the kernel combines the threads' partials. max ignores NaN (as the CPU's std::max
// does); a NaN still makes the whole row NaN through the sum.
template <typename T>
PYCNN_HD inline T softmax_max(T a, T b) {
  return a < b ? b : a;
}

template <typename T>
struct SoftmaxRows {
  const T* x;
  T* y;
  int64_t R, B;
  bool log;
  PYCNN_HD int64_t base(int64_t row) const { return (row / B) * R * B + row % B; }
  PYCNN_HD T max_partial(int64_t row, int64_t t, int64_t nt) const {
    T m = -INFINITY;
    for (int64_t r = t; r < R; r += nt) m = softmax_max(m, x[base(row) + r * B]);
    return m;
  }
  // m = the row's max; all -inf becomes 0 (avoids inf - inf)
  PYCNN_HD static T fix_max(T m) { return std::isinf(m) && m < T(0) ? T(0) : m; }
  PYCNN_HD double sum_partial(int64_t row, T m, int64_t t, int64_t nt) const {
    double s = 0;
    for (int64_t r = t; r < R; r += nt) s += std::exp(double(x[base(row) + r * B] - m));
    return s;
  }
  PYCNN_HD void write(int64_t row, T m, double s, int64_t t, int64_t nt) const {
    const int64_t o = base(row);
    if (log) {  // (x - max) - log(s): see cpu::softmax_forward
      const T log_s = T(std::log(s));
      for (int64_t r = t; r < R; r += nt) y[o + r * B] = (x[o + r * B] - m) - log_s;
    } else {
      const double inv = 1.0 / s;
      for (int64_t r = t; r < R; r += nt) y[o + r * B] = T(std::exp(double(x[o + r * B] - m)) * inv);
    }
  }
  // One thread does a whole row: the kernel for B > 1, where neighbouring threads take neighbouring b.
  PYCNN_HD void operator()(int64_t row) const {
    const T m = fix_max(max_partial(row, 0, 1));
    write(row, m, sum_partial(row, m, 0, 1), 0, 1);
  }
};

// log form: dx = dout - exp(y) * sum(dout); plain form: dx = y * (dout - sum(dout * y)).
template <typename T>
struct SoftmaxBackwardRows {
  const T *dout, *y;
  T* dx;
  int64_t R, B;
  bool log;
  PYCNN_HD int64_t base(int64_t row) const { return (row / B) * R * B + row % B; }
  PYCNN_HD double sum_partial(int64_t row, int64_t t, int64_t nt) const {
    const int64_t o = base(row);
    double s = 0;
    for (int64_t r = t; r < R; r += nt) s += log ? double(dout[o + r * B]) : double(dout[o + r * B]) * y[o + r * B];
    return s;
  }
  PYCNN_HD void write(int64_t row, double s, int64_t t, int64_t nt) const {
    const int64_t o = base(row);
    const T st = T(s);
    for (int64_t r = t; r < R; r += nt) {
      const int64_t k = o + r * B;
      dx[k] = log ? dout[k] - std::exp(y[k]) * st : y[k] * (dout[k] - st);
    }
  }
  PYCNN_HD void operator()(int64_t row) const { write(row, sum_partial(row, 0, 1), 0, 1); }
};

// ---- binary arithmetic: out (contiguous) = a op b ----
// On bool, + is or, * is and and - is xor, as torch's bool arithmetic (pycnn refuses bool - bool, as torch).
struct AddOp {
  template <typename T> PYCNN_HD T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>)
      return a || b;
    else
      return a + b;
  }
};
struct SubOp {
  template <typename T> PYCNN_HD T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>)
      return a != b;
    else
      return static_cast<T>(a - b);
  }
};
struct MulOp {
  template <typename T> PYCNN_HD T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>)
      return a && b;
    else
      return static_cast<T>(a * b);
  }
};
struct DivOp {
  template <typename T> PYCNN_HD T operator()(T a, T b) const { return a / b; }
};

// True when the indexer merged both views into one unit-stride dim (or none: a single element), i.e. both
// operands are contiguous with the output's shape: then BinaryContiguous does it without the index divisions.
inline bool both_contiguous(const StridedIndexer<2>& ix) {
  return ix.rank == 0 || (ix.rank == 1 && ix.strides[0][0] == 1 && ix.strides[1][0] == 1);
}

// Both operands contiguous with the output's shape.
template <typename T, typename Op>
struct BinaryContiguous {
  const T *a, *b;
  T* out;
  PYCNN_HD void operator()(int64_t i) const { out[i] = Op{}(a[i], b[i]); }
};

// Broadcast views: the indexer maps the output's linear index to each operand's offset.
template <typename T, typename Op>
struct BinaryStrided {
  const T *a, *b;
  T* out;
  StridedIndexer<2> ix;
  PYCNN_HD void operator()(int64_t i) const {
    int64_t off[2];
    ix.offsets(i, off);
    out[i] = Op{}(a[off[0]], b[off[1]]);
  }
};

// ---- dropout: y = x * mul + add, (mul, add) picked per group of `group` elements by the keep mask ----
// Group g is kept when Philox's 53 bits for (seed, g) are >= p * 2^53: a pure function of (seed, g), so the
// backward and any rerun with the seed see the same mask. It differs from the CPU's mask (splitmix64 there).
template <typename T>
struct DropoutApply {
  const T* x;
  T* y;
  int64_t group;
  uint64_t seed, threshold;
  T keep_mul, keep_add, drop_mul, drop_add;
  PYCNN_HD bool keep(int64_t g) const { return philox_bits53(seed, uint64_t(g)) >= threshold; }
  PYCNN_HD void operator()(int64_t i) const {
    const bool k = keep(i / group);
    y[i] = x[i] * (k ? keep_mul : drop_mul) + (k ? keep_add : drop_add);
  }
};

// ---- optimizer updates: one element of one tensor; q[0] = param, q[1] = grad, q[2..4] = state ----
// Each mirrors its cpu:: kernel (ops/cpu/optim.cpp) operation for operation; s0, s1 are the per-tensor
// scalars (those that depend on the tensor's step count).

// torch.lerp with a scalar weight (see ops/cpu/optim.cpp)
template <typename T>
PYCNN_HD inline T optim_lerp(bool small_weight, T self, T end, T w, T one_minus_w) {
  return small_weight ? self + w * (end - self) : end - (end - self) * one_minus_w;
}

// q = {param, grad, momentum buffer or null}; s0 != 0 on the buffer's first step
template <typename T>
struct SgdUpdate {
  T lr, wd, mom, damp, sign;
  bool nesterov;
  PYCNN_HD void operator()(T* const* q, T s0, T, int64_t i) const {
    T* p = q[0];
    const T* grad = q[1];
    T* buf = q[2];
    const T g = sign * grad[i] + wd * p[i];
    if (!buf) {
      p[i] -= lr * g;
    } else if (s0 != T(0)) {  // the buffer starts as the first gradient, as in torch
      buf[i] = g;
      p[i] -= lr * (nesterov ? g + mom * g : g);
    } else {
      const T v = mom * buf[i] + damp * g;
      buf[i] = v;
      p[i] -= lr * (nesterov ? g + mom * v : v);
    }
  }
};

// q = {param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq or null}; s0 = -lr / (1 - beta1^step),
// s1 = sqrt(1 - beta2^step)
template <typename T>
struct AdamUpdate {
  T sign, wd, p_scale, lerp_w, lerp_omw, beta2, omb2, eps;
  bool amsgrad, l2, small_w;
  PYCNN_HD void operator()(T* const* q, T neg_step_size, T bc2_sqrt, int64_t i) const {
    T *p = q[0], *m = q[2], *v = q[3], *vmax = q[4];
    T g = sign * q[1][i];
    if (l2) g = g + wd * p[i];
    m[i] = optim_lerp(small_w, m[i], g, lerp_w, lerp_omw);
    const T vi = v[i] * beta2 + (omb2 * g) * g;
    v[i] = vi;
    T root = vi;
    if (amsgrad) {
      root = vmax[i] < vi ? vi : vmax[i];
      vmax[i] = root;
    }
    root = std::sqrt(root);
    p[i] = p[i] * p_scale + neg_step_size * m[i] / (root / bc2_sqrt + eps);
  }
};

// q = {param, grad, square_avg, grad_avg or null, momentum buffer or null}
template <typename T>
struct RmspropUpdate {
  T sign, wd, alpha, oma, lerp_omw, eps, mom, neg_lr;
  bool use_wd, centered, use_mom, small_w;
  PYCNN_HD void operator()(T* const* q, T, T, int64_t i) const {
    T *p = q[0], *sq = q[2], *ga = q[3], *buf = q[4];
    T g = sign * q[1][i];
    if (use_wd) g = g + wd * p[i];
    const T s = sq[i] * alpha + (oma * g) * g;
    sq[i] = s;
    T root = s;
    if (centered) {
      const T gai = optim_lerp(small_w, ga[i], g, oma, lerp_omw);
      ga[i] = gai;
      root = s - gai * gai;
    }
    const T avg = std::sqrt(root) + eps;
    if (use_mom) {
      const T bi = buf[i] * mom + g / avg;
      buf[i] = bi;
      p[i] = p[i] + neg_lr * bi;
    } else {
      p[i] = p[i] + neg_lr * g / avg;
    }
  }
};

// q = {param, grad, sum}; s0 = -lr / (1 + (step - 1) * lr_decay)
template <typename T>
struct AdagradUpdate {
  T sign, wd, eps;
  bool use_wd;
  PYCNN_HD void operator()(T* const* q, T neg_clr, T, int64_t i) const {
    T *p = q[0], *sum = q[2];
    T g = sign * q[1][i];
    if (use_wd) g = g + wd * p[i];
    const T s = sum[i] + g * g;
    sum[i] = s;
    p[i] = p[i] + neg_clr * g / (std::sqrt(s) + eps);
  }
};

// q = {param, grad, square_avg, acc_delta}
template <typename T>
struct AdadeltaUpdate {
  T sign, wd, rho, omr, eps, neg_lr;
  bool use_wd;
  PYCNN_HD void operator()(T* const* q, T, T, int64_t i) const {
    T *p = q[0], *sq = q[2], *acc = q[3];
    T g = sign * q[1][i];
    if (use_wd) g = g + wd * p[i];
    const T s = sq[i] * rho + (omr * g) * g;
    sq[i] = s;
    const T delta = std::sqrt(acc[i] + eps) / std::sqrt(s + eps) * g;
    acc[i] = acc[i] * rho + (omr * delta) * delta;
    p[i] = p[i] + neg_lr * delta;
  }
};

// The bodies' scalars from the options, computed as the cpu:: kernels compute them (in double, then
// rounded to T), and the per-tensor ones from the tensor's step count.
template <typename T>
SgdUpdate<T> sgd_update(const SgdArgs& a) {
  return {T(a.lr), T(a.weight_decay), T(a.momentum), T(1 - a.dampening), a.maximize ? T(-1) : T(1), a.nesterov};
}

template <typename T>
AdamUpdate<T> adam_update(const AdamArgs& a) {
  const bool l2 = a.weight_decay != 0 && !a.decoupled_weight_decay;
  const double decay = a.decoupled_weight_decay && a.weight_decay != 0 ? 1 - a.lr * a.weight_decay : 1.0;
  const double w1 = 1 - a.beta1;
  return {a.maximize ? T(-1) : T(1),
          T(a.weight_decay),
          T(decay),
          T(w1),
          T(1) - T(w1),
          T(a.beta2),
          T(1 - a.beta2),
          T(a.eps),
          a.amsgrad,
          l2,
          std::abs(T(w1)) < T(0.5)};
}
inline void adam_step_scalars(const AdamArgs& a, double step, double& neg_step_size, double& bc2_sqrt) {
  neg_step_size = -(a.lr / (1 - std::pow(a.beta1, step)));
  bc2_sqrt = std::pow(1 - std::pow(a.beta2, step), 0.5);
}

template <typename T>
RmspropUpdate<T> rmsprop_update(const RmspropArgs& a) {
  const double w = 1 - a.alpha;
  return {a.maximize ? T(-1) : T(1),
          T(a.weight_decay),
          T(a.alpha),
          T(w),
          T(1) - T(w),
          T(a.eps),
          T(a.momentum),
          T(-a.lr),
          a.weight_decay != 0,
          a.centered,
          a.momentum > 0,
          std::abs(T(w)) < T(0.5)};
}

template <typename T>
AdagradUpdate<T> adagrad_update(const AdagradArgs& a) {
  return {a.maximize ? T(-1) : T(1), T(a.weight_decay), T(a.eps), a.weight_decay != 0};
}
inline double adagrad_neg_clr(const AdagradArgs& a, double step) { return -(a.lr / (1 + (step - 1) * a.lr_decay)); }

template <typename T>
AdadeltaUpdate<T> adadelta_update(const AdadeltaArgs& a) {
  return {a.maximize ? T(-1) : T(1), T(a.weight_decay), T(a.rho), T(1 - a.rho), T(a.eps), T(-a.lr),
          a.weight_decay != 0};
}

}  // namespace pycnn::cuda
