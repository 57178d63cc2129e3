// The per-element and per-segment bodies of the CUDA reductions, normalisations and losses (reduce.cu,
// norm.cu, loss.cu), as plain host/device code so that tests/cpp/test_cuda_reduce.cpp runs them on the CPU.
// Two shapes of body:
//  - an element body: PYCNN_HD void operator()(int64_t i), launched by for_each over its index range;
//  - a segment body (a reduction): K double accumulators per segment, `len` terms per segment;
//    term(g, j, acc) folds term j of segment g into acc with combine(), finish(g, acc) writes the result.
//    reduce.cuh runs one block per segment (threads stride over j, then a fixed-order block reduction);
//    long segments are split into chunks (ChunkPartials, then ChunkTotals) so that few segments still fill
//    the GPU. Every split depends on the shapes only: the same input gives bitwise the same result.
// All sums accumulate in double, as the CPU kernels do.
#pragma once
#include <algorithm>  // defines: std::max, std::min
#include <cmath>      // defines: std::sqrt, std::pow, std::exp, std::log, std::log1p, std::isnan
#include <cstdint>
#include <limits>  // defines: std::numeric_limits

#include "pycnn/core/host_device.h"  // defines: PYCNN_HD
#include "pycnn/ops/loss_math.h"     // defines: the pointwise losses' math
#include "pycnn/ops/ops.h"

