// The index arithmetic and per-element bodies of the CUDA convolutions (ops/cuda/conv2d.cu, convs.cu,
// deform_conv.cu), as plain host/device code so that tests/cpp/test_cuda_conv.cpp runs every one of them on
// the CPU. Read in order: col(x) addressing; the three implicit GEMMs (forward, input gradient, weight
// gradient) as "problems" that say what A, B and the output are; the tiled GEMM's phases (load, multiply,
// store) that the kernel runs on shared-memory tiles; then the direct depthwise kernels, padding, the bias,
// and the deformable convolution's sampling.
#pragma once
#include <cstdint>

#include "pycnn/core/host_device.h"  // defines: PYCNN_HD
#include "pycnn/ops/deform_math.h"   // defines: DeformSample, deform_bilinear
#include "pycnn/ops/kernel_args.h"   // defines: Conv2dGeometry, DeformGeometry
#include "pycnn/ops/ops.h"           // defines: PadMode

// Full unrolling of the register-tile loops under nvcc; the host compiler does without (and would warn).
#if defined(__CUDACC__)
#define PYCNN_CONV_UNROLL _Pragma("unroll")
#else
#define PYCNN_CONV_UNROLL
#endif

namespace pycnn::cuda {

// ---- the geometry in 32-bit ints, with fast division -------------------------------------------------------
// The kernels' index math divides a lot. A 64-bit division is a slow subroutine call on a GPU (whose calling
// convention also made ptxas spill registers), and even a 32-bit one is ~20 instructions: so indices are
// 32-bit and every division by a geometry constant is a multiply-high and a shift (FastDiv). conv2d.cu
// checks conv_index_fits first: every tensor, and every padded extent, below 2^31 elements.

// n / d for 0 <= n < 2^31 and a fixed d >= 1 (Granlund and Montgomery's method): with s = ceil(log2 d) and
// m = floor(2^32 * (2^s - d) / d) + 1, n / d = (mulhi(n, m) + n) >> s; the sum cannot overflow 32 bits
// because mulhi(n, m) <= n < 2^31.
struct FastDiv {
  uint32_t d = 1, m = 1;
  int s = 0;
  FastDiv() = default;
  explicit FastDiv(int64_t divisor) : d(static_cast<uint32_t>(divisor)) {
    while ((uint64_t(1) << s) < d) ++s;
    m = static_cast<uint32_t>(((uint64_t(1) << 32) * ((uint64_t(1) << s) - d)) / d + 1);
  }
  PYCNN_HD int div(int n) const {
    const uint32_t u = static_cast<uint32_t>(n);
#if defined(__CUDA_ARCH__)
    const uint32_t hi = __umulhi(u, m);
#else
    const uint32_t hi = static_cast<uint32_t>((uint64_t(u) * m) >> 32);
#endif
    return static_cast<int>((hi + u) >> s);
  }
  PYCNN_HD int mod(int n) const { return n - div(n) * static_cast<int>(d); }
};

struct ConvIndex {
  int N, C, H, W, OC, KH, KW, OH, OW;
  int G, Cg, OCg, K, P;
  int stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
  FastDiv by_taps, by_KW, by_P, by_OW, by_HW, by_W, by_stride_h, by_stride_w;  // KH*KW, KW, OH*OW, OW, H*W, ...
};

inline bool conv_index_fits(const Conv2dGeometry& g) {
  constexpr int64_t kMax = (int64_t(1) << 31) - (int64_t(1) << 16);  // room for a tile past the end
  const int64_t sizes[] = {g.N * g.C * g.H * g.W,
                           g.N * g.OC * g.P,
                           g.N * g.H * g.W,
                           g.N * g.P,
                           g.OC * g.K,
                           g.OCg * g.KH * g.KW,
                           g.H + 2 * g.pad_h + g.stride_h + g.dilation_h * g.KH,
                           g.W + 2 * g.pad_w + g.stride_w + g.dilation_w * g.KW};
  for (int64_t s : sizes)
    if (s > kMax) return false;
  return true;
}

inline ConvIndex conv_index(const Conv2dGeometry& g) {
  auto i = [](int64_t v) { return static_cast<int>(v); };
  auto fd = [](int64_t v) { return FastDiv(v > 0 ? v : 1); };  // empty dims divide nothing
  return {i(g.N),        i(g.C),        i(g.H),     i(g.W),        i(g.OC),         i(g.KH),         i(g.KW),
          i(g.OH),       i(g.OW),       i(g.G),     i(g.Cg),       i(g.OCg),        i(g.K),          i(g.P),
          i(g.stride_h), i(g.stride_w), i(g.pad_h), i(g.pad_w),    i(g.dilation_h), i(g.dilation_w), fd(g.KH * g.KW),
          fd(g.KW),      fd(g.P),       fd(g.OW),   fd(g.H * g.W), fd(g.W),         fd(g.stride_h),  fd(g.stride_w)};
}

// ---- col(x): the (K, N*P) matrix of the implicit GEMM, never materialised --------------------------------
// Row k = (c, kh, kw) of group grp, column j = (n, oh, ow). The offset of x (N, C, H, W) it reads, or -1 where
// the window lies in the padding.
PYCNN_HD inline int col_offset(const ConvIndex& g, int grp, int k, int j) {
  const int c = g.by_taps.div(k), tap = k - c * g.KH * g.KW;
  const int kh = g.by_KW.div(tap), kw = tap - kh * g.KW;
  const int n = g.by_P.div(j), p = j - n * g.P;
  const int oh = g.by_OW.div(p), ow = p - oh * g.OW;
  const int ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
  const int iw = ow * g.stride_w - g.pad_w + kw * g.dilation_w;
  if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return -1;
  return ((n * g.C + grp * g.Cg + c) * g.H + ih) * g.W + iw;
}

// The transposed addressing of the input gradient: for dx element (n, h, w) and the tap k = (oc, kh, kw)
// (oc within the group), the offset of dout (N, OC, OH, OW) whose window put that tap on (h, w), or -1
// when none did (off the output grid, or between strides). Gathering over these is col2im without atomics.
PYCNN_HD inline int dout_offset(const ConvIndex& g, int grp, int k, int j) {
  const int oc = g.by_taps.div(k), tap = k - oc * g.KH * g.KW;
  const int kh = g.by_KW.div(tap), kw = tap - kh * g.KW;
  const int n = g.by_HW.div(j), hw = j - n * g.H * g.W;
  const int h = g.by_W.div(hw), w = hw - h * g.W;
  const int th = h + g.pad_h - kh * g.dilation_h, tw = w + g.pad_w - kw * g.dilation_w;
  if (th < 0 || tw < 0) return -1;
  const int oh = g.by_stride_h.div(th), ow = g.by_stride_w.div(tw);
  if (oh * g.stride_h != th || ow * g.stride_w != tw || oh >= g.OH || ow >= g.OW) return -1;
  return ((n * g.OC + grp * g.OCg + oc) * g.OH + oh) * g.OW + ow;
}

// ---- the three implicit GEMMs, per group: out (M, Ncols) = A (M, R) @ B (R, Ncols) -----------------------
// a(grp, m, r) and b(grp, r, col) read one element (0 outside the image); store writes one result of split s
// (a range of the reduction; only the weight gradient splits). a_r_fastest / b_col_fastest say which index
// runs along memory, so that the tile loaders give consecutive threads consecutive addresses.

// Forward: y[n, grp] (OCg, P) = w[grp] (OCg, K) @ col(x[n, grp]) (K, P) for all n at once (Ncols = N*P),
// bias added as the result is stored.
template <typename T>
struct ConvForwardProblem {
  ConvIndex g;
  const T* x;
  const T* w;
  const T* b;  // or nullptr
  T* y;
  static constexpr bool a_r_fastest = true, b_col_fastest = true;
  PYCNN_HD int rows() const { return g.OCg; }
  PYCNN_HD int cols() const { return g.N * g.P; }
  PYCNN_HD int depth() const { return g.K; }
  PYCNN_HD T a(int grp, int m, int r) const { return w[(grp * g.OCg + m) * g.K + r]; }
  PYCNN_HD T b_(int grp, int r, int col) const {
    const int off = col_offset(g, grp, r, col);
    return off < 0 ? T(0) : x[off];
  }
  PYCNN_HD void store(int grp, int /*split*/, int m, int col, T v) const {
    const int oc = grp * g.OCg + m, n = g.by_P.div(col), p = col - n * g.P;
    y[(n * g.OC + oc) * g.P + p] = b ? v + b[oc] : v;
  }
};

// Input gradient: dx[n, grp] (Cg, H*W) = w'[grp] (Cg, OCg*KH*KW) @ D (OCg*KH*KW, N*H*W), where w'(c, (oc, kh,
// kw)) = w[oc, c, kh, kw] and D gathers dout through dout_offset. Each dx element is one output of the GEMM,
// summed by one thread: deterministic, no atomics.
template <typename T>
struct ConvInputGradProblem {
  ConvIndex g;
  const T* dout;
  const T* w;
  T* dx;
  static constexpr bool a_r_fastest = true, b_col_fastest = true;
  PYCNN_HD int rows() const { return g.Cg; }
  PYCNN_HD int cols() const { return g.N * g.H * g.W; }
  PYCNN_HD int depth() const { return g.OCg * g.KH * g.KW; }
  PYCNN_HD T a(int grp, int c, int r) const {
    const int taps = g.KH * g.KW, q = g.by_taps.div(r), oc = grp * g.OCg + q;
    return w[(oc * g.Cg + c) * taps + r - q * taps];
  }
  PYCNN_HD T b_(int grp, int r, int col) const {
    const int off = dout_offset(g, grp, r, col);
    return off < 0 ? T(0) : dout[off];
  }
  PYCNN_HD void store(int grp, int /*split*/, int c, int col, T v) const {
    const int hw = g.H * g.W, n = g.by_HW.div(col);
    dx[(n * g.C + grp * g.Cg + c) * hw + col - n * hw] = v;
  }
};

// Weight gradient: dw[grp] (OCg, K) = dout[:, grp] (OCg, N*P) @ col(x[:, grp])^T (N*P, K). The reduction runs
// over N*P; split s sums its own contiguous range of it into out + s * OC*K (out is dw itself when there is
// one split, else a workspace that SumSplits adds up in split order).
template <typename T>
struct ConvWeightGradProblem {
  ConvIndex g;
  const T* dout;
  const T* x;
  T* out;
  static constexpr bool a_r_fastest = true, b_col_fastest = false;  // B's row r = (n, p) runs along x's rows
  PYCNN_HD int rows() const { return g.OCg; }
  PYCNN_HD int cols() const { return g.K; }
  PYCNN_HD int depth() const { return g.N * g.P; }
  PYCNN_HD T a(int grp, int m, int r) const {
    const int n = g.by_P.div(r);
    return dout[(n * g.OC + grp * g.OCg + m) * g.P + r - n * g.P];
  }
  PYCNN_HD T b_(int grp, int r, int k) const {
    const int off = col_offset(g, grp, k, r);
    return off < 0 ? T(0) : x[off];
  }
  PYCNN_HD void store(int grp, int split, int m, int k, T v) const {
    out[int64_t(split) * g.OC * g.K + (grp * g.OCg + m) * g.K + k] = v;  // the workspace may pass 2^31
  }
};

// dw[i] = the splits' partial sums of element i, added in split order (bitwise the same on every run).
template <typename T>
struct SumSplits {
  const T* partial;
  T* dw;
  int64_t splits, size;
  PYCNN_HD void operator()(int64_t i) const {
    T acc = partial[i];
    for (int64_t s = 1; s < splits; ++s) acc += partial[s * size + i];
    dw[i] = acc;
  }
};

// ---- the tiled GEMM's phases ------------------------------------------------------------------------------
// A block owns a BM x BN tile of one group's output (blockIdx.y, blockIdx.x, group and split in blockIdx.z)
// and sweeps its reduction range [r_begin, r_end) in BK-deep slices through shared memory. Thread tid =
// ty * (BN/TN) + tx keeps TM x TN accumulators in registers: rows ty + i*(BM/TM), columns tx + j*(BN/TN)
// (strided ownership: a warp reads consecutive words of the B tile and stores consecutive columns).
// Tiles are k-major with one column of padding (spreads the transposing stores over the banks).
template <typename T, int BM, int BN, int BK, int TM, int TN>
struct ConvTile {
  static constexpr int kThreads = (BM / TM) * (BN / TN);
  using A = T[BK][BM + 1];
  using B = T[BK][BN + 1];

