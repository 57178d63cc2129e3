// CPU convolution by im2col + GEMM, per image and per group (Caffe's scheme):
//   forward     y[n, g] (OCg, OH*OW)  = w[g] (OCg, Cg*KH*KW) @ col(x[n, g]) (Cg*KH*KW, OH*OW)
//   input grad  col = w[g]^T @ dout[n, g], then col2im scatters col back into dx[n, g]
//   weight grad dw[g] += dout[n, g] @ col(x[n, g])^T, summed over n
// With at least as many images as threads, threads take whole images (each GEMM serial, no sync);
// otherwise images go one at a time and the GEMM itself is threaded. A 1x1, stride-1, unpadded conv
// needs no im2col: x[n, g] already is the column matrix.
#include <algorithm>  // defines: std::min
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

namespace {

struct ConvGeometry {
  int64_t N, C, H, W, OC, KH, KW, OH, OW, G, Cg, OCg, K, P;  // K = Cg*KH*KW rows of col, P = OH*OW columns
  bool pointwise;                                           // 1x1, stride 1, no padding: col == x
};

ConvGeometry geometry(const Tensor& x, const Tensor& w, const Shape& y_shape, const Conv2dArgs& a) {
  ConvGeometry g;
  g.N = x.size(0), g.C = x.size(1), g.H = x.size(2), g.W = x.size(3);
  g.OC = w.size(0), g.KH = w.size(2), g.KW = w.size(3), g.OH = y_shape[2], g.OW = y_shape[3];
  g.G = a.groups, g.Cg = g.C / g.G, g.OCg = g.OC / g.G;
  g.K = g.Cg * g.KH * g.KW, g.P = g.OH * g.OW;
  g.pointwise = g.KH == 1 && g.KW == 1 && a.stride_h == 1 && a.stride_w == 1 && a.pad_h == 0 && a.pad_w == 0;
  return g;
}

// col (Cg*KH*KW, OH*OW) from one image's group of channels x (Cg, H, W).
template <typename T>
void im2col(const T* x, T* col, const ConvGeometry& g, const Conv2dArgs& a) {
  for (int64_t c = 0; c < g.Cg; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        T* row = col + ((c * g.KH + kh) * g.KW + kw) * g.P;
        const T* plane = x + c * g.H * g.W;
        const int64_t dh = kh * a.dilation_h - a.pad_h, dw = kw * a.dilation_w - a.pad_w;
        // the range of ow whose input column lies inside the image
        int64_t ow_lo = 0, ow_hi = g.OW;
        while (ow_lo < g.OW && ow_lo * a.stride_w + dw < 0) ++ow_lo;
        while (ow_hi > ow_lo && (ow_hi - 1) * a.stride_w + dw >= g.W) --ow_hi;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          T* out = row + oh * g.OW;
          const int64_t ih = oh * a.stride_h + dh;
          if (ih < 0 || ih >= g.H) {
            for (int64_t ow = 0; ow < g.OW; ++ow) out[ow] = T(0);
            continue;
          }
          const T* in = plane + ih * g.W + dw;
          for (int64_t ow = 0; ow < ow_lo; ++ow) out[ow] = T(0);
          if (a.stride_w == 1) {
            std::memcpy(out + ow_lo, in + ow_lo, (ow_hi - ow_lo) * sizeof(T));
          } else {
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) out[ow] = in[ow * a.stride_w];
          }
          for (int64_t ow = ow_hi; ow < g.OW; ++ow) out[ow] = T(0);
        }
      }
}

// The adjoint of im2col: dx (Cg, H, W) += scatter of col. dx must be zeroed by the caller.
template <typename T>
void col2im(const T* col, T* dx, const ConvGeometry& g, const Conv2dArgs& a) {
  for (int64_t c = 0; c < g.Cg; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const T* row = col + ((c * g.KH + kh) * g.KW + kw) * g.P;
        T* plane = dx + c * g.H * g.W;
        const int64_t dh = kh * a.dilation_h - a.pad_h, dw = kw * a.dilation_w - a.pad_w;
        int64_t ow_lo = 0, ow_hi = g.OW;
        while (ow_lo < g.OW && ow_lo * a.stride_w + dw < 0) ++ow_lo;
        while (ow_hi > ow_lo && (ow_hi - 1) * a.stride_w + dw >= g.W) --ow_hi;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const int64_t ih = oh * a.stride_h + dh;
          if (ih < 0 || ih >= g.H) continue;
          const T* in = row + oh * g.OW;
          T* out = plane + ih * g.W + dw;
          for (int64_t ow = ow_lo; ow < ow_hi; ++ow) out[ow * a.stride_w] += in[ow];
        }
      }
}

// A per-thread scratch buffer that grows and is reused across calls.
template <typename T>
T* scratch(size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// Runs body(n) for every image: threads over images when there are enough, else serially (the GEMMs
// inside then use the threads).
template <typename F>
void for_each_image(int64_t N, const F& body) {
  if (N >= get_num_threads()) {
    parallel_for(N, 1, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) body(n);
    });
  } else {
    for (int64_t n = 0; n < N; ++n) body(n);
  }
}

}  // namespace

