// CPU pooling over planes: x is (planes, H, W) contiguous, planes = N*C, one thread range of planes each.
// Max pooling records the flat h*W+w index of each maximum (first one wins on ties, NaN propagates);
// its backward scatters dout to those indices. Average pooling follows PyTorch's divisor rules.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/cpu/simd/simd.h"

namespace pycnn::cpu {

namespace {
// The taps k in [k0, k1) of a pooling window starting at `start` whose position start + k*dilation lies
// inside [0, size): clipping once per window keeps bounds checks out of the inner loop.
inline void valid_taps(int64_t start, int64_t kernel, int64_t dilation, int64_t size, int64_t& k0, int64_t& k1) {
  k0 = start < 0 ? (-start + dilation - 1) / dilation : 0;
  k1 = start >= size ? 0 : std::min(kernel, (size - 1 - start) / dilation + 1);
  if (k1 < k0) k1 = k0;
}

// Output columns [lo, hi) whose whole window (all `kernel` taps) lies inside [0, W): no clipping there.
inline void interior_cols(int64_t OW, int64_t W, int64_t stride, int64_t pad, int64_t kernel, int64_t dilation,
                          int64_t& lo, int64_t& hi) {
  lo = (pad + stride - 1) / stride;                            // first ow with ow * stride - pad >= 0
  const int64_t last = W - 1 + pad - (kernel - 1) * dilation;  // the last tap must be at most W - 1
  hi = last < 0 ? 0 : std::min(OW, last / stride + 1);
}

// Output columns [lo, hi) for which tap `k` (at ow * stride - pad + k) lies inside [0, W).
inline void tap_cols(int64_t OW, int64_t W, int64_t stride, int64_t pad, int64_t k, int64_t& lo, int64_t& hi) {
  lo = pad - k > 0 ? (pad - k + stride - 1) / stride : 0;
  const int64_t last = W - 1 + pad - k;
  hi = last < 0 ? 0 : std::min(OW, last / stride + 1);
}

// One tap of a row of windows: best[i] = max(best[i], src[i * stride]), remembering tap t where it wins.
template <typename T, typename TapId>
inline void max_sweep(T* __restrict best, TapId* __restrict tap, const T* __restrict src, int64_t lo, int64_t hi,
                      int64_t stride, TapId t) {
  auto step = [&](int64_t i, T v) {
    const bool take = v > best[i] || v != v;  // a NaN always wins, as in torch
    best[i] = take ? v : best[i];
    tap[i] = take ? t : tap[i];
  };
  if (stride == 1)
    for (int64_t i = lo; i < hi; ++i) step(i, src[i]);
  else
    for (int64_t i = lo; i < hi; ++i) step(i, src[i * stride]);
}

// Keeps the larger value and its index without a branch (random data mispredicts half of them).
// A NaN always wins, as in torch.
template <typename T>
inline void keep_max(T v, int64_t i, T& best, int64_t& best_i) {
  const bool take = v > best || v != v;
  best = take ? v : best;
  best_i = take ? i : best_i;
}
}  // namespace

template <typename T>
void max_pool2d_forward(const T* x, T* y, int64_t* idx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                        const Pool2dArgs& a) {
  const bool two_by_two = a.kernel_h == 2 && a.kernel_w == 2 && a.stride_h == 2 && a.stride_w == 2 && a.pad_h == 0 &&
                          a.pad_w == 0 && a.dilation_h == 1 && a.dilation_w == 1 && 2 * OH <= H && 2 * OW <= W;
  const MaxPoolRowKernel<T> row_kernel = typed_kernels<T>().max_pool_2x2_row;
  int64_t lo, hi;
  interior_cols(OW, W, a.stride_w, a.pad_w, a.kernel_w, a.dilation_w, lo, hi);
  parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(OH * OW, 1)), [=](int64_t p0, int64_t p1) {
    using TapId = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;  // a tap number within a window
    std::vector<TapId> taps(two_by_two ? 0 : OW);
    TapId* tap = taps.data();
    for (int64_t p = p0; p < p1; ++p) {
      const T* in = x + p * H * W;
      T* out = y + p * OH * OW;
      int64_t* oi = idx + p * OH * OW;
      if (two_by_two) {  // the common case: a SIMD kernel per output row
        for (int64_t oh = 0; oh < OH; ++oh) {
          const int64_t r0 = 2 * oh * W;
          row_kernel(in + r0, in + r0 + W, r0, W, OW, out + oh * OW, oi + oh * OW);
        }
        continue;
      }
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t h0 = oh * a.stride_h - a.pad_h;
        int64_t kh0, kh1;
        valid_taps(h0, a.kernel_h, a.dilation_h, H, kh0, kh1);
        T* orow = out + oh * OW;
        int64_t* irow = oi + oh * OW;
        // border columns (their windows are clipped): one window at a time
        auto window = [&](int64_t ow) {
          const int64_t w0 = ow * a.stride_w - a.pad_w;
          int64_t kw0, kw1;
          valid_taps(w0, a.kernel_w, a.dilation_w, W, kw0, kw1);
          T best = -std::numeric_limits<T>::infinity();
          int64_t best_i = -1;
          if (kh0 < kh1 && kw0 < kw1) {  // start from the first tap, so an all -inf window has an index
            best_i = (h0 + kh0 * a.dilation_h) * W + w0 + kw0 * a.dilation_w;
            best = in[best_i];
          }
          for (int64_t kh = kh0; kh < kh1; ++kh) {
            const int64_t row = (h0 + kh * a.dilation_h) * W + w0;
            for (int64_t kw = kw0; kw < kw1; ++kw) {
              const int64_t i = row + kw * a.dilation_w;
              keep_max(in[i], i, best, best_i);
            }
          }
          orow[ow] = best;
          irow[ow] = best_i;
        };
        for (int64_t ow = 0; ow < std::min(lo, OW); ++ow) window(ow);
        for (int64_t ow = std::max(hi, lo); ow < OW; ++ow) window(ow);
        if (lo >= hi) continue;
        // interior columns: every tap is in range, so sweep the whole row once per tap. The outputs are
        // independent along the row (no dependency chain through `best`), and visiting the taps in the
        // same row-major order as the window loop keeps torch's tie and NaN rules. The sweep records the
        // winning tap number in an integer as wide as T, so that the select vectorises; flat indices after.
        const int64_t sw = a.stride_w, KW = a.kernel_w;
        const T* first = in + (h0 + kh0 * a.dilation_h) * W - a.pad_w;
        for (int64_t ow = lo; ow < hi; ++ow) {
          orow[ow] = first[ow * sw];
          tap[ow] = 0;
        }
        for (int64_t kh = kh0; kh < kh1; ++kh)
          for (int64_t kw = (kh == kh0 ? 1 : 0); kw < KW; ++kw) {
            const T* src = in + (h0 + kh * a.dilation_h) * W + kw * a.dilation_w - a.pad_w;
            max_sweep(orow, tap, src, lo, hi, sw, static_cast<TapId>((kh - kh0) * KW + kw));
          }
        for (int64_t ow = lo; ow < hi; ++ow) {
          const int64_t kh = kh0 + tap[ow] / KW, kw = tap[ow] % KW;
          irow[ow] = (h0 + kh * a.dilation_h) * W + ow * sw - a.pad_w + kw * a.dilation_w;
        }
      }
    }
  });
}