namespace pycnn::cuda {

// a / b and a % b, in 32 bits when both fit (a 64-bit division costs several times more on a GPU, and the
// hot bodies do one per element).
struct DivMod {
  int64_t q, r;
};
PYCNN_HD inline DivMod divmod(int64_t a, int64_t b) {
  if (((a | b) >> 32) == 0) {
    const uint32_t ua = static_cast<uint32_t>(a), ub = static_cast<uint32_t>(b), q = ua / ub;
    return {q, ua - q * ub};
  }
  return {a / b, a % b};
}

struct SumCombine {
  PYCNN_HD static double combine(double a, double b) { return a + b; }
};
// max with NaN winning (|x| >= 0, so 0 is the identity), as cpu::lp_sum's p = inf
struct MaxCombine {
  PYCNN_HD static double combine(double a, double b) { return a != a || a > b ? a : b; }
};

// ---------------------------------------------------------------------- chunked segment reductions

// Pass 1: segment gc = (g, c) covers terms [c * chunk_len, (c+1) * chunk_len) of segment g of `seg`; its
// K partial results go to partial[gc * K + k].
template <typename Seg>
struct ChunkPartials {
  static constexpr int K = Seg::K;
  using Combine = typename Seg::Combine;
  Seg seg;
  int64_t chunks, len;  // len = chunk_len
  double* partial;
  PYCNN_HD void term(int64_t gc, int64_t j, double (&acc)[K]) const {
    const int64_t jj = (gc % chunks) * len + j;
    if (jj < seg.len) seg.term(gc / chunks, jj, acc);
  }
  PYCNN_HD void finish(int64_t gc, double (&acc)[K]) const {
    for (int k = 0; k < K; ++k) partial[gc * K + k] = acc[k];
  }
};

// Pass 2: segment g combines its `chunks` partials in order and finishes as `seg` would.
template <typename Seg>
struct ChunkTotals {
  static constexpr int K = Seg::K;
  using Combine = typename Seg::Combine;
  Seg seg;
  int64_t len;  // = chunks
  const double* partial;
  PYCNN_HD void term(int64_t g, int64_t c, double (&acc)[K]) const {
    for (int k = 0; k < K; ++k) acc[k] = Combine::combine(acc[k], partial[(g * len + c) * K + k]);
  }
  PYCNN_HD void finish(int64_t g, double (&acc)[K]) const { seg.finish(g, acc); }
};

// ------------------------------------------------------------------------------------------ reduce

// x (A, R, B) -> out (A, B): segment i = (a, b) sums its R terms. For B == 1 or few outputs.
template <typename T>
struct SumSegments {
  static constexpr int K = 1;
  using Combine = SumCombine;
  const T* x;
  T* out;
  int64_t len, B;  // len = R
  PYCNN_HD void term(int64_t i, int64_t r, double (&acc)[1]) const {
    const DivMod ab = divmod(i, B);
    acc[0] += static_cast<double>(x[ab.q * len * B + r * B + ab.r]);
  }
  PYCNN_HD void finish(int64_t i, double (&acc)[1]) const { out[i] = static_cast<T>(acc[0]); }
};

// One thread per output (a, b) walking R: for wide B, where neighbouring threads read neighbouring columns.
template <typename T>
struct SumColumns {
  const T* x;
  T* out;
  int64_t R, B;
  PYCNN_HD void operator()(int64_t i) const {
    const DivMod ab = divmod(i, B);
    const T* p = x + ab.q * R * B + ab.r;
    sum_accumulator<T> acc = 0;
    for (int64_t r = 0; r < R; ++r) acc += static_cast<sum_accumulator<T>>(p[r * B]);
    out[i] = static_cast<T>(acc);
  }
};

// The first maximum along R; NaN wins (the first NaN), as cpu::argmax_arb.
template <typename T>
struct ArgmaxColumns {
  const T* x;
  int64_t* out;
  int64_t R, B;
  PYCNN_HD void operator()(int64_t i) const {
    const T* p = x + (i / B) * R * B + i % B;
    int64_t best = 0;
    T best_v = p[0];
    for (int64_t r = 1; r < R && best_v == best_v; ++r) {
      const T v = p[r * B];
      if (v > best_v || v != v) best_v = v, best = r;
    }
    out[i] = best;
  }
};

// -------------------------------------------------------------------------------------- batch norm

// Training statistics of channel c of x (N, C, S) over its M = N*S values, shifted by the channel's first
// value (as the CPU kernel): acc = (sum(x - k), sum((x - k)^2)). finish writes save_mean / save_invstd and
// moves the running stats (when given) towards the batch mean and the unbiased variance.
template <typename T>
struct BatchNormStats {
  static constexpr int K = 2;
  using Combine = SumCombine;
  const T* x;
  T *save_mean, *save_invstd, *run_mean, *run_var;
  int64_t len, C, S;  // len = N * S
  double momentum, eps;
  PYCNN_HD void term(int64_t c, int64_t j, double (&acc)[2]) const {
    const DivMod ns = divmod(j, S);
    const double d = static_cast<double>(x[ns.q * C * S + c * S + ns.r]) - static_cast<double>(x[c * S]);
    acc[0] += d;
    acc[1] += d * d;
  }
  PYCNN_HD void finish(int64_t c, double (&acc)[2]) const {
    const double m = acc[0] / len, mean = static_cast<double>(x[c * S]) + m;
    const double var = std::max(acc[1] / len - m * m, 0.0);
    save_mean[c] = static_cast<T>(mean);
    save_invstd[c] = static_cast<T>(1.0 / std::sqrt(var + eps));
    if (run_mean) {
      const double unbiased = len > 1 ? var * len / (len - 1) : var;
      run_mean[c] = static_cast<T>((1 - momentum) * run_mean[c] + momentum * mean);
      run_var[c] = static_cast<T>((1 - momentum) * run_var[c] + momentum * unbiased);
    }
  }
};

// Eval: the saved statistics are the running ones. One element per channel.
template <typename T>
struct BatchNormEvalStats {
  const T *run_mean, *run_var;
  T *save_mean, *save_invstd;
  double eps;
  PYCNN_HD void operator()(int64_t c) const {
    save_mean[c] = run_mean[c];
    save_invstd[c] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(run_var[c]) + eps));
  }
};

// y = x * scale_c + shift_c over x (N, C, S), scale = invstd * w, shift = b - mean * scale.
template <typename T>
struct BatchNormApply {
  const T *x, *w, *b, *mean, *invstd;
  T* y;
  int64_t C, S;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t c = divmod(divmod(i, S).q, C).r;
    const double scale = static_cast<double>(invstd[c]) * (w ? static_cast<double>(w[c]) : 1.0);
    const double shift = (b ? static_cast<double>(b[c]) : 0.0) - static_cast<double>(mean[c]) * scale;
    y[i] = x[i] * static_cast<T>(scale) + static_cast<T>(shift);
  }
};

