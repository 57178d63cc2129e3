// The op entry points: the public C++ API of the core (Python's _C calls exactly these).
// Each op validates its input (errors start with "[op]"), allocates its outputs, and dispatches once on
// the device to cpu::<op> or cuda::<op>. Forward and backward of an op sit together in ops/<family>.cpp.
// Layouts: images are NCHW, linear weights (out, in), conv weights (OC, C/groups, KH, KW).
// Gradient convention: backward functions *return* fresh gradients; the caller accumulates.
// Ops picked by name (unary ops, binary ops, comparisons, losses, reductions, modes) are one X-macro list per
// family, PYCNN_<FAMILY>(X), from which core/enum_list.h makes the enum, its names and parse_enum.
#pragma once
#include <tuple>
#include <utility>  // defines: std::pair
#include <vector>

#include "pycnn/core/enum_list.h"  // defines: PYCNN_DEFINE_ENUM_LIST, enum_name, parse_enum, enum_names
#include "pycnn/core/tensor.h"

namespace pycnn {

// ---- data movement (ops/copy.cpp): copy_ and fill_ are declared in core/tensor.h ----

// ---- matrix multiply (ops/gemm.cpp) ----
// c = alpha * op(a) @ op(b) + beta * c for 2-D tensors, op = transpose when the flag is set.
void gemm(bool trans_a, bool trans_b, double alpha, const Tensor& a, const Tensor& b, double beta, Tensor& c);
Tensor matmul(const Tensor& a, const Tensor& b);  // (M, K) @ (K, N) -> (M, N)

// ---- linear (ops/linear.cpp): y = x @ w^T + b; x (N, in), w (out, in), b (out,) or undefined ----
Tensor linear_forward(const Tensor& x, const Tensor& w, const Tensor& b);
// returns (dx, dw, db); dx undefined unless need_dx, db undefined unless has_bias
std::tuple<Tensor, Tensor, Tensor> linear_backward(const Tensor& dout, const Tensor& x, const Tensor& w, bool need_dx,
                                                   bool has_bias);

// ---- convolution (ops/conv2d.cpp) ----
struct Conv2dArgs {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1, groups = 1;
};
// Conv2dArgs filled by field name from (h, w) pairs, the form Python passes them in.
inline Conv2dArgs conv2d_args(std::pair<int64_t, int64_t> stride, std::pair<int64_t, int64_t> padding,
                              std::pair<int64_t, int64_t> dilation, int64_t groups) {
  Conv2dArgs a;
  a.stride_h = stride.first, a.stride_w = stride.second;
  a.pad_h = padding.first, a.pad_w = padding.second;
  a.dilation_h = dilation.first, a.dilation_w = dilation.second;
  a.groups = groups;
  return a;
}
// x (N, C, H, W), w (OC, C/groups, KH, KW), b (OC,) or undefined -> (N, OC, OH, OW)
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dArgs& args);
// returns (dx, dw, db), each undefined unless asked for
std::tuple<Tensor, Tensor, Tensor> conv2d_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                                   const Conv2dArgs& args, bool need_dx, bool need_dw, bool need_db);

// ---- pooling (ops/pool2d.cpp) ----
struct Pool2dArgs {
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;  // max pooling only
  bool ceil_mode = false;
  bool count_include_pad = true;  // average pooling only
  int64_t divisor_override = 0;   // average pooling only; 0 = none
};
// (N, C, H, W) -> (y, indices): indices (int64) hold the flat h*W+w position of each max, as torch does
std::tuple<Tensor, Tensor> max_pool2d_forward(const Tensor& x, const Pool2dArgs& args);
Tensor max_pool2d_backward(const Tensor& dout, const Tensor& indices, const Shape& x_shape);
Tensor avg_pool2d_forward(const Tensor& x, const Pool2dArgs& args);
Tensor avg_pool2d_backward(const Tensor& dout, const Shape& x_shape, const Pool2dArgs& args);
int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode,
                         const char* op = "pool2d");  // op names the "[op] ... too large" error

