// Per-element bodies of the CUDA pooling and resampling kernels (ops/cuda/pool2d.cu, ops/cuda/resize.cu),
// plain host/device code so that tests/cpp/test_cuda_pool.cpp runs each one over its whole launch range on
// the CPU against the cpu:: kernel. Layout as there: x is (planes, H, W) contiguous, y is (planes, OH, OW).
// Every backward is a gather (one body call per input element, visiting the outputs that read it in the
// order the CPU kernel adds them), so that it is deterministic and bitwise equal to the CPU where it can be.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "pycnn/core/host_device.h"  // defines: PYCNN_HD
#include "pycnn/ops/ops.h"           // defines: Pool2dArgs, InterpolateArgs

// Its own namespace: the kernels are instantiated per body type (for_each_kernel<Body>), so a body named
// like another family's (Where, Maximum, ...) in plain pycnn::cuda would be one symbol and the linker
// would keep only one of the two kernels.
namespace pycnn::cuda::pool_bodies {

PYCNN_HD inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
PYCNN_HD inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }
// Division rounding toward minus infinity (window arithmetic goes negative near the padding).
PYCNN_HD inline int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// ---- pooling windows: output o's window reads o*stride - pad + k*dilation, k in [0, kernel) ----

// The taps k in [k0, k1) of window `o` that lie inside [0, size).
PYCNN_HD inline void window_taps(int64_t o, int64_t stride, int64_t pad, int64_t dilation, int64_t kernel, int64_t size,
                                 int64_t& k0, int64_t& k1) {
  const int64_t start = o * stride - pad;
  k0 = start < 0 ? (-start + dilation - 1) / dilation : 0;
  k1 = start >= size ? 0 : imin(kernel, (size - 1 - start) / dilation + 1);
  if (k1 < k0) k1 = k0;
}

// Outputs o in [lo, hi) whose window may hold input position i (the start o*stride - pad lies in
// [i - (kernel-1)*dilation, i]); with dilation > 1 the caller still checks that the tap lands on i.
PYCNN_HD inline void windows_holding(int64_t i, int64_t stride, int64_t pad, int64_t dilation, int64_t kernel,
                                     int64_t out, int64_t& lo, int64_t& hi) {
  lo = imax(0, -floor_div(-(i + pad - (kernel - 1) * dilation), stride));  // ceil
  hi = imin(out, floor_div(i + pad, stride) + 1);
  if (hi < lo) hi = lo;
}

// The maximum of a W-wide plane over rows r0 + k*dr (k < nr) and columns c0 + k*dc (k < nc), and its flat
// index: the first maximum wins, the last NaN wins (the CPU kernels' rules). It starts from the first tap, so
// that an all -inf window has an index; an empty window gives -inf and index -1.
template <typename T>
PYCNN_HD inline void window_max(const T* in, int64_t W, int64_t r0, int64_t nr, int64_t dr, int64_t c0, int64_t nc,
                                int64_t dc, T& best_out, int64_t& index_out) {
  T best = -INFINITY;
  int64_t best_i = -1;
  if (nr > 0 && nc > 0) {
    best_i = r0 * W + c0;
    best = in[best_i];
  }
  for (int64_t r = 0; r < nr; ++r)
    for (int64_t c = 0; c < nc; ++c) {
      const int64_t j = (r0 + r * dr) * W + c0 + c * dc;
      const T v = in[j];
      const bool take = v > best || v != v;
      best = take ? v : best;
      best_i = take ? j : best_i;
    }
  best_out = best;
  index_out = best_i;
}

// One max-pooling output: the first maximum wins, the last NaN wins (cpu::max_pool2d_forward's rules).
template <typename T>
struct MaxPoolForward {
  const T* x;
  T* y;
  int64_t* idx;
  int64_t H, W, OH, OW;
  Pool2dArgs a;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t ow = i % OW, oh = (i / OW) % OH, p = i / (OW * OH);
    const T* in = x + p * H * W;
    int64_t kh0, kh1, kw0, kw1;
    window_taps(oh, a.stride_h, a.pad_h, a.dilation_h, a.kernel_h, H, kh0, kh1);
    window_taps(ow, a.stride_w, a.pad_w, a.dilation_w, a.kernel_w, W, kw0, kw1);
    const int64_t h0 = oh * a.stride_h - a.pad_h, w0 = ow * a.stride_w - a.pad_w;
    window_max(in, W, h0 + kh0 * a.dilation_h, kh1 - kh0, a.dilation_h, w0 + kw0 * a.dilation_w, kw1 - kw0,
               a.dilation_w, y[i], idx[i]);
  }
};

