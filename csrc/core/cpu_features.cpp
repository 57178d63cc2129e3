// CPU feature detection with the compiler's cpuid builtins; PYCNN_SIMD=<level> picks a lower kernel set.
#include "pycnn/core/cpu_features.h"

#include <atomic>
#include <cstdlib>

#include "pycnn/core/check.h"

namespace pycnn {

static bool cpu_has(SimdLevel level) {
#if defined(PYCNN_X86) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (level == SimdLevel::AVX2) return avx2;
  // The set is built with -mavx512f/bw/vl/dq (the Skylake-SP subset: every AVX-512 CPU has it).
  if (level == SimdLevel::AVX512)
    return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#endif
  return level == SimdLevel::Baseline || level == SimdLevel::Portable8 || level == SimdLevel::Portable16;
}

static bool supported(SimdLevel level) { return cpu_has(level); }

// The best kernel set this CPU runs (the portable sets are for tests only).
static SimdLevel best_supported() {
  if (cpu_has(SimdLevel::AVX512)) return SimdLevel::AVX512;
  if (cpu_has(SimdLevel::AVX2)) return SimdLevel::AVX2;
  return SimdLevel::Baseline;
}

static SimdLevel detect() {
  const char* env = std::getenv("PYCNN_SIMD");
  if (env) {
    const SimdLevel wanted = parse_enum<SimdLevel>(env);  // an unknown name fails loudly at start-up
    if (supported(wanted)) return wanted;
  }
  return best_supported();
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

const char* simd_level_name() { return enum_name(simd_level()); }

bool simd_level_supported(SimdLevel level) { return supported(level); }

std::vector<std::string> supported_simd_levels() {
  std::vector<std::string> names;
  for (size_t i = 0; i < enum_count<SimdLevel>(); ++i)
    if (supported(static_cast<SimdLevel>(i))) names.push_back(enum_name(static_cast<SimdLevel>(i)));
  return names;
}

void force_simd_level(SimdLevel level) {
  PYCNN_CHECK_RUNTIME(supported(level), "[simd] this CPU cannot run the '", enum_name(level), "' kernels");
  g_level = static_cast<int>(level);
}

}  // namespace pycnn
