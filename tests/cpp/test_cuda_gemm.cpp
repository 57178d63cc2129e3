// C++ test of the CUDA GEMM's phases (ops/cuda/gemm_tiles.h) on the CPU, no GPU needed: runs every block and
// every thread of a launch serially, with the shared tiles as plain arrays, for each kernel configuration
// (the float ones also instantiated in double, for a tight tolerance), and compares C with cpu::gemm_naive:
// the four transposes, odd sizes, K = 0, padded leading dimensions, misaligned pointers (the scalar loader),
// beta 0 over a NaN-filled C and beta != 0, alpha = 0 over NaN inputs, bias per row and column, ReLU. The
// TF32 kernel's fragment multiply is replaced by exact loops over the same shared tiles (its wmma calls are a
// GPU-only check). Also: the block -> tile mapping is a bijection, cpu::gemm_bias against the reference, and
// the bias-gradient column sum against cpu::sum_rows, bit for bit. With a GPU, it also runs gemm and linear on
// CUDA tensors (the real kernels, TF32 included) against the CPU, and twice for bitwise determinism.
#include <algorithm>  // defines: std::fill, std::max
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "expect.h"                   // defines: EXPECT, failures
#include "pycnn/core/cuda_runtime.h"  // defines: cuda::device_count
#include "pycnn/core/tensor.h"
#include "pycnn/ops/cpu/cpu_ops.h"      // defines: cpu::gemm_naive, cpu::gemm_bias, cpu::sum_rows
#include "pycnn/ops/cuda/cuda_ops.h"    // defines: cuda::set_allow_tf32
#include "pycnn/ops/cuda/gemm_tiles.h"  // defines: the configs and phases under test
#include "pycnn/ops/ops.h"              // defines: gemm, linear_forward, linear_backward

using namespace pycnn;
using cuda::GemmProblem;

// Storage starting on a 64-byte boundary (as shared memory and cudaMalloc'd buffers do), plus `offset`
// elements: offset 1 makes every 16-byte access misaligned, so the kernels must take the scalar paths.
template <typename T>
struct Buffer {
  std::vector<T> raw;
  T* ptr;
  Buffer(size_t n, T fill, size_t offset = 0) : raw(n + offset + 64 / sizeof(T), fill) {
    const uintptr_t p = reinterpret_cast<uintptr_t>(raw.data());
    ptr = raw.data() + (64 - p % 64) % 64 / sizeof(T) + offset;
  }
};

