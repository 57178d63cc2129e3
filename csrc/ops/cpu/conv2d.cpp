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

#include "pycnn/core/parallel.h"  // defines: parallel_for, get_num_threads
#include "pycnn/core/storage.h"   // defines: Storage
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/cpu/gemm_blocks.h"  // defines: ScratchBuffer, even_block, ceil_div
#include "pycnn/ops/cpu/simd/simd.h"    // defines: GemmKernels, gemm_kernels, kMaxGemmKc, kernel_set
#include "pycnn/ops/cpu/winograd.h"  // defines: conv2d_algorithm_for, winograd_conv2d_forward, _input_grad, _weight_grad

namespace pycnn::cpu {

namespace {

thread_local ScratchBuffer tl_pack_a, tl_pack_b, tl_work;

// ---- im2col into any row-major or panelled destination ----------------------------------------------

// The most k rows one im2col_block call handles: one K slice.
constexpr int64_t kMaxRows = kMaxGemmKc;

// dst[kk * rs + t] = s[koff[kk] + t] for t < Len: a fixed-length copy the compiler turns into vector moves.
template <int Len, typename T>
void copy_rows(const T* s, const int64_t* koff, int64_t nk, T* __restrict d, int64_t rs) {
  for (int64_t kk = 0; kk < nk; ++kk)
    for (int t = 0; t < Len; ++t) d[kk * rs + t] = s[koff[kk] + t];
}

// col(x)[k0 : k0 + nk, p0 : p0 + np] for one image's group x (Cg, H, W). Column j (0 <= j < np) of row kk
// goes to dst[(j / pw) * ps + j % pw + kk * rs]: with pw = NR, ps = kc*NR, rs = NR that is gemm_pack_b's
// panel layout; with pw = np, rs = np a plain row-major block. Columns are cut into runs that stay in one
// output row and one panel; a run whose receptive field lies inside the image for every (kh, kw) (all of
// them in an unpadded conv) is copied for every k row without bounds checks, a fixed-length copy for the
// common lengths (panels of 8, 16 or 32; LeNet's output rows of 8 or 24). Edge runs clip.
template <typename T>
void im2col_block(const T* x, const Conv2dGeometry& g, int64_t k0, int64_t nk, int64_t p0, int64_t np,
                  T* __restrict dst, int64_t pw, int64_t ps, int64_t rs) {
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
      if (len == 8) {
        copy_rows<8>(s, koff, nk, d, rs);
      } else if (len == 16) {
        copy_rows<16>(s, koff, nk, d, rs);
      } else if (len == 24) {
        copy_rows<24>(s, koff, nk, d, rs);
      } else if (len == 32) {
        copy_rows<32>(s, koff, nk, d, rs);
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

// The weight gradient's B panel: col(x)^T rows p0 .. p0 + np (output positions), columns k0 .. k0 + nk
// (nk <= NR), as dst[t * NR + kk] = col(x)[k0 + kk, p0 + t], columns past nk zero: im2col and the
// transposing pack in one pass. At stride 1 a run of positions in one output row whose windows are all
// inside the image reads each k row contiguously: the kernel set's transpose_rows. Other positions write
// NR values read at fixed offsets (koff) from the window's corner, bounds-checked at the image's edges.
template <typename T>
void im2col_transposed_panel(const GemmKernels<T>& kern, const T* x, const Conv2dGeometry& g, int64_t k0, int64_t nk,
                             int64_t p0, int64_t np, T* __restrict dst, int64_t NR) {
  int64_t koff[kMaxRows], kdh[kMaxRows], kdw[kMaxRows];
  int64_t c = k0 / (g.KH * g.KW), kh = (k0 / g.KW) % g.KH, kw = k0 % g.KW;
  for (int64_t kk = 0; kk < nk; ++kk) {
    kdh[kk] = kh * g.dilation_h, kdw[kk] = kw * g.dilation_w;
    koff[kk] = c * g.H * g.W + kdh[kk] * g.W + kdw[kk];
    if (++kw == g.KW) {
      kw = 0;
      if (++kh == g.KH) kh = 0, ++c;
    }
  }
  const int64_t win_h = (g.KH - 1) * g.dilation_h, win_w = (g.KW - 1) * g.dilation_w;
  int64_t oh = p0 / g.OW, ow = p0 % g.OW;
  for (int64_t t = 0; t < np; ++t, dst += NR) {
    const int64_t ih0 = oh * g.stride_h - g.pad_h, iw0 = ow * g.stride_w - g.pad_w;
    const T* corner = x + ih0 * g.W + iw0;
    const int64_t run = std::min({np - t, g.OW - ow, g.W - win_w - iw0});
    if (g.stride_w == 1 && ih0 >= 0 && ih0 + win_h < g.H && iw0 >= 0 && run > 1) {
      kern.transpose_rows(corner, koff, nk, run, dst, NR);
      for (int64_t r = 0; r < run; ++r)
        for (int64_t kk = nk; kk < NR; ++kk) dst[r * NR + kk] = T(0);
      t += run - 1, dst += (run - 1) * NR, ow += run - 1;
      if (++ow == g.OW) ow = 0, ++oh;
      continue;
    }
    if (ih0 >= 0 && ih0 + win_h < g.H && iw0 >= 0 && iw0 + win_w < g.W) {
      for (int64_t kk = 0; kk < nk; ++kk) dst[kk] = corner[koff[kk]];
    } else {
      for (int64_t kk = 0; kk < nk; ++kk) {
        const int64_t ih = ih0 + kdh[kk], iw = iw0 + kdw[kk];
        dst[kk] = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? corner[koff[kk]] : T(0);
      }
    }
    for (int64_t kk = nk; kk < NR; ++kk) dst[kk] = T(0);
    if (++ow == g.OW) ow = 0, ++oh;
  }
}

// Forward's B block: col(x)[k0 : k0 + kc, p0 : p0 + np] in gemm_pack_b's layout (NR-wide panels of kc
// steps, columns past np zero).
template <typename T>
void pack_col(const T* x, const Conv2dGeometry& g, int64_t k0, int64_t kc, int64_t p0, int64_t np, T* dst, int64_t NR) {
  im2col_block(x, g, k0, kc, p0, np, dst, NR, kc * NR, NR);
  if (const int64_t tail = np % NR) {
    T* last = dst + (np / NR) * kc * NR;
    for (int64_t kk = 0; kk < kc; ++kk)
      for (int64_t j = tail; j < NR; ++j) last[kk * NR + j] = T(0);
  }
}

// The adjoint of im2col for channels [c0, c1) of dx (Cg, H, W), which it writes fully; col holds K rows of
// P values at row stride ld. Stride 1 scatters col's rows into dx (contiguous adds); a strided conv gathers
// instead (col2im_strided).
template <typename T>
void col2im_strided(const T* col, T* dx, const Conv2dGeometry& g, int64_t c0, int64_t c1, int64_t ld);

template <typename T>
void col2im(const T* col, T* dx, const Conv2dGeometry& g, int64_t c0, int64_t c1, int64_t ld) {
  if (g.stride_h > 1 || g.stride_w > 1) return col2im_strided(col, dx, g, c0, c1, ld);
  std::memset(dx + c0 * g.H * g.W, 0, sizeof(T) * (c1 - c0) * g.H * g.W);
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const T* row = col + ((c * g.KH + kh) * g.KW + kw) * ld;
        T* plane = dx + c * g.H * g.W;
        const int64_t dh = kh * g.dilation_h - g.pad_h, dw = kw * g.dilation_w - g.pad_w;
        int64_t ow_lo = 0, ow_hi = g.OW;
        while (ow_lo < g.OW && ow_lo + dw < 0) ++ow_lo;
        while (ow_hi > ow_lo && (ow_hi - 1) + dw >= g.W) --ow_hi;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const int64_t ih = oh + dh;
          if (ih < 0 || ih >= g.H) continue;
          const T* in = row + oh * g.OW;
          T* out = plane + ih * g.W + dw;
          for (int64_t ow = ow_lo; ow < ow_hi; ++ow) out[ow] += in[ow];
        }
      }
}

// The taps along one axis that reach pixels of phase p (pixel index = p + s * u): tap k does when
// (p + pad - k * d) is a multiple e * s of the stride; then pixel u reads output u + e.
struct PhaseTap {
  int64_t k, e;
};

std::vector<PhaseTap> phase_taps(int64_t p, int64_t s, int64_t pad, int64_t K, int64_t d) {
  std::vector<PhaseTap> taps;
  for (int64_t k = 0; k < K; ++k)
    if ((p + pad - k * d) % s == 0) taps.push_back({k, (p + pad - k * d) / s});
  return taps;
}

thread_local ScratchBuffer tl_col2im_row;

// Strided col2im as a gather, one phase of dx (rows a + sh*u, columns b + sw*v) at a time: each phase row is
// the sum of the few col rows that reach it (contiguous adds into a row buffer), then stored every sw-th
// element. The scatter would add into every sw-th element once per tap, which does not vectorise.
template <typename T>
void col2im_strided(const T* col, T* dx, const Conv2dGeometry& g, int64_t c0, int64_t c1, int64_t ld) {
  const int64_t sh = g.stride_h, sw = g.stride_w;
  T* acc = tl_col2im_row.get<T>(ceil_div(g.W, sw));
  for (int64_t a = 0; a < sh; ++a)
    for (int64_t b = 0; b < sw; ++b) {
      const int64_t rows = a < g.H ? ceil_div(g.H - a, sh) : 0, cols = b < g.W ? ceil_div(g.W - b, sw) : 0;
      const std::vector<PhaseTap> th = phase_taps(a, sh, g.pad_h, g.KH, g.dilation_h);
      const std::vector<PhaseTap> tw = phase_taps(b, sw, g.pad_w, g.KW, g.dilation_w);
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t u = 0; u < rows; ++u) {
          for (int64_t v = 0; v < cols; ++v) acc[v] = T(0);
          for (const PhaseTap& h : th) {
            const int64_t oh = u + h.e;
            if (oh < 0 || oh >= g.OH) continue;
            for (const PhaseTap& w : tw) {
              // columns v with 0 <= v + e < OW
              const int64_t lo = std::max<int64_t>(0, -w.e), hi = std::min(cols, g.OW - w.e);
              const T* __restrict src = col + ((c * g.KH + h.k) * g.KW + w.k) * ld + oh * g.OW + w.e;
              T* __restrict sum = acc;
              for (int64_t v = lo; v < hi; ++v) sum[v] += src[v];
            }
          }
          T* out = dx + (c * g.H + a + sh * u) * g.W + b;
          for (int64_t v = 0; v < cols; ++v) out[v * sw] = acc[v];
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
  const int64_t Mp = round_up(M, kern.mr);
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
      : kern_(gemm_kernels<T>()),
        M_(M),
        D_(D),
        P_(P),
        kc_(even_block(D, kern_.kc, 1)),
        mc_(even_block(M, kern_.mc, kern_.mr)),
        nc_(even_block(P, kern_.nc, kern_.nr)),
        Mp_(round_up(M, kern_.mr)),
        apack_(sizeof(T) * static_cast<size_t>(G * Mp_ * D), Device{}) {
    for (int64_t grp = 0; grp < G; ++grp)
      pack_a_slices(kern_, trans, M, D, kc_, a + grp * group_stride, lda, apack() + grp * Mp_ * D);
  }

  const GemmKernels<T>& kernels() const { return kern_; }

  // c[m0 : m1, p0 : p1] (row stride P) of group grp; m0 is a multiple of MR. pack_b(d0, kd, p, np, dst) packs
  // B[d0 : d0 + kd, p : p + np] in gemm_pack_b's layout; done(p, np) runs once columns p .. p + np are final.
  template <typename PackB, typename Done>
  void tile(int64_t grp, T* c, int64_t m0, int64_t m1, int64_t p0, int64_t p1, const PackB& pack_b,
            const Done& done) const {
    const int64_t MR = kern_.mr, NR = kern_.nr;
    const T* ag = apack() + grp * Mp_ * D_;
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
  T* apack() const { return static_cast<T*>(apack_.data()); }

  const GemmKernels<T>& kern_;
  const int64_t M_, D_, P_, kc_, mc_, nc_, Mp_;
  Storage apack_;  // through the host block cache: no fresh pages per call
};

// ---- depthwise: one input channel per group (Cg == 1) -----------------------------------------------
// The GEMM path would run 1-row tiles here (~5% useful work), so these convolve planes directly with the
// kernels of simd/depthwise_kernel.cpp (one copy per kernel set). Their unit of work is one input channel
// over a run of images (DepthwiseWork): the forward and the input gradient run every unit in parallel; the
// weight gradient gives each thread whole channels, whose runs it sums in order (the same bits for any
// thread count).

thread_local ScratchBuffer tl_depthwise;

// Units smaller than this many multiply-adds are grouped so that a thread's share is worth starting it.
constexpr int64_t kMinDepthwiseMacs = 1 << 15;

// Runs unit(c0, c1, n0, n1, prev_images, scratch) for every block of channels and run of images, in parallel;
// channels vary fastest, so consecutive units read neighbouring planes. prev_images: the images of the unit
// the thread ran just before on the same scratch (0 for its first), whose zero padding the kernel may keep.
template <typename T, typename F>
void depthwise_units(const Conv2dGeometry& g, const DepthwiseWork& work, const F& unit) {
  const int64_t blocks = ceil_div(g.C, work.channels);
  const int64_t macs = work.channels * work.images * g.OCg * g.P * g.KH * g.KW;
  parallel_for(blocks * work.chunks, ceil_div(kMinDepthwiseMacs, std::max<int64_t>(macs, 1)),
               [&](int64_t u0, int64_t u1) {
                 T* scratch = tl_depthwise.get<T>(work.scratch);
                 int64_t prev = 0;
                 for (int64_t u = u0; u < u1; ++u) {
                   const int64_t c0 = (u % blocks) * work.channels, n0 = (u / blocks) * work.images;
                   const int64_t n1 = std::min(g.N, n0 + work.images);
                   unit(c0, std::min(g.C, c0 + work.channels), n0, n1, prev, scratch);
                   prev = n1 - n0;
                 }
               });
}

template <typename T>
void depthwise_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y) {
  const DepthwiseKernels<T>& k = depthwise_kernels<T>();
  depthwise_units<T>(g, k.work(g), [&](int64_t c0, int64_t c1, int64_t n0, int64_t n1, int64_t prev, T* scratch) {
    k.forward(g, x, w, b, y, c0, c1, n0, n1, prev, scratch);
  });
}

template <typename T>
void depthwise_input_grad(const Conv2dGeometry& g, const T* dout, const T* w, T* dx) {
  const DepthwiseKernels<T>& k = depthwise_kernels<T>();
  depthwise_units<T>(g, k.work(g), [&](int64_t c0, int64_t c1, int64_t n0, int64_t n1, int64_t, T* scratch) {
    k.input_grad(g, dout, w, dx, c0, c1, n0, n1, scratch);
  });
}

// Threads take whole blocks of channels, each summing all images in order.
template <typename T>
void depthwise_weight_grad(const Conv2dGeometry& g, const T* dout, const T* x, T* dw) {
  const DepthwiseKernels<T>& k = depthwise_kernels<T>();
  const DepthwiseWork work = k.work(g);
  const int64_t blocks = ceil_div(g.C, work.channels);
  const int64_t macs = work.channels * g.N * g.OCg * g.P * g.KH * g.KW;
  parallel_for(blocks, ceil_div(kMinDepthwiseMacs, std::max<int64_t>(macs, 1)), [&](int64_t b0, int64_t b1) {
    T* scratch = tl_depthwise.get<T>(work.scratch);
    const int64_t last_run = g.N - (work.chunks - 1) * work.images;  // what a block leaves in the scratch
    for (int64_t b = b0; b < b1; ++b)
      k.weight_grad(g, work, dout, x, dw, b * work.channels, std::min(g.C, (b + 1) * work.channels),
                    b > b0 ? last_run : 0, scratch);
  });
}

// The same convolution over an input already padded with zeros: padding 0, the padded sizes.
inline Conv2dGeometry padded_geometry(const Conv2dGeometry& g) {
  Conv2dGeometry gp = g;
  gp.H = g.H + 2 * g.pad_h, gp.W = g.W + 2 * g.pad_w;
  gp.pad_h = gp.pad_w = 0;
  return gp;
}

// xp (N, C, gp.H, gp.W) = x (N, C, H, W) with g's zero padding around each plane.
template <typename T>
void pad_images(const T* x, const Conv2dGeometry& g, const Conv2dGeometry& gp, T* xp) {
  parallel_for(g.N * g.C, std::max<int64_t>(1, 16384 / (gp.H * gp.W)), [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      const T* src = x + q * g.H * g.W;
      T* dst = xp + q * gp.H * gp.W;
      std::memset(dst, 0, sizeof(T) * g.pad_h * gp.W);
      for (int64_t h = 0; h < g.H; ++h) {
        T* row = dst + (h + g.pad_h) * gp.W;
        std::memset(row, 0, sizeof(T) * g.pad_w);
        std::memcpy(row + g.pad_w, src + h * g.W, sizeof(T) * g.W);
        std::memset(row + g.pad_w + g.W, 0, sizeof(T) * (gp.W - g.pad_w - g.W));
      }
      std::memset(dst + (g.pad_h + g.H) * gp.W, 0, sizeof(T) * (gp.H - g.pad_h - g.H) * gp.W);
    }
  });
}

// ---- narrow outputs: a block of images as one GEMM ------------------------------------------------------
// When an image's output is narrower than a register tile (ResNet's last stage: P = 4x4 = 16 columns, the
// AVX-512 tile is 32 wide) per-image GEMMs compute half-empty tiles. Then a block of images becomes one
// GEMM per group over all their columns: col (K, nb*P) is built for the block, cpu::gemm (with its own
// threads) multiplies, and the result is scattered back per image. The block's col is capped at
// kBatchedColBytes.
constexpr int64_t kBatchedColBytes = int64_t(32) << 20;

template <typename T>
bool narrow_outputs(const Conv2dGeometry& g) {
  return g.N > 1 && g.P < gemm_kernels<T>().nr;
}

template <typename T>
int64_t images_per_block(const Conv2dGeometry& g) {
  return std::max<int64_t>(1, std::min<int64_t>(g.N, kBatchedColBytes / int64_t(sizeof(T) * g.K * g.P)));
}

// col (K, nb*P): image n0 + i's columns at i*P, for group grp.
template <typename T>
void im2col_images(const T* x, const Conv2dGeometry& g, int64_t n0, int64_t nb, int64_t grp, T* col) {
  const int64_t cols = nb * g.P;
  parallel_for(nb, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T* xg = x + ((n0 + i) * g.C + grp * g.Cg) * g.H * g.W;
      for (int64_t k0 = 0; k0 < g.K; k0 += kMaxRows)
        im2col_block(xg, g, k0, std::min(kMaxRows, g.K - k0), 0, g.P, col + k0 * cols + i * g.P, g.P, 0, cols);
    }
  });
}

