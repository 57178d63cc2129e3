// Optimizer updates, in place. One kernel call per parameter; the state (momentum buffer) is a tensor
// the Python optimizer owns.
#include "ops/checks.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/ops.h"

namespace pycnn {

void sgd_step_(Tensor& param, const Tensor& grad, Tensor& momentum_buf, const SgdArgs& args, bool first_step) {
  check_floating(param, "sgd_step", "param");
  check_same(param, grad, "sgd_step", "param", "grad");
  PYCNN_CHECK(param.shape() == grad.shape(), "[sgd_step] param ", shape_str(param.shape()), " and grad ",
              shape_str(grad.shape()), " differ in shape");
  PYCNN_CHECK(param.is_contiguous(), "[sgd_step] param must be contiguous");
  check_cpu(param, "sgd_step");
  const bool use_buf = args.momentum != 0;
  if (use_buf) {
    check_defined(momentum_buf, "sgd_step", "momentum_buffer");  // an undefined one has no memory to update
    check_same(param, momentum_buf, "sgd_step", "param", "momentum_buffer");
    PYCNN_CHECK(momentum_buf.shape() == param.shape() && momentum_buf.is_contiguous(),
                "[sgd_step] momentum_buffer must be a contiguous tensor of shape ", shape_str(param.shape()),
                ", got ", shape_str(momentum_buf.shape()));
  }
  Tensor g = grad.contiguous();
  dispatch_floating(param.dtype(), "sgd_step", [&](auto tag) {
    using T = decltype(tag);
    cpu::sgd_step<T>(param.data<T>(), g.data<T>(), use_buf ? momentum_buf.data<T>() : nullptr, param.numel(), args,
                     first_step);
  });
}

}  // namespace pycnn