// Max-pooling backward without the window geometry (the entry point has only the indices, so no gather
// over windows): each plane's input is cut into `chunks` runs of `chunk` elements, and one body call per
// (plane, run) walks all of the plane's outputs in order, adding the gradients whose index falls in its
// run (dx is zeroed beforehand). Every input element thus gets its gradients in output order, as on the
// CPU: deterministic and bitwise the same. More runs mean more parallelism for more index reads (the calls
// of one plane read the same index at once, a broadcast on a GPU); chunks = 1 is one call per plane.
// Indices outside [0, HW) (not checked on the host for a GPU tensor) are skipped.
template <typename T>
struct MaxPoolBackwardRuns {
  const T* dout;
  const int64_t* idx;
  T* dx;
  int64_t HW, OHW, chunks, chunk;
  PYCNN_HD void operator()(int64_t t) const {
    const int64_t p = t / chunks, lo = (t % chunks) * chunk, hi = imin(lo + chunk, HW);
    T* d = dx + p * HW;
    const T* g = dout + p * OHW;
    const int64_t* ix = idx + p * OHW;
    for (int64_t o = 0; o < OHW; ++o)
      if (ix[o] >= lo && ix[o] < hi) d[ix[o]] += g[o];
  }
};

// The runs per plane: enough (plane, run) calls to fill a GPU (about 2^17), runs of at least 16 elements.
inline void max_pool_backward_runs(int64_t planes, int64_t HW, int64_t& chunks, int64_t& chunk) {
  const int64_t want = imax(1, (int64_t(1) << 17) / imax(planes, 1));
  chunks = imax(1, imin(want, (HW + 15) / 16));
  chunk = imax(1, (HW + chunks - 1) / chunks);
  chunks = imax(1, (HW + chunk - 1) / chunk);  // no empty run at the end
}

// Average pooling's divisor factor along one axis (cpu's avg_axis_factor): the padded extent without the
// ceil-mode overhang, or the part inside the image.
PYCNN_HD inline double avg_axis_factor(int64_t o, int64_t stride, int64_t pad, int64_t kernel, int64_t size,
                                       bool include_pad) {
  const int64_t s0 = o * stride - pad, s1 = imin(s0 + kernel, size + pad);
  return include_pad ? double(s1 - s0) : double(imin(s1, size) - imax(s0, 0));
}

PYCNN_HD inline double avg_divisor(int64_t oh, int64_t ow, int64_t H, int64_t W, const Pool2dArgs& a) {
  if (a.divisor_override > 0) return double(a.divisor_override);
  return avg_axis_factor(oh, a.stride_h, a.pad_h, a.kernel_h, H, a.count_include_pad) *
         avg_axis_factor(ow, a.stride_w, a.pad_w, a.kernel_w, W, a.count_include_pad);
}

// One average-pooling output: sums in row-major window order in T, then divides in double, as the CPU.
template <typename T>
struct AvgPoolForward {
  const T* x;
  T* y;
  int64_t H, W, OH, OW;
  Pool2dArgs a;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t ow = i % OW, oh = (i / OW) % OH, p = i / (OW * OH);
    const T* in = x + p * H * W;
    int64_t kh0, kh1, kw0, kw1;
    window_taps(oh, a.stride_h, a.pad_h, 1, a.kernel_h, H, kh0, kh1);
    window_taps(ow, a.stride_w, a.pad_w, 1, a.kernel_w, W, kw0, kw1);
    const int64_t h0 = oh * a.stride_h - a.pad_h, w0 = ow * a.stride_w - a.pad_w;
    T s = 0;
    for (int64_t kh = kh0; kh < kh1; ++kh)
      for (int64_t kw = kw0; kw < kw1; ++kw) s += in[(h0 + kh) * W + w0 + kw];
    y[i] = static_cast<T>(s / avg_divisor(oh, ow, H, W, a));
  }
};

