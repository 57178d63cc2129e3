// CPU pooling over planes: x is (planes, H, W) contiguous, planes = N*C, one thread range of planes each.
// Max pooling records the flat h*W+w index of each maximum (first one wins on ties, NaN propagates);
// its backward scatters dout to those indices. Average pooling follows PyTorch's divisor rules.
#include <cmath>
#include <cstring>
#include <limits>

#include "core/parallel.h"
#include "ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

template <typename T>
void max_pool2d_forward(const T* x, T* y, int64_t* idx, int64_t planes, int64_t H, int64_t W, int64_t OH,
                        int64_t OW, const Pool2dArgs& a) {
  parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(OH * OW, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* in = x + p * H * W;
      T* out = y + p * OH * OW;
      int64_t* oi = idx + p * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t h0 = oh * a.stride_h - a.pad_h;
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t w0 = ow * a.stride_w - a.pad_w;
          T best = -std::numeric_limits<T>::infinity();
          int64_t best_i = -1;
          for (int64_t kh = 0; kh < a.kernel_h; ++kh) {
            const int64_t h = h0 + kh * a.dilation_h;
            if (h < 0 || h >= H) continue;
            for (int64_t kw = 0; kw < a.kernel_w; ++kw) {
              const int64_t w = w0 + kw * a.dilation_w;
              if (w < 0 || w >= W) continue;
              const T v = in[h * W + w];
              if (v > best || std::isnan(v) || best_i < 0) {
                best = v;
                best_i = h * W + w;
                if (std::isnan(v)) goto done;
              }
            }
          }
        done:
          out[oh * OW + ow] = best;
          oi[oh * OW + ow] = best_i;
        }
      }
    }
  });
}

template <typename T>
void max_pool2d_backward(const T* dout, const int64_t* idx, T* dx, int64_t planes, int64_t HW, int64_t OHW) {
  parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(HW, 1)), [&](int64_t p0, int64_t p1) {
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
  parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(OH * OW, 1)), [&](int64_t p0, int64_t p1) {
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
  parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(H * W, 1)), [&](int64_t p0, int64_t p1) {
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
