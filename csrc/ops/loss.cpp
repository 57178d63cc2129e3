// The losses. Cross-entropy (log_softmax, then NLL; ops/activation.cpp has the softmaxes) has a fused backward:
// d loss / d logits = (softmax - onehot(target)) * dout (/ N for the mean), computed from the saved
// log-probabilities, so the backward is a single pass with no softmax recomputation. The class losses take
// (N, C, d1, ...) inputs, class weights, ignore_index, label smoothing and probability targets; then come
// the elementwise losses and the multi-class hinge.
#include <cmath>
#include <cstdint>  // defines: INT64_MIN

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH
#include "pycnn/ops/ops.h"

namespace pycnn {

// ---- the class losses: (N, C, d1, ...) inputs, class weights, ignore_index, label smoothing,
// probability targets. The input is viewed as contiguous (N, C, S), S = d1 * d2 * .... ----

static void split_ncs(const Tensor& x, int64_t& N, int64_t& C, int64_t& S) {
  N = x.size(0), C = x.size(1), S = 1;
  for (int64_t d = 2; d < x.dim(); ++d) S *= x.size(d);
}

// input (N, C, *): its shape without the class dim is the shape of index targets and of a 'none' loss.
static Shape index_shape(const Tensor& x) {
  Shape s = x.shape();
  s.erase(s.begin() + 1);
  return s;
}

static bool is_prob_target(const Tensor& target) { return target.defined() && is_floating(target.dtype()); }

static void check_class_loss(const Tensor& input, const Tensor& target, const Tensor& weight, const ClassLossArgs& args,
                             bool allow_probs, const char* op) {
  check_floating(input, op, "input");
  check_defined(target, op, "target");
  PYCNN_CHECK_RUNTIME(target.device() == input.device(), "[", op, "] input is on ", input.device().str(),
                      " but target is on ", target.device().str());
  PYCNN_CHECK(input.dim() >= 2, "[", op, "] expected input of shape (N, C) or (N, C, d1, ...), got ",
              shape_str(input.shape()));
  PYCNN_CHECK(input.size(1) > 0, "[", op, "] input has no classes: ", shape_str(input.shape()));
  PYCNN_CHECK(args.label_smoothing >= 0 && args.label_smoothing <= 1, "[", op,
              "] label_smoothing must be in [0, 1], got ", args.label_smoothing);
  if (is_prob_target(target)) {
    PYCNN_CHECK(allow_probs, "[", op, "] expected target to hold int64 class indices, got ",
                dtype_name(target.dtype()));
    check_same(input, target, op, "input", "target");
    PYCNN_CHECK(target.shape() == input.shape(), "[", op, "] probability target ", shape_str(target.shape()),
                " must have input's shape ", shape_str(input.shape()));
  } else {
    PYCNN_CHECK_TYPE(target.dtype() == DType::Int64, "[", op, "] expected target to hold int64 class indices, got ",
                     dtype_name(target.dtype()));
    PYCNN_CHECK(target.shape() == index_shape(input), "[", op, "] expected target of shape ",
                shape_str(index_shape(input)), " for input ", shape_str(input.shape()), ", got ",
                shape_str(target.shape()));
  }
  if (weight.defined()) {
    check_same(input, weight, op, "input", "weight");
    PYCNN_CHECK(weight.dim() == 1 && weight.size(0) == input.size(1), "[", op, "] expected weight of shape (",
                input.size(1), ",) for input ", shape_str(input.shape()), ", got ", shape_str(weight.shape()));
    if (weight.device().is_cuda()) return;  // reading the weights would be a host round trip: not checked there
    Tensor w = weight.contiguous().to(DType::Float64);
    const double* wd = w.data<double>();
    for (int64_t c = 0; c < w.numel(); ++c)
      PYCNN_CHECK(wd[c] >= 0, "[", op, "] class weights must be non-negative, got ", wd[c], " for class ", c);
  }
}

// Every index is ignore_index or in [0, C): anything else would read outside the row. Checked on the CPU
// only: on a GPU it would cost a host round trip, and the kernels give NaN for such a target instead.
static Tensor checked_indices(const Tensor& target, int64_t C, int64_t ignore_index, const char* op) {
  Tensor tc = target.contiguous();
  if (tc.device().is_cuda()) return tc;
  const int64_t* t = tc.data<int64_t>();
  for (int64_t i = 0, n = tc.numel(); i < n; ++i)
    PYCNN_CHECK(t[i] == ignore_index || (t[i] >= 0 && t[i] < C), "[", op, "] target ", t[i], " at position ", i,
                " is out of range for ", C, " classes (ignore_index is ", ignore_index, ")");
  return tc;
}

static void check_dout(const Tensor& dout, const Tensor& like, const Shape& none_shape, Reduction r, const char* op) {
  check_floating(dout, op, "grad_output");
  check_same(dout, like, op, "grad_output", "input");
  PYCNN_CHECK(dout.numel() == (r == Reduction::None ? shape_numel(none_shape) : 1), "[", op, "] grad_output ",
              shape_str(dout.shape()), " does not match the loss");
}

// Reduces per-element losses: None keeps them (reshaped), Mean divides the sum by the sum of `denom` (the
// per-element weights) when given, else by `divisor`. The result is a 0-d tensor on per's device. 0 / 0 =
// NaN for an empty or all-ignored batch, as in torch.
template <typename T>
static Tensor reduce_elems(const Tensor& per, const Shape& none_shape, Reduction r, const Tensor& denom,
                           double divisor) {
  if (r == Reduction::None) return per.view(none_shape);
  const bool mean = r == Reduction::Mean;
  Tensor out = Tensor::empty(Shape{}, per.dtype(), per.device());
  PYCNN_DISPATCH(per.device(), loss_reduce<T>, per.data<T>(), mean && denom.defined() ? denom.data<T>() : nullptr,
                 per.numel(), mean ? divisor : 1.0, out.data<T>());
  return out;
}

// The class loss forward on lp (cross-entropy over log_softmax output, or NLL). With `logits` defined (index
// targets only), lp is an output: one launch writes log_softmax(logits) into it and the loss.
static Tensor class_forward(const Tensor& lp, const Tensor& target, const Tensor& weight, const ClassLossArgs& args,
                            const char* op, const Tensor& logits = Tensor()) {
  int64_t N, C, S;
  split_ncs(lp, N, C, S);
  Tensor wc = weight.defined() ? weight.contiguous() : Tensor();
  Tensor per = Tensor::empty({N * S}, lp.dtype(), lp.device());
  return dispatch_floating(lp.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* w = wc.defined() ? wc.data<T>() : nullptr;
    if (is_prob_target(target)) {
      Tensor tc = target.contiguous();
      PYCNN_DISPATCH(lp.device(), prob_loss_forward<T>, lp.data<T>(), tc.data<T>(), w, per.data<T>(), N, C, S,
                     args.label_smoothing);
      return reduce_elems<T>(per, index_shape(lp), args.reduction, Tensor(), static_cast<double>(N * S));
    }
    Tensor tc = checked_indices(target, C, args.ignore_index, op);
    Tensor denom = Tensor::empty({N * S}, lp.dtype(), lp.device());
    if (logits.defined())
      PYCNN_DISPATCH(lp.device(), cross_entropy_fused_forward<T>, logits.data<T>(), tc.data<int64_t>(), w, lp.data<T>(),
                     per.data<T>(), denom.data<T>(), N, C, S, args.ignore_index, args.label_smoothing);
    else
      PYCNN_DISPATCH(lp.device(), class_loss_forward<T>, lp.data<T>(), tc.data<int64_t>(), w, per.data<T>(),
                     denom.data<T>(), N, C, S, args.ignore_index, args.label_smoothing);
    return reduce_elems<T>(per, index_shape(lp), args.reduction, denom, 0.0);
  });
}

