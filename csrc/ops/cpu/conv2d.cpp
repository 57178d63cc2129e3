// CPU convolution as an implicit GEMM over the packed GEMM pieces (simd/simd.h), per image and group:
//   forward     y[n, g] (OCg, P)  = w[g] (OCg, K) @ col(x[n, g]) (K, P)       K = Cg*KH*KW, P = OH*OW
//   input grad  col = w[g]^T @ dout[n, g], then col2im scatters col back into dx[n, g]
//   weight grad dw[g] (OCg, K) = sum over n of dout[n, g] (OCg, P) @ col(x[n, g])^T (P, K)
// The weights (A) are packed once per call, and im2col writes straight into the packed-B panel layout,
// so no column matrix is built and nothing is re-packed per image. Threads take whole images when there
// are enough, else split one image's output tile. Depthwise convolutions (one input channel per group)
// take direct kernels instead. conv2d_forward_naive (the 7-loop) is the reference.
#include <algorithm>  // defines: std::min, std::max
#include <cstring>    // defines: std::memset
#include <vector>

#include "core/cpu_features.h"  // defines: simd_level
#include "core/parallel.h"      // defines: parallel_for, get_num_threads
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/gemm_blocks.h"  // defines: GemmKernels, ScratchBuffer, even_block, ceil_div
#include "ops/cpu/simd/simd.h"  // defines: GemmTile, GemmBlocking, base::/avx2:: gemm_pack_a/_b, gemm_macro_kernel

