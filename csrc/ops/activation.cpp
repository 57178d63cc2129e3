// The nonlinearities: ReLU, softmax and log_softmax, the elementwise unary family (sigmoid, gelu, exp, pow,
// clamp, ...), PReLU and Maxout. ReLU's backward uses the output's sign (y > 0), so x need not be kept; the
// unary family uses x or y as unary_grad_uses_output says.
#include <algorithm>  // defines: std::max
#include <cmath>      // defines: std::isfinite, std::isnan
#include <string>

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH
#include "pycnn/ops/ops.h"

namespace pycnn {

Tensor relu_forward(const Tensor& x) {
  check_floating(x, "relu", "input");
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_floating(x.dtype(), "relu", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), relu_forward<T>, xc.data<T>(), y.data<T>(), x.numel());
  });
  return y;
}

Tensor relu_backward(const Tensor& dout, const Tensor& y) {
  check_floating(dout, "relu_backward", "grad_output");
  check_same(dout, y, "relu_backward", "grad_output", "output");
  PYCNN_CHECK(dout.shape() == y.shape(), "[relu_backward] grad_output ", shape_str(dout.shape()),
              " does not match output ", shape_str(y.shape()));
  Tensor dc = dout.contiguous(), yc = y.contiguous();
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
  dispatch_floating(y.dtype(), "relu_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(y.device(), relu_backward<T>, dc.data<T>(), yc.data<T>(), dx.data<T>(), y.numel());
  });
  return dx;
}

// ---- softmax and log_softmax over any dim: x viewed as contiguous (A, R, B), the softmax runs over R ----

// Splits shape around dim into (A, R, B) for a contiguous tensor.
static void split_at(const Shape& shape, int64_t dim, int64_t& A, int64_t& R, int64_t& B) {
  A = 1, R = shape.empty() ? 1 : shape[dim], B = 1;
  for (int64_t i = 0; i < dim; ++i) A *= shape[i];
  for (int64_t i = dim + 1; i < static_cast<int64_t>(shape.size()); ++i) B *= shape[i];
}

// softmax and log_softmax share their checks and the (A, R, B) split; `log` picks the form.
static Tensor softmax_any_forward(const Tensor& x, int64_t dim, bool log, const char* op) {
  check_floating(x, op, "input");
  dim = wrap_dim(dim, x.dim(), op);
  int64_t A, R, B;
  split_at(x.shape(), dim, A, R, B);
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), softmax_forward<T>, xc.data<T>(), y.data<T>(), A, R, B, log);
  });
  return y;
}

static Tensor softmax_any_backward(const Tensor& dout, const Tensor& y, int64_t dim, bool log, const char* op) {
  check_floating(dout, op, "grad_output");
  check_same(dout, y, op, "grad_output", "output");
  PYCNN_CHECK(dout.shape() == y.shape(), "[", op, "] grad_output ", shape_str(dout.shape()), " does not match output ",
              shape_str(y.shape()));
  dim = wrap_dim(dim, y.dim(), op);
  int64_t A, R, B;
  split_at(y.shape(), dim, A, R, B);
  Tensor dc = dout.contiguous(), yc = y.contiguous();
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
  dispatch_floating(y.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(y.device(), softmax_backward<T>, dc.data<T>(), yc.data<T>(), dx.data<T>(), A, R, B, log);
  });
  return dx;
}

Tensor log_softmax_forward(const Tensor& x, int64_t dim) { return softmax_any_forward(x, dim, true, "log_softmax"); }
Tensor log_softmax_backward(const Tensor& dout, const Tensor& y, int64_t dim) {
  return softmax_any_backward(dout, y, dim, true, "log_softmax_backward");
}
Tensor softmax_forward(const Tensor& x, int64_t dim) { return softmax_any_forward(x, dim, false, "softmax"); }
Tensor softmax_backward(const Tensor& dout, const Tensor& y, int64_t dim) {
  return softmax_any_backward(dout, y, dim, false, "softmax_backward");
}

}  // namespace pycnn