// ---- the SIMT kernel, block by block, thread by thread ----
// Within a K slice each thread runs fetch(next), multiply(current), stash(next) before the next thread starts:
// one of the interleavings the kernel allows between its barriers, and the one that shows a stash into the
// buffer that others still read.
template <class Cfg>
static void run_simt_grid(const GemmProblem<typename Cfg::Scalar>& p) {
  using T = typename Cfg::Scalar;
  using SA = typename Cfg::ShapeA;
  using SB = typename Cfg::ShapeB;
  struct Thread {
    T ra[SA::kVecs][SA::V], rb[SB::kVecs][SB::V];
    T acc[Cfg::TM][Cfg::TN];
  };
  const int64_t tiles_m = cuda::div_up(p.M, Cfg::BM), tiles_n = cuda::div_up(p.N, Cfg::BN);
  const int64_t slices = cuda::div_up(p.K, Cfg::BK);
  const bool a_kc = !p.trans_a, b_kc = p.trans_b;
  std::vector<Thread> th(Cfg::kThreads);
  for (int64_t block = 0; block < tiles_m * tiles_n; ++block) {
    int64_t tm, tn;
    cuda::tile_coords(block, tiles_m, tiles_n, tm, tn);
    const int64_t row0 = tm * Cfg::BM, col0 = tn * Cfg::BN;
    // NaN-filled shared tiles: a multiply that read an element no stash wrote would poison C.
    Buffer<T> as(2 * Cfg::BK * SA::LD, std::numeric_limits<T>::quiet_NaN());
    Buffer<T> bs(2 * Cfg::BK * SB::LD, std::numeric_limits<T>::quiet_NaN());
    T* a_buf[2] = {as.ptr, as.ptr + Cfg::BK * SA::LD};
    T* b_buf[2] = {bs.ptr, bs.ptr + Cfg::BK * SB::LD};
    for (int tid = 0; tid < Cfg::kThreads; ++tid)
      for (auto& row : th[tid].acc)
        for (T& v : row) v = T(0);
    if (slices > 0)
      for (int tid = 0; tid < Cfg::kThreads; ++tid) {
        cuda::fetch_tile<SA>(tid, th[tid].ra, p.A, p.lda, a_kc, p.vec_a, p.M, p.K, row0, 0);
        cuda::fetch_tile<SB>(tid, th[tid].rb, p.B, p.ldb, b_kc, p.vec_b, p.N, p.K, col0, 0);
        cuda::stash_tile<SA>(tid, th[tid].ra, a_buf[0], a_kc);
        cuda::stash_tile<SB>(tid, th[tid].rb, b_buf[0], b_kc);
      }
    for (int64_t t = 0; t < slices; ++t) {
      const int cur = t & 1;
      const bool more = t + 1 < slices;
      for (int tid = 0; tid < Cfg::kThreads; ++tid) {
        Thread& s = th[tid];
        if (more) {
          cuda::fetch_tile<SA>(tid, s.ra, p.A, p.lda, a_kc, p.vec_a, p.M, p.K, row0, (t + 1) * Cfg::BK);
          cuda::fetch_tile<SB>(tid, s.rb, p.B, p.ldb, b_kc, p.vec_b, p.N, p.K, col0, (t + 1) * Cfg::BK);
        }
        cuda::multiply_tile<Cfg>(tid % Cfg::kThreadsN, tid / Cfg::kThreadsN, a_buf[cur], b_buf[cur], s.acc);
        if (more) {
          cuda::stash_tile<SA>(tid, s.ra, a_buf[cur ^ 1], a_kc);
          cuda::stash_tile<SB>(tid, s.rb, b_buf[cur ^ 1], b_kc);
        }
      }
    }
    for (int tid = 0; tid < Cfg::kThreads; ++tid)
      cuda::store_tile<Cfg>(tid % Cfg::kThreadsN, tid / Cfg::kThreadsN, th[tid].acc, p, row0, col0);
  }
}

