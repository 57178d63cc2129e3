// CPU kernels for the pooling variants and resampling. Inputs are contiguous planes: x is (planes, H, W),
// y is (planes, OH, OW); threads split planes (or output rows), and each backward scatters plane by plane in
// a fixed order, so results do not depend on the thread count. Source coordinates follow PyTorch exactly
// (aten/src/ATen/native/UpSample.h), including its float arithmetic for nearest, so indices agree bit for bit.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

namespace {
// Rows [start, end) of adaptive output cell i: floor(i*in/out) .. ceil((i+1)*in/out).
inline int64_t adaptive_start(int64_t i, int64_t out, int64_t in) { return (i * in) / out; }
inline int64_t adaptive_end(int64_t i, int64_t out, int64_t in) { return ((i + 1) * in + out - 1) / out; }

// Plane-count grain so that each task has a few thousand elements of work.
inline int64_t plane_grain(int64_t per_plane) { return std::max<int64_t>(1, 4096 / std::max<int64_t>(per_plane, 1)); }

// Sum of n contiguous values with 8 independent partial sums: breaks the add chain so the loop vectorises,
// and the fixed association keeps the result independent of threading.
template <typename T>
inline T sum_contiguous(const T* p, int64_t n) {
  T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += p[i + j];
  T s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) s += p[i];
  return s;
}
}  // namespace

// ---- adaptive average pooling: y[oh, ow] = mean of the cell's window ----

template <typename T>
void adaptive_avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  if (OH == 1 && OW == 1) {  // global pooling: one contiguous sum per plane
    const int64_t HW = H * W;
    parallel_for(planes, plane_grain(HW), [=](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) y[p] = static_cast<T>(sum_contiguous(x + p * HW, HW) / T(HW));
    });
    return;
  }
  parallel_for(planes, plane_grain(H * W), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* in = x + p * H * W;
      T* out = y + p * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t h0 = adaptive_start(oh, OH, H), h1 = adaptive_end(oh, OH, H);
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t w0 = adaptive_start(ow, OW, W), w1 = adaptive_end(ow, OW, W);
          T s = 0;
          for (int64_t h = h0; h < h1; ++h) s += sum_contiguous(in + h * W + w0, w1 - w0);
          out[oh * OW + ow] = s / T((h1 - h0) * (w1 - w0));
        }
      }
    }
  });
}

template <typename T>
void adaptive_avg_pool2d_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  parallel_for(planes, plane_grain(H * W), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* d = dx + p * H * W;
      const T* g = dout + p * OH * OW;
      if (OH == 1 && OW == 1) {
        const T v = g[0] / T(H * W);
        for (int64_t i = 0; i < H * W; ++i) d[i] = v;
        continue;
      }
      std::memset(d, 0, H * W * sizeof(T));
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t h0 = adaptive_start(oh, OH, H), h1 = adaptive_end(oh, OH, H);
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t w0 = adaptive_start(ow, OW, W), w1 = adaptive_end(ow, OW, W);
          const T v = g[oh * OW + ow] / T((h1 - h0) * (w1 - w0));
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) d[h * W + w] += v;
        }
      }
    }
  });
}

// ---- adaptive max pooling: the first maximum wins, a NaN always wins (as torch) ----

template <typename T>
void adaptive_max_pool2d_forward(const T* x, T* y, int64_t* idx, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                 int64_t OW) {
  parallel_for(planes, plane_grain(H * W), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* in = x + p * H * W;
      T* out = y + p * OH * OW;
      int64_t* oi = idx + p * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t h0 = adaptive_start(oh, OH, H), h1 = adaptive_end(oh, OH, H);
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t w0 = adaptive_start(ow, OW, W), w1 = adaptive_end(ow, OW, W);
          int64_t best_i = h0 * W + w0;
          T best = in[best_i];
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) {
              const int64_t i = h * W + w;
              const T v = in[i];
              const bool take = v > best || v != v;  // branch-free select; the last NaN wins, as in torch
              best = take ? v : best;
              best_i = take ? i : best_i;
            }
          out[oh * OW + ow] = best;
          oi[oh * OW + ow] = best_i;
        }
      }
    }
  });
}

// ---- pixel shuffle: S[o, c, h*r+i, w*r+j] = L[o, c*r*r + i*r + j, h, w] ----
// L is (outer, C*r*r, H, W), S is (outer, C, H*r, W*r). inverse = false copies L -> S, true S -> L.