// ---- the elementwise unary family, PReLU and Maxout (kernels in cpu/activation.cpp) ----
namespace pycnn {

namespace {

void check_unary_args(UnaryOp op, double alpha, double beta, const char* name) {
  if (op == UnaryOp::Softplus)
    PYCNN_CHECK(alpha != 0 && std::isfinite(alpha), "[", name, "] beta must be a finite nonzero number, got ", alpha);
  if (op == UnaryOp::Clamp)
    PYCNN_CHECK(!std::isnan(alpha) && !std::isnan(beta), "[", name, "] min and max must not be NaN");
}

}  // namespace

Tensor unary_forward(UnaryOp op, const Tensor& x, double alpha, double beta) {
  const char* name = enum_name(op);
  check_floating(x, name, "input");
  check_unary_args(op, alpha, beta, name);
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_floating(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), unary_forward<T>, op, xc.data<T>(), y.data<T>(), x.numel(), alpha, beta);
  });
  return y;
}

Tensor unary_backward(UnaryOp op, const Tensor& dout, const Tensor& x, const Tensor& y, double alpha, double beta) {
  const std::string name = std::string(enum_name(op)) + "_backward";
  const bool from_y = unary_grad_uses_output(op);
  const Tensor& v = from_y ? y : x;
  const char* v_name = from_y ? "output" : "input";
  check_floating(dout, name.c_str(), "grad_output");
  check_defined(v, name.c_str(), v_name);
  check_same(dout, v, name.c_str(), "grad_output", v_name);
  PYCNN_CHECK(dout.shape() == v.shape(), "[", name, "] grad_output ", shape_str(dout.shape()), " does not match ",
              v_name, " ", shape_str(v.shape()));
  check_unary_args(op, alpha, beta, name.c_str());
  Tensor dc = dout.contiguous(), vc = v.contiguous();
  Tensor dx = Tensor::empty(v.shape(), v.dtype(), v.device());
  dispatch_floating(v.dtype(), name.c_str(), [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(v.device(), unary_backward<T>, op, dc.data<T>(), vc.data<T>(), dx.data<T>(), v.numel(), alpha, beta);
  });
  return dx;
}

// PReLU's layout: (outer, C, inner) with C the weight's length along dim 1; a single weight covers everything.
static void prelu_layout(const Tensor& x, const Tensor& weight, const char* op, int64_t& outer, int64_t& C,
                         int64_t& inner) {
  check_floating(x, op, "input");
  check_same(x, weight, op, "input", "weight");
  PYCNN_CHECK(weight.dim() == 1 && weight.numel() >= 1, "[", op, "] expected weight of shape (num_parameters,), got ",
              shape_str(weight.shape()));
  C = weight.numel();
  if (C == 1) {
    outer = 1;
    inner = x.numel();
    return;
  }
  PYCNN_CHECK(x.dim() >= 2 && x.size(1) == C, "[", op, "] weight ", shape_str(weight.shape()), " needs input with ", C,
              " channels in dim 1, got input ", shape_str(x.shape()));
  outer = x.size(0);
  inner = x.numel() / std::max<int64_t>(outer * C, 1);
}

Tensor prelu_forward(const Tensor& x, const Tensor& weight) {
  int64_t outer, C, inner;
  prelu_layout(x, weight, "prelu", outer, C, inner);
  Tensor xc = x.contiguous(), wc = weight.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_floating(x.dtype(), "prelu", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), prelu_forward<T>, xc.data<T>(), wc.data<T>(), y.data<T>(), outer, C, inner);
  });
  return y;
}