// ---- the TF32 kernel: its loads, shared tiles and epilogue, with exact loops for the wmma fragments ----
// What the kernel's wmma calls compute, by their documented semantics: a col_major matrix_a fragment at
// as + kk * LD + m0 holds A(m, k) = as[(kk + k) * LD + m0 + m], a row_major matrix_b one at bs + kk * LD + n0
// holds B(k, n) = bs[(kk + k) * LD + n0 + n]; mma_sync adds their 16x8 @ 8x16 product to a 16x16 fragment.
template <class Cfg, typename T>
static void run_wmma_grid(const GemmProblem<T>& p) {
  using SA = typename Cfg::ShapeA;
  using SB = typename Cfg::ShapeB;
  const int64_t tiles_m = cuda::div_up(p.M, Cfg::BM), tiles_n = cuda::div_up(p.N, Cfg::BN);
  const int64_t slices = cuda::div_up(p.K, Cfg::BK);
  const bool a_kc = !p.trans_a, b_kc = p.trans_b;
  std::vector<T> ra(Cfg::kThreads * SA::kVecs * SA::V), rb(Cfg::kThreads * SB::kVecs * SB::V);
  auto regs_a = [&](int tid) -> T(&)[SA::kVecs][SA::V] {
    return *reinterpret_cast<T(*)[SA::kVecs][SA::V]>(&ra[tid * SA::kVecs * SA::V]);
  };
  auto regs_b = [&](int tid) -> T(&)[SB::kVecs][SB::V] {
    return *reinterpret_cast<T(*)[SB::kVecs][SB::V]>(&rb[tid * SB::kVecs * SB::V]);
  };
  // acc[warp][fragment][16 * 16], row-major: what store_matrix_sync(mem_row_major) puts in the staging tile.
  std::vector<T> acc(Cfg::kWarps * Cfg::FM * Cfg::FN * 256);
  for (int64_t block = 0; block < tiles_m * tiles_n; ++block) {
    int64_t tm, tn;
    cuda::tile_coords(block, tiles_m, tiles_n, tm, tn);
    const int64_t row0 = tm * Cfg::BM, col0 = tn * Cfg::BN;
    Buffer<T> as(2 * Cfg::BK * SA::LD, std::numeric_limits<T>::quiet_NaN());
    Buffer<T> bs(2 * Cfg::BK * SB::LD, std::numeric_limits<T>::quiet_NaN());
    T* a_buf[2] = {as.ptr, as.ptr + Cfg::BK * SA::LD};
    T* b_buf[2] = {bs.ptr, bs.ptr + Cfg::BK * SB::LD};
    std::fill(acc.begin(), acc.end(), T(0));
    for (int64_t t = 0; t < slices; ++t) {
      const int cur = t & 1;
      // Loads and stashes as in the kernel (the first slice before the loop, the others one slice ahead).
      for (int tid = 0; tid < Cfg::kThreads; ++tid) {
        cuda::fetch_tile<SA>(tid, regs_a(tid), p.A, p.lda, a_kc, p.vec_a, p.M, p.K, row0, t * Cfg::BK);
        cuda::fetch_tile<SB>(tid, regs_b(tid), p.B, p.ldb, b_kc, p.vec_b, p.N, p.K, col0, t * Cfg::BK);
        cuda::stash_tile<SA>(tid, regs_a(tid), a_buf[cur], a_kc);
        cuda::stash_tile<SB>(tid, regs_b(tid), b_buf[cur], b_kc);
      }
      for (int warp = 0; warp < Cfg::kWarps; ++warp)
        for (int i = 0; i < Cfg::FM; ++i)
          for (int j = 0; j < Cfg::FN; ++j) {
            T* frag = &acc[((warp * Cfg::FM + i) * Cfg::FN + j) * 256];
            const T* a = a_buf[cur] + Cfg::warp_row(warp) + 16 * i;
            const T* b = b_buf[cur] + Cfg::warp_col(warp) + 16 * j;
            for (int kk = 0; kk < Cfg::BK; kk += 8)
              for (int m = 0; m < 16; ++m)
                for (int n = 0; n < 16; ++n)
                  for (int k = 0; k < 8; ++k) frag[m * 16 + n] += a[(kk + k) * SA::LD + m] * b[(kk + k) * SB::LD + n];
          }
    }
    for (int warp = 0; warp < Cfg::kWarps; ++warp)
      for (int i = 0; i < Cfg::FM; ++i)
        for (int j = 0; j < Cfg::FN; ++j)
          for (int lane = 0; lane < 32; ++lane)
            cuda::store_fragment(&acc[((warp * Cfg::FM + i) * Cfg::FN + j) * 256], lane, p,
                                 row0 + Cfg::warp_row(warp) + 16 * i, col0 + Cfg::warp_col(warp) + 16 * j);
  }
}

// ---- one case: random A, B, C, bias; the kernel simulation against the reference ----
struct Case {
  bool ta, tb;
  int64_t M, N, K;
  double alpha, beta;
  int64_t pad;    // extra columns in every leading dimension
  size_t offset;  // elements by which every pointer is shifted from a 64-byte boundary
  int bias;       // 0: none, 1: per column, 2: per row
  bool relu;
  bool nan_inputs;  // A and B hold NaNs (with alpha == 0 they must not be read)
};

