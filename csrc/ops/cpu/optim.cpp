// CPU SGD update, elementwise in one pass over param, grad and the momentum buffer. Flags are hoisted
// out of the loop and the pointers marked restrict so that the loop vectorises (a per-element branch
// on the flags made it 10x slower).
#include "core/parallel.h"
#include "ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

template <typename T>
void sgd_step(T* p_, const T* grad_, T* buf_, int64_t n, const SgdArgs& args, bool first_step) {
  const T lr = T(args.lr), wd = T(args.weight_decay), mom = T(args.momentum), damp = T(1 - args.dampening);
  const T sign = args.maximize ? T(-1) : T(1);
  const bool nesterov = args.nesterov;
  // Captured by value: constants reached through a reference would be reloaded every iteration (the
  // stores to p might alias them), which keeps the loop scalar.
  parallel_for(n, 1 << 16, [=](int64_t b, int64_t e) {
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

template void sgd_step<float>(float*, const float*, float*, int64_t, const SgdArgs&, bool);
template void sgd_step<double>(double*, const double*, double*, int64_t, const SgdArgs&, bool);

}  // namespace pycnn::cpu