static std::tuple<Tensor, Tensor> class_backward(const Tensor& dout, const Tensor& lp, const Tensor& target,
                                                 const Tensor& weight, const ClassLossArgs& args, bool fused,
                                                 bool need_dtarget, const char* op) {
  check_dout(dout, lp, index_shape(lp), args.reduction, op);
  int64_t N, C, S;
  split_ncs(lp, N, C, S);
  Tensor lpc = lp.contiguous(), dc = dout.contiguous();
  Tensor wc = weight.defined() ? weight.contiguous() : Tensor();
  Tensor dx = Tensor::empty(lp.shape(), lp.dtype(), lp.device()), dtarget;
  const int64_t gstride = args.reduction == Reduction::None ? 1 : 0;
  dispatch_floating(lp.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* w = wc.defined() ? wc.data<T>() : nullptr;
    if (is_prob_target(target)) {
      Tensor tc = target.contiguous();
      if (need_dtarget) dtarget = Tensor::empty(lp.shape(), lp.dtype(), lp.device());
      const T scale = args.reduction == Reduction::Mean ? T(1) / static_cast<T>(N * S) : T(1);
      PYCNN_DISPATCH(lp.device(), prob_loss_backward<T>, dc.data<T>(), gstride, scale, lpc.data<T>(), tc.data<T>(), w,
                     dx.data<T>(), need_dtarget ? dtarget.data<T>() : nullptr, N, C, S, args.label_smoothing);
      return;
    }
    Tensor tc = checked_indices(target, C, args.ignore_index, op);
    Tensor g = dc;
    if (args.reduction == Reduction::Mean) {  // dout / the forward's denominator (summed weight of kept targets)
      g = Tensor::empty(Shape{}, lp.dtype(), lp.device());
      PYCNN_DISPATCH(lp.device(), class_grad_scale<T>, dc.data<T>(), tc.data<int64_t>(), w, N * S, C, args.ignore_index,
                     g.data<T>());
    }
    PYCNN_DISPATCH(lp.device(), class_loss_backward<T>, g.data<T>(), gstride, T(1), lpc.data<T>(), tc.data<int64_t>(),
                   w, dx.data<T>(), N, C, S, args.ignore_index, args.label_smoothing, fused);
  });
  return {dx, dtarget};
}