// Backward sums of channel c: (sum(dout), sum(dout * (x - mean))) into sums[2c, 2c+1]; dw = the second
// times invstd, db = the first (each when not null).
template <typename T>
struct BatchNormGradSums {
  static constexpr int K = 2;
  using Combine = SumCombine;
  const T *dout, *x, *mean, *invstd;
  T *dw, *db;
  double* sums;
  int64_t len, C, S;  // len = N * S
  PYCNN_HD void term(int64_t c, int64_t j, double (&acc)[2]) const {
    const DivMod ns = divmod(j, S);
    const int64_t k = ns.q * C * S + c * S + ns.r;
    const double g = static_cast<double>(dout[k]);
    acc[0] += g;
    acc[1] += g * (static_cast<double>(x[k]) - static_cast<double>(mean[c]));
  }
  PYCNN_HD void finish(int64_t c, double (&acc)[2]) const {
    sums[2 * c] = acc[0];
    sums[2 * c + 1] = acc[1];
    if (dw) dw[c] = static_cast<T>(acc[1] * static_cast<double>(invstd[c]));
    if (db) db[c] = static_cast<T>(acc[0]);
  }
};

// dx = k (dout - sdy / M - (x - mean) * invstd^2 * sdyx / M) in training, k * dout in eval; k = invstd * w.
template <typename T>
struct BatchNormGradInput {
  const T *dout, *x, *w, *mean, *invstd;
  const double* sums;
  T* dx;
  int64_t C, S, M;
  bool training;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t c = divmod(divmod(i, S).q, C).r;
    const double is = static_cast<double>(invstd[c]);
    const double k = is * (w ? static_cast<double>(w[c]) : 1.0);
    if (!training) {
      dx[i] = static_cast<T>(k) * dout[i];
      return;
    }
    const double m = static_cast<double>(mean[c]);
    const double xs = sums[2 * c + 1] * is * is / M;  // coefficient of (x - mean)
    dx[i] =
        static_cast<T>(k) * dout[i] + static_cast<T>(-k * xs) * x[i] + static_cast<T>(k * (xs * m - sums[2 * c] / M));
  }
};

// ------------------------------------------------------------------------------- rows (layer/group norm)

// Rows (R, D = Cg * S), row r in group r % G; the affine index of element (r, j, s) is (r % G) * Cg + j.
template <typename T>
struct RowStats {
  static constexpr int K = 2;
  using Combine = SumCombine;
  const T* x;
  T *mean, *invstd;
  int64_t len;  // D
  double eps;
  PYCNN_HD void term(int64_t r, int64_t j, double (&acc)[2]) const {
    const double d = static_cast<double>(x[r * len + j]) - static_cast<double>(x[r * len]);
    acc[0] += d;
    acc[1] += d * d;
  }
  PYCNN_HD void finish(int64_t r, double (&acc)[2]) const {
    const double m = acc[0] / len;
    mean[r] = static_cast<T>(static_cast<double>(x[r * len]) + m);
    invstd[r] = static_cast<T>(1.0 / std::sqrt(std::max(acc[1] / len - m * m, 0.0) + eps));
  }
};

template <typename T>
struct RowApply {
  const T *x, *w, *b, *mean, *invstd;
  T* y;
  int64_t G, Cg, S;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t D = Cg * S;
    const DivMod rj = divmod(i, D);
    const int64_t r = rj.q, c = divmod(r, G).r * Cg + divmod(rj.r, S).q;
    if (S == 1 && w) {  // layer norm's per-element affine, in T as the CPU kernel
      const T v = (x[i] - mean[r]) * invstd[r] * w[c];
      y[i] = b ? v + b[c] : v;
      return;
    }
    const double scale = static_cast<double>(invstd[r]) * (w ? static_cast<double>(w[c]) : 1.0);
    const double shift = (b ? static_cast<double>(b[c]) : 0.0) - static_cast<double>(mean[r]) * scale;
    y[i] = x[i] * static_cast<T>(scale) + static_cast<T>(shift);
  }
};

// Per row: (sum(gw), sum(gw * (x - mean))) with gw = dout * w, into sums[2r, 2r+1].
template <typename T>
struct RowGradSums {
  static constexpr int K = 2;
  using Combine = SumCombine;
  const T *dout, *x, *w, *mean;
  double* sums;
  int64_t len, G, Cg, S;  // len = D
  PYCNN_HD void term(int64_t r, int64_t j, double (&acc)[2]) const {
    const double wj = w ? static_cast<double>(w[(r % G) * Cg + j / S]) : 1.0;
    const double gw = static_cast<double>(dout[r * len + j]) * wj;
    acc[0] += gw;
    acc[1] += gw * (static_cast<double>(x[r * len + j]) - static_cast<double>(mean[r]));
  }
  PYCNN_HD void finish(int64_t r, double (&acc)[2]) const {
    sums[2 * r] = acc[0];
    sums[2 * r + 1] = acc[1];
  }
};