namespace pycnn::cpu {

namespace {

struct ConvGeometry {
  int64_t N, C, H, W, OC, KH, KW, OH, OW, G, Cg, OCg, K, P;  // K = Cg*KH*KW rows of col, P = OH*OW columns
  bool pointwise;                                           // 1x1, stride 1, no padding: col == x
};

ConvGeometry geometry(const Tensor& x, const Tensor& w, const Shape& y_shape, const Conv2dArgs& a) {
  ConvGeometry g;
  g.N = x.size(0), g.C = x.size(1), g.H = x.size(2), g.W = x.size(3);
  g.OC = w.size(0), g.KH = w.size(2), g.KW = w.size(3), g.OH = y_shape[2], g.OW = y_shape[3];
  g.G = a.groups, g.Cg = g.C / g.G, g.OCg = g.OC / g.G;
  g.K = g.Cg * g.KH * g.KW, g.P = g.OH * g.OW;
  g.pointwise = g.KH == 1 && g.KW == 1 && a.stride_h == 1 && a.stride_w == 1 && a.pad_h == 0 && a.pad_w == 0;
  return g;
}

thread_local ScratchBuffer tl_pack_a, tl_pack_b, tl_work;

// ---- im2col into any row-major or panelled destination ----------------------------------------------

// The most k rows one im2col_block call handles: one K slice (GemmBlocking<float>::kc is the largest).
constexpr int64_t kMaxRows = GemmBlocking<float>::kc;

// col(x)[k0 : k0 + nk, p0 : p0 + np] for one image's group x (Cg, H, W). Column j (0 <= j < np) of row kk
// goes to dst[(j / pw) * ps + j % pw + kk * rs]: with pw = NR, ps = kc*NR, rs = NR that is gemm_pack_b's
// panel layout; with pw = np, rs = np a plain row-major block. Columns are cut into runs that stay in one
// output row and one panel; a run whose receptive field lies inside the image for every (kh, kw) (all of
// them in an unpadded conv) is copied for every k row without bounds checks, a fixed-length copy when it
// spans a whole panel or half of one (LeNet: output rows of 8 or 24, panels of 16). Edge runs clip.
template <typename T>
void im2col_block(const T* x, const ConvGeometry& g, const Conv2dArgs& a, int64_t k0, int64_t nk, int64_t p0,
                  int64_t np, T* __restrict dst, int64_t pw, int64_t ps, int64_t rs) {
  constexpr int NR = GemmTile<T>::nr;
  const int64_t sh = a.stride_h, sw = a.stride_w, plane = g.H * g.W;
  // Per k row: the offset of x(c, kh*dil_h, kw*dil_w), and the input offsets dh, dw of its window.
  int64_t koff[kMaxRows], kdh[kMaxRows], kdw[kMaxRows];
  int64_t c = k0 / (g.KH * g.KW), kh = (k0 / g.KW) % g.KH, kw = k0 % g.KW;
  for (int64_t kk = 0; kk < nk; ++kk) {
    kdh[kk] = kh * a.dilation_h, kdw[kk] = kw * a.dilation_w;
    koff[kk] = c * plane + kdh[kk] * g.W + kdw[kk];
    if (++kw == g.KW) {
      kw = 0;
      if (++kh == g.KH) kh = 0, ++c;
    }
  }
  const int64_t win_h = (g.KH - 1) * a.dilation_h, win_w = (g.KW - 1) * a.dilation_w;
  int64_t oh = p0 / g.OW, ow = p0 % g.OW;
  for (int64_t j = 0; j < np;) {
    const int64_t len = std::min({g.OW - ow, np - j, pw - j % pw});
    T* d = dst + (j / pw) * ps + j % pw;
    const int64_t ih0 = oh * sh - a.pad_h, iw0 = ow * sw - a.pad_w;  // input corner for kh = kw = 0
    const bool inside = ih0 >= 0 && ih0 + win_h < g.H && iw0 >= 0 && (len - 1) * sw + iw0 + win_w < g.W;
    if (inside && sw == 1) {
      const T* s = x + ih0 * g.W + iw0;
      if (len == NR) {
        for (int64_t kk = 0; kk < nk; ++kk)
          for (int t = 0; t < NR; ++t) d[kk * rs + t] = s[koff[kk] + t];
      } else if (len == NR / 2) {
        for (int64_t kk = 0; kk < nk; ++kk)
          for (int t = 0; t < NR / 2; ++t) d[kk * rs + t] = s[koff[kk] + t];
      } else {
        for (int64_t kk = 0; kk < nk; ++kk)
          for (int64_t t = 0; t < len; ++t) d[kk * rs + t] = s[koff[kk] + t];
      }
    } else if (inside) {
      const T* s = x + ih0 * g.W + iw0;
      for (int64_t kk = 0; kk < nk; ++kk)
        for (int64_t t = 0; t < len; ++t) d[kk * rs + t] = s[koff[kk] + t * sw];
    } else {
      for (int64_t kk = 0; kk < nk; ++kk) {
        T* out = d + kk * rs;
        const int64_t ih = ih0 + kdh[kk], iw = iw0 + kdw[kk];
        if (ih < 0 || ih >= g.H) {
          for (int64_t t = 0; t < len; ++t) out[t] = T(0);
          continue;
        }
        // t in [lo, hi) reads inside the row: iw + t*sw in [0, W). No division for stride 1: this runs
        // once per run and k row, and an idiv here made padded layers' im2col several times slower.
        int64_t lo, hi;
        if (sw == 1) {
          lo = std::min(len, std::max<int64_t>(0, -iw));
          hi = std::max(lo, std::min(len, g.W - iw));
        } else {
          lo = std::min(len, iw >= 0 ? 0 : ceil_div(-iw, sw));
          hi = std::max(lo, std::min(len, g.W - iw > 0 ? ceil_div(g.W - iw, sw) : 0));
        }
        const T* s = x + (koff[kk] - kdh[kk] * g.W - kdw[kk]) + ih * g.W + iw;
        for (int64_t t = 0; t < lo; ++t) out[t] = T(0);
        for (int64_t t = lo; t < hi; ++t) out[t] = s[t * sw];
        for (int64_t t = hi; t < len; ++t) out[t] = T(0);
      }
    }
    j += len, ow += len;
    if (ow == g.OW) ow = 0, ++oh;
  }
}

// Forward's B block: col(x)[k0 : k0 + kc, p0 : p0 + np] in gemm_pack_b's layout (NR-wide panels of kc
// steps, columns past np zero).
template <typename T>
void pack_col(const T* x, const ConvGeometry& g, const Conv2dArgs& a, int64_t k0, int64_t kc, int64_t p0,
              int64_t np, T* dst) {
  constexpr int NR = GemmTile<T>::nr;
  im2col_block(x, g, a, k0, kc, p0, np, dst, NR, kc * NR, NR);
  if (const int64_t tail = np % NR) {
    T* last = dst + (np / NR) * kc * NR;
    for (int64_t kk = 0; kk < kc; ++kk)
      for (int64_t j = tail; j < NR; ++j) last[kk * NR + j] = T(0);
  }
}

// The adjoint of im2col for channels [c0, c1): dx (Cg, H, W) += scatter of col. dx must be zeroed first.
template <typename T>
void col2im(const T* col, T* dx, const ConvGeometry& g, const Conv2dArgs& a, int64_t c0, int64_t c1) {
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const T* row = col + ((c * g.KH + kh) * g.KW + kw) * g.P;
        T* plane = dx + c * g.H * g.W;
        const int64_t dh = kh * a.dilation_h - a.pad_h, dw = kw * a.dilation_w - a.pad_w;
        int64_t ow_lo = 0, ow_hi = g.OW;
        while (ow_lo < g.OW && ow_lo * a.stride_w + dw < 0) ++ow_lo;
        while (ow_hi > ow_lo && (ow_hi - 1) * a.stride_w + dw >= g.W) --ow_hi;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const int64_t ih = oh * a.stride_h + dh;
          if (ih < 0 || ih >= g.H) continue;
          const T* in = row + oh * g.OW;
          T* out = plane + ih * g.W + dw;
          for (int64_t ow = ow_lo; ow < ow_hi; ++ow) out[ow * a.stride_w] += in[ow];
        }
      }
}