// A block's (rows, nb*P) matrix m and the per-image (rows, P) blocks at t + (n0 + i) * image_stride:
// for_each_image_row(f) calls f(image row, matrix row, r) for every row of every image, in parallel.
template <typename T, typename U, typename F>
void for_each_image_row(T* m, U* t, int64_t rows, int64_t P, int64_t n0, int64_t nb, int64_t image_stride, const F& f) {
  const int64_t cols = nb * P;
  parallel_for(nb * rows, std::max<int64_t>(1, 4096 / P), [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t i = q / rows, r = q % rows;
      f(t + (n0 + i) * image_stride + r * P, m + r * cols + i * P, r);
    }
  });
}

// Runs body(n0, nb, col, mat) over the blocks of images n0 .. n0 + nb - 1, with buffers col (K, nb*P) and
// mat (OCg, nb*P).
template <typename T, typename F>
void for_each_image_block(const Conv2dGeometry& g, const F& body) {
  const int64_t per_block = images_per_block<T>(g);
  for (int64_t n0 = 0; n0 < g.N; n0 += per_block) {
    const int64_t nb = std::min(per_block, g.N - n0);
    Storage col(sizeof(T) * static_cast<size_t>(g.K * nb * g.P), Device{});
    Storage mat(sizeof(T) * static_cast<size_t>(g.OCg * nb * g.P), Device{});
    body(n0, nb, static_cast<T*>(col.data()), static_cast<T*>(mat.data()));
  }
}