template <typename T>
void pixel_shuffle(const T* src, T* dst, int64_t outer, int64_t C, int64_t H, int64_t W, int64_t r, bool inverse) {
  const int64_t rows = outer * C * H * r;  // rows of S
  const int64_t SW = W * r;
  parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(SW, 1)), [=](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      const int64_t hs = row % (H * r), oc = row / (H * r);  // oc = o*C + c
      const int64_t h = hs / r, i = hs % r;
      const int64_t s_off = row * SW;
      for (int64_t j = 0; j < r; ++j) {
        const int64_t l_off = ((oc * r * r + i * r + j) * H + h) * W;
        if (!inverse)
          for (int64_t w = 0; w < W; ++w) dst[s_off + w * r + j] = src[l_off + w];
        else
          for (int64_t w = 0; w < W; ++w) dst[l_off + w] = src[s_off + w * r + j];
      }
    }
  });
}

// ---- interpolation ----

namespace {
// Source taps of each output index along one axis: out[d] = l0[d] * in[i0[d]] + l1[d] * in[i1[d]].
template <typename T>
struct AxisTaps {
  std::vector<int64_t> i0, i1;
  std::vector<T> l0, l1;
};

// torch's compute_scales_value: the user's scale factor when given (as 1/scale), else in/out.
template <typename S>
S source_scale(double user_scale, int64_t in, int64_t out) {
  return user_scale > 0 ? static_cast<S>(1.0 / user_scale) : static_cast<S>(in) / static_cast<S>(out);
}

template <typename T>
AxisTaps<T> axis_taps(int64_t in, int64_t out, double user_scale, const InterpolateArgs& a) {
  AxisTaps<T> t;
  t.i0.resize(out), t.i1.resize(out), t.l0.resize(out), t.l1.resize(out);
  if (a.mode != InterpMode::Bilinear) {
    // torch computes nearest indices in float whatever the dtype; the same rounding gives the same picks
    const float scale = source_scale<float>(user_scale, in, out);
    for (int64_t d = 0; d < out; ++d) {
      int64_t s;
      if (a.mode == InterpMode::NearestExact)
        s = static_cast<int64_t>(std::floor(static_cast<float>((d + 0.5) * scale)));
      else if (out == in)
        s = d;
      else if (out == 2 * in)
        s = d >> 1;
      else
        s = static_cast<int64_t>(std::floor(static_cast<float>(d) * scale));
      s = std::min(s, in - 1);
      t.i0[d] = t.i1[d] = s;
      t.l0[d] = 1, t.l1[d] = 0;
    }
    return t;
  }
  // bilinear: align_corners maps the corner pixel centres onto each other; otherwise pixel centres are at
  // +0.5 and the source is clamped at 0 (torch's area_pixel_compute_source_index), in T's precision
  const T scale = a.align_corners ? (out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0))
                                  : source_scale<T>(user_scale, in, out);
  for (int64_t d = 0; d < out; ++d) {
    T real = a.align_corners ? scale * static_cast<T>(d) : scale * (static_cast<T>(d) + T(0.5)) - T(0.5);
    if (real < 0) real = 0;
    const int64_t s = std::min(static_cast<int64_t>(std::floor(real)), in - 1);
    const T l1 = std::min(std::max(real - static_cast<T>(s), T(0)), T(1));
    t.i0[d] = s;
    t.i1[d] = s + (s < in - 1 ? 1 : 0);
    t.l0[d] = T(1) - l1;
    t.l1[d] = l1;
  }
  return t;
}
}  // namespace

