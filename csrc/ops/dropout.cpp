// Dropout, Dropout2d and AlphaDropout. The mask is never stored: it is a pure function of (seed, group
// index), so the backward regenerates it from the same seed. The generator is the device's: splitmix64 on
// the CPU (ops/cpu/dropout.cpp), Philox4x32-10 on CUDA (ops/cuda/philox.h); one seed gives different masks
// on the two devices, each reproducible run to run. Every variant is
// y = x * mul + add with (mul, add) picked per group by the mask:
//   dropout:        kept (1/(1-p), 0), dropped (0, 0); backward the same map applied to dout.
//   alpha dropout:  torch's formula with alpha' = -lambda * alpha of SELU, a = ((1-p)(1 + p alpha'^2))^-1/2,
//                   b = -a alpha' p: kept (a, b), dropped (0, a alpha' + b); backward kept (a, 0), dropped (0, 0).
#include <cmath>

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH
#include "pycnn/ops/ops.h"

namespace pycnn {

namespace {

constexpr double kSeluAlphaPrime = 1.7580993408473766;  // SELU scale * SELU alpha (torch names it alpha)

struct Coefs {
  double keep_mul = 0, keep_add = 0, drop_mul = 0, drop_add = 0;
};

Coefs coefficients(double p, bool alpha, bool backward) {
  Coefs k;
  if (p >= 1) return k;  // torch: input * 0 for every variant
  if (!alpha) {
    k.keep_mul = 1.0 / (1.0 - p);
    return k;
  }
  const double a = 1.0 / std::sqrt((kSeluAlphaPrime * kSeluAlphaPrime * p + 1) * (1 - p));
  k.keep_mul = a;
  if (backward) return k;
  const double b = kSeluAlphaPrime * a * p;  // torch: (mask - 1) * alpha' * a + alpha' * a * p
  k.keep_add = b;
  k.drop_add = b - kSeluAlphaPrime * a;
  return k;
}

Tensor apply(const char* op, const Tensor& x, double p, uint64_t seed, bool channelwise, bool alpha, bool backward) {
  check_floating(x, op, "input");
  PYCNN_CHECK(p >= 0 && p <= 1, "[", op, "] dropout probability has to be between 0 and 1, but got ", p);
  int64_t group = 1;
  if (channelwise) {
    PYCNN_CHECK(x.dim() >= 2, "[", op, "] channel-wise dropout expects input of shape (N, C, *), got ",
                shape_str(x.shape()));
    for (int64_t d = 2; d < x.dim(); ++d) group *= x.size(d);
  }
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.numel() == 0) return y;
  const Coefs k = coefficients(p, alpha, backward);
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), dropout_apply<T>, xc.data<T>(), y.data<T>(), x.numel(), group, p, seed,
                   static_cast<T>(k.keep_mul), static_cast<T>(k.keep_add), static_cast<T>(k.drop_mul),
                   static_cast<T>(k.drop_add));
  });
  return y;
}

}  // namespace

Tensor dropout_forward(const Tensor& x, double p, uint64_t seed, bool channelwise, bool alpha) {
  return apply(alpha ? "alpha_dropout" : (channelwise ? "dropout2d" : "dropout"), x, p, seed, channelwise, alpha,
               false);
}

Tensor dropout_backward(const Tensor& dout, double p, uint64_t seed, bool channelwise, bool alpha) {
  return apply("dropout_backward", dout, p, seed, channelwise, alpha, true);
}

}  // namespace pycnn
