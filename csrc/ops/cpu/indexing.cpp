// CPU kernels of the indexing ops (ops/indexing.cpp): gather / scatter along a dim, embedding lookup and its
// gradient, one_hot. Indices arrive validated (in range). Every kernel is deterministic: work is split between
// threads only where no two threads write one element, and each element's updates run in index order.
#include <algorithm>
#include <cmath>
#include <type_traits>  // defines: std::is_same_v
#include <vector>

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

namespace {

// Calls f(index_base, self_base, src_base, k0, k1) for pieces [k0, k1) of every line along g.dim (the
// offsets are those of the line's first element), pieces split between threads. A line is cut into pieces of
// `piece` items (K: whole lines, for scatter, whose repeated indices within a line must apply in order).
// A line's coordinates off dim are decoded once per piece, so the inner loop is a plain stride.
template <typename F>
void for_each_line(const IndexGeometry& g, int64_t piece, const F& f) {
  const int64_t rank = static_cast<int64_t>(g.shape.size());
  const int64_t K = g.shape[g.dim];
  int64_t lines = 1;
  for (int64_t d = 0; d < rank; ++d)
    if (d != g.dim) lines *= g.shape[d];
  if (K == 0 || lines == 0) return;
  piece = std::min(std::max<int64_t>(piece, 1), K);
  const int64_t pieces = (K + piece - 1) / piece;
  parallel_for(lines * pieces, std::max<int64_t>(1, 4096 / piece), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t p = t % pieces;
      int64_t rest = t / pieces, io = 0, so = 0, ro = 0;
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (d == g.dim) continue;
        const int64_t c = rest % g.shape[d];
        rest /= g.shape[d];
        io += c * g.index_strides[d];
        so += c * g.self_strides[d];
        ro += c * g.src_strides[d];
      }
      f(io, so, ro, p * piece, std::min(K, (p + 1) * piece));
    }
  });
}

// The reductions of scatter; on bool, add is "or" and multiply "and" (as torch), which also keeps the
// compiler from warning about arithmetic in a bool context.
template <typename T>
T add(T a, T b) {
  if constexpr (std::is_same_v<T, bool>)
    return a || b;
  else
    return static_cast<T>(a + b);
}
template <typename T>
T mul(T a, T b) {
  if constexpr (std::is_same_v<T, bool>)
    return a && b;
  else
    return static_cast<T>(a * b);
}

}  // namespace

// out (index's shape) [p] = self[p with p[dim] = index[p]]
template <typename T>
void gather(const T* self, const int64_t* index, T* out, const IndexGeometry& g) {
  const int64_t is = g.index_strides[g.dim], ss = g.self_strides[g.dim], os = g.src_strides[g.dim];
  // every output element is written once: long lines may be cut between threads too
  for_each_line(g, 4096, [&](int64_t io, int64_t so, int64_t oo, int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) out[oo + k * os] = self[so + index[io + k * is] * ss];
  });
}

// self[p with p[dim] = index[p]] (op)= src[p]; a line's k loop is serial, so repeated indices apply in order
template <typename T>
void scatter(T* self, const int64_t* index, const T* src, ScatterReduce reduce, const IndexGeometry& g) {
  const int64_t K = g.shape[g.dim];
  const int64_t is = g.index_strides[g.dim], ss = g.self_strides[g.dim], rs = g.src_strides[g.dim];
  for_each_line(g, K, [&](int64_t io, int64_t so, int64_t ro, int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      T& dst = self[so + index[io + k * is] * ss];
      const T v = src[ro + k * rs];
      switch (reduce) {
        case ScatterReduce::None: dst = v; break;
        case ScatterReduce::Add: dst = add(dst, v); break;
        case ScatterReduce::Multiply: dst = mul(dst, v); break;
      }
    }
  });
}

template <typename T>
void embedding_forward(const T* weight, int64_t ws0, int64_t ws1, const int64_t* indices, T* out, int64_t n,
                       int64_t D) {
  parallel_for(n, std::max<int64_t>(1, 4096 / std::max<int64_t>(D, 1)), [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T* row = weight + indices[i] * ws0;
      for (int64_t j = 0; j < D; ++j) out[i * D + j] = row[j * ws1];
    }
  });
}

