// CUDA kernels behind the op entry points (ops/ops.h), one section per file of ops/cuda/; the mirror of
// ops/cpu/cpu_ops.h, with the same convention: raw device pointers plus sizes or an argument struct
// (ops/kernel_args.h), never a Tensor; inputs validated and contiguous unless the struct gives strides;
// outputs preallocated. Every kernel launches on the current stream of the current device (the entry
// point's PYCNN_DISPATCH made the tensors' device current) and returns without synchronising.
//
// Each declaration is wrapped in PYCNN_CUDA_KERNEL(...): in a build with CUDA it is a plain declaration,
// defined in ops/cuda/<family>.cu; without CUDA it becomes an inline body that throws, so that the no-CUDA
// build needs no hand-written stub and still type-checks every call of ops/*.cpp.
#pragma once
#include <cstdint>

#include "pycnn/core/cuda_runtime.h"  // defines: kernel_not_built
#include "pycnn/ops/kernel_args.h"
#include "pycnn/ops/ops.h"

#if defined(PYCNN_WITH_CUDA)
#define PYCNN_CUDA_KERNEL(...) __VA_ARGS__;
#else
#define PYCNN_CUDA_KERNEL(...) \
  inline __VA_ARGS__ { ::pycnn::cuda::kernel_not_built(__func__); }
#endif

namespace pycnn::cuda {

// ---- copy.cu ----
// dst = src converted to D, both walked through their strides; D and S are float, double or int64.
template <typename D, typename S>
PYCNN_CUDA_KERNEL(void copy_strided(D* dst, const S* src, const StridedViews& v))
template <typename T>
PYCNN_CUDA_KERNEL(void fill(T* dst, int64_t n, T value))  // float, double or int64

// ---- gemm.cu ----
// Row-major C = alpha * op(A) @ op(B) + beta * C, the contract of cpu::gemm. beta == 0 ignores C's old contents.
template <typename T>
PYCNN_CUDA_KERNEL(void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                            int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc))
// gemm with a fused epilogue, one launch: C = act(alpha * op(A) @ op(B) + beta * C + bias), bias[i] added to
// row i when bias_per_row (a convolution's channels), bias[j] to column j otherwise (a linear layer); bias may
// be null; act is ReLU (NaN stays NaN) when relu, else the identity. The contract of cpu::gemm_bias.
template <typename T>
PYCNN_CUDA_KERNEL(void gemm_bias(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                                 int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc, const T* bias,
                                 bool bias_per_row, bool relu))
// out[j] = sum_i x[i, j] over a contiguous (rows, cols) x (a bias gradient), deterministic: the sums of
// cpu::sum_rows in the same order.
template <typename T>
PYCNN_CUDA_KERNEL(void sum_rows(const T* x, T* out, int64_t rows, int64_t cols))
// TF32 tensor cores for float GEMMs, off by default (torch's allow_tf32): when on, float results carry a
// relative error of about 1e-3 of sum_k |a_ik| |b_kj| (10-bit mantissa inputs). Process-wide. Without CUDA
// setting it does nothing and it reads false.
#if defined(PYCNN_WITH_CUDA)
void set_allow_tf32(bool allow);
bool allow_tf32();
#else
inline void set_allow_tf32(bool) {
}
inline bool allow_tf32() { return false; }
#endif