// ---- activations (ops/activation.cpp) ----
Tensor relu_forward(const Tensor& x);
Tensor relu_backward(const Tensor& dout, const Tensor& y);  // y = relu(x): the mask is y > 0
// softmax / log_softmax over dim
Tensor log_softmax_forward(const Tensor& x, int64_t dim);
Tensor log_softmax_backward(const Tensor& dout, const Tensor& y, int64_t dim);  // y = log_softmax(x)
Tensor softmax_forward(const Tensor& x, int64_t dim);
Tensor softmax_backward(const Tensor& dout, const Tensor& y, int64_t dim);  // y = softmax(x)
// Elementwise unary ops, one forward/backward pair for the family. alpha/beta are the op's scalars:
// LeakyReLU alpha = negative_slope; ELU alpha; Softplus alpha = beta, beta = threshold; Pow alpha = exponent;
// Clamp alpha = min, beta = max (+-inf for none); the rest ignore them.
// The list: X(enum value, name, whether the gradient is computed from the output y rather than the input x).
// Each op's math, forward and backward, is the struct of the same name in ops/unary_math.h.
// clang-format off
#define PYCNN_UNARY_OPS(X)             \
  X(Sigmoid,     "sigmoid",     true)  \
  X(Tanh,        "tanh",        true)  \
  X(ReLU6,       "relu6",       false) \
  X(LeakyReLU,   "leaky_relu",  false) \
  X(ELU,         "elu",         false) \
  X(SELU,        "selu",        false) \
  X(SiLU,        "silu",        false) \
  X(GELU,        "gelu",        false) \
  X(GELUTanh,    "gelu_tanh",   false) \
  X(Softplus,    "softplus",    false) \
  X(Hardswish,   "hardswish",   false) \
  X(Hardsigmoid, "hardsigmoid", false) \
  X(Exp,         "exp",         true)  \
  X(Log,         "log",         false) \
  X(Sqrt,        "sqrt",        true)  \
  X(Abs,         "abs",         false) \
  X(Neg,         "neg",         false) \
  X(Pow,         "pow",         false) \
  X(Clamp,       "clamp",       false) \
  X(Floor,       "floor",       false) \
  X(Ceil,        "ceil",        false) \
  X(Round,       "round",       false) \
  X(Trunc,       "trunc",       false) \
  X(Sign,        "sign",        false) \
  X(Reciprocal,  "reciprocal",  true)  \
  X(Rsqrt,       "rsqrt",       true)  \
  X(Square,      "square",      false)
// clang-format on
PYCNN_DEFINE_ENUM_LIST(UnaryOp, PYCNN_UNARY_OPS, "unary", "op")
Tensor unary_forward(UnaryOp op, const Tensor& x, double alpha, double beta);
// The gradient is computed from y = op(x) when unary_grad_uses_output(op), else from x; the other may be
// undefined.
Tensor unary_backward(UnaryOp op, const Tensor& dout, const Tensor& x, const Tensor& y, double alpha, double beta);
#define PYCNN_UNARY_GRAD_USES_OUTPUT(Name, name, from_output) from_output,
inline bool unary_grad_uses_output(UnaryOp op) {
  constexpr bool from_output[] = {PYCNN_UNARY_OPS(PYCNN_UNARY_GRAD_USES_OUTPUT)};
  return from_output[static_cast<int>(op)];
}
#undef PYCNN_UNARY_GRAD_USES_OUTPUT
// PReLU: y = x > 0 ? x : w[c] * x, channel c along dim 1 (w has 1 element or x.size(1) elements).
Tensor prelu_forward(const Tensor& x, const Tensor& weight);
// returns (dx, dweight), each undefined unless asked for; dweight sums over every dim but the channel's
std::tuple<Tensor, Tensor> prelu_backward(const Tensor& dout, const Tensor& x, const Tensor& weight, bool need_dx,
                                          bool need_dweight);
// Maxout: x (N, C*k, *) -> (y (N, C, *), indices int64 (N, C, *) in [0, k)): y[n, c] = max over the k adjacent
// channels c*k .. c*k+k-1 (the first maximum; NaN wins).
std::tuple<Tensor, Tensor> maxout_forward(const Tensor& x, int64_t pieces);
Tensor maxout_backward(const Tensor& dout, const Tensor& indices, int64_t pieces);

// ---- elementwise arithmetic with NumPy broadcasting (ops/elementwise.cpp) ----
// clang-format off
#define PYCNN_BINARY_OPS(X) \
  X(Add, "add")             \
  X(Sub, "sub")             \
  X(Mul, "mul")             \
  X(Div, "div")
// clang-format on
PYCNN_DEFINE_ENUM_LIST(BinaryOp, PYCNN_BINARY_OPS, "binary", "op")
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
Tensor argmax(const Tensor& x, int64_t dim);         // int64 indices of the first maximum along dim
// Sorted, unique dims wrapped into [0, rank) (all when empty), or a ValueError "[op] ..."
std::vector<int64_t> normalize_dims(const std::vector<int64_t>& dims, int64_t rank, const char* op);

