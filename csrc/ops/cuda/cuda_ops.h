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

#include "core/cuda_runtime.h"  // defines: kernel_not_built
#include "ops/kernel_args.h"
#include "ops/ops.h"

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

// ---- conv2d.cu, convs.cu, deform_conv.cu ----

// ---- pool2d.cu, resize.cu ----

// ---- activation.cu, elementwise.cu, dropout.cu ----

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

// ---- tensor_ops.cu ----

}  // namespace pycnn::cuda