std::tuple<Tensor, Tensor> cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                                 const ClassLossArgs& args) {
  check_class_loss(logits, target, weight, args, true, "cross_entropy");
  if (is_prob_target(target)) {
    Tensor log_probs = log_softmax_forward(logits, 1);
    return {class_forward(log_probs, target, weight, args, "cross_entropy"), log_probs};
  }
  // index targets: log_softmax and the loss fused into one pass over the logits
  Tensor log_probs = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  return {class_forward(log_probs, target, weight, args, "cross_entropy", logits.contiguous()), log_probs};
}

std::tuple<Tensor, Tensor> cross_entropy_backward(const Tensor& dout, const Tensor& log_probs, const Tensor& target,
                                                  const Tensor& weight, const ClassLossArgs& args, bool need_dtarget) {
  check_class_loss(log_probs, target, weight, args, true, "cross_entropy_backward");
  return class_backward(dout, log_probs, target, weight, args, true, need_dtarget, "cross_entropy_backward");
}

Tensor nll_loss_forward(const Tensor& log_probs, const Tensor& target, const Tensor& weight,
                        const ClassLossArgs& args) {
  check_class_loss(log_probs, target, weight, args, false, "nll_loss");
  PYCNN_CHECK(args.label_smoothing == 0, "[nll_loss] has no label_smoothing");
  return class_forward(log_probs.contiguous(), target, weight, args, "nll_loss");
}

Tensor nll_loss_backward(const Tensor& dout, const Tensor& log_probs, const Tensor& target, const Tensor& weight,
                         const ClassLossArgs& args) {
  check_class_loss(log_probs, target, weight, args, false, "nll_loss_backward");
  return std::get<0>(class_backward(dout, log_probs, target, weight, args, false, false, "nll_loss_backward"));
}

// ---- elementwise losses ----
static const char* pointwise_name(PointwiseLoss k) {
  switch (k) {
    case PointwiseLoss::MSE: return "mse_loss";
    case PointwiseLoss::L1: return "l1_loss";
    case PointwiseLoss::SmoothL1: return "smooth_l1_loss";
    case PointwiseLoss::Huber: return "huber_loss";
    case PointwiseLoss::BCE: return "binary_cross_entropy";
    case PointwiseLoss::BCEWithLogits: return "binary_cross_entropy_with_logits";
    case PointwiseLoss::KLDiv:
    case PointwiseLoss::KLDivLogTarget: return "kl_div";
    case PointwiseLoss::MarginRanking: return "margin_ranking_loss";
  }
  return "loss";
}

