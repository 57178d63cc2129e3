// Placeholder until the packed GEMM micro-kernels land.
#include "ops/cpu/simd/simd.h"

namespace pycnn::cpu::PYCNN_KNS {
const char* kernel_set_name() { return
#ifdef PYCNN_HAVE_AVX2
    "avx2";
#else
    "baseline";
#endif
}
}  // namespace pycnn::cpu::PYCNN_KNS
