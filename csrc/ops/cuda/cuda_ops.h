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

// ---- loss.cu ----

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

}  // namespace pycnn::cuda