// One input element of average pooling's backward: the shares g / divisor of every window holding it, in
// the CPU's order (output rows up, and within a row the columns down, as its tap sweeps add them).
template <typename T>
struct AvgPoolBackward {
  const T* dout;
  T* dx;
  int64_t H, W, OH, OW;
  Pool2dArgs a;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t w = i % W, h = (i / W) % H, p = i / (W * H);
    int64_t oh0, oh1, ow0, ow1;
    windows_holding(h, a.stride_h, a.pad_h, 1, a.kernel_h, OH, oh0, oh1);
    windows_holding(w, a.stride_w, a.pad_w, 1, a.kernel_w, OW, ow0, ow1);
    const T* g = dout + p * OH * OW;
    T s = 0;
    for (int64_t oh = oh0; oh < oh1; ++oh)
      for (int64_t ow = ow1 - 1; ow >= ow0; --ow) s += static_cast<T>(g[oh * OW + ow] / avg_divisor(oh, ow, H, W, a));
    dx[i] = s;
  }
};

// ---- adaptive pooling: cell o covers [floor(o*in/out), ceil((o+1)*in/out)) ----
PYCNN_HD inline int64_t adaptive_start(int64_t o, int64_t out, int64_t in) { return (o * in) / out; }
PYCNN_HD inline int64_t adaptive_end(int64_t o, int64_t out, int64_t in) { return ((o + 1) * in + out - 1) / out; }
// The cells [lo, hi) holding input position i: start(o) <= i and end(o) > i.
PYCNN_HD inline void adaptive_cells_holding(int64_t i, int64_t out, int64_t in, int64_t& lo, int64_t& hi) {
  lo = (i * out) / in;
  hi = imin(out, ((i + 1) * out - 1) / in + 1);
}

// cpu's sum_contiguous: 8 partial sums combined in a fixed tree (same association, same bits).
template <typename T>
PYCNN_HD T sum8(const T* p, int64_t n) {
  T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += p[i + j];
  T s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) s += p[i];
  return s;
}

template <typename T>
struct AdaptiveAvgForward {
  const T* x;
  T* y;
  int64_t H, W, OH, OW;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t ow = i % OW, oh = (i / OW) % OH, p = i / (OW * OH);
    const T* in = x + p * H * W;
    if (OH == 1 && OW == 1) {  // the CPU's global pooling: one sum over the contiguous plane
      y[i] = static_cast<T>(sum8(in, H * W) / T(H * W));
      return;
    }
    const int64_t h0 = adaptive_start(oh, OH, H), h1 = adaptive_end(oh, OH, H);
    const int64_t w0 = adaptive_start(ow, OW, W), w1 = adaptive_end(ow, OW, W);
    T s = 0;
    for (int64_t h = h0; h < h1; ++h) s += sum8(in + h * W + w0, w1 - w0);
    y[i] = s / T((h1 - h0) * (w1 - w0));
  }
};

template <typename T>
struct AdaptiveAvgBackward {
  const T* dout;
  T* dx;
  int64_t H, W, OH, OW;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t w = i % W, h = (i / W) % H, p = i / (W * H);
    int64_t oh0, oh1, ow0, ow1;
    adaptive_cells_holding(h, OH, H, oh0, oh1);
    adaptive_cells_holding(w, OW, W, ow0, ow1);
    const T* g = dout + p * OH * OW;
    T s = 0;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      const int64_t rows = adaptive_end(oh, OH, H) - adaptive_start(oh, OH, H);
      for (int64_t ow = ow0; ow < ow1; ++ow)
        s += g[oh * OW + ow] / T(rows * (adaptive_end(ow, OW, W) - adaptive_start(ow, OW, W)));
    }
    dx[i] = s;
  }
};

template <typename T>
struct AdaptiveMaxForward {
  const T* x;
  T* y;
  int64_t* idx;
  int64_t H, W, OH, OW;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t ow = i % OW, oh = (i / OW) % OH, p = i / (OW * OH);
    const T* in = x + p * H * W;
    const int64_t h0 = adaptive_start(oh, OH, H), h1 = adaptive_end(oh, OH, H);
    const int64_t w0 = adaptive_start(ow, OW, W), w1 = adaptive_end(ow, OW, W);
    window_max(in, W, h0, h1 - h0, 1, w0, w1 - w0, 1, y[i], idx[i]);
  }
};