  // A[r0 : r0+BK] of rows row0 .. row0+BM into as, 0 past the matrix (so that multiply needs no checks).
  template <typename Problem>
  PYCNN_HD static void load_a(const Problem& pb, int tid, A& as, int grp, int row0, int r0, int r_end) {
    // Unrolled, so that a thread's global loads are all in flight at once rather than one latency each.
    PYCNN_CONV_UNROLL
    for (int e = tid; e < BM * BK; e += kThreads) {
      const int m = Problem::a_r_fastest ? e / BK : e % BM;
      const int r = Problem::a_r_fastest ? e % BK : e / BM;
      const int gm = row0 + m, gr = r0 + r;
      as[r][m] = gm < pb.rows() && gr < r_end ? pb.a(grp, gm, gr) : T(0);
    }
  }

  template <typename Problem>
  PYCNN_HD static void load_b(const Problem& pb, int tid, B& bs, int grp, int col0, int r0, int r_end) {
    PYCNN_CONV_UNROLL
    for (int e = tid; e < BN * BK; e += kThreads) {
      const int n = Problem::b_col_fastest ? e % BN : e / BK;
      const int r = Problem::b_col_fastest ? e / BN : e % BK;
      const int gn = col0 + n, gr = r0 + r;
      bs[r][n] = gn < pb.cols() && gr < r_end ? pb.b_(grp, gr, gn) : T(0);
    }
  }

