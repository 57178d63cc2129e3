// Optimizer updates, in place: the entry points check their inputs, then dispatch once per parameter group to
// the device's kernel. On CUDA a group is one launch (ops/cuda/optim.cu, multi-tensor); on the CPU the kernel
// of ops/cpu/optim.cpp runs over each tensor in turn. The Python optimizers own the state tensors and the
// step counts. The single-tensor entry points are groups of one.
#include <array>
#include <utility>
#include <vector>

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH, cuda::OptimTensors
#include "pycnn/ops/ops.h"

// The CPU side of the multi-tensor dispatch: the single-tensor kernel per tensor.
namespace pycnn::cpu {

using cuda::OptimTensors;

template <typename T>
void sgd_step_multi(const OptimTensors<T>& ts, const SgdArgs& a) {
  for (int64_t t = 0; t < ts.count(); ++t) sgd_step<T>(ts.q[0][t], ts.q[1][t], ts.q[2][t], ts.n[t], a, ts.step[t] != 0);
}
template <typename T>
void adam_step_multi(const OptimTensors<T>& ts, const AdamArgs& a) {
  for (int64_t t = 0; t < ts.count(); ++t)
    adam_step<T>(ts.q[0][t], ts.q[1][t], ts.q[2][t], ts.q[3][t], ts.q[4][t], ts.n[t], a, ts.step[t]);
}
template <typename T>
void rmsprop_step_multi(const OptimTensors<T>& ts, const RmspropArgs& a) {
  for (int64_t t = 0; t < ts.count(); ++t)
    rmsprop_step<T>(ts.q[0][t], ts.q[1][t], ts.q[2][t], ts.q[3][t], ts.q[4][t], ts.n[t], a);
}
template <typename T>
void adagrad_step_multi(const OptimTensors<T>& ts, const AdagradArgs& a) {
  for (int64_t t = 0; t < ts.count(); ++t) adagrad_step<T>(ts.q[0][t], ts.q[1][t], ts.q[2][t], ts.n[t], a, ts.step[t]);
}
template <typename T>
void adadelta_step_multi(const OptimTensors<T>& ts, const AdadeltaArgs& a) {
  for (int64_t t = 0; t < ts.count(); ++t) adadelta_step<T>(ts.q[0][t], ts.q[1][t], ts.q[2][t], ts.q[3][t], ts.n[t], a);
}

}  // namespace pycnn::cpu

namespace pycnn {
namespace {

// param: a contiguous float tensor; grad: same dtype, device and shape. Returns grad made contiguous.
Tensor check_param_and_grad(const Tensor& param, const Tensor& grad, const char* op) {
  check_floating(param, op, "param");
  check_defined(grad, op, "grad");
  check_same(param, grad, op, "param", "grad");
  PYCNN_CHECK(param.shape() == grad.shape(), "[", op, "] param ", shape_str(param.shape()), " and grad ",
              shape_str(grad.shape()), " differ in shape");
  PYCNN_CHECK(param.is_contiguous(), "[", op, "] param ", shape_str(param.shape()), " must be contiguous");
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

// One group's tensors: params, grads (contiguous copies where needed, kept alive here) and up to 3 lists
// of state tensors (nullptr: not used by the options).
struct Group {
  std::vector<Tensor>* params;
  std::vector<Tensor> grads;
  std::array<std::vector<Tensor>*, 3> states{};
};

// Checks every tensor of the group: params and grads as check_param_and_grad, state as check_state, all
// on the first param's device and dtype.
Group check_group(const char* op, std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                  std::vector<std::pair<std::vector<Tensor>*, const char*>> states) {
  const size_t n = params.size();
  PYCNN_CHECK(grads.size() == n, "[", op, "] got ", n, " params but ", grads.size(), " grads");
  Group g;
  g.params = &params;
  for (size_t k = 0; k < states.size(); ++k) {
    if (!states[k].first) continue;
    PYCNN_CHECK(states[k].first->size() == n, "[", op, "] got ", n, " params but ", states[k].first->size(), " ",
                states[k].second, " tensors");
    g.states[k] = states[k].first;
  }
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) {
      check_floating(params[i], op, "param");
      check_same(params[0], params[i], op, "the first param", "another param");
    }
    g.grads.push_back(check_param_and_grad(params[i], grads[i], op));
    for (size_t k = 0; k < states.size(); ++k)
      if (g.states[k]) check_state(params[i], (*g.states[k])[i], op, states[k].second);
  }
  for (Tensor& p : params) p.bump_version();  // updated in place: a graph that saved them is stale
  return g;
}

// The kernels' view of a checked group; steps[i] is tensor i's step count (or SGD's first-step flag).
template <typename T>
cuda::OptimTensors<T> pointers(Group& g, std::vector<double> steps) {
  cuda::OptimTensors<T> ts;
  for (size_t i = 0; i < g.params->size(); ++i) {
    ts.q[0].push_back((*g.params)[i].data<T>());
    ts.q[1].push_back(g.grads[i].data<T>());
    for (int k = 0; k < 3; ++k) ts.q[2 + k].push_back(g.states[k] ? (*g.states[k])[i].data<T>() : nullptr);
    ts.n.push_back((*g.params)[i].numel());
  }
  steps.resize(g.params->size(), 0.0);
  ts.step = std::move(steps);
  return ts;
}

void check_steps(const std::vector<double>& steps, size_t n, const char* op) {
  PYCNN_CHECK(steps.size() == n, "[", op, "] got ", n, " params but ", steps.size(), " step counts");
  for (double s : steps) check_step(s, op);
}

}  // namespace

