// The kernel set in use: the table of the set simd_level() names (simd/simd.h).
#include "pycnn/core/cpu_features.h"  // defines: simd_level, SimdLevel
#include "pycnn/ops/cpu/simd/simd.h"  // defines: KernelSet, PYCNN_KERNEL_SETS

namespace pycnn::cpu {

const KernelSet& kernel_set() {
  // Indexed by SimdLevel: both lists are in the same order, with the same names (tests/cpp/test_gemm.cpp
  // checks each set's name against the level that picked it).
#define PYCNN_KERNEL_SET_ENTRY(ns) &ns::kernel_set,
  static const KernelSet& (*const sets[])() = {PYCNN_KERNEL_SETS(PYCNN_KERNEL_SET_ENTRY)};
#undef PYCNN_KERNEL_SET_ENTRY
  return sets[static_cast<int>(simd_level())]();
}

}  // namespace pycnn::cpu