// ---- conv2d.cu, convs.cu, deform_conv.cu ----
// Contiguous x (N, C, H, W), w (OC, C/groups, KH, KW), b (OC,) or null, y (N, OC, OH, OW); the contracts of
// cpu::conv2d_*: every output fully written, sums in an order fixed by the shape (deterministic).
template <typename T>
PYCNN_CUDA_KERNEL(void conv2d_forward(const T* x, const T* w, const T* b, T* y, const Conv2dGeometry& g))
template <typename T>
PYCNN_CUDA_KERNEL(void conv2d_input_grad(const T* dout, const T* w, T* dx, const Conv2dGeometry& g))
template <typename T>
PYCNN_CUDA_KERNEL(void conv2d_weight_grad(const T* dout, const T* x, T* dw, const Conv2dGeometry& g))
// y (N, C, HW) += b (C,)
template <typename T>
PYCNN_CUDA_KERNEL(void add_channel_bias(T* y, const T* b, int64_t N, int64_t C, int64_t HW))
// map (device memory) [o], o < out: the input index that output o copies along a dim of size n padded by lo
// in front, for the non-constant modes; I is int64_t (a template as every kernel here)
template <typename I>
PYCNN_CUDA_KERNEL(void pad_index_map(I* map, int64_t n, int64_t lo, int64_t out, PadMode mode))
// x (planes, H, W), y (planes, OH, OW); y[p, oh, ow] = x[p, mh[oh], mw[ow]], mh and mw in device memory;
// the backward writes every dx element (the sum of the outputs that copied it).
template <typename T>
PYCNN_CUDA_KERNEL(void pad_index_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                         const int64_t* mh, const int64_t* mw))
template <typename T>
PYCNN_CUDA_KERNEL(void pad_index_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                          int64_t OW, const int64_t* mh, const int64_t* mw))

// Deformable convolution, whole batch; the buffers of cpu::deform_conv2d_* (ops/cpu/cpu_ops.h). dx, doffset,
// dmask and dw zeroed by the caller (or null when not needed); db (or null) is written.
template <typename T>
PYCNN_CUDA_KERNEL(void deform_conv2d_forward(const T* x, const T* offset, const T* mask, const T* w, const T* b, T* y,
                                             int64_t N, int64_t OC, int64_t groups, const DeformGeometry& g))
template <typename T>
PYCNN_CUDA_KERNEL(void deform_conv2d_backward(const T* dout, const T* x, const T* offset, const T* mask, const T* w,
                                              T* dx, T* doffset, T* dmask, T* dw, T* db, int64_t N, int64_t OC,
                                              int64_t groups, const DeformGeometry& g))

// ---- pool2d.cu, resize.cu ----
// The contracts of cpu_ops.h's pool2d and resize sections: x (planes, H, W) contiguous, y (planes, OH, OW).
// Index inputs are not range-checked on the host for a GPU tensor: out-of-range ones are skipped.
template <typename T>
PYCNN_CUDA_KERNEL(void max_pool2d_forward(const T* x, T* y, int64_t* indices, int64_t planes, int64_t H, int64_t W,
                                          int64_t OH, int64_t OW, const Pool2dArgs& args))
template <typename T>
PYCNN_CUDA_KERNEL(void max_pool2d_backward(const T* dout, const int64_t* indices, T* dx, int64_t planes, int64_t HW,
                                           int64_t OHW))
template <typename T>
PYCNN_CUDA_KERNEL(void avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                          int64_t OW, const Pool2dArgs& args))
template <typename T>
PYCNN_CUDA_KERNEL(void avg_pool2d_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                           int64_t OW, const Pool2dArgs& args))
template <typename T>
PYCNN_CUDA_KERNEL(void adaptive_avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                                   int64_t OW))
template <typename T>
PYCNN_CUDA_KERNEL(void adaptive_avg_pool2d_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W,
                                                    int64_t OH, int64_t OW))
template <typename T>
PYCNN_CUDA_KERNEL(void adaptive_max_pool2d_forward(const T* x, T* y, int64_t* indices, int64_t planes, int64_t H,
                                                   int64_t W, int64_t OH, int64_t OW))
template <typename T>
PYCNN_CUDA_KERNEL(void pixel_shuffle(const T* src, T* dst, int64_t outer, int64_t C, int64_t H, int64_t W, int64_t r,
                                     bool inverse))
template <typename T>
PYCNN_CUDA_KERNEL(void interpolate_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                           int64_t OW, const InterpolateArgs& args))
template <typename T>
PYCNN_CUDA_KERNEL(void interpolate_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                            int64_t OW, const InterpolateArgs& args))
template <typename T>
PYCNN_CUDA_KERNEL(void max_unpool2d_forward(const T* x, const int64_t* indices, T* y, int64_t planes, int64_t HW,
                                            int64_t OHW))
