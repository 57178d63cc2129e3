// The bilinear sample of deformable convolution, one function for both devices' kernels (PYCNN_HD): the
// value of image im (H, W) at (y, x) and its derivatives along y and x. Sampling follows torchvision: a sample
// with y <= -1, y >= H, x <= -1 or x >= W is 0; else the four corners are blended, a corner outside the image
// counting as 0.
#pragma once
#include <cstdint>

#include "pycnn/core/host_device.h"  // defines: PYCNN_HD

namespace pycnn {

template <typename T>
struct DeformSample {
  T value, dy, dx;
};

template <typename T>
PYCNN_HD DeformSample<T> deform_bilinear(const T* im, int64_t H, int64_t W, T y, T x) {
  DeformSample<T> s{T(0), T(0), T(0)};
  if (y <= T(-1) || y >= T(H) || x <= T(-1) || x >= T(W)) return s;
  // floor without <cmath> (host and device alike): y, x > -1 here, so truncation is floor except in (-1, 0).
  const int64_t y0 = y < T(0) ? -1 : static_cast<int64_t>(y), x0 = x < T(0) ? -1 : static_cast<int64_t>(x);
  const int64_t y1 = y0 + 1, x1 = x0 + 1;
  const T ly = y - T(y0), lx = x - T(x0), hy = T(1) - ly, hx = T(1) - lx;
  const bool in_y0 = y0 >= 0, in_y1 = y1 < H, in_x0 = x0 >= 0, in_x1 = x1 < W;
  const T v00 = in_y0 && in_x0 ? im[y0 * W + x0] : T(0);
  const T v01 = in_y0 && in_x1 ? im[y0 * W + x1] : T(0);
  const T v10 = in_y1 && in_x0 ? im[y1 * W + x0] : T(0);
  const T v11 = in_y1 && in_x1 ? im[y1 * W + x1] : T(0);
  s.value = hy * hx * v00 + hy * lx * v01 + ly * hx * v10 + ly * lx * v11;
  s.dy = hx * (v10 - v00) + lx * (v11 - v01);
  s.dx = hy * (v01 - v00) + ly * (v11 - v10);
  return s;
}

}  // namespace pycnn