std::tuple<Tensor, Tensor> prelu_backward(const Tensor& dout, const Tensor& x, const Tensor& weight, bool need_dx,
                                          bool need_dweight) {
  int64_t outer, C, inner;
  prelu_layout(x, weight, "prelu_backward", outer, C, inner);
  check_same(x, dout, "prelu_backward", "input", "grad_output");
  PYCNN_CHECK(dout.shape() == x.shape(), "[prelu_backward] grad_output ", shape_str(dout.shape()),
              " does not match input ", shape_str(x.shape()));
  Tensor dc = dout.contiguous(), xc = x.contiguous(), wc = weight.contiguous();
  Tensor dx = need_dx ? Tensor::empty(x.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dw = need_dweight ? Tensor::empty(weight.shape(), weight.dtype(), weight.device()) : Tensor();
  dispatch_floating(x.dtype(), "prelu_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), prelu_backward<T>, dc.data<T>(), xc.data<T>(), wc.data<T>(),
                   need_dx ? dx.data<T>() : nullptr, need_dweight ? dw.data<T>() : nullptr, outer, C, inner);
  });
  return {dx, dw};
}

std::tuple<Tensor, Tensor> maxout_forward(const Tensor& x, int64_t pieces) {
  check_floating(x, "maxout", "input");
  PYCNN_CHECK(pieces >= 1, "[maxout] pieces must be positive, got ", pieces);
  PYCNN_CHECK(x.dim() >= 2 && x.size(1) % pieces == 0, "[maxout] expected input of shape (N, C*", pieces,
              ", *) with dim 1 divisible by pieces=", pieces, ", got ", shape_str(x.shape()));
  Shape out_shape = x.shape();
  out_shape[1] /= pieces;
  const int64_t N = x.size(0), C = out_shape[1];
  const int64_t inner = x.numel() / std::max<int64_t>(N * x.size(1), 1);
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  Tensor indices = Tensor::empty(out_shape, DType::Int64, x.device());
  dispatch_floating(x.dtype(), "maxout", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), maxout_forward<T>, xc.data<T>(), y.data<T>(), indices.data<int64_t>(), N, C, pieces,
                   inner);
  });
  return {y, indices};
}

Tensor maxout_backward(const Tensor& dout, const Tensor& indices, int64_t pieces) {
  check_floating(dout, "maxout_backward", "grad_output");
  PYCNN_CHECK_TYPE(indices.dtype() == DType::Int64, "[maxout_backward] indices must be int64");
  PYCNN_CHECK(pieces >= 1, "[maxout_backward] pieces must be positive, got ", pieces);
  PYCNN_CHECK_RUNTIME(indices.device() == dout.device(), "[maxout_backward] grad_output is on ", dout.device().str(),
                      " but indices are on ", indices.device().str());
  PYCNN_CHECK(dout.dim() >= 2 && dout.shape() == indices.shape(), "[maxout_backward] grad_output ",
              shape_str(dout.shape()), " and indices ", shape_str(indices.shape()), " do not match");
  Tensor dc = dout.contiguous(), ic = indices.contiguous();
  // An index outside [0, pieces) could come from no forward; it would leave its gradient unwritten. On a GPU
  // the check would cost a copy to the host: the CUDA kernel writes zeros for such an index instead.
  if (ic.device().is_cpu()) {
    const int64_t* ip = ic.data<int64_t>();
    const int64_t n = ic.numel();
    bool in_range = true;
    for (int64_t i = 0; i < n; ++i) in_range &= ip[i] >= 0 && ip[i] < pieces;
    for (int64_t i = 0; !in_range && i < n; ++i)
      PYCNN_CHECK(ip[i] >= 0 && ip[i] < pieces, "[maxout_backward] index ", ip[i], " at position ", i,
                  " is out of range for pieces=", pieces);
  }
  Shape x_shape = dout.shape();
  x_shape[1] *= pieces;
  const int64_t N = dout.size(0), C = dout.size(1);
  const int64_t inner = dout.numel() / std::max<int64_t>(N * C, 1);
  Tensor dx = Tensor::empty(x_shape, dout.dtype(), dout.device());
  dispatch_floating(dout.dtype(), "maxout_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dout.device(), maxout_backward<T>, dc.data<T>(), ic.data<int64_t>(), dx.data<T>(), N, C, pieces,
                   inner);
  });
  return dx;
}

}  // namespace pycnn
