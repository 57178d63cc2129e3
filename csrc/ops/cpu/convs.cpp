// CPU kernels of the convolution family's own pieces (the convolutions themselves are conv2d.cpp's).
// Padding: the non-constant modes (reflect, replicate, circular) over the last two dims.
// x is (planes, H, W) contiguous, y is (planes, OH, OW); mh (OH) and mw (OW) give, for each output row
// and column, the input row and column it copies (built once per call by pad_index_map, so no per-element
// branches here). The backward scatters dout back through the same maps, accumulating: a plane per
// thread in a fixed order, so the result does not depend on the thread count.
#include <algorithm>  // defines: std::min, std::max
#include <cstring>    // defines: std::memset

#include "pycnn/core/parallel.h"  // defines: parallel_for
#include "pycnn/ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

template <typename I>
void pad_index_map(I* map, int64_t n, int64_t lo, int64_t out, PadMode mode) {
  for (int64_t o = 0; o < out; ++o) {
    int64_t i = o - lo;
    if (mode == PadMode::Reflect) {
      if (i < 0) i = -i;
      if (i >= n) i = 2 * (n - 1) - i;
    } else if (mode == PadMode::Replicate) {
      i = std::min(std::max(i, int64_t{0}), n - 1);
    } else {  // circular: pads never exceed n, so one wrap is enough
      i = ((i % n) + n) % n;
    }
    map[o] = i;
  }
}

template <typename T>
void pad_index_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                       const int64_t* mh, const int64_t* mw) {
  parallel_for(planes, 1, [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * H * W;
      T* yp = y + p * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        const T* row = xp + mh[oh] * W;
        T* out = yp + oh * OW;
        for (int64_t ow = 0; ow < OW; ++ow) out[ow] = row[mw[ow]];
      }
    }
  });
}

template <typename T>
void pad_index_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                        const int64_t* mh, const int64_t* mw) {
  parallel_for(planes, 1, [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* dxp = dx + p * H * W;
      const T* dp = dout + p * OH * OW;
      std::memset(dxp, 0, sizeof(T) * H * W);
      for (int64_t oh = 0; oh < OH; ++oh) {
        T* row = dxp + mh[oh] * W;
        const T* g = dp + oh * OW;
        for (int64_t ow = 0; ow < OW; ++ow) row[mw[ow]] += g[ow];
      }
    }
  });
}

// y (N, C, HW) += b (C,) broadcast over N and HW.
template <typename T>
void add_channel_bias(T* y, const T* b, int64_t N, int64_t C, int64_t HW) {
  parallel_for(N * C, 1, [=](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T v = b[r % C];
      T* row = y + r * HW;
      for (int64_t i = 0; i < HW; ++i) row[i] += v;
    }
  });
}

template void pad_index_map<int64_t>(int64_t*, int64_t, int64_t, int64_t, PadMode);
template void add_channel_bias<float>(float*, const float*, int64_t, int64_t, int64_t);
template void add_channel_bias<double>(double*, const double*, int64_t, int64_t, int64_t);
template void pad_index_forward<float>(const float*, float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                       const int64_t*, const int64_t*);
template void pad_index_forward<double>(const double*, double*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                        const int64_t*, const int64_t*);
template void pad_index_backward<float>(const float*, float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                        const int64_t*, const int64_t*);
template void pad_index_backward<double>(const double*, double*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                         const int64_t*, const int64_t*);

}  // namespace pycnn::cpu