template <typename T>
PYCNN_CUDA_KERNEL(void max_unpool2d_backward(const T* dout, const int64_t* indices, T* dx, int64_t planes, int64_t HW,
                                             int64_t OHW))

// ---- activation.cu, elementwise.cu, dropout.cu ----
// The contracts of the cpu:: kernels of the same names (ops/cpu/cpu_ops.h): flat arrays of n elements unless
// stated, softmax over R of contiguous (A, R, B), PReLU x (outer, C, inner), Maxout x (N, C*k, inner).
template <typename T> PYCNN_CUDA_KERNEL(void relu_forward(const T* x, T* y, int64_t n))
template <typename T> PYCNN_CUDA_KERNEL(void relu_backward(const T* dout, const T* y, T* dx, int64_t n))
template <typename T>
PYCNN_CUDA_KERNEL(void softmax_forward(const T* x, T* y, int64_t A, int64_t R, int64_t B, bool log))
template <typename T>
PYCNN_CUDA_KERNEL(void softmax_backward(const T* dout, const T* y, T* dx, int64_t A, int64_t R, int64_t B, bool log))
template <typename T>
PYCNN_CUDA_KERNEL(void unary_forward(UnaryOp op, const T* x, T* y, int64_t n, double alpha, double beta))
template <typename T>
PYCNN_CUDA_KERNEL(void unary_backward(UnaryOp op, const T* dout, const T* v, T* dx, int64_t n, double alpha,
                                      double beta))
template <typename T>
PYCNN_CUDA_KERNEL(void prelu_forward(const T* x, const T* w, T* y, int64_t outer, int64_t C, int64_t inner))
// dw is summed per channel in a fixed order (deterministic, not bitwise the CPU's order)
template <typename T>
PYCNN_CUDA_KERNEL(void prelu_backward(const T* dout, const T* x, const T* w, T* dx, T* dw, int64_t outer, int64_t C,
                                      int64_t inner))
template <typename T>
PYCNN_CUDA_KERNEL(void maxout_forward(const T* x, T* y, int64_t* indices, int64_t N, int64_t C, int64_t k,
                                      int64_t inner))
// An index outside [0, k) zeroes its gradient (the CPU entry point rejects it; here that would need a sync).
template <typename T>
PYCNN_CUDA_KERNEL(void maxout_backward(const T* dout, const int64_t* indices, T* dx, int64_t N, int64_t C, int64_t k,
                                       int64_t inner))
// out (contiguous, v.shape) = a op b through the views' strides
template <typename T>
PYCNN_CUDA_KERNEL(void binary(BinaryOp op, const T* a, const T* b, T* out, const StridedViews& v))
// y = x * mul + add per group; the keep mask is a Philox4x32-10 function of (seed, group index) (ops/cuda/philox.h),
// reproducible run to run but not the CPU's mask.
template <typename T>
PYCNN_CUDA_KERNEL(void dropout_apply(const T* x, T* y, int64_t n, int64_t group, double p, uint64_t seed, T keep_mul,
                                     T keep_add, T drop_mul, T drop_add))

// ---- reduce.cu, norm.cu ----
// The contracts of ops/cpu/cpu_ops.h's reduce and norm sections, except lp_sum_into (the sum into a device
// float64 scalar), and lp_sum_backward's dout, a one-element device array (no host round trip).
template <typename T>
PYCNN_CUDA_KERNEL(void sum_arb(const T* x, T* out, int64_t A, int64_t R, int64_t B))
template <typename T>
PYCNN_CUDA_KERNEL(void argmax_arb(const T* x, int64_t* out, int64_t A, int64_t R, int64_t B))
template <typename T>
PYCNN_CUDA_KERNEL(void batch_norm_forward(const T* x, const T* w, const T* b, T* y, T* save_mean, T* save_invstd,
                                          T* run_mean, T* run_var, int64_t N, int64_t C, int64_t S, bool training,
                                          double momentum, double eps))