  PYCNN_HD static void multiply(int tid, const A& as, const B& bs, T (&acc)[TM][TN]) {
    const int tx = tid % (BN / TN), ty = tid / (BN / TN);
    PYCNN_CONV_UNROLL
    for (int k = 0; k < BK; ++k) {
      T a[TM], b[TN];  // TM + TN shared loads for TM * TN multiply-adds
      PYCNN_CONV_UNROLL
      for (int i = 0; i < TM; ++i) a[i] = as[k][ty + i * (BM / TM)];
      PYCNN_CONV_UNROLL
      for (int j = 0; j < TN; ++j) b[j] = bs[k][tx + j * (BN / TN)];
      PYCNN_CONV_UNROLL
      for (int i = 0; i < TM; ++i) {
        PYCNN_CONV_UNROLL
        for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
      }
    }
  }

  template <typename Problem>
  PYCNN_HD static void store(const Problem& pb, int tid, const T (&acc)[TM][TN], int grp, int split, int row0,
                             int col0) {
    const int tx = tid % (BN / TN), ty = tid / (BN / TN);
    PYCNN_CONV_UNROLL
    for (int i = 0; i < TM; ++i) {
      const int gm = row0 + ty + i * (BM / TM);
      if (gm >= pb.rows()) continue;
      PYCNN_CONV_UNROLL
      for (int j = 0; j < TN; ++j) {
        const int gn = col0 + tx + j * (BN / TN);
        if (gn < pb.cols()) pb.store(grp, split, gm, gn, acc[i][j]);
      }
    }
  }
};

// The tile shapes: float 64x64 tiles with 4x4 registers per thread (256 threads); double has a fraction of
// float's throughput on most GPUs, so smaller 32x32 tiles keep more blocks busy (as gemm.cu does).
template <typename T>
struct ConvTiles;
template <>
struct ConvTiles<float> {
  static constexpr int BM = 64, BN = 64, BK = 16, TM = 4, TN = 4;
};
template <>
struct ConvTiles<double> {
  static constexpr int BM = 32, BN = 32, BK = 16, TM = 2, TN = 2;
};

// The reduction range of split s when `depth` is cut into pieces of `chunk` (a multiple of BK).
struct SplitRange {
  int begin, end;
};
PYCNN_HD inline SplitRange split_range(int depth, int chunk, int s) {
  const int b = s * chunk, e = b + chunk;
  return {b < depth ? b : depth, e < depth ? e : depth};
}

// How the weight gradient cuts its N*P-deep reduction: enough splits to give a large GPU ~kTargetBlocks
// blocks when the dw tiles alone are few, each at least kMinSplitDepth deep. A function of the shape only
// (never of the device), so the summation order, hence every bit of dw, is the same everywhere.
struct SplitPlan {
  int64_t splits, chunk;
};
template <typename T>
SplitPlan weight_grad_split(const Conv2dGeometry& g) {
  constexpr int64_t kTargetBlocks = 512, kMinSplitDepth = 512, kMaxSplits = 64;
  using S = ConvTiles<T>;
  const int64_t depth = g.N * g.P;
  const int64_t tiles = g.G * ((g.OCg + S::BM - 1) / S::BM) * ((g.K + S::BN - 1) / S::BN);
  int64_t splits = tiles > 0 ? (kTargetBlocks + tiles - 1) / tiles : 1;
  splits = splits < kMaxSplits ? splits : kMaxSplits;
  splits = splits < depth / kMinSplitDepth ? splits : depth / kMinSplitDepth;
  if (splits <= 1) return {1, depth > S::BK ? depth : S::BK};
  const int64_t chunk = ((depth + splits - 1) / splits + S::BK - 1) / S::BK * S::BK;
  return {(depth + chunk - 1) / chunk, chunk};
}

// ---- depthwise (one input channel per group): direct kernels --------------------------------------------
// Output channel oc reads input channel oc / OCg through KH*KW taps; a GEMM would run 1-row tiles here.

// One thread per output element y (N, OC, OH, OW); the bias first, then the taps in order.
template <typename T>
struct DepthwiseForward {
  ConvIndex g;
  const T* x;
  const T* w;
  const T* b;
  T* y;
  PYCNN_HD void operator()(int64_t i64) const {
    const int i = static_cast<int>(i64);
    const int ow = i % g.OW, oh = (i / g.OW) % g.OH, q = i / g.P, oc = q % g.OC, n = q / g.OC;
    const T* xp = x + (n * g.C + oc / g.OCg) * g.H * g.W;
    const T* wk = w + oc * g.KH * g.KW;
    T acc = b ? b[oc] : T(0);
    for (int kh = 0; kh < g.KH; ++kh) {
      const int ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
      if (ih < 0 || ih >= g.H) continue;
      for (int kw = 0; kw < g.KW; ++kw) {
        const int iw = ow * g.stride_w - g.pad_w + kw * g.dilation_w;
        if (iw >= 0 && iw < g.W) acc += wk[kh * g.KW + kw] * xp[ih * g.W + iw];
      }
    }
    y[i] = acc;
  }
};

// One thread per dx element (N, C, H, W): gathers the taps of its OCg output channels that landed on it.
template <typename T>
struct DepthwiseInputGrad {
  ConvIndex g;
  const T* dout;
  const T* w;
  T* dx;
  PYCNN_HD void operator()(int64_t i64) const {
    const int i = static_cast<int>(i64);
    const int iw = i % g.W, ih = (i / g.W) % g.H, q = i / (g.H * g.W), c = q % g.C, n = q / g.C;
    T acc = T(0);
    for (int m = 0; m < g.OCg; ++m) {
      const int oc = c * g.OCg + m;
      const T* d = dout + (n * g.OC + oc) * g.P;
      const T* wk = w + oc * g.KH * g.KW;
      for (int kh = 0; kh < g.KH; ++kh) {
        const int th = ih + g.pad_h - kh * g.dilation_h;
        if (th < 0 || th % g.stride_h != 0 || th / g.stride_h >= g.OH) continue;
        for (int kw = 0; kw < g.KW; ++kw) {
          const int tw = iw + g.pad_w - kw * g.dilation_w;
          if (tw < 0 || tw % g.stride_w != 0 || tw / g.stride_w >= g.OW) continue;
          acc += wk[kh * g.KW + kw] * d[(th / g.stride_h) * g.OW + tw / g.stride_w];
        }
      }
    }
    dx[i] = acc;
  }
};

// dw[oc, kh, kw] = sum over (n, oh, ow) of dout * x at the tap: one block per weight element; thread t of
// `threads` sums the terms t, t + threads, ... in order, and the block adds the threads' partials up in a
// fixed tree (launch.cuh's block_reduce).
template <typename T>
struct DepthwiseWeightGradPartial {
  ConvIndex g;
  const T* dout;
  const T* x;
  T* dw;  // the kernel's thread 0 writes the block's sum here
  PYCNN_HD T operator()(int widx, int t, int threads) const {
    const int taps = g.KH * g.KW, oc = widx / taps, kh = (widx % taps) / g.KW, kw = widx % g.KW;
    const int c = oc / g.OCg;
    T acc = T(0);
    for (int j = t; j < g.N * g.P; j += threads) {
      const int n = g.by_P.div(j), p = j - n * g.P, oh = g.by_OW.div(p), ow = p - oh * g.OW;
      const int ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
      const int iw = ow * g.stride_w - g.pad_w + kw * g.dilation_w;
      if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
      acc += dout[(n * g.OC + oc) * g.P + p] * x[((n * g.C + c) * g.H + ih) * g.W + iw];
    }
    return acc;
  }
};

// ---- padding (reflect, replicate, circular) over the last two dims ----------------------------------------
// x (planes, H, W), y (planes, OH, OW); mh[oh] and mw[ow] (device arrays built by PadIndexMap) give the input
// row and column that output (oh, ow) copies.
struct PadMaps {
  int64_t H, W, OH, OW;
  const int64_t* mh;
  const int64_t* mw;
};

// map[o] = the input index that output o copies along a dim of size n padded by lo in front (cpu::pad_index_map).
struct PadIndexMap {
  int64_t* map;
  int64_t n, lo;
  PadMode mode;
  PYCNN_HD void operator()(int64_t o) const {
    int64_t i = o - lo;
    if (mode == PadMode::Reflect) {
      if (i < 0) i = -i;
      if (i >= n) i = 2 * (n - 1) - i;
    } else if (mode == PadMode::Replicate) {
      i = i < 0 ? 0 : (i >= n ? n - 1 : i);
    } else {  // circular: pads never exceed n, so one wrap is enough
      i = ((i % n) + n) % n;
    }
    map[o] = i;
  }
};

// One thread per output element.
template <typename T>
struct PadForward {
  PadMaps s;
  const T* x;
  T* y;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t ow = i % s.OW, oh = (i / s.OW) % s.OH, plane = i / (s.OW * s.OH);
    y[i] = x[(plane * s.H + s.mh[oh]) * s.W + s.mw[ow]];
  }
};

