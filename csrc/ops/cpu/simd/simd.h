// The CPU kernel sets. Every file in ops/cpu/simd/ is compiled once per set, each copy in its own namespace
// pycnn::cpu::<PYCNN_KNS>, with PYCNN_VEC_BYTES giving its vector width (simd/vec.h):
//   baseline    x86-64 baseline (SSE2), 16-byte vectors
//   portable8   baseline instructions, 32-byte vectors (8 floats): the avx2 set's logic on any CPU
//   portable16  baseline instructions, 64-byte vectors (16 floats): the avx512 set's logic on any CPU
//   avx2        AVX2 + FMA, 32-byte vectors
//   avx512      AVX-512 F/BW/VL/DQ + FMA, 64-byte vectors
// The kernels are written once, generic over the vector width, so the portable sets (which the tests run
// on every machine) exercise the tile sizes, lane counts and remainders of the wide sets. ops/cpu/*.cpp
// reach a set only through its table (kernel_set()); simd_level() picks the table. Keep these TUs free of
// out-of-line std:: templates: copies built with different -m flags would break the one-definition rule.
#pragma once
#include <cstdint>

namespace pycnn {
struct Conv2dGeometry;  // ops/kernel_args.h
}

namespace pycnn::cpu {

// One line per kernel set: X(namespace). The order matches SimdLevel (core/cpu_features.h).
#define PYCNN_KERNEL_SETS(X) X(baseline) X(portable8) X(portable16) X(avx2) X(avx512)

// The deepest K slice any set's GEMM blocking uses (conv2d.cpp sizes per-slice arrays with it).
constexpr int64_t kMaxGemmKc = 512;

// A set's GEMM pieces and the register / cache blocking they were written for (simd/gemm_kernel.cpp):
//   pack_a: op(A)'s mc x kc block as ceil(mc/mr) panels, each kc steps of mr values (rows past mc zero);
//           a points at op(A)(0,0); trans: A is stored (K, M).
//   pack_b: op(B)'s kc x nc block as ceil(nc/nr) panels, each kc steps of nr values (columns past nc zero);
//           trans: B is stored (N, K).
//   macro:  C(mc, nc) = alpha * packA @ packB + beta * C, C(i, j) at c[i * rs_c + j * cs_c]; beta == 0
//           writes C without reading it.
template <typename T>
struct GemmKernels {
  int mr, nr;          // the register tile of C
  int64_t mc, kc, nc;  // the cache blocks: A block mc x kc in L2, B panel kc x nr in L1, B block in L3
  void (*pack_a)(bool trans, int64_t mc, int64_t kc, const T* a, int64_t lda, T* dst);
  void (*pack_b)(bool trans, int64_t kc, int64_t nc, const T* b, int64_t ldb, T* dst);
  void (*macro)(int64_t mc, int64_t nc, int64_t kc, T alpha, const T* pa, const T* pb, T beta, T* c, int64_t rs_c,
                int64_t cs_c);
  // dst[t * ds + r] = base[off[r] + t] for r < nrows, t < len (a transposing pack: conv2d's weight
  // gradient builds its col^T panels with it).
  void (*transpose_rows)(const T* base, const int64_t* off, int64_t nrows, int64_t len, T* dst, int64_t ds);
};

// Max pooling 2x2 / stride 2 (simd/pool_kernel.cpp): one output row from input rows r0 and r1 = r0 + W;
// base is r0's flat index in the plane; writes OW values and torch-style flat h*W+w indices.
template <typename T>
using MaxPoolRowKernel = void (*)(const T* r0, const T* r1, int64_t base, int64_t W, int64_t OW, T* out, int64_t* idx);

// Contiguous spans of the memory-bound layers (simd/pointwise_kernel.cpp): ReLU forward and backward, and
// batch norm's passes: shifted sums (s += sum(x - k), ss += sum((x - k)^2)), gradient sums (s += sum(g),
// sg += sum(g * (x - k))), y = x * scale + shift, and out = a * g + b * x + c.
template <typename T>
struct PointwiseKernels {
  void (*relu_forward)(const T* x, T* y, int64_t n);
  void (*relu_backward)(const T* dout, const T* y, T* dx, int64_t n);
  void (*shifted_sums)(const T* x, int64_t n, double k, double* s, double* ss);
  void (*grad_sums)(const T* g, const T* x, int64_t n, double k, double* s, double* sg);
  void (*affine)(const T* x, T* y, int64_t n, T scale, T shift);
  void (*affine2)(const T* g, const T* x, T* out, int64_t n, T a, T b, T c);
};

// Winograd F(4x4, 3x3) tile transforms, float32 (simd/winograd_kernel.h documents each).
struct WinogradKernels {
  void (*input)(const float* rows, int64_t rs, int n, float* v, int64_t v_stride);
  void (*output)(const float* m, int64_t m_stride, int n, float bias, float* rows, int64_t rs);
  void (*weight)(const float* g, int n, float* u, int64_t u_stride);
  void (*dout)(const float* rows, int64_t rs, int n, float* m, int64_t m_stride);
  void (*weight_grad)(const float* du, int64_t du_stride, int n, float* g);
};

// Depthwise convolution (simd/depthwise_kernel.h documents each). How the work is cut: units of `channels`
// input channels (1, or a block for planes of a few pixels) and a run of at most `images` images (each
// channel's N images in `chunks` runs), and the scratch one unit needs (elements of the type; 64-byte
// aligned). A function of the shape only, never of the thread count: the weight gradient sums the runs in
// order, so its bits do not depend on the threads either.
struct DepthwiseWork {
  int64_t channels, images, chunks, scratch;
};

template <typename T>
struct DepthwiseKernels {
  DepthwiseWork (*work)(const Conv2dGeometry& g);
  void (*forward)(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y, int64_t c0, int64_t c1, int64_t n0,
                  int64_t n1, int64_t prev_images, T* scratch);
  void (*input_grad)(const Conv2dGeometry& g, const T* dout, const T* w, T* dx, int64_t c0, int64_t c1, int64_t n0,
                     int64_t n1, T* scratch);
  void (*weight_grad)(const Conv2dGeometry& g, const DepthwiseWork& work, const T* dout, const T* x, T* dw, int64_t c0,
                      int64_t c1, int64_t prev_images, T* scratch);
};

// The kernels a set has for one element type.
template <typename T>
struct TypedKernels {
  GemmKernels<T> gemm;
  MaxPoolRowKernel<T> max_pool_2x2_row;
  PointwiseKernels<T> pointwise;
  DepthwiseKernels<T> depthwise;
};

// Everything one kernel set provides.
struct KernelSet {
  const char* name;
  int vector_bytes;
  TypedKernels<float> f32;
  TypedKernels<double> f64;
  WinogradKernels winograd_f43;  // float32 only
};

#define PYCNN_DECLARE_KERNEL_SET(ns) \
  namespace ns {                     \
  const KernelSet& kernel_set();     \
  }
PYCNN_KERNEL_SETS(PYCNN_DECLARE_KERNEL_SET)
#undef PYCNN_DECLARE_KERNEL_SET

// The table of the set simd_level() names (ops/cpu/kernel_sets.cpp).
const KernelSet& kernel_set();

// The set in use's kernels for T.
template <typename T>
const TypedKernels<T>& typed_kernels() {
  if constexpr (sizeof(T) == 4) {
    return kernel_set().f32;
  } else {
    return kernel_set().f64;
  }
}
template <typename T>
const GemmKernels<T>& gemm_kernels() {
  return typed_kernels<T>().gemm;
}
template <typename T>
const PointwiseKernels<T>& pointwise_kernels() {
  return typed_kernels<T>().pointwise;
}
template <typename T>
const DepthwiseKernels<T>& depthwise_kernels() {
  return typed_kernels<T>().depthwise;
}

}  // namespace pycnn::cpu