template <typename T>
void interpolate_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                         const InterpolateArgs& a) {
  const AxisTaps<T> th = axis_taps<T>(H, OH, a.scale_h, a), tw = axis_taps<T>(W, OW, a.scale_w, a);
  const int64_t *h0 = th.i0.data(), *h1 = th.i1.data(), *w0 = tw.i0.data(), *w1 = tw.i1.data();
  const T *lh0 = th.l0.data(), *lh1 = th.l1.data(), *lw0 = tw.l0.data(), *lw1 = tw.l1.data();
  const bool nearest = a.mode != InterpMode::Bilinear;
  // one task per output row of every plane: a single large image still uses all threads
  parallel_for(planes * OH, std::max<int64_t>(1, 4096 / std::max<int64_t>(OW, 1)), [=](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      const int64_t p = row / OH, oh = row % OH;
      T* out = y + row * OW;
      const T* top = x + (p * H + h0[oh]) * W;
      if (nearest) {
        for (int64_t ow = 0; ow < OW; ++ow) out[ow] = top[w0[ow]];
        continue;
      }
      const T* bot = x + (p * H + h1[oh]) * W;
      const T a0 = lh0[oh], a1 = lh1[oh];
      for (int64_t ow = 0; ow < OW; ++ow)
        out[ow] =
            a0 * (lw0[ow] * top[w0[ow]] + lw1[ow] * top[w1[ow]]) + a1 * (lw0[ow] * bot[w0[ow]] + lw1[ow] * bot[w1[ow]]);
    }
  });
}

// The adjoint of the forward: each output gradient goes back to the (up to four) taps with the same weights.
template <typename T>
void interpolate_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                          const InterpolateArgs& a) {
  const AxisTaps<T> th = axis_taps<T>(H, OH, a.scale_h, a), tw = axis_taps<T>(W, OW, a.scale_w, a);
  const int64_t *h0 = th.i0.data(), *h1 = th.i1.data(), *w0 = tw.i0.data(), *w1 = tw.i1.data();
  const T *lh0 = th.l0.data(), *lh1 = th.l1.data(), *lw0 = tw.l0.data(), *lw1 = tw.l1.data();
  const bool nearest = a.mode != InterpMode::Bilinear;
  parallel_for(planes, plane_grain(OH * OW), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* d = dx + p * H * W;
      std::memset(d, 0, H * W * sizeof(T));
      for (int64_t oh = 0; oh < OH; ++oh) {
        const T* g = dout + (p * OH + oh) * OW;
        T* top = d + h0[oh] * W;
        if (nearest) {
          for (int64_t ow = 0; ow < OW; ++ow) top[w0[ow]] += g[ow];
          continue;
        }
        T* bot = d + h1[oh] * W;
        const T a0 = lh0[oh], a1 = lh1[oh];
        for (int64_t ow = 0; ow < OW; ++ow) {
          top[w0[ow]] += a0 * lw0[ow] * g[ow];
          top[w1[ow]] += a0 * lw1[ow] * g[ow];
          bot[w0[ow]] += a1 * lw0[ow] * g[ow];
          bot[w1[ow]] += a1 * lw1[ow] * g[ow];
        }
      }
    }
  });
}

// ---- max unpooling: y is zero except y[idx[i]] = x[i] per plane (a repeated index keeps the last value) ----

template <typename T>
void max_unpool2d_forward(const T* x, const int64_t* idx, T* y, int64_t planes, int64_t HW, int64_t OHW) {
  parallel_for(planes, plane_grain(OHW), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* out = y + p * OHW;
      std::memset(out, 0, OHW * sizeof(T));
      const T* in = x + p * HW;
      const int64_t* ix = idx + p * HW;
      for (int64_t i = 0; i < HW; ++i) out[ix[i]] = in[i];
    }
  });
}

template <typename T>
void max_unpool2d_backward(const T* dout, const int64_t* idx, T* dx, int64_t planes, int64_t HW, int64_t OHW) {
  parallel_for(planes, plane_grain(HW), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* g = dout + p * OHW;
      const int64_t* ix = idx + p * HW;
      T* d = dx + p * HW;
      for (int64_t i = 0; i < HW; ++i) d[i] = g[ix[i]];
    }
  });
}

#define PYCNN_INSTANTIATE_RESIZE(T)                                                                                  \
  template void adaptive_avg_pool2d_forward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t);           \
  template void adaptive_avg_pool2d_backward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t);          \
  template void adaptive_max_pool2d_forward<T>(const T*, T*, int64_t*, int64_t, int64_t, int64_t, int64_t, int64_t); \
  template void pixel_shuffle<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, bool);                   \
  template void interpolate_forward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t,                    \
                                       const InterpolateArgs&);                                                      \
  template void interpolate_backward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t,                   \
                                        const InterpolateArgs&);                                                     \
  template void max_unpool2d_forward<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t);                    \
  template void max_unpool2d_backward<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t);
PYCNN_INSTANTIATE_RESIZE(float)
PYCNN_INSTANTIATE_RESIZE(double)

}  // namespace pycnn::cpu