// The rows are sorted by index first (a stable counting sort: for row v, order[start[v]..start[v+1]) lists
// the positions i with indices[i] == v, ascending); each thread then owns whole rows of dweight and sums
// their dout rows in that order: no atomics, and the same sums on every run and thread count.
template <typename T>
void embedding_backward(const T* dout, const int64_t* indices, T* dweight, int64_t n, int64_t V, int64_t D,
                        int64_t padding_idx, bool scale_grad_by_freq) {
  std::vector<int64_t> start(V + 1, 0), order(n);
  for (int64_t i = 0; i < n; ++i) ++start[indices[i] + 1];
  for (int64_t v = 0; v < V; ++v) start[v + 1] += start[v];
  std::vector<int64_t> next(start.begin(), start.end() - 1);
  for (int64_t i = 0; i < n; ++i) order[next[indices[i]]++] = i;
  const int64_t* sp = start.data();
  const int64_t* op = order.data();
  parallel_for(V, std::max<int64_t>(1, 4096 / std::max<int64_t>(D, 1)), [=](int64_t v0, int64_t v1) {
    for (int64_t v = v0; v < v1; ++v) {
      if (v == padding_idx || sp[v] == sp[v + 1]) continue;
      T* dst = dweight + v * D;
      for (int64_t p = sp[v]; p < sp[v + 1]; ++p) {
        const T* src = dout + op[p] * D;
        for (int64_t j = 0; j < D; ++j) dst[j] += src[j];
      }
      if (scale_grad_by_freq) {
        const T count = static_cast<T>(sp[v + 1] - sp[v]);
        for (int64_t j = 0; j < D; ++j) dst[j] /= count;
      }
    }
  });
}

// Each named row once (a repeated index must not scale its row twice), rows split between threads.
template <typename T>
void embedding_renorm(T* weight, int64_t ws0, int64_t ws1, const int64_t* indices, int64_t n, int64_t V, int64_t D,
                      double max_norm, double norm_type) {
  std::vector<char> seen(V, 0);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i)
    if (!seen[indices[i]]) seen[indices[i]] = 1, rows.push_back(indices[i]);
  const int64_t* rp = rows.data();
  parallel_for(static_cast<int64_t>(rows.size()), std::max<int64_t>(1, 4096 / std::max<int64_t>(D, 1)),
               [=](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   T* row = weight + rp[r] * ws0;
                   double norm = 0;
                   if (std::isinf(norm_type)) {
                     for (int64_t j = 0; j < D; ++j) norm = std::max(norm, std::abs(double(row[j * ws1])));
                   } else if (norm_type == 0) {
                     for (int64_t j = 0; j < D; ++j) norm += row[j * ws1] != T(0);
                   } else {
                     for (int64_t j = 0; j < D; ++j) norm += std::pow(std::abs(double(row[j * ws1])), norm_type);
                     norm = std::pow(norm, 1.0 / norm_type);
                   }
                   if (norm > max_norm) {
                     const T scale = static_cast<T>(max_norm / (norm + 1e-7));
                     for (int64_t j = 0; j < D; ++j) row[j * ws1] *= scale;
                   }
                 }
               });
}

void one_hot(const int64_t* indices, int64_t* out, int64_t n, int64_t C) {
  parallel_for(n, 16384, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i * C + indices[i]] = 1;
  });
}

#define PYCNN_INDEXING_ALL(T)                                                                  \
  template void gather<T>(const T*, const int64_t*, T*, const IndexGeometry&);                 \
  template void scatter<T>(T*, const int64_t*, const T*, ScatterReduce, const IndexGeometry&); \
  template void embedding_forward<T>(const T*, int64_t, int64_t, const int64_t*, T*, int64_t, int64_t);
#define PYCNN_INDEXING_FLOAT(T)                                                                                \
  template void embedding_backward<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t, bool); \
  template void embedding_renorm<T>(T*, int64_t, int64_t, const int64_t*, int64_t, int64_t, int64_t, double, double);
PYCNN_FOR_EACH_VALUE_TYPE(PYCNN_INDEXING_ALL)
PYCNN_FOR_EACH_FLOAT_TYPE(PYCNN_INDEXING_FLOAT)

}  // namespace pycnn::cpu
