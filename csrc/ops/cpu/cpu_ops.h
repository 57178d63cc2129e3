// CPU kernels behind the op entry points (ops/ops.h), one section per file of ops/cpu/.
// The convention, for every kernel declared here: it takes raw pointers to the data plus the sizes it needs,
// or a geometry struct (Conv2dGeometry, DeformGeometry, StridedViews) that the entry point computes once
// (conv2d_geometry builds Conv2dGeometry from shapes); never a Tensor. Inputs are validated and, unless a
// geometry gives their strides, contiguous; outputs are preallocated. No checks happen here. Kernels are
// templates over the element type T (float, double; int64 where noted) and split their work across threads
// themselves.
#pragma once
#include <cstdint>

#include "pycnn/ops/kernel_args.h"  // defines: StridedViews, Conv2dGeometry, DeformGeometry
#include "pycnn/ops/ops.h"

namespace pycnn::cpu {

using ::pycnn::Conv2dGeometry;
using ::pycnn::DeformGeometry;
using ::pycnn::StridedViews;

// ---- copy.cpp and elementwise.cpp: views with strides ----
// dst = src converted to D, both walked through their strides; D and S are float, double or int64.
template <typename D, typename S>
void copy_strided(D* dst, const S* src, const StridedViews& v);
template <typename T> void fill(T* dst, int64_t n, T value);  // float, double or int64

// out (contiguous, v.shape) = a op b
template <typename T> void binary(BinaryOp op, const T* a, const T* b, T* out, const StridedViews& v);

// ---- gemm.cpp ----
// Row-major C = alpha * op(A) @ op(B) + beta * C, op(A) (M, K), op(B) (K, N); A is (M, K) with row
// stride lda, or (K, M) when trans_a. Packed, cache-blocked, SIMD micro-kernel, OpenMP threads
// (serial when called inside a parallel region). beta == 0 ignores C's old contents (NaN included).
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc);
// Triple loop, for tests of the fast one.
template <typename T>
void gemm_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                const T* B, int64_t ldb, T beta, T* C, int64_t ldc);
// gemm with an epilogue: C = act(alpha * op(A) @ op(B) + beta * C + bias), bias[i] added to row i when
// bias_per_row, bias[j] to column j otherwise, or none when null; act is ReLU (NaN stays NaN) when relu.
// C = beta * C + bias first (bias alone when beta == 0), then gemm with beta = 1: cuda::gemm_bias adds in
// that order too.
template <typename T>
void gemm_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
               const T* B, int64_t ldb, T beta, T* C, int64_t ldc, const T* bias, bool bias_per_row, bool relu);
// out[j] = sum_i x[i, j] over a contiguous (rows, cols) x: sum_arb with A = 1 (the bias gradient).
template <typename T>
void sum_rows(const T* x, T* out, int64_t rows, int64_t cols);

// ---- conv2d.cpp: contiguous x (N, C, H, W), w (OC, C/groups, KH, KW), b (OC,) or null, y (N, OC, OH, OW) ----
// From shapes the entry point has validated: x (N, C, H, W), w (OC, C/groups, KH, KW), y (N, OC, OH, OW).
Conv2dGeometry conv2d_geometry(const Shape& x, const Shape& w, const Shape& y, const Conv2dArgs& args);
template <typename T>
void conv2d_forward(const T* x, const T* w, const T* b, T* y, const Conv2dGeometry& g);
// The direct 7-loop convolution: the reference the fast one is tested against (tests/cpp/test_conv.cpp).
template <typename T>
void conv2d_forward_naive(const T* x, const T* w, const T* b, T* y, const Conv2dGeometry& g);
// dx (N, C, H, W) from dout (N, OC, OH, OW); fully written.
template <typename T>
void conv2d_input_grad(const T* dout, const T* w, T* dx, const Conv2dGeometry& g);
// dw (OC, C/groups, KH, KW) from dout and x; fully written, summed in an order that does not depend on the
// thread count.
template <typename T>
void conv2d_weight_grad(const T* dout, const T* x, T* dw, const Conv2dGeometry& g);

// ---- pool2d.cpp: contiguous planes of (H, W), planes = N*C ----
template <typename T>
void max_pool2d_forward(const T* x, T* y, int64_t* indices, int64_t planes, int64_t H, int64_t W, int64_t OH,
                        int64_t OW, const Pool2dArgs& args);
