// CPU kernels of the tensor operations (ops/tensor_ops.cpp). Layouts: (A, N, B) is a contiguous tensor
// seen around the dim an op works on (A outer elements, N along the dim, B inner). Every kernel is
// deterministic: scatters run their index loop in order inside one thread.
#include <algorithm>
#include <cmath>

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"

namespace pycnn::cpu {

// x (A, N, B), index (K,) in [-N, N) -> out (A, K, B)
template <typename T>
void index_select_anb(const T* x, const int64_t* index, T* out, int64_t A, int64_t N, int64_t K, int64_t B) {
  parallel_for(A * K, std::max<int64_t>(1, 4096 / std::max<int64_t>(B, 1)), [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t a = i / K, k = i % K;
      const int64_t n = index[k] < 0 ? index[k] + N : index[k];
      const T* src = x + (a * N + n) * B;
      T* dst = out + i * B;
      for (int64_t b = 0; b < B; ++b) dst[b] = src[b];
    }
  });
}

// dx (A, N, B) zeroed; dx[a, index[k], :] += dout[a, k, :]. Repeated indices accumulate, so the k loop
// stays serial per a (threads split a only).
template <typename T>
void index_add_anb(const T* dout, const int64_t* index, T* dx, int64_t A, int64_t N, int64_t K, int64_t B) {
  parallel_for(A, 1, [=](int64_t a0, int64_t a1) {
    for (int64_t a = a0; a < a1; ++a) {
      for (int64_t k = 0; k < K; ++k) {
        const int64_t n = index[k] < 0 ? index[k] + N : index[k];
        const T* src = dout + (a * K + k) * B;
        T* dst = dx + (a * N + n) * B;
        for (int64_t b = 0; b < B; ++b) dst[b] += src[b];
      }
    }
  });
}

// out gets x[i] for each i with mask[i] != 0, in order (serial: the output position is a running count)
template <typename T>
void masked_select(const T* x, const bool* mask, T* out, int64_t n) {
  int64_t j = 0;
  for (int64_t i = 0; i < n; ++i)
    if (mask[i]) out[j++] = x[i];
}

template <typename T>
void masked_scatter(const T* src, const bool* mask, T* dx, int64_t n) {
  int64_t j = 0;
  for (int64_t i = 0; i < n; ++i)
    if (mask[i]) dx[i] = src[j++];
}

// x (A, R, B) -> values, indices (A, B): the first max (min) along R; NaN wins, as in torch.
template <typename T>
void minmax_arb(const T* x, T* values, int64_t* indices, int64_t A, int64_t R, int64_t B, bool is_min) {
  parallel_for(A * B, 1024, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t a = i / B, b = i % B;
      const T* p = x + a * R * B + b;
      int64_t best = 0;
      T best_v = p[0];
      for (int64_t r = 1; r < R && !std::isnan(best_v); ++r) {
        const T v = p[r * B];
        if ((is_min ? v < best_v : v > best_v) || std::isnan(v)) {
          best_v = v;
          best = r;
        }
      }
      values[i] = best_v;
      indices[i] = best;
    }
  });
}

// dx (A, R, B) zeroed; dx[a, indices[a, b], b] = dout[a, b]
template <typename T>
void scatter_arb(const T* dout, const int64_t* indices, T* dx, int64_t A, int64_t R, int64_t B) {
  parallel_for(A * B, 4096, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t a = i / B, b = i % B;
      dx[(a * R + indices[i]) * B + b] = dout[i];
    }
  });
}

// a, b, out have n elements
template <typename T>
void compare(CompareOp op, const T* a, const T* b, bool* out, int64_t n) {
  parallel_for(n, 16384, [=](int64_t i0, int64_t i1) {
    switch (op) {  // one branch per call, not per element
      case CompareOp::Gt:
        for (int64_t i = i0; i < i1; ++i) out[i] = a[i] > b[i];
        break;
      case CompareOp::Lt:
        for (int64_t i = i0; i < i1; ++i) out[i] = a[i] < b[i];
        break;
      case CompareOp::Ge:
        for (int64_t i = i0; i < i1; ++i) out[i] = a[i] >= b[i];
        break;
      case CompareOp::Le:
        for (int64_t i = i0; i < i1; ++i) out[i] = a[i] <= b[i];
        break;
      case CompareOp::Eq:
        for (int64_t i = i0; i < i1; ++i) out[i] = a[i] == b[i];
        break;
      case CompareOp::Ne:
        for (int64_t i = i0; i < i1; ++i) out[i] = a[i] != b[i];
        break;
    }
  });
}

template <typename T>
void where(const bool* cond, const T* a, const T* b, T* out, int64_t n) {
  parallel_for(n, 16384, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = cond[i] ? a[i] : b[i];
  });
}

// da = cond ? dout : 0, db = cond ? 0 : dout (before the broadcast dims are summed away)
template <typename T>
void where_grad(const bool* cond, const T* dout, T* da, T* db, int64_t n) {
  parallel_for(n, 16384, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      da[i] = cond[i] ? dout[i] : T(0);
      db[i] = cond[i] ? T(0) : dout[i];
    }
  });
}

// out = max(a, b) (is_min: min); NaN propagates from either side, as torch.maximum does
template <typename T>
void maximum(const T* a, const T* b, T* out, int64_t n, bool is_min) {
  parallel_for(n, 16384, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T x = a[i], y = b[i];
      const T pick = (is_min ? x < y : x > y) ? x : y;
      out[i] = (x != x || y != y) ? x + y : pick;  // x + y is NaN when either is
    }
  });
}

// da = dout where a wins, db where b wins, dout / 2 each on a tie
template <typename T>
void maximum_grad(const T* a, const T* b, const T* dout, T* da, T* db, int64_t n, bool is_min) {
  parallel_for(n, 16384, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T x = a[i], y = b[i];
      const T wa = x == y ? T(0.5) : T((is_min ? x < y : x > y) ? 1 : 0);
      da[i] = dout[i] * wa;
      db[i] = dout[i] * (x == y ? T(0.5) : T(1) - wa);
    }
  });
}

#define PYCNN_TENSOR_OPS_ALL(T)                                                                        \
  template void index_select_anb<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t); \
  template void masked_select<T>(const T*, const bool*, T*, int64_t);                                  \
  template void compare<T>(CompareOp, const T*, const T*, bool*, int64_t);                             \
  template void where<T>(const bool*, const T*, const T*, T*, int64_t);                                \
  template void minmax_arb<T>(const T*, T*, int64_t*, int64_t, int64_t, int64_t, bool);
#define PYCNN_TENSOR_OPS_FLOAT(T)                                                                   \
  template void index_add_anb<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t); \
  template void masked_scatter<T>(const T*, const bool*, T*, int64_t);                              \
  template void scatter_arb<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t);            \
  template void where_grad<T>(const bool*, const T*, T*, T*, int64_t);                              \
  template void maximum<T>(const T*, const T*, T*, int64_t, bool);                                  \
  template void maximum_grad<T>(const T*, const T*, const T*, T*, T*, int64_t, bool);
PYCNN_FOR_EACH_VALUE_TYPE(PYCNN_TENSOR_OPS_ALL)
PYCNN_TENSOR_OPS_FLOAT(float)
PYCNN_TENSOR_OPS_FLOAT(double)
#undef PYCNN_TENSOR_OPS_ALL
#undef PYCNN_TENSOR_OPS_FLOAT

}  // namespace pycnn::cpu
