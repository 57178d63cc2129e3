// CPU convolution as an implicit GEMM over the packed GEMM pieces (simd/simd.h), per image and group:
//   forward     y[n, g] (OCg, P)  = w[g] (OCg, K) @ col(x[n, g]) (K, P)       K = Cg*KH*KW, P = OH*OW
//   input grad  col = w[g]^T @ dout[n, g], then col2im scatters col back into dx[n, g]
//   weight grad dw[g] (OCg, K) = sum over n of dout[n, g] (OCg, P) @ col(x[n, g])^T (P, K)
// The weights (A) are packed once per call, and im2col writes straight into the packed-B panel layout,
// so no column matrix is built and nothing is re-packed per image. Threads take whole images when there
// are enough, else split one image's output tile. Depthwise convolutions (one input channel per group)
// take direct kernels instead. conv2d_forward_naive (the 7-loop) is the reference.
#include <algorithm>    // defines: std::min, std::max
#include <cstring>      // defines: std::memset
#include <type_traits>  // defines: std::is_same_v
#include <vector>

#include "core/cpu_features.h"  // defines: simd_level
#include "core/parallel.h"      // defines: parallel_for, get_num_threads
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/gemm_blocks.h"  // defines: GemmKernels, ScratchBuffer, even_block, ceil_div
#include "ops/cpu/simd/simd.h"    // defines: GemmTile, GemmBlocking, base::/avx2:: gemm_pack_a/_b, gemm_macro_kernel
#include "ops/cpu/winograd.h"     // defines: conv2d_algorithm_for, winograd_conv2d_forward, _input_grad, _weight_grad

