// The phases of the CUDA GEMM kernels (ops/cuda/gemm.cu) as plain host/device code, so that
// tests/cpp/test_cuda_gemm.cpp can run a whole grid of blocks and threads serially on the CPU, with the shared
// tiles as plain arrays. Read in the kernel's order: tile_coords (which tile of C a block computes), fetch_tile
// (global memory -> registers), stash_tile (registers -> a shared tile), multiply_tile (shared tiles -> the
// thread's accumulators), store_tile (the epilogue: alpha, beta, bias, ReLU -> C). The TF32 kernel shares all
// of it but the multiply (tensor-core fragments), and writes C through store_fragment.
#pragma once
#include <cstdint>

#include "pycnn/core/host_device.h"  // defines: PYCNN_HD

#if defined(__CUDACC__)
#define PYCNN_UNROLL _Pragma("unroll")
#else
#define PYCNN_UNROLL
#endif

namespace pycnn::cuda {

// ---- 16-byte accesses: float4 / double2 loads and stores of V consecutive elements ----
template <typename T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

template <typename T, int V>
PYCNN_HD inline Vec<T, V> load_vec(const T* p) {
  return *reinterpret_cast<const Vec<T, V>*>(p);
}
template <typename T, int V>
PYCNN_HD inline void store_vec(T* p, const Vec<T, V>& x) {
  *reinterpret_cast<Vec<T, V>*>(p) = x;
}

// Vector accesses at p + i * ld + j, j a multiple of V, are aligned when p is and ld is a multiple of V.
template <typename T, int V>
inline bool can_vectorize(const T* p, int64_t ld) {
  return reinterpret_cast<uintptr_t>(p) % (sizeof(T) * V) == 0 && ld % V == 0;
}

// ---- the problem ----
// C(i, j) = act(alpha * acc(i, j) + beta * C(i, j) + bias), acc = (op(A) @ op(B))(i, j).
template <typename T>
struct GemmEpilogue {
  T alpha = T(1), beta = T(0);
  const T* bias = nullptr;  // null: none; else bias[i] (bias_per_row) or bias[j]
  bool bias_per_row = false;
  bool relu = false;

