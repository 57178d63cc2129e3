// Optimizer updates, in place: the entry points check their inputs, then run one CPU kernel
// (ops/cpu/optim.cpp) over the parameter. The Python optimizers own the state tensors and the step count.
#include "ops/checks.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/ops.h"

namespace pycnn {
namespace {

// param: a contiguous float CPU tensor; grad: same dtype, device and shape. Returns grad made contiguous.
Tensor check_param_and_grad(const Tensor& param, const Tensor& grad, const char* op) {
  check_floating(param, op, "param");
  check_defined(grad, op, "grad");
  check_same(param, grad, op, "param", "grad");
  PYCNN_CHECK(param.shape() == grad.shape(), "[", op, "] param ", shape_str(param.shape()), " and grad ",
              shape_str(grad.shape()), " differ in shape");
  PYCNN_CHECK(param.is_contiguous(), "[", op, "] param ", shape_str(param.shape()), " must be contiguous");
  check_cpu(param, op);
  return grad.contiguous();
}

// A state tensor the kernel updates in place: param's dtype, device and shape, contiguous.
void check_state(const Tensor& param, const Tensor& state, const char* op, const char* name) {
  check_defined(state, op, name);  // an undefined one has no memory to update
  check_same(param, state, op, "param", name);
  PYCNN_CHECK(state.shape() == param.shape() && state.is_contiguous(), "[", op, "] ", name,
              " must be a contiguous tensor of shape ", shape_str(param.shape()), ", got ", shape_str(state.shape()),
              state.is_contiguous() ? "" : " (not contiguous)");
}

void check_step(double step, const char* op) {
  PYCNN_CHECK(step >= 1, "[", op, "] step must be >= 1 (the count including this update), got ", step);
}

template <typename T>
T* data_or_null(Tensor& t, bool used) {
  return used ? t.data<T>() : nullptr;
}

}  // namespace

void sgd_step_(Tensor& param, const Tensor& grad, Tensor& momentum_buf, const SgdArgs& args, bool first_step) {
  Tensor g = check_param_and_grad(param, grad, "sgd_step");
  const bool use_buf = args.momentum != 0;
  if (use_buf) check_state(param, momentum_buf, "sgd_step", "momentum_buffer");
  dispatch_floating(param.dtype(), "sgd_step", [&](auto tag) {
    using T = decltype(tag);
    cpu::sgd_step<T>(param.data<T>(), g.data<T>(), data_or_null<T>(momentum_buf, use_buf), param.numel(), args,
                     first_step);
  });
}

void adam_step_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, Tensor& max_exp_avg_sq,
                const AdamArgs& args, double step) {
  const char* op = "adam_step";
  Tensor g = check_param_and_grad(param, grad, op);
  check_state(param, exp_avg, op, "exp_avg");
  check_state(param, exp_avg_sq, op, "exp_avg_sq");
  if (args.amsgrad) check_state(param, max_exp_avg_sq, op, "max_exp_avg_sq");
  check_step(step, op);
  dispatch_floating(param.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    cpu::adam_step<T>(param.data<T>(), g.data<T>(), exp_avg.data<T>(), exp_avg_sq.data<T>(),
                      data_or_null<T>(max_exp_avg_sq, args.amsgrad), param.numel(), args, step);
  });
}

void rmsprop_step_(Tensor& param, const Tensor& grad, Tensor& square_avg, Tensor& grad_avg, Tensor& momentum_buffer,
                   const RmspropArgs& args) {
  const char* op = "rmsprop_step";
  Tensor g = check_param_and_grad(param, grad, op);
  check_state(param, square_avg, op, "square_avg");
  const bool use_buf = args.momentum > 0;
  if (args.centered) check_state(param, grad_avg, op, "grad_avg");
  if (use_buf) check_state(param, momentum_buffer, op, "momentum_buffer");
  dispatch_floating(param.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    cpu::rmsprop_step<T>(param.data<T>(), g.data<T>(), square_avg.data<T>(), data_or_null<T>(grad_avg, args.centered),
                         data_or_null<T>(momentum_buffer, use_buf), param.numel(), args);
  });
}

void adagrad_step_(Tensor& param, const Tensor& grad, Tensor& state_sum, const AdagradArgs& args, double step) {
  const char* op = "adagrad_step";
  Tensor g = check_param_and_grad(param, grad, op);
  check_state(param, state_sum, op, "sum");
  check_step(step, op);
  dispatch_floating(param.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    cpu::adagrad_step<T>(param.data<T>(), g.data<T>(), state_sum.data<T>(), param.numel(), args, step);
  });
}

void adadelta_step_(Tensor& param, const Tensor& grad, Tensor& square_avg, Tensor& acc_delta,
                    const AdadeltaArgs& args) {
  const char* op = "adadelta_step";
  Tensor g = check_param_and_grad(param, grad, op);
  check_state(param, square_avg, op, "square_avg");
  check_state(param, acc_delta, op, "acc_delta");
  dispatch_floating(param.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    cpu::adadelta_step<T>(param.data<T>(), g.data<T>(), square_avg.data<T>(), acc_delta.data<T>(), param.numel(), args);
  });
}

}  // namespace pycnn
