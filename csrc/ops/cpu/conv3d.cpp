// CPU 3-D convolution as vol2col + GEMM, per image and group (Caffe's scheme, one dim up):
//   forward     y[n, g] (OCg, P) = w[g] (OCg, K) @ col(x[n, g]) (K, P)      K = Cg*KD*KH*KW, P = OD*OH*OW
//   input grad  col = w[g]^T @ dout[n, g], then col2vol sums col back into dx[n, g]
//   weight grad dw[g] += dout[n, g] (OCg, P) @ col(x[n, g])^T (P, K), images in order
// col(x) row (c, kd, kh, kw), column (od, oh, ow) = x[c, od*sd - pd + kd*dd, ...]: for fixed (c, kd, od) that
// is one input plane's 2-D im2col, so vol2col and col2vol are conv2d.cpp's im2col / col2im per plane.
// Threads take whole images when there are enough, else split vol2col's channels and the GEMM.
#include <algorithm>  // defines: std::max
#include <cstring>    // defines: std::memset

#include "pycnn/core/parallel.h"  // defines: parallel_for, get_num_threads
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/cpu/gemm_blocks.h"  // defines: ScratchBuffer

namespace pycnn::cpu {

namespace {

thread_local ScratchBuffer tl_col, tl_plane;

// One input plane (H, W) -> the (KH*KW, OH*OW) block of 2-D im2col: conv2d's geometry of a 1-channel image.
Conv2dGeometry plane_geometry(const Conv3dGeometry& g) {
  Conv2dGeometry p{};
  p.N = 1, p.C = 1, p.H = g.H, p.W = g.W, p.OC = 1, p.KH = g.KH, p.KW = g.KW, p.OH = g.OH, p.OW = g.OW;
  p.G = 1, p.Cg = 1, p.OCg = 1, p.K = g.KH * g.KW, p.P = g.OH * g.OW;
  p.stride_h = g.stride_h, p.stride_w = g.stride_w, p.pad_h = g.pad_h, p.pad_w = g.pad_w;
  p.dilation_h = g.dilation_h, p.dilation_w = g.dilation_w;
  p.pointwise = false;
  return p;
}

// Channels per parallel chunk of vol2col / col2vol: about 32K column entries each.
int64_t channel_grain(const Conv3dGeometry& g) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, g.KD * g.KH * g.KW * g.P));
}

// col (K, P) rows of channels [c0, c1) from one image's group x (Cg, D, H, W); depth taps that fall in the
// padding give zero blocks.
template <typename T>
void vol2col(const T* x, T* col, const Conv3dGeometry& g, int64_t c0, int64_t c1) {
  const Conv2dGeometry pg = plane_geometry(g);
  const int64_t khw = g.KH * g.KW, ohw = g.OH * g.OW;
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t kd = 0; kd < g.KD; ++kd)
      for (int64_t od = 0; od < g.OD; ++od) {
        const int64_t id = od * g.stride_d - g.pad_d + kd * g.dilation_d;
        T* dst = col + (c * g.KD + kd) * khw * g.P + od * ohw;
        if (id >= 0 && id < g.D) {
          im2col_channels(x + (c * g.D + id) * g.H * g.W, dst, pg, 0, 1, g.P);
        } else {
          for (int64_t k = 0; k < khw; ++k) std::memset(dst + k * g.P, 0, sizeof(T) * ohw);
        }
      }
}

// The adjoint of vol2col for channels [c0, c1) of dx (Cg, D, H, W), which it writes fully. Each input
// plane id gathers the (kd, od) blocks with od*sd - pd + kd*dd = id: the first is col2im'd in place, the
// others into a scratch plane that is added (col2im overwrites, so it cannot accumulate itself).
template <typename T>
void col2vol(const T* col, T* dx, const Conv3dGeometry& g, int64_t c0, int64_t c1) {
  const Conv2dGeometry pg = plane_geometry(g);
  const int64_t khw = g.KH * g.KW, ohw = g.OH * g.OW, hw = g.H * g.W;
  T* scratch = tl_plane.get<T>(hw);
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t id = 0; id < g.D; ++id) {
      T* plane = dx + (c * g.D + id) * hw;
      bool written = false;
      for (int64_t kd = 0; kd < g.KD; ++kd) {
        const int64_t t = id + g.pad_d - kd * g.dilation_d;  // = od * stride_d for a tap that reaches id
        if (t < 0 || t % g.stride_d != 0 || t / g.stride_d >= g.OD) continue;
        const T* src = col + (c * g.KD + kd) * khw * g.P + (t / g.stride_d) * ohw;
        col2im_channels(src, written ? scratch : plane, pg, 0, 1, g.P);
        if (written)
          for (int64_t i = 0; i < hw; ++i) plane[i] += scratch[i];
        written = true;
      }
      if (!written) std::memset(plane, 0, sizeof(T) * hw);
    }
}

