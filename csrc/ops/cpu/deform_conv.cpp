// Deformable convolution (v1 offsets, v2 offsets + mask) on the CPU: a deformable im2col (bilinear
// samples at the offset kernel taps, times the mask) followed by conv2d's per-group GEMMs. Backward
// reuses the same pieces: dcol = W^T @ dout, then a bilinear col2im (input gradient), the bilinear
// weight derivatives (offset gradient) and the sampled values (mask gradient); dW = dout @ col^T.
//
// Sampling follows torchvision: a sample at (y, x) with y <= -1, y >= H, x <= -1 or x >= W is 0; else
// the four corners are blended, each corner outside the image counting as 0.
#include <cmath>  // defines: std::floor
#include <vector>

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/deform_math.h"  // defines: deform_bilinear, DeformSample

namespace pycnn::cpu {

namespace {

// Adds g times the bilinear weights of (y, x) into the four corners of dim (H, W).
template <typename T>
inline void bilinear_scatter(T* dim, int64_t H, int64_t W, T y, T x, T g) {
  if (y <= T(-1) || y >= T(H) || x <= T(-1) || x >= T(W)) return;
  const int64_t y0 = static_cast<int64_t>(std::floor(y)), x0 = static_cast<int64_t>(std::floor(x));
  const int64_t y1 = y0 + 1, x1 = x0 + 1;
  const T ly = y - T(y0), lx = x - T(x0), hy = T(1) - ly, hx = T(1) - lx;
  if (y0 >= 0 && x0 >= 0) dim[y0 * W + x0] += g * hy * hx;
  if (y0 >= 0 && x1 < W) dim[y0 * W + x1] += g * hy * lx;
  if (y1 < H && x0 >= 0) dim[y1 * W + x0] += g * ly * hx;
  if (y1 < H && x1 < W) dim[y1 * W + x1] += g * ly * lx;
}

// Where tap k of output position l samples: (y, x) for channel plane of offset group og.
template <typename T>
struct TapPosition {
  const T* offset;  // this image's offsets (2 * offset_groups * KK, L)
  int64_t KW, OW, L, KK, sh, sw, ph, pw, dh, dw;
  inline void at(int64_t og, int64_t k, int64_t l, T& y, T& x) const {
    const int64_t i = k / KW, j = k % KW, oh = l / OW, ow = l % OW;
    const T* o = offset + (og * 2 * KK + 2 * k) * L + l;
    y = T(oh * sh - ph + i * dh) + o[0];
    x = T(ow * sw - pw + j * dw) + o[L];
  }
};

template <typename T>
TapPosition<T> tap_position(const T* offset, const DeformGeometry& g) {
  TapPosition<T> p;
  p.offset = offset;
  p.KW = g.KW, p.OW = g.OW, p.L = g.OH * g.OW, p.KK = g.KH * g.KW;
  p.sh = g.stride_h, p.sw = g.stride_w, p.ph = g.pad_h, p.pw = g.pad_w, p.dh = g.dilation_h, p.dw = g.dilation_w;
  return p;
}

// The walk of im2col and col2im: calls f(c, i, j, y, x) for every channel c, tap k and output position l,
// where i = (c * KK + k) * L + l is the entry of the (C * KK, L) columns, j = (og * KK + k) * L + l that of
// the mask (og: c's offset group), and (y, x) where the tap samples plane c. Threads split the channels:
// channel c reads or writes only plane c and its own rows of the columns.
template <typename T, typename F>
void for_each_sample(const T* offset, const DeformGeometry& g, F f) {
  const int64_t KK = g.KH * g.KW, L = g.OH * g.OW;
  const int64_t cpg = g.C / g.offset_groups;
  const TapPosition<T> pos = tap_position(offset, g);
  // f by reference: a copy in the closure made col2im's scatter loop ~7% slower (GCC 12)
  parallel_for(g.C, 1, [=, &f](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t og = c / cpg;
      for (int64_t k = 0; k < KK; ++k) {
        const int64_t i = (c * KK + k) * L, j = (og * KK + k) * L;
        for (int64_t l = 0; l < L; ++l) {
          T y, x;
          pos.at(og, k, l, y, x);
          f(c, i + l, j + l, y, x);
        }
      }
    }
  });
}

}  // namespace

template <typename T>
void deform_im2col(const T* x, const T* offset, const T* mask, T* col, const DeformGeometry& g) {
  const int64_t H = g.H, W = g.W;
  for_each_sample(offset, g, [=](int64_t c, int64_t i, int64_t j, T y, T xx) {
    const T v = deform_bilinear(x + c * H * W, H, W, y, xx).value;
    col[i] = mask ? v * mask[j] : v;
  });
}

template <typename T>
void deform_col2im(const T* dcol, const T* offset, const T* mask, T* dx, const DeformGeometry& g) {
  const int64_t H = g.H, W = g.W;
  for_each_sample(offset, g, [=](int64_t c, int64_t i, int64_t j, T y, T xx) {
    bilinear_scatter(dx + c * H * W, H, W, y, xx, mask ? dcol[i] * mask[j] : dcol[i]);
  });
}

