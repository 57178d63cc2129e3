// CPU kernels of sorting, selection and scans (ops/sort.cpp). Layouts: (A, N, B) is a contiguous tensor seen
// around the dim an op works on (A outer, N along the dim, B inner); a "row" is one (a, b) pair, N elements
// B apart. Rows are independent, so threads split rows. Order: NaN is the largest value (torch's), and equal
// values keep their positions, so every sort is stable and the results never depend on the thread count.
#include <algorithm>  // defines: std::sort, std::nth_element
#include <cmath>      // defines: std::isnan
#include <type_traits>
#include <utility>  // defines: std::pair
#include <vector>

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

namespace {

template <typename T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>)
    return std::isnan(v);
  else
    return false;
}

// a < b in the total order where NaN is above everything (and NaNs are equivalent to each other)
template <typename T>
bool nan_last_less(T a, T b) {
  return !is_nan(a) && (is_nan(b) || a < b);
}

// Sums and products run in double for floats; integers in uint64_t, which wraps (as torch's int64 does) where
// int64_t overflow would be undefined.
template <typename T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;

// The order of (value, position) pairs: by value, ascending or descending, ties by position (a strict weak
// order with no equivalent pairs, so std::sort gives the stable result).
template <typename T, bool Descending>
struct PairOrder {
  bool operator()(const std::pair<T, int64_t>& p, const std::pair<T, int64_t>& q) const {
    if (Descending ? nan_last_less(q.first, p.first) : nan_last_less(p.first, q.first)) return true;
    if (Descending ? nan_last_less(p.first, q.first) : nan_last_less(q.first, p.first)) return false;
    return p.second < q.second;
  }
};

template <typename T, bool Descending>
void sort_rows(const T* x, T* values, int64_t* indices, int64_t A, int64_t N, int64_t B, int64_t K) {
  parallel_for(A * B, std::max<int64_t>(1, 4096 / std::max<int64_t>(N, 1)), [=](int64_t i0, int64_t i1) {
    std::vector<std::pair<T, int64_t>> row(N);  // one buffer per chunk, reused by its rows
    const PairOrder<T, Descending> order;
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t a = i / B, b = i % B;
      const T* src = x + a * N * B + b;
      for (int64_t n = 0; n < N; ++n) row[n] = {src[n * B], n};
      if (K < N) {  // selection: the K first in order, then only those sorted
        std::nth_element(row.begin(), row.begin() + K, row.end(), order);
      }
      std::sort(row.begin(), row.begin() + K, order);
      T* v = values + a * K * B + b;
      int64_t* idx = indices + a * K * B + b;
      for (int64_t k = 0; k < K; ++k) {
        v[k * B] = row[k].first;
        idx[k * B] = row[k].second;
      }
    }
  });
}

}  // namespace

template <typename T>
void sort_anb(const T* x, T* values, int64_t* indices, int64_t A, int64_t N, int64_t B, int64_t K, bool descending) {
  if (descending)
    sort_rows<T, true>(x, values, indices, A, N, B, K);
  else
    sort_rows<T, false>(x, values, indices, A, N, B, K);
}

// Each row's indices are distinct (a sort's or topk's), so the writes never collide.
template <typename T>
void scatter_anb(const T* dout, const int64_t* indices, T* dx, int64_t A, int64_t K, int64_t N, int64_t B) {
  parallel_for(A * K * B, 16384, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t a = i / (K * B), b = i % B;
      dx[(a * N + indices[i]) * B + b] = dout[i];
    }
  });
}

