// Runtime CPU feature check, done once: picks which compiled copy of the SIMD kernels runs.
#pragma once
#include <string>
#include <vector>

#include "pycnn/core/enum_list.h"  // defines: PYCNN_DEFINE_ENUM_LIST, enum_name, parse_enum, enum_names

namespace pycnn {

// The kernel sets (ops/cpu/simd/simd.h, same order); each line: X(Enum, "name"). Portable8/16 are the
// wide sets' code built with baseline instructions: never picked on their own, tests select them.
// clang-format off
#define PYCNN_SIMD_LEVELS(X)    \
  X(Baseline,   "baseline")     \
  X(Portable8,  "portable8")    \
  X(Portable16, "portable16")   \
  X(AVX2,       "avx2")         \
  X(AVX512,     "avx512")
// clang-format on
PYCNN_DEFINE_ENUM_LIST(SimdLevel, PYCNN_SIMD_LEVELS, "simd", "level")

SimdLevel simd_level();         // the kernel set in use: the best this CPU runs, unless forced
const char* simd_level_name();  // its name: "avx512", "avx2" or "baseline"
// Whether this CPU runs the kernel set.
bool simd_level_supported(SimdLevel level);
// The names of the kernel sets this CPU can run, in the list's order (tests run every one of them).
std::vector<std::string> supported_simd_levels();
// Use another kernel set this CPU supports (RuntimeError otherwise); PYCNN_SIMD=<name> in the
// environment does the same at start-up.
void force_simd_level(SimdLevel level);

}  // namespace pycnn
