// 3-D convolution (cross-correlation): forward, input gradient, weight and bias gradients.
// x (N, C, D, H, W), w (OC, C/groups, KD, KH, KW), b (OC,) -> y (N, OC, OD, OH, OW) with
// OD = (D + 2*pad_d - dilation_d*(KD-1) - 1) / stride_d + 1, same for H and W. Checks and messages are
// conv2d's with a third dim; the kernels (ops/cpu/conv3d.cpp) are vol2col + GEMM. No CUDA kernel yet.
#include <tuple>

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: dispatch_floating, cpu:: kernels
#include "pycnn/ops/ops.h"

namespace pycnn {

namespace {

// conv2d's check_conv_args, with depth: float 5-D input and weight on one device, positive stride,
// dilation, groups and kernel, non-negative padding.
void check_conv3d_args(const Tensor& x, const Tensor& w, const Conv3dArgs& a, const char* op) {
  check_floating(x, op, "input");
  check_same(x, w, op, "input", "weight");
  check_rank(x, 5, op, "input", "(N, C, D, H, W)");
  check_rank(w, 5, op, "weight", "(out_channels, in_channels/groups, kD, kH, kW)");
  check_cpu(x, op);
  PYCNN_CHECK(a.stride_d > 0 && a.stride_h > 0 && a.stride_w > 0, "[", op, "] stride must be positive, got (",
              a.stride_d, ", ", a.stride_h, ", ", a.stride_w, ")");
  PYCNN_CHECK(a.pad_d >= 0 && a.pad_h >= 0 && a.pad_w >= 0, "[", op, "] padding must be non-negative, got (", a.pad_d,
              ", ", a.pad_h, ", ", a.pad_w, ")");
  PYCNN_CHECK(a.dilation_d > 0 && a.dilation_h > 0 && a.dilation_w > 0, "[", op, "] dilation must be positive, got (",
              a.dilation_d, ", ", a.dilation_h, ", ", a.dilation_w, ")");
  PYCNN_CHECK(a.groups > 0, "[", op, "] groups must be positive, got ", a.groups);
  PYCNN_CHECK(w.size(2) > 0 && w.size(3) > 0 && w.size(4) > 0, "[", op, "] kernel size must be positive, weight is ",
              shape_str(w.shape()));
}

// The output size along one dim, or an error when the padded input is smaller than the dilated kernel.
int64_t conv_out_size(const Tensor& x, int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dilation,
                      const char* op) {
  const int64_t eff = checked_add(checked_mul(dilation, k - 1, op), 1, op);
  const int64_t padded = checked_add(in, checked_mul(2, pad, op), op);
  PYCNN_CHECK(padded >= eff, "[", op, "] input ", shape_str(x.shape()), " (padded to ", padded,
              " along a spatial dim) is smaller than the kernel (", eff, " with dilation)");
  return (padded - eff) / stride + 1;
}

Shape conv3d_output_shape(const Tensor& x, const Tensor& w, const Conv3dArgs& a, const char* op) {
  check_conv3d_args(x, w, a, op);
  const int64_t C = x.size(1), OC = w.size(0);
  PYCNN_CHECK(OC % a.groups == 0, "[", op, "] out_channels ", OC, " is not divisible by groups ", a.groups);
  PYCNN_CHECK(w.size(1) * a.groups == C, "[", op,
              "] expected input of shape (N, C, D, H, W) with C=", w.size(1) * a.groups, " (weight ",
              shape_str(w.shape()), ", groups=", a.groups, "), got ", shape_str(x.shape()));
  Shape out = {x.size(0), OC, conv_out_size(x, x.size(2), w.size(2), a.stride_d, a.pad_d, a.dilation_d, op),
               conv_out_size(x, x.size(3), w.size(3), a.stride_h, a.pad_h, a.dilation_h, op),
               conv_out_size(x, x.size(4), w.size(4), a.stride_w, a.pad_w, a.dilation_w, op)};
  check_output_shape(out, op);
  return out;
}

cpu::Conv3dGeometry conv3d_geometry(const Shape& x, const Shape& w, const Shape& y, const Conv3dArgs& a) {
  cpu::Conv3dGeometry g;
  g.N = x[0], g.C = x[1], g.D = x[2], g.H = x[3], g.W = x[4];
  g.OC = w[0], g.KD = w[2], g.KH = w[3], g.KW = w[4], g.OD = y[2], g.OH = y[3], g.OW = y[4];
  g.G = a.groups, g.Cg = g.C / g.G, g.OCg = g.OC / g.G;
  g.K = g.Cg * g.KD * g.KH * g.KW, g.P = g.OD * g.OH * g.OW;
  g.stride_d = a.stride_d, g.stride_h = a.stride_h, g.stride_w = a.stride_w;
  g.pad_d = a.pad_d, g.pad_h = a.pad_h, g.pad_w = a.pad_w;
  g.dilation_d = a.dilation_d, g.dilation_h = a.dilation_h, g.dilation_w = a.dilation_w;
  return g;
}

}  // namespace

Tensor conv3d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv3dArgs& args) {
  Shape out_shape = conv3d_output_shape(x, w, args, "conv3d");
  if (b.defined()) {
    check_same(x, b, "conv3d", "input", "bias");
    PYCNN_CHECK(b.dim() == 1 && b.size(0) == w.size(0), "[conv3d] expected bias of shape (", w.size(0), ",), got ",
                shape_str(b.shape()));
  }
  Tensor xc = x.contiguous(), wc = w.contiguous(), bc = b.defined() ? b.contiguous() : b;
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  const cpu::Conv3dGeometry g = conv3d_geometry(x.shape(), w.shape(), out_shape, args);
  dispatch_floating(x.dtype(), "conv3d", [&](auto tag) {
    using T = decltype(tag);
    cpu::conv3d_forward<T>(xc.data<T>(), wc.data<T>(), bc.defined() ? bc.data<T>() : nullptr, y.data<T>(), g);
  });
  return y;
}

std::tuple<Tensor, Tensor, Tensor> conv3d_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                                   const Conv3dArgs& args, bool need_dx, bool need_dw, bool need_db) {
  Shape out_shape = conv3d_output_shape(x, w, args, "conv3d_backward");
  check_same(dout, x, "conv3d_backward", "grad_output", "input");
  PYCNN_CHECK(dout.shape() == out_shape, "[conv3d_backward] expected grad_output of shape ", shape_str(out_shape),
              ", got ", shape_str(dout.shape()));
  Tensor dc = dout.contiguous(), xc = x.contiguous(), wc = w.contiguous();
  Tensor dx, dw, db;
  if (need_dx) dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (need_dw) dw = Tensor::empty(w.shape(), w.dtype(), w.device());
  if (need_db) db = sum(dc, {0, 2, 3, 4}, false);
  const cpu::Conv3dGeometry g = conv3d_geometry(x.shape(), w.shape(), out_shape, args);
  dispatch_floating(x.dtype(), "conv3d_backward", [&](auto tag) {
    using T = decltype(tag);
    if (need_dx) cpu::conv3d_input_grad<T>(dc.data<T>(), wc.data<T>(), dx.data<T>(), g);
    if (need_dw) cpu::conv3d_weight_grad<T>(dc.data<T>(), xc.data<T>(), dw.data<T>(), g);
  });
  return {dx, dw, db};
}

}  // namespace pycnn