// ---- optimizer updates, in place (ops/optim.cpp) ----
struct SgdArgs {
  double lr = 0.01, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
};
// PyTorch's SGD: g = grad + wd*p; buf = g on the first step, else momentum*buf + (1-dampening)*g;
// g = g + momentum*buf (nesterov) or buf; p -= lr*g. momentum_buf is ignored (may be undefined) when
// momentum == 0.
void sgd_step_(Tensor& param, const Tensor& grad, Tensor& momentum_buf, const SgdArgs& args, bool first_step);

// The optimizers below follow PyTorch's single-tensor update rules operation for operation (see the
// kernels in ops/cpu/optim.cpp). State tensors have param's shape and dtype, are contiguous and are updated
// in place; `step` is the step count after this update's increment (1 on the first update).
struct AdamArgs {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false, maximize = false, decoupled_weight_decay = false;  // decoupled: AdamW
};
// max_exp_avg_sq is used only (and must be defined only) with amsgrad.
void adam_step_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, Tensor& max_exp_avg_sq,
                const AdamArgs& args, double step);

struct RmspropArgs {
  double lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0;
  bool centered = false, maximize = false;
};
// grad_avg is used only when centered, momentum_buffer only when momentum > 0.
void rmsprop_step_(Tensor& param, const Tensor& grad, Tensor& square_avg, Tensor& grad_avg, Tensor& momentum_buffer,
                   const RmspropArgs& args);

struct AdagradArgs {
  double lr = 1e-2, lr_decay = 0, weight_decay = 0, eps = 1e-10;
  bool maximize = false;
};
void adagrad_step_(Tensor& param, const Tensor& grad, Tensor& state_sum, const AdagradArgs& args, double step);

struct AdadeltaArgs {
  double lr = 1.0, rho = 0.9, eps = 1e-6, weight_decay = 0;
  bool maximize = false;
};
void adadelta_step_(Tensor& param, const Tensor& grad, Tensor& square_avg, Tensor& acc_delta, const AdadeltaArgs& args);

// The same updates for a whole parameter group at once (on CUDA one launch per group): element i of each
// list belongs to params[i]; a state list the options don't use may be empty. steps / first_step per tensor.
void sgd_step_multi_(std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                     std::vector<Tensor>& momentum_buffers, const SgdArgs& args, const std::vector<bool>& first_step);
void adam_step_multi_(std::vector<Tensor>& params, const std::vector<Tensor>& grads, std::vector<Tensor>& exp_avgs,
                      std::vector<Tensor>& exp_avg_sqs, std::vector<Tensor>& max_exp_avg_sqs, const AdamArgs& args,
                      const std::vector<double>& steps);
void rmsprop_step_multi_(std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                         std::vector<Tensor>& square_avgs, std::vector<Tensor>& grad_avgs,
                         std::vector<Tensor>& momentum_buffers, const RmspropArgs& args);
void adagrad_step_multi_(std::vector<Tensor>& params, const std::vector<Tensor>& grads, std::vector<Tensor>& state_sums,
                         const AdagradArgs& args, const std::vector<double>& steps);
void adadelta_step_multi_(std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                          std::vector<Tensor>& square_avgs, std::vector<Tensor>& acc_deltas, const AdadeltaArgs& args);

// ---- normalisation (ops/norm.cpp) ----
// Batch norm over x (N, C), (N, C, L) or (N, C, H, W); weight/bias (C,) or undefined; running_mean/var
// (C,) or undefined (then training is required). Training normalises with the batch statistics and, when
// given, moves the running stats by momentum (running_var gets the unbiased variance); eval uses them.
// Returns (y, save_mean, save_invstd), the statistics the backward needs.
std::tuple<Tensor, Tensor, Tensor> batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                                      Tensor& running_mean, Tensor& running_var, bool training,
                                                      double momentum, double eps);
// returns (dx, dweight, dbias), each undefined unless asked for (dweight/dbias need weight)
std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& dout, const Tensor& x, const Tensor& weight,
                                                       const Tensor& save_mean, const Tensor& save_invstd,
                                                       bool training, bool need_dx, bool need_dw, bool need_db);
// Group norm over x (N, C, *): C split into `groups`, each (n, group) normalised over its C/groups * S
// elements; weight/bias (C,) or undefined. Instance norm is groups == C. Returns (y, mean, invstd) with
// mean/invstd (N, groups).
std::tuple<Tensor, Tensor, Tensor> group_norm_forward(const Tensor& x, int64_t groups, const Tensor& weight,
                                                      const Tensor& bias, double eps);