template <typename T>
void deform_col2coord(const T* dcol, const T* x, const T* offset, const T* mask, T* doffset, T* dmask,
                      const DeformGeometry& g) {
  const int64_t H = g.H, W = g.W, KK = g.KH * g.KW, L = g.OH * g.OW;
  const int64_t cpg = g.C / g.offset_groups;
  const TapPosition<T> pos = tap_position(offset, g);
  // each (offset group, tap) owns its two offset channels and its mask channel
  parallel_for(g.offset_groups * KK, 1, [=](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t og = t / KK, k = t % KK;
      const T* m = mask ? mask + t * L : nullptr;
      for (int64_t l = 0; l < L; ++l) {
        T y, xx;
        pos.at(og, k, l, y, xx);
        T gy = 0, gx = 0, gm = 0;
        for (int64_t c = og * cpg; c < (og + 1) * cpg; ++c) {
          const DeformSample<T> s = deform_bilinear(x + c * H * W, H, W, y, xx);
          const T d = dcol[(c * KK + k) * L + l];
          gy += d * s.dy;
          gx += d * s.dx;
          gm += d * s.value;
        }
        const T scale = m ? m[l] : T(1);
        if (doffset) {
          doffset[(og * 2 * KK + 2 * k) * L + l] = gy * scale;
          doffset[(og * 2 * KK + 2 * k + 1) * L + l] = gx * scale;
        }
        if (dmask) dmask[t * L + l] = gm;
      }
    }
  });
}

template <typename T>
void deform_conv2d_forward(const T* x, const T* offset, const T* mask, const T* w, const T* b, T* y, int64_t N,
                           int64_t OC, int64_t groups, const DeformGeometry& g) {
  const int64_t KK = g.KH * g.KW, L = g.OH * g.OW, Cg = g.C / groups, OCg = OC / groups, K = Cg * KK;
  const int64_t x_stride = g.C * g.H * g.W, off_stride = 2 * g.offset_groups * KK * L;
  const int64_t mask_stride = g.offset_groups * KK * L;
  std::vector<T> col(static_cast<size_t>(g.C * KK * L));
  for (int64_t n = 0; n < N; ++n) {
    deform_im2col(x + n * x_stride, offset + n * off_stride, mask ? mask + n * mask_stride : nullptr, col.data(), g);
    T* yn = y + n * OC * L;
    for (int64_t gi = 0; gi < groups; ++gi)
      gemm<T>(false, false, OCg, L, K, T(1), w + gi * OCg * K, K, col.data() + gi * K * L, L, T(0), yn + gi * OCg * L,
              L);
    if (b)
      for (int64_t oc = 0; oc < OC; ++oc)
        for (int64_t l = 0; l < L; ++l) yn[oc * L + l] += b[oc];
  }
}

template <typename T>
void deform_conv2d_backward(const T* dout, const T* x, const T* offset, const T* mask, const T* w, T* dx, T* doffset,
                            T* dmask, T* dw, T* db, int64_t N, int64_t OC, int64_t groups, const DeformGeometry& g) {
  const int64_t KK = g.KH * g.KW, L = g.OH * g.OW, Cg = g.C / groups, OCg = OC / groups, K = Cg * KK;
  const int64_t x_stride = g.C * g.H * g.W, off_stride = 2 * g.offset_groups * KK * L;
  const int64_t mask_stride = g.offset_groups * KK * L;
  std::vector<T> col(static_cast<size_t>(g.C * KK * L));
  for (int64_t n = 0; n < N; ++n) {
    const T* xn = x + n * x_stride;
    const T* on = offset + n * off_stride;
    const T* mn = mask ? mask + n * mask_stride : nullptr;
    const T* dn = dout + n * OC * L;
    if (dx || doffset || dmask) {
      for (int64_t gi = 0; gi < groups; ++gi)  // dcol = W^T @ dout, per group
        gemm<T>(true, false, K, L, OCg, T(1), w + gi * OCg * K, K, dn + gi * OCg * L, L, T(0), col.data() + gi * K * L,
                L);
      if (dx) deform_col2im(col.data(), on, mn, dx + n * x_stride, g);
      if (doffset || dmask)
        deform_col2coord(col.data(), xn, on, mn, doffset ? doffset + n * off_stride : nullptr,
                         dmask ? dmask + n * mask_stride : nullptr, g);
    }
    if (dw) {  // dW += dout @ col^T, images in order
      deform_im2col(xn, on, mn, col.data(), g);
      for (int64_t gi = 0; gi < groups; ++gi)
        gemm<T>(false, true, OCg, K, L, T(1), dn + gi * OCg * L, L, col.data() + gi * K * L, L, T(1), dw + gi * OCg * K,
                K);
    }
  }
  if (db) {
    for (int64_t oc = 0; oc < OC; ++oc) {
      double s = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t l = 0; l < L; ++l) s += static_cast<double>(dout[(n * OC + oc) * L + l]);
      db[oc] = static_cast<T>(s);
    }
  }
}

#define PYCNN_DEFORM_INSTANTIATE(T)                                                                              \
  template void deform_im2col<T>(const T*, const T*, const T*, T*, const DeformGeometry&);                       \
  template void deform_col2im<T>(const T*, const T*, const T*, T*, const DeformGeometry&);                       \
  template void deform_col2coord<T>(const T*, const T*, const T*, const T*, T*, T*, const DeformGeometry&);      \
  template void deform_conv2d_forward<T>(const T*, const T*, const T*, const T*, const T*, T*, int64_t, int64_t, \
                                         int64_t, const DeformGeometry&);                                        \
  template void deform_conv2d_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, T*, T*,  \
                                          int64_t, int64_t, int64_t, const DeformGeometry&);
PYCNN_DEFORM_INSTANTIATE(float)
PYCNN_DEFORM_INSTANTIATE(double)
#undef PYCNN_DEFORM_INSTANTIATE

}  // namespace pycnn::cpu