// dx = invstd * gw - invstd/D * sg - (x - mean) * invstd^3/D * sgx.
template <typename T>
struct RowGradInput {
  const T *dout, *x, *w, *mean, *invstd;
  const double* sums;
  T* dx;
  int64_t G, Cg, S;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t D = Cg * S;
    const DivMod rj = divmod(i, D);
    const int64_t r = rj.q, c = divmod(r, G).r * Cg + divmod(rj.r, S).q;
    const double mu = static_cast<double>(mean[r]), is = static_cast<double>(invstd[r]);
    const double is3 = is * is * is, sg = sums[2 * r], sgx = sums[2 * r + 1];
    const T kx = static_cast<T>(-is3 * sgx / D), k0 = static_cast<T>(-is * sg / D + mu * is3 * sgx / D);
    const T aw = static_cast<T>(is * (w ? static_cast<double>(w[c]) : 1.0));
    dx[i] = aw * dout[i] + kx * x[i] + k0;
  }
};

// dw / db of affine index a = g * Cg + j: sums over the N rows of group g and the S elements of channel j.
template <typename T>
struct RowParamGrads {
  static constexpr int K = 2;
  using Combine = SumCombine;
  const T *dout, *x, *mean, *invstd;
  T *dw, *db;
  int64_t len, G, Cg, S;  // len = N * S
  PYCNN_HD void term(int64_t a, int64_t t, double (&acc)[2]) const {
    const int64_t r = (t / S) * G + a / Cg;
    const int64_t k = r * Cg * S + (a % Cg) * S + t % S;
    const double g = static_cast<double>(dout[k]);
    acc[0] += g;
    acc[1] += g * (static_cast<double>(x[k]) - static_cast<double>(mean[r])) * static_cast<double>(invstd[r]);
  }
  PYCNN_HD void finish(int64_t a, double (&acc)[2]) const {
    if (dw) dw[a] = static_cast<T>(acc[1]);
    if (db) db[a] = static_cast<T>(acc[0]);
  }
};

// ------------------------------------------------------------------------------ local response norm

// x (N, C, S): div of element (n, c, s) = k + alpha/size * sum of x^2 over channels c - size/2 ..
// c + (size-1)/2 inside [0, C).
struct LrnWindow {
  int64_t C, S, size;
  double alpha, k;
  template <typename T>
  PYCNN_HD double div(const T* x, int64_t i) const {
    const int64_t c = (i / S) % C, base = i - c * S;  // base: channel 0 of this (n, s)
    const int64_t j0 = std::max<int64_t>(0, c - size / 2), j1 = std::min<int64_t>(C - 1, c + (size - 1) / 2);
    double acc = 0;
    for (int64_t j = j0; j <= j1; ++j) {
      const double v = static_cast<double>(x[base + j * S]);
      acc += v * v;
    }
    return k + alpha / size * acc;
  }
};

template <typename T>
struct LrnForward {
  const T* x;
  T* y;
  LrnWindow win;
  double beta;
  PYCNN_HD void operator()(int64_t i) const {
    y[i] = static_cast<T>(static_cast<double>(x[i]) * std::pow(win.div(x, i), -beta));
  }
};

// dx_c = dout_c div_c^-beta - 2 alpha beta / size * x_c * sum_{j = c-(size-1)/2 .. c+size/2} dout_j x_j
// div_j^(-beta-1): each element recomputes its neighbours' div (size^2 reads; size is small).
template <typename T>
struct LrnBackward {
  const T *dout, *x;
  T* dx;
  LrnWindow win;
  double beta;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t C = win.C, S = win.S, c = (i / S) % C, base = i - c * S;
    const int64_t j0 = std::max<int64_t>(0, c - (win.size - 1) / 2), j1 = std::min<int64_t>(C - 1, c + win.size / 2);
    double acc = 0;
    for (int64_t j = j0; j <= j1; ++j) {
      const int64_t q = base + j * S;
      const double d = win.div(x, q);
      acc += static_cast<double>(dout[q]) * static_cast<double>(x[q]) * std::pow(d, -beta) / d;
    }
    const double coef = 2.0 * win.alpha * beta / win.size;
    dx[i] = static_cast<T>(static_cast<double>(dout[i]) * std::pow(win.div(x, i), -beta) -
                           coef * static_cast<double>(x[i]) * acc);
  }
};