std::tuple<Tensor, Tensor, Tensor> group_norm_backward(const Tensor& dout, const Tensor& x, int64_t groups,
                                                       const Tensor& weight, const Tensor& mean, const Tensor& invstd,
                                                       bool need_dx, bool need_dw, bool need_db);
// Layer norm over the last `normalized_ndim` dims of x; weight/bias have those dims' shape or are
// undefined. Returns (y, mean, invstd), mean/invstd of shape x.shape[:-normalized_ndim].
std::tuple<Tensor, Tensor, Tensor> layer_norm_forward(const Tensor& x, int64_t normalized_ndim, const Tensor& weight,
                                                      const Tensor& bias, double eps);
std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& dout, const Tensor& x, int64_t normalized_ndim,
                                                       const Tensor& weight, const Tensor& mean, const Tensor& invstd,
                                                       bool need_dx, bool need_dw, bool need_db);
// Local response norm across channels of x (N, C, *), torch's definition.
Tensor local_response_norm_forward(const Tensor& x, int64_t size, double alpha, double beta, double k);
Tensor local_response_norm_backward(const Tensor& dout, const Tensor& x, int64_t size, double alpha, double beta,
                                    double k);
// nn.utils helpers: sum |x|^p as a double (p = inf: max |x|), its gradient, and clamping in place.
double lp_sum(const Tensor& x, double p);
Tensor lp_sum_tensor(const Tensor& x, double p);  // the same as a 0-d float64 tensor on x's device
Tensor lp_sum_backward(const Tensor& dout, const Tensor& x, double p);
void clamp_(Tensor& x, double min, double max);

// ---- dropout (ops/dropout.cpp) ----
// Dropout: the keep mask of group i (group = 1 element for dropout, one channel's
// product(shape[2:]) elements for dropout2d) is a pure function of (seed, i). alpha selects AlphaDropout.
// The backward regenerates the mask from the seed.
Tensor dropout_forward(const Tensor& x, double p, uint64_t seed, bool channelwise, bool alpha);
Tensor dropout_backward(const Tensor& dout, double p, uint64_t seed, bool channelwise, bool alpha);

// ---- pooling variants and upsampling (ops/resize.cpp) ----
// All of these take (N, C, H, W) or (C, H, W) (pixel shuffles: (*, C, H, W)); the leading dims are planes.
// Adaptive pooling: output cell i covers rows [floor(i*H/OH), ceil((i+1)*H/OH)), as torch does.
Tensor adaptive_avg_pool2d_forward(const Tensor& x, int64_t OH, int64_t OW);
Tensor adaptive_avg_pool2d_backward(const Tensor& dout, const Shape& x_shape);
// -> (y, indices): indices hold the flat h*W+w position of each max, like max_pool2d's
std::tuple<Tensor, Tensor> adaptive_max_pool2d_forward(const Tensor& x, int64_t OH, int64_t OW);
Tensor adaptive_max_pool2d_backward(const Tensor& dout, const Tensor& indices, const Shape& x_shape);
// (*, C*r*r, H, W) <-> (*, C, H*r, W*r); each is the other's backward
Tensor pixel_shuffle(const Tensor& x, int64_t upscale_factor);
Tensor pixel_unshuffle(const Tensor& x, int64_t downscale_factor);
// Resampling to (OH, OW) with torch's coordinate rules. scale_h/scale_w are the user's scale factors
// (output/input) or 0 when the size was given (then input/output is used).
// clang-format off
#define PYCNN_INTERP_MODES(X)      \
  X(Nearest,      "nearest")       \
  X(NearestExact, "nearest-exact") \
  X(Bilinear,     "bilinear")
// clang-format on
PYCNN_DEFINE_ENUM_LIST(InterpMode, PYCNN_INTERP_MODES, "interpolate", "mode")
struct InterpolateArgs {
  InterpMode mode = InterpMode::Nearest;
  bool align_corners = false;  // bilinear only
  double scale_h = 0, scale_w = 0;
};
Tensor interpolate_forward(const Tensor& x, int64_t OH, int64_t OW, const InterpolateArgs& args);
Tensor interpolate_backward(const Tensor& dout, const Shape& x_shape, const InterpolateArgs& args);
// Places x at the flat indices (of max_pool2d) of zeroed (.., OH, OW) planes; backward gathers from them.
Tensor max_unpool2d_forward(const Tensor& x, const Tensor& indices, int64_t OH, int64_t OW);
Tensor max_unpool2d_backward(const Tensor& dout, const Tensor& indices);