template <typename T>
void forward_batched(const T* x, const T* w, const T* b, T* y, const Conv2dGeometry& g) {
  for_each_image_block<T>(g, [&](int64_t n0, int64_t nb, T* colp, T* outp) {
    const int64_t cols = nb * g.P;
    for (int64_t grp = 0; grp < g.G; ++grp) {
      im2col_images(x, g, n0, nb, grp, colp);
      gemm<T>(false, false, g.OCg, cols, g.K, T(1), w + grp * g.OCg * g.K, g.K, colp, cols, T(0), outp, cols);
      const T* bg = b ? b + grp * g.OCg : nullptr;
      for_each_image_row(outp, y + grp * g.OCg * g.P, g.OCg, g.P, n0, nb, g.OC * g.P,
                         [&](T* img, const T* row, int64_t r) {
                           const T bias = bg ? bg[r] : T(0);
                           for (int64_t p = 0; p < g.P; ++p) img[p] = row[p] + bias;
                         });
    }
  });
}

template <typename T>
void input_grad_batched(const T* dout, const T* w, T* dx, const Conv2dGeometry& g) {
  for_each_image_block<T>(g, [&](int64_t n0, int64_t nb, T* colp, T* gradp) {
    const int64_t cols = nb * g.P;
    for (int64_t grp = 0; grp < g.G; ++grp) {
      for_each_image_row(gradp, dout + grp * g.OCg * g.P, g.OCg, g.P, n0, nb, g.OC * g.P,
                         [&](const T* img, T* row, int64_t) { std::memcpy(row, img, sizeof(T) * g.P); });
      // col = w[grp]^T (K, OCg) @ dout block (OCg, cols)
      gemm<T>(true, false, g.K, cols, g.OCg, T(1), w + grp * g.OCg * g.K, g.K, gradp, cols, T(0), colp, cols);
      parallel_for(nb, 1, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          T* dxg = dx + ((n0 + i) * g.C + grp * g.Cg) * g.H * g.W;
          col2im(colp + i * g.P, dxg, g, 0, g.Cg, cols);
        }
      });
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
      pack_col(xg, g, k0, kc, j0, nj, dst, gemm.kernels().nr);
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
  const int64_t MR = gemm_kernels<T>().mr, NR = gemm_kernels<T>().nr;
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
  if (narrow_outputs<T>(g)) return forward_batched(px, pw, pb, py, g);
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
        if (!g.pointwise) col2im(col, dxg, g, 0, g.Cg, g.P);
      }
  });
}

