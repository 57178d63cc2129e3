// The kernels compiled twice (baseline and AVX2+FMA). Each copy lives in pycnn::cpu::<PYCNN_KNS>;
// ops/cpu/*.cpp pick one through simd_level(). Keep these TUs free of out-of-line std:: templates:
// two copies built with different -m flags would break the one-definition rule.
#pragma once
#include <cstdint>

namespace pycnn::cpu {
namespace base {
const char* kernel_set_name();
}
namespace avx2 {
const char* kernel_set_name();
}
}  // namespace pycnn::cpu
