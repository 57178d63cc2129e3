// CUDA kernels of the convolution family's own pieces (the convolutions themselves are conv2d.cu's):
// non-constant padding through row and column maps built on the device (forward a copy, backward a gather,
// so deterministic without atomics), and transposed convolution's channel bias. Bodies in conv_bodies.h.
#include <type_traits>

#include "pycnn/ops/cuda/conv_bodies.h"  // defines: PadIndexMap, PadForward, PadBackward, AddChannelBias
#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/launch.cuh"  // defines: for_each

namespace pycnn::cuda {

template <typename I>
void pad_index_map(I* map, int64_t n, int64_t lo, int64_t out, PadMode mode) {
  static_assert(std::is_same_v<I, int64_t>, "the maps are int64");
  for_each(out, PadIndexMap{map, n, lo, mode}, "pad");
}

template <typename T>
void pad_index_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                       const int64_t* mh, const int64_t* mw) {
  for_each(planes * OH * OW, PadForward<T>{{H, W, OH, OW, mh, mw}, x, y}, "pad");
}

template <typename T>
void pad_index_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                        const int64_t* mh, const int64_t* mw) {
  for_each(planes * H * W, PadBackward<T>{{H, W, OH, OW, mh, mw}, dout, dx}, "pad_backward");
}

template <typename T>
void add_channel_bias(T* y, const T* b, int64_t N, int64_t C, int64_t HW) {
  for_each(N * C * HW, AddChannelBias<T>{y, b, C, HW}, "conv_transpose2d");
}

#define PYCNN_INSTANTIATE_CONVS(T)                                                                               \
  template void add_channel_bias<T>(T*, const T*, int64_t, int64_t, int64_t);                                    \
  template void pad_index_forward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, const int64_t*,  \
                                     const int64_t*);                                                            \
  template void pad_index_backward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, const int64_t*, \
                                      const int64_t*);
template void pad_index_map<int64_t>(int64_t*, int64_t, int64_t, int64_t, PadMode);
PYCNN_INSTANTIATE_CONVS(float)
PYCNN_INSTANTIATE_CONVS(double)

}  // namespace pycnn::cuda