// Few images: threads split the GEMM (along P, or along K when P is narrow), then the channels of col2im;
// the col buffer is shared, so it is the calling thread's.
template <typename T>
void input_grad_within_image(const PackedAGemm<T>& gemm, const Conv2dGeometry& g, const T* dout, T* dx, int threads) {
  const int64_t MR = gemm.kernels().mr, NR = gemm.kernels().nr;
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
      split(par, g.Cg, 1, [&](int64_t c0, int64_t c1) { col2im(col, dxg, g, c0, c1, g.P); });
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
  if (narrow_outputs<T>(g)) return input_grad_batched(dout, w, dx, g);
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
// once per image. dout is packed as A, col^T as B (im2col_transposed_panel writes the panels directly).
// Each chunk sums into its own accumulator and the accumulators are added
// in chunk order, so the summation order, hence every bit of dw, is the same for any number of threads;
// chunks run in parallel when there are enough images, else one after another, their output tile split
// between threads (never the sum).

namespace {

constexpr int64_t kWeightGradChunks = 8;
constexpr int64_t kMaxPartialBytes = int64_t(4) << 20;

// The GEMM of one chunk of images: acc[grp] (OCg, K) = sum over its images of dout[n, grp] @ col_n^T.
template <typename T>
class WeightGradGemm {
 public:
  WeightGradGemm(const Conv2dGeometry& g, const T* dout, const T* x)
      : g_(g),
        kern_(gemm_kernels<T>()),
        mc_(even_block(g.OCg, kern_.mc, kern_.mr)),
        nc_(even_block(g.K, kern_.nc, kern_.nr)),
        dout_(dout),
        x_(x) {}

  const GemmKernels<T>& kernels() const { return kern_; }

  // acc[grp][r0 : r1, c0 : c1] = the sum over images n0 .. n1-1; r0 is a multiple of MR, c0 of NR.
  void tile(int64_t n0, int64_t n1, int64_t grp, T* acc, int64_t r0, int64_t r1, int64_t c0, int64_t c1) const {
    const int64_t MR = kern_.mr, NR = kern_.nr;
    const int64_t inner = (n1 - n0) * g_.P;
    const int64_t kc = even_block(inner, kern_.kc, 1);
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
    const int64_t NR = kern_.nr;
    for_each_image_piece(n0, s0, kcur, [&](int64_t n, int64_t p, int64_t s, int64_t len) {
      const T* xg = x_ + (n * g_.C + grp * g_.Cg) * g_.H * g_.W;
      for (int64_t j = 0; j < ncur; j += NR) {
        const int64_t cols = std::min<int64_t>(NR, ncur - j);
        T* panel = bpack + (j / NR) * kcur * NR + (s - s0) * NR;
        if (g_.pointwise) {
          kern_.pack_b(true, len, cols, xg + (jc + j) * g_.P + p, g_.P, panel);
        } else {
          im2col_transposed_panel(kern_, xg, g_, jc + j, cols, p, len, panel, NR);
        }
      }
    });
  }

  // A: dout rows ic .. ic + m over inner rows s0 .. s0 + kcur, one MR-row panel at a time.
  void pack_dout(int64_t n0, int64_t grp, int64_t s0, int64_t kcur, int64_t ic, int64_t m, T* apack) const {
    const int64_t MR = kern_.mr;
    for_each_image_piece(n0, s0, kcur, [&](int64_t n, int64_t p, int64_t s, int64_t len) {
      const T* dg = dout_ + (n * g_.OC + grp * g_.OCg) * g_.P;
      for (int64_t i = 0; i < m; i += MR)
        kern_.pack_a(false, std::min<int64_t>(MR, m - i), len, dg + (ic + i) * g_.P + p, g_.P,
                     apack + (i / MR) * kcur * MR + (s - s0) * MR);
    });
  }

  const Conv2dGeometry& g_;
  const GemmKernels<T>& kern_;
  const int64_t mc_, nc_;
  const T* dout_;
  const T* x_;
};

// Chunk c of `chunks` (images N*c/chunks .. N*(c+1)/chunks - 1) into acc, every group; with par, threads
// split each group's output tile (along K, or along OCg when it is the larger).
template <typename T>
void weight_grad_chunk(const WeightGradGemm<T>& gemm, const Conv2dGeometry& g, int64_t c, int64_t chunks, T* acc,
                       bool par, int threads) {
  const int64_t MR = gemm.kernels().mr, NR = gemm.kernels().nr;
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

// The weight gradient as the GEMM above, over an input padded once when the conv pads.
template <typename T>
void weight_grad_gemm(const T* dout, const T* x, T* dw, const Conv2dGeometry& g) {
  if ((g.pad_h > 0 || g.pad_w > 0) && g.N > 0 && g.P > 0) {
    // Every window inside the image makes the col^T panels pure transposes (im2col_transposed_panel): the
    // padded input costs one copy, where the bounds-checked edge positions cost ~15% of the gradient.
    const Conv2dGeometry gp = padded_geometry(g);
    Storage xpad(sizeof(T) * static_cast<size_t>(g.N * g.C * gp.H * gp.W), Device{});
    pad_images(x, g, gp, static_cast<T*>(xpad.data()));
    return weight_grad_gemm(dout, static_cast<const T*>(xpad.data()), dw, gp);
  }
  const int64_t wsize = g.OC * g.K;
  if (g.N == 0 || g.P == 0) {
    std::memset(dw, 0, wsize * sizeof(T));
    return;
  }
  if (wsize == 0) return;
  // No more chunks than full kc-deep slices, though: with tiny images (512 x 4 x 4) eight chunks would each
  // write a whole dw for a 64-deep sum; and no more partial sums than kMaxPartialBytes: a 512 x 4608 dw
  // would write and add 66 MB of them, while its own tile already splits well between threads. A
  // function of the shape only, so still deterministic.
  const int64_t full_slices = std::max<int64_t>(1, g.N * g.P / gemm_kernels<T>().kc);
  const int64_t by_memory = 1 + kMaxPartialBytes / (wsize * int64_t(sizeof(T)));
  const int64_t chunks = std::min({g.N, kWeightGradChunks, full_slices, by_memory});
  Storage partial_sums(sizeof(T) * static_cast<size_t>((chunks - 1) * wsize), Device{});
  T* partial = static_cast<T*>(partial_sums.data());
  auto acc_of = [&](int64_t c) { return c == 0 ? dw : partial + (c - 1) * wsize; };
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
      const T* p = partial + (c - 1) * wsize;
      for (int64_t i = i0; i < i1; ++i) dw[i] += p[i];
    }
  });
}

}  // namespace

