// Max and average pooling on a GPU: one thread per output (forward) or per input element (average
// backward, a gather: deterministic with overlapping windows). The bodies are in ops/cuda/pool_bodies.h.
// x is (planes, H, W) contiguous, y (planes, OH, OW), as for the cpu:: kernels.
#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/launch.cuh"
#include "pycnn/ops/cuda/pool_bodies.h"

namespace pycnn::cuda {

using namespace pool_bodies;

template <typename T>
void max_pool2d_forward(const T* x, T* y, int64_t* indices, int64_t planes, int64_t H, int64_t W, int64_t OH,
                        int64_t OW, const Pool2dArgs& a) {
  for_each(planes * OH * OW, MaxPoolForward<T>{x, y, indices, H, W, OH, OW, a}, "max_pool2d");
}

// The indices carry no window geometry, so no gather over windows: ordered runs (see MaxPoolBackwardRuns).
// Also serves adaptive_max_pool2d_backward.
template <typename T>
void max_pool2d_backward(const T* dout, const int64_t* indices, T* dx, int64_t planes, int64_t HW, int64_t OHW) {
  fill<T>(dx, planes * HW, T(0));
  int64_t chunks, chunk;
  max_pool_backward_runs(planes, HW, chunks, chunk);
  for_each(planes * chunks, MaxPoolBackwardRuns<T>{dout, indices, dx, HW, OHW, chunks, chunk}, "max_pool2d_backward");
}

template <typename T>
void avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                        const Pool2dArgs& a) {
  for_each(planes * OH * OW, AvgPoolForward<T>{x, y, H, W, OH, OW, a}, "avg_pool2d");
}

template <typename T>
void avg_pool2d_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                         const Pool2dArgs& a) {
  for_each(planes * H * W, AvgPoolBackward<T>{dout, dx, H, W, OH, OW, a}, "avg_pool2d_backward");
}

#define PYCNN_INSTANTIATE_POOL(T)                                                                                    \
  template void max_pool2d_forward<T>(const T*, T*, int64_t*, int64_t, int64_t, int64_t, int64_t, int64_t,           \
                                      const Pool2dArgs&);                                                            \
  template void max_pool2d_backward<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t);                     \
  template void avg_pool2d_forward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, const Pool2dArgs&); \
  template void avg_pool2d_backward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, const Pool2dArgs&);
PYCNN_INSTANTIATE_POOL(float)
PYCNN_INSTANTIATE_POOL(double)

}  // namespace pycnn::cuda