// Runs vol2col / col2vol over all Cg channels: split between threads unless inside a parallel region.
template <typename F>
void over_channels(const Conv3dGeometry& g, const F& body) {
  parallel_for(g.Cg, channel_grain(g), body);
}

// Offsets of image n, group grp in x (or dx), in y (or dout), and of group grp's weights.
int64_t x_offset(const Conv3dGeometry& g, int64_t n, int64_t grp) { return (n * g.C + grp * g.Cg) * g.D * g.H * g.W; }
int64_t y_offset(const Conv3dGeometry& g, int64_t n, int64_t grp) { return (n * g.OC + grp * g.OCg) * g.P; }

// Runs per_image(n, col) for every image: whole images per thread (each with its own col buffer, the GEMMs
// then serial) when there are at least as many images as threads, else one after another, the work inside
// each split between threads.
template <typename T, typename F>
void for_each_image(const Conv3dGeometry& g, const F& per_image) {
  if (g.N >= get_num_threads()) {
    parallel_for(g.N, 1, [&](int64_t n0, int64_t n1) {
      T* col = tl_col.get<T>(g.K * g.P);
      for (int64_t n = n0; n < n1; ++n) per_image(n, col);
    });
    return;
  }
  T* col = tl_col.get<T>(g.K * g.P);
  for (int64_t n = 0; n < g.N; ++n) per_image(n, col);
}

}  // namespace

template <typename T>
void conv3d_forward(const T* x, const T* w, const T* b, T* y, const Conv3dGeometry& g) {
  if (g.N == 0 || g.OC == 0 || g.P == 0) return;
  for_each_image<T>(g, [&](int64_t n, T* col) {
    for (int64_t grp = 0; grp < g.G; ++grp) {
      const T* xg = x + x_offset(g, n, grp);
      over_channels(g, [&](int64_t c0, int64_t c1) { vol2col(xg, col, g, c0, c1); });
      gemm_bias(false, false, g.OCg, g.P, g.K, T(1), w + grp * g.OCg * g.K, g.K, col, g.P, T(0),
                y + y_offset(g, n, grp), g.P, b ? b + grp * g.OCg : nullptr, true, false);
    }
  });
}

template <typename T>
void conv3d_input_grad(const T* dout, const T* w, T* dx, const Conv3dGeometry& g) {
  if (g.N == 0 || g.C == 0) return;
  for_each_image<T>(g, [&](int64_t n, T* col) {
    for (int64_t grp = 0; grp < g.G; ++grp) {
      // K = 0 leaves nothing to compute; P = 0 or OCg = 0 make col zeros (gemm's empty sum), so dx zeros
      gemm(true, false, g.K, g.P, g.OCg, T(1), w + grp * g.OCg * g.K, g.K, dout + y_offset(g, n, grp), g.P, T(0), col,
           g.P);
      T* dxg = dx + x_offset(g, n, grp);
      over_channels(g, [&](int64_t c0, int64_t c1) { col2vol(col, dxg, g, c0, c1); });
    }
  });
}

template <typename T>
void conv3d_weight_grad(const T* dout, const T* x, T* dw, const Conv3dGeometry& g) {
  // Images one after another (the sum's order, hence dw's bits, independent of the thread count); threads
  // split each image's vol2col and GEMM.
  std::memset(dw, 0, sizeof(T) * g.OC * g.K);
  if (g.P == 0) return;
  T* col = tl_col.get<T>(g.K * g.P);
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t grp = 0; grp < g.G; ++grp) {
      const T* xg = x + x_offset(g, n, grp);
      over_channels(g, [&](int64_t c0, int64_t c1) { vol2col(xg, col, g, c0, c1); });
      gemm(false, true, g.OCg, g.K, g.P, T(1), dout + y_offset(g, n, grp), g.P, col, g.P, T(1), dw + grp * g.OCg * g.K,
           g.K);
    }
}

#define PYCNN_INSTANTIATE_CONV3D(T)                                                         \
  template void conv3d_forward<T>(const T*, const T*, const T*, T*, const Conv3dGeometry&); \
  template void conv3d_input_grad<T>(const T*, const T*, T*, const Conv3dGeometry&);        \
  template void conv3d_weight_grad<T>(const T*, const T*, T*, const Conv3dGeometry&);
PYCNN_FOR_EACH_FLOAT_TYPE(PYCNN_INSTANTIATE_CONV3D)

}  // namespace pycnn::cpu