  // `c` points at C's old value and is read only when beta != 0: with beta == 0, C may be uninitialised memory
  // holding NaNs. The additions come in cpu::gemm_bias's order: (beta * c + bias) first, then alpha * acc.
  PYCNN_HD T operator()(T acc, const T* c, int64_t row, int64_t col) const {
    T rest = beta == T(0) ? T(0) : beta * *c;
    if (bias != nullptr) {
      const T b = bias[bias_per_row ? row : col];
      rest = beta == T(0) ? b : rest + b;
    }
    const T v = alpha * acc + rest;
    return relu && v < T(0) ? T(0) : v;  // NaN stays NaN, as in cpu::relu_forward
  }
};

// Row-major C (M, N) = epilogue(op(A) @ op(B)); A is (M, K) with row stride lda, or (K, M) when trans_a;
// B is (K, N), or (N, K) when trans_b. The vec_* flags allow 16-byte accesses to that matrix.
template <typename T>
struct GemmProblem {
  bool trans_a = false, trans_b = false;
  int64_t M = 0, N = 0, K = 0;
  const T* A = nullptr;
  int64_t lda = 0;
  const T* B = nullptr;
  int64_t ldb = 0;
  T* C = nullptr;
  int64_t ldc = 0;
  bool vec_a = false, vec_b = false, vec_c = false;
  GemmEpilogue<T> ep;
};

// The kernels' view of a call. alpha == 0 reads neither A nor B (cpu::gemm's rule, so NaNs there do not
// leak into C): the K loop is skipped. With no K loop (K == 0 too) the epilogue's alpha is 0, so that C =
// beta * C (+ bias) as cpu::gemm gives it even for an infinite or NaN alpha (alpha * 0 would be NaN).
template <typename T, int V>
inline GemmProblem<T> make_gemm_problem(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                                        const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc,
                                        const T* bias, bool bias_per_row, bool relu) {
  GemmProblem<T> p;
  p.trans_a = trans_a, p.trans_b = trans_b;
  p.M = M, p.N = N, p.K = alpha == T(0) ? 0 : K;
  p.A = A, p.lda = lda, p.B = B, p.ldb = ldb, p.C = C, p.ldc = ldc;
  p.vec_a = can_vectorize<T, V>(A, lda);
  p.vec_b = can_vectorize<T, V>(B, ldb);
  p.vec_c = can_vectorize<T, V>(C, ldc);
  p.ep = GemmEpilogue<T>{p.K == 0 ? T(0) : alpha, beta, bias, bias_per_row, relu};
  return p;
}

// ---- which tile a block computes ----
PYCNN_HD inline int64_t div_up(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Block b of a 1-D grid (no 65535 limit on either side of C) -> tile (tm, tn). Blocks walk groups of
// kTileGroup tile-rows column by column, so that blocks running at the same time share A's rows and B's
// columns in L2, instead of sweeping a whole row of tiles of a wide C.
constexpr int64_t kTileGroup = 8;
PYCNN_HD inline void tile_coords(int64_t b, int64_t tiles_m, int64_t tiles_n, int64_t& tm, int64_t& tn) {
  const int64_t per_group = kTileGroup * tiles_n;
  const int64_t first = b / per_group * kTileGroup;
  const int64_t rows = tiles_m - first < kTileGroup ? tiles_m - first : kTileGroup;
  const int64_t r = b % per_group;
  tm = first + r % rows;
  tn = r / rows;
}

// ---- global -> registers -> shared ----
// One BK-deep slice of op(A) (BR = BM rows) or op(B)^T (BR = BN rows), seen as an (R, K) matrix X. Its
// shared tile is k-major, tile[k * LD + r], so that the multiply reads a run of rows for one k. The padding
// of LD staggers the banks of the k-contiguous (transposing) stores and keeps rows 16 bytes aligned.
template <int BR_, int BK_, int kThreads_, int V_>
struct TileShape {
  static constexpr int BR = BR_, BK = BK_, kThreads = kThreads_, V = V_;
  static constexpr int LD = BR + V;
  static constexpr int kVecs = BR * BK / (kThreads * V);  // vectors each thread carries
  static_assert(kVecs >= 1 && kVecs * kThreads * V == BR * BK, "the threads must cover the tile in vectors");
  static_assert(BR % V == 0 && BK % V == 0, "a vector must not straddle a tile edge");
};

// Where vector s of thread tid lies in the tile. X is stored (R, K) row-major when k_contig (A, or B
// transposed): X(r, k) at X[r * ld + k]; else (K, R): X[k * ld + r]. Vectors are numbered in storage order,
// so consecutive threads read consecutive addresses (coalesced) whichever way X is stored.
template <class S>
PYCNN_HD inline void tile_slot(int tid, int s, bool k_contig, int& r, int& k) {
  const int e = (s * S::kThreads + tid) * S::V;
  if (k_contig) {
    r = e / S::BK;
    k = e % S::BK;
  } else {
    k = e / S::BR;
    r = e % S::BR;
  }
}

// Loads thread tid's vectors of X[r0 : r0 + BR, k0 : k0 + BK], zeros past the matrix edges (so that the
// multiply needs no bounds checks). One 16-byte load per vector when allowed and wholly inside X; the
// scalar loader takes the edges and misaligned matrices.
template <class S, typename T>
PYCNN_HD inline void fetch_tile(int tid, T (&regs)[S::kVecs][S::V], const T* X, int64_t ld, bool k_contig, bool vec,
                                int64_t R, int64_t K, int64_t r0, int64_t k0) {
  PYCNN_UNROLL
  for (int s = 0; s < S::kVecs; ++s) {
    int r, k;
    tile_slot<S>(tid, s, k_contig, r, k);
    const int64_t gr = r0 + r, gk = k0 + k;
    // The vector runs along X's contiguous dim: from `run` up to `run_end` (exclusive) are inside X.
    const bool line_in = k_contig ? gr < R : gk < K;
    const int64_t run = k_contig ? gk : gr, run_end = k_contig ? K : R;
    const int64_t off = k_contig ? gr * ld + gk : gk * ld + gr;
    if (vec && line_in && run + S::V <= run_end) {
      const Vec<T, S::V> v = load_vec<T, S::V>(X + off);
      PYCNN_UNROLL
      for (int j = 0; j < S::V; ++j) regs[s][j] = v.v[j];
    } else {
      PYCNN_UNROLL
      for (int j = 0; j < S::V; ++j) regs[s][j] = line_in && run + j < run_end ? X[off + j] : T(0);
    }
  }
}

// Writes the vectors fetch_tile loaded into the k-major shared tile (16-byte aligned): a k-contiguous vector
// is transposed into V scalar stores, the other kind is one 16-byte store.
template <class S, typename T>
PYCNN_HD inline void stash_tile(int tid, const T (&regs)[S::kVecs][S::V], T* tile, bool k_contig) {
  PYCNN_UNROLL
  for (int s = 0; s < S::kVecs; ++s) {
    int r, k;
    tile_slot<S>(tid, s, k_contig, r, k);
    if (k_contig) {
      PYCNN_UNROLL
      for (int j = 0; j < S::V; ++j) tile[(k + j) * S::LD + r] = regs[s][j];
    } else {
      Vec<T, S::V> v;
      PYCNN_UNROLL
      for (int j = 0; j < S::V; ++j) v.v[j] = regs[s][j];
      store_vec<T, S::V>(tile + k * S::LD + r, v);
    }
  }
}

// ---- the SIMT kernel: a (BM, BN) tile of C per block, a (TM, TN) register tile per thread ----
template <typename T, int BM_, int BN_, int BK_, int TM_, int TN_, int V_, int kMinBlocks_>
struct GemmConfig {
  using Scalar = T;
  static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_, V = V_, kMinBlocks = kMinBlocks_;
  static constexpr int kThreadsN = BN / TN, kThreads = (BM / TM) * (BN / TN);
  using ShapeA = TileShape<BM, BK, kThreads, V>;
  using ShapeB = TileShape<BN, BK, kThreads, V>;
  static_assert(BM % TM == 0 && BN % TN == 0 && TM % V == 0 && TN % V == 0, "register tiles must tile the block");

  // Thread (tx, ty) owns TM rows in TM / V runs of V consecutive rows, the runs BM / (TM / V) apart (likewise
  // columns). Runs give 16-byte shared loads and C stores; spreading them makes the 16 threads of a half-warp
  // read 16 consecutive vectors of the B tile (no bank conflicts) and write C rows in 256-byte pieces.
  PYCNN_HD static int row(int ty, int i) { return i / V * (BM / (TM / V)) + ty * V + i % V; }
  PYCNN_HD static int col(int tx, int j) { return j / V * (BN / (TN / V)) + tx * V + j % V; }
};

// 128x128 tiles, 8x8 per thread, 256 threads: 64 FMAs per 16 shared values read; the workhorse.
using SgemmLarge = GemmConfig<float, 128, 128, 8, 8, 8, 4, 2>;
// 64x64 tiles, 4x4 per thread: four times the blocks, for problems too small to fill the GPU with 128x128.
using SgemmSmall = GemmConfig<float, 64, 64, 16, 4, 4, 4, 1>;
// Double has a fraction of float's throughput and twice the register use: 64x64 tiles, 4x4 per thread.
using Dgemm = GemmConfig<double, 64, 64, 8, 4, 4, 2, 1>;

// acc += as^T bs over the BK-deep shared tiles, for thread (tx, ty)'s rows and columns: per k, TM + TN
// shared reads (in 16-byte vectors) feed TM * TN FMAs.
template <class Cfg, typename T>
PYCNN_HD inline void multiply_tile(int tx, int ty, const T* as, const T* bs, T (&acc)[Cfg::TM][Cfg::TN]) {
  constexpr int V = Cfg::V, LDA = Cfg::ShapeA::LD, LDB = Cfg::ShapeB::LD;
  PYCNN_UNROLL
  for (int k = 0; k < Cfg::BK; ++k) {
    T a[Cfg::TM], b[Cfg::TN];
    PYCNN_UNROLL
    for (int g = 0; g < Cfg::TM / V; ++g) {
      const Vec<T, V> v = load_vec<T, V>(as + k * LDA + Cfg::row(ty, g * V));
      PYCNN_UNROLL
      for (int w = 0; w < V; ++w) a[g * V + w] = v.v[w];
    }
    PYCNN_UNROLL
    for (int g = 0; g < Cfg::TN / V; ++g) {
      const Vec<T, V> v = load_vec<T, V>(bs + k * LDB + Cfg::col(tx, g * V));
      PYCNN_UNROLL
      for (int w = 0; w < V; ++w) b[g * V + w] = v.v[w];
    }
    PYCNN_UNROLL
    for (int i = 0; i < Cfg::TM; ++i) PYCNN_UNROLL
    for (int j = 0; j < Cfg::TN; ++j) acc[i][j] += a[i] * b[j];
  }
}

// C = epilogue(acc) for thread (tx, ty)'s elements of the tile at (row0, col0), inside C only. A run of V
// columns is one 16-byte load (when beta != 0) and store when C allows it and the run is wholly inside.
template <class Cfg, typename T>
PYCNN_HD inline void store_tile(int tx, int ty, const T (&acc)[Cfg::TM][Cfg::TN], const GemmProblem<T>& p, int64_t row0,
                                int64_t col0) {
  constexpr int V = Cfg::V;
  PYCNN_UNROLL
  for (int i = 0; i < Cfg::TM; ++i) {
    const int64_t gm = row0 + Cfg::row(ty, i);
    if (gm >= p.M) continue;
    T* c_row = p.C + gm * p.ldc;
    PYCNN_UNROLL
    for (int g = 0; g < Cfg::TN / V; ++g) {
      const int64_t gn = col0 + Cfg::col(tx, g * V);
      if (p.vec_c && gn + V <= p.N) {
        Vec<T, V> old{}, out{};
        if (p.ep.beta != T(0)) old = load_vec<T, V>(c_row + gn);
        PYCNN_UNROLL
        for (int w = 0; w < V; ++w) out.v[w] = p.ep(acc[i][g * V + w], &old.v[w], gm, gn + w);
        store_vec<T, V>(c_row + gn, out);
      } else {
        PYCNN_UNROLL
        for (int w = 0; w < V; ++w)
          if (gn + w < p.N) c_row[gn + w] = p.ep(acc[i][g * V + w], c_row + gn + w, gm, gn + w);
      }
    }
  }
}

// ---- the TF32 tensor-core kernel (float only) ----
// A (BM, BN) block tile, BK = 16 (two k-steps of the m16n16k8 instruction shape), one (WM, WN) warp tile per
// warp made of (WM / 16) x (WN / 16) 16x16 accumulator fragments. The shared tiles are the SIMT kernel's:
// the A tile tile[k * LD + m] is a column-major (m, k) matrix, the B tile a row-major (k, n) one.
template <int BM_, int BN_, int WM_, int WN_>
struct WmmaConfig {
  static constexpr int BM = BM_, BN = BN_, BK = 16, WM = WM_, WN = WN_, V = 4;
  static constexpr int FM = WM / 16, FN = WN / 16;
  static constexpr int kWarpsN = BN / WN, kWarps = (BM / WM) * (BN / WN), kThreads = 32 * kWarps;
  using ShapeA = TileShape<BM, BK, kThreads, V>;
  using ShapeB = TileShape<BN, BK, kThreads, V>;
  static_assert(BM % WM == 0 && BN % WN == 0 && WM % 16 == 0 && WN % 16 == 0, "warp tiles must tile the block");
  static_assert(ShapeA::LD % 4 == 0 && ShapeB::LD % 4 == 0, "wmma wants ldm a multiple of 16 bytes");

  PYCNN_HD static int warp_row(int warp) { return warp / kWarpsN * WM; }
  PYCNN_HD static int warp_col(int warp) { return warp % kWarpsN * WN; }
};

// 8 warps of 64x32 each; 4 warps of 32x32 for small problems.
using Tf32Large = WmmaConfig<128, 128, 64, 32>;
using Tf32Small = WmmaConfig<64, 64, 32, 32>;

// Writes one 16x16 fragment, stored row-major in `stage` (store_matrix_sync), to C at (row0, col0) through
// the epilogue: lane l takes elements l, l + 32, ..., so that each half-warp writes 16 consecutive columns.
template <typename T>
PYCNN_HD inline void store_fragment(const T* stage, int lane, const GemmProblem<T>& p, int64_t row0, int64_t col0) {
  PYCNN_UNROLL
  for (int t = 0; t < 8; ++t) {
    const int e = lane + 32 * t;
    const int64_t gm = row0 + e / 16, gn = col0 + e % 16;
    if (gm < p.M && gn < p.N) {
      T* c = p.C + gm * p.ldc + gn;
      *c = p.ep(stage[e], c, gm, gn);
    }
  }
}

// ---- the bias gradient: out[j] = sum_i x[i, j] over a contiguous (rows, cols) x, one thread per column ----
// The same sums in the same order as cpu::sum_rows (cpu::sum_arb with A = 1): in double, rows in order; a
// single column goes through four interleaved partial sums. So both devices give the same bits.
template <typename T>
struct ColumnSum {
  const T* x;
  T* out;
  int64_t rows, cols;
  PYCNN_HD void operator()(int64_t j) const {
    if (cols == 1) {
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t r = 0;
      for (; r + 4 <= rows; r += 4) {
        s0 += x[r];
        s1 += x[r + 1];
        s2 += x[r + 2];
        s3 += x[r + 3];
      }
      for (; r < rows; ++r) s0 += x[r];
      out[j] = static_cast<T>((s0 + s1) + (s2 + s3));
      return;
    }
    double s = 0;
    for (int64_t r = 0; r < rows; ++r) s += x[r * cols + j];
    out[j] = static_cast<T>(s);
  }
};

}  // namespace pycnn::cuda