// One thread per dx element gathers every output that copied it: the outputs (oh, ow) with mh[oh] == ih and
// mw[ow] == iw, rows then columns in order (deterministic, no atomics). A scan of OH + OW map entries.
template <typename T>
struct PadBackward {
  PadMaps s;
  const T* dout;
  T* dx;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t iw = i % s.W, ih = (i / s.W) % s.H, plane = i / (s.W * s.H);
    const T* d = dout + plane * s.OH * s.OW;
    T acc = T(0);
    for (int64_t oh = 0; oh < s.OH; ++oh) {
      if (s.mh[oh] != ih) continue;
      for (int64_t ow = 0; ow < s.OW; ++ow)
        if (s.mw[ow] == iw) acc += d[oh * s.OW + ow];
    }
    dx[i] = acc;
  }
};

// y (N, C, HW) += b (C,)
template <typename T>
struct AddChannelBias {
  T* y;
  const T* b;
  int64_t C, HW;
  PYCNN_HD void operator()(int64_t i) const { y[i] += b[(i / HW) % C]; }
};

// ---- deformable convolution (ops/cuda/deform_conv.cu), per image -------------------------------------------
// Buffers as in ops/cpu/cpu_ops.h: x (C, H, W), offset (2*offset_groups*KK, L), mask (offset_groups*KK, L) or
// null, col (C*KK, L), KK = KH*KW, L = OH*OW. Sampling follows torchvision and the CPU kernels: a sample at
// (y, x) with y <= -1, y >= H, x <= -1 or x >= W is 0; else the four corners are blended, a corner outside
// the image counting as 0 (ops/deform_math.h). Same operations in the same order as ops/cpu/deform_conv.cpp.
// Where tap k of output position l samples, for the channels of offset group og.
template <typename T>
PYCNN_HD void deform_tap(const DeformGeometry& g, const T* offset, int64_t og, int64_t k, int64_t l, T& y, T& x) {
  const int64_t L = g.OH * g.OW, KK = g.KH * g.KW;
  const int64_t i = k / g.KW, j = k % g.KW, oh = l / g.OW, ow = l % g.OW;
  const T* o = offset + (og * 2 * KK + 2 * k) * L + l;
  y = T(oh * g.stride_h - g.pad_h + i * g.dilation_h) + o[0];
  x = T(ow * g.stride_w - g.pad_w + j * g.dilation_w) + o[L];
}

