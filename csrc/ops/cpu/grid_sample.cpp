// CPU kernels of grid_sample. x (N, C, H, W), grid (N, Ho, Wo, 2) of (x, y) pairs, y and dout (N, C, Ho, Wo),
// all contiguous. Every mode is separable: a sample point is a set of taps along x times a set along y
// (1 nearest, 2 bilinear, 4 bicubic), each with a weight and the weight's derivative by the source position.
// Source positions follow torch's CPU kernel (aten/src/ATen/native/cpu/GridSamplerKernel.cpp): unnormalize,
// then border clamps and reflection mirrors the position into the image (bicubic pads its integer taps
// instead); out-of-image taps read 0. The forward threads over the N*Ho output rows. The backward makes two
// passes that never write the same element from two threads: dgrid over rows (channels summed in order) and
// dx over (n, c) planes (each plane takes its scatters in row order), so results do not depend on threading.
#include <algorithm>  // defines: std::max
#include <cmath>      // defines: std::floor, std::fmod, std::nearbyint
#include <vector>

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

namespace {

// A source position along one axis and its derivative by the grid value it came from.
template <typename T>
struct Coord {
  T pos, grad;
};

// Mirror pos into [lo, lo + span] (the corner pixel centres with align_corners, the image edges without):
// the image repeats with period 2 * span, every other copy flipped.
template <typename T>
Coord<T> reflect(Coord<T> c, int64_t size, bool align) {
  const T lo = align ? T(0) : T(-0.5), span = align ? T(size - 1) : T(size);
  if (span <= 0) return {T(0), T(0)};
  T d = c.pos - lo, sign = 1;
  if (d < 0) d = -d, sign = -1;
  T extra = std::fmod(d, 2 * span);
  if (extra > span) extra = 2 * span - extra, sign = -sign;
  return {lo + extra, c.grad * sign};
}

// Clamp into [0, size - 1]; a clamped position (the borders included, as torch has it) has no gradient.
// NaN goes to 0 as in torch's CPU kernel (so does an infinite position that reflection turned into NaN).
template <typename T>
Coord<T> clip(Coord<T> c, int64_t size) {
  const T hi = T(size - 1);
  if (!(c.pos > 0)) return {T(0), T(0)};
  if (c.pos >= hi) return {hi, T(0)};
  return c;
}

template <typename T>
Coord<T> pad(Coord<T> c, int64_t size, const GridSampleArgs& a) {
  if (a.padding == GridPaddingMode::Zeros) return c;
  if (a.padding == GridPaddingMode::Reflection) c = reflect(c, size, a.align_corners);
  return clip(c, size);
}

// The pixel index of an integer-valued position, or -1 outside [0, size) (NaN and huge values included,
// which an integer conversion could not hold).
template <typename T>
int64_t tap_index(T p, int64_t size) {
  return p >= 0 && p < T(size) ? static_cast<int64_t>(p) : -1;
}

// Keys' cubic convolution kernel with a = -0.75 (torch's bicubic), at the four taps floor(pos) - 1 + i for
// the fractional part u, and the weights' derivatives by u. Inner taps (distance <= 1) use
// (a+2)d^3 - (a+3)d^2 + 1, outer ones a d^3 - 5a d^2 + 8a d - 4a; taps 2 and 3 sit at distance 1-u and 2-u,
// hence the sign of their derivatives.
template <typename T>
void cubic_weights(T u, T* w, T* dw) {
  const T A = T(-0.75);
  auto inner = [A](T d) { return ((A + 2) * d - (A + 3)) * d * d + 1; };
  auto outer = [A](T d) { return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A; };
  auto dinner = [A](T d) { return (3 * (A + 2) * d - 2 * (A + 3)) * d; };
  auto douter = [A](T d) { return (3 * A * d - 10 * A) * d + 8 * A; };
  w[0] = outer(u + 1), w[1] = inner(u), w[2] = inner(1 - u), w[3] = outer(2 - u);
  dw[0] = douter(u + 1), dw[1] = dinner(u), dw[2] = -dinner(1 - u), dw[3] = -douter(2 - u);
}

// The taps of one sample point along one axis.
template <typename T>
struct AxisTaps {
  int n;           // 1 nearest, 2 bilinear, 4 bicubic
  int64_t idx[4];  // pixel index of each tap, -1 outside the image (reads 0, takes no gradient)
  T w[4], dw[4];   // weights, and their derivatives by the source position
  T mult;          // d(source position) / d(grid value): unnormalize's scale times the padding's
};

template <typename T>
AxisTaps<T> axis_taps(T g, int64_t size, const GridSampleArgs& a) {
  AxisTaps<T> t;
  // unnormalize: [-1, 1] -> [0, size-1] (align_corners) or [-0.5, size-0.5], in torch's CPU arithmetic
  const T scale = a.align_corners ? T(size - 1) / 2 : T(size) / 2;
  const Coord<T> c{(g + 1) * scale - (a.align_corners ? T(0) : T(0.5)), scale};
  if (a.mode == GridSampleMode::Bicubic) {
    const T f = std::floor(c.pos), u = c.pos - f;
    t.n = 4;
    t.mult = c.grad;
    cubic_weights(u, t.w, t.dw);
    for (int i = 0; i < 4; ++i) t.idx[i] = tap_index(pad(Coord<T>{f - 1 + i, T(0)}, size, a).pos, size);
    return t;
  }
  const Coord<T> p = pad(c, size, a);
  t.mult = p.grad;
  if (a.mode == GridSampleMode::Nearest) {  // round half to even, as torch
    t.n = 1;
    t.idx[0] = tap_index(std::nearbyint(p.pos), size);
    t.w[0] = 1, t.dw[0] = 0;
    return t;
  }
  const T f = std::floor(p.pos), u = p.pos - f;
  t.n = 2;
  t.idx[0] = tap_index(f, size), t.idx[1] = tap_index(f + 1, size);
  t.w[0] = 1 - u, t.w[1] = u;
  t.dw[0] = -1, t.dw[1] = 1;
  return t;
}

// The taps of every point of output row (n, oh).
template <typename T>
void row_taps(const T* grid, int64_t row, const GridSampleGeometry& g, const GridSampleArgs& a, AxisTaps<T>* tx,
              AxisTaps<T>* ty) {
  const T* gr = grid + row * g.Wo * 2;
  for (int64_t ow = 0; ow < g.Wo; ++ow) {
    tx[ow] = axis_taps(gr[2 * ow], g.W, a);
    ty[ow] = axis_taps(gr[2 * ow + 1], g.H, a);
  }
}

template <typename T>
T tap_value(const T* plane, int64_t W, int64_t iy, int64_t ix) {
  return iy >= 0 && ix >= 0 ? plane[iy * W + ix] : T(0);
}

// Output rows per task so that each task has a few thousand tap reads.
int64_t row_grain(const GridSampleGeometry& g, const GridSampleArgs& a) {
  const int64_t taps = a.mode == GridSampleMode::Bicubic ? 16 : a.mode == GridSampleMode::Bilinear ? 4 : 1;
  return std::max<int64_t>(1, 4096 / std::max<int64_t>(g.Wo * g.C * taps, 1));
}

}  // namespace