void sgd_step_multi_(std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                     std::vector<Tensor>& momentum_buffers, const SgdArgs& args, const std::vector<bool>& first_step) {
  const char* op = "sgd_step";
  const bool use_buf = args.momentum != 0;
  Group g = check_group(op, params, grads, {{use_buf ? &momentum_buffers : nullptr, "momentum_buffer"}});
  PYCNN_CHECK(first_step.size() == params.size(), "[", op, "] got ", params.size(), " params but ", first_step.size(),
              " first_step flags");
  if (params.empty()) return;
  dispatch_floating(params[0].dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(params[0].device(), sgd_step_multi<T>,
                   pointers<T>(g, std::vector<double>(first_step.begin(), first_step.end())), args);
  });
}

void adam_step_multi_(std::vector<Tensor>& params, const std::vector<Tensor>& grads, std::vector<Tensor>& exp_avgs,
                      std::vector<Tensor>& exp_avg_sqs, std::vector<Tensor>& max_exp_avg_sqs, const AdamArgs& args,
                      const std::vector<double>& steps) {
  const char* op = "adam_step";
  Group g = check_group(op, params, grads,
                        {{&exp_avgs, "exp_avg"},
                         {&exp_avg_sqs, "exp_avg_sq"},
                         {args.amsgrad ? &max_exp_avg_sqs : nullptr, "max_exp_avg_sq"}});
  check_steps(steps, params.size(), op);
  if (params.empty()) return;
  dispatch_floating(params[0].dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(params[0].device(), adam_step_multi<T>, pointers<T>(g, steps), args);
  });
}

void rmsprop_step_multi_(std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                         std::vector<Tensor>& square_avgs, std::vector<Tensor>& grad_avgs,
                         std::vector<Tensor>& momentum_buffers, const RmspropArgs& args) {
  const char* op = "rmsprop_step";
  Group g = check_group(op, params, grads,
                        {{&square_avgs, "square_avg"},
                         {args.centered ? &grad_avgs : nullptr, "grad_avg"},
                         {args.momentum > 0 ? &momentum_buffers : nullptr, "momentum_buffer"}});
  if (params.empty()) return;
  dispatch_floating(params[0].dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(params[0].device(), rmsprop_step_multi<T>, pointers<T>(g, {}), args);
  });
}

void adagrad_step_multi_(std::vector<Tensor>& params, const std::vector<Tensor>& grads, std::vector<Tensor>& state_sums,
                         const AdagradArgs& args, const std::vector<double>& steps) {
  const char* op = "adagrad_step";
  Group g = check_group(op, params, grads, {{&state_sums, "sum"}});
  check_steps(steps, params.size(), op);
  if (params.empty()) return;
  dispatch_floating(params[0].dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(params[0].device(), adagrad_step_multi<T>, pointers<T>(g, steps), args);
  });
}

void adadelta_step_multi_(std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                          std::vector<Tensor>& square_avgs, std::vector<Tensor>& acc_deltas, const AdadeltaArgs& args) {
  const char* op = "adadelta_step";
  Group g = check_group(op, params, grads, {{&square_avgs, "square_avg"}, {&acc_deltas, "acc_delta"}});
  if (params.empty()) return;
  dispatch_floating(params[0].dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(params[0].device(), adadelta_step_multi<T>, pointers<T>(g, {}), args);
  });
}

// ---- one tensor: a group of one (state the options don't use may be undefined) ----

void sgd_step_(Tensor& param, const Tensor& grad, Tensor& momentum_buf, const SgdArgs& args, bool first_step) {
  std::vector<Tensor> ps{param}, bufs{momentum_buf};
  sgd_step_multi_(ps, {grad}, bufs, args, {first_step});
}

void adam_step_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, Tensor& max_exp_avg_sq,
                const AdamArgs& args, double step) {
  std::vector<Tensor> ps{param}, m{exp_avg}, v{exp_avg_sq}, vmax{max_exp_avg_sq};
  adam_step_multi_(ps, {grad}, m, v, vmax, args, {step});
}

void rmsprop_step_(Tensor& param, const Tensor& grad, Tensor& square_avg, Tensor& grad_avg, Tensor& momentum_buffer,
                   const RmspropArgs& args) {
  std::vector<Tensor> ps{param}, sq{square_avg}, ga{grad_avg}, buf{momentum_buffer};
  rmsprop_step_multi_(ps, {grad}, sq, ga, buf, args);
}

void adagrad_step_(Tensor& param, const Tensor& grad, Tensor& state_sum, const AdagradArgs& args, double step) {
  std::vector<Tensor> ps{param}, sums{state_sum};
  adagrad_step_multi_(ps, {grad}, sums, args, {step});
}

void adadelta_step_(Tensor& param, const Tensor& grad, Tensor& square_avg, Tensor& acc_delta,
                    const AdadeltaArgs& args) {
  std::vector<Tensor> ps{param}, sq{square_avg}, acc{acc_delta};
  adadelta_step_multi_(ps, {grad}, sq, acc, args);
}

}  // namespace pycnn