// The B columns of one a are cut in blocks of kBlock running sums, so that both a long last dim (B = 1, rows in
// parallel) and a scan over an outer dim (A = 1, columns in parallel) use every thread.
template <typename T>
void cumsum_anb(const T* x, T* out, int64_t A, int64_t N, int64_t B, bool reverse) {
  constexpr int64_t kBlock = 256;
  const int64_t nblocks = (B + kBlock - 1) / kBlock;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(N * std::min(B, kBlock), 1));
  parallel_for(A * nblocks, grain, [=](int64_t t0, int64_t t1) {
    Acc<T> acc[kBlock];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t a = t / nblocks, b0 = (t % nblocks) * kBlock, nb = std::min(kBlock, B - b0);
      for (int64_t j = 0; j < nb; ++j) acc[j] = 0;
      for (int64_t step = 0; step < N; ++step) {
        const int64_t off = (a * N + (reverse ? N - 1 - step : step)) * B + b0;
        for (int64_t j = 0; j < nb; ++j) {
          acc[j] += static_cast<Acc<T>>(x[off + j]);
          out[off + j] = static_cast<T>(acc[j]);
        }
      }
    }
  });
}

template <typename T>
void prod_arb(const T* x, T* out, int64_t A, int64_t R, int64_t B) {
  constexpr int64_t kBlock = 256;
  const int64_t nblocks = (B + kBlock - 1) / kBlock;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(R * std::min(B, kBlock), 1));
  parallel_for(A * nblocks, grain, [=](int64_t t0, int64_t t1) {
    Acc<T> acc[kBlock];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t a = t / nblocks, b0 = (t % nblocks) * kBlock, nb = std::min(kBlock, B - b0);
      for (int64_t j = 0; j < nb; ++j) acc[j] = 1;
      for (int64_t r = 0; r < R; ++r) {
        const T* row = x + (a * R + r) * B + b0;
        for (int64_t j = 0; j < nb; ++j) acc[j] *= static_cast<Acc<T>>(row[j]);
      }
      for (int64_t j = 0; j < nb; ++j) out[a * B + b0 + j] = static_cast<T>(acc[j]);
    }
  });
}

// d prod / d x[r] is the product of the other factors: the product of those before r times the product of
// those after r. Two passes build it (dx holds the prefix, then is multiplied by the suffix), with no division,
// so zeros in x (one or several) get their exact gradient.
template <typename T>
void prod_backward_arb(const T* x, const T* dout, T* dx, int64_t A, int64_t R, int64_t B) {
  constexpr int64_t kBlock = 256;
  const int64_t nblocks = (B + kBlock - 1) / kBlock;
  const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(R * std::min(B, kBlock), 1));
  parallel_for(A * nblocks, grain, [=](int64_t t0, int64_t t1) {
    double acc[kBlock];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t a = t / nblocks, b0 = (t % nblocks) * kBlock, nb = std::min(kBlock, B - b0);
      const int64_t base = a * R * B + b0;
      for (int64_t j = 0; j < nb; ++j) acc[j] = 1;
      for (int64_t r = 0; r < R; ++r) {  // dx[r] = x[0] * ... * x[r - 1]
        for (int64_t j = 0; j < nb; ++j) {
          dx[base + r * B + j] = static_cast<T>(acc[j]);
          acc[j] *= x[base + r * B + j];
        }
      }
      for (int64_t j = 0; j < nb; ++j) acc[j] = dout[a * B + b0 + j];
      for (int64_t r = R - 1; r >= 0; --r) {  // dx[r] *= dout * x[r + 1] * ... * x[R - 1]
        for (int64_t j = 0; j < nb; ++j) {
          dx[base + r * B + j] = static_cast<T>(dx[base + r * B + j] * acc[j]);
          acc[j] *= x[base + r * B + j];
        }
      }
    }
  });
}

