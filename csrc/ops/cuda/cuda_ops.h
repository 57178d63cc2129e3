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

// ---- loss.cu ----

// ---- optim.cu ----

// ---- tensor_ops.cu ----

}  // namespace pycnn::cuda
