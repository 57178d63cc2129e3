// CPU feature detection with the compiler's cpuid builtins; the env var PYCNN_SIMD=baseline opts out.
#include "core/cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "core/check.h"

namespace pycnn {

static SimdLevel detect() {
  const char* env = std::getenv("PYCNN_SIMD");
  if (env && std::strcmp(env, "baseline") == 0) return SimdLevel::Baseline;
#if defined(PYCNN_X86) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SimdLevel::AVX2;
#endif
  return SimdLevel::Baseline;
}

static std::atomic<int> g_level{-1};

SimdLevel simd_level() {
  int l = g_level.load(std::memory_order_relaxed);
  if (l < 0) {
    l = static_cast<int>(detect());
    g_level = l;
  }
  return static_cast<SimdLevel>(l);
}

const char* simd_level_name() { return simd_level() == SimdLevel::AVX2 ? "avx2" : "baseline"; }

void force_simd_level(SimdLevel level) {
  PYCNN_CHECK_RUNTIME(level == SimdLevel::Baseline || detect() == SimdLevel::AVX2,
                      "[force_simd_level] this CPU has no AVX2+FMA");
  g_level = static_cast<int>(level);
}

}  // namespace pycnn