// Runs body(i0, i1) over [0, n) in parallel pieces (multiples of `unit`) when `parallel`, else as one.
template <typename F>
void split(bool parallel, int64_t n, int64_t unit, const F& body) {
  const int64_t units = ceil_div(n, unit);
  if (!parallel || units < 2) {
    body(int64_t{0}, n);
    return;
  }
  parallel_for(units, 1, [&](int64_t u0, int64_t u1) { body(u0 * unit, std::min(n, u1 * unit)); });
}

// Below this many multiply-adds per image a second thread inside one image costs more than it saves
// (gemm.cpp's threshold).
constexpr double kMinMacsPerThread = 1 << 19;

// Packs op(A) (M x K, op(A)(i, k) at a[i * lda + k], or a[k * lda + i] when trans) whole, slice by K
// slice: slice pc's panels start at dst + round_up(M, MR) * pc, and rows [ic, ic + mc) of it at
// + (ic / MR) * k * MR, exactly what gemm_pack_a gives for that block alone.
template <typename T>
void pack_a_slices(const GemmKernels<T>& kern, bool trans, int64_t M, int64_t K, int64_t kc, const T* a,
                   int64_t lda, T* dst) {
  const int64_t Mp = round_up(M, GemmTile<T>::mr);
  for (int64_t pc = 0; pc < K; pc += kc)
    kern.pack_a(trans, M, std::min(kc, K - pc), trans ? a + pc * lda : a + pc, lda, dst + Mp * pc);
}

// ---- depthwise: one input channel per group (Cg == 1) -----------------------------------------------
// The GEMM path would run 1-row tiles here (~5% useful work), so these convolve planes directly: output
// plane (n, oc) reads input plane (n, oc / OCg) through KH*KW taps. Each input (or input-gradient) plane
// is first copied into a zero-padded scratch plane, so every tap is a bounds-free axpy or dot product over
// a contiguous row (at stride 1), which vectorises. Forward and input gradient run in parallel over
// planes; the weight gradient over output channels, summing images in order (deterministic).

thread_local ScratchBuffer tl_plane;

// The padded plane's geometry: Hp x Wp with the image at (pad_h, pad_w).
struct PaddedPlane {
  int64_t Hp, Wp;
  PaddedPlane(const ConvGeometry& g, const Conv2dArgs& a)
      : Hp(std::max(g.H + 2 * a.pad_h, (g.OH - 1) * a.stride_h + (g.KH - 1) * a.dilation_h + 1)),
        Wp(std::max(g.W + 2 * a.pad_w, (g.OW - 1) * a.stride_w + (g.KW - 1) * a.dilation_w + 1)) {}
};

template <typename T>
void pad_plane(const T* in, const ConvGeometry& g, const Conv2dArgs& a, const PaddedPlane& pp, T* out) {
  for (int64_t i = 0; i < pp.Hp * pp.Wp; ++i) out[i] = T(0);
  for (int64_t h = 0; h < g.H; ++h) {
    T* dst = out + (h + a.pad_h) * pp.Wp + a.pad_w;
    const T* src = in + h * g.W;
    for (int64_t w = 0; w < g.W; ++w) dst[w] = src[w];
  }
}

template <typename T>
void depthwise_forward(const ConvGeometry& g, const Conv2dArgs& a, const T* x, const T* w, const T* b, T* y) {
  const PaddedPlane pp(g, a);
  parallel_for(g.N * g.OC, 1, [=](int64_t q0, int64_t q1) {
    T* xp = tl_plane.get<T>(pp.Hp * pp.Wp);
    int64_t padded = -1;  // the input plane now in xp (consecutive output channels share one)
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t n = q / g.OC, oc = q % g.OC, plane = n * g.C + oc / g.OCg;
      if (plane != padded) pad_plane(x + plane * g.H * g.W, g, a, pp, xp);
      padded = plane;
      const T* wk = w + oc * g.KH * g.KW;
      T* out = y + q * g.P;
      const T bias = b ? b[oc] : T(0);
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        T* __restrict orow = out + oh * g.OW;
        for (int64_t ow = 0; ow < g.OW; ++ow) orow[ow] = bias;
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          const T* irow = xp + (oh * a.stride_h + kh * a.dilation_h) * pp.Wp;
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const T wv = wk[kh * g.KW + kw];
            const T* __restrict src = irow + kw * a.dilation_w;
            if (a.stride_w == 1) {
              for (int64_t ow = 0; ow < g.OW; ++ow) orow[ow] += wv * src[ow];
            } else {
              for (int64_t ow = 0; ow < g.OW; ++ow) orow[ow] += wv * src[ow * a.stride_w];
            }
          }
        }
      }
    }
  });
}