// col[c*KK + k, l] = mask * the sample of x[c] at tap k of output l; one thread per col element.
template <typename T>
struct DeformIm2col {
  DeformGeometry g;
  const T* x;
  const T* offset;
  const T* mask;  // or nullptr
  T* col;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t L = g.OH * g.OW, KK = g.KH * g.KW;
    const int64_t c = i / (KK * L), k = (i / L) % KK, l = i % L, og = c / (g.C / g.offset_groups);
    T y, xx;
    deform_tap(g, offset, og, k, l, y, xx);
    const T v = deform_bilinear(x + c * g.H * g.W, g.H, g.W, y, xx).value;
    col[i] = mask ? v * mask[(og * KK + k) * L + l] : v;
  }
};

// dx[c] += the bilinear scatter of dcol's rows of channel c. Samples land anywhere (the offsets are data), so
// no gather form exists: one thread per channel scatters its KK*L samples in the CPU kernel's order
// (deterministic, no atomics; parallel over channels only).
template <typename T>
struct DeformCol2im {
  DeformGeometry g;
  const T* dcol;
  const T* offset;
  const T* mask;  // or nullptr
  T* dx;
  PYCNN_HD void operator()(int64_t c) const {
    const int64_t L = g.OH * g.OW, KK = g.KH * g.KW, H = g.H, W = g.W, og = c / (g.C / g.offset_groups);
    T* dim = dx + c * H * W;
    for (int64_t k = 0; k < KK; ++k)
      for (int64_t l = 0; l < L; ++l) {
        T y, x;
        deform_tap(g, offset, og, k, l, y, x);
        if (y <= T(-1) || y >= T(H) || x <= T(-1) || x >= T(W)) continue;
        const int64_t i = (c * KK + k) * L + l;
        const T gv = mask ? dcol[i] * mask[(og * KK + k) * L + l] : dcol[i];
        const int64_t y0 = y < T(0) ? -1 : static_cast<int64_t>(y), x0 = x < T(0) ? -1 : static_cast<int64_t>(x);
        const int64_t y1 = y0 + 1, x1 = x0 + 1;
        const T ly = y - T(y0), lx = x - T(x0), hy = T(1) - ly, hx = T(1) - lx;
        if (y0 >= 0 && x0 >= 0) dim[y0 * W + x0] += gv * hy * hx;
        if (y0 >= 0 && x1 < W) dim[y0 * W + x1] += gv * hy * lx;
        if (y1 < H && x0 >= 0) dim[y1 * W + x0] += gv * ly * hx;
        if (y1 < H && x1 < W) dim[y1 * W + x1] += gv * ly * lx;
      }
  }
};

