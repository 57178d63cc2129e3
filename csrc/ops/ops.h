// The op entry points: the public C++ API of the core (Python's _C calls exactly these).
// Each op validates its input (errors start with "[op]"), allocates its outputs, and dispatches once on
// the device to cpu::<op> or cuda::<op>. Forward and backward of an op sit together in ops/<family>.cpp.
// Layouts: images are NCHW, linear weights (out, in), conv weights (OC, C/groups, KH, KW).
// Gradient convention: backward functions *return* fresh gradients; the caller accumulates.
#pragma once
#include <tuple>
#include <vector>

#include "core/tensor.h"

namespace pycnn {

// ---- data movement (ops/copy.cpp) ----
void copy_(Tensor& dst, const Tensor& src);  // same shape (src may be an expand() view), converts dtype
void fill_(Tensor& dst, double value);

// ---- matrix multiply (ops/gemm.cpp) ----
// c = alpha * op(a) @ op(b) + beta * c for 2-D tensors, op = transpose when the flag is set.
void gemm(bool trans_a, bool trans_b, double alpha, const Tensor& a, const Tensor& b, double beta, Tensor& c);
Tensor matmul(const Tensor& a, const Tensor& b);  // (M, K) @ (K, N) -> (M, N)

// ---- linear (ops/linear.cpp): y = x @ w^T + b; x (N, in), w (out, in), b (out,) or undefined ----
Tensor linear_forward(const Tensor& x, const Tensor& w, const Tensor& b);
// returns (dx, dw, db); dx undefined unless need_dx, db undefined unless has_bias
std::tuple<Tensor, Tensor, Tensor> linear_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                                   bool need_dx, bool has_bias);

// ---- convolution (ops/conv2d.cpp) ----
struct Conv2dArgs {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1, groups = 1;
};
// x (N, C, H, W), w (OC, C/groups, KH, KW), b (OC,) or undefined -> (N, OC, OH, OW)
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dArgs& args);
// returns (dx, dw, db), each undefined unless asked for
std::tuple<Tensor, Tensor, Tensor> conv2d_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                                   const Conv2dArgs& args, bool need_dx, bool need_dw,
                                                   bool need_db);

// ---- pooling (ops/pool2d.cpp) ----
struct Pool2dArgs {
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;  // max pooling only
  bool ceil_mode = false;
  bool count_include_pad = true;           // average pooling only
  int64_t divisor_override = 0;            // average pooling only; 0 = none
};
// (N, C, H, W) -> (y, indices): indices (int64) hold the flat h*W+w position of each max, as torch does
std::tuple<Tensor, Tensor> max_pool2d_forward(const Tensor& x, const Pool2dArgs& args);
Tensor max_pool2d_backward(const Tensor& dout, const Tensor& indices, const Shape& x_shape);
Tensor avg_pool2d_forward(const Tensor& x, const Pool2dArgs& args);
Tensor avg_pool2d_backward(const Tensor& dout, const Shape& x_shape, const Pool2dArgs& args);
int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode);

// ---- activations (ops/activation.cpp) ----
Tensor relu_forward(const Tensor& x);
Tensor relu_backward(const Tensor& dout, const Tensor& y);  // y = relu(x): the mask is y > 0

// ---- elementwise arithmetic with NumPy broadcasting (ops/elementwise.cpp) ----
enum class BinaryOp { Add, Sub, Mul, Div };
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
// returns (da, db) reduced to a's and b's shapes; each undefined unless asked for
std::tuple<Tensor, Tensor> binary_backward(BinaryOp op, const Tensor& dout, const Tensor& a, const Tensor& b,
                                           bool need_da, bool need_db);
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// ---- reductions (ops/reduce.cpp) ----
// Sum over `dims` (all dims when empty); keepdim keeps them as size 1.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
// The gradient of sum: dout broadcast back to x's shape.
Tensor sum_backward(const Tensor& dout, const Shape& x_shape, const std::vector<int64_t>& dims, bool keepdim);
Tensor sum_to(const Tensor& x, const Shape& shape);  // sums broadcast dims away so that x has `shape`
Tensor argmax(const Tensor& x, int64_t dim);        // int64 indices of the first maximum along dim

// ---- softmax and losses (ops/loss.cpp) ----
Tensor log_softmax_forward(const Tensor& x, int64_t dim);
Tensor log_softmax_backward(const Tensor& dout, const Tensor& y, int64_t dim);  // y = log_softmax(x)
Tensor softmax_forward(const Tensor& x, int64_t dim);
Tensor softmax_backward(const Tensor& dout, const Tensor& y, int64_t dim);  // y = softmax(x)
enum class Reduction { None, Mean, Sum };
// Negative log-likelihood of log_probs (N, C) at int64 class indices target (N,).
Tensor nll_loss_forward(const Tensor& log_probs, const Tensor& target, Reduction reduction);
Tensor nll_loss_backward(const Tensor& dout, const Tensor& log_probs, const Tensor& target, Reduction reduction);
// logits (N, C), target (N,) int64 class indices -> (loss, log_probs); loss is (N,) for None, () else.
std::tuple<Tensor, Tensor> cross_entropy_forward(const Tensor& logits, const Tensor& target, Reduction reduction);
// Fused gradient: softmax(logits) - onehot(target), scaled by dout (and 1/N for Mean).
Tensor cross_entropy_backward(const Tensor& dout, const Tensor& log_probs, const Tensor& target,
                              Reduction reduction);

// ---- optimizer updates, in place (ops/optim.cpp) ----
struct SgdArgs {
  double lr = 0.01, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
};
// PyTorch's SGD: g = grad + wd*p; buf = g on the first step, else momentum*buf + (1-dampening)*g;
// g = g + momentum*buf (nesterov) or buf; p -= lr*g. momentum_buf is ignored (may be undefined) when
// momentum == 0.
void sgd_step_(Tensor& param, const Tensor& grad, Tensor& momentum_buf, const SgdArgs& args, bool first_step);

// ---- nonlinearities and elementwise math (ops/activation.cpp) ----
// @activation-ops

// ---- normalisation and regularisation (ops/norm.cpp) ----
// @norm-ops

// ---- pooling variants and upsampling (ops/resize.cpp) ----
// @resize-ops

// ---- losses (ops/losses.cpp) ----
// @losses-ops

}  // namespace pycnn
