// Normalisation ops: batch norm, group norm (instance norm is groups == C), layer norm, local response
// norm, and the Lp-sum / clamp helpers behind nn.utils. Each entry point validates with "[op]" messages,
// brings its inputs to the contiguous (N, C, S) or (rows, D) form, allocates and dispatches once.
#include <cmath>

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH
#include "pycnn/ops/ops.h"

namespace pycnn {

namespace {

// Checks an optional per-channel (or per-element) parameter and returns it contiguous (or undefined).
Tensor optional_param(const Tensor& t, const Tensor& x, const Shape& shape, const char* op, const char* name) {
  if (!t.defined()) return t;
  check_same(x, t, op, "input", name);
  PYCNN_CHECK(t.shape() == shape, "[", op, "] expected ", name, " of shape ", shape_str(shape), ", got ",
              shape_str(t.shape()));
  return t.contiguous();
}

template <typename T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

template <typename T>
T* mut_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

int64_t trailing(const Tensor& x, int64_t from) {
  int64_t s = 1;
  for (int64_t d = from; d < x.dim(); ++d) s *= x.size(d);
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------- batch norm

std::tuple<Tensor, Tensor, Tensor> batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                                      Tensor& running_mean, Tensor& running_var, bool training,
                                                      double momentum, double eps) {
  const char* op = "batch_norm";
  check_floating(x, op, "input");
  PYCNN_CHECK(x.dim() >= 2, "[batch_norm] expected input of shape (N, C, *), got ", shape_str(x.shape()));
  PYCNN_CHECK(eps >= 0, "[batch_norm] eps must be non-negative, got ", eps);
  const int64_t N = x.size(0), C = x.size(1), S = trailing(x, 2);
  const Shape cshape{C};
  Tensor w = optional_param(weight, x, cshape, op, "weight");
  Tensor b = optional_param(bias, x, cshape, op, "bias");
  PYCNN_CHECK(running_mean.defined() == running_var.defined(),
              "[batch_norm] running_mean and running_var must both be given or both be None");
  const bool has_running = running_mean.defined();
  if (has_running) {
    for (const Tensor* t : {&running_mean, &running_var}) {
      const char* name = t == &running_mean ? "running_mean" : "running_var";
      check_same(x, *t, op, "input", name);
      PYCNN_CHECK(t->shape() == cshape, "[batch_norm] expected ", name, " of shape ", shape_str(cshape), ", got ",
                  shape_str(t->shape()));
      PYCNN_CHECK(t->is_contiguous(), "[batch_norm] ", name, " must be contiguous (it is updated in place)");
    }
  }
  PYCNN_CHECK(training || has_running, "[batch_norm] eval mode needs running_mean and running_var");
  PYCNN_CHECK(!training || N * S > 1,
              "[batch_norm] expected more than 1 value per channel when training, got "
              "input of shape ",
              shape_str(x.shape()));
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty(cshape, x.dtype(), x.device());
  Tensor invstd = Tensor::empty(cshape, x.dtype(), x.device());
  if (training && has_running) {  // the running statistics are updated in place
    running_mean.bump_version();
    running_var.bump_version();
  }
  if (x.numel() == 0) return {y, mean, invstd};
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), batch_norm_forward<T>, xc.data<T>(), ptr_or_null<T>(w), ptr_or_null<T>(b), y.data<T>(),
                   mean.data<T>(), invstd.data<T>(), mut_or_null<T>(running_mean), mut_or_null<T>(running_var), N, C, S,
                   training, momentum, eps);
  });
  return {y, mean, invstd};
}