// weight / pos_weight broadcast to input's shape, made contiguous; undefined stays undefined.
static Tensor broadcast_to_input(const Tensor& t, const Tensor& input, const char* op, const char* name) {
  if (!t.defined()) return t;
  check_same(input, t, op, "input", name);
  PYCNN_CHECK(t.dim() <= input.dim() && broadcast_shapes(t.shape(), input.shape(), op) == input.shape(), "[", op, "] ",
              name, " ", shape_str(t.shape()), " does not broadcast to input ", shape_str(input.shape()));
  return t.expand(input.shape()).contiguous();
}

static void check_pointwise(const Tensor& input, const Tensor& target, const PointwiseLossArgs& args, const char* op) {
  check_floating(input, op, "input");
  check_floating(target, op, "target");
  check_same(input, target, op, "input", "target");
  PYCNN_CHECK(input.shape() == target.shape(), "[", op, "] input ", shape_str(input.shape()), " and target ",
              shape_str(target.shape()), " must have the same shape");
  PYCNN_CHECK(args.kind != PointwiseLoss::SmoothL1 || args.param >= 0, "[", op, "] beta must be >= 0, got ",
              args.param);
  PYCNN_CHECK(args.kind != PointwiseLoss::Huber || args.param > 0, "[", op, "] delta must be > 0, got ", args.param);
  PYCNN_CHECK(!args.batchmean || input.dim() >= 1, "[", op, "] 'batchmean' needs an input with a batch dim");
}

static double pointwise_denominator(const Tensor& input, const PointwiseLossArgs& args) {
  return args.batchmean ? static_cast<double>(input.size(0)) : static_cast<double>(input.numel());
}

Tensor pointwise_loss_forward(const Tensor& input, const Tensor& target, const Tensor& weight, const Tensor& pos_weight,
                              const PointwiseLossArgs& args) {
  const char* op = pointwise_name(args.kind);
  check_pointwise(input, target, args, op);
  Tensor x = input.contiguous(), y = target.contiguous();
  Tensor w = broadcast_to_input(weight, input, op, "weight");
  Tensor pw = broadcast_to_input(pos_weight, input, op, "pos_weight");
  Tensor per = Tensor::empty({x.numel()}, x.dtype(), x.device());
  return dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if (args.kind == PointwiseLoss::BCE && x.device().is_cpu()) {  // log(x), log(1 - x) need probabilities; a
      // GPU check would be a host round trip (out-of-range inputs give NaN there)
      const T* xd = x.data<T>();
      for (int64_t i = 0; i < x.numel(); ++i)
        PYCNN_CHECK(xd[i] >= 0 && xd[i] <= 1, "[", op, "] all elements of input should be between 0 and 1, got ", xd[i],
                    " at position ", i);
    }
    PYCNN_DISPATCH(x.device(), pointwise_loss_forward<T>, args, x.data<T>(), y.data<T>(),
                   w.defined() ? w.data<T>() : nullptr, pw.defined() ? pw.data<T>() : nullptr, per.data<T>(),
                   x.numel());
    return reduce_elems<T>(per, x.shape(), args.reduction, Tensor(), pointwise_denominator(x, args));
  });
}

std::tuple<Tensor, Tensor> pointwise_loss_backward(const Tensor& dout, const Tensor& input, const Tensor& target,
                                                   const Tensor& weight, const Tensor& pos_weight,
                                                   const PointwiseLossArgs& args, bool need_dinput, bool need_dtarget) {
  const char* op = pointwise_name(args.kind);
  check_pointwise(input, target, args, op);
  check_dout(dout, input, input.shape(), args.reduction, op);
  Tensor x = input.contiguous(), y = target.contiguous(), dc = dout.contiguous();
  Tensor w = broadcast_to_input(weight, input, op, "weight");
  Tensor pw = broadcast_to_input(pos_weight, input, op, "pos_weight");
  Tensor dx = need_dinput ? Tensor::empty(x.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dy = need_dtarget ? Tensor::empty(x.shape(), x.dtype(), x.device()) : Tensor();
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T scale = args.reduction == Reduction::Mean ? static_cast<T>(1.0 / pointwise_denominator(x, args)) : T(1);
    PYCNN_DISPATCH(x.device(), pointwise_loss_backward<T>, args, dc.data<T>(),
                   args.reduction == Reduction::None ? 1 : 0, scale, x.data<T>(), y.data<T>(),
                   w.defined() ? w.data<T>() : nullptr, pw.defined() ? pw.data<T>() : nullptr,
                   dx.defined() ? dx.data<T>() : nullptr, dy.defined() ? dy.data<T>() : nullptr, x.numel());
  });
  return {dx, dy};
}

