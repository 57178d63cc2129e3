// Bindings of the optimizer updates (ops/optim.cpp); conventions in bindings/common.h. Each updates param and
// its state tensors in place; state the options don't use may be None. `step` is the optimizer's step count
// including this update (1 on the first). The *_multi_ forms update a whole parameter group (lists of
// tensors, element i of each list belonging to params[i]; unused state lists empty): one launch on CUDA.
#include "common.h"

namespace pycnn::bindings {

void init_optim(py::module_& m) {
  m.def(
      "sgd_step_",
      [](Tensor& param, const Tensor& grad, OptTensor momentum_buf, double lr, double momentum, double dampening,
         double weight_decay, bool nesterov, bool maximize, bool first_step) {
        Tensor buf = undefined_if_none(momentum_buf);
        SgdArgs args;
        args.lr = lr, args.momentum = momentum, args.dampening = dampening, args.weight_decay = weight_decay;
        args.nesterov = nesterov, args.maximize = maximize;
        py::gil_scoped_release nogil;
        sgd_step_(param, grad, buf, args, first_step);
      },
      py::arg("param"), py::arg("grad"), py::arg("momentum_buffer"), py::arg("lr"), py::arg("momentum"),
      py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"), py::arg("maximize"), py::arg("first_step"),
      "PyTorch's SGD update of param (and the momentum buffer), in place");

  m.def(
      "adam_step_",
      [](Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, OptTensor max_exp_avg_sq, double lr,
         double beta1, double beta2, double eps, double weight_decay, bool amsgrad, bool maximize,
         bool decoupled_weight_decay, double step) {
        Tensor vmax = undefined_if_none(max_exp_avg_sq);
        AdamArgs args;
        args.lr = lr, args.beta1 = beta1, args.beta2 = beta2, args.eps = eps, args.weight_decay = weight_decay;
        args.amsgrad = amsgrad, args.maximize = maximize, args.decoupled_weight_decay = decoupled_weight_decay;
        py::gil_scoped_release nogil;
        adam_step_(param, grad, exp_avg, exp_avg_sq, vmax, args, step);
      },
      py::arg("param"), py::arg("grad"), py::arg("exp_avg"), py::arg("exp_avg_sq"), py::arg("max_exp_avg_sq"),
      py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"), py::arg("amsgrad"),
      py::arg("maximize"), py::arg("decoupled_weight_decay"), py::arg("step"),
      "PyTorch's Adam (decoupled_weight_decay: AdamW) update of param, exp_avg, exp_avg_sq (and max_exp_avg_sq), "
      "in place");

  m.def(
      "rmsprop_step_",
      [](Tensor& param, const Tensor& grad, Tensor& square_avg, OptTensor grad_avg, OptTensor momentum_buffer,
         double lr, double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize) {
        Tensor ga = undefined_if_none(grad_avg), buf = undefined_if_none(momentum_buffer);
        RmspropArgs args;
        args.lr = lr, args.alpha = alpha, args.eps = eps, args.weight_decay = weight_decay, args.momentum = momentum;
        args.centered = centered, args.maximize = maximize;
        py::gil_scoped_release nogil;
        rmsprop_step_(param, grad, square_avg, ga, buf, args);
      },
      py::arg("param"), py::arg("grad"), py::arg("square_avg"), py::arg("grad_avg"), py::arg("momentum_buffer"),
      py::arg("lr"), py::arg("alpha"), py::arg("eps"), py::arg("weight_decay"), py::arg("momentum"),
      py::arg("centered"), py::arg("maximize"),
      "PyTorch's RMSprop update of param, square_avg (and grad_avg, momentum_buffer), in place");

  m.def(
      "adagrad_step_",
      [](Tensor& param, const Tensor& grad, Tensor& state_sum, double lr, double lr_decay, double weight_decay,
         double eps, bool maximize, double step) {
        AdagradArgs args;
        args.lr = lr, args.lr_decay = lr_decay, args.weight_decay = weight_decay, args.eps = eps;
        args.maximize = maximize;
        py::gil_scoped_release nogil;
        adagrad_step_(param, grad, state_sum, args, step);
      },
      py::arg("param"), py::arg("grad"), py::arg("state_sum"), py::arg("lr"), py::arg("lr_decay"),
      py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"), py::arg("step"),
      "PyTorch's Adagrad update of param and its running sum of squared gradients, in place");

  m.def(
      "adadelta_step_",
      [](Tensor& param, const Tensor& grad, Tensor& square_avg, Tensor& acc_delta, double lr, double rho, double eps,
         double weight_decay, bool maximize) {
        AdadeltaArgs args;
        args.lr = lr, args.rho = rho, args.eps = eps, args.weight_decay = weight_decay, args.maximize = maximize;
        py::gil_scoped_release nogil;
        adadelta_step_(param, grad, square_avg, acc_delta, args);
      },
      py::arg("param"), py::arg("grad"), py::arg("square_avg"), py::arg("acc_delta"), py::arg("lr"), py::arg("rho"),
      py::arg("eps"), py::arg("weight_decay"), py::arg("maximize"),
      "PyTorch's Adadelta update of param, square_avg and acc_delta, in place");
  using Tensors = std::vector<Tensor>;
  m.def(
      "sgd_step_multi_",
      [](Tensors params, const Tensors& grads, Tensors momentum_buffers, double lr, double momentum, double dampening,
         double weight_decay, bool nesterov, bool maximize, const std::vector<bool>& first_step) {
        SgdArgs args;
        args.lr = lr, args.momentum = momentum, args.dampening = dampening, args.weight_decay = weight_decay;
        args.nesterov = nesterov, args.maximize = maximize;
        py::gil_scoped_release nogil;
        sgd_step_multi_(params, grads, momentum_buffers, args, first_step);
      },
      py::arg("params"), py::arg("grads"), py::arg("momentum_buffers"), py::arg("lr"), py::arg("momentum"),
      py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"), py::arg("maximize"), py::arg("first_step"),
      "sgd_step_ over a parameter group; first_step per tensor");

  m.def(
      "adam_step_multi_",
      [](Tensors params, const Tensors& grads, Tensors exp_avgs, Tensors exp_avg_sqs, Tensors max_exp_avg_sqs,
         double lr, double beta1, double beta2, double eps, double weight_decay, bool amsgrad, bool maximize,
         bool decoupled_weight_decay, const std::vector<double>& steps) {
        AdamArgs args;
        args.lr = lr, args.beta1 = beta1, args.beta2 = beta2, args.eps = eps, args.weight_decay = weight_decay;
        args.amsgrad = amsgrad, args.maximize = maximize, args.decoupled_weight_decay = decoupled_weight_decay;
        py::gil_scoped_release nogil;
        adam_step_multi_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, args, steps);
      },
      py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"), py::arg("max_exp_avg_sqs"),
      py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"), py::arg("amsgrad"),
      py::arg("maximize"), py::arg("decoupled_weight_decay"), py::arg("steps"),
      "adam_step_ over a parameter group; steps per tensor");

