// Runtime CPU feature check, done once: picks which compiled copy of the SIMD kernels runs.
#pragma once

namespace pycnn {

enum class SimdLevel { Baseline, AVX2 };

SimdLevel simd_level();         // what this CPU supports (AVX2 and FMA both, or baseline)
const char* simd_level_name();  // "avx2" or "baseline"
// Force the baseline kernels (tests use it to check both copies on one machine); PYCNN_SIMD=baseline
// in the environment does the same at start-up.
void force_simd_level(SimdLevel level);

}  // namespace pycnn
