// This kernel set's table (simd.h's KernelSet), built from the functions its files define.
#include "ops/cpu/simd/kernels.h"

#define PYCNN_STRINGIFY_(x) #x
#define PYCNN_STRINGIFY(x) PYCNN_STRINGIFY_(x)

namespace pycnn::cpu::PYCNN_KNS {

const KernelSet& kernel_set() {
  static const KernelSet set = {
      PYCNN_STRINGIFY(PYCNN_KNS), PYCNN_VEC_BYTES,  gemm_kernels_f32(),
      gemm_kernels_f64(),         max_pool_2x2_row, max_pool_2x2_row,
  };
  return set;
}

}  // namespace pycnn::cpu::PYCNN_KNS
