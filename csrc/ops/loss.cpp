// log-softmax over any dim, and cross-entropy over class indices with its fused backward:
// d loss / d logits = (softmax - onehot(target)) * dout (/ N for the mean), computed from the saved
// log-probabilities, so the backward is a single pass with no softmax recomputation.
#include <cmath>

#include "ops/checks.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/ops.h"

namespace pycnn {

// Splits shape around dim into (A, R, B) for a contiguous tensor.
static void split_at(const Shape& shape, int64_t dim, int64_t& A, int64_t& R, int64_t& B) {
  A = 1, R = shape.empty() ? 1 : shape[dim], B = 1;
  for (int64_t i = 0; i < dim; ++i) A *= shape[i];
  for (int64_t i = dim + 1; i < static_cast<int64_t>(shape.size()); ++i) B *= shape[i];
}

// softmax and log_softmax share their checks and the (A, R, B) split; `log` picks the form.
static Tensor softmax_any_forward(const Tensor& x, int64_t dim, bool log, const char* op) {
  check_floating(x, op, "input");
  check_cpu(x, op);
  dim = wrap_dim(dim, x.dim(), op);
  int64_t A, R, B;
  split_at(x.shape(), dim, A, R, B);
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    cpu::softmax_forward<T>(xc.data<T>(), y.data<T>(), A, R, B, log);
  });
  return y;
}

static Tensor softmax_any_backward(const Tensor& dout, const Tensor& y, int64_t dim, bool log, const char* op) {
  check_floating(dout, op, "grad_output");
  check_same(dout, y, op, "grad_output", "output");
  PYCNN_CHECK(dout.shape() == y.shape(), "[", op, "] grad_output ", shape_str(dout.shape()), " does not match output ",
              shape_str(y.shape()));
  check_cpu(y, op);
  dim = wrap_dim(dim, y.dim(), op);
  int64_t A, R, B;
  split_at(y.shape(), dim, A, R, B);
  Tensor dc = dout.contiguous(), yc = y.contiguous();
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
  dispatch_floating(y.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    cpu::softmax_backward<T>(dc.data<T>(), yc.data<T>(), dx.data<T>(), A, R, B, log);
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

static void check_targets(const Tensor& logits, const Tensor& target, const char* op) {
  check_floating(logits, op, "input");
  check_defined(target, op, "target");
  PYCNN_CHECK(logits.dim() == 2, "[", op, "] expected input of shape (N, C), got ", shape_str(logits.shape()));
  PYCNN_CHECK_TYPE(target.dtype() == DType::Int64, "[", op, "] expected target to hold int64 class indices, got ",
                   dtype_name(target.dtype()));
  PYCNN_CHECK(target.dim() == 1 && target.size(0) == logits.size(0), "[", op, "] expected target of shape (",
              logits.size(0), ",) for input ", shape_str(logits.shape()), ", got ", shape_str(target.shape()));
  PYCNN_CHECK(logits.size(1) > 0, "[", op, "] input has no classes: ", shape_str(logits.shape()));
  check_cpu(logits, op);
  check_cpu(target, op);
}

// Checks every class index is in [0, C): an out-of-range index would read outside the row.
static Tensor checked_targets(const Tensor& target, int64_t C, const char* op) {
  Tensor tc = target.contiguous();
  const int64_t* t = tc.data<int64_t>();
  const int64_t n = tc.numel();
  for (int64_t i = 0; i < n; ++i)
    PYCNN_CHECK(t[i] >= 0 && t[i] < C, "[", op, "] target ", t[i], " at position ", i, " is out of range for ", C,
                " classes");
  return tc;
}

Tensor nll_loss_forward(const Tensor& log_probs, const Tensor& target, Reduction reduction) {
  check_targets(log_probs, target, "nll_loss");
  const int64_t N = log_probs.size(0), C = log_probs.size(1);
  Tensor tc = checked_targets(target, C, "nll_loss");
  Tensor lp = log_probs.contiguous();
  Tensor loss = Tensor::empty(reduction == Reduction::None ? Shape{N} : Shape{}, lp.dtype(), lp.device());
  dispatch_floating(lp.dtype(), "nll_loss", [&](auto tag) {
    using T = decltype(tag);
    cpu::nll_forward<T>(lp.data<T>(), tc.data<int64_t>(), loss.data<T>(), N, C, reduction);
  });
  return loss;
}

Tensor nll_loss_backward(const Tensor& dout, const Tensor& log_probs, const Tensor& target, Reduction reduction) {
  check_targets(log_probs, target, "nll_loss_backward");
  check_same(dout, log_probs, "nll_loss_backward", "grad_output", "input");
  const int64_t N = log_probs.size(0), C = log_probs.size(1);
  PYCNN_CHECK(dout.numel() == (reduction == Reduction::None ? N : 1), "[nll_loss_backward] grad_output ",
              shape_str(dout.shape()), " does not match the loss");
  Tensor dc = dout.contiguous(), tc = checked_targets(target, C, "nll_loss_backward");  // indexes dx
  Tensor dx = Tensor::zeros(log_probs.shape(), log_probs.dtype(), log_probs.device());
  dispatch_floating(dx.dtype(), "nll_loss_backward", [&](auto tag) {
    using T = decltype(tag);
    cpu::nll_backward<T>(dc.data<T>(), tc.data<int64_t>(), dx.data<T>(), N, C, reduction);
  });
  return dx;
}

std::tuple<Tensor, Tensor> cross_entropy_forward(const Tensor& logits, const Tensor& target, Reduction reduction) {
  check_targets(logits, target, "cross_entropy");
  checked_targets(target, logits.size(1), "cross_entropy");
  Tensor log_probs = log_softmax_forward(logits, 1);
  return {nll_loss_forward(log_probs, target, reduction), log_probs};
}

Tensor cross_entropy_backward(const Tensor& dout, const Tensor& log_probs, const Tensor& target,
                              Reduction reduction) {
  check_targets(log_probs, target, "cross_entropy_backward");
  check_same(dout, log_probs, "cross_entropy_backward", "grad_output", "log_probs");
  const int64_t N = log_probs.size(0), C = log_probs.size(1);
  PYCNN_CHECK(dout.numel() == (reduction == Reduction::None ? N : 1), "[cross_entropy_backward] grad_output ",
              shape_str(dout.shape()), " does not match the loss");
  Tensor dc = dout.contiguous(), lp = log_probs.contiguous();
  Tensor tc = checked_targets(target, C, "cross_entropy_backward");  // indexes dx
  Tensor dx = Tensor::empty(log_probs.shape(), log_probs.dtype(), log_probs.device());
  dispatch_floating(log_probs.dtype(), "cross_entropy_backward", [&](auto tag) {
    using T = decltype(tag);
    cpu::cross_entropy_backward<T>(dc.data<T>(), lp.data<T>(), tc.data<int64_t>(), dx.data<T>(), N, C, reduction);
  });
  return dx;
}

}  // namespace pycnn