template <typename T, int V, typename Run>
static void check_case(const Case& cs, const char* name, Run run) {
  std::mt19937 rng(static_cast<unsigned>(cs.M * 7919 + cs.N * 131 + cs.K * 17 + cs.pad + cs.offset));
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const int64_t M = cs.M, N = cs.N, K = cs.K;
  const int64_t a_rows = cs.ta ? K : M, a_cols = cs.ta ? M : K, b_rows = cs.tb ? N : K, b_cols = cs.tb ? K : N;
  const int64_t lda = std::max<int64_t>(a_cols, 1) + cs.pad, ldb = std::max<int64_t>(b_cols, 1) + cs.pad;
  const int64_t ldc = N + cs.pad;
  Buffer<T> a(a_rows * lda + 1, T(0), cs.offset), b(b_rows * ldb + 1, T(0), cs.offset);
  Buffer<T> c(M * ldc + 1, T(0), cs.offset), bias(std::max(M, N), T(0), cs.offset);
  for (int64_t i = 0; i < a_rows * lda; ++i) a.ptr[i] = cs.nan_inputs && i % 5 == 0 ? nan : T(uniform(rng));
  for (int64_t i = 0; i < b_rows * ldb; ++i) b.ptr[i] = cs.nan_inputs && i % 7 == 0 ? nan : T(uniform(rng));
  for (int64_t i = 0; i < std::max(M, N); ++i) bias.ptr[i] = T(uniform(rng));
  // With beta == 0 the old C must be ignored, NaN included; the padding columns must stay as they are.
  for (int64_t i = 0; i < M * ldc; ++i) c.ptr[i] = i % ldc >= N ? T(-7) : cs.beta == 0 ? nan : T(uniform(rng));

  // The reference: C = beta * C + bias (bias alone when beta == 0), the triple loop with beta = 1, ReLU.
  std::vector<T> want(c.ptr, c.ptr + M * ldc);
  T ref_beta = T(cs.beta);
  if (cs.bias) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        const T bv = bias.ptr[cs.bias == 2 ? i : j];
        T& w = want[i * ldc + j];
        w = cs.beta == 0 ? bv : T(cs.beta) * w + bv;
      }
    ref_beta = T(1);
  }
  if (cs.alpha != 0)
    cpu::gemm_naive<T>(cs.ta, cs.tb, M, N, K, T(cs.alpha), a.ptr, lda, b.ptr, ldb, ref_beta, want.data(), ldc);
  else  // cpu::gemm's rule for alpha == 0: C = beta * C, A and B unread
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) want[i * ldc + j] = ref_beta == T(0) ? T(0) : ref_beta * want[i * ldc + j];
  if (cs.relu)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) want[i * ldc + j] = want[i * ldc + j] < T(0) ? T(0) : want[i * ldc + j];

  const GemmProblem<T> p =
      cuda::make_gemm_problem<T, V>(cs.ta, cs.tb, M, N, K, T(cs.alpha), a.ptr, lda, b.ptr, ldb, T(cs.beta), c.ptr, ldc,
                                    cs.bias ? bias.ptr : nullptr, cs.bias == 2, cs.relu);
  EXPECT(p.vec_a == (cs.offset == 0 && lda % V == 0));
  run(p);

  // Sums of up to K products of |x| <= 1, plus beta * C and the bias.
  const double eps = std::numeric_limits<T>::epsilon();
  const double tol = 4.0 * eps * double(K + 4) * (std::fabs(cs.alpha) + std::fabs(cs.beta) + 2.0);
  int64_t bad = 0;
  double worst = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const T got = c.ptr[i * ldc + j], w = want[i * ldc + j];
      if (j >= N) {
        if (got != T(-7)) ++bad;  // written outside C
        continue;
      }
      const double err = std::fabs(double(got) - double(w));
      if (!(err <= tol)) ++bad;  // NaN counts as bad
      if (!(err <= worst)) worst = err;
    }
  if (bad) {
    std::printf(
        "FAILED %s ta=%d tb=%d M=%lld N=%lld K=%lld alpha=%g beta=%g pad=%lld offset=%zu bias=%d relu=%d "
        "nan_inputs=%d: %lld wrong, max error %g (tol %g)\n",
        name, cs.ta, cs.tb, (long long)M, (long long)N, (long long)K, cs.alpha, cs.beta, (long long)cs.pad, cs.offset,
        cs.bias, cs.relu, cs.nan_inputs, (long long)bad, worst, tol);
    ++failures;
  }
}

