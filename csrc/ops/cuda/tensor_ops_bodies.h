// Per-element bodies of the CUDA tensor operations (ops/cuda/tensor_ops.cu), plain host/device code so
// that tests/cpp/test_cuda_pool.cpp runs each over its launch range on the CPU against the cpu:: kernel.
// Layouts as there: (A, N, B) / (A, R, B) are contiguous tensors seen around one dim; the elementwise ones
// take n-element contiguous (already broadcast) operands. Scatters are given one owner thread per output
// column, which then walks its sources in order: deterministic, and bitwise the CPU's order.
#pragma once
#include <cstdint>

#include "pycnn/core/host_device.h"  // defines: PYCNN_HD
#include "pycnn/ops/ops.h"           // defines: CompareOp

// Its own namespace: the kernels are instantiated per body type (for_each_kernel<Body>), so a body named
// like another family's (Where, Maximum, ...) in plain pycnn::cuda would be one symbol and the linker
// would keep only one of the two kernels.
namespace pycnn::cuda::tensor_ops_bodies {

// out (A, K, B) = x (A, N, B) at index (K,) in [-N, N) along the middle dim; one call per output element.
// An index outside [-N, N) (not checked on the host for a GPU tensor) gives 0 instead of reading outside x.
template <typename T>
struct IndexSelect {
  const T* x;
  const int64_t* index;
  T* out;
  int64_t N, K, B;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t b = i % B, k = (i / B) % K, a = i / (B * K);
    const int64_t n = index[k] < 0 ? index[k] + N : index[k];
    out[i] = n >= 0 && n < N ? x[(a * N + n) * B + b] : T(0);
  }
};

// dx (A, N, B), zeroed: dx[a, index[k], b] += dout[a, k, b]. The N rows are cut into `chunks` runs of
// `chunk`; one call per (run, a, b) walks k in order and adds the entries whose row falls in its run, so
// repeated indices accumulate without atomics and in the CPU's order (bitwise the same). Consecutive calls
// are consecutive b: coalesced, and reading the same index[k] at once. The last run may reach past N:
// an index outside [-N, N) (not checked on the host for a GPU tensor) is skipped.
template <typename T>
struct IndexAdd {
  const T* dout;
  const int64_t* index;
  T* dx;
  int64_t A, N, K, B, chunk;
  PYCNN_HD void operator()(int64_t t) const {
    const int64_t b = t % B, a = (t / B) % A, lo = (t / (B * A)) * chunk, hi = lo + chunk;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t n = index[k] < 0 ? index[k] + N : index[k];
      if (n >= lo && n < hi && n < N) dx[(a * N + n) * B + b] += dout[(a * K + k) * B + b];
    }
  }
};

// Runs of the N rows: enough calls to fill a GPU (about 2^17) when A*B alone does not.
inline void index_add_runs(int64_t columns, int64_t N, int64_t& chunks, int64_t& chunk) {
  const int64_t want = (int64_t(1) << 17) / (columns > 0 ? columns : 1);
  chunks = want < 1 ? 1 : (want < N ? want : N);
  if (chunks < 1) chunks = 1;
  chunk = N > 0 ? (N + chunks - 1) / chunks : 1;
  chunks = N > 0 ? (N + chunk - 1) / chunk : 1;  // no empty run at the end
}

// values, indices (A, B) from x (A, R, B): the first max (min) along R; a NaN wins and stops the search.
template <typename T>
struct MinMax {
  const T* x;
  T* values;
  int64_t* indices;
  int64_t R, B;
  bool is_min;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t b = i % B, a = i / B;
    const T* p = x + a * R * B + b;
    int64_t best = 0;
    T best_v = p[0];
    for (int64_t r = 1; r < R && best_v == best_v; ++r) {
      const T v = p[r * B];
      if ((is_min ? v < best_v : v > best_v) || v != v) {
        best_v = v;
        best = r;
      }
    }
    values[i] = best_v;
    indices[i] = best;
  }
};

// dx (A, R, B), zeroed: dx[a, indices[a, b], b] = dout[a, b]; one call per (a, b), no two write one place.
template <typename T>
struct ScatterR {
  const T* dout;
  const int64_t* indices;
  T* dx;
  int64_t R, B;
  PYCNN_HD void operator()(int64_t i) const {
    const int64_t b = i % B, a = i / B, r = indices[i];
    if (r >= 0 && r < R) dx[(a * R + r) * B + b] = dout[i];  // out of range: skipped (no host check on a GPU)
  }
};

template <typename T>
struct Compare {
  CompareOp op;
  const T* a;
  const T* b;
  bool* out;
  PYCNN_HD void operator()(int64_t i) const {
    const T x = a[i], y = b[i];
    bool r = false;
    switch (op) {
      case CompareOp::Gt: r = x > y; break;
      case CompareOp::Lt: r = x < y; break;
      case CompareOp::Ge: r = x >= y; break;
      case CompareOp::Le: r = x <= y; break;
      case CompareOp::Eq: r = x == y; break;
      case CompareOp::Ne: r = x != y; break;
    }
    out[i] = r;
  }
};

template <typename T>
struct Where {
  const bool* cond;
  const T* a;
  const T* b;
  T* out;
  PYCNN_HD void operator()(int64_t i) const { out[i] = cond[i] ? a[i] : b[i]; }
};

template <typename T>
struct WhereGrad {
  const bool* cond;
  const T* dout;
  T* da;
  T* db;
  PYCNN_HD void operator()(int64_t i) const {
    da[i] = cond[i] ? dout[i] : T(0);
    db[i] = cond[i] ? T(0) : dout[i];
  }
};

// max(a, b) (is_min: min); a NaN on either side propagates (x + y is NaN then), as torch.maximum.
template <typename T>
struct Maximum {
  const T* a;
  const T* b;
  T* out;
  bool is_min;
  PYCNN_HD void operator()(int64_t i) const {
    const T x = a[i], y = b[i];
    const T pick = (is_min ? x < y : x > y) ? x : y;
    out[i] = (x != x || y != y) ? x + y : pick;
  }
};

// The winner gets dout, a tie halves it (torch's rule).
template <typename T>
struct MaximumGrad {
  const T* a;
  const T* b;
  const T* dout;
  T* da;
  T* db;
  bool is_min;
  PYCNN_HD void operator()(int64_t i) const {
    const T x = a[i], y = b[i];
    const T wa = x == y ? T(0.5) : T((is_min ? x < y : x > y) ? 1 : 0);
    da[i] = dout[i] * wa;
    db[i] = dout[i] * (x == y ? T(0.5) : T(1) - wa);
  }
};

}  // namespace pycnn::cuda::tensor_ops_bodies