// doffset and dmask (either may be null) from dcol: one thread per (offset group, tap, output position),
// summing over the group's channels in order.
template <typename T>
struct DeformCol2coord {
  DeformGeometry g;
  const T* dcol;
  const T* x;
  const T* offset;
  const T* mask;  // or nullptr
  T* doffset;
  T* dmask;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t L = g.OH * g.OW, KK = g.KH * g.KW, cpg = g.C / g.offset_groups;
    const int64_t t = i / L, l = i % L, og = t / KK, k = t % KK;
    T y, xx;
    deform_tap(g, offset, og, k, l, y, xx);
    T gy = T(0), gx = T(0), gm = T(0);
    for (int64_t c = og * cpg; c < (og + 1) * cpg; ++c) {
      const DeformSample<T> s = deform_bilinear(x + c * g.H * g.W, g.H, g.W, y, xx);
      const T d = dcol[(c * KK + k) * L + l];
      gy += d * s.dy;
      gx += d * s.dx;
      gm += d * s.value;
    }
    const T scale = mask ? mask[t * L + l] : T(1);
    if (doffset) {
      doffset[(og * 2 * KK + 2 * k) * L + l] = gy * scale;
      doffset[(og * 2 * KK + 2 * k + 1) * L + l] = gx * scale;
    }
    if (dmask) dmask[t * L + l] = gm;
  }
};

// db[oc] = the sum of dout (N, OC, L) over n and l, in double and in order, as the CPU kernel sums it.
template <typename T>
struct DeformBiasGrad {
  const T* dout;
  T* db;
  int64_t N, OC, L;
  PYCNN_HD void operator()(int64_t oc) const {
    double s = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t l = 0; l < L; ++l) s += static_cast<double>(dout[(n * OC + oc) * L + l]);
    db[oc] = static_cast<T>(s);
  }
};

}  // namespace pycnn::cuda