// Every configuration over the same cases.
static std::vector<Case> cases() {
  // Odd sizes straddle the 64/128-wide tiles and the 8/16-deep slices; K = 0 is the epilogue alone.
  const int64_t sizes[][3] = {{1, 1, 1},    {7, 13, 5},   {64, 64, 64},  {65, 63, 129}, {130, 257, 33}, {3, 5, 0},
                              {200, 1, 17}, {1, 300, 17}, {128, 128, 8}, {129, 131, 9}, {17, 70, 24}};
  const struct {
    int64_t pad;
    size_t offset;
  } layouts[] = {{0, 0}, {3, 0}, {0, 1}, {1, 0}};
  std::vector<Case> out;
  int n = 0;
  for (const auto& s : sizes)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (const auto& l : layouts) {
          // Cycle through the epilogues rather than crossing them with everything.
          const int e = n++;
          const double beta = e % 2 ? 0.5 : 0.0;
          out.push_back(
              {bool(ta), bool(tb), s[0], s[1], s[2], 1.25, beta, l.pad, l.offset, e / 2 % 3, e % 5 == 4, false});
        }
  // alpha == 0 reads neither A nor B: NaNs there must not reach C.
  out.push_back({false, true, 33, 35, 19, 0.0, 0.0, 0, 0, 0, false, true});
  out.push_back({true, false, 33, 35, 19, 0.0, -2.0, 3, 0, 1, true, true});
  return out;
}

template <class Cfg>
static void check_simt(const char* name) {
  using T = typename Cfg::Scalar;
  for (const Case& cs : cases())
    check_case<T, Cfg::V>(cs, name, [](const GemmProblem<T>& p) { run_simt_grid<Cfg>(p); });
}

template <class Cfg, typename T>
static void check_wmma(const char* name) {
  for (const Case& cs : cases())
    check_case<T, Cfg::V>(cs, name, [](const GemmProblem<T>& p) { run_wmma_grid<Cfg>(p); });
}

// The float configurations' tile shapes with double elements: the same index arithmetic, a tight tolerance.
template <class Cfg>
using AsDouble = cuda::GemmConfig<double, Cfg::BM, Cfg::BN, Cfg::BK, Cfg::TM, Cfg::TN, Cfg::V, Cfg::kMinBlocks>;

// ---- the pieces on their own ----
static void check_tile_coords() {
  const int64_t shapes[][2] = {{1, 1}, {1, 9}, {7, 3}, {8, 5}, {9, 4}, {17, 17}, {70000, 2}, {3, 70000}};
  for (const auto& s : shapes) {
    const int64_t tiles_m = s[0], tiles_n = s[1];
    std::vector<char> seen(tiles_m * tiles_n, 0);
    bool ok = true;
    for (int64_t b = 0; b < tiles_m * tiles_n; ++b) {
      int64_t tm, tn;
      cuda::tile_coords(b, tiles_m, tiles_n, tm, tn);
      if (tm < 0 || tm >= tiles_m || tn < 0 || tn >= tiles_n || seen[tm * tiles_n + tn]++) ok = false;
    }
    if (!ok)
      std::printf("FAILED tile_coords is not a bijection for %lld x %lld tiles\n", (long long)tiles_m,
                  (long long)tiles_n);
    EXPECT(ok);
  }
}

static void check_epilogue() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double bias[3] = {0.5, -4.0, 2.0};
  cuda::GemmEpilogue<double> ep{2.0, 0.0, nullptr, false, false};
  EXPECT(ep(1.5, &nan, 0, 0) == 3.0);  // beta == 0 ignores a NaN C
  ep.beta = 0.5;
  const double c = 4.0;
  EXPECT(ep(1.5, &c, 0, 0) == 5.0);
  ep.bias = bias;
  EXPECT(ep(1.5, &c, 1, 2) == 7.0);  // bias[col]
  ep.bias_per_row = true;
  EXPECT(ep(1.5, &c, 1, 2) == 1.0);  // bias[row]
  ep.relu = true;
  EXPECT(ep(-1.5, &c, 1, 2) == 0.0);
  EXPECT(std::isnan(ep(nan, &c, 1, 2)));  // ReLU keeps NaN, as cpu::relu_forward
}

