// CPU pooling over planes: x is (planes, H, W) contiguous, planes = N*C, one thread range of planes each.
// Max pooling records the flat h*W+w index of each maximum (first one wins on ties, NaN propagates);
// its backward scatters dout to those indices. Average pooling follows PyTorch's divisor rules.
#include <cmath>
#include <cstring>
#include <limits>

#include "core/cpu_features.h"
#include "core/parallel.h"
#include "ops/cpu/simd/simd.h"
#include "ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

namespace {
// The taps k in [k0, k1) of a pooling window starting at `start` whose position start + k*dilation lies
// inside [0, size): clipping once per window keeps bounds checks out of the inner loop.
inline void valid_taps(int64_t start, int64_t kernel, int64_t dilation, int64_t size, int64_t& k0, int64_t& k1) {
  k0 = start < 0 ? (-start + dilation - 1) / dilation : 0;
  k1 = start >= size ? 0 : std::min(kernel, (size - 1 - start) / dilation + 1);
  if (k1 < k0) k1 = k0;
}

template <typename T>
using RowKernel = void (*)(const T*, const T*, int64_t, int64_t, int64_t, T*, int64_t*);

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
void max_pool2d_forward(const T* x, T* y, int64_t* idx, int64_t planes, int64_t H, int64_t W, int64_t OH,
                        int64_t OW, const Pool2dArgs& a) {
  const bool two_by_two = a.kernel_h == 2 && a.kernel_w == 2 && a.stride_h == 2 && a.stride_w == 2 &&
                          a.pad_h == 0 && a.pad_w == 0 && a.dilation_h == 1 && a.dilation_w == 1 &&
                          2 * OH <= H && 2 * OW <= W;
  auto row_kernel = simd_level() == SimdLevel::AVX2 ? static_cast<RowKernel<T>>(avx2::max_pool_2x2_row)
                                                    : static_cast<RowKernel<T>>(base::max_pool_2x2_row);
  parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(OH * OW, 1)), [=](int64_t p0, int64_t p1) {
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
        for (int64_t ow = 0; ow < OW; ++ow) {
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
          out[oh * OW + ow] = best;
          oi[oh * OW + ow] = best_i;
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
// The window [h0, h1) x [w0, w1) clipped to the image, and its divisor.
struct AvgWindow {
  int64_t h0, h1, w0, w1;
  double divisor;
};

AvgWindow avg_window(int64_t oh, int64_t ow, int64_t H, int64_t W, const Pool2dArgs& a) {
  int64_t h0 = oh * a.stride_h - a.pad_h, w0 = ow * a.stride_w - a.pad_w;
  int64_t h1 = std::min(h0 + a.kernel_h, H + a.pad_h), w1 = std::min(w0 + a.kernel_w, W + a.pad_w);
  const int64_t padded_area = (h1 - h0) * (w1 - w0);  // counts padding, but not the ceil-mode overhang
  h0 = std::max<int64_t>(h0, 0), w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, H), w1 = std::min(w1, W);
  double divisor = a.divisor_override > 0   ? double(a.divisor_override)
                   : a.count_include_pad ? double(padded_area)
                                         : double((h1 - h0) * (w1 - w0));
  return {h0, h1, w0, w1, divisor};
}
}  // namespace

template <typename T>
void avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                        const Pool2dArgs& a) {
  parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(OH * OW, 1)), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* in = x + p * H * W;
      T* out = y + p * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const AvgWindow win = avg_window(oh, ow, H, W, a);
          T s = 0;
          for (int64_t h = win.h0; h < win.h1; ++h)
            for (int64_t w = win.w0; w < win.w1; ++w) s += in[h * W + w];
          out[oh * OW + ow] = static_cast<T>(s / win.divisor);
        }
    }
  });
}

template <typename T>
void avg_pool2d_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                         const Pool2dArgs& a) {
  parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(H * W, 1)), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* d = dx + p * H * W;
      std::memset(d, 0, H * W * sizeof(T));
      const T* g = dout + p * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const AvgWindow win = avg_window(oh, ow, H, W, a);
          const T v = static_cast<T>(g[oh * OW + ow] / win.divisor);
          for (int64_t h = win.h0; h < win.h1; ++h)
            for (int64_t w = win.w0; w < win.w1; ++w) d[h * W + w] += v;
        }
    }
  });
}

#define PYCNN_INSTANTIATE_POOL(T)                                                                                \
  template void max_pool2d_forward<T>(const T*, T*, int64_t*, int64_t, int64_t, int64_t, int64_t, int64_t,       \
                                      const Pool2dArgs&);                                                        \
  template void max_pool2d_backward<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t);                 \
  template void avg_pool2d_forward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, const Pool2dArgs&); \
  template void avg_pool2d_backward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, const Pool2dArgs&);
PYCNN_INSTANTIATE_POOL(float)
PYCNN_INSTANTIATE_POOL(double)

}  // namespace pycnn::cpu
