// Walking strided tensors row by row: the shared loop of every kernel that takes views (copy_, broadcast
// arithmetic). A "row" is one run of the innermost dim; threads split the rows.
#pragma once
#include <algorithm>
#include <array>
#include <vector>

#include "pycnn/core/parallel.h"
#include "pycnn/core/tensor.h"

namespace pycnn::cpu {

// The same K views with adjacent dims merged wherever every view steps over the outer one exactly
// (stride[d] == stride[d + 1] * shape[d + 1]) and size-1 dims dropped: a contiguous tensor, or one
// broadcast to a contiguous one (a sum's gradient: stride 0 everywhere), becomes one long row.
template <size_t K>
struct MergedViews {
  Shape shape;
  std::array<Shape, K> strides;
};

template <size_t K>
MergedViews<K> merge_dims(const Shape& shape, const std::array<const Shape*, K>& strides) {
  MergedViews<K> m;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !m.shape.empty();
    for (size_t t = 0; t < K && merge; ++t) merge = m.strides[t].back() == (*strides[t])[d] * shape[d];
    if (merge) {
      m.shape.back() *= shape[d];
      for (size_t t = 0; t < K; ++t) m.strides[t].back() = (*strides[t])[d];
      continue;
    }
    m.shape.push_back(shape[d]);
    for (size_t t = 0; t < K; ++t) m.strides[t].push_back((*strides[t])[d]);
  }
  return m;
}

// Calls row(r, off) for every row r of `shape` (all dims but the last), off[t] being the element offset
// of that row in tensor t (strides[t]). Each thread decodes its first row's multi-index once, then steps.
template <size_t K, typename F>
void for_each_row(const Shape& shape, const std::array<const Shape*, K>& strides, int64_t grain, const F& row) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t inner = rank ? shape[rank - 1] : 1;
  const int64_t rows = inner ? shape_numel(shape) / inner : 0;
  parallel_for(rows, std::max<int64_t>(1, grain / std::max<int64_t>(inner, 1)), [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> idx(std::max<int64_t>(rank - 1, 0), 0);
    int64_t rem = r0;
    for (int64_t d = rank - 2; d >= 0; --d) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
    }
    std::array<int64_t, K> off;
    for (int64_t r = r0; r < r1; ++r) {
      for (size_t t = 0; t < K; ++t) {
        off[t] = 0;
        for (int64_t d = 0; d < rank - 1; ++d) off[t] += idx[d] * (*strides[t])[d];
      }
      row(r, off);
      for (int64_t d = rank - 2; d >= 0; --d) {  // advance the multi-index
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
  });
}

}  // namespace pycnn::cpu