// K == 0 with an infinite or NaN alpha: cpu::gemm gives beta * C (it never forms alpha * 0); so must the kernels.
template <typename T>
static void check_empty_k_alpha() {
  const int64_t M = 3, N = 5;
  for (const T alpha : {std::numeric_limits<T>::infinity(), std::numeric_limits<T>::quiet_NaN()}) {
    std::vector<T> c0(M * N);
    for (int64_t i = 0; i < M * N; ++i) c0[i] = T(i) - T(4.5);
    std::vector<T> want = c0, simt = c0, wmma = c0;
    cpu::gemm<T>(false, false, M, N, 0, alpha, nullptr, 1, nullptr, N, T(0.5), want.data(), N);
    auto problem = [&](std::vector<T>& c) {
      return cuda::make_gemm_problem<T, 16 / sizeof(T)>(false, false, M, N, 0, alpha, nullptr, 1, nullptr, N, T(0.5),
                                                        c.data(), N, nullptr, false, false);
    };
    if constexpr (sizeof(T) == 8)
      run_simt_grid<cuda::Dgemm>(problem(simt));
    else
      run_simt_grid<cuda::SgemmSmall>(problem(simt));
    run_wmma_grid<cuda::Tf32Small>(problem(wmma));
    const bool ok = simt == want && wmma == want;
    if (!ok) std::printf("FAILED K = 0 with alpha %g: the kernels differ from cpu::gemm\n", double(alpha));
    EXPECT(ok);
  }
}

// cpu::gemm_bias (the CPU side of linear's forward) against the same reference as the kernels.
template <typename T>
static void check_cpu_gemm_bias() {
  for (const Case& cs : cases())
    check_case<T, 4>(cs, "cpu::gemm_bias", [](const GemmProblem<T>& p) {
      cpu::gemm_bias<T>(p.trans_a, p.trans_b, p.M, p.N, p.K, p.ep.alpha, p.A, p.lda, p.B, p.ldb, p.ep.beta, p.C, p.ldc,
                        p.ep.bias, p.ep.bias_per_row, p.ep.relu);
    });
}

// The bias gradient's column sum, run over every column as the launch does, bit for bit against the CPU's.
template <typename T>
static void check_column_sum() {
  const int64_t shapes[][2] = {{0, 3}, {1, 1}, {5, 1}, {1027, 1}, {3, 7}, {64, 10}, {1000, 33}, {7, 1000}};
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (const auto& s : shapes) {
    const int64_t rows = s[0], cols = s[1];
    std::vector<T> x(rows * cols + 1);
    for (T& v : x) v = T(uniform(rng) * 1e3);
    std::vector<T> got(cols, std::numeric_limits<T>::quiet_NaN()), want(cols, std::numeric_limits<T>::quiet_NaN());
    const cuda::ColumnSum<T> body{x.data(), got.data(), rows, cols};
    for (int64_t j = 0; j < cols; ++j) body(j);
    cpu::sum_rows<T>(x.data(), want.data(), rows, cols);
    bool same = true;
    for (int64_t j = 0; j < cols; ++j) same = same && got[j] == want[j];
    if (!same)
      std::printf("FAILED ColumnSum<%s> rows=%lld cols=%lld differs from cpu::sum_rows\n",
                  sizeof(T) == 4 ? "float" : "double", (long long)rows, (long long)cols);
    EXPECT(same);
  }
}

// ---- with a GPU: the ops on CUDA tensors against the same ops on the CPU ----
// gemm through the op entry point (so through the real kernels: barriers, 16-byte loads, the 1-D grid, the
// TF32 fragments), on operands that are plain, transposed views, views shifted by one element (misaligned:
// the scalar loaders) and views shifted by a row (aligned when the row is), with C a view shifted by a row;
// each element against the bound |alpha| * sum_k |a_ik b_kj| + |beta c_ij| of the rounding, and run twice
// for bitwise determinism. Then linear forward and backward (bias gradient bitwise equal to the CPU's).
// Without a GPU the "GPU" side is the CPU (a check of the harness only).
Device gpu{DeviceType::CUDA, 0};

static Tensor on_gpu(const Tensor& t) { return gpu.is_cuda() ? t.to(gpu) : t.clone(); }

template <typename T>
static Tensor random_tensor(const Shape& shape, std::mt19937& rng, T fill_nan = T(0)) {
  Tensor t = Tensor::empty(shape, dtype_of<T>::value);
  std::normal_distribution<double> dist(0.1, 1.0);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = fill_nan != fill_nan ? fill_nan : static_cast<T>(dist(rng));
  return t;
}