template <typename T>
void max_pool2d_backward(const T* dout, const int64_t* indices, T* dx, int64_t planes, int64_t HW, int64_t OHW);
template <typename T>
void avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                        const Pool2dArgs& args);
template <typename T>
void avg_pool2d_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                         const Pool2dArgs& args);

// ---- activation.cpp: flat arrays of n elements unless stated ----
template <typename T> void relu_forward(const T* x, T* y, int64_t n);
template <typename T> void relu_backward(const T* dout, const T* y, T* dx, int64_t n);
// x, y contiguous (A, R, B), the softmax runs over R; log picks log_softmax over softmax
template <typename T> void softmax_forward(const T* x, T* y, int64_t A, int64_t R, int64_t B, bool log);
template <typename T>
void softmax_backward(const T* dout, const T* y, T* dx, int64_t A, int64_t R, int64_t B, bool log);
// y = op(x), dx = dout * op'(v) with v = y or x (unary_grad_uses_output).
template <typename T> void unary_forward(UnaryOp op, const T* x, T* y, int64_t n, double alpha, double beta);
template <typename T>
void unary_backward(UnaryOp op, const T* dout, const T* v, T* dx, int64_t n, double alpha, double beta);
// x (outer, C, inner), w (C,) (C = 1: one weight for all); dx / dw may be null (not wanted)
template <typename T> void prelu_forward(const T* x, const T* w, T* y, int64_t outer, int64_t C, int64_t inner);
template <typename T>
void prelu_backward(const T* dout, const T* x, const T* w, T* dx, T* dw, int64_t outer, int64_t C, int64_t inner);
// x (N, C*k, inner) -> y, indices (N, C, inner); dx (N, C*k, inner) fully written
template <typename T>
void maxout_forward(const T* x, T* y, int64_t* indices, int64_t N, int64_t C, int64_t k, int64_t inner);
template <typename T>
void maxout_backward(const T* dout, const int64_t* indices, T* dx, int64_t N, int64_t C, int64_t k, int64_t inner);

// ---- reduce.cpp: x contiguous (A, R, B), reduce over R, out (A, B) ----
template <typename T> void sum_arb(const T* x, T* out, int64_t A, int64_t R, int64_t B);
template <typename T> void argmax_arb(const T* x, int64_t* out, int64_t A, int64_t R, int64_t B);

// ---- optim.cpp: in-place update of n elements; buf is null without momentum ----
template <typename T>
void sgd_step(T* param, const T* grad, T* buf, int64_t n, const SgdArgs& args, bool first_step);
// State pointers that the options don't use (max_exp_avg_sq without amsgrad, ...) may be null.
template <typename T>
void adam_step(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq, int64_t n, const AdamArgs& args,
               double step);
template <typename T>
void rmsprop_step(T* param, const T* grad, T* square_avg, T* grad_avg, T* momentum_buffer, int64_t n,
                  const RmspropArgs& args);
template <typename T>
void adagrad_step(T* param, const T* grad, T* state_sum, int64_t n, const AdagradArgs& args, double step);
template <typename T>
void adadelta_step(T* param, const T* grad, T* square_avg, T* acc_delta, int64_t n, const AdadeltaArgs& args);

// ---- norm.cpp ----
// Batch norm: x, y (N, C, S); w, b (C,) or null; mean / invstd (C,) saved for the backward
// (training: this batch's; eval: from run_mean / run_var, which training updates when not null).
template <typename T>
void batch_norm_forward(const T* x, const T* w, const T* b, T* y, T* save_mean, T* save_invstd, T* run_mean, T* run_var,
                        int64_t N, int64_t C, int64_t S, bool training, double momentum, double eps);
template <typename T>  // dx / dw / db may be null (not wanted)
void batch_norm_backward(const T* dout, const T* x, const T* w, const T* mean, const T* invstd, T* dx, T* dw, T* db,
                         int64_t N, int64_t C, int64_t S, bool training);
// Rows (R, D = Cg * S), row r in group r % G, normalised over its D elements; the affine index of
// element (r, j, s) is (r % G) * Cg + j. mean / invstd (R,).
template <typename T>
void rownorm_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* invstd, int64_t R, int64_t G, int64_t Cg,
                     int64_t S, double eps);