// ---- losses (ops/loss.cpp) ----
// Cross-entropy / NLL in full (torch semantics). input (N, C) or (N, C, d1, ...); target either int64
// class indices (N, d1, ...) or, for cross-entropy only, float probabilities of input's shape.
// weight (C,) non-negative or undefined. Mean divides by the summed weight of the non-ignored targets
// (class indices) or by N * d1 * ... (probabilities).
// clang-format off
#define PYCNN_REDUCTIONS(X) \
  X(None, "none")           \
  X(Mean, "mean")           \
  X(Sum,  "sum")
// clang-format on
PYCNN_DEFINE_ENUM_LIST(Reduction, PYCNN_REDUCTIONS, "reduction", "reduction")
struct ClassLossArgs {
  Reduction reduction = Reduction::Mean;
  int64_t ignore_index = -100;
  double label_smoothing = 0;
};
// -> (loss, log_probs); loss has target's index shape for None, () otherwise.
std::tuple<Tensor, Tensor> cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                                 const ClassLossArgs& args);
// Fused softmax backward -> (dlogits, dtarget); dtarget only for probability targets when need_dtarget.
std::tuple<Tensor, Tensor> cross_entropy_backward(const Tensor& dout, const Tensor& log_probs, const Tensor& target,
                                                  const Tensor& weight, const ClassLossArgs& args, bool need_dtarget);
Tensor nll_loss_forward(const Tensor& log_probs, const Tensor& target, const Tensor& weight, const ClassLossArgs& args);
Tensor nll_loss_backward(const Tensor& dout, const Tensor& log_probs, const Tensor& target, const Tensor& weight,
                         const ClassLossArgs& args);

// Elementwise losses l(x, y) of same-shape input and target, then reduced. param: beta (SmoothL1), delta
// (Huber), margin (MarginRanking, where x = x1 - x2 and y = +-1). weight (BCE, BCEWithLogits) and
// pos_weight (BCEWithLogits) broadcast to input's shape or are undefined. batchmean: sum / input.size(0).
// clang-format off
#define PYCNN_POINTWISE_LOSSES(X)        \
  X(MSE,            "mse")               \
  X(L1,             "l1")                \
  X(SmoothL1,       "smooth_l1")         \
  X(Huber,          "huber")             \
  X(BCE,            "bce")               \
  X(BCEWithLogits,  "bce_with_logits")   \
  X(KLDiv,          "kl_div")            \
  X(KLDivLogTarget, "kl_div_log_target") \
  X(MarginRanking,  "margin_ranking")
// clang-format on
PYCNN_DEFINE_ENUM_LIST(PointwiseLoss, PYCNN_POINTWISE_LOSSES, "pointwise_loss", "loss")
struct PointwiseLossArgs {
  PointwiseLoss kind = PointwiseLoss::MSE;
  Reduction reduction = Reduction::Mean;
  double param = 0;
  bool batchmean = false;
};
Tensor pointwise_loss_forward(const Tensor& input, const Tensor& target, const Tensor& weight, const Tensor& pos_weight,
                              const PointwiseLossArgs& args);
// -> (dinput, dtarget), each undefined unless asked for
std::tuple<Tensor, Tensor> pointwise_loss_backward(const Tensor& dout, const Tensor& input, const Tensor& target,
                                                   const Tensor& weight, const Tensor& pos_weight,
                                                   const PointwiseLossArgs& args, bool need_dinput, bool need_dtarget);
// Multi-class hinge: input (N, C), target (N,) int64, weight (C,) or undefined, p 1 or 2.
Tensor multi_margin_loss_forward(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t p,
                                 double margin, Reduction reduction);
Tensor multi_margin_loss_backward(const Tensor& dout, const Tensor& input, const Tensor& target, const Tensor& weight,
                                  int64_t p, double margin, Reduction reduction);

// ---- tensor operations (ops/tensor_ops.cpp): joining, splitting, indexing, reductions with indices ----
// Joining: cat along an existing dim, stack along a new one (backward: one copy per input, in one call).
Tensor cat_forward(const std::vector<Tensor>& xs, int64_t dim);
std::vector<Tensor> cat_backward(const Tensor& dout, int64_t dim, const std::vector<int64_t>& sizes);
Tensor stack_forward(const std::vector<Tensor>& xs, int64_t dim);
std::vector<Tensor> stack_backward(const Tensor& dout, int64_t dim);
// Basic indexing as one strided view: per dim of x a start, positive step, length and keep (0 = an integer
// index, the dim is dropped); then size-1 dims inserted at the output positions new_axes (None).
Tensor index_view(const Tensor& x, const std::vector<int64_t>& starts, const std::vector<int64_t>& steps,
                  const std::vector<int64_t>& lengths, const std::vector<int64_t>& keep,
                  const std::vector<int64_t>& new_axes);