// A (rows, cols) operand in layout 0: contiguous, 1: a transposed view, 2: shifted by one column (misaligned),
// 3: shifted by one row; the same view of one base on both devices.
template <typename T>
static std::pair<Tensor, Tensor> operand(int64_t rows, int64_t cols, int layout, std::mt19937& rng) {
  const Shape shapes[] = {{rows, cols}, {cols, rows}, {rows, cols + 1}, {rows + 1, cols}};
  const Tensor base = random_tensor<T>(shapes[layout], rng), dev = on_gpu(base);
  auto view = [&](const Tensor& t) {
    if (layout == 1) return t.transpose(0, 1);
    if (layout == 2) return t.narrow(1, 1, cols);
    if (layout == 3) return t.narrow(0, 1, rows);
    return t;
  };
  return {view(base), view(dev)};
}

static Tensor host(const Tensor& t) { return t.to(Device{}).contiguous(); }

template <typename T>
static void gpu_gemm_case(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double beta, int la, int lb, bool tf32,
                          std::mt19937& rng) {
  const double alpha = 1.25;
  auto [a, ag] = operand<T>(ta ? K : M, ta ? M : K, la, rng);
  auto [b, bg] = operand<T>(tb ? N : K, tb ? K : N, lb, rng);
  // C: rows 1..M of an (M + 1, N) tensor; NaN when beta == 0 (must not be read), row 0 must stay as it is.
  const Tensor c0 = random_tensor<T>({M + 1, N}, rng, beta == 0 ? std::numeric_limits<T>::quiet_NaN() : T(0));
  Tensor c = c0.clone().narrow(0, 1, M);
  gemm(ta, tb, alpha, a, b, beta, c);
  cuda::set_allow_tf32(tf32);
  Tensor g1 = on_gpu(c0), g2 = on_gpu(c0);
  Tensor v1 = g1.narrow(0, 1, M), v2 = g2.narrow(0, 1, M);
  gemm(ta, tb, alpha, ag, bg, beta, v1);
  gemm(ta, tb, alpha, ag, bg, beta, v2);
  cuda::set_allow_tf32(false);
  const Tensor A = host(ta ? a.transpose(0, 1) : a), B = host(tb ? b.transpose(0, 1) : b);  // (M, K), (K, N)
  const Tensor got = host(g1), again = host(g2), ref = host(c), old = host(c0);
  const double eps = std::numeric_limits<T>::epsilon();
  const double rel = (tf32 ? 3e-3 : 0.0) + 4.0 * eps * double(K + 4);
  int64_t bad = 0;
  bool bitwise = std::memcmp(got.data<T>(), again.data<T>(), got.numel() * sizeof(T)) == 0;
  bool row0 = std::memcmp(got.data<T>(), old.data<T>(), N * sizeof(T)) == 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double bound = beta == 0 ? 0.0 : std::fabs(beta * double(old.data<T>()[(i + 1) * N + j]));
      for (int64_t k = 0; k < K; ++k)
        bound += std::fabs(alpha * double(A.data<T>()[i * K + k]) * double(B.data<T>()[k * N + j]));
      const double err = std::fabs(double(got.data<T>()[(i + 1) * N + j]) - double(ref.data<T>()[i * N + j]));
      if (!(err <= rel * bound + 1e-30)) ++bad;  // NaN counts as bad
    }
  if (bad || !bitwise || !row0)
    std::printf(
        "FAILED GPU gemm<%s> ta=%d tb=%d M=%lld N=%lld K=%lld beta=%g layouts=%d,%d tf32=%d: %lld wrong, "
        "deterministic %d, row before C kept %d\n",
        sizeof(T) == 4 ? "float" : "double", ta, tb, (long long)M, (long long)N, (long long)K, beta, la, lb, tf32,
        (long long)bad, bitwise, row0);
  EXPECT(bad == 0);
  EXPECT(bitwise);
  EXPECT(row0);
}

template <typename T>
static bool close(const Tensor& ref, const Tensor& got, double tol) {
  const Tensor r = host(ref), g = host(got);
  if (r.shape() != g.shape()) return false;
  for (int64_t i = 0; i < r.numel(); ++i)
    if (!(std::fabs(double(g.data<T>()[i]) - double(r.data<T>()[i])) <= tol * (1.0 + std::fabs(r.data<T>()[i]))))
      return false;
  return true;
}