template <typename T>
void grid_sample_forward(const T* x, const T* grid, T* y, const GridSampleGeometry& g, const GridSampleArgs& a) {
  const int64_t HW = g.H * g.W, out_plane = g.Ho * g.Wo;
  parallel_for(g.N * g.Ho, row_grain(g, a), [&](int64_t r0, int64_t r1) {
    std::vector<AxisTaps<T>> tx(g.Wo), ty(g.Wo);
    for (int64_t row = r0; row < r1; ++row) {
      const int64_t n = row / g.Ho, oh = row % g.Ho;
      row_taps(grid, row, g, a, tx.data(), ty.data());
      for (int64_t c = 0; c < g.C; ++c) {
        const T* plane = x + (n * g.C + c) * HW;
        T* out = y + (n * g.C + c) * out_plane + oh * g.Wo;
        for (int64_t ow = 0; ow < g.Wo; ++ow) {
          const AxisTaps<T>&X = tx[ow], &Y = ty[ow];
          // every tap is summed, out-of-image ones as 0 * weight: a NaN weight reaches the output as in torch
          T v = 0;
          for (int j = 0; j < Y.n; ++j)
            for (int i = 0; i < X.n; ++i) v += Y.w[j] * X.w[i] * tap_value(plane, g.W, Y.idx[j], X.idx[i]);
          out[ow] = v;
        }
      }
    }
  });
}

