// Elementwise spans of the memory-bound layers, written once for every kernel set: plain loops over
// contiguous memory that the compiler vectorises at the set's width (ReLU, and batch norm's sums and
// affine passes). The threads and the per-channel arithmetic around them are in ops/cpu/activation.cpp
// and norm.cpp.
#include "pycnn/ops/cpu/simd/kernels.h"  // defines: the declarations this file implements

namespace pycnn::cpu::PYCNN_KNS {

namespace {

// Inner sums run in T over blocks of kSumBlock elements (one vector accumulator per lane; float32 over 256
// values loses nothing that matters), and the block sums add up in double: the speed of float
// accumulation with the accuracy of a double one over long rows.
constexpr int64_t kSumBlock = 256;

template <typename T>
void relu_forward_impl(const T* __restrict x, T* __restrict y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < T(0) ? T(0) : x[i];  // NaN stays NaN, as in torch
}

// dout is loaded unconditionally: a conditional load would keep the compiler from vectorising the select
// (random signs mispredict half the branches: 15x slower).
template <typename T>
void relu_backward_impl(const T* __restrict dout, const T* __restrict y, T* __restrict dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const T g = dout[i];
    dx[i] = y[i] > T(0) ? g : T(0);
  }
}

template <typename T>
void shifted_sums_impl(const T* __restrict x, int64_t n, double k, double* s, double* ss) {
  const T kt = static_cast<T>(k);
  for (int64_t i0 = 0; i0 < n; i0 += kSumBlock) {
    const int64_t m = n - i0 < kSumBlock ? n - i0 : kSumBlock;
    const T* xb = x + i0;
    T a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
    for (int64_t i = 0; i < m; ++i) {
      const T d = xb[i] - kt;
      a += d;
      b += d * d;
    }
    *s += a;
    *ss += b;
  }
}

template <typename T>
void grad_sums_impl(const T* __restrict g, const T* __restrict x, int64_t n, double k, double* s, double* sg) {
  const T kt = static_cast<T>(k);
  for (int64_t i0 = 0; i0 < n; i0 += kSumBlock) {
    const int64_t m = n - i0 < kSumBlock ? n - i0 : kSumBlock;
    const T* gb = g + i0;
    const T* xb = x + i0;
    T a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
    for (int64_t i = 0; i < m; ++i) {
      a += gb[i];
      b += gb[i] * (xb[i] - kt);
    }
    *s += a;
    *sg += b;
  }
}

template <typename T>
void affine_impl(const T* __restrict x, T* __restrict y, int64_t n, T scale, T shift) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale + shift;
}

template <typename T>
void affine2_impl(const T* __restrict g, const T* __restrict x, T* __restrict out, int64_t n, T a, T b, T c) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = a * g[i] + b * x[i] + c;
}

}  // namespace

#define PYCNN_DEFINE_POINTWISE(T)                                                                                  \
  void relu_forward(const T* x, T* y, int64_t n) { relu_forward_impl(x, y, n); }                                   \
  void relu_backward(const T* dout, const T* y, T* dx, int64_t n) { relu_backward_impl(dout, y, dx, n); }          \
  void shifted_sums(const T* x, int64_t n, double k, double* s, double* ss) { shifted_sums_impl(x, n, k, s, ss); } \
  void grad_sums(const T* g, const T* x, int64_t n, double k, double* s, double* sg) {                             \
    grad_sums_impl(g, x, n, k, s, sg);                                                                             \
  }                                                                                                                \
  void affine(const T* x, T* y, int64_t n, T scale, T shift) { affine_impl(x, y, n, scale, shift); }               \
  void affine2(const T* g, const T* x, T* out, int64_t n, T a, T b, T c) { affine2_impl(g, x, out, n, a, b, c); }
PYCNN_DEFINE_POINTWISE(float)
PYCNN_DEFINE_POINTWISE(double)
#undef PYCNN_DEFINE_POINTWISE

}  // namespace pycnn::cpu::PYCNN_KNS