// ---------------------------------------------------------------------------------- nn.utils helpers

// sum |x|^p over one segment of len values (p = inf: max |x|, with MaxCombine); out[0] = the result.
template <typename T, typename Comb>
struct LpSum {
  static constexpr int K = 1;
  using Combine = Comb;
  const T* x;
  double* out;
  int64_t len;
  double p;
  PYCNN_HD void term(int64_t, int64_t j, double (&acc)[1]) const {
    const double a = std::fabs(static_cast<double>(x[j]));
    const double v = p == 1 || std::isinf(p) ? a : (p == 2 ? a * a : std::pow(a, p));
    acc[0] = Comb::combine(acc[0], v);
  }
  PYCNN_HD void finish(int64_t, double (&acc)[1]) const { out[0] = acc[0]; }
};

// dx = dout * p * |x|^(p-1) * sign(x), sign(0) = 0; dout is a one-element device tensor.
template <typename T>
struct LpSumBackward {
  const T *dout, *x;
  T* dx;
  double p;
  PYCNN_HD void operator()(int64_t i) const {
    const double v = static_cast<double>(x[i]);
    const double sg = (v > 0) - (v < 0);
    const double mag = p == 1 ? 1.0 : (p == 2 ? 2.0 * std::fabs(v) : p * std::pow(std::fabs(v), p - 1));
    dx[i] = static_cast<T>(static_cast<double>(dout[0]) * sg * mag);
  }
};

template <typename T>
struct ClampInplace {
  T* x;
  T lo, hi;
  PYCNN_HD void operator()(int64_t i) const {
    const T v = x[i];
    x[i] = v < lo ? lo : (v > hi ? hi : v);
  }
};

// ------------------------------------------------------------------------------------------- losses

// A loss reduced to a device scalar: out[0] = sum(per) / (denom ? sum(denom) : divisor), both sums over
// the same n elements (denom: the per-element weights of a class loss's mean).
template <typename T>
struct LossReduce {
  static constexpr int K = 2;
  using Combine = SumCombine;
  const T *per, *denom;
  T* out;
  int64_t len;
  double divisor;
  PYCNN_HD void term(int64_t, int64_t j, double (&acc)[2]) const {
    acc[0] += static_cast<double>(per[j]);
    if (denom) acc[1] += static_cast<double>(denom[j]);
  }
  PYCNN_HD void finish(int64_t, double (&acc)[2]) const {
    out[0] = static_cast<T>(acc[0] / (denom ? acc[1] : divisor));
  }
};

// The upstream gradient of a class loss's mean: out[0] = dout[0] * (1 / summed weight of the kept targets).
// A target outside [0, C) that is not ignore_index makes it NaN (the CPU entry point raises instead; a GPU
// check would cost a host round trip).
template <typename T>
struct ClassGradScale {
  static constexpr int K = 1;
  using Combine = SumCombine;
  const T* dout;
  const int64_t* target;
  const T* weight;
  T* out;
  int64_t len, C, ignore_index;
  PYCNN_HD void term(int64_t, int64_t i, double (&acc)[1]) const {
    const int64_t y = target[i];
    if (y == ignore_index) return;
    acc[0] +=
        y < 0 || y >= C ? std::numeric_limits<double>::quiet_NaN() : (weight ? static_cast<double>(weight[y]) : 1.0);
  }
  PYCNN_HD void finish(int64_t, double (&acc)[1]) const {
    out[0] = static_cast<T>(static_cast<double>(dout[0]) * static_cast<double>(static_cast<T>(1.0 / acc[0])));
  }
};

