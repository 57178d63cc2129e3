// This kernel set's table (simd.h's KernelSet), built from the functions its files define.
#include "pycnn/ops/cpu/simd/kernels.h"

#define PYCNN_STRINGIFY_(x) #x
#define PYCNN_STRINGIFY(x) PYCNN_STRINGIFY_(x)

namespace pycnn::cpu::PYCNN_KNS {

namespace {
template <typename T>
GemmKernels<T> gemm();
template <>
GemmKernels<float> gemm<float>() {
  return gemm_kernels_f32();
}
template <>
GemmKernels<double> gemm<double>() {
  return gemm_kernels_f64();
}

template <typename T>
PointwiseKernels<T> pointwise() {
  // Overloads: the cast picks the one for T.
  return {static_cast<void (*)(const T*, T*, int64_t)>(relu_forward),
          static_cast<void (*)(const T*, const T*, T*, int64_t)>(relu_backward),
          static_cast<void (*)(const T*, int64_t, double, double*, double*)>(shifted_sums),
          static_cast<void (*)(const T*, const T*, int64_t, double, double*, double*)>(grad_sums),
          static_cast<void (*)(const T*, T*, int64_t, T, T)>(affine),
          static_cast<void (*)(const T*, const T*, T*, int64_t, T, T, T)>(affine2)};
}

template <typename T>
DepthwiseKernels<T> depthwise() {
  using F = DepthwiseKernels<T>;
  return {depthwise_work, static_cast<decltype(F::forward)>(depthwise_forward),
          static_cast<decltype(F::input_grad)>(depthwise_input_grad),
          static_cast<decltype(F::weight_grad)>(depthwise_weight_grad)};
}

template <typename T>
TypedKernels<T> typed() {
  return {gemm<T>(), static_cast<MaxPoolRowKernel<T>>(max_pool_2x2_row), pointwise<T>(), depthwise<T>()};
}
}  // namespace

const KernelSet& kernel_set() {
  static const KernelSet set = {
      PYCNN_STRINGIFY(PYCNN_KNS),
      PYCNN_VEC_BYTES,
      typed<float>(),
      typed<double>(),
      {winograd_input_f43, winograd_output_f43, winograd_weight_f43, winograd_dout_f43, winograd_weight_grad_f43},
  };
  return set;
}

}  // namespace pycnn::cpu::PYCNN_KNS