template <typename T>
void rownorm_backward(const T* dout, const T* x, const T* w, const T* mean, const T* invstd, T* dx, T* dw, T* db,
                      int64_t R, int64_t G, int64_t Cg, int64_t S);
// Local response norm across channels of x (N, C, S).
template <typename T>
void lrn_forward(const T* x, T* y, int64_t N, int64_t C, int64_t S, int64_t size, double alpha, double beta, double k);
template <typename T>
void lrn_backward(const T* dout, const T* x, T* dx, int64_t N, int64_t C, int64_t S, int64_t size, double alpha,
                  double beta, double k);
template <typename T> double lp_sum(const T* x, int64_t n, double p);  // sum |x|^p; p = inf: max |x|
// out[0] = lp_sum(x, n, p): the form whose result can stay on a device (cuda::lp_sum_into)
template <typename T> void lp_sum_into(const T* x, int64_t n, double p, double* out);
// dout: one element (a device scalar on CUDA)
template <typename T> void lp_sum_backward(const T* dout, const T* x, T* dx, int64_t n, double p);
template <typename T> void clamp_inplace(T* x, int64_t n, T lo, T hi);

// ---- dropout.cpp ----
// y = x * mul + add per group of `group` elements, (mul, add) chosen by a keep mask that is
// a pure function of (seed, group index).
template <typename T>
void dropout_apply(const T* x, T* y, int64_t n, int64_t group, double p, uint64_t seed, T keep_mul, T keep_add,
                   T drop_mul, T drop_add);

// ---- resize.cpp: pooling variants and upsampling ----
// x is (planes, H, W) contiguous, y (planes, OH, OW)
template <typename T>
void adaptive_avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW);
template <typename T>
void adaptive_avg_pool2d_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW);
template <typename T>
void adaptive_max_pool2d_forward(const T* x, T* y, int64_t* indices, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                 int64_t OW);
// x is (outer, C*r*r, H, W) -> y (outer, C, H*r, W*r); inverse = false. inverse = true maps y back to x.
template <typename T>
void pixel_shuffle(const T* src, T* dst, int64_t outer, int64_t C, int64_t H, int64_t W, int64_t r, bool inverse);
template <typename T>
void interpolate_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                         const InterpolateArgs& args);
template <typename T>
void interpolate_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                          const InterpolateArgs& args);
// indices are already range-checked against OH*OW
template <typename T>
void max_unpool2d_forward(const T* x, const int64_t* indices, T* y, int64_t planes, int64_t HW, int64_t OHW);
template <typename T>
void max_unpool2d_backward(const T* dout, const int64_t* indices, T* dx, int64_t planes, int64_t HW, int64_t OHW);

// ---- loss.cpp ----
// Class losses over contiguous (N, C, S) log-probabilities (S = d1 * d2 * ...), one element per (n, s).
// g is the upstream gradient of element i at g[i * gstride] * gscale (gstride 0 for a reduced loss).
// class_loss_forward writes each element's loss (0 where ignored) and its weight in the mean's denominator.
template <typename T>
void class_loss_forward(const T* lp, const int64_t* target, const T* weight, T* loss, T* denom, int64_t N, int64_t C,
                        int64_t S, int64_t ignore_index, double smoothing);
// log_softmax of logits (N, C, S) over C into lp, then class_loss_forward on it (one launch on a GPU).
template <typename T>
void cross_entropy_fused_forward(const T* logits, const int64_t* target, const T* weight, T* lp, T* loss, T* denom,
                                 int64_t N, int64_t C, int64_t S, int64_t ignore_index, double smoothing);
// fused: dx is the gradient w.r.t. the logits (lp = log_softmax(logits)); else w.r.t. lp (NLL).
template <typename T>
void class_loss_backward(const T* g, int64_t gstride, T gscale, const T* lp, const int64_t* target, const T* weight,
                         T* dx, int64_t N, int64_t C, int64_t S, int64_t ignore_index, double smoothing, bool fused);
template <typename T>
void prob_loss_forward(const T* lp, const T* target, const T* weight, T* loss, int64_t N, int64_t C, int64_t S,
                       double smoothing);