// ---- pixel shuffle: S[o, c, h*r+i, w*r+j] = L[o, c*r*r + i*r + j, h, w]; L (outer, C*r*r, H, W) ----
// One body call per destination element: S's when !inverse, L's when inverse.
template <typename T>
struct PixelShuffle {
  const T* src;
  T* dst;
  int64_t C, H, W, r;
  bool inverse;
  PYCNN_HD void operator()(int64_t d) const {
    int64_t s_idx, l_idx;
    if (!inverse) {
      const int64_t SW = W * r, SH = H * r;
      const int64_t ws = d % SW, hs = (d / SW) % SH, oc = d / (SW * SH);
      l_idx = ((oc * r * r + (hs % r) * r + ws % r) * H + hs / r) * W + ws / r;
      s_idx = d;
    } else {
      const int64_t w = d % W, h = (d / W) % H, ocij = d / (W * H);
      const int64_t ij = ocij % (r * r), oc = ocij / (r * r);
      s_idx = (oc * H * r + h * r + ij / r) * (W * r) + w * r + ij % r;
      l_idx = d;
    }
    dst[d] = inverse ? src[s_idx] : src[l_idx];
  }
};

// ---- interpolation: the source taps of output d along one axis (cpu's axis_taps, one index at a time) ----
template <typename T>
struct Tap {
  int64_t i0, i1;
  T l0, l1;
};

template <typename T>
PYCNN_HD Tap<T> axis_tap(int64_t d, int64_t in, int64_t out, double user_scale, const InterpolateArgs& a) {
  Tap<T> t;
  if (a.mode != InterpMode::Bilinear) {
    // torch computes nearest indices in float whatever the dtype: the same roundings give the same picks
    const float scale =
        user_scale > 0 ? static_cast<float>(1.0 / user_scale) : static_cast<float>(in) / static_cast<float>(out);
    int64_t s;
    if (a.mode == InterpMode::NearestExact)
      s = static_cast<int64_t>(floor(static_cast<double>(static_cast<float>((d + 0.5) * scale))));
    else if (out == in)
      s = d;
    else if (out == 2 * in)
      s = d >> 1;
    else
      s = static_cast<int64_t>(floor(static_cast<double>(static_cast<float>(d) * scale)));
    s = imin(s, in - 1);
    t.i0 = t.i1 = s;
    t.l0 = 1, t.l1 = 0;
    return t;
  }
  const T scale = a.align_corners
                      ? (out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0))
                      : (user_scale > 0 ? static_cast<T>(1.0 / user_scale) : static_cast<T>(in) / static_cast<T>(out));
  T real = a.align_corners ? scale * static_cast<T>(d) : scale * (static_cast<T>(d) + T(0.5)) - T(0.5);
  if (real < 0) real = 0;
  const int64_t s = imin(static_cast<int64_t>(floor(real)), in - 1);
  T l1 = real - static_cast<T>(s);
  l1 = l1 < T(0) ? T(0) : (l1 > T(1) ? T(1) : l1);
  t.i0 = s;
  t.i1 = s + (s < in - 1 ? 1 : 0);
  t.l0 = T(1) - l1;
  t.l1 = l1;
  return t;
}

template <typename T>
struct InterpForward {
  const T* x;
  T* y;
  int64_t H, W, OH, OW;
  InterpolateArgs a;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t ow = i % OW, oh = (i / OW) % OH, p = i / (OW * OH);
    const Tap<T> th = axis_tap<T>(oh, H, OH, a.scale_h, a), tw = axis_tap<T>(ow, W, OW, a.scale_w, a);
    const T* top = x + (p * H + th.i0) * W;
    if (a.mode != InterpMode::Bilinear) {
      y[i] = top[tw.i0];
      return;
    }
    const T* bot = x + (p * H + th.i1) * W;
    y[i] = th.l0 * (tw.l0 * top[tw.i0] + tw.l1 * top[tw.i1]) + th.l1 * (tw.l0 * bot[tw.i0] + tw.l1 * bot[tw.i1]);
  }
};