template <typename T>
PYCNN_CUDA_KERNEL(void batch_norm_backward(const T* dout, const T* x, const T* w, const T* mean, const T* invstd, T* dx,
                                           T* dw, T* db, int64_t N, int64_t C, int64_t S, bool training))
template <typename T>
PYCNN_CUDA_KERNEL(void rownorm_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* invstd, int64_t R,
                                       int64_t G, int64_t Cg, int64_t S, double eps))
template <typename T>
PYCNN_CUDA_KERNEL(void rownorm_backward(const T* dout, const T* x, const T* w, const T* mean, const T* invstd, T* dx,
                                        T* dw, T* db, int64_t R, int64_t G, int64_t Cg, int64_t S))
template <typename T>
PYCNN_CUDA_KERNEL(void lrn_forward(const T* x, T* y, int64_t N, int64_t C, int64_t S, int64_t size, double alpha,
                                   double beta, double k))
template <typename T>
PYCNN_CUDA_KERNEL(void lrn_backward(const T* dout, const T* x, T* dx, int64_t N, int64_t C, int64_t S, int64_t size,
                                    double alpha, double beta, double k))
template <typename T>
PYCNN_CUDA_KERNEL(void lp_sum_into(const T* x, int64_t n, double p, double* out))
template <typename T>
PYCNN_CUDA_KERNEL(void lp_sum_backward(const T* dout, const T* x, T* dx, int64_t n, double p))
template <typename T>
PYCNN_CUDA_KERNEL(void clamp_inplace(T* x, int64_t n, T lo, T hi))

// ---- loss.cu ----
// The contracts of ops/cpu/cpu_ops.h's loss section. A class target outside [0, C) that is not ignore_index
// gives NaN instead of an error (checking it would be a host round trip).
template <typename T>
PYCNN_CUDA_KERNEL(void class_loss_forward(const T* lp, const int64_t* target, const T* weight, T* loss, T* denom,
                                          int64_t N, int64_t C, int64_t S, int64_t ignore_index, double smoothing))
// log_softmax of logits over C into lp, and class_loss_forward on it, in one launch.
template <typename T>
PYCNN_CUDA_KERNEL(void cross_entropy_fused_forward(const T* logits, const int64_t* target, const T* weight, T* lp,
                                                   T* loss, T* denom, int64_t N, int64_t C, int64_t S,
                                                   int64_t ignore_index, double smoothing))
template <typename T>
PYCNN_CUDA_KERNEL(void class_loss_backward(const T* g, int64_t gstride, T gscale, const T* lp, const int64_t* target,
                                           const T* weight, T* dx, int64_t N, int64_t C, int64_t S,
                                           int64_t ignore_index, double smoothing, bool fused))
template <typename T>
PYCNN_CUDA_KERNEL(void prob_loss_forward(const T* lp, const T* target, const T* weight, T* loss, int64_t N, int64_t C,
                                         int64_t S, double smoothing))
template <typename T>
PYCNN_CUDA_KERNEL(void prob_loss_backward(const T* g, int64_t gstride, T gscale, const T* lp, const T* target,
                                          const T* weight, T* dx, T* dtarget, int64_t N, int64_t C, int64_t S,
                                          double smoothing))
template <typename T>
PYCNN_CUDA_KERNEL(void pointwise_loss_forward(const PointwiseLossArgs& args, const T* x, const T* y, const T* w,
                                              const T* pw, T* loss, int64_t n))
template <typename T>
PYCNN_CUDA_KERNEL(void pointwise_loss_backward(const PointwiseLossArgs& args, const T* g, int64_t gstride, T gscale,
                                               const T* x, const T* y, const T* w, const T* pw, T* dx, T* dy,
                                               int64_t n))
template <typename T>
PYCNN_CUDA_KERNEL(void multi_margin_forward(const T* x, const int64_t* target, const T* w, T* loss, int64_t N,
                                            int64_t C, int64_t p, double margin))
template <typename T>
PYCNN_CUDA_KERNEL(void multi_margin_backward(const T* g, int64_t gstride, T gscale, const T* x, const int64_t* target,
                                             const T* w, T* dx, int64_t N, int64_t C, int64_t p, double margin))