namespace pycnn::cpu {

namespace {

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
void im2col_block(const T* x, const Conv2dGeometry& g, int64_t k0, int64_t nk, int64_t p0, int64_t np,
                  T* __restrict dst, int64_t pw, int64_t ps, int64_t rs) {
  constexpr int NR = GemmTile<T>::nr;
  const int64_t sh = g.stride_h, sw = g.stride_w, plane = g.H * g.W;
  // Per k row: the offset of x(c, kh*dil_h, kw*dil_w), and the input offsets dh, dw of its window.
  int64_t koff[kMaxRows], kdh[kMaxRows], kdw[kMaxRows];
  int64_t c = k0 / (g.KH * g.KW), kh = (k0 / g.KW) % g.KH, kw = k0 % g.KW;
  for (int64_t kk = 0; kk < nk; ++kk) {
    kdh[kk] = kh * g.dilation_h, kdw[kk] = kw * g.dilation_w;
    koff[kk] = c * plane + kdh[kk] * g.W + kdw[kk];
    if (++kw == g.KW) {
      kw = 0;
      if (++kh == g.KH) kh = 0, ++c;
    }
  }
  const int64_t win_h = (g.KH - 1) * g.dilation_h, win_w = (g.KW - 1) * g.dilation_w;
  int64_t oh = p0 / g.OW, ow = p0 % g.OW;
  for (int64_t j = 0; j < np;) {
    const int64_t len = std::min({g.OW - ow, np - j, pw - j % pw});
    T* d = dst + (j / pw) * ps + j % pw;
    const int64_t ih0 = oh * sh - g.pad_h, iw0 = ow * sw - g.pad_w;  // input corner for kh = kw = 0
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
void pack_col(const T* x, const Conv2dGeometry& g, int64_t k0, int64_t kc, int64_t p0, int64_t np, T* dst) {
  constexpr int NR = GemmTile<T>::nr;
  im2col_block(x, g, k0, kc, p0, np, dst, NR, kc * NR, NR);
  if (const int64_t tail = np % NR) {
    T* last = dst + (np / NR) * kc * NR;
    for (int64_t kk = 0; kk < kc; ++kk)
      for (int64_t j = tail; j < NR; ++j) last[kk * NR + j] = T(0);
  }
}

// The adjoint of im2col for channels [c0, c1): dx (Cg, H, W) += scatter of col. dx must be zeroed first.
template <typename T>
void col2im(const T* col, T* dx, const Conv2dGeometry& g, int64_t c0, int64_t c1) {
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const T* row = col + ((c * g.KH + kh) * g.KW + kw) * g.P;
        T* plane = dx + c * g.H * g.W;
        const int64_t dh = kh * g.dilation_h - g.pad_h, dw = kw * g.dilation_w - g.pad_w;
        int64_t ow_lo = 0, ow_hi = g.OW;
        while (ow_lo < g.OW && ow_lo * g.stride_w + dw < 0) ++ow_lo;
        while (ow_hi > ow_lo && (ow_hi - 1) * g.stride_w + dw >= g.W) --ow_hi;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const int64_t ih = oh * g.stride_h + dh;
          if (ih < 0 || ih >= g.H) continue;
          const T* in = row + oh * g.OW;
          T* out = plane + ih * g.W + dw;
          for (int64_t ow = ow_lo; ow < ow_hi; ++ow) out[ow * g.stride_w] += in[ow];
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
void pack_a_slices(const GemmKernels<T>& kern, bool trans, int64_t M, int64_t K, int64_t kc, const T* a, int64_t lda,
                   T* dst) {
  const int64_t Mp = round_up(M, GemmTile<T>::mr);
  for (int64_t pc = 0; pc < K; pc += kc)
    kern.pack_a(trans, M, std::min(kc, K - pc), trans ? a + pc * lda : a + pc, lda, dst + Mp * pc);
}

// C (M, P) = A (M, D) @ B (D, P) per group, A packed once for all right-hand sides: the forward (A = w[g],
// B = col(x[n, g])) and the input gradient (A = w[g]^T, B = dout[n, g]) are both this GEMM. Blocks as
// cpu::gemm does: P in nc-wide blocks (the packed B block kc x nc stays in cache), D in kc-deep slices, M in
// mc-row blocks of the packed A.
template <typename T>
class PackedAGemm {
 public:
  // Group grp's A is op(a + grp * group_stride), (M, D) with row stride lda, transposed when trans.
  PackedAGemm(bool trans, const T* a, int64_t lda, int64_t group_stride, int64_t G, int64_t M, int64_t D, int64_t P)
      : kern_(select_gemm_kernels<T>()),
        M_(M),
        D_(D),
        P_(P),
        kc_(even_block(D, GemmBlocking<T>::kc, 1)),
        mc_(even_block(M, GemmBlocking<T>::mc, GemmTile<T>::mr)),
        nc_(even_block(P, GemmBlocking<T>::nc, GemmTile<T>::nr)),
        Mp_(round_up(M, GemmTile<T>::mr)),
        apack_(static_cast<size_t>(G * Mp_ * D)) {
    for (int64_t grp = 0; grp < G; ++grp)
      pack_a_slices(kern_, trans, M, D, kc_, a + grp * group_stride, lda, apack_.data() + grp * Mp_ * D);
  }

  const GemmKernels<T>& kernels() const { return kern_; }

  // c[m0 : m1, p0 : p1] (row stride P) of group grp; m0 is a multiple of MR. pack_b(d0, kd, p, np, dst) packs
  // B[d0 : d0 + kd, p : p + np] in gemm_pack_b's layout; done(p, np) runs once columns p .. p + np are final.
  template <typename PackB, typename Done>
  void tile(int64_t grp, T* c, int64_t m0, int64_t m1, int64_t p0, int64_t p1, const PackB& pack_b,
            const Done& done) const {
    constexpr int64_t MR = GemmTile<T>::mr, NR = GemmTile<T>::nr;
    const T* ag = apack_.data() + grp * Mp_ * D_;
    T* bpack = tl_pack_b.get<T>(round_up(std::min(nc_, p1 - p0), NR) * kc_);
    for (int64_t jc = p0; jc < p1; jc += nc_) {
      const int64_t ncur = std::min(nc_, p1 - jc);
      for (int64_t pc = 0; pc < D_; pc += kc_) {
        const int64_t kcur = std::min(kc_, D_ - pc);
        pack_b(pc, kcur, jc, ncur, bpack);
        for (int64_t ic = m0; ic < m1; ic += mc_) {
          const int64_t m = std::min(mc_, m1 - ic);
          kern_.macro(m, ncur, kcur, T(1), ag + Mp_ * pc + (ic / MR) * kcur * MR, bpack, pc == 0 ? T(0) : T(1),
                      c + ic * P_ + jc, P_, 1);
        }
      }
      done(jc, ncur);
    }
  }

 private:
  const GemmKernels<T> kern_;
  const int64_t M_, D_, P_, kc_, mc_, nc_, Mp_;
  std::vector<T> apack_;
};

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
  PaddedPlane(const Conv2dGeometry& g)
      : Hp(std::max(g.H + 2 * g.pad_h, (g.OH - 1) * g.stride_h + (g.KH - 1) * g.dilation_h + 1)),
        Wp(std::max(g.W + 2 * g.pad_w, (g.OW - 1) * g.stride_w + (g.KW - 1) * g.dilation_w + 1)) {}
};

template <typename T>
void pad_plane(const T* in, const Conv2dGeometry& g, const PaddedPlane& pp, T* out) {
  for (int64_t i = 0; i < pp.Hp * pp.Wp; ++i) out[i] = T(0);
  for (int64_t h = 0; h < g.H; ++h) {
    T* dst = out + (h + g.pad_h) * pp.Wp + g.pad_w;
    const T* src = in + h * g.W;
    for (int64_t w = 0; w < g.W; ++w) dst[w] = src[w];
  }
}

template <typename T>
void depthwise_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y) {
  const PaddedPlane pp(g);
  parallel_for(g.N * g.OC, 1, [=](int64_t q0, int64_t q1) {
    T* xp = tl_plane.get<T>(pp.Hp * pp.Wp);
    int64_t padded = -1;  // the input plane now in xp (consecutive output channels share one)
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t n = q / g.OC, oc = q % g.OC, plane = n * g.C + oc / g.OCg;
      if (plane != padded) pad_plane(x + plane * g.H * g.W, g, pp, xp);
      padded = plane;
      const T* wk = w + oc * g.KH * g.KW;
      T* out = y + q * g.P;
      const T bias = b ? b[oc] : T(0);
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        T* __restrict orow = out + oh * g.OW;
        for (int64_t ow = 0; ow < g.OW; ++ow) orow[ow] = bias;
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          const T* irow = xp + (oh * g.stride_h + kh * g.dilation_h) * pp.Wp;
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const T wv = wk[kh * g.KW + kw];
            const T* __restrict src = irow + kw * g.dilation_w;
            if (g.stride_w == 1) {
              for (int64_t ow = 0; ow < g.OW; ++ow) orow[ow] += wv * src[ow];
            } else {
              for (int64_t ow = 0; ow < g.OW; ++ow) orow[ow] += wv * src[ow * g.stride_w];
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
void depthwise_input_grad(const Conv2dGeometry& g, const T* dout, const T* w, T* dx) {
  const PaddedPlane pp(g);
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
            T* prow = dp + (oh * g.stride_h + kh * g.dilation_h) * pp.Wp;
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              const T wv = wk[kh * g.KW + kw];
              T* __restrict dst = prow + kw * g.dilation_w;
              if (g.stride_w == 1) {
                for (int64_t ow = 0; ow < g.OW; ++ow) dst[ow] += wv * drow[ow];
              } else {
                for (int64_t ow = 0; ow < g.OW; ++ow) dst[ow * g.stride_w] += wv * drow[ow];
              }
            }
          }
        }
      }
      T* din = dx + q * g.H * g.W;
      for (int64_t h = 0; h < g.H; ++h) {
        const T* src = dp + (h + g.pad_h) * pp.Wp + g.pad_w;
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
void depthwise_weight_grad(const Conv2dGeometry& g, const T* dout, const T* x, T* dw) {
  const PaddedPlane pp(g);
  const int64_t taps = g.KH * g.KW;
  parallel_for(g.OC, 1, [=](int64_t c0, int64_t c1) {
    T* xp = tl_plane.get<T>(pp.Hp * pp.Wp);
    T* rows = tl_rows.get<T>(taps * g.OW);
    for (int64_t oc = c0; oc < c1; ++oc) {
      for (int64_t i = 0; i < taps * g.OW; ++i) rows[i] = T(0);
      for (int64_t n = 0; n < g.N; ++n) {
        pad_plane(x + (n * g.C + oc / g.OCg) * g.H * g.W, g, pp, xp);
        const T* d = dout + (n * g.OC + oc) * g.P;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const T* __restrict drow = d + oh * g.OW;
          for (int64_t kh = 0; kh < g.KH; ++kh) {
            const T* prow = xp + (oh * g.stride_h + kh * g.dilation_h) * pp.Wp;
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              T* __restrict acc = rows + (kh * g.KW + kw) * g.OW;
              const T* __restrict src = prow + kw * g.dilation_w;
              if (g.stride_w == 1) {
                for (int64_t ow = 0; ow < g.OW; ++ow) acc[ow] += drow[ow] * src[ow];
              } else {
                for (int64_t ow = 0; ow < g.OW; ++ow) acc[ow] += drow[ow] * src[ow * g.stride_w];
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

// y[n, grp][oc0 : oc1, p0 : p1] = w[grp] @ col(x[n, grp]) + b; oc0 is a multiple of MR.
template <typename T>
void forward_tile(const PackedAGemm<T>& gemm, const Conv2dGeometry& g, const T* x, const T* b, T* y, int64_t n,
                  int64_t grp, int64_t oc0, int64_t oc1, int64_t p0, int64_t p1) {
  const T* xg = x + (n * g.C + grp * g.Cg) * g.H * g.W;
  T* yg = y + (n * g.OC + grp * g.OCg) * g.P;
  auto pack_b = [&](int64_t k0, int64_t kc, int64_t j0, int64_t nj, T* dst) {
    if (g.pointwise) {
      gemm.kernels().pack_b(false, kc, nj, xg + k0 * g.P + j0, g.P, dst);
    } else {
      pack_col(xg, g, k0, kc, j0, nj, dst);
    }
  };
  // The bias goes on each block of columns once it is final, while it is still in cache: cheaper than
  // pre-filling y and having every micro-tile load it back.
  auto add_bias = [&](int64_t j0, int64_t nj) {
    if (!b) return;
    for (int64_t oc = oc0; oc < oc1; ++oc) {
      const T v = b[grp * g.OCg + oc];
      T* row = yg + oc * g.P + j0;
      for (int64_t j = 0; j < nj; ++j) row[j] += v;
    }
  };
  gemm.tile(grp, yg, oc0, oc1, p0, p1, pack_b, add_bias);
}

}  // namespace

Conv2dGeometry conv2d_geometry(const Shape& x, const Shape& w, const Shape& y, const Conv2dArgs& a) {
  Conv2dGeometry g;
  g.N = x[0], g.C = x[1], g.H = x[2], g.W = x[3];
  g.OC = w[0], g.KH = w[2], g.KW = w[3], g.OH = y[2], g.OW = y[3];
  g.G = a.groups, g.Cg = g.C / g.G, g.OCg = g.OC / g.G;
  g.K = g.Cg * g.KH * g.KW, g.P = g.OH * g.OW;
  g.stride_h = a.stride_h, g.stride_w = a.stride_w, g.pad_h = a.pad_h, g.pad_w = a.pad_w;
  g.dilation_h = a.dilation_h, g.dilation_w = a.dilation_w;
  g.pointwise = g.KH == 1 && g.KW == 1 && a.stride_h == 1 && a.stride_w == 1 && a.pad_h == 0 && a.pad_w == 0;
  return g;
}

template <typename T>
void conv2d_forward_naive(const T* px, const T* pw, const T* pb, T* py, const Conv2dGeometry& g) {
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oc = 0; oc < g.OC; ++oc) {
      const int64_t grp = oc / g.OCg;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          T acc = pb ? pb[oc] : T(0);
          for (int64_t c = 0; c < g.Cg; ++c)
            for (int64_t kh = 0; kh < g.KH; ++kh)
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t ih = oh * g.stride_h + kh * g.dilation_h - g.pad_h;
                const int64_t iw = ow * g.stride_w + kw * g.dilation_w - g.pad_w;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                acc += px[((n * g.C + grp * g.Cg + c) * g.H + ih) * g.W + iw] *
                       pw[((oc * g.Cg + c) * g.KH + kh) * g.KW + kw];
              }
          py[((n * g.OC + oc) * g.OH + oh) * g.OW + ow] = acc;
        }
    }
}

template <typename T>
void conv2d_forward(const T* px, const T* pw, const T* pb, T* py, const Conv2dGeometry& g) {
  constexpr int64_t MR = GemmTile<T>::mr, NR = GemmTile<T>::nr;
  if (g.N == 0 || g.OC == 0 || g.P == 0) return;
  if (g.K == 0) {  // an empty sum: y is the bias
    for (int64_t i = 0; i < g.N * g.OC; ++i)
      for (int64_t p = 0; p < g.P; ++p) py[i * g.P + p] = pb ? pb[i % g.OC] : T(0);
    return;
  }
  if (g.Cg == 1 && g.G > 1) return depthwise_forward(g, px, pw, pb, py);
  if constexpr (std::is_same_v<T, float>)
    if (conv2d_algorithm_for(g, DType::Float32, Conv2dPass::Forward) == Conv2dAlgo::Winograd)
      return winograd_conv2d_forward(px, pw, pb, py, g);
  // The weights, packed once for all images.
  const PackedAGemm<T> gemm(false, pw, g.K, g.OCg * g.K, g.G, g.OCg, g.K, g.P);
  auto tile = [&](int64_t n, int64_t grp, int64_t oc0, int64_t oc1, int64_t p0, int64_t p1) {
    forward_tile(gemm, g, px, pb, py, n, grp, oc0, oc1, p0, p1);
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
        split(par, g.P, round_up(ceil_div(g.P, threads), NR),
              [&](int64_t p0, int64_t p1) { tile(n, grp, 0, g.OCg, p0, p1); });
      } else {
        split(par, g.OCg, round_up(ceil_div(g.OCg, threads), MR),
              [&](int64_t o0, int64_t o1) { tile(n, grp, o0, o1, 0, g.P); });
      }
    }
}

// ---- input gradient ------------------------------------------------------------------------------------
// col (K, P) = w[g]^T (K, OCg) @ dout[n, g] (OCg, P), independent per image. w^T is packed once (A, K rows in
// mc blocks, OCg deep); dout[n, g] is packed as B. A pointwise conv writes dx[n, g] directly; otherwise col
// goes to a buffer and col2im scatters it.

namespace {

// col[k0 : k1, p0 : p1] (rows at stride P) = w[grp]^T @ dout[n, grp] for image n; k0 is a multiple of MR.
template <typename T>
void input_grad_tile(const PackedAGemm<T>& gemm, const Conv2dGeometry& g, const T* dout, int64_t n, int64_t grp, T* col,
                     int64_t k0, int64_t k1, int64_t p0, int64_t p1) {
  const T* dg = dout + (n * g.OC + grp * g.OCg) * g.P;
  auto pack_b = [&](int64_t d0, int64_t kd, int64_t j0, int64_t nj, T* dst) {
    gemm.kernels().pack_b(false, kd, nj, dg + d0 * g.P + j0, g.P, dst);
  };
  gemm.tile(grp, col, k0, k1, p0, p1, pack_b, [](int64_t, int64_t) {});
}

// Many images: each thread takes whole images, with its own col buffer.
template <typename T>
void input_grad_by_image(const PackedAGemm<T>& gemm, const Conv2dGeometry& g, const T* dout, T* dx) {
  parallel_for(g.N, 1, [&](int64_t n0, int64_t n1) {
    T* col = g.pointwise ? nullptr : tl_work.get<T>(g.K * g.P);
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t grp = 0; grp < g.G; ++grp) {
        T* dxg = dx + (n * g.C + grp * g.Cg) * g.H * g.W;
        input_grad_tile(gemm, g, dout, n, grp, g.pointwise ? dxg : col, 0, g.K, 0, g.P);
        if (g.pointwise) continue;
        std::memset(dxg, 0, sizeof(T) * g.Cg * g.H * g.W);
        col2im(col, dxg, g, 0, g.Cg);
      }
  });
}

// Few images: threads split the GEMM (along P, or along K when P is narrow), then the channels of col2im;
// the col buffer is shared, so it is the calling thread's.
template <typename T>
void input_grad_within_image(const PackedAGemm<T>& gemm, const Conv2dGeometry& g, const T* dout, T* dx, int threads) {
  constexpr int64_t MR = GemmTile<T>::mr, NR = GemmTile<T>::nr;
  const bool par = double(g.OCg) * double(g.P) * double(g.K) >= kMinMacsPerThread * 2;
  const bool by_p = ceil_div(g.P, NR) >= threads || g.K <= MR;
  T* col = g.pointwise ? nullptr : tl_work.get<T>(g.K * g.P);
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t grp = 0; grp < g.G; ++grp) {
      T* dxg = dx + (n * g.C + grp * g.Cg) * g.H * g.W;
      T* c = g.pointwise ? dxg : col;
      if (by_p) {
        split(par, g.P, round_up(ceil_div(g.P, threads), NR),
              [&](int64_t p0, int64_t p1) { input_grad_tile(gemm, g, dout, n, grp, c, 0, g.K, p0, p1); });
      } else {
        split(par, g.K, round_up(ceil_div(g.K, threads), MR),
              [&](int64_t k0, int64_t k1) { input_grad_tile(gemm, g, dout, n, grp, c, k0, k1, 0, g.P); });
      }
      if (g.pointwise) continue;
      split(par, g.Cg, 1, [&](int64_t c0, int64_t c1) {
        std::memset(dxg + c0 * g.H * g.W, 0, sizeof(T) * (c1 - c0) * g.H * g.W);
        col2im(col, dxg, g, c0, c1);
      });
    }
}

}  // namespace

template <typename T>
void conv2d_input_grad(const T* dout, const T* w, T* dx, const Conv2dGeometry& g) {
  if (g.Cg == 1 && g.G > 1) return depthwise_input_grad(g, dout, w, dx);  // direct kernel (see above)
  if constexpr (std::is_same_v<T, float>)
    if (conv2d_algorithm_for(g, DType::Float32, Conv2dPass::InputGrad) == Conv2dAlgo::Winograd)
      return winograd_conv2d_input_grad(dout, w, dx, g);
  if (g.P == 0 || g.K == 0 || g.OCg == 0) {
    std::memset(dx, 0, sizeof(T) * g.N * g.C * g.H * g.W);
    return;
  }
  const PackedAGemm<T> gemm(true, w, g.K, g.OCg * g.K, g.G, g.K, g.OCg, g.P);  // w^T, packed once
  const int threads = get_num_threads();
  if (g.N >= threads) {
    input_grad_by_image(gemm, g, dout, dx);
  } else {
    input_grad_within_image(gemm, g, dout, dx, threads);
  }
}

// ---- weight gradient -----------------------------------------------------------------------------------
// dw[g] = sum over n, p of dout[n, g][:, p] col_n[:, p]^T, a GEMM whose inner dimension runs over (image, p).
// The images are cut into a fixed number of contiguous chunks (kWeightGradChunks, never the thread count);
// within a chunk the inner dimension is the chunk's images' P columns back to back, cut into kc-deep slices,
// so a small P (LeNet: 64) still fills a deep slice and each dw tile is loaded and stored once per slice, not
// once per image. dout is packed as A, col^T as B (im2col of NR k rows into a small block, then
// gemm_pack_b's transposing pack). Each chunk sums into its own accumulator and the accumulators are added
// in chunk order, so the summation order, hence every bit of dw, is the same for any number of threads;
// chunks run in parallel when there are enough images, else one after another, their output tile split
// between threads (never the sum).

namespace {

constexpr int64_t kWeightGradChunks = 8;

// The GEMM of one chunk of images: acc[grp] (OCg, K) = sum over its images of dout[n, grp] @ col_n^T.
template <typename T>
class WeightGradGemm {
 public:
  WeightGradGemm(const Conv2dGeometry& g, const T* dout, const T* x)
      : g_(g),
        kern_(select_gemm_kernels<T>()),
        mc_(even_block(g.OCg, GemmBlocking<T>::mc, GemmTile<T>::mr)),
        nc_(even_block(g.K, GemmBlocking<T>::nc, GemmTile<T>::nr)),
        dout_(dout),
        x_(x) {}

  // acc[grp][r0 : r1, c0 : c1] = the sum over images n0 .. n1-1; r0 is a multiple of MR, c0 of NR.
  void tile(int64_t n0, int64_t n1, int64_t grp, T* acc, int64_t r0, int64_t r1, int64_t c0, int64_t c1) const {
    constexpr int64_t MR = GemmTile<T>::mr, NR = GemmTile<T>::nr;
    const int64_t inner = (n1 - n0) * g_.P;
    const int64_t kc = even_block(inner, GemmBlocking<T>::kc, 1);
    T* apack = tl_pack_a.get<T>(round_up(std::min(mc_, r1 - r0), MR) * kc);
    T* bpack = tl_pack_b.get<T>(round_up(std::min(nc_, c1 - c0), NR) * kc);
    T* accg = acc + grp * g_.OCg * g_.K;
    for (int64_t jc = c0; jc < c1; jc += nc_) {
      const int64_t ncur = std::min(nc_, c1 - jc);
      for (int64_t s0 = 0; s0 < inner; s0 += kc) {
        const int64_t kcur = std::min(kc, inner - s0);
        pack_col_t(n0, grp, s0, kcur, jc, ncur, bpack);
        const T beta = s0 == 0 ? T(0) : T(1);
        for (int64_t ic = r0; ic < r1; ic += mc_) {
          const int64_t m = std::min(mc_, r1 - ic);
          pack_dout(n0, grp, s0, kcur, ic, m, apack);
          kern_.macro(m, ncur, kcur, T(1), apack, bpack, beta, accg + ic * g_.K + jc, g_.K, 1);
        }
      }
    }
  }

 private:
  // Runs piece(n, p, s, len) over the pieces of inner rows s0 .. s0 + kcur that stay in one image n (from
  // its column p); the rows span images n0 + s0 / P, ....
  template <typename F>
  void for_each_image_piece(int64_t n0, int64_t s0, int64_t kcur, const F& piece) const {
    for (int64_t s = s0; s < s0 + kcur;) {
      const int64_t n = n0 + s / g_.P, p = s % g_.P, len = std::min(g_.P - p, s0 + kcur - s);
      piece(n, p, s, len);
      s += len;
    }
  }

  // B: col^T rows s0 .. s0 + kcur, columns jc .. jc + ncur, in NR-wide panels.
  void pack_col_t(int64_t n0, int64_t grp, int64_t s0, int64_t kcur, int64_t jc, int64_t ncur, T* bpack) const {
    constexpr int64_t NR = GemmTile<T>::nr;
    T* block = g_.pointwise ? nullptr : tl_work.get<T>(NR * kcur);
    for_each_image_piece(n0, s0, kcur, [&](int64_t n, int64_t p, int64_t s, int64_t len) {
      const T* xg = x_ + (n * g_.C + grp * g_.Cg) * g_.H * g_.W;
      for (int64_t j = 0; j < ncur; j += NR) {
        const int64_t cols = std::min<int64_t>(NR, ncur - j);
        T* panel = bpack + (j / NR) * kcur * NR + (s - s0) * NR;
        if (g_.pointwise) {
          kern_.pack_b(true, len, cols, xg + (jc + j) * g_.P + p, g_.P, panel);
        } else {
          im2col_block(xg, g_, jc + j, cols, p, len, block, len, 0, len);
          kern_.pack_b(true, len, cols, block, len, panel);
        }
      }
    });
  }

  // A: dout rows ic .. ic + m over inner rows s0 .. s0 + kcur, one MR-row panel at a time.
  void pack_dout(int64_t n0, int64_t grp, int64_t s0, int64_t kcur, int64_t ic, int64_t m, T* apack) const {
    constexpr int64_t MR = GemmTile<T>::mr;
    for_each_image_piece(n0, s0, kcur, [&](int64_t n, int64_t p, int64_t s, int64_t len) {
      const T* dg = dout_ + (n * g_.OC + grp * g_.OCg) * g_.P;
      for (int64_t i = 0; i < m; i += MR)
        kern_.pack_a(false, std::min<int64_t>(MR, m - i), len, dg + (ic + i) * g_.P + p, g_.P,
                     apack + (i / MR) * kcur * MR + (s - s0) * MR);
    });
  }

  const Conv2dGeometry& g_;
  const GemmKernels<T> kern_;
  const int64_t mc_, nc_;
  const T* dout_;
  const T* x_;
};

// Chunk c of `chunks` (images N*c/chunks .. N*(c+1)/chunks - 1) into acc, every group; with par, threads
// split each group's output tile (along K, or along OCg when it is the larger).
template <typename T>
void weight_grad_chunk(const WeightGradGemm<T>& gemm, const Conv2dGeometry& g, int64_t c, int64_t chunks, T* acc,
                       bool par, int threads) {
  constexpr int64_t MR = GemmTile<T>::mr, NR = GemmTile<T>::nr;
  const int64_t n0 = g.N * c / chunks, n1 = g.N * (c + 1) / chunks;
  for (int64_t grp = 0; grp < g.G; ++grp) {
    if (g.K >= g.OCg) {
      split(par, g.K, round_up(ceil_div(g.K, threads), NR),
            [&](int64_t c0, int64_t c1) { gemm.tile(n0, n1, grp, acc, 0, g.OCg, c0, c1); });
    } else {
      split(par, g.OCg, round_up(ceil_div(g.OCg, threads), MR),
            [&](int64_t r0, int64_t r1) { gemm.tile(n0, n1, grp, acc, r0, r1, 0, g.K); });
    }
  }
}

}  // namespace

template <typename T>
void conv2d_weight_grad(const T* dout, const T* x, T* dw, const Conv2dGeometry& g) {
  if (g.Cg == 1 && g.G > 1) return depthwise_weight_grad(g, dout, x, dw);  // direct kernel (see above)
  if constexpr (std::is_same_v<T, float>)
    if (conv2d_algorithm_for(g, DType::Float32, Conv2dPass::WeightGrad) == Conv2dAlgo::Winograd)
      return winograd_conv2d_weight_grad(dout, x, dw, g);
  const int64_t wsize = g.OC * g.K;
  if (g.N == 0 || g.P == 0) {
    std::memset(dw, 0, wsize * sizeof(T));
    return;
  }
  if (wsize == 0) return;
  // No more chunks than full kc-deep slices, though: with tiny images (512 x 4 x 4) eight chunks would each
  // write a whole dw for a 64-deep sum. A function of the shape only, so still deterministic.
  const int64_t full_slices = std::max<int64_t>(1, g.N * g.P / GemmBlocking<T>::kc);
  const int64_t chunks = std::min({g.N, kWeightGradChunks, full_slices});
  std::vector<T> partial(static_cast<size_t>(chunks > 1 ? chunks - 1 : 0) * wsize);
  auto acc_of = [&](int64_t c) { return c == 0 ? dw : partial.data() + (c - 1) * wsize; };
  const WeightGradGemm<T> gemm(g, dout, x);
  const int threads = get_num_threads();
  if (chunks >= threads) {
    parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) weight_grad_chunk(gemm, g, c, chunks, acc_of(c), false, threads);
    });
  } else {
    const bool par = double(g.OCg) * double(g.K) * double(g.P) * double(g.N) >= kMinMacsPerThread * 2;
    for (int64_t c = 0; c < chunks; ++c) weight_grad_chunk(gemm, g, c, chunks, acc_of(c), par, threads);
  }
  // Element-wise, each element adding chunks in order: threads split the elements, not the order.
  parallel_for(wsize, 1 << 14, [&](int64_t i0, int64_t i1) {
    for (int64_t c = 1; c < chunks; ++c) {
      const T* p = partial.data() + (c - 1) * wsize;
      for (int64_t i = i0; i < i1; ++i) dw[i] += p[i];
    }
  });
}

#define PYCNN_INSTANTIATE_CONV2D(T)                                                               \
  template void conv2d_forward<T>(const T*, const T*, const T*, T*, const Conv2dGeometry&);       \
  template void conv2d_forward_naive<T>(const T*, const T*, const T*, T*, const Conv2dGeometry&); \
  template void conv2d_input_grad<T>(const T*, const T*, T*, const Conv2dGeometry&);              \
  template void conv2d_weight_grad<T>(const T*, const T*, T*, const Conv2dGeometry&);
PYCNN_INSTANTIATE_CONV2D(float)
PYCNN_INSTANTIATE_CONV2D(double)

}  // namespace pycnn::cpu
