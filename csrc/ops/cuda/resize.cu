// Adaptive pooling, pixel (un)shuffle, interpolation and max unpooling on a GPU: one thread per output
// element (forward) or per input element (backward, a gather: deterministic). Bodies: ops/cuda/pool_bodies.h;
// layouts as the cpu:: kernels: x (planes, H, W) contiguous, y (planes, OH, OW).
#include <limits>  // defines: std::numeric_limits

#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/launch.cuh"
#include "pycnn/ops/cuda/pool_bodies.h"

namespace pycnn::cuda {

using namespace pool_bodies;

template <typename T>
void adaptive_avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  for_each(planes * OH * OW, AdaptiveAvgForward<T>{x, y, H, W, OH, OW}, "adaptive_avg_pool2d");
}

template <typename T>
void adaptive_avg_pool2d_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  for_each(planes * H * W, AdaptiveAvgBackward<T>{dout, dx, H, W, OH, OW}, "adaptive_avg_pool2d_backward");
}

template <typename T>
void adaptive_max_pool2d_forward(const T* x, T* y, int64_t* indices, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                 int64_t OW) {
  for_each(planes * OH * OW, AdaptiveMaxForward<T>{x, y, indices, H, W, OH, OW}, "adaptive_max_pool2d");
}

template <typename T>
void pixel_shuffle(const T* src, T* dst, int64_t outer, int64_t C, int64_t H, int64_t W, int64_t r, bool inverse) {
  for_each(outer * C * H * W * r * r, PixelShuffle<T>{src, dst, C, H, W, r, inverse},
           inverse ? "pixel_unshuffle" : "pixel_shuffle");
}

template <typename T>
void interpolate_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                         const InterpolateArgs& a) {
  for_each(planes * OH * OW, InterpForward<T>{x, y, H, W, OH, OW, a}, "interpolate");
}

template <typename T>
void interpolate_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                          const InterpolateArgs& a) {
  for_each(planes * H * W, InterpBackward<T>{dout, dx, H, W, OH, OW, a}, "interpolate_backward");
}

// Claim, then resolve (see UnpoolClaim): deterministic, and a repeated index keeps the last value as on the CPU.
template <typename T>
void max_unpool2d_forward(const T* x, const int64_t* indices, T* y, int64_t planes, int64_t HW, int64_t OHW) {
  // a slot holds a plane-local input position in an int as wide as T: a float plane must fit in 32 bits
  PYCNN_CHECK(HW - 1 <= static_cast<int64_t>(std::numeric_limits<UnpoolSlot<T>>::max()),
              "[max_unpool2d] CUDA kernel takes input planes of at most 2^31 elements for float32, got ", HW);
  auto* slots = reinterpret_cast<UnpoolSlot<T>*>(y);
  for_each(planes * OHW, UnpoolSlotsInit<T>{slots}, "max_unpool2d");
  for_each(planes * HW, UnpoolClaim<T>{indices, slots, HW, OHW}, "max_unpool2d");
  for_each(planes * OHW, UnpoolResolve<T>{x, y, HW, OHW}, "max_unpool2d");
}

template <typename T>
void max_unpool2d_backward(const T* dout, const int64_t* indices, T* dx, int64_t planes, int64_t HW, int64_t OHW) {
  for_each(planes * HW, UnpoolGather<T>{dout, indices, dx, HW, OHW}, "max_unpool2d_backward");
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

}  // namespace pycnn::cuda
