// Runtime CPU feature check, done once: picks which compiled copy of the SIMD kernels runs.
#pragma once
#include <string>
#include <vector>

#include "core/enum_list.h"  // defines: PYCNN_DEFINE_ENUM_LIST, enum_name, parse_enum, enum_names

namespace pycnn {

// The kernel sets, from the portable one up; each line: X(Enum, "name").
// clang-format off
#define PYCNN_SIMD_LEVELS(X) \
  X(Baseline, "baseline")    \
  X(AVX2,     "avx2")
// clang-format on
PYCNN_DEFINE_ENUM_LIST(SimdLevel, PYCNN_SIMD_LEVELS, "simd", "level")

SimdLevel simd_level();         // the kernel set in use: the best this CPU runs, unless forced
const char* simd_level_name();  // its name: "avx2" or "baseline"
// The names of the kernel sets this CPU can run, from "baseline" up (tests run every one of them).
std::vector<std::string> supported_simd_levels();
// Use another kernel set this CPU supports (RuntimeError otherwise); PYCNN_SIMD=<name> in the
// environment does the same at start-up.
void force_simd_level(SimdLevel level);

}  // namespace pycnn
