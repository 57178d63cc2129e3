// C++ GEMM benchmark: GFLOP/s of cpu::gemm (C = A @ B, square n x n, row-major) for float and double,
// n = 256..2048, 1 and 2 threads; each figure is the median of several timed runs of a few calls each.
// Usage: bench_gemm_cpp [sizes...]   (PYCNN_SIMD=baseline times the portable kernels)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "pycnn/core/cpu_features.h"  // defines: simd_level_name
#include "pycnn/core/parallel.h"      // defines: set_num_threads
#include "pycnn/ops/cpu/cpu_ops.h"    // defines: cpu::gemm

using namespace pycnn;

template <typename T>
static double bench(int64_t n, int threads) {
  set_num_threads(threads);
  std::vector<T> a(n * n), b(n * n), c(n * n);
  std::mt19937 rng(0);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  for (auto& x : a) x = T(dist(rng));
  for (auto& x : b) x = T(dist(rng));
  const double flops = 2.0 * double(n) * double(n) * double(n);
  // Enough calls per timed run for ~0.1 s, so that short runs do not drown in timer noise.
  const int calls = std::max(1, int(2e9 / flops));
  auto run = [&] {
    for (int i = 0; i < calls; ++i)
      cpu::gemm<T>(false, false, n, n, n, T(1), a.data(), n, b.data(), n, T(0), c.data(), n);
  };
  run();  // warm-up: page faults, packing buffers, the OpenMP pool
  std::vector<double> gflops;
  for (int r = 0; r < 7; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    run();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    gflops.push_back(flops * calls / s / 1e9);
  }
  std::sort(gflops.begin(), gflops.end());
  return gflops[gflops.size() / 2];
}

int main(int argc, char** argv) {
  std::vector<int64_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoll(argv[i]));
  if (sizes.empty()) sizes = {256, 512, 1024, 2048};
  std::printf("pycnn cpu::gemm, kernels: %s, GFLOP/s (median of 7)\n", simd_level_name());
  std::printf("%6s %10s %10s %10s %10s\n", "n", "f32 1T", "f32 2T", "f64 1T", "f64 2T");
  for (int64_t n : sizes) {
    double s1 = bench<float>(n, 1), s2 = bench<float>(n, 2);
    double d1 = bench<double>(n, 1), d2 = bench<double>(n, 2);
    std::printf("%6lld %10.1f %10.1f %10.1f %10.1f\n", (long long)n, s1, s2, d1, d2);
    std::fflush(stdout);
  }
  return 0;
}
