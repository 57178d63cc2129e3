// The functions each kernel set's files define, in that set's namespace; simd/kernel_set.cpp gathers them
// into the set's table (simd.h's KernelSet). Only included by files in ops/cpu/simd/.
#pragma once
#include <cstdint>

#include "pycnn/ops/cpu/simd/depthwise_kernel.h"  // defines: PYCNN_DECLARE_DEPTHWISE_KERNELS
#include "pycnn/ops/cpu/simd/simd.h"              // defines: GemmKernels, KernelSet
#include "pycnn/ops/cpu/simd/winograd_kernel.h"   // defines: PYCNN_DECLARE_WINOGRAD_KERNELS

namespace pycnn::cpu::PYCNN_KNS {

// simd/gemm_kernel.cpp
GemmKernels<float> gemm_kernels_f32();
GemmKernels<double> gemm_kernels_f64();

// simd/pool_kernel.cpp
void max_pool_2x2_row(const float* r0, const float* r1, int64_t base, int64_t W, int64_t OW, float* out, int64_t* idx);
void max_pool_2x2_row(const double* r0, const double* r1, int64_t base, int64_t W, int64_t OW, double* out,
                      int64_t* idx);

// simd/pointwise_kernel.cpp
#define PYCNN_DECLARE_POINTWISE(T)                                                    \
  void relu_forward(const T* x, T* y, int64_t n);                                     \
  void relu_backward(const T* dout, const T* y, T* dx, int64_t n);                    \
  void shifted_sums(const T* x, int64_t n, double k, double* s, double* ss);          \
  void grad_sums(const T* g, const T* x, int64_t n, double k, double* s, double* sg); \
  void affine(const T* x, T* y, int64_t n, T scale, T shift);                         \
  void affine2(const T* g, const T* x, T* out, int64_t n, T a, T b, T c);
PYCNN_DECLARE_POINTWISE(float)
PYCNN_DECLARE_POINTWISE(double)
#undef PYCNN_DECLARE_POINTWISE

// simd/winograd_kernel.cpp
PYCNN_DECLARE_WINOGRAD_KERNELS

// simd/depthwise_kernel.cpp
DepthwiseWork depthwise_work(const Conv2dGeometry& g);
PYCNN_DECLARE_DEPTHWISE_KERNELS(float)
PYCNN_DECLARE_DEPTHWISE_KERNELS(double)

}  // namespace pycnn::cpu::PYCNN_KNS