template <typename T>
void max_pool2d_backward(const T* dout, const int64_t* idx, T* dx, int64_t planes, int64_t HW, int64_t OHW) {
  parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(HW, 1)), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* d = dx + p * HW;
      std::memset(d, 0, HW * sizeof(T));
      const T* g = dout + p * OHW;
      const int64_t* ix = idx + p * OHW;
      for (int64_t i = 0; i < OHW; ++i)
        if (ix[i] >= 0) d[ix[i]] += g[i];
    }
  });
}

namespace {
// The window's extent along one axis as the divisor counts it: with count_include_pad the padded extent
// (but not the ceil-mode overhang past the padding), else the part inside the image. The divisor of a
// window is the product of its row and column factors (or divisor_override), as PyTorch computes it.
double avg_axis_factor(int64_t o, int64_t stride, int64_t pad, int64_t kernel, int64_t size, bool include_pad) {
  const int64_t s0 = o * stride - pad, s1 = std::min(s0 + kernel, size + pad);
  return include_pad ? double(s1 - s0) : double(std::min(s1, size) - std::max<int64_t>(s0, 0));
}

// Column factors of every output column, so the per-output divisor is a single product.
std::vector<double> avg_col_factors(int64_t OW, int64_t W, const Pool2dArgs& a) {
  std::vector<double> f(OW);
  for (int64_t ow = 0; ow < OW; ++ow)
    f[ow] = a.divisor_override > 0 ? 1.0 : avg_axis_factor(ow, a.stride_w, a.pad_w, a.kernel_w, W, a.count_include_pad);
  return f;
}

// dst[ow * stride] += src[ow] or dst[ow] += src[ow * stride] over [lo, hi): the pooling sweeps. restrict and
// the unit-stride special case let the compiler vectorise them.
template <typename T>
inline void add_scattered(T* __restrict dst, const T* __restrict src, int64_t lo, int64_t hi, int64_t stride) {
  if (stride == 1)
    for (int64_t i = lo; i < hi; ++i) dst[i] += src[i];
  else
    for (int64_t i = lo; i < hi; ++i) dst[i * stride] += src[i];
}

template <typename T>
inline void add_gathered(T* __restrict dst, const T* __restrict src, int64_t lo, int64_t hi, int64_t stride) {
  if (stride == 1)
    for (int64_t i = lo; i < hi; ++i) dst[i] += src[i];
  else
    for (int64_t i = lo; i < hi; ++i) dst[i] += src[i * stride];
}

double avg_row_factor(int64_t oh, int64_t H, const Pool2dArgs& a) {
  return a.divisor_override > 0 ? double(a.divisor_override)
                                : avg_axis_factor(oh, a.stride_h, a.pad_h, a.kernel_h, H, a.count_include_pad);
}

// Calls sweep(at, lo, hi) for each tap of output row oh's windows, in a window loop's order (input rows h,
// then column taps kw): output columns [lo, hi) hold the tap, and column ow's is element at + ow * stride_w
// of the plane. Average pooling's forward gathers along these sweeps, its backward scatters.
template <typename Sweep>
inline void for_each_row_tap(int64_t oh, int64_t H, int64_t W, int64_t OW, const Pool2dArgs& a, Sweep sweep) {
  const int64_t h0 = oh * a.stride_h - a.pad_h;
  const int64_t hs = std::max<int64_t>(h0, 0), he = std::min(h0 + a.kernel_h, H);
  // only the taps some window puts inside [0, W): a kernel far wider than the padded image (legal with
  // ceil_mode) would otherwise loop over every one of its empty taps
  const int64_t kw0 = std::max<int64_t>(0, a.pad_w - (OW - 1) * a.stride_w), kw1 = std::min(a.kernel_w, W + a.pad_w);
  for (int64_t h = hs; h < he; ++h)
    for (int64_t kw = kw0; kw < kw1; ++kw) {
      int64_t lo, hi;
      tap_cols(OW, W, a.stride_w, a.pad_w, kw, lo, hi);
      sweep(h * W - a.pad_w + kw, lo, hi);
    }
}
}  // namespace