template <typename T>
PYCNN_CUDA_KERNEL(void loss_reduce(const T* per, const T* denom, int64_t n, double divisor, T* out))
template <typename T>
PYCNN_CUDA_KERNEL(void class_grad_scale(const T* dout, const int64_t* target, const T* weight, int64_t n, int64_t C,
                                        int64_t ignore_index, T* out))

// ---- optim.cu ----
// Several tensors of one parameter group updated in one launch (multi-tensor apply). For tensor t: q[0][t] is
// the param, q[1][t] the grad, q[2..4][t] the optimizer's state tensors in the order of the cpu:: kernel's
// arguments (null where the options don't use one), n[t] its element count and step[t] its step count
// (SGD: 1 on the momentum buffer's first step, else 0). All on one device, contiguous, of one dtype.
template <typename T>
struct OptimTensors {
  std::vector<T*> q[5];
  std::vector<int64_t> n;
  std::vector<double> step;
  int64_t count() const { return static_cast<int64_t>(n.size()); }
};
template <typename T> PYCNN_CUDA_KERNEL(void sgd_step_multi(const OptimTensors<T>& t, const SgdArgs& args))
template <typename T> PYCNN_CUDA_KERNEL(void adam_step_multi(const OptimTensors<T>& t, const AdamArgs& args))
template <typename T> PYCNN_CUDA_KERNEL(void rmsprop_step_multi(const OptimTensors<T>& t, const RmspropArgs& args))
template <typename T> PYCNN_CUDA_KERNEL(void adagrad_step_multi(const OptimTensors<T>& t, const AdagradArgs& args))
template <typename T>
PYCNN_CUDA_KERNEL(void adadelta_step_multi(const OptimTensors<T>& t, const AdadeltaArgs& args))

// ---- tensor_ops.cu ----
// The contracts of cpu_ops.h's tensor_ops section; (A, N, B) / (A, R, B) are contiguous views around one dim.
template <typename T>
PYCNN_CUDA_KERNEL(void index_select_anb(const T* x, const int64_t* index, T* out, int64_t A, int64_t N, int64_t K,
                                        int64_t B))
template <typename T>
PYCNN_CUDA_KERNEL(void index_add_anb(const T* dout, const int64_t* index, T* dx, int64_t A, int64_t N, int64_t K,
                                     int64_t B))
template <typename T>
PYCNN_CUDA_KERNEL(void masked_select(const T* x, const bool* mask, T* out, int64_t n))
template <typename T>
PYCNN_CUDA_KERNEL(void masked_scatter(const T* src, const bool* mask, T* dx, int64_t n))
// *count (one int64 on the device) = the number of non-zero entries of mask: masked_select's output size.
PYCNN_CUDA_KERNEL(void count_nonzero(const bool* mask, int64_t n, int64_t* count)) template <typename T>
PYCNN_CUDA_KERNEL(void minmax_arb(const T* x, T* values, int64_t* indices, int64_t A, int64_t R, int64_t B,
                                  bool is_min))
template <typename T>
PYCNN_CUDA_KERNEL(void scatter_arb(const T* dout, const int64_t* indices, T* dx, int64_t A, int64_t R, int64_t B))
template <typename T>
PYCNN_CUDA_KERNEL(void compare(CompareOp op, const T* a, const T* b, bool* out, int64_t n))
template <typename T>
PYCNN_CUDA_KERNEL(void where(const bool* cond, const T* a, const T* b, T* out, int64_t n))
template <typename T>
PYCNN_CUDA_KERNEL(void where_grad(const bool* cond, const T* dout, T* da, T* db, int64_t n))
template <typename T>
PYCNN_CUDA_KERNEL(void maximum(const T* a, const T* b, T* out, int64_t n, bool is_min))
template <typename T>
PYCNN_CUDA_KERNEL(void maximum_grad(const T* a, const T* b, const T* dout, T* da, T* db, int64_t n, bool is_min))

}  // namespace pycnn::cuda