std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& dout, const Tensor& x, const Tensor& weight,
                                                       const Tensor& save_mean, const Tensor& save_invstd,
                                                       bool training, bool need_dx, bool need_dw, bool need_db) {
  const char* op = "batch_norm_backward";
  check_floating(x, op, "input");
  check_same(x, dout, op, "input", "grad_output");
  PYCNN_CHECK(dout.shape() == x.shape(), "[batch_norm_backward] grad_output ", shape_str(dout.shape()),
              " does not match input ", shape_str(x.shape()));
  PYCNN_CHECK(x.dim() >= 2, "[batch_norm_backward] expected input of shape (N, C, *), got ", shape_str(x.shape()));
  const int64_t N = x.size(0), C = x.size(1), S = trailing(x, 2);
  const Shape cshape{C};
  Tensor w = optional_param(weight, x, cshape, op, "weight");
  Tensor mean = optional_param(save_mean, x, cshape, op, "save_mean");
  Tensor invstd = optional_param(save_invstd, x, cshape, op, "save_invstd");
  check_defined(mean, op, "save_mean");
  check_defined(invstd, op, "save_invstd");
  Tensor xc = x.contiguous(), gc = dout.contiguous();
  Tensor dx = need_dx ? Tensor::empty(x.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dw = need_dw ? Tensor::empty(cshape, x.dtype(), x.device()) : Tensor();
  Tensor db = need_db ? Tensor::empty(cshape, x.dtype(), x.device()) : Tensor();
  if (x.numel() == 0) {
    if (dw.defined()) dw = Tensor::zeros(cshape, x.dtype(), x.device());
    if (db.defined()) db = Tensor::zeros(cshape, x.dtype(), x.device());
    return {dx, dw, db};
  }
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), batch_norm_backward<T>, gc.data<T>(), xc.data<T>(), ptr_or_null<T>(w), mean.data<T>(),
                   invstd.data<T>(), mut_or_null<T>(dx), mut_or_null<T>(dw), mut_or_null<T>(db), N, C, S, training);
  });
  return {dx, dw, db};
}

// ------------------------------------------------------------------------------- group / layer norm

namespace {

// The shared rows kernel: R rows of G groups, Cg affine channels of S elements each.
struct RowsForm {
  int64_t R, G, Cg, S;
};

std::tuple<Tensor, Tensor, Tensor> rows_forward(const char* op, const Tensor& x, const RowsForm& f, const Tensor& w,
                                                const Tensor& b, const Shape& stat_shape, double eps) {
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty(stat_shape, x.dtype(), x.device());
  Tensor invstd = Tensor::empty(stat_shape, x.dtype(), x.device());
  if (x.numel() == 0) return {y, mean, invstd};
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), rownorm_forward<T>, xc.data<T>(), ptr_or_null<T>(w), ptr_or_null<T>(b), y.data<T>(),
                   mean.data<T>(), invstd.data<T>(), f.R, f.G, f.Cg, f.S, eps);
  });
  return {y, mean, invstd};
}

std::tuple<Tensor, Tensor, Tensor> rows_backward(const char* op, const Tensor& dout, const Tensor& x, const RowsForm& f,
                                                 const Tensor& w, const Shape& param_shape, const Tensor& mean,
                                                 const Tensor& invstd, bool need_dx, bool need_dw, bool need_db) {
  check_same(x, dout, op, "input", "grad_output");
  PYCNN_CHECK(dout.shape() == x.shape(), "[", op, "] grad_output ", shape_str(dout.shape()), " does not match input ",
              shape_str(x.shape()));
  check_defined(mean, op, "mean");
  check_defined(invstd, op, "invstd");
  check_same(x, mean, op, "input", "mean");
  check_same(x, invstd, op, "input", "invstd");
  PYCNN_CHECK(mean.numel() == f.R && invstd.numel() == f.R, "[", op, "] expected mean and invstd with ", f.R,
              " elements, got ", shape_str(mean.shape()), " and ", shape_str(invstd.shape()));
  Tensor xc = x.contiguous(), gc = dout.contiguous(), mc = mean.contiguous(), ic = invstd.contiguous();
  Tensor dx = need_dx ? Tensor::empty(x.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dw = need_dw ? Tensor::zeros(param_shape, x.dtype(), x.device()) : Tensor();
  Tensor db = need_db ? Tensor::zeros(param_shape, x.dtype(), x.device()) : Tensor();
  if (x.numel() == 0) return {dx, dw, db};
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), rownorm_backward<T>, gc.data<T>(), xc.data<T>(), ptr_or_null<T>(w), mc.data<T>(),
                   ic.data<T>(), mut_or_null<T>(dx), mut_or_null<T>(dw), mut_or_null<T>(db), f.R, f.G, f.Cg, f.S);
  });
  return {dx, dw, db};
}

