// ReLU forward and backward. The backward uses the output's sign (y > 0), so x need not be kept.
#include "ops/checks.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/ops.h"

namespace pycnn {

Tensor relu_forward(const Tensor& x) {
  check_floating(x, "relu", "input");
  check_cpu(x, "relu");
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_floating(x.dtype(), "relu", [&](auto tag) {
    using T = decltype(tag);
    cpu::relu_forward<T>(xc.data<T>(), y.data<T>(), x.numel());
  });
  return y;
}

Tensor relu_backward(const Tensor& dout, const Tensor& y) {
  check_floating(dout, "relu_backward", "grad_output");
  check_same(dout, y, "relu_backward", "grad_output", "output");
  PYCNN_CHECK(dout.shape() == y.shape(), "[relu_backward] grad_output ", shape_str(dout.shape()),
              " does not match output ", shape_str(y.shape()));
  check_cpu(y, "relu_backward");
  Tensor dc = dout.contiguous(), yc = y.contiguous();
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
  dispatch_floating(y.dtype(), "relu_backward", [&](auto tag) {
    using T = decltype(tag);
    cpu::relu_backward<T>(dc.data<T>(), yc.data<T>(), dx.data<T>(), y.numel());
  });
  return dx;
}

}  // namespace pycnn
