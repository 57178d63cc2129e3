// A register-only FMA loop per ISA (GCC vector extensions, one clone per target attribute, picked with
// __builtin_cpu_supports): kAcc independent accumulators hide the FMA latency, and nothing touches memory,
// so what it reaches is the arithmetic peak at the clock the cores run under load. Threads are plain
// std::threads, not parallel_for: the count must be exactly the one asked for.
#include "pycnn/core/fma_peak.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "pycnn/core/check.h"

namespace pycnn {

namespace {
using Clock = std::chrono::steady_clock;
constexpr int kAcc = 12;          // > FMA latency x FMA ports (4 x 2 on current x86 cores)
constexpr int64_t kInner = 4096;  // iterations between clock reads

// Runs the loop for `seconds`; returns FLOPs per second. acc = acc * a + b stays finite for ever
// (a < 1) and the sum goes to a volatile sink so the compiler keeps the work.
template <typename V>
__attribute__((always_inline)) inline double fma_loop(double seconds) {
  constexpr int lanes = sizeof(V) / sizeof(float);
  V acc[kAcc];
  for (int k = 0; k < kAcc; ++k) acc[k] = V{} + 0.5f + 0.01f * k;
  const V a = V{} + 0.999999f, b = V{} + 1e-6f;
  int64_t iters = 0;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  auto now = start;
  do {
    for (int64_t i = 0; i < kInner; ++i)
#pragma GCC unroll 16
      for (int k = 0; k < kAcc; ++k) acc[k] = acc[k] * a + b;
    iters += kInner;
    now = Clock::now();
  } while (now < until);
  V s = acc[0];
  for (int k = 1; k < kAcc; ++k) s += acc[k];
  volatile float sink = s[0];
  (void)sink;
  const double elapsed = std::chrono::duration<double>(now - start).count();
  return 2.0 * lanes * kAcc * double(iters) / elapsed;
}

typedef float F16 __attribute__((vector_size(64)));
typedef float F8 __attribute__((vector_size(32)));
typedef float F4 __attribute__((vector_size(16)));

#if defined(__x86_64__)
__attribute__((target("avx512f"))) double loop_avx512(double s) { return fma_loop<F16>(s); }
__attribute__((target("avx2,fma"))) double loop_avx2(double s) { return fma_loop<F8>(s); }
#endif
double loop_baseline(double s) { return fma_loop<F4>(s); }  // SSE2: a multiply and an add

using Loop = double (*)(double);
Loop best_loop(const char** isa) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return *isa = "avx512f", loop_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return *isa = "avx2+fma", loop_avx2;
#endif
  return *isa = "baseline", loop_baseline;
}
}  // namespace

const char* fma_peak_isa() {
  const char* isa = nullptr;
  best_loop(&isa);
  return isa;
}

double fma_peak_gflops(int threads, double seconds) {
  PYCNN_CHECK(threads >= 1 && threads <= 1024, "[fma_peak_gflops] expected 1 to 1024 threads, got ", threads);
  PYCNN_CHECK(seconds > 0 && seconds <= 60, "[fma_peak_gflops] expected 0 < seconds <= 60, got ", seconds);
  const char* isa = nullptr;
  const Loop loop = best_loop(&isa);
  std::vector<double> flops(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back([&, t] { flops[t] = loop(seconds); });
  flops[0] = loop(seconds);
  for (auto& th : pool) th.join();
  double total = 0;
  for (double f : flops) total += f;
  return total * 1e-9;
}

}  // namespace pycnn
