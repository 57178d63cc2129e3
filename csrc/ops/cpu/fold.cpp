// CPU unfold (im2col) and fold (col2im) over a whole batch: x (N*C, H, W) is one image of N*C channels, so
// the column matrix (N*C*KH*KW, L) is exactly unfold's (N, C*KH*KW, L). Both are conv2d.cpp's kernels;
// threads take whole channels (fold's overlaps stay within a channel, so they never write the same pixel).
#include <algorithm>  // defines: std::max

#include "pycnn/core/parallel.h"  // defines: parallel_for
#include "pycnn/ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

namespace {
// Channels per chunk: about 32K column entries each, so small inputs stay on one thread.
int64_t channel_grain(const Conv2dGeometry& g) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, g.KH * g.KW * g.P));
}
}  // namespace

template <typename T>
void unfold_forward(const T* x, T* col, const Conv2dGeometry& g) {
  if (g.P == 0) return;
  parallel_for(g.C, channel_grain(g), [&](int64_t c0, int64_t c1) { im2col_channels(x, col, g, c0, c1, g.P); });
}

template <typename T>
void fold_forward(const T* col, T* x, const Conv2dGeometry& g) {
  parallel_for(g.C, channel_grain(g), [&](int64_t c0, int64_t c1) { col2im_channels(col, x, g, c0, c1, g.P); });
}

#define PYCNN_INSTANTIATE_FOLD(T)                                       \
  template void unfold_forward<T>(const T*, T*, const Conv2dGeometry&); \
  template void fold_forward<T>(const T*, T*, const Conv2dGeometry&);
PYCNN_FOR_EACH_FLOAT_TYPE(PYCNN_INSTANTIATE_FOLD)

}  // namespace pycnn::cpu
