// CPU SGD update, elementwise in one pass over param, grad and the momentum buffer.
#include "core/parallel.h"
#include "ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

template <typename T>
void sgd_step(T* p, const T* grad, T* buf, int64_t n, const SgdArgs& args, bool first_step) {
  const T lr = T(args.lr), wd = T(args.weight_decay), mom = T(args.momentum), damp = T(1 - args.dampening);
  const T sign = args.maximize ? T(-1) : T(1);
  parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T g = sign * grad[i];
      if (wd != T(0)) g += wd * p[i];
      if (buf) {
        buf[i] = first_step ? g : mom * buf[i] + damp * g;
        g = args.nesterov ? g + mom * buf[i] : buf[i];
      }
      p[i] -= lr * g;
    }
  });
}

template void sgd_step<float>(float*, const float*, float*, int64_t, const SgdArgs&, bool);
template void sgd_step<double>(double*, const double*, double*, int64_t, const SgdArgs&, bool);

}  // namespace pycnn::cpu
