// The argument structs that the entry points compute once and pass to a kernel of either device
// (ops/cpu/cpu_ops.h, ops/cuda/cuda_ops.h).
#pragma once
#include <array>
#include <cstdint>

#include "pycnn/core/tensor.h"  // defines: Shape

namespace pycnn {

// Two strided views of one shape: *strides[t] are view t's element strides, 0 along broadcast dims. Copy: the
// destination (0) and the source (1); binary ops: the operands a (0) and b (1), the output being contiguous.
// It points at the tensors' own shape and strides: these kernels serve tiny tensors too, where copying the
// vectors would cost more than the work.
struct StridedViews {
  const Shape* shape = nullptr;
  std::array<const Shape*, 2> strides = {nullptr, nullptr};
};

// Convolution as an implicit GEMM; x (N, C, H, W), w (OC, C/groups, KH, KW), y (N, OC, OH, OW).
struct Conv2dGeometry {
  int64_t N, C, H, W, OC, KH, KW, OH, OW;
  int64_t G, Cg, OCg;  // groups, input and output channels per group
  int64_t K, P;        // the implicit GEMM: K = Cg*KH*KW rows of col(x), P = OH*OW columns
  int64_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
  bool pointwise;  // 1x1, stride 1, no padding: col(x) == x
};

// Deformable convolution, per image (ops/cpu/cpu_ops.h's deform_conv section says the buffers' layouts).
struct DeformGeometry {
  int64_t C, H, W, KH, KW, OH, OW, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, offset_groups;
};

}  // namespace pycnn