// dx plane (n, c) collects from its OCg output planes: the taps run backwards into a padded plane, whose
// interior is then dx.
template <typename T>
void depthwise_input_grad(const ConvGeometry& g, const Conv2dArgs& a, const T* dout, const T* w, T* dx) {
  const PaddedPlane pp(g, a);
  parallel_for(g.N * g.C, 1, [=](int64_t q0, int64_t q1) {
    T* dp = tl_plane.get<T>(pp.Hp * pp.Wp);
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t n = q / g.C, c = q % g.C;
      for (int64_t i = 0; i < pp.Hp * pp.Wp; ++i) dp[i] = T(0);
      for (int64_t m = 0; m < g.OCg; ++m) {
        const int64_t oc = c * g.OCg + m;
        const T* d = dout + (n * g.OC + oc) * g.P;
        const T* wk = w + oc * g.KH * g.KW;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const T* __restrict drow = d + oh * g.OW;
          for (int64_t kh = 0; kh < g.KH; ++kh) {
            T* prow = dp + (oh * a.stride_h + kh * a.dilation_h) * pp.Wp;
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              const T wv = wk[kh * g.KW + kw];
              T* __restrict dst = prow + kw * a.dilation_w;
              if (a.stride_w == 1) {
                for (int64_t ow = 0; ow < g.OW; ++ow) dst[ow] += wv * drow[ow];
              } else {
                for (int64_t ow = 0; ow < g.OW; ++ow) dst[ow * a.stride_w] += wv * drow[ow];
              }
            }
          }
        }
      }
      T* din = dx + q * g.H * g.W;
      for (int64_t h = 0; h < g.H; ++h) {
        const T* src = dp + (h + a.pad_h) * pp.Wp + a.pad_w;
        for (int64_t w2 = 0; w2 < g.W; ++w2) din[h * g.W + w2] = src[w2];
      }
    }
  });
}

// dw[oc, kh, kw] = sum over n, oh, ow of dout[n, oc, oh, ow] * xpadded[n, oc / OCg, ...]: per image, one
// padded plane; each tap accumulates elementwise products into a row of OW partial sums (a vectorisable
// multiply-add; a scalar running sum would not vectorise), summed once at the end.
thread_local ScratchBuffer tl_rows;

template <typename T>
void depthwise_weight_grad(const ConvGeometry& g, const Conv2dArgs& a, const T* dout, const T* x, T* dw) {
  const PaddedPlane pp(g, a);
  const int64_t taps = g.KH * g.KW;
  parallel_for(g.OC, 1, [=](int64_t c0, int64_t c1) {
    T* xp = tl_plane.get<T>(pp.Hp * pp.Wp);
    T* rows = tl_rows.get<T>(taps * g.OW);
    for (int64_t oc = c0; oc < c1; ++oc) {
      for (int64_t i = 0; i < taps * g.OW; ++i) rows[i] = T(0);
      for (int64_t n = 0; n < g.N; ++n) {
        pad_plane(x + (n * g.C + oc / g.OCg) * g.H * g.W, g, a, pp, xp);
        const T* d = dout + (n * g.OC + oc) * g.P;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const T* __restrict drow = d + oh * g.OW;
          for (int64_t kh = 0; kh < g.KH; ++kh) {
            const T* prow = xp + (oh * a.stride_h + kh * a.dilation_h) * pp.Wp;
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              T* __restrict acc = rows + (kh * g.KW + kw) * g.OW;
              const T* __restrict src = prow + kw * a.dilation_w;
              if (a.stride_w == 1) {
                for (int64_t ow = 0; ow < g.OW; ++ow) acc[ow] += drow[ow] * src[ow];
              } else {
                for (int64_t ow = 0; ow < g.OW; ++ow) acc[ow] += drow[ow] * src[ow * a.stride_w];
              }
            }
          }
        }
      }
      T* dk = dw + oc * taps;
      for (int64_t t = 0; t < taps; ++t) {
        T sum = 0;
        for (int64_t ow = 0; ow < g.OW; ++ow) sum += rows[t * g.OW + ow];
        dk[t] = sum;
      }
    }
  });
}

}  // namespace