// The outputs [lo, hi) along one axis whose taps may reach input position i: i0 is non-decreasing in the
// output index and i1 is i0 or i0 + 1, so they are those with i0 in {i - 1, i}; two binary searches.
template <typename T>
PYCNN_HD void outputs_reaching(int64_t i, int64_t in, int64_t out, double user_scale, const InterpolateArgs& a,
                               int64_t& lo, int64_t& hi) {
  auto first_above = [&](int64_t v) {  // the first d with i0(d) > v
    int64_t l = 0, h = out;
    while (l < h) {
      const int64_t m = l + (h - l) / 2;
      if (axis_tap<T>(m, in, out, user_scale, a).i0 > v)
        h = m;
      else
        l = m + 1;
    }
    return l;
  };
  lo = first_above(i - 2);
  hi = first_above(i);
}

// One input element of the interpolation backward: the same products as the CPU's scatter, added in its
// order (output rows, output columns, then top-left, top-right, bottom-left, bottom-right).
template <typename T>
struct InterpBackward {
  const T* dout;
  T* dx;
  int64_t H, W, OH, OW;
  InterpolateArgs a;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t w = i % W, h = (i / W) % H, p = i / (W * H);
    int64_t oh0, oh1, ow0, ow1;
    outputs_reaching<T>(h, H, OH, a.scale_h, a, oh0, oh1);
    outputs_reaching<T>(w, W, OW, a.scale_w, a, ow0, ow1);
    const bool nearest = a.mode != InterpMode::Bilinear;
    T s = 0;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      const Tap<T> th = axis_tap<T>(oh, H, OH, a.scale_h, a);
      if (th.i0 != h && (nearest || th.i1 != h)) continue;
      const T* g = dout + (p * OH + oh) * OW;
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        const Tap<T> tw = axis_tap<T>(ow, W, OW, a.scale_w, a);
        if (nearest) {
          if (th.i0 == h && tw.i0 == w) s += g[ow];
          continue;
        }
        if (th.i0 == h && tw.i0 == w) s += th.l0 * tw.l0 * g[ow];
        if (th.i0 == h && tw.i1 == w) s += th.l0 * tw.l1 * g[ow];
        if (th.i1 == h && tw.i0 == w) s += th.l1 * tw.l0 * g[ow];
        if (th.i1 == h && tw.i1 == w) s += th.l1 * tw.l1 * g[ow];
      }
    }
    dx[i] = s;
  }
};

// ---- max unpooling: y[plane, idx[i]] = x[i]; idx is (planes, HW), y (planes, OHW) ----
// A repeated index keeps the last value (the CPU's serial loop). To get that without a race and without
// scratch memory, y's own elements first serve as integer slots (an int as wide as T): every input element
// claims its target with an integer max of its plane-local position (order-independent, so deterministic),
// then each output element reads its winner's value in place of the slot.
template <typename T>
using UnpoolSlot = std::conditional_t<sizeof(T) == 4, int, long long>;

template <typename S>
PYCNN_HD inline void slot_max(S* slot, S v) {
#if defined(__CUDA_ARCH__)
  atomicMax(slot, v);
#else
  *slot = *slot > v ? *slot : v;
#endif
}

template <typename T>
struct UnpoolSlotsInit {
  UnpoolSlot<T>* slots;
  PYCNN_HD void operator()(int64_t j) const { slots[j] = -1; }
};

// One call per input element: claims y[plane, idx[i]] for plane-local position i % HW. slots are y's
// storage, set to -1 beforehand. Out-of-range indices are skipped (no host check on a GPU).
template <typename T>
struct UnpoolClaim {
  const int64_t* idx;
  UnpoolSlot<T>* slots;
  int64_t HW, OHW;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t j = idx[i];
    if (j >= 0 && j < OHW) slot_max(&slots[(i / HW) * OHW + j], static_cast<UnpoolSlot<T>>(i % HW));
  }
};

// One call per output element: the slot's winner (or none: 0) becomes the value.
template <typename T>
struct UnpoolResolve {
  const T* x;
  T* y;
  int64_t HW, OHW;
  PYCNN_HD void operator()(int64_t j) const {
    const auto w = reinterpret_cast<const UnpoolSlot<T>*>(y)[j];
    y[j] = w >= 0 ? x[(j / OHW) * HW + w] : T(0);
  }
};

template <typename T>
struct UnpoolGather {
  const T* dout;
  const int64_t* idx;
  T* dx;
  int64_t HW, OHW;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t j = idx[i];
    dx[i] = j >= 0 && j < OHW ? dout[(i / HW) * OHW + j] : T(0);
  }
};

}  // namespace pycnn::cuda::pool_bodies