// Average pooling row by row: for each output row, each valid input row and each column tap kw, one sweep
// adds in[h, ow*stride - pad + kw] to every output column whose window holds that tap. Per output the
// additions come in the same order as a window loop (rows, then columns), so the sums are unchanged.
template <typename T>
void avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                        const Pool2dArgs& a) {
  parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(OH * OW, 1)), [=](int64_t p0, int64_t p1) {
    const int64_t sw = a.stride_w;
    const std::vector<double> colf = avg_col_factors(OW, W, a);
    const double* cf = colf.data();
    for (int64_t p = p0; p < p1; ++p) {
      const T* in = x + p * H * W;
      for (int64_t oh = 0; oh < OH; ++oh) {
        T* out = y + (p * OH + oh) * OW;
        std::fill(out, out + OW, T(0));
        for_each_row_tap(oh, H, W, OW, a,
                         [&](int64_t at, int64_t lo, int64_t hi) { add_gathered(out, in + at, lo, hi, sw); });
        const double rf = avg_row_factor(oh, H, a);
        for (int64_t ow = 0; ow < OW; ++ow) out[ow] = static_cast<T>(out[ow] / (rf * cf[ow]));
      }
    }
  });
}

// The transpose of the forward sweep: each output's share g / divisor goes to every tap of its window.
template <typename T>
void avg_pool2d_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                         const Pool2dArgs& a) {
  parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(H * W, 1)), [=](int64_t p0, int64_t p1) {
    const int64_t sw = a.stride_w;
    std::vector<T> share(OW);
    T* v = share.data();
    const std::vector<double> colf = avg_col_factors(OW, W, a);
    const double* cf = colf.data();
    for (int64_t p = p0; p < p1; ++p) {
      T* d = dx + p * H * W;
      std::memset(d, 0, H * W * sizeof(T));
      const T* g = dout + p * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        const double rf = avg_row_factor(oh, H, a);
        for (int64_t ow = 0; ow < OW; ++ow) v[ow] = static_cast<T>(g[oh * OW + ow] / (rf * cf[ow]));
        for_each_row_tap(oh, H, W, OW, a,
                         [&](int64_t at, int64_t lo, int64_t hi) { add_scattered(d + at, v, lo, hi, sw); });
      }
    }
  });
}

#define PYCNN_INSTANTIATE_POOL(T)                                                                                    \
  template void max_pool2d_forward<T>(const T*, T*, int64_t*, int64_t, int64_t, int64_t, int64_t, int64_t,           \
                                      const Pool2dArgs&);                                                            \
  template void max_pool2d_backward<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t);                     \
  template void avg_pool2d_forward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, const Pool2dArgs&); \
  template void avg_pool2d_backward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, const Pool2dArgs&);
PYCNN_INSTANTIATE_POOL(float)
PYCNN_INSTANTIATE_POOL(double)

}  // namespace pycnn::cpu