  m.def(
      "rmsprop_step_multi_",
      [](Tensors params, const Tensors& grads, Tensors square_avgs, Tensors grad_avgs, Tensors momentum_buffers,
         double lr, double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize) {
        RmspropArgs args;
        args.lr = lr, args.alpha = alpha, args.eps = eps, args.weight_decay = weight_decay, args.momentum = momentum;
        args.centered = centered, args.maximize = maximize;
        py::gil_scoped_release nogil;
        rmsprop_step_multi_(params, grads, square_avgs, grad_avgs, momentum_buffers, args);
      },
      py::arg("params"), py::arg("grads"), py::arg("square_avgs"), py::arg("grad_avgs"), py::arg("momentum_buffers"),
      py::arg("lr"), py::arg("alpha"), py::arg("eps"), py::arg("weight_decay"), py::arg("momentum"),
      py::arg("centered"), py::arg("maximize"), "rmsprop_step_ over a parameter group");

  m.def(
      "adagrad_step_multi_",
      [](Tensors params, const Tensors& grads, Tensors state_sums, double lr, double lr_decay, double weight_decay,
         double eps, bool maximize, const std::vector<double>& steps) {
        AdagradArgs args;
        args.lr = lr, args.lr_decay = lr_decay, args.weight_decay = weight_decay, args.eps = eps;
        args.maximize = maximize;
        py::gil_scoped_release nogil;
        adagrad_step_multi_(params, grads, state_sums, args, steps);
      },
      py::arg("params"), py::arg("grads"), py::arg("state_sums"), py::arg("lr"), py::arg("lr_decay"),
      py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"), py::arg("steps"),
      "adagrad_step_ over a parameter group; steps per tensor");

  m.def(
      "adadelta_step_multi_",
      [](Tensors params, const Tensors& grads, Tensors square_avgs, Tensors acc_deltas, double lr, double rho,
         double eps, double weight_decay, bool maximize) {
        AdadeltaArgs args;
        args.lr = lr, args.rho = rho, args.eps = eps, args.weight_decay = weight_decay, args.maximize = maximize;
        py::gil_scoped_release nogil;
        adadelta_step_multi_(params, grads, square_avgs, acc_deltas, args);
      },
      py::arg("params"), py::arg("grads"), py::arg("square_avgs"), py::arg("acc_deltas"), py::arg("lr"), py::arg("rho"),
      py::arg("eps"), py::arg("weight_decay"), py::arg("maximize"), "adadelta_step_ over a parameter group");
}

}  // namespace pycnn::bindings
