// Strided copy with dtype conversion, and fill. The copy walks the destination row by row
// (strided.h); the innermost dim is a plain strided loop (contiguous when it matters most: clone() of a
// transposed view, expand() for broadcasting).
#include <cstring>
#include <type_traits>  // defines: std::is_same_v

#include "core/parallel.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/strided.h"

namespace pycnn::cpu {

template <typename D, typename S>
void copy_strided(D* dst, const S* src, const StridedViews& v) {
  const Shape& shape = *v.shape;
  const Shape& dst_strides = *v.strides[0];
  const Shape& src_strides = *v.strides[1];
  const int64_t n = shape_numel(shape);
  if (n == 0) return;
  if constexpr (std::is_same_v<D, S>) {
    if (is_contiguous(shape, dst_strides) && is_contiguous(shape, src_strides)) {
      std::memcpy(dst, src, n * sizeof(D));
      return;
    }
  }
  const int64_t rank = static_cast<int64_t>(shape.size());
  if (rank == 0) {
    *dst = static_cast<D>(*src);
    return;
  }
  const int64_t inner = shape[rank - 1];
  const int64_t ds = dst_strides[rank - 1], ss = src_strides[rank - 1];
  for_each_row<2>(shape, v.strides, 32768, [&](int64_t, const auto& off) {
    D* o = dst + off[0];
    const S* s = src + off[1];
    if (ds == 1 && ss == 1) {
      for (int64_t i = 0; i < inner; ++i) o[i] = static_cast<D>(s[i]);
    } else {
      for (int64_t i = 0; i < inner; ++i) o[i * ds] = static_cast<D>(s[i * ss]);
    }
  });
}

template <typename T>
void fill(T* dst, int64_t n, T value) {
  parallel_for(n, 65536, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dst[i] = value;
  });
}

#define PYCNN_INSTANTIATE_COPY(D)                                                  \
  template void copy_strided<D, float>(D*, const float*, const StridedViews&);     \
  template void copy_strided<D, double>(D*, const double*, const StridedViews&);   \
  template void copy_strided<D, int64_t>(D*, const int64_t*, const StridedViews&); \
  template void fill<D>(D*, int64_t, D);
PYCNN_INSTANTIATE_COPY(float)
PYCNN_INSTANTIATE_COPY(double)
PYCNN_INSTANTIATE_COPY(int64_t)

}  // namespace pycnn::cpu