// Class losses over lp (N, C, S), one element per (n, s) walking its C classes (ops/cpu/loss.cpp has the
// formulas). A target out of range writes NaN instead of reading outside the row.
template <typename T>
struct ClassLossForward {
  const T* lp;
  const int64_t* target;
  const T* weight;
  T *loss, *denom;
  int64_t C, S, ignore_index;
  double smoothing;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t y = target[i];
    if (y == ignore_index) {
      loss[i] = 0, denom[i] = 0;
      return;
    }
    if (y < 0 || y >= C) {
      loss[i] = denom[i] = std::numeric_limits<T>::quiet_NaN();
      return;
    }
    const T* row = lp + (i / S) * C * S + i % S;
    const double keep = 1.0 - smoothing, spread = smoothing / static_cast<double>(C);
    const double wy = weight ? static_cast<double>(weight[y]) : 1.0;
    double l = -keep * wy * static_cast<double>(row[y * S]);
    if (spread != 0) {
      double sm = 0;
      for (int64_t c = 0; c < C; ++c)
        sm -= (weight ? static_cast<double>(weight[c]) : 1.0) * static_cast<double>(row[c * S]);
      l += spread * sm;
    }
    loss[i] = static_cast<T>(l), denom[i] = static_cast<T>(wy);
  }
};

// d loss / d lp (fused: d loss / d logits through the log_softmax that made lp) of element (n, s).
template <typename T>
struct ClassLossBackward {
  const T* g;
  int64_t gstride;
  T gscale;
  const T* lp;
  const int64_t* target;
  const T* weight;
  T* dx;
  int64_t C, S, ignore_index;
  double smoothing;
  bool fused;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t y = target[i], off = (i / S) * C * S + i % S;
    const T* row = lp + off;
    T* drow = dx + off;
    if (y == ignore_index || y < 0 || y >= C) {
      const T v = y == ignore_index ? T(0) : std::numeric_limits<T>::quiet_NaN();
      for (int64_t c = 0; c < C; ++c) drow[c * S] = v;
      return;
    }
    const double keep = 1.0 - smoothing, spread = smoothing / static_cast<double>(C);
    double wsum = static_cast<double>(C);
    if (weight && spread != 0) {
      wsum = 0;
      for (int64_t c = 0; c < C; ++c) wsum += static_cast<double>(weight[c]);
    }
    const double gi = static_cast<double>(g[i * gstride]) * gscale;
    const double wy = weight ? static_cast<double>(weight[y]) : 1.0;
    const T a = static_cast<T>(gi * (keep * wy + spread * wsum)), b = static_cast<T>(gi * spread);
    for (int64_t c = 0; c < C; ++c) {
      T d = fused ? a * std::exp(row[c * S]) : T(0);
      if (b != 0) d -= weight ? b * weight[c] : b;
      drow[c * S] = d;
    }
    drow[y * S] -= static_cast<T>(gi * keep * wy);
  }
};

// Cross-entropy forward in one pass per element (n, s): its log_softmax column over C (computed as
// cpu::softmax_forward does: (x - max) - log(sum exp(x - max)), the sum in double), then the class loss.
template <typename T>
struct CrossEntropyForward {
  const T* logits;
  T* lp;
  ClassLossForward<T> loss;  // reads lp
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t C = loss.C, S = loss.S, off = (i / S) * C * S + i % S;
    const T* p = logits + off;
    T m = -std::numeric_limits<T>::infinity();
    for (int64_t c = 0; c < C; ++c) m = std::max(m, p[c * S]);
    if (std::isinf(m) && m < 0) m = 0;  // all -inf: avoid inf - inf
    double s = 0;
    for (int64_t c = 0; c < C; ++c) s += std::exp(static_cast<double>(p[c * S] - m));
    const T log_s = static_cast<T>(std::log(s));
    for (int64_t c = 0; c < C; ++c) lp[off + c * S] = (p[c * S] - m) - log_s;
    loss(i);
  }
};

// Probability targets t' = (1-e) t + e/C: loss = -sum_c w_c t'_c lp_c.
template <typename T>
struct ProbLossForward {
  const T *lp, *target, *weight;
  T* loss;
  int64_t C, S;
  double smoothing;
  PYCNN_HD void operator()(int64_t i) const {
    const double keep = 1.0 - smoothing, spread = smoothing / static_cast<double>(C);
    const int64_t off = (i / S) * C * S + i % S;
    double l = 0;
    for (int64_t c = 0; c < C; ++c) {
      const double wc = weight ? static_cast<double>(weight[c]) : 1.0;
      l -= wc * (keep * static_cast<double>(target[off + c * S]) + spread) * static_cast<double>(lp[off + c * S]);
    }
    loss[i] = static_cast<T>(l);
  }
};

