// Linear layer: y = x @ w^T + b, x (N, in), w (out, in), b (out,). Backward: dx = dout @ w,
// dw = dout^T @ x, db = column sums of dout. All three are GEMM calls (or a reduction).
#include "ops/checks.h"
#include "ops/ops.h"

namespace pycnn {

static void check_linear(const Tensor& x, const Tensor& w, const char* op) {
  check_floating(x, op, "input");
  check_same(x, w, op, "input", "weight");
  check_rank(x, 2, op, "input", "(N, in_features)");
  check_rank(w, 2, op, "weight", "(out_features, in_features)");
  PYCNN_CHECK(x.size(1) == w.size(1), "[", op, "] input ", shape_str(x.shape()), " has ", x.size(1),
              " features but weight ", shape_str(w.shape()), " expects ", w.size(1));
}

Tensor linear_forward(const Tensor& x, const Tensor& w, const Tensor& b) {
  check_linear(x, w, "linear");
  Tensor y = Tensor::empty({x.size(0), w.size(0)}, x.dtype(), x.device());
  if (b.defined()) {
    check_same(x, b, "linear", "input", "bias");
    PYCNN_CHECK(b.dim() == 1 && b.size(0) == w.size(0), "[linear] expected bias of shape (", w.size(0), ",), got ",
                shape_str(b.shape()));
    copy_(y, b.expand(y.shape()));  // y = b, then y += x @ w^T
    gemm(false, true, 1.0, x, w, 1.0, y);
  } else {
    gemm(false, true, 1.0, x, w, 0.0, y);
  }
  return y;
}

std::tuple<Tensor, Tensor, Tensor> linear_backward(const Tensor& dout, const Tensor& x, const Tensor& w, bool need_dx,
                                                   bool has_bias) {
  check_linear(x, w, "linear_backward");
  check_same(dout, x, "linear_backward", "grad_output", "input");
  PYCNN_CHECK(dout.dim() == 2 && dout.size(0) == x.size(0) && dout.size(1) == w.size(0),
              "[linear_backward] grad_output ", shape_str(dout.shape()), " does not match (", x.size(0), ", ",
              w.size(0), ")");
  Tensor dx, db;
  if (need_dx) {
    dx = Tensor::empty(x.shape(), x.dtype(), x.device());
    gemm(false, false, 1.0, dout, w, 0.0, dx);
  }
  Tensor dw = Tensor::empty(w.shape(), w.dtype(), w.device());
  gemm(true, false, 1.0, dout, x, 0.0, dw);
  if (has_bias) db = sum(dout, {0}, false);
  return {dx, dw, db};
}

}  // namespace pycnn