template <typename T>
void conv2d_weight_grad(const T* dout, const T* x, T* dw, const Conv2dGeometry& g) {
  if (g.Cg == 1 && g.G > 1) return depthwise_weight_grad(g, dout, x, dw);  // direct kernel (see above)
  if constexpr (std::is_same_v<T, float>)
    if (conv2d_algorithm_for(g, DType::Float32, Conv2dPass::WeightGrad) == Conv2dAlgo::Winograd)
      return winograd_conv2d_weight_grad(dout, x, dw, g);
  weight_grad_gemm(dout, x, dw, g);
}

#define PYCNN_INSTANTIATE_CONV2D(T)                                                               \
  template void conv2d_forward<T>(const T*, const T*, const T*, T*, const Conv2dGeometry&);       \
  template void conv2d_forward_naive<T>(const T*, const T*, const T*, T*, const Conv2dGeometry&); \
  template void conv2d_input_grad<T>(const T*, const T*, T*, const Conv2dGeometry&);              \
  template void conv2d_weight_grad<T>(const T*, const T*, T*, const Conv2dGeometry&);
PYCNN_INSTANTIATE_CONV2D(float)
PYCNN_INSTANTIATE_CONV2D(double)

// ---- im2col / col2im for other ops (fold, unfold, conv3d's vol2col) ----------------------------------
// The forward's im2col_block and the input gradient's col2im over whole rows; g's image is (Cg, H, W).

template <typename T>
void im2col_channels(const T* x, T* col, const Conv2dGeometry& g, int64_t c0, int64_t c1, int64_t ld) {
  const int64_t k1 = c1 * g.KH * g.KW;
  for (int64_t k0 = c0 * g.KH * g.KW; k0 < k1; k0 += kMaxRows)
    im2col_block(x, g, k0, std::min(kMaxRows, k1 - k0), 0, g.P, col + k0 * ld, g.P, 0, ld);
}

template <typename T>
void col2im_channels(const T* col, T* x, const Conv2dGeometry& g, int64_t c0, int64_t c1, int64_t ld) {
  col2im(col, x, g, c0, c1, ld);
}

#define PYCNN_INSTANTIATE_IM2COL(T)                                                                 \
  template void im2col_channels<T>(const T*, T*, const Conv2dGeometry&, int64_t, int64_t, int64_t); \
  template void col2im_channels<T>(const T*, T*, const Conv2dGeometry&, int64_t, int64_t, int64_t);
PYCNN_FOR_EACH_FLOAT_TYPE(PYCNN_INSTANTIATE_IM2COL)

}  // namespace pycnn::cpu