RowsForm group_form(const Tensor& x, int64_t groups, const char* op) {
  PYCNN_CHECK(x.dim() >= 2, "[", op, "] expected input of shape (N, C, *), got ", shape_str(x.shape()));
  const int64_t N = x.size(0), C = x.size(1);
  PYCNN_CHECK(groups > 0 && C % groups == 0, "[", op, "] expected the number of channels (", C,
              ") to be divisible by num_groups (", groups, ")");
  return RowsForm{N * groups, groups, C / groups, trailing(x, 2)};
}

RowsForm layer_form(const Tensor& x, int64_t nd, const char* op, Shape& param_shape, Shape& stat_shape) {
  PYCNN_CHECK(nd >= 1 && nd <= x.dim(), "[", op, "] normalized_shape has ", nd, " dims but the input has shape ",
              shape_str(x.shape()));
  param_shape.assign(x.shape().end() - nd, x.shape().end());
  stat_shape.assign(x.shape().begin(), x.shape().end() - nd);
  const int64_t D = shape_numel(param_shape);
  return RowsForm{shape_numel(stat_shape), 1, D, 1};
}

}  // namespace

std::tuple<Tensor, Tensor, Tensor> group_norm_forward(const Tensor& x, int64_t groups, const Tensor& weight,
                                                      const Tensor& bias, double eps) {
  const char* op = "group_norm";
  check_floating(x, op, "input");
  RowsForm f = group_form(x, groups, op);
  const Shape cshape{x.size(1)};
  Tensor w = optional_param(weight, x, cshape, op, "weight");
  Tensor b = optional_param(bias, x, cshape, op, "bias");
  return rows_forward(op, x, f, w, b, Shape{x.size(0), groups}, eps);
}

std::tuple<Tensor, Tensor, Tensor> group_norm_backward(const Tensor& dout, const Tensor& x, int64_t groups,
                                                       const Tensor& weight, const Tensor& mean, const Tensor& invstd,
                                                       bool need_dx, bool need_dw, bool need_db) {
  const char* op = "group_norm_backward";
  check_floating(x, op, "input");
  RowsForm f = group_form(x, groups, op);
  const Shape cshape{x.size(1)};
  Tensor w = optional_param(weight, x, cshape, op, "weight");
  return rows_backward(op, dout, x, f, w, cshape, mean, invstd, need_dx, need_dw, need_db);
}

std::tuple<Tensor, Tensor, Tensor> layer_norm_forward(const Tensor& x, int64_t normalized_ndim, const Tensor& weight,
                                                      const Tensor& bias, double eps) {
  const char* op = "layer_norm";
  check_floating(x, op, "input");
  Shape pshape, sshape;
  RowsForm f = layer_form(x, normalized_ndim, op, pshape, sshape);
  Tensor w = optional_param(weight, x, pshape, op, "weight");
  Tensor b = optional_param(bias, x, pshape, op, "bias");
  if (!w.defined() && b.defined()) w = Tensor::full(pshape, 1.0, x.dtype(), x.device());
  return rows_forward(op, x, f, w, b, sshape, eps);
}

std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& dout, const Tensor& x, int64_t normalized_ndim,
                                                       const Tensor& weight, const Tensor& mean, const Tensor& invstd,
                                                       bool need_dx, bool need_dw, bool need_db) {
  const char* op = "layer_norm_backward";
  check_floating(x, op, "input");
  Shape pshape, sshape;
  RowsForm f = layer_form(x, normalized_ndim, op, pshape, sshape);
  Tensor w = optional_param(weight, x, pshape, op, "weight");
  return rows_backward(op, dout, x, f, w, pshape, mean, invstd, need_dx, need_dw, need_db);
}

