// Strided copy with dtype conversion, and fill. The copy walks the destination row by row
// (strided.h); the innermost dim is a plain strided loop (contiguous when it matters most: clone() of a
// transposed view, expand() for broadcasting).
#include <cstring>
#include <type_traits>  // defines: std::is_same_v

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/cpu/strided.h"

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
  // Merged dims: an expand()ed scalar (a sum's gradient) is one row, not a row per innermost run.
  const MergedViews<2> m = merge_dims<2>(shape, v.strides);
  const int64_t rank = static_cast<int64_t>(m.shape.size());
  if (rank == 0) {
    *dst = convert_value<D>(*src);
    return;
  }
  const int64_t ds = m.strides[0][rank - 1], ss = m.strides[1][rank - 1];
  auto copy_run = [&](D* o, const S* s, int64_t len) {
    if (ds == 1 && ss == 1) {
      for (int64_t i = 0; i < len; ++i) o[i] = convert_value<D>(s[i]);
    } else if (ds == 1 && ss == 0) {
      const D value = convert_value<D>(*s);
      for (int64_t i = 0; i < len; ++i) o[i] = value;
    } else {
      for (int64_t i = 0; i < len; ++i) o[i * ds] = convert_value<D>(s[i * ss]);
    }
  };
  if (rank == 1) {  // one row: threads split it
    parallel_for(n, 32768, [&](int64_t b, int64_t e) { copy_run(dst + b * ds, src + b * ss, e - b); });
    return;
  }
  const int64_t inner = m.shape[rank - 1];
  for_each_row<2>(m.shape, {&m.strides[0], &m.strides[1]}, 32768,
                  [&](int64_t, const auto& off) { copy_run(dst + off[0], src + off[1], inner); });
}

template <typename T>
void fill(T* dst, int64_t n, T value) {
  parallel_for(n, 65536, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dst[i] = value;
  });
}

// Every pair of dtypes (copy_ converts), and fill for each.
#define PYCNN_COPY_FROM(S, D) template void copy_strided<D, S>(D*, const S*, const StridedViews&);
#define PYCNN_COPY_TO(D)                              \
  PYCNN_FOR_EACH_STORAGE_TYPE_ARG(PYCNN_COPY_FROM, D) \
  template void fill<D>(D*, int64_t, D);
PYCNN_FOR_EACH_STORAGE_TYPE(PYCNN_COPY_TO)
#undef PYCNN_COPY_TO
#undef PYCNN_COPY_FROM

}  // namespace pycnn::cpu
