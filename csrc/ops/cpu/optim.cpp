// CPU optimizer updates: SGD, Adam/AdamW, RMSprop, Adagrad and Adadelta, one elementwise sweep over param,
// grad and the state per call. Each performs PyTorch's single-tensor update operation for operation, in the
// same rounding order (float64 agrees with torch.optim to ~1e-14 relative: torch's vectorised add and lerp
// use FMA, we don't). Option flags become template parameters (dispatch_flags) so that each loop is
// branch-free and vectorises; scalars are computed in double as torch's Python code does, then rounded to T.
#include <algorithm>
#include <cmath>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"

namespace pycnn::cpu {
namespace {

constexpr int64_t kGrain = 1 << 16;  // elements per thread at least: an update is a few ns per element

// Calls f(std::bool_constant<b>...) for the runtime flags, so the loop sees them as constants.
template <typename F>
void dispatch_flags(F&& f) {
  f();
}
template <typename F, typename... Rest>
void dispatch_flags(F&& f, bool b, Rest... rest) {
  if (b)
    dispatch_flags([&](auto... c) { f(std::true_type{}, c...); }, rest...);
  else
    dispatch_flags([&](auto... c) { f(std::false_type{}, c...); }, rest...);
}

// torch.lerp(self, end, w) with a scalar weight: self + w*(end - self) for |w| < 0.5, otherwise
// end - (end - self)*(1 - w) (more accurate near w = 1).
template <bool kSmallWeight, typename T>
inline T lerp(T self, T end, T w, T one_minus_w) {
  if constexpr (kSmallWeight)
    return self + w * (end - self);
  else
    return end - (end - self) * one_minus_w;
}

// Elements per two-pass block of the updates that take square roots (see below). 128 and 256 ran alike,
// 1024 about 20% slower (the block's arrays start to crowd L1).
constexpr int64_t kBlock = 256;

// x[i] = sqrt(x[i]) for i < n with SIMD square-root instructions (a plain loop over std::sqrt stays scalar):
// 128-bit vectors of 4 floats or 2 doubles, then the remainder one at a time.
template <typename T>
inline void sqrt_block(T* x, int64_t n) {
  constexpr bool kFloat = std::is_same_v<T, float>;
  int64_t i = 0;
#if defined(__SSE2__)
  if constexpr (kFloat)
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(x + i, _mm_sqrt_ps(_mm_loadu_ps(x + i)));
  else
    for (; i + 2 <= n; i += 2) _mm_storeu_pd(x + i, _mm_sqrt_pd(_mm_loadu_pd(x + i)));
#elif defined(__aarch64__)
  if constexpr (kFloat)
    for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vsqrtq_f32(vld1q_f32(x + i)));
  else
    for (; i + 2 <= n; i += 2) vst1q_f64(x + i, vsqrtq_f64(vld1q_f64(x + i)));
#endif
  for (; i < n; ++i) x[i] = std::sqrt(x[i]);
}

// The updates that take square roots run over blocks of kBlock elements in two vectorised passes, with the
// square roots in between done by sqrt_block: std::sqrt in a loop keeps it scalar (it may set errno, and
// the core is not built with -fno-math-errno), and IEEE square roots are correctly rounded either way.
// for_each_block calls block(b0, len, root) for the blocks [b0, b0 + len) of [0, n), threaded; root is the
// thread's scratch of kRoots * kBlock elements for the values between the passes. It stays in L1, so the
// split costs no memory traffic.
template <typename T, int kRoots = 1, typename Block>
void for_each_block(int64_t n, Block block) {
  parallel_for(n, kGrain, [=](int64_t b, int64_t e) {
    T root[kRoots * kBlock];
    for (int64_t b0 = b; b0 < e; b0 += kBlock) block(b0, std::min(kBlock, e - b0), root);
  });
}

}  // namespace

template <typename T>
void sgd_step(T* p_, const T* grad_, T* buf_, int64_t n, const SgdArgs& args, bool first_step) {
  const T lr = T(args.lr), wd = T(args.weight_decay), mom = T(args.momentum), damp = T(1 - args.dampening);
  const T sign = args.maximize ? T(-1) : T(1);
  const bool nesterov = args.nesterov;
  // Captured by value: constants reached through a reference would be reloaded every iteration (the
  // stores to p might alias them), which keeps the loop scalar.
  parallel_for(n, kGrain, [=](int64_t b, int64_t e) {
    T* __restrict p = p_;
    const T* __restrict grad = grad_;
    T* __restrict buf = buf_;
    if (!buf) {
      for (int64_t i = b; i < e; ++i) p[i] -= lr * (sign * grad[i] + wd * p[i]);
    } else if (first_step) {  // the buffer starts as the first gradient (no dampening), as in torch
      for (int64_t i = b; i < e; ++i) {
        const T g = sign * grad[i] + wd * p[i];
        buf[i] = g;
        p[i] -= lr * (nesterov ? g + mom * g : g);
      }
    } else {
      for (int64_t i = b; i < e; ++i) {
        const T g = sign * grad[i] + wd * p[i];
        const T v = mom * buf[i] + damp * g;
        buf[i] = v;
        p[i] -= lr * (nesterov ? g + mom * v : v);
      }
    }
  });
}