// ---- multi-class hinge ----
static Tensor check_multi_margin(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t p,
                                 const char* op) {
  check_floating(input, op, "input");
  check_defined(target, op, "target");
  PYCNN_CHECK_RUNTIME(target.device() == input.device(), "[", op, "] input is on ", input.device().str(),
                      " but target is on ", target.device().str());
  PYCNN_CHECK(p == 1 || p == 2, "[", op, "] only p == 1 and p == 2 are supported, got ", p);
  check_rank(input, 2, op, "input", "(N, C)");
  PYCNN_CHECK_TYPE(target.dtype() == DType::Int64, "[", op, "] expected target to hold int64 class indices, got ",
                   dtype_name(target.dtype()));
  PYCNN_CHECK(target.dim() == 1 && target.size(0) == input.size(0), "[", op, "] expected target of shape (",
              input.size(0), ",) for input ", shape_str(input.shape()), ", got ", shape_str(target.shape()));
  PYCNN_CHECK(input.size(1) > 0, "[", op, "] input has no classes: ", shape_str(input.shape()));
  if (weight.defined()) {
    check_same(input, weight, op, "input", "weight");
    PYCNN_CHECK(weight.dim() == 1 && weight.size(0) == input.size(1), "[", op, "] expected weight of shape (",
                input.size(1), ",), got ", shape_str(weight.shape()));
  }
  return checked_indices(target, input.size(1), INT64_MIN, op);
}

Tensor multi_margin_loss_forward(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t p,
                                 double margin, Reduction reduction) {
  Tensor tc = check_multi_margin(input, target, weight, p, "multi_margin_loss");
  const int64_t N = input.size(0), C = input.size(1);
  Tensor x = input.contiguous(), wc = weight.defined() ? weight.contiguous() : Tensor();
  Tensor per = Tensor::empty({N}, x.dtype(), x.device());
  return dispatch_floating(x.dtype(), "multi_margin_loss", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), multi_margin_forward<T>, x.data<T>(), tc.data<int64_t>(),
                   wc.defined() ? wc.data<T>() : nullptr, per.data<T>(), N, C, p, margin);
    return reduce_elems<T>(per, {N}, reduction, Tensor(), static_cast<double>(N));
  });
}

Tensor multi_margin_loss_backward(const Tensor& dout, const Tensor& input, const Tensor& target, const Tensor& weight,
                                  int64_t p, double margin, Reduction reduction) {
  Tensor tc = check_multi_margin(input, target, weight, p, "multi_margin_loss_backward");
  const int64_t N = input.size(0), C = input.size(1);
  check_dout(dout, input, {N}, reduction, "multi_margin_loss_backward");
  Tensor x = input.contiguous(), dc = dout.contiguous(), wc = weight.defined() ? weight.contiguous() : Tensor();
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_floating(x.dtype(), "multi_margin_loss_backward", [&](auto tag) {
    using T = decltype(tag);
    const T scale = reduction == Reduction::Mean ? static_cast<T>(1.0 / static_cast<double>(N)) : T(1);
    PYCNN_DISPATCH(x.device(), multi_margin_backward<T>, dc.data<T>(), reduction == Reduction::None ? 1 : 0, scale,
                   x.data<T>(), tc.data<int64_t>(), wc.defined() ? wc.data<T>() : nullptr, dx.data<T>(), N, C, p,
                   margin);
  });
  return dx;
}

}  // namespace pycnn