namespace {

// dgrid[n, oh, ow] = mult * sum over channels and taps of dout * value * d(weight)/d(position), row by row.
template <typename T>
void grid_gradient(const T* dout, const T* x, const T* grid, T* dgrid, const GridSampleGeometry& g,
                   const GridSampleArgs& a) {
  const int64_t HW = g.H * g.W, out_plane = g.Ho * g.Wo;
  parallel_for(g.N * g.Ho, row_grain(g, a), [&](int64_t r0, int64_t r1) {
    std::vector<AxisTaps<T>> tx(g.Wo), ty(g.Wo);
    std::vector<T> gx(g.Wo), gy(g.Wo);
    for (int64_t row = r0; row < r1; ++row) {
      const int64_t n = row / g.Ho, oh = row % g.Ho;
      row_taps(grid, row, g, a, tx.data(), ty.data());
      std::fill(gx.begin(), gx.end(), T(0));
      std::fill(gy.begin(), gy.end(), T(0));
      for (int64_t c = 0; c < g.C; ++c) {
        const T* plane = x + (n * g.C + c) * HW;
        const T* gout = dout + (n * g.C + c) * out_plane + oh * g.Wo;
        for (int64_t ow = 0; ow < g.Wo; ++ow) {
          const AxisTaps<T>&X = tx[ow], &Y = ty[ow];
          T sx = 0, sy = 0;
          for (int j = 0; j < Y.n; ++j)
            for (int i = 0; i < X.n; ++i) {
              const T v = tap_value(plane, g.W, Y.idx[j], X.idx[i]);
              sx += Y.w[j] * X.dw[i] * v;
              sy += Y.dw[j] * X.w[i] * v;
            }
          gx[ow] += sx * gout[ow];
          gy[ow] += sy * gout[ow];
        }
      }
      T* d = dgrid + row * g.Wo * 2;
      for (int64_t ow = 0; ow < g.Wo; ++ow) {
        d[2 * ow] = gx[ow] * tx[ow].mult;
        d[2 * ow + 1] = gy[ow] * ty[ow].mult;
      }
    }
  });
}

// dx[n, c] += dout * weight at every in-image tap. A task owns a run of planes; it computes each row's
// taps once for all the channels of one image that it owns.
template <typename T>
void input_gradient(const T* dout, const T* grid, T* dx, const GridSampleGeometry& g, const GridSampleArgs& a) {
  const int64_t HW = g.H * g.W, out_plane = g.Ho * g.Wo;
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(out_plane, 1));
  parallel_for(g.N * g.C, grain, [&](int64_t p0, int64_t p1) {
    std::vector<AxisTaps<T>> tx(g.Wo), ty(g.Wo);
    for (int64_t p = p0; p < p1;) {
      const int64_t n = p / g.C, c_end = std::min((n + 1) * g.C, p1) - n * g.C;
      for (int64_t oh = 0; oh < g.Ho; ++oh) {
        row_taps(grid, n * g.Ho + oh, g, a, tx.data(), ty.data());
        for (int64_t c = p - n * g.C; c < c_end; ++c) {
          T* plane = dx + (n * g.C + c) * HW;
          const T* gout = dout + (n * g.C + c) * out_plane + oh * g.Wo;
          for (int64_t ow = 0; ow < g.Wo; ++ow) {
            const AxisTaps<T>&X = tx[ow], &Y = ty[ow];
            for (int j = 0; j < Y.n; ++j)
              for (int i = 0; i < X.n; ++i)
                if (Y.idx[j] >= 0 && X.idx[i] >= 0) plane[Y.idx[j] * g.W + X.idx[i]] += Y.w[j] * X.w[i] * gout[ow];
          }
        }
      }
      p = n * g.C + c_end;
    }
  });
}

}  // namespace

template <typename T>
void grid_sample_backward(const T* dout, const T* x, const T* grid, T* dx, T* dgrid, const GridSampleGeometry& g,
                          const GridSampleArgs& a) {
  if (dgrid && a.mode == GridSampleMode::Nearest)  // piecewise constant in the grid
    std::fill(dgrid, dgrid + g.N * g.Ho * g.Wo * 2, T(0));
  else if (dgrid)
    grid_gradient(dout, x, grid, dgrid, g, a);
  if (dx) input_gradient(dout, grid, dx, g, a);
}

#define PYCNN_INSTANTIATE_GRID_SAMPLE(T)                                                                          \
  template void grid_sample_forward<T>(const T*, const T*, T*, const GridSampleGeometry&, const GridSampleArgs&); \
  template void grid_sample_backward<T>(const T*, const T*, const T*, T*, T*, const GridSampleGeometry&,          \
                                        const GridSampleArgs&);
PYCNN_FOR_EACH_FLOAT_TYPE(PYCNN_INSTANTIATE_GRID_SAMPLE)

}  // namespace pycnn::cpu
