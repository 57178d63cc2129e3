// Winograd F(4x4, 3x3) convolution for float32, groups 1, 3x3, stride 1, dilation 1 (ops/cpu/winograd.cpp),
// and the rule that decides when conv2d.cpp takes it instead of the implicit GEMM. The forward and the input
// gradient (a full correlation of dout with the flipped, channel-transposed weights) run it, and the weight
// gradient runs its adjoint.
#pragma once
#include "pycnn/core/dtype.h"       // defines: DType
#include "pycnn/core/enum_list.h"   // defines: PYCNN_DEFINE_ENUM_LIST
#include "pycnn/core/tensor.h"      // defines: Shape
#include "pycnn/ops/kernel_args.h"  // defines: Conv2dGeometry
#include "pycnn/ops/ops.h"          // defines: Conv2dArgs

namespace pycnn {

// The CPU convolution algorithms a caller may ask for; "auto" applies the shape rule (winograd.cpp).
// clang-format off
#define PYCNN_CONV2D_ALGOS(X) \
  X(Auto,     "auto")         \
  X(Gemm,     "gemm")         \
  X(Winograd, "winograd")
// clang-format on
PYCNN_DEFINE_ENUM_LIST(Conv2dAlgo, PYCNN_CONV2D_ALGOS, "conv2d", "algorithm")

// The three computations of a convolution that may each take either algorithm.
// clang-format off
#define PYCNN_CONV2D_PASSES(X)      \
  X(Forward,    "forward")          \
  X(InputGrad,  "input_grad")       \
  X(WeightGrad, "weight_grad")
// clang-format on
PYCNN_DEFINE_ENUM_LIST(Conv2dPass, PYCNN_CONV2D_PASSES, "conv2d", "pass")

namespace cpu {

// The process-wide choice: PYCNN_CONV2D_ALGO=auto|gemm|winograd at start-up, then set_conv2d_algorithm.
// Forcing winograd makes every convolution that it can compute take it, whatever its size; others stay GEMM.
void set_conv2d_algorithm(Conv2dAlgo algo);
Conv2dAlgo conv2d_algorithm();

// The algorithm (Gemm or Winograd) that this pass of this convolution runs now.
Conv2dAlgo conv2d_algorithm_for(const Conv2dGeometry& g, DType dtype, Conv2dPass pass);
Conv2dAlgo conv2d_algorithm_for(const Shape& x, const Shape& w, const Conv2dArgs& args, DType dtype, Conv2dPass pass);

// The same contracts as conv2d_forward / _input_grad / _weight_grad (cpu_ops.h), for a g Winograd applies to.
void winograd_conv2d_forward(const float* x, const float* w, const float* b, float* y, const Conv2dGeometry& g);
void winograd_conv2d_input_grad(const float* dout, const float* w, float* dx, const Conv2dGeometry& g);
void winograd_conv2d_weight_grad(const float* dout, const float* x, float* dw, const Conv2dGeometry& g);

}  // namespace cpu
}  // namespace pycnn