// Serial: one sort of N row ids, compared lexicographically (M elements each), ties by id; rows with a NaN are
// never equal to another row (torch's rule), so each is a group of its own.
template <typename T>
int64_t unique_rows(const T* x, int64_t N, int64_t M, int64_t* first, int64_t* inverse, int64_t* counts) {
  std::vector<int64_t> ids(N);
  if (M == 1) {  // the flattened case: sorting (value, id) pairs reads no memory at random (twice as fast)
    std::vector<std::pair<T, int64_t>> pairs(N);
    for (int64_t n = 0; n < N; ++n) pairs[n] = {x[n], n};
    std::sort(pairs.begin(), pairs.end(), PairOrder<T, false>());
    for (int64_t n = 0; n < N; ++n) ids[n] = pairs[n].second;
  } else {
    for (int64_t n = 0; n < N; ++n) ids[n] = n;
    std::sort(ids.begin(), ids.end(), [=](int64_t p, int64_t q) {
      const T *rp = x + p * M, *rq = x + q * M;
      for (int64_t m = 0; m < M; ++m) {
        if (nan_last_less(rp[m], rq[m])) return true;
        if (nan_last_less(rq[m], rp[m])) return false;
      }
      return p < q;
    });
  }
  int64_t U = 0;
  for (int64_t s = 0; s < N; ++s) {
    const T* row = x + ids[s] * M;
    const T* prev = s > 0 ? x + ids[s - 1] * M : nullptr;
    bool same = prev != nullptr;
    for (int64_t m = 0; same && m < M; ++m) same = row[m] == prev[m];
    if (!same) {
      first[U] = ids[s];
      counts[U] = 0;
      ++U;
    }
    ++counts[U - 1];
    inverse[ids[s]] = U - 1;
  }
  return U;
}

// Non-zero elements in fixed chunks of `chunk` flat positions: counts per chunk first, then each chunk writes
// its coordinates from offsets[c] on, so the output is in row-major order for any thread count.
template <typename T>
void nonzero_counts(const T* x, int64_t n, int64_t chunk, int64_t* counts) {
  const int64_t nchunks = (n + chunk - 1) / chunk;
  parallel_for(nchunks, 1, [=](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      int64_t count = 0;
      for (int64_t i = c * chunk, end = std::min(n, (c + 1) * chunk); i < end; ++i) count += x[i] != T(0);
      counts[c] = count;
    }
  });
}

template <typename T>
void nonzero_coords(const T* x, int64_t n, int64_t chunk, const int64_t* offsets, const int64_t* shape, int64_t ndim,
                    int64_t* out) {
  const int64_t nchunks = (n + chunk - 1) / chunk;
  parallel_for(nchunks, 1, [=](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      int64_t* row = out + offsets[c] * ndim;
      for (int64_t i = c * chunk, end = std::min(n, (c + 1) * chunk); i < end; ++i) {
        if (!(x[i] != T(0))) continue;
        int64_t rest = i;
        for (int64_t d = ndim - 1; d >= 0; --d) {
          row[d] = rest % shape[d];
          rest /= shape[d];
        }
        row += ndim;
      }
    }
  });
}

#define PYCNN_SORT_ALL(T)                                                                      \
  template void sort_anb<T>(const T*, T*, int64_t*, int64_t, int64_t, int64_t, int64_t, bool); \
  template void cumsum_anb<T>(const T*, T*, int64_t, int64_t, int64_t, bool);                  \
  template void prod_arb<T>(const T*, T*, int64_t, int64_t, int64_t);                          \
  template int64_t unique_rows<T>(const T*, int64_t, int64_t, int64_t*, int64_t*, int64_t*);   \
  template void nonzero_counts<T>(const T*, int64_t, int64_t, int64_t*);                       \
  template void nonzero_coords<T>(const T*, int64_t, int64_t, const int64_t*, const int64_t*, int64_t, int64_t*);
#define PYCNN_SORT_FLOAT(T)                                                                       \
  template void scatter_anb<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t); \
  template void prod_backward_arb<T>(const T*, const T*, T*, int64_t, int64_t, int64_t);
PYCNN_FOR_EACH_VALUE_TYPE(PYCNN_SORT_ALL)
PYCNN_FOR_EACH_FLOAT_TYPE(PYCNN_SORT_FLOAT)
#undef PYCNN_SORT_ALL
#undef PYCNN_SORT_FLOAT

}  // namespace pycnn::cpu
