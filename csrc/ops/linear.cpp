// Linear layer: y = x @ w^T + b, x (N, in), w (out, in), b (out,). Forward is one GEMM with the bias in its
// epilogue; backward: dx = dout @ w and dw = dout^T @ x (GEMMs), db = column sums of dout.
#include <algorithm>  // defines: std::max

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH
#include "pycnn/ops/ops.h"

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
  const int64_t N = x.size(0), in = x.size(1), out = w.size(0);
  Tensor bc;
  if (b.defined()) {
    check_same(x, b, "linear", "input", "bias");
    PYCNN_CHECK(b.dim() == 1 && b.size(0) == out, "[linear] expected bias of shape (", out, ",), got ",
                shape_str(b.shape()));
    bc = b.contiguous();
  }
  // Contiguous operands (a no-op for the usual ones): the kernel takes row-major matrices.
  const Tensor xc = x.contiguous(), wc = w.contiguous();
  Tensor y = Tensor::empty({N, out}, x.dtype(), x.device());
  dispatch_floating(x.dtype(), "linear", [&](auto tag) {
    using T = decltype(tag);
    const int64_t ld = std::max<int64_t>(in, 1), ldy = std::max<int64_t>(out, 1);
    PYCNN_DISPATCH(x.device(), gemm_bias<T>, false, true, N, out, in, T(1), xc.data<T>(), ld, wc.data<T>(), ld, T(0),
                   y.data<T>(), ldy, bc.defined() ? bc.data<T>() : nullptr, false, false);
  });
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
  if (has_bias) {
    const Tensor dc = dout.contiguous();
    db = Tensor::empty({w.size(0)}, w.dtype(), w.device());
    dispatch_floating(dout.dtype(), "linear_backward", [&](auto tag) {
      using T = decltype(tag);
      PYCNN_DISPATCH(dout.device(), sum_rows<T>, dc.data<T>(), db.data<T>(), dc.size(0), dc.size(1));
    });
  }
  return {dx, dw, db};
}

}  // namespace pycnn