template <typename T>
void conv2d_forward_naive(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y,
                          const Conv2dArgs& a) {
  const ConvGeometry g = geometry(x, w, y.shape(), a);
  const T* px = x.data<T>();
  const T* pw = w.data<T>();
  const T* pb = b.defined() ? b.data<T>() : nullptr;
  T* py = y.data<T>();
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oc = 0; oc < g.OC; ++oc) {
      const int64_t grp = oc / g.OCg;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          T acc = pb ? pb[oc] : T(0);
          for (int64_t c = 0; c < g.Cg; ++c)
            for (int64_t kh = 0; kh < g.KH; ++kh)
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t ih = oh * a.stride_h + kh * a.dilation_h - a.pad_h;
                const int64_t iw = ow * a.stride_w + kw * a.dilation_w - a.pad_w;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                acc += px[((n * g.C + grp * g.Cg + c) * g.H + ih) * g.W + iw] *
                       pw[((oc * g.Cg + c) * g.KH + kh) * g.KW + kw];
              }
          py[((n * g.OC + oc) * g.OH + oh) * g.OW + ow] = acc;
        }
    }
}

// x (N, C, H, W), w (OC, Cg, KH, KW), b (OC,) or undefined -> y (N, OC, OH, OW).
// Blocks as the GEMM does: P in nc-wide blocks (the packed B block kc x nc stays in cache), K in kc-deep
// slices, OCg in mc-row blocks of the pre-packed weights.
template <typename T>
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y, const Conv2dArgs& a) {
  constexpr int64_t MR = GemmTile<T>::mr, NR = GemmTile<T>::nr;
  const ConvGeometry g = geometry(x, w, y.shape(), a);
  const T* px = x.data<T>();
  const T* pb = b.defined() ? b.data<T>() : nullptr;
  T* py = y.data<T>();
  if (g.N == 0 || g.OC == 0 || g.P == 0) return;
  if (g.K == 0) {  // an empty sum: y is the bias
    for (int64_t i = 0; i < g.N * g.OC; ++i)
      for (int64_t p = 0; p < g.P; ++p) py[i * g.P + p] = pb ? pb[i % g.OC] : T(0);
    return;
  }
  if (g.Cg == 1 && g.G > 1) return depthwise_forward(g, a, px, w.data<T>(), pb, py);
  const GemmKernels<T> kern = select_gemm_kernels<T>();
  const int64_t kc = even_block(g.K, GemmBlocking<T>::kc, 1);
  const int64_t mc = even_block(g.OCg, GemmBlocking<T>::mc, MR);
  const int64_t nc = even_block(g.P, GemmBlocking<T>::nc, NR);
  const int64_t Mp = round_up(g.OCg, MR);

  // The weights, packed once for all images.
  std::vector<T> wpack(static_cast<size_t>(g.G * Mp * g.K));
  for (int64_t grp = 0; grp < g.G; ++grp)
    pack_a_slices(kern, false, g.OCg, g.K, kc, w.data<T>() + grp * g.OCg * g.K, g.K, wpack.data() + grp * Mp * g.K);

  // y[n, grp][oc0 : oc1, p0 : p1]; oc0 is a multiple of MR.
  auto tile = [&](int64_t n, int64_t grp, int64_t oc0, int64_t oc1, int64_t p0, int64_t p1) {
    const T* xg = px + (n * g.C + grp * g.Cg) * g.H * g.W;
    T* yg = py + (n * g.OC + grp * g.OCg) * g.P;
    const T* wg = wpack.data() + grp * Mp * g.K;
    T* bpack = tl_pack_b.get<T>(round_up(std::min(nc, p1 - p0), NR) * kc);
    for (int64_t jc = p0; jc < p1; jc += nc) {
      const int64_t ncur = std::min(nc, p1 - jc);
      for (int64_t pc = 0; pc < g.K; pc += kc) {
        const int64_t kcur = std::min(kc, g.K - pc);
        if (g.pointwise) {
          kern.pack_b(false, kcur, ncur, xg + pc * g.P + jc, g.P, bpack);
        } else {
          pack_col(xg, g, a, pc, kcur, jc, ncur, bpack);
        }
        for (int64_t ic = oc0; ic < oc1; ic += mc) {
          const int64_t m = std::min(mc, oc1 - ic);
          kern.macro(m, ncur, kcur, T(1), wg + Mp * pc + (ic / MR) * kcur * MR, bpack, pc == 0 ? T(0) : T(1),
                     yg + ic * g.P + jc, g.P, 1);
        }
      }
      // The bias goes on afterwards, while the block is still in cache: cheaper than pre-filling y and
      // having every micro-tile load it back.
      if (pb)
        for (int64_t oc = oc0; oc < oc1; ++oc) {
          const T v = pb[grp * g.OCg + oc];
          T* row = yg + oc * g.P + jc;
          for (int64_t j = 0; j < ncur; ++j) row[j] += v;
        }
    }
  };

  const int threads = get_num_threads();
  if (g.N >= threads) {  // whole images per thread: no synchronisation inside
    parallel_for(g.N, 1, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t grp = 0; grp < g.G; ++grp) tile(n, grp, 0, g.OCg, 0, g.P);
    });
    return;
  }
  // Few images: threads split each image's output, along P when it has enough panels, else along OCg.
  const bool par = double(g.OCg) * double(g.P) * double(g.K) >= kMinMacsPerThread * 2;
  const bool by_p = ceil_div(g.P, NR) >= threads || g.OCg <= MR;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t grp = 0; grp < g.G; ++grp) {
      if (by_p) {
        split(par, g.P, round_up(ceil_div(g.P, threads), NR), [&](int64_t p0, int64_t p1) { tile(n, grp, 0, g.OCg, p0, p1); });
      } else {
        split(par, g.OCg, round_up(ceil_div(g.OCg, threads), MR), [&](int64_t o0, int64_t o1) { tile(n, grp, o0, o1, 0, g.P); });
      }
    }
}