// dtarget may be null
template <typename T>
void prob_loss_backward(const T* g, int64_t gstride, T gscale, const T* lp, const T* target, const T* weight, T* dx,
                        T* dtarget, int64_t N, int64_t C, int64_t S, double smoothing);
// x, y, loss have n elements; w / pw are null or have n elements.
template <typename T>
void pointwise_loss_forward(const PointwiseLossArgs& args, const T* x, const T* y, const T* w, const T* pw, T* loss,
                            int64_t n);
// dx / dy may be null
template <typename T>
void pointwise_loss_backward(const PointwiseLossArgs& args, const T* g, int64_t gstride, T gscale, const T* x,
                             const T* y, const T* w, const T* pw, T* dx, T* dy, int64_t n);
// x (N, C), target (N,), w null or (C,); loss (N,)
template <typename T>
void multi_margin_forward(const T* x, const int64_t* target, const T* w, T* loss, int64_t N, int64_t C, int64_t p,
                          double margin);
template <typename T>
void multi_margin_backward(const T* g, int64_t gstride, T gscale, const T* x, const int64_t* target, const T* w, T* dx,
                           int64_t N, int64_t C, int64_t p, double margin);
// Serial double-precision sum (deterministic for any thread count).
template <typename T> double sum_serial(const T* x, int64_t n);
// out[0] = sum(per) / (denom ? sum(denom) : divisor), sums as sum_serial: a reduced loss as a 0-d tensor.
template <typename T> void loss_reduce(const T* per, const T* denom, int64_t n, double divisor, T* out);
// out[0] = dout[0] * (1 / summed weight of the targets that are not ignore_index): a class loss mean's gradient.
template <typename T>
void class_grad_scale(const T* dout, const int64_t* target, const T* weight, int64_t n, int64_t C, int64_t ignore_index,
                      T* out);

// ---- tensor_ops.cpp: joining, splitting, indexing, reductions with indices ----
// (A, N, B) / (A, R, B) are contiguous views around one dim
template <typename T> void index_select_anb(const T* x, const int64_t* index, T* out, int64_t A, int64_t N, int64_t K,
                                            int64_t B);
template <typename T> void index_add_anb(const T* dout, const int64_t* index, T* dx, int64_t A, int64_t N, int64_t K,
                                         int64_t B);
template <typename T> void masked_select(const T* x, const bool* mask, T* out, int64_t n);
template <typename T> void masked_scatter(const T* src, const bool* mask, T* dx, int64_t n);
template <typename T> void minmax_arb(const T* x, T* values, int64_t* indices, int64_t A, int64_t R, int64_t B,
                                      bool is_min);
template <typename T> void scatter_arb(const T* dout, const int64_t* indices, T* dx, int64_t A, int64_t R, int64_t B);
template <typename T> void compare(CompareOp op, const T* a, const T* b, bool* out, int64_t n);
template <typename T> void where(const bool* cond, const T* a, const T* b, T* out, int64_t n);
template <typename T> void where_grad(const bool* cond, const T* dout, T* da, T* db, int64_t n);
template <typename T> void maximum(const T* a, const T* b, T* out, int64_t n, bool is_min);
template <typename T> void maximum_grad(const T* a, const T* b, const T* dout, T* da, T* db, int64_t n, bool is_min);

// ---- convs.cpp: the convolution family's own pieces (padding, transposed convolution's bias) ----
// y (N, C, HW) += b (C,)
template <typename T> void add_channel_bias(T* y, const T* b, int64_t N, int64_t C, int64_t HW);
// map[o], o < out: the input index that output o copies along a dim of size n padded by lo in front, for the
// non-constant modes (the tables mh and mw below); I is int64_t
template <typename I>
void pad_index_map(I* map, int64_t n, int64_t lo, int64_t out, PadMode mode);
// x (planes, H, W), y (planes, OH, OW); y[p, oh, ow] = x[p, mh[oh], mw[ow]]; backward accumulates
template <typename T>
void pad_index_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                       const int64_t* mh, const int64_t* mw);
template <typename T>
void pad_index_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                        const int64_t* mh, const int64_t* mw);