template <typename T>
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y, const Conv2dArgs& a) {
  const ConvGeometry g = geometry(x, w, y.shape(), a);
  const T* px = x.data<T>();
  const T* pw = w.data<T>();
  const T* pb = b.defined() ? b.data<T>() : nullptr;
  T* py = y.data<T>();
  for_each_image(g.N, [&](int64_t n) {
    T* col = g.pointwise ? nullptr : scratch<T>(g.K * g.P);
    for (int64_t grp = 0; grp < g.G; ++grp) {
      const T* xg = px + (n * g.C + grp * g.Cg) * g.H * g.W;
      T* yg = py + (n * g.OC + grp * g.OCg) * g.P;
      if (!g.pointwise) im2col(xg, col, g, a);
      const T* cols = g.pointwise ? xg : col;
      if (pb) {  // y = bias, then y += w @ col
        for (int64_t oc = 0; oc < g.OCg; ++oc) {
          T v = pb[grp * g.OCg + oc];
          T* row = yg + oc * g.P;
          for (int64_t p = 0; p < g.P; ++p) row[p] = v;
        }
      }
      gemm<T>(false, false, g.OCg, g.P, g.K, T(1), pw + grp * g.OCg * g.K, g.K, cols, g.P, pb ? T(1) : T(0), yg, g.P);
    }
  });
}

template <typename T>
void conv2d_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& dx, const Tensor& dw,
                     const Conv2dArgs& a) {
  const ConvGeometry g = geometry(x, w, dout.shape(), a);
  const T* pd = dout.data<T>();
  const T* px = x.data<T>();
  const T* pw = w.data<T>();
  T* pdx = dx.defined() ? dx.data<T>() : nullptr;
  T* pdw = dw.defined() ? dw.data<T>() : nullptr;
  const int64_t wsize = g.OC * g.K;

  // Input gradient: independent per image.
  if (pdx) {
    for_each_image(g.N, [&](int64_t n) {
      T* col = scratch<T>(g.K * g.P);
      for (int64_t grp = 0; grp < g.G; ++grp) {
        const T* dg = pd + (n * g.OC + grp * g.OCg) * g.P;
        T* dxg = pdx + (n * g.C + grp * g.Cg) * g.H * g.W;
        if (g.pointwise) {  // dx[n, g] = w[g]^T @ dout[n, g] directly
          gemm<T>(true, false, g.K, g.P, g.OCg, T(1), pw + grp * g.OCg * g.K, g.K, dg, g.P, T(0), dxg, g.P);
          continue;
        }
        gemm<T>(true, false, g.K, g.P, g.OCg, T(1), pw + grp * g.OCg * g.K, g.K, dg, g.P, T(0), col, g.P);
        std::memset(dxg, 0, g.Cg * g.H * g.W * sizeof(T));
        col2im(col, dxg, g, a);
      }
    });
  }

  // Weight gradient: a sum over images. The images are cut into a fixed number of contiguous chunks
  // (kWeightGradChunks, never the thread count), each summed in order into its own accumulator, and the
  // accumulators are added in chunk order: the summation order, hence every bit of dw, is the same for
  // any number of threads. Chunks run in parallel when there are enough images, else one after another
  // with threaded GEMMs (which split C, not K, so they give the same bits as serial ones).
  if (pdw) {
    constexpr int64_t kWeightGradChunks = 8;
    const int64_t chunks = std::min<int64_t>(g.N, kWeightGradChunks);
    std::vector<T> partial(static_cast<size_t>(chunks > 1 ? chunks - 1 : 0) * wsize);
    auto accumulate = [&](int64_t n, T* acc, bool first) {
      T* col = scratch<T>(g.K * g.P);
      for (int64_t grp = 0; grp < g.G; ++grp) {
        const T* dg = pd + (n * g.OC + grp * g.OCg) * g.P;
        const T* xg = px + (n * g.C + grp * g.Cg) * g.H * g.W;
        if (!g.pointwise) im2col(xg, col, g, a);
        gemm<T>(false, true, g.OCg, g.K, g.P, T(1), dg, g.P, g.pointwise ? xg : col, g.P, first ? T(0) : T(1),
                acc + grp * g.OCg * g.K, g.K);
      }
    };
    auto run_chunk = [&](int64_t c) {
      const int64_t n0 = g.N * c / chunks, n1 = g.N * (c + 1) / chunks;
      T* acc = c == 0 ? pdw : partial.data() + (c - 1) * wsize;
      for (int64_t n = n0; n < n1; ++n) accumulate(n, acc, n == n0);
    };
    if (g.N == 0) std::memset(pdw, 0, wsize * sizeof(T));
    if (g.N >= get_num_threads()) {
      parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) run_chunk(c);
      });
    } else {
      for (int64_t c = 0; c < chunks; ++c) run_chunk(c);
    }
    for (int64_t c = 1; c < chunks; ++c) {
      const T* p = partial.data() + (c - 1) * wsize;
      for (int64_t i = 0; i < wsize; ++i) pdw[i] += p[i];
    }
  }
}

template void conv2d_forward<float>(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Conv2dArgs&);
template void conv2d_forward<double>(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Conv2dArgs&);
template void conv2d_backward<float>(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                     const Conv2dArgs&);
template void conv2d_backward<double>(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                      const Conv2dArgs&);

}  // namespace pycnn::cpu