Tensor index_view_backward(const Tensor& dout, const Shape& x_shape, const std::vector<int64_t>& starts,
                           const std::vector<int64_t>& steps, const std::vector<int64_t>& lengths,
                           const std::vector<int64_t>& keep, const std::vector<int64_t>& new_axes);
// Gathers: index (K,) int64 (negative counts from the end); backward scatter-adds (repeats accumulate).
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor index_select_backward(const Tensor& dout, const Shape& x_shape, int64_t dim, const Tensor& index);
Tensor masked_select(const Tensor& x, const Tensor& mask);  // bool mask of x's shape -> 1-D
Tensor masked_select_backward(const Tensor& dout, const Tensor& mask);
// (values, int64 indices) of the first max (min) along dim; NaN wins
std::tuple<Tensor, Tensor> minmax_dim(const Tensor& x, int64_t dim, bool keepdim, bool is_min);
Tensor minmax_dim_backward(const Tensor& dout, const Tensor& indices, const Shape& x_shape, int64_t dim);
// Comparisons give bool; where selects a where the bool cond is set. All broadcast.
// clang-format off
#define PYCNN_COMPARE_OPS(X) \
  X(Gt, "gt")                \
  X(Lt, "lt")                \
  X(Ge, "ge")                \
  X(Le, "le")                \
  X(Eq, "eq")                \
  X(Ne, "ne")
// clang-format on
PYCNN_DEFINE_ENUM_LIST(CompareOp, PYCNN_COMPARE_OPS, "compare", "op")
Tensor compare(CompareOp op, const Tensor& a, const Tensor& b);
Tensor where_forward(const Tensor& cond, const Tensor& a, const Tensor& b);
std::tuple<Tensor, Tensor> where_backward(const Tensor& dout, const Tensor& cond, const Shape& a_shape,
                                          const Shape& b_shape, bool need_da, bool need_db);
// Variance over dims (all when empty), divided by count - correction; backward 2 (x - mean) / (count - c).
Tensor var_forward(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim);
Tensor var_backward(const Tensor& dout, const Tensor& x, const std::vector<int64_t>& dims, double correction,
                    bool keepdim);
// (..., M, K) @ (..., K, N) -> (batch..., M, N), batch dims broadcast; one GEMM per batch item.
// Backward returns (da, db) summed back to a's and b's shapes, each undefined unless asked for.
Tensor bmm_forward(const Tensor& a, const Tensor& b);
std::tuple<Tensor, Tensor> bmm_backward(const Tensor& dout, const Tensor& a, const Tensor& b, bool need_da,
                                        bool need_db);
// Elementwise max (is_min: min) with broadcasting; NaN propagates; a tie splits the gradient in halves.
Tensor maximum_forward(const Tensor& a, const Tensor& b, bool is_min);
std::tuple<Tensor, Tensor> maximum_backward(const Tensor& dout, const Tensor& a, const Tensor& b, bool is_min,
                                            bool need_da, bool need_db);

// ---- convolution family (ops/convs.cpp): padding and transposed convolution ----
// pad: pads in torch order (last dim first: left, right, top, bottom, ...); mode is
// Constant (any number of trailing dims, negative pads crop) or Reflect/Replicate/Circular (last one or two
// dims, non-negative pads).
// clang-format off
#define PYCNN_PAD_MODES(X)  \
  X(Constant,  "constant")  \
  X(Reflect,   "reflect")   \
  X(Replicate, "replicate") \
  X(Circular,  "circular")
// clang-format on
PYCNN_DEFINE_ENUM_LIST(PadMode, PYCNN_PAD_MODES, "pad", "mode")
Tensor pad_forward(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value);
Tensor pad_backward(const Tensor& dout, const Shape& x_shape, const std::vector<int64_t>& pads, PadMode mode);
// Transposed convolution: x (N, C, H, W), w (C, OC/groups, KH, KW), b (OC,) or undefined ->
// (N, OC, OH, OW), OH = (H-1)*stride_h - 2*pad_h + dilation_h*(KH-1) + output_padding_h + 1. It is
// conv2d's input gradient; its backward is conv2d forward (dx) and conv2d's weight gradient (dw).
Tensor conv_transpose2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dArgs& args,
                                int64_t output_padding_h, int64_t output_padding_w);