// ---- deform_conv.cpp; per-image buffers: x (C, H, W), offset
// (2*offset_groups*KK, L), mask (offset_groups*KK, L) or nullptr, col (C*KK, L), KK = KH*KW, L = OH*OW ----
// col[c*KK + k, l] = mask * bilinear sample of x[c] at tap k of output l, moved by its offset
template <typename T> void deform_im2col(const T* x, const T* offset, const T* mask, T* col, const DeformGeometry& g);
// dx += the transpose of deform_im2col applied to dcol (bilinear scatter)
template <typename T> void deform_col2im(const T* dcol, const T* offset, const T* mask, T* dx, const DeformGeometry& g);
// writes doffset (or nullptr) and dmask (or nullptr) from dcol
template <typename T>
void deform_col2coord(const T* dcol, const T* x, const T* offset, const T* mask, T* doffset, T* dmask,
                      const DeformGeometry& g);
// whole batch: y (N, OC, L); b may be nullptr
template <typename T>
void deform_conv2d_forward(const T* x, const T* offset, const T* mask, const T* w, const T* b, T* y, int64_t N,
                           int64_t OC, int64_t groups, const DeformGeometry& g);
// dx, doffset, dmask, dw zeroed by the caller (or nullptr when not needed); db (or nullptr) is written
template <typename T>
void deform_conv2d_backward(const T* dout, const T* x, const T* offset, const T* mask, const T* w, T* dx, T* doffset,
                            T* dmask, T* dw, T* db, int64_t N, int64_t OC, int64_t groups, const DeformGeometry& g);

// ---- sort.cpp: sorting, selection and scans along one dim; x (A, N, B) contiguous, a row is one (a, b) ----
// values, indices (A, K, B): each row's K first elements in order (ascending, or descending), stable, NaN the
// largest; K == N sorts, K < N selects (topk). Any value type.
template <typename T>
void sort_anb(const T* x, T* values, int64_t* indices, int64_t A, int64_t N, int64_t B, int64_t K, bool descending);
// dx (A, N, B) zeroed; dx[a, indices[a, k, b], b] = dout[a, k, b] (indices distinct per row: sort's or topk's)
template <typename T>
void scatter_anb(const T* dout, const int64_t* indices, T* dx, int64_t A, int64_t K, int64_t N, int64_t B);
// out (A, N, B): running sums along N (from the end when reverse); floats sum in double, integers wrap.
template <typename T> void cumsum_anb(const T* x, T* out, int64_t A, int64_t N, int64_t B, bool reverse);
// out (A, B) = product over R of x (A, R, B); backward writes dx (A, R, B) from dout (A, B), zeros allowed.
template <typename T> void prod_arb(const T* x, T* out, int64_t A, int64_t R, int64_t B);
template <typename T> void prod_backward_arb(const T* x, const T* dout, T* dx, int64_t A, int64_t R, int64_t B);
// x (N, M): N rows of M; returns U, the number of distinct rows, and writes first (U,) (a row of each distinct
// one, in lexicographic order), inverse (N,) (each row's group) and counts (U,). Serial.
template <typename T>
int64_t unique_rows(const T* x, int64_t N, int64_t M, int64_t* first, int64_t* inverse, int64_t* counts);
// x (n,) in chunks of `chunk`: counts[c] = non-zero elements of chunk c; then out (total, ndim) gets their
// coordinates in x's shape, chunk c from row offsets[c] on (the exclusive prefix sums of counts).
template <typename T> void nonzero_counts(const T* x, int64_t n, int64_t chunk, int64_t* counts);
template <typename T>
void nonzero_coords(const T* x, int64_t n, int64_t chunk, const int64_t* offsets, const int64_t* shape, int64_t ndim,
                    int64_t* out);
// ---- conv2d.cpp's im2col and col2im, whole rows, for unfold / fold and conv3d ----
// g describes one image x (Cg, H, W) (N and G unused); col holds g.K rows of g.P values at row stride ld.
// im2col_channels writes the rows of channels [c0, c1); col2im_channels overwrites channels [c0, c1) of x
// with the sum of those rows' entries that read each pixel.
template <typename T>
void im2col_channels(const T* x, T* col, const Conv2dGeometry& g, int64_t c0, int64_t c1, int64_t ld);
template <typename T>
void col2im_channels(const T* col, T* x, const Conv2dGeometry& g, int64_t c0, int64_t c1, int64_t ld);

