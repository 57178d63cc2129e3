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

// ---- reduce.cu, norm.cu ----

// ---- loss.cu ----

// ---- optim.cu ----

// ---- tensor_ops.cu ----
// The contracts of cpu_ops.h's tensor_ops section; (A, N, B) / (A, R, B) are contiguous views around one dim.
template <typename T>
PYCNN_CUDA_KERNEL(void index_select_anb(const T* x, const int64_t* index, T* out, int64_t A, int64_t N, int64_t K,
                                        int64_t B))
template <typename T>
PYCNN_CUDA_KERNEL(void index_add_anb(const T* dout, const int64_t* index, T* dx, int64_t A, int64_t N, int64_t K,
                                     int64_t B))
template <typename T>
PYCNN_CUDA_KERNEL(void masked_select(const T* x, const int64_t* mask, T* out, int64_t n))
template <typename T>
PYCNN_CUDA_KERNEL(void masked_scatter(const T* src, const int64_t* mask, T* dx, int64_t n))
// *count (one int64 on the device) = the number of non-zero entries of mask: masked_select's output size.
PYCNN_CUDA_KERNEL(void count_nonzero(const int64_t* mask, int64_t n, int64_t* count)) template <typename T>
PYCNN_CUDA_KERNEL(void minmax_arb(const T* x, T* values, int64_t* indices, int64_t A, int64_t R, int64_t B,
                                  bool is_min))
template <typename T>
PYCNN_CUDA_KERNEL(void scatter_arb(const T* dout, const int64_t* indices, T* dx, int64_t A, int64_t R, int64_t B))
template <typename T>
PYCNN_CUDA_KERNEL(void compare(CompareOp op, const T* a, const T* b, int64_t* out, int64_t n))
template <typename T>
PYCNN_CUDA_KERNEL(void where(const int64_t* cond, const T* a, const T* b, T* out, int64_t n))
template <typename T>
PYCNN_CUDA_KERNEL(void where_grad(const int64_t* cond, const T* dout, T* da, T* db, int64_t n))
template <typename T>
PYCNN_CUDA_KERNEL(void maximum(const T* a, const T* b, T* out, int64_t n, bool is_min))
template <typename T>
PYCNN_CUDA_KERNEL(void maximum_grad(const T* a, const T* b, const T* dout, T* da, T* db, int64_t n, bool is_min))

}  // namespace pycnn::cuda