// ------------------------------------------------------------------------------- local response norm

namespace {
void check_lrn(const Tensor& x, int64_t size, const char* op) {
  check_floating(x, op, "input");
  PYCNN_CHECK(x.dim() >= 3, "[", op, "] expected input of shape (N, C, *) with at least 3 dims, got ",
              shape_str(x.shape()));
  PYCNN_CHECK(size > 0, "[", op, "] size must be positive, got ", size);
}
}  // namespace

Tensor local_response_norm_forward(const Tensor& x, int64_t size, double alpha, double beta, double k) {
  check_lrn(x, size, "local_response_norm");
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.numel() == 0) return y;
  dispatch_floating(x.dtype(), "local_response_norm", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), lrn_forward<T>, xc.data<T>(), y.data<T>(), x.size(0), x.size(1), trailing(x, 2), size,
                   alpha, beta, k);
  });
  return y;
}

Tensor local_response_norm_backward(const Tensor& dout, const Tensor& x, int64_t size, double alpha, double beta,
                                    double k) {
  const char* op = "local_response_norm_backward";
  check_lrn(x, size, op);
  check_same(x, dout, op, "input", "grad_output");
  PYCNN_CHECK(dout.shape() == x.shape(), "[", op, "] grad_output ", shape_str(dout.shape()), " does not match input ",
              shape_str(x.shape()));
  Tensor xc = x.contiguous(), gc = dout.contiguous();
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.numel() == 0) return dx;
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), lrn_backward<T>, gc.data<T>(), xc.data<T>(), dx.data<T>(), x.size(0), x.size(1),
                   trailing(x, 2), size, alpha, beta, k);
  });
  return dx;
}

// ------------------------------------------------------------------------------------ nn.utils helpers

Tensor lp_sum_tensor(const Tensor& x, double p) {
  check_floating(x, "lp_sum", "input");
  PYCNN_CHECK(p > 0, "[lp_sum] norm_type must be positive, got ", p);
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(Shape{}, DType::Float64, x.device());
  dispatch_floating(x.dtype(), "lp_sum", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), lp_sum_into<T>, xc.data<T>(), x.numel(), p, out.data<double>());
  });
  return out;
}

// The host value: on a GPU this is the one device-to-host copy of the result.
double lp_sum(const Tensor& x, double p) { return lp_sum_tensor(x, p).item(); }

Tensor lp_sum_backward(const Tensor& dout, const Tensor& x, double p) {
  const char* op = "lp_sum_backward";
  check_floating(x, op, "input");
  check_same(x, dout, op, "input", "grad_output");
  PYCNN_CHECK(dout.numel() == 1, "[lp_sum_backward] expected a one-element grad_output, got ", shape_str(dout.shape()));
  PYCNN_CHECK(p >= 1 && std::isfinite(p), "[lp_sum_backward] needs a finite norm_type >= 1, got ", p);
  Tensor xc = x.contiguous();
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor gc = dout.contiguous();
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), lp_sum_backward<T>, gc.data<T>(), xc.data<T>(), dx.data<T>(), x.numel(), p);
  });
  return dx;
}

void clamp_(Tensor& x, double min, double max) {
  check_floating(x, "clamp_", "input");
  PYCNN_CHECK(x.is_contiguous(), "[clamp_] needs a contiguous tensor (it works in place), got strides ",
              shape_str(x.strides()));
  PYCNN_CHECK(min <= max, "[clamp_] min (", min, ") must not exceed max (", max, ")");
  x.bump_version();
  dispatch_floating(x.dtype(), "clamp_", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), clamp_inplace<T>, x.data<T>(), x.numel(), static_cast<T>(min), static_cast<T>(max));
  });
}

}  // namespace pycnn