// ---- fold.cpp: x contiguous (planes, H, W) <-> col (planes*KH*KW, OH*OW), planes = N*C ----
// g: N = 1, C = Cg = planes, G = 1 (a whole batch is one image of N*C channels). col fully written.
template <typename T> void unfold_forward(const T* x, T* col, const Conv2dGeometry& g);
// x fully written: the sum of every column entry that reads each pixel (overlaps add).
template <typename T> void fold_forward(const T* col, T* x, const Conv2dGeometry& g);

// ---- conv3d.cpp: contiguous x (N, C, D, H, W), w (OC, C/groups, KD, KH, KW), b (OC,) or null,
// y (N, OC, OD, OH, OW); vol2col + gemm per image and group ----
struct Conv3dGeometry {
  int64_t N, C, D, H, W, OC, KD, KH, KW, OD, OH, OW;
  int64_t G, Cg, OCg;  // groups, input and output channels per group
  int64_t K, P;        // the GEMM: K = Cg*KD*KH*KW rows of col(x), P = OD*OH*OW columns
  int64_t stride_d, stride_h, stride_w, pad_d, pad_h, pad_w, dilation_d, dilation_h, dilation_w;
};
template <typename T>
void conv3d_forward(const T* x, const T* w, const T* b, T* y, const Conv3dGeometry& g);
// dx (N, C, D, H, W) from dout (N, OC, OD, OH, OW); fully written.
template <typename T>
void conv3d_input_grad(const T* dout, const T* w, T* dx, const Conv3dGeometry& g);
// dw (OC, C/groups, KD, KH, KW) from dout and x; fully written, images summed in order.
template <typename T>
void conv3d_weight_grad(const T* dout, const T* x, T* dw, const Conv3dGeometry& g);
// ---- grid_sample.cpp: x (N, C, H, W), grid (N, Ho, Wo, 2), y and dout (N, C, Ho, Wo), all contiguous ----
struct GridSampleGeometry {
  int64_t N, C, H, W, Ho, Wo;
};
template <typename T>
void grid_sample_forward(const T* x, const T* grid, T* y, const GridSampleGeometry& g, const GridSampleArgs& a);
// dx (zeroed by the caller) accumulates, dgrid is written; either may be nullptr when not needed
template <typename T>
void grid_sample_backward(const T* dout, const T* x, const T* grid, T* dx, T* dgrid, const GridSampleGeometry& g,
                          const GridSampleArgs& a);
// ---- indexing.cpp: gather / scatter along a dim, embedding, one_hot ----
// The walk of gather and scatter: every element of index (shape, index_strides), in lines along dim; the
// input is addressed through self_strides, the other tensor (gather's out, scatter's src) through
// src_strides, all in elements. Lines differ off dim, so no two lines touch one element of the output.
struct IndexGeometry {
  std::vector<int64_t> shape, index_strides, self_strides, src_strides;
  int64_t dim = 0;
};
template <typename T> void gather(const T* self, const int64_t* index, T* out, const IndexGeometry& g);
template <typename T>
void scatter(T* self, const int64_t* index, const T* src, ScatterReduce reduce, const IndexGeometry& g);
// weight (V, D) with strides (ws0, ws1), indices (n,) in [0, V) -> out (n, D) contiguous
template <typename T>
void embedding_forward(const T* weight, int64_t ws0, int64_t ws1, const int64_t* indices, T* out, int64_t n, int64_t D);
// dout (n, D) contiguous -> dweight (V, D) contiguous, zeroed by the caller
template <typename T>
void embedding_backward(const T* dout, const int64_t* indices, T* dweight, int64_t n, int64_t V, int64_t D,
                        int64_t padding_idx, bool scale_grad_by_freq);
template <typename T>
void embedding_renorm(T* weight, int64_t ws0, int64_t ws1, const int64_t* indices, int64_t n, int64_t V, int64_t D,
                      double max_norm, double norm_type);
// out (n, C) zeroed by the caller; out[i, indices[i]] = 1
void one_hot(const int64_t* indices, int64_t* out, int64_t n, int64_t C);

}  // namespace pycnn::cpu