// returns (dx, dw, db), each undefined unless asked for
std::tuple<Tensor, Tensor, Tensor> conv_transpose2d_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                                             const Conv2dArgs& args, bool need_dx, bool need_dw,
                                                             bool need_db);

// ---- deformable convolution (ops/deform_conv.cpp), torchvision.ops.deform_conv2d's semantics ----
// x (N, C, H, W), offset (N, 2*offset_groups*KH*KW, OH, OW) as (dy, dx) pairs per tap, mask
// (N, offset_groups*KH*KW, OH, OW) or undefined (v1), w (OC, C/groups, KH, KW), b (OC,) or undefined.
// groups = C / w.size(1); offset_groups = offset.size(1) / (2*KH*KW).
struct DeformConv2dArgs {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
};
Tensor deform_conv2d_forward(const Tensor& x, const Tensor& offset, const Tensor& mask, const Tensor& w,
                             const Tensor& b, const DeformConv2dArgs& args);
// returns (dx, doffset, dmask, dw, db), each undefined unless asked for (dmask also when mask is undefined)
std::tuple<Tensor, Tensor, Tensor, Tensor, Tensor> deform_conv2d_backward(const Tensor& dout, const Tensor& x,
                                                                          const Tensor& offset, const Tensor& mask,
                                                                          const Tensor& w, const DeformConv2dArgs& args,
                                                                          bool need_dx, bool need_doffset,
                                                                          bool need_dmask, bool need_dw, bool need_db);

// ---- sorting, selection and scans (ops/sort.cpp): sort, topk, cumsum, prod, unique, nonzero ----
// Any dtype; indices are int64. A 0-d tensor is one element along its dim (0 or -1). Orders are torch's: NaN is
// the largest value (last ascending, first descending), and equal values keep their order (stable).
// (values, indices) of x sorted along dim.
std::tuple<Tensor, Tensor> sort_forward(const Tensor& x, int64_t dim, bool descending);
// (values, indices) of the k largest (smallest) along dim, in order; 0 <= k <= x.size(dim).
std::tuple<Tensor, Tensor> topk_forward(const Tensor& x, int64_t k, int64_t dim, bool largest);
// Backward of sort and topk: zeros of x_shape, and dout put back where indices (from the forward) took it.
Tensor sort_backward(const Tensor& dout, const Tensor& indices, const Shape& x_shape, int64_t dim);
// Inclusive running sums along dim, in x's dtype; reverse sums from the end (cumsum's backward).
Tensor cumsum(const Tensor& x, int64_t dim, bool reverse);
// Product along dim; backward from exclusive prefix and suffix products (exact with zeros in x).
Tensor prod_forward(const Tensor& x, int64_t dim, bool keepdim);
Tensor prod_backward(const Tensor& dout, const Tensor& x, int64_t dim, bool keepdim);
// The distinct slices of x along dim, sorted lexicographically (a slice holding NaN equals no other):
// (values, inverse (x.size(dim),) int64, counts (U,) int64).
std::tuple<Tensor, Tensor, Tensor> unique_dim(const Tensor& x, int64_t dim);
// (n, x.dim()) int64: the coordinates of x's n non-zero elements (NaN counts), in row-major order.
Tensor nonzero(const Tensor& x);
// ---- 3-D convolution (ops/conv3d.cpp) ----
// x (N, C, D, H, W), w (OC, C/groups, KD, KH, KW), b (OC,) or undefined -> y (N, OC, OD, OH, OW),
// OD = (D + 2*pad_d - dilation_d*(KD-1) - 1) / stride_d + 1 (same for H, W). CPU only for now.
struct Conv3dArgs {
  int64_t stride_d = 1, stride_h = 1, stride_w = 1, pad_d = 0, pad_h = 0, pad_w = 0;
  int64_t dilation_d = 1, dilation_h = 1, dilation_w = 1, groups = 1;
};
Tensor conv3d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv3dArgs& args);
// returns (dx, dw, db), each undefined unless asked for
std::tuple<Tensor, Tensor, Tensor> conv3d_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                                   const Conv3dArgs& args, bool need_dx, bool need_dw, bool need_db);

