// Depthwise convolution kernels (one input channel per group: x (N, C, H, W), w (OC, 1, KH, KW), OC = C *
// OCg), compiled once per kernel set like every file in simd/, each copy in pycnn::cpu::<PYCNN_KNS>.
// ops/cpu/conv2d.cpp runs the work units of the set in use (simd.h's DepthwiseKernels) in parallel. A unit is
// a block of input channels over a run of images (DepthwiseWork); simd/depthwise_kernel.cpp says how it is
// computed. simd/kernels.h declares these per set with the macro below.
#pragma once
#include <cstdint>

#include "pycnn/ops/cpu/simd/simd.h"  // defines: DepthwiseWork, DepthwiseKernels

namespace pycnn::cpu {

// depthwise_work: the cut for g.
// depthwise_forward: y[n, oc] for images n0 .. n1-1 and the output channels oc of input channels c0 .. c1-1,
//   bias b (or null) included.
// depthwise_input_grad: dx[n, c] for images n0 .. n1-1 and channels c0 .. c1-1.
// depthwise_weight_grad: dw[oc] (KH*KW taps) for the output channels of input channels c0 .. c1-1, summed over
//   all images, run by run (work.images at a time) in order.
// prev_images: the images of the unit this thread ran just before with the same scratch in the same call (the
//   forward's and weight gradient's scratch then still holds that layout's zeros), or 0.
#define PYCNN_DECLARE_DEPTHWISE_KERNELS(T)                                                                          \
  void depthwise_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y, int64_t c0, int64_t c1, \
                         int64_t n0, int64_t n1, int64_t prev_images, T* scratch);                                  \
  void depthwise_input_grad(const Conv2dGeometry& g, const T* dout, const T* w, T* dx, int64_t c0, int64_t c1,      \
                            int64_t n0, int64_t n1, T* scratch);                                                    \
  void depthwise_weight_grad(const Conv2dGeometry& g, const DepthwiseWork& work, const T* dout, const T* x, T* dw,  \
                             int64_t c0, int64_t c1, int64_t prev_images, T* scratch);

}  // namespace pycnn::cpu