template <typename T>
void conv2d_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& dx, const Tensor& dw,
                     const Conv2dArgs& a) {
  constexpr int64_t MR = GemmTile<T>::mr, NR = GemmTile<T>::nr;
  const ConvGeometry g = geometry(x, w, dout.shape(), a);
  const T* pd = dout.data<T>();
  const T* px = x.data<T>();
  const T* pw = w.data<T>();
  T* pdx = dx.defined() ? dx.data<T>() : nullptr;
  T* pdw = dw.defined() ? dw.data<T>() : nullptr;
  if (g.Cg == 1 && g.G > 1) {  // depthwise: direct kernels (see above)
    if (pdx) depthwise_input_grad(g, a, pd, pw, pdx);
    if (pdw) depthwise_weight_grad(g, a, pd, px, pdw);
    return;
  }
  const GemmKernels<T> kern = select_gemm_kernels<T>();
  const int threads = get_num_threads();

  // Input gradient: col (K, P) = w[g]^T (K, OCg) @ dout[n, g] (OCg, P), independent per image. w^T is
  // packed once (A, K rows in mc blocks, OCg deep); dout[n, g] is packed as B. A pointwise conv writes
  // dx[n, g] directly; otherwise col goes to a per-thread buffer and col2im scatters it.
  if (pdx && g.P > 0 && g.K > 0) {
    const int64_t kc = even_block(g.OCg, GemmBlocking<T>::kc, 1);
    const int64_t mc = even_block(g.K, GemmBlocking<T>::mc, MR);
    const int64_t nc = even_block(g.P, GemmBlocking<T>::nc, NR);
    const int64_t Kp = round_up(g.K, MR);
    std::vector<T> wtpack(static_cast<size_t>(g.G * Kp * g.OCg));
    for (int64_t grp = 0; grp < g.G; ++grp)
      pack_a_slices(kern, true, g.K, g.OCg, kc, pw + grp * g.OCg * g.K, g.K, wtpack.data() + grp * Kp * g.OCg);

    // col[k0 : k1, p0 : p1] (rows at stride P) for image n, group grp; k0 is a multiple of MR.
    auto tile = [&](int64_t n, int64_t grp, T* col, int64_t k0, int64_t k1, int64_t p0, int64_t p1) {
      const T* dg = pd + (n * g.OC + grp * g.OCg) * g.P;
      const T* wg = wtpack.data() + grp * Kp * g.OCg;
      T* bpack = tl_pack_b.get<T>(round_up(std::min(nc, p1 - p0), NR) * kc);
      for (int64_t jc = p0; jc < p1; jc += nc) {
        const int64_t ncur = std::min(nc, p1 - jc);
        for (int64_t pc = 0; pc < g.OCg; pc += kc) {
          const int64_t kcur = std::min(kc, g.OCg - pc);
          kern.pack_b(false, kcur, ncur, dg + pc * g.P + jc, g.P, bpack);
          for (int64_t ic = k0; ic < k1; ic += mc) {
            const int64_t m = std::min(mc, k1 - ic);
            kern.macro(m, ncur, kcur, T(1), wg + Kp * pc + (ic / MR) * kcur * MR, bpack, pc == 0 ? T(0) : T(1),
                       col + ic * g.P + jc, g.P, 1);
          }
        }
      }
    };
    auto dx_of = [&](int64_t n, int64_t grp) { return pdx + (n * g.C + grp * g.Cg) * g.H * g.W; };
    if (g.OCg == 0) {
      std::memset(pdx, 0, sizeof(T) * g.N * g.C * g.H * g.W);
    } else if (g.N >= threads) {
      parallel_for(g.N, 1, [&](int64_t n0, int64_t n1) {
        T* col = g.pointwise ? nullptr : tl_work.get<T>(g.K * g.P);
        for (int64_t n = n0; n < n1; ++n)
          for (int64_t grp = 0; grp < g.G; ++grp) {
            T* dxg = dx_of(n, grp);
            tile(n, grp, g.pointwise ? dxg : col, 0, g.K, 0, g.P);
            if (g.pointwise) continue;
            std::memset(dxg, 0, sizeof(T) * g.Cg * g.H * g.W);
            col2im(col, dxg, g, a, 0, g.Cg);
          }
      });
    } else {
      // Few images: threads split the GEMM (along P, or along K when P is narrow), then the channels of
      // col2im; the col buffer is shared, so it is the calling thread's.
      const bool par = double(g.OCg) * double(g.P) * double(g.K) >= kMinMacsPerThread * 2;
      const bool by_p = ceil_div(g.P, NR) >= threads || g.K <= MR;
      T* col = g.pointwise ? nullptr : tl_work.get<T>(g.K * g.P);
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t grp = 0; grp < g.G; ++grp) {
          T* dxg = dx_of(n, grp);
          T* c = g.pointwise ? dxg : col;
          if (by_p) {
            split(par, g.P, round_up(ceil_div(g.P, threads), NR), [&](int64_t p0, int64_t p1) { tile(n, grp, c, 0, g.K, p0, p1); });
          } else {
            split(par, g.K, round_up(ceil_div(g.K, threads), MR), [&](int64_t k0, int64_t k1) { tile(n, grp, c, k0, k1, 0, g.P); });
          }
          if (g.pointwise) continue;
          split(par, g.Cg, 1, [&](int64_t c0, int64_t c1) {
            std::memset(dxg + c0 * g.H * g.W, 0, sizeof(T) * (c1 - c0) * g.H * g.W);
            col2im(col, dxg, g, a, c0, c1);
          });
        }
    }
  } else if (pdx) {
    std::memset(pdx, 0, sizeof(T) * g.N * g.C * g.H * g.W);
  }

  // Weight gradient: dw[g] = sum over n, p of dout[n, g][:, p] col_n[:, p]^T, a GEMM whose inner
  // dimension runs over (image, p). The images are cut into a fixed number of contiguous chunks
  // (kWeightGradChunks, never the thread count); within a chunk the inner dimension is the chunk's
  // images' P columns back to back, cut into kc-deep slices, so a small P (LeNet: 64) still fills a deep
  // slice and each dw tile is loaded and stored once per slice, not once per image. dout is packed as A,
  // col^T as B (im2col of NR k rows into a small block, then gemm_pack_b's transposing pack). Each chunk
  // sums into its own accumulator and the accumulators are added in chunk order, so the summation order,
  // hence every bit of dw, is the same for any number of threads; chunks run in parallel when there are
  // enough images, else one after another, their output tile split between threads (never the sum).
  if (pdw) {
    const int64_t wsize = g.OC * g.K;
    constexpr int64_t kWeightGradChunks = 8;
    // ...but no more chunks than full kc-deep slices: with tiny images (512 x 4 x 4) eight chunks would
    // each write a whole dw for a 64-deep sum. A function of the shape only, so still deterministic.
    const int64_t full_slices = std::max<int64_t>(1, g.N * g.P / GemmBlocking<T>::kc);
    const int64_t chunks = std::min({g.N, kWeightGradChunks, full_slices});
    std::vector<T> partial(static_cast<size_t>(chunks > 1 ? chunks - 1 : 0) * wsize);
    const int64_t mc = even_block(g.OCg, GemmBlocking<T>::mc, MR);
    const int64_t nc = even_block(g.K, GemmBlocking<T>::nc, NR);

    // acc[grp][r0 : r1, c0 : c1] = the chunk's sum over images n0 .. n1-1; r0 is a multiple of MR, c0 of NR.
    auto chunk_tile = [&](int64_t n0, int64_t n1, int64_t grp, T* acc, int64_t r0, int64_t r1, int64_t c0,
                          int64_t c1) {
      const int64_t inner = (n1 - n0) * g.P;
      const int64_t kc = even_block(inner, GemmBlocking<T>::kc, 1);
      T* apack = tl_pack_a.get<T>(round_up(std::min(mc, r1 - r0), MR) * kc);
      T* bpack = tl_pack_b.get<T>(round_up(std::min(nc, c1 - c0), NR) * kc);
      T* block = g.pointwise ? nullptr : tl_work.get<T>(NR * kc);
      T* accg = acc + grp * g.OCg * g.K;
      for (int64_t jc = c0; jc < c1; jc += nc) {
        const int64_t ncur = std::min(nc, c1 - jc);
        for (int64_t s0 = 0; s0 < inner; s0 += kc) {
          const int64_t kcur = std::min(kc, inner - s0);
          // B: col^T rows s0 .. s0 + kcur, which span images (n0 + s0 / P ...), piece by piece.
          for (int64_t s = s0; s < s0 + kcur;) {
            const int64_t n = n0 + s / g.P, p = s % g.P, len = std::min(g.P - p, s0 + kcur - s);
            const T* xg = px + (n * g.C + grp * g.Cg) * g.H * g.W;
            for (int64_t j = 0; j < ncur; j += NR) {
              const int64_t cols = std::min<int64_t>(NR, ncur - j);
              T* panel = bpack + (j / NR) * kcur * NR + (s - s0) * NR;
              if (g.pointwise) {
                kern.pack_b(true, len, cols, xg + (jc + j) * g.P + p, g.P, panel);
              } else {
                im2col_block(xg, g, a, jc + j, cols, p, len, block, len, 0, len);
                kern.pack_b(true, len, cols, block, len, panel);
              }
            }
            s += len;
          }
          const T beta = s0 == 0 ? T(0) : T(1);
          for (int64_t ic = r0; ic < r1; ic += mc) {
            const int64_t m = std::min(mc, r1 - ic);
            // A: dout rows ic .. ic + m over the same inner range, one MR-row panel at a time.
            for (int64_t s = s0; s < s0 + kcur;) {
              const int64_t n = n0 + s / g.P, p = s % g.P, len = std::min(g.P - p, s0 + kcur - s);
              const T* dg = pd + (n * g.OC + grp * g.OCg) * g.P;
              for (int64_t i = 0; i < m; i += MR)
                kern.pack_a(false, std::min<int64_t>(MR, m - i), len, dg + (ic + i) * g.P + p, g.P,
                            apack + (i / MR) * kcur * MR + (s - s0) * MR);
              s += len;
            }
            kern.macro(m, ncur, kcur, T(1), apack, bpack, beta, accg + ic * g.K + jc, g.K, 1);
          }
        }
      }
    };
    auto run_chunk = [&](int64_t c, bool par) {
      const int64_t n0 = g.N * c / chunks, n1 = g.N * (c + 1) / chunks;
      T* acc = c == 0 ? pdw : partial.data() + (c - 1) * wsize;
      for (int64_t grp = 0; grp < g.G; ++grp) {
        if (g.K >= g.OCg) {
          split(par, g.K, round_up(ceil_div(g.K, threads), NR),
                [&](int64_t c0, int64_t c1) { chunk_tile(n0, n1, grp, acc, 0, g.OCg, c0, c1); });
        } else {
          split(par, g.OCg, round_up(ceil_div(g.OCg, threads), MR),
                [&](int64_t r0, int64_t r1) { chunk_tile(n0, n1, grp, acc, r0, r1, 0, g.K); });
        }
      }
    };
    if (g.N == 0 || g.P == 0) std::memset(pdw, 0, wsize * sizeof(T));
    if (g.N > 0 && g.P > 0 && wsize > 0) {
      if (chunks >= threads) {
        parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
          for (int64_t c = c0; c < c1; ++c) run_chunk(c, false);
        });
      } else {
        const bool par = double(g.OCg) * double(g.K) * double(g.P) * double(g.N) >= kMinMacsPerThread * 2;
        for (int64_t c = 0; c < chunks; ++c) run_chunk(c, par);
      }
      // Element-wise, each element adding chunks in order: threads split the elements, not the order.
      parallel_for(wsize, 1 << 14, [&](int64_t i0, int64_t i1) {
        for (int64_t c = 1; c < chunks; ++c) {
          const T* p = partial.data() + (c - 1) * wsize;
          for (int64_t i = i0; i < i1; ++i) pdw[i] += p[i];
        }
      });
    }
  }
}

template void conv2d_forward<float>(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Conv2dArgs&);
template void conv2d_forward<double>(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Conv2dArgs&);
template void conv2d_forward_naive<float>(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                          const Conv2dArgs&);
template void conv2d_forward_naive<double>(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                           const Conv2dArgs&);
template void conv2d_backward<float>(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                     const Conv2dArgs&);
template void conv2d_backward<double>(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                      const Conv2dArgs&);

}  // namespace pycnn::cpu
