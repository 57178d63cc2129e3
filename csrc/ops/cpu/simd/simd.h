// The kernels compiled twice (baseline and AVX2+FMA). Each copy lives in pycnn::cpu::<PYCNN_KNS>;
// ops/cpu/*.cpp pick one through simd_level(). Keep these TUs free of out-of-line std:: templates:
// two copies built with different -m flags would break the one-definition rule.
// GEMM pieces (simd/gemm_kernel.cpp): panel packing and the macro-kernel over packed panels; the
// blocking loops and threads around them are in ops/cpu/gemm.cpp.
#pragma once
#include <cstdint>

namespace pycnn::cpu {

// Register blocking of the GEMM micro-kernels: a MR x NR tile of C stays in registers. Both copies use
// the same values so that the packed layouts, and the driver in ops/cpu/gemm.cpp, are shared.
// float 6x16 = 12 ymm accumulators + 2 for B + 1 for A's broadcast, within AVX2's 16 registers;
// double 6x8 is the same tile in bytes.
template <typename T>
struct GemmTile;
template <>
struct GemmTile<float> {
  static constexpr int mr = 6, nr = 16;
};
template <>
struct GemmTile<double> {
  static constexpr int mr = 6, nr = 8;
};

// Cache blocking of the GEMM driver (ops/cpu/gemm.cpp; conv2d.cpp drives the same pieces with the same
// blocks). Zen3: 32 KiB L1d, 1 MiB L2 per core here, 32 MiB shared L3.
//  kc: the depth of one packed slice. For float 384: the B micro-panel (kc x NR, 24 KiB) stays in L1
//      while A's micro-panels stream past it, and a deeper slice amortises each C tile's load and store
//      over more FMAs; 384 measured ~2-3% faster than 256 at n = 1024..2048. For double the same bytes
//      would overflow L1 (8 x 384 doubles = 24 KiB plus 18 KiB of A), so 256.
//  mc: the packed A block (mc x kc) lives in L2: 120 x 384 floats = 180 KiB, 96 x 256 doubles = 192 KiB,
//      a fifth of L2, leaving room for the B panel's lines streaming through. Multiples of MR; 96..192
//      were all within noise of each other, 120 the most consistent.
//  nc: the packed B slice (kc x nc) sits in L3: 4080 x 384 floats = 6 MiB of its 32. Multiples of NR.
template <typename T>
struct GemmBlocking;
template <>
struct GemmBlocking<float> {
  static constexpr int64_t mc = 120, kc = 384, nc = 4080;
};
template <>
struct GemmBlocking<double> {
  static constexpr int64_t mc = 96, kc = 256, nc = 4080;
};

// Packed layouts (what gemm_macro_kernel reads):
//   gemm_pack_a: op(A)'s mc x kc block as ceil(mc/MR) panels, each kc steps of MR values
//                (rows past mc are zero). a points at op(A)(0,0); trans: A is stored (K, M).
//   gemm_pack_b: op(B)'s kc x nc block as ceil(nc/NR) panels, each kc steps of NR values
//                (columns past nc are zero). trans: B is stored (N, K).
// gemm_macro_kernel: C(mc, nc) = alpha * packA @ packB + beta * C, with C element (i, j) at
//   c[i * rs_c + j * cs_c]; beta == 0 writes C without reading it.
#define PYCNN_DECLARE_GEMM_KERNELS(T)                                                                         \
  void gemm_pack_a(bool trans, int64_t mc, int64_t kc, const T* a, int64_t lda, T* dst);                      \
  void gemm_pack_b(bool trans, int64_t kc, int64_t nc, const T* b, int64_t ldb, T* dst);                      \
  void gemm_macro_kernel(int64_t mc, int64_t nc, int64_t kc, T alpha, const T* pa, const T* pb, T beta, T* c, \
                         int64_t rs_c, int64_t cs_c);

// Max pooling 2x2 / stride 2 (simd/pool_kernel.cpp): one output row from input rows r0 and r1 = r0 + W;
// base is r0's flat index in the plane; writes OW values and torch-style flat h*W+w indices.
#define PYCNN_DECLARE_POOL_KERNELS(T) \
  void max_pool_2x2_row(const T* r0, const T* r1, int64_t base, int64_t W, int64_t OW, T* out, int64_t* idx);

namespace base {
const char* kernel_set_name();
PYCNN_DECLARE_GEMM_KERNELS(float)
PYCNN_DECLARE_GEMM_KERNELS(double)
PYCNN_DECLARE_POOL_KERNELS(float)
PYCNN_DECLARE_POOL_KERNELS(double)
}  // namespace base
namespace avx2 {
const char* kernel_set_name();
PYCNN_DECLARE_GEMM_KERNELS(float)
PYCNN_DECLARE_GEMM_KERNELS(double)
PYCNN_DECLARE_POOL_KERNELS(float)
PYCNN_DECLARE_POOL_KERNELS(double)
}  // namespace avx2

#undef PYCNN_DECLARE_GEMM_KERNELS
#undef PYCNN_DECLARE_POOL_KERNELS

}  // namespace pycnn::cpu