// ---- unfold / fold (ops/fold.cpp): torch.nn.functional.unfold / fold, each the other's backward ----
// args' stride, padding and dilation (groups unused). unfold: x (N, C, H, W) -> (N, C*KH*KW, L), the sliding
// blocks as columns, L = OH*OW. fold: col (N, C*KH*KW, L) -> (N, C, H, W), overlapping entries summed.
Tensor unfold_forward(const Tensor& x, int64_t KH, int64_t KW, const Conv2dArgs& args);
Tensor fold_forward(const Tensor& col, int64_t H, int64_t W, int64_t KH, int64_t KW, const Conv2dArgs& args);
// ---- grid sampling (ops/grid_sample.cpp), torch.nn.functional.grid_sample's semantics ----
// x (N, C, H, W) read at grid (N, Ho, Wo, 2) -> (N, C, Ho, Wo). grid[n, h, w] = (x, y) in [-1, 1] spans the
// input's width and height: the corner pixels' centres with align_corners, their outer edges without.
// Points outside are handled by the padding mode (zeros reads 0, border clamps, reflection mirrors).
// clang-format off
#define PYCNN_GRID_SAMPLE_MODES(X) \
  X(Bilinear, "bilinear")          \
  X(Nearest,  "nearest")           \
  X(Bicubic,  "bicubic")
#define PYCNN_GRID_PADDING_MODES(X) \
  X(Zeros,      "zeros")            \
  X(Border,     "border")           \
  X(Reflection, "reflection")
// clang-format on
PYCNN_DEFINE_ENUM_LIST(GridSampleMode, PYCNN_GRID_SAMPLE_MODES, "grid_sample", "mode")
PYCNN_DEFINE_ENUM_LIST(GridPaddingMode, PYCNN_GRID_PADDING_MODES, "grid_sample", "padding_mode")
struct GridSampleArgs {
  GridSampleMode mode = GridSampleMode::Bilinear;
  GridPaddingMode padding = GridPaddingMode::Zeros;
  bool align_corners = false;
};
Tensor grid_sample_forward(const Tensor& x, const Tensor& grid, const GridSampleArgs& args);
// returns (dx, dgrid), each undefined unless asked for; dgrid is 0 for nearest (piecewise constant)
std::tuple<Tensor, Tensor> grid_sample_backward(const Tensor& dout, const Tensor& x, const Tensor& grid,
                                                const GridSampleArgs& args, bool need_dx, bool need_dgrid);
// ---- indexing (ops/indexing.cpp): gather / scatter along a dim, embedding lookup, one_hot (CPU only) ----
// torch's gather/scatter: index (int64) has input's rank (a 0-d tensor counts as 1-d), index.size(d) <=
// input.size(d) for d != dim and, for scatter, index.size(d) <= src.size(d) for every d; index values in
// [0, input.size(dim)). gather: out (index's shape), out[p] = input[p with p[dim] = index[p]].
// scatter: out = a copy of input with out[p with p[dim] = index[p]] = src[p] (Add: +=, Multiply: *=); a
// repeated index takes its writes in index order (the last one wins; sums are deterministic).
// clang-format off
#define PYCNN_SCATTER_REDUCES(X) \
  X(None,     "none")             \
  X(Add,      "add")              \
  X(Multiply, "multiply")
// clang-format on
PYCNN_DEFINE_ENUM_LIST(ScatterReduce, PYCNN_SCATTER_REDUCES, "scatter", "reduce")
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// dx (x_shape) = zeros, then dout scatter-added through index: gather's input gradient
Tensor gather_backward(const Tensor& dout, const Shape& x_shape, int64_t dim, const Tensor& index);
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, ScatterReduce reduce);
// scatter with every src value equal to `value` (torch's scatter(dim, index, value))
Tensor scatter_value(const Tensor& x, int64_t dim, const Tensor& index, double value, ScatterReduce reduce);
// weight (V, D), indices (int64, any shape) in [0, V) -> (*indices.shape, D): a row gather
Tensor embedding_forward(const Tensor& weight, const Tensor& indices);
// dweight (V, D): row v sums the dout rows whose index is v, in index order (deterministic); padding_idx
// (in [0, V), or -1 for none) gets none; scale_grad_by_freq divides each row by its index's count.
Tensor embedding_backward(const Tensor& dout, const Tensor& indices, int64_t num_weights, int64_t padding_idx,
                          bool scale_grad_by_freq);
// In place: every row of weight that indices name and whose norm_type-norm exceeds max_norm is scaled by
// max_norm / (norm + 1e-7), as torch's embedding_renorm_.
void embedding_renorm_(const Tensor& weight, const Tensor& indices, double max_norm, double norm_type);
// indices (int64, any shape) in [0, num_classes) -> int64 (*indices.shape, num_classes); num_classes -1: max + 1
Tensor one_hot(const Tensor& indices, int64_t num_classes);

}  // namespace pycnn