// torch (adam.py, _single_tensor_adam), per element, with g = -grad if maximize else grad:
//   p = p * (1 - lr*wd)                 decoupled (AdamW)      | g = g + wd*p    L2 (Adam)
//   m = lerp(m, g, 1 - beta1);  v = v*beta2 + ((1 - beta2)*g)*g;  vmax = max(vmax, v) (amsgrad)
//   denom = sqrt(v or vmax) / sqrt(1 - beta2^step) + eps;  p = p + (-lr/(1 - beta1^step) * m) / denom
template <typename T>
void adam_step(T* p_, const T* grad_, T* m_, T* v_, T* vmax_, int64_t n, const AdamArgs& a, double step) {
  const bool l2 = a.weight_decay != 0 && !a.decoupled_weight_decay;
  const double decay = a.decoupled_weight_decay && a.weight_decay != 0 ? 1 - a.lr * a.weight_decay : 1.0;
  const double w1 = 1 - a.beta1;
  const T sign = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay), p_scale = T(decay);
  const T lerp_w = T(w1), lerp_omw = T(1) - T(w1), beta2 = T(a.beta2), omb2 = T(1 - a.beta2), eps = T(a.eps);
  const T neg_step_size = T(-(a.lr / (1 - std::pow(a.beta1, step))));
  const T bc2_sqrt = T(std::pow(1 - std::pow(a.beta2, step), 0.5));
  dispatch_flags(
      [&](auto amsgrad, auto use_l2, auto small_w) {
        for_each_block<T>(n, [=](int64_t b0, int64_t len, T* __restrict root) {
          T* __restrict p = p_ + b0;
          const T* __restrict grad = grad_ + b0;
          T* __restrict m = m_ + b0;
          T* __restrict v = v_ + b0;
          T* __restrict vmax = vmax_ + b0;  // only read with amsgrad (null otherwise)
          for (int64_t i = 0; i < len; ++i) {
            T g = sign * grad[i];
            if constexpr (decltype(use_l2)::value) g = g + wd * p[i];
            m[i] = lerp<decltype(small_w)::value>(m[i], g, lerp_w, lerp_omw);
            const T vi = v[i] * beta2 + (omb2 * g) * g;
            v[i] = vi;
            if constexpr (decltype(amsgrad)::value) {
              const T vm = vmax[i] < vi ? vi : vmax[i];
              vmax[i] = vm;
              root[i] = vm;
            } else {
              root[i] = vi;
            }
          }
          sqrt_block(root, len);
          for (int64_t i = 0; i < len; ++i) p[i] = p[i] * p_scale + neg_step_size * m[i] / (root[i] / bc2_sqrt + eps);
        });
      },
      a.amsgrad, l2, std::abs(T(w1)) < T(0.5));  // torch makes lerp's choice in T too
}

// torch (rmsprop.py, _single_tensor_rmsprop), g = -grad if maximize else grad:
//   g = g + wd*p;  sq = sq*alpha + ((1 - alpha)*g)*g
//   centered: ga = lerp(ga, g, 1 - alpha), avg = sqrt(sq - ga*ga) + eps;  else avg = sqrt(sq) + eps
//   momentum > 0: buf = buf*momentum + g/avg, p = p + (-lr)*buf;  else p = p + (-lr*g)/avg
template <typename T>
void rmsprop_step(T* p_, const T* grad_, T* sq_, T* ga_, T* buf_, int64_t n, const RmspropArgs& a) {
  const double w = 1 - a.alpha;
  const T sign = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay), alpha = T(a.alpha), oma = T(w);
  const T lerp_omw = T(1) - T(w), eps = T(a.eps), mom = T(a.momentum), neg_lr = T(-a.lr);
  dispatch_flags(
      [&](auto use_wd, auto centered, auto use_mom, auto small_w) {
        for_each_block<T>(n, [=](int64_t b0, int64_t len, T* __restrict root) {
          T* __restrict p = p_ + b0;
          const T* __restrict grad = grad_ + b0;
          T* __restrict sq = sq_ + b0;
          T* __restrict ga = ga_ + b0;    // only used when centered
          T* __restrict buf = buf_ + b0;  // only used with momentum
          for (int64_t i = 0; i < len; ++i) {
            T g = sign * grad[i];
            if constexpr (decltype(use_wd)::value) g = g + wd * p[i];
            const T s = sq[i] * alpha + (oma * g) * g;
            sq[i] = s;
            if constexpr (decltype(centered)::value) {
              const T gai = lerp<decltype(small_w)::value>(ga[i], g, oma, lerp_omw);
              ga[i] = gai;
              root[i] = s - gai * gai;
            } else {
              root[i] = s;
            }
          }
          sqrt_block(root, len);
          for (int64_t i = 0; i < len; ++i) {
            T g = sign * grad[i];  // recomputed: cheaper than a second scratch block
            if constexpr (decltype(use_wd)::value) g = g + wd * p[i];
            const T avg = root[i] + eps;
            if constexpr (decltype(use_mom)::value) {
              const T bi = buf[i] * mom + g / avg;
              buf[i] = bi;
              p[i] = p[i] + neg_lr * bi;
            } else {
              p[i] = p[i] + neg_lr * g / avg;
            }
          }
        });
      },
      a.weight_decay != 0, a.centered, a.momentum > 0, std::abs(T(w)) < T(0.5));
}