template <typename T>
static void gpu_linear_case(int64_t N, int64_t in, int64_t out, std::mt19937& rng, double tol) {
  const Tensor x = random_tensor<T>({N, in}, rng), w = random_tensor<T>({out, in}, rng),
               b = random_tensor<T>({out}, rng);
  const Tensor xg = on_gpu(x), wg = on_gpu(w), bg = on_gpu(b);
  const bool fwd = close<T>(linear_forward(x, w, b), linear_forward(xg, wg, bg), tol);
  const Tensor dout = random_tensor<T>({N, out}, rng), dg = on_gpu(dout);
  auto [dx, dw, db] = linear_backward(dout, x, w, true, true);
  auto [dx1, dw1, db1] = linear_backward(dg, xg, wg, true, true);
  const bool bwd = close<T>(dx, dx1, tol) && close<T>(dw, dw1, tol);
  const Tensor r = host(db), g = host(db1);
  const bool bias = r.numel() == g.numel() && std::memcmp(r.data<T>(), g.data<T>(), r.numel() * sizeof(T)) == 0;
  if (!fwd || !bwd || !bias)
    std::printf("FAILED GPU linear<%s> N=%lld in=%lld out=%lld: forward %d, dx/dw %d, bias grad bitwise %d\n",
                sizeof(T) == 4 ? "float" : "double", (long long)N, (long long)in, (long long)out, fwd, bwd, bias);
  EXPECT(fwd && bwd && bias);
}

static void check_on_gpu() {
  if (cuda::device_count() == 0) {
    std::printf("no GPU: the CUDA-vs-CPU comparisons of gemm and linear run CPU-vs-CPU (a check of the harness)\n");
    gpu = Device{};
  }
  std::mt19937 rng(11);
  // Odd sizes, K = 0, single rows and columns, and one C of more 128x128 tiles than an H100 has SMs (the
  // large-tile kernels; the others take the 64x64 ones).
  const int64_t sizes[][3] = {{1, 1, 1}, {7, 13, 5},   {65, 63, 129}, {130, 257, 33},
                              {3, 5, 0}, {200, 1, 17}, {1, 300, 17},  {128, 64, 24}};
  int n = 0;
  for (const auto& s : sizes)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        const int e = n++;
        const int la = e % 4, lb = (e / 4 + ta + 2 * tb) % 4;
        const double beta = e % 2 ? 0.5 : 0.0;
        gpu_gemm_case<double>(ta, tb, s[0], s[1], s[2], beta, la, lb, false, rng);
        gpu_gemm_case<float>(ta, tb, s[0], s[1], s[2], beta, la, lb, false, rng);
        gpu_gemm_case<float>(ta, tb, s[0], s[1], s[2], beta, (la + 1) % 4, (lb + 3) % 4, true, rng);
      }
  for (int layout = 0; layout < 4; ++layout) {
    gpu_gemm_case<float>(false, layout % 2 == 1, 1536, 1408, 40, 0.0, layout, (layout + 2) % 4, false, rng);
    gpu_gemm_case<float>(layout % 2 == 0, false, 1536, 1408, 40, 0.5, (layout + 1) % 4, layout, true, rng);
  }
  gpu_gemm_case<double>(false, true, 1536, 1408, 24, 0.5, 3, 2, false, rng);
  gpu_linear_case<double>(37, 29, 11, rng, 1e-12);
  gpu_linear_case<float>(64, 128, 96, rng, 1e-4);
  gpu_linear_case<float>(300, 7, 1, rng, 1e-4);
}

int main() {
  check_tile_coords();
  check_epilogue();
  check_column_sum<float>();
  check_column_sum<double>();
  check_cpu_gemm_bias<double>();
  check_simt<AsDouble<cuda::SgemmLarge>>("SgemmLarge<double>");
  check_simt<AsDouble<cuda::SgemmSmall>>("SgemmSmall<double>");
  check_simt<cuda::Dgemm>("Dgemm");
  check_simt<cuda::SgemmLarge>("SgemmLarge");
  check_simt<cuda::SgemmSmall>("SgemmSmall");
  check_wmma<cuda::Tf32Large, double>("Tf32Large<double>");
  check_wmma<cuda::Tf32Small, double>("Tf32Small<double>");
  check_wmma<cuda::Tf32Large, float>("Tf32Large<float>");
  check_empty_k_alpha<float>();
  check_empty_k_alpha<double>();
  check_on_gpu();
  std::printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
