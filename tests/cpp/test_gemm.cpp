// C++ test of cpu::gemm against cpu::gemm_naive: float and double, the four transpose combinations, odd
// sizes, K = 0, alpha/beta, beta = 0 over a NaN-filled C, padded leading dimensions, 1 and 2 threads, and
// both SIMD kernel sets. Prints one line per failing case and a closing "N passed, N failed".
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "pycnn/core/cpu_features.h"  // defines: force_simd_level, simd_level
#include "pycnn/core/parallel.h"      // defines: set_num_threads
#include "pycnn/ops/cpu/cpu_ops.h"    // defines: cpu::gemm, cpu::gemm_naive
#include "pycnn/ops/cpu/simd/simd.h"  // defines: cpu::kernel_set

using namespace pycnn;

static int passed = 0, failed = 0;

struct Case {
  bool ta, tb;
  int64_t M, N, K;
  double alpha, beta;
  int64_t pad;  // extra columns in every leading dimension
};

template <typename T>
static void run_case(const Case& cs, std::mt19937& rng, const char* level, int threads) {
  const int64_t M = cs.M, N = cs.N, K = cs.K;
  // Stored shapes: A is (M, K), or (K, M) when transposed; likewise B.
  const int64_t a_rows = cs.ta ? K : M, a_cols = cs.ta ? M : K;
  const int64_t b_rows = cs.tb ? N : K, b_cols = cs.tb ? K : N;
  const int64_t lda = a_cols + cs.pad, ldb = b_cols + cs.pad, ldc = N + cs.pad;
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  // +1 so that no pointer is null even when a dimension is 0.
  std::vector<T> a(a_rows * lda + 1), b(b_rows * ldb + 1), c(M * ldc + 1), ref;
  for (auto& x : a) x = T(dist(rng));
  for (auto& x : b) x = T(dist(rng));
  const T nan = std::numeric_limits<T>::quiet_NaN();
  for (auto& x : c) x = cs.beta == 0 ? nan : T(dist(rng));
  ref = c;

  const T alpha = T(cs.alpha), beta = T(cs.beta);
  cpu::gemm_naive<T>(cs.ta, cs.tb, M, N, K, alpha, a.data(), lda, b.data(), ldb, beta, ref.data(), ldc);
  cpu::gemm<T>(cs.ta, cs.tb, M, N, K, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);

  // Rounding grows like sqrt(K) * eps for random-sign sums; allow a generous multiple of K * eps.
  const double eps = std::numeric_limits<T>::epsilon();
  const double tol = 4.0 * eps * double(K + 2) * (std::fabs(cs.alpha) + std::fabs(cs.beta) + 1.0);
  int64_t bad = 0;
  double worst = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const T got = c[i * ldc + j], want = ref[i * ldc + j];
      if (j >= N) {
        // Padding beyond N must be left alone (NaN stays NaN).
        if (!(got == want || (std::isnan(got) && std::isnan(want)))) ++bad;
        continue;
      }
      const double err = std::fabs(double(got) - double(want));
      if (!(err <= tol)) ++bad;  // also catches NaN
      if (err > worst || std::isnan(err)) worst = err;
    }
  if (bad) {
    ++failed;
    std::printf(
        "FAILED %s %s threads=%d ta=%d tb=%d M=%lld N=%lld K=%lld alpha=%g beta=%g pad=%lld: %lld bad, "
        "worst err %g (tol %g)\n",
        sizeof(T) == 4 ? "float" : "double", level, threads, cs.ta, cs.tb, (long long)M, (long long)N, (long long)K,
        cs.alpha, cs.beta, (long long)cs.pad, (long long)bad, worst, tol);
  } else {
    ++passed;
  }
}

template <typename T>
static void run_all(std::mt19937& rng, const char* level, int threads) {
  const int64_t sizes[] = {1, 2, 5, 6, 7, 13, 16, 17, 31, 33, 48, 67};
  const double scalars[][2] = {{1.0, 0.0}, {1.0, 1.0}, {-0.5, 2.0}, {1.5, 0.0}};
  int s = 0;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (int64_t M : sizes)
        for (int64_t N : sizes) {
          // Walk K and the scalars through the sizes instead of a full cross product.
          const int64_t K = sizes[(M + 3 * N + s) % 12];
          const double* ab = scalars[s % 4];
          run_case<T>({bool(ta), bool(tb), M, N, K, ab[0], ab[1], int64_t(s % 3) * 3}, rng, level, threads);
          ++s;
        }
  // K = 0: C = beta * C (and zeros for beta = 0 over NaN). M or N = 0: nothing to do.
  for (double beta : {0.0, 0.5})
    for (int ta = 0; ta < 2; ++ta) run_case<T>({bool(ta), true, 7, 19, 0, 1.0, beta, 2}, rng, level, threads);
  run_case<T>({false, false, 0, 5, 7, 1.0, 0.0, 0}, rng, level, threads);
  run_case<T>({false, false, 5, 0, 7, 1.0, 0.0, 0}, rng, level, threads);
  // Sizes that cross the cache blocks (mc, kc, the even K split) and go multi-threaded.
  const Case big[] = {
      {false, false, 300, 290, 520, 1.0, 0.0, 0}, {true, false, 203, 385, 300, 0.75, 0.5, 5},
      {false, true, 411, 97, 257, 1.0, 1.0, 1},   {true, true, 150, 333, 129, -1.0, 0.0, 3},
      {false, false, 256, 6, 150, 1.0, 0.0, 0},   {true, false, 1000, 3, 64, 1.0, 0.5, 0},
      {false, true, 5, 900, 300, 1.0, 0.0, 2},   // threads split N
      {false, true, 2000, 5, 200, 1.0, 0.5, 1},  // computed as C^T, threaded
  };
  for (const Case& cs : big) run_case<T>(cs, rng, level, threads);
}

int main() {
  std::mt19937 rng(1234);
  const SimdLevel start = simd_level();
  for (size_t i = 0; i < enum_count<SimdLevel>(); ++i) {
    const auto level = static_cast<SimdLevel>(i);
    const char* name = enum_name(level);
    if (!simd_level_supported(level)) {
      std::printf("SKIPPED: this CPU cannot run the '%s' kernel set\n", name);
      continue;
    }
    force_simd_level(level);
    if (std::string(cpu::kernel_set().name) != name) {
      std::printf("FAILED: level '%s' picked the kernel set '%s'\n", name, cpu::kernel_set().name);
      ++failed;
    }
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      run_all<float>(rng, name, threads);
      run_all<double>(rng, name, threads);
    }
  }
  force_simd_level(start);
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