// dx_c = g (p_c sum_c' w_c' t'_c' - w_c t'_c) (fused softmax); dt_c = -g (1-e) w_c lp_c.
template <typename T>
struct ProbLossBackward {
  const T* g;
  int64_t gstride;
  T gscale;
  const T *lp, *target, *weight;
  T *dx, *dtarget;
  int64_t C, S;
  double smoothing;
  PYCNN_HD void operator()(int64_t i) const {
    const double keep = 1.0 - smoothing, spread = smoothing / static_cast<double>(C);
    const int64_t off = (i / S) * C * S + i % S;
    const double gi = static_cast<double>(g[i * gstride]) * gscale;
    double total = 0;
    for (int64_t c = 0; c < C; ++c)
      total +=
          (weight ? static_cast<double>(weight[c]) : 1.0) * (keep * static_cast<double>(target[off + c * S]) + spread);
    for (int64_t c = 0; c < C; ++c) {
      const int64_t k = off + c * S;
      const double wc = weight ? static_cast<double>(weight[c]) : 1.0;
      const double lpk = static_cast<double>(lp[k]);
      dx[k] = static_cast<T>(gi * (std::exp(lpk) * total - wc * (keep * static_cast<double>(target[k]) + spread)));
      if (dtarget) dtarget[k] = static_cast<T>(-gi * keep * wc * lpk);
    }
  }
};

// The elementwise losses, per element, with the math of ops/loss_math.h (M: one of its structs).
template <typename T, typename M>
struct PointwiseLossForward {
  T param;
  const T *x, *y, *w, *pw;
  T* loss;
  PYCNN_HD void operator()(int64_t i) const {
    loss[i] = M::loss(x[i], y[i], w ? w[i] : T(1), pw ? pw[i] : T(1), param);
  }
};

template <typename T, typename M>
struct PointwiseLossBackward {
  T param;
  const T* g;
  int64_t gstride;
  T gscale;
  const T *x, *y, *w, *pw;
  T *dx, *dy;
  PYCNN_HD void operator()(int64_t i) const {
    const T gi = g[i * gstride] * gscale;
    T d_x = 0, d_y = 0;
    M::grad(x[i], y[i], w ? w[i] : T(1), pw ? pw[i] : T(1), param, d_x, d_y);
    if (dx) dx[i] = gi * d_x;
    if (dy) dy[i] = gi * d_y;
  }
};

// Multi-class hinge over x (N, C), one row per element: loss_n = w_y sum_{c != y} max(0, margin - x_y + x_c)^p / C.
template <typename T>
struct MultiMarginForward {
  const T* x;
  const int64_t* target;
  const T* w;
  T* loss;
  int64_t C, p;
  double margin;
  PYCNN_HD void operator()(int64_t i) const {
    const T* row = x + i * C;
    const int64_t y = target[i];
    if (y < 0 || y >= C) {
      loss[i] = std::numeric_limits<T>::quiet_NaN();
      return;
    }
    double l = 0;
    for (int64_t c = 0; c < C; ++c) {
      const double z = std::max(0.0, margin - static_cast<double>(row[y]) + static_cast<double>(row[c]));
      l += c == y ? 0.0 : (p == 1 ? z : z * z);
    }
    loss[i] = static_cast<T>(l * (w ? static_cast<double>(w[y]) : 1.0) / static_cast<double>(C));
  }
};

template <typename T>
struct MultiMarginBackward {
  const T* g;
  int64_t gstride;
  T gscale;
  const T* x;
  const int64_t* target;
  const T* w;
  T* dx;
  int64_t C, p;
  double margin;
  PYCNN_HD void operator()(int64_t i) const {
    const T* row = x + i * C;
    T* drow = dx + i * C;
    const int64_t y = target[i];
    if (y < 0 || y >= C) {
      for (int64_t c = 0; c < C; ++c) drow[c] = std::numeric_limits<T>::quiet_NaN();
      return;
    }
    const double scale =
        static_cast<double>(g[i * gstride]) * gscale * (w ? static_cast<double>(w[y]) : 1.0) / static_cast<double>(C);
    double dy = 0;
    for (int64_t c = 0; c < C; ++c) {
      const double z = margin - static_cast<double>(row[y]) + static_cast<double>(row[c]);
      const double d = c == y || z <= 0 ? 0.0 : (p == 1 ? 1.0 : 2.0 * z) * scale;
      drow[c] = static_cast<T>(d);
      dy -= d;
    }
    drow[y] = static_cast<T>(dy);
  }
};

}  // namespace pycnn::cuda