// torch (adagrad.py, _single_tensor_adagrad), g = -grad if maximize else grad:
//   g = g + wd*p;  clr = lr / (1 + (step - 1)*lr_decay);  sum = sum + g*g;  p = p + (-clr*g)/(sqrt(sum) + eps)
template <typename T>
void adagrad_step(T* p_, const T* grad_, T* sum_, int64_t n, const AdagradArgs& a, double step) {
  const T sign = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay), eps = T(a.eps);
  const T neg_clr = T(-(a.lr / (1 + (step - 1) * a.lr_decay)));
  dispatch_flags(
      [&](auto use_wd) {
        for_each_block<T>(n, [=](int64_t b0, int64_t len, T* __restrict root) {
          T* __restrict p = p_ + b0;
          const T* __restrict grad = grad_ + b0;
          T* __restrict sum = sum_ + b0;
          for (int64_t i = 0; i < len; ++i) {
            T g = sign * grad[i];
            if constexpr (decltype(use_wd)::value) g = g + wd * p[i];
            const T s = sum[i] + g * g;
            sum[i] = s;
            root[i] = s;
          }
          sqrt_block(root, len);
          for (int64_t i = 0; i < len; ++i) {
            T g = sign * grad[i];
            if constexpr (decltype(use_wd)::value) g = g + wd * p[i];
            p[i] = p[i] + neg_clr * g / (root[i] + eps);
          }
        });
      },
      a.weight_decay != 0);
}

// torch (adadelta.py, _single_tensor_adadelta), g = -grad if maximize else grad:
//   g = g + wd*p;  sq = sq*rho + ((1 - rho)*g)*g;  delta = sqrt(acc + eps) / sqrt(sq + eps) * g
//   acc = acc*rho + ((1 - rho)*delta)*delta;  p = p + (-lr)*delta
template <typename T>
void adadelta_step(T* p_, const T* grad_, T* sq_, T* acc_, int64_t n, const AdadeltaArgs& a) {
  const T sign = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay), rho = T(a.rho), omr = T(1 - a.rho);
  const T eps = T(a.eps), neg_lr = T(-a.lr);
  dispatch_flags(
      [&](auto use_wd) {
        // two roots per element: sqrt(sq + eps) in the first half of root, sqrt(acc + eps) in the second
        for_each_block<T, 2>(n, [=](int64_t b0, int64_t len, T* root) {
          T* __restrict p = p_ + b0;
          const T* __restrict grad = grad_ + b0;
          T* __restrict sq = sq_ + b0;
          T* __restrict acc = acc_ + b0;
          T* __restrict std_ = root;
          T* __restrict acc_root = root + kBlock;
          for (int64_t i = 0; i < len; ++i) {
            T g = sign * grad[i];
            if constexpr (decltype(use_wd)::value) g = g + wd * p[i];
            const T s = sq[i] * rho + (omr * g) * g;
            sq[i] = s;
            std_[i] = s + eps;
            acc_root[i] = acc[i] + eps;
          }
          sqrt_block(std_, len);
          sqrt_block(acc_root, len);
          for (int64_t i = 0; i < len; ++i) {
            T g = sign * grad[i];
            if constexpr (decltype(use_wd)::value) g = g + wd * p[i];
            const T delta = acc_root[i] / std_[i] * g;
            acc[i] = acc[i] * rho + (omr * delta) * delta;
            p[i] = p[i] + neg_lr * delta;
          }
        });
      },
      a.weight_decay != 0);
}

#define PYCNN_INSTANTIATE_OPTIM(T)                                                        \
  template void sgd_step<T>(T*, const T*, T*, int64_t, const SgdArgs&, bool);             \
  template void adam_step<T>(T*, const T*, T*, T*, T*, int64_t, const AdamArgs&, double); \
  template void rmsprop_step<T>(T*, const T*, T*, T*, T*, int64_t, const RmspropArgs&);   \
  template void adagrad_step<T>(T*, const T*, T*, int64_t, const AdagradArgs&, double);   \
  template void adadelta_step<T>(T*, const T*, T*, T*, int64_t, const AdadeltaArgs&);
PYCNN_INSTANTIATE_OPTIM(float)
PYCNN_INSTANTIATE_OPTIM(double)
#undef PYCNN_INSTANTIATE_OPTIM

}  // namespace pycnn::cpu
