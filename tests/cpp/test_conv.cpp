// C++ test of the implicit-GEMM convolution against the direct 7-loop reference (cpu::conv2d_forward_naive),
// over strides, padding, dilation, groups, odd sizes and both dtypes, with both SIMD kernel sets.
#include <cmath>
#include <cstdio>
#include <random>

#include "expect.h"                   // defines: EXPECT, failures
#include "pycnn/core/cpu_features.h"  // defines: force_simd_level, simd_level
#include "pycnn/core/tensor.h"
#include "pycnn/ops/cpu/cpu_ops.h"  // defines: cpu::conv2d_forward_naive, cpu::conv2d_geometry
#include "pycnn/ops/ops.h"          // defines: conv2d_forward, conv2d_args

using namespace pycnn;

template <typename T>
static Tensor random_tensor(const Shape& shape, std::mt19937& rng) {
  Tensor t = Tensor::empty(shape, dtype_of<T>::value);
  std::normal_distribution<double> dist(0.0, 1.0);
  T* p = t.data<T>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(dist(rng));
  return t;
}

struct Case {
  int64_t n, c, h, w, oc, kh, kw;
  Conv2dArgs args;
};

template <typename T>
static void check_case(const Case& k, std::mt19937& rng, double tol) {
  Tensor x = random_tensor<T>({k.n, k.c, k.h, k.w}, rng);
  Tensor w = random_tensor<T>({k.oc, k.c / k.args.groups, k.kh, k.kw}, rng);
  Tensor b = random_tensor<T>({k.oc}, rng);
  Tensor y = conv2d_forward(x, w, b, k.args);
  Tensor ref = Tensor::empty(y.shape(), y.dtype());
  const cpu::Conv2dGeometry g = cpu::conv2d_geometry(x.shape(), w.shape(), y.shape(), k.args);
  cpu::conv2d_forward_naive<T>(x.data<T>(), w.data<T>(), b.data<T>(), ref.data<T>(), g);
  double worst = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    const double r = ref.data<T>()[i];
    worst = std::max(worst, std::fabs(y.data<T>()[i] - r) / (1.0 + std::fabs(r)));
  }
  if (worst > tol)
    std::printf("conv (%lld,%lld,%lld,%lld)->%lld k%lldx%lld: worst relative error %g\n", (long long)k.n,
                (long long)k.c, (long long)k.h, (long long)k.w, (long long)k.oc, (long long)k.kh, (long long)k.kw,
                worst);
  EXPECT(worst <= tol);
}

int main() {
  std::mt19937 rng(0);
  const Case cases[] = {
      {2, 1, 28, 28, 6, 5, 5, {}},                                      // LeNet conv1
      {3, 6, 12, 12, 16, 5, 5, {}},                                     // LeNet conv2
      {2, 8, 9, 11, 5, 3, 3, conv2d_args({1, 1}, {1, 1}, {1, 1}, 1)},   // odd sizes, padding
      {2, 4, 10, 10, 6, 3, 3, conv2d_args({2, 2}, {1, 1}, {1, 1}, 1)},  // stride 2
      {1, 6, 13, 9, 4, 3, 2, conv2d_args({1, 2}, {2, 0}, {2, 1}, 2)},   // rectangular kernel, dilation, groups
      {2, 8, 7, 7, 8, 3, 3, conv2d_args({1, 1}, {1, 1}, {1, 1}, 8)},    // depthwise (direct kernel)
      {2, 4, 9, 10, 8, 3, 3, conv2d_args({2, 2}, {1, 1}, {1, 1}, 4)},   // depthwise, multiplier 2, stride 2
      {1, 3, 11, 8, 3, 5, 3, conv2d_args({1, 1}, {2, 1}, {2, 1}, 3)},   // depthwise, dilation, uneven padding
      {2, 16, 6, 5, 12, 1, 1, {}},                                      // pointwise
      {1, 70, 9, 9, 20, 3, 3, conv2d_args({1, 1}, {1, 1}, {1, 1}, 1)},  // K = 630 > one K slice
  };
  for (size_t i = 0; i < enum_count<SimdLevel>(); ++i) {
    const auto level = static_cast<SimdLevel>(i);
    if (!simd_level_supported(level)) {
      std::printf("SKIPPED: this CPU cannot run the '%s' kernel set\n", enum_name(level));
      continue;
    }
    force_simd_level(level);
    for (const Case& k : cases) {
      check_case<float>(k, rng, 1e-4);
      check_case<double>(k, rng, 1e-11);
    }
  }
  std::printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
