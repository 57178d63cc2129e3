// CUDA deformable convolution (torchvision's deform_conv2d, v1 and v2), the contract of
// ops/cpu/deform_conv.cpp and the same structure, image by image: a deformable im2col into a column buffer
// (a workspace tensor), then per-group GEMMs through cuda::gemm; backward dcol = W^T @ dout, then the
// bilinear col2im (dx), col2coord (doffset, dmask) and dW += dout @ col^T in image order. Bodies in
// conv_bodies.h. Deterministic: no atomics (col2im scatters one channel per thread).
#include <cuda_runtime.h>

#include "pycnn/ops/cuda/conv_bodies.h"  // defines: DeformIm2col, DeformCol2im, DeformCol2coord, DeformBiasGrad
#include "pycnn/ops/cuda/cuda_ops.h"     // defines: gemm
#include "pycnn/ops/cuda/launch.cuh"     // defines: for_each, CUDA_CHECK

namespace pycnn::cuda {

namespace {

// The (C*KK, L) column buffer of one image, from the caching allocator on the current device (stream-ordered:
// released when the caller returns, reused only by work queued after it).
template <typename T>
Tensor column_buffer(const DeformGeometry& g, const char* op) {
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device), op);
  return Tensor::empty({g.C * g.KH * g.KW * g.OH * g.OW}, dtype_of<T>::value, Device{DeviceType::CUDA, device});
}

}  // namespace

template <typename T>
void deform_conv2d_forward(const T* x, const T* offset, const T* mask, const T* w, const T* b, T* y, int64_t N,
                           int64_t OC, int64_t groups, const DeformGeometry& g) {
  const char* op = "deform_conv2d";
  const int64_t KK = g.KH * g.KW, L = g.OH * g.OW, Cg = g.C / groups, OCg = OC / groups, K = Cg * KK;
  const int64_t x_stride = g.C * g.H * g.W, off_stride = 2 * g.offset_groups * KK * L;
  const int64_t mask_stride = g.offset_groups * KK * L;
  Tensor col_t = column_buffer<T>(g, op);
  T* col = col_t.data<T>();
  for (int64_t n = 0; n < N; ++n) {
    const T* mn = mask ? mask + n * mask_stride : nullptr;
    for_each(g.C * KK * L, DeformIm2col<T>{g, x + n * x_stride, offset + n * off_stride, mn, col}, op);
    T* yn = y + n * OC * L;
    for (int64_t gi = 0; gi < groups; ++gi)
      gemm<T>(false, false, OCg, L, K, T(1), w + gi * OCg * K, K, col + gi * K * L, L, T(0), yn + gi * OCg * L, L);
    if (b) for_each(OC * L, AddChannelBias<T>{yn, b, OC, L}, op);
  }
}

template <typename T>
void deform_conv2d_backward(const T* dout, const T* x, const T* offset, const T* mask, const T* w, T* dx, T* doffset,
                            T* dmask, T* dw, T* db, int64_t N, int64_t OC, int64_t groups, const DeformGeometry& g) {
  const char* op = "deform_conv2d_backward";
  const int64_t KK = g.KH * g.KW, L = g.OH * g.OW, Cg = g.C / groups, OCg = OC / groups, K = Cg * KK;
  const int64_t x_stride = g.C * g.H * g.W, off_stride = 2 * g.offset_groups * KK * L;
  const int64_t mask_stride = g.offset_groups * KK * L;
  Tensor col_t = column_buffer<T>(g, op);
  T* col = col_t.data<T>();
  for (int64_t n = 0; n < N; ++n) {
    const T* xn = x + n * x_stride;
    const T* on = offset + n * off_stride;
    const T* mn = mask ? mask + n * mask_stride : nullptr;
    const T* dn = dout + n * OC * L;
    if (dx || doffset || dmask) {
      for (int64_t gi = 0; gi < groups; ++gi)  // dcol = W^T @ dout, per group
        gemm<T>(true, false, K, L, OCg, T(1), w + gi * OCg * K, K, dn + gi * OCg * L, L, T(0), col + gi * K * L, L);
      if (dx) for_each(g.C, DeformCol2im<T>{g, col, on, mn, dx + n * x_stride}, op);
      if (doffset || dmask)
        for_each(g.offset_groups * KK * L,
                 DeformCol2coord<T>{g, col, xn, on, mn, doffset ? doffset + n * off_stride : nullptr,
                                    dmask ? dmask + n * mask_stride : nullptr},
                 op);
    }
    if (dw) {  // dW += dout @ col^T, images in order
      for_each(g.C * KK * L, DeformIm2col<T>{g, xn, on, mn, col}, op);
      for (int64_t gi = 0; gi < groups; ++gi)
        gemm<T>(false, true, OCg, K, L, T(1), dn + gi * OCg * L, L, col + gi * K * L, L, T(1), dw + gi * OCg * K, K);
    }
  }
  if (db) for_each(OC, DeformBiasGrad<T>{dout, db, N, OC, L}, op);
}

#define PYCNN_DEFORM_INSTANTIATE(T)                                                                              \
  template void deform_conv2d_forward<T>(const T*, const T*, const T*, const T*, const T*, T*, int64_t, int64_t, \
                                         int64_t, const DeformGeometry&);                                        \
  template void deform_conv2d_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, T*, T*,  \
                                          int64_t, int64_t, int64_t, const DeformGeometry&);
PYCNN_DEFORM_INSTANTIATE(float)
PYCNN_DEFORM_INSTANTIATE(double)
#undef PYCNN_DEFORM_INSTANTIATE

}  // namespace pycnn::cuda
