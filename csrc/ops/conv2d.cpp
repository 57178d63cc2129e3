// 2-D convolution (cross-correlation, as in every framework): forward, input gradient, weight and
// bias gradients. x (N, C, H, W), w (OC, C/groups, KH, KW), b (OC,) -> y (N, OC, OH, OW) with
// OH = (H + 2*pad_h - dilation_h*(KH-1) - 1) / stride_h + 1. The kernels are implicit GEMMs on both devices
// (ops/cpu/conv2d.cpp, ops/cuda/conv2d.cu), with direct kernels for depthwise convolutions.
#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH
#include "pycnn/ops/ops.h"

namespace pycnn {

static Shape conv2d_output_shape(const Tensor& x, const Tensor& w, const Conv2dArgs& a, const char* op) {
  check_conv_args(x, w, a, op, "(out_channels, in_channels/groups, kH, kW)");
  const int64_t C = x.size(1), OC = w.size(0);
  PYCNN_CHECK(OC % a.groups == 0, "[", op, "] out_channels ", OC, " is not divisible by groups ", a.groups);
  PYCNN_CHECK(w.size(1) * a.groups == C, "[", op,
              "] expected input of shape (N, C, H, W) with C=", w.size(1) * a.groups, " (weight ", shape_str(w.shape()),
              ", groups=", a.groups, "), got ", shape_str(x.shape()));
  const int64_t eff_h = checked_add(checked_mul(a.dilation_h, w.size(2) - 1, op), 1, op);
  const int64_t eff_w = checked_add(checked_mul(a.dilation_w, w.size(3) - 1, op), 1, op);
  const int64_t ph = checked_add(x.size(2), checked_mul(2, a.pad_h, op), op);
  const int64_t pw = checked_add(x.size(3), checked_mul(2, a.pad_w, op), op);
  PYCNN_CHECK(ph >= eff_h && pw >= eff_w, "[", op, "] input ", shape_str(x.shape()), " (padded to ", ph, "x", pw,
              ") is smaller than the kernel (", eff_h, "x", eff_w, " with dilation)");
  Shape out = {x.size(0), OC, (ph - eff_h) / a.stride_h + 1, (pw - eff_w) / a.stride_w + 1};
  check_output_shape(out, op);
  return out;
}

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dArgs& args) {
  Shape out_shape = conv2d_output_shape(x, w, args, "conv2d");
  if (b.defined()) {
    check_same(x, b, "conv2d", "input", "bias");
    PYCNN_CHECK(b.dim() == 1 && b.size(0) == w.size(0), "[conv2d] expected bias of shape (", w.size(0), ",), got ",
                shape_str(b.shape()));
  }
  Tensor xc = x.contiguous(), wc = w.contiguous(), bc = b.defined() ? b.contiguous() : b;
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  const cpu::Conv2dGeometry g = cpu::conv2d_geometry(x.shape(), w.shape(), out_shape, args);
  dispatch_floating(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), conv2d_forward<T>, xc.data<T>(), wc.data<T>(), bc.defined() ? bc.data<T>() : nullptr,
                   y.data<T>(), g);
  });
  return y;
}

std::tuple<Tensor, Tensor, Tensor> conv2d_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                                   const Conv2dArgs& args, bool need_dx, bool need_dw, bool need_db) {
  Shape out_shape = conv2d_output_shape(x, w, args, "conv2d_backward");
  check_same(dout, x, "conv2d_backward", "grad_output", "input");
  PYCNN_CHECK(dout.shape() == out_shape, "[conv2d_backward] expected grad_output of shape ", shape_str(out_shape),
              ", got ", shape_str(dout.shape()));
  Tensor dc = dout.contiguous(), xc = x.contiguous(), wc = w.contiguous();
  Tensor dx, dw, db;
  if (need_dx) dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (need_dw) dw = Tensor::empty(w.shape(), w.dtype(), w.device());
  if (need_db) db = sum(dc, {0, 2, 3}, false);
  const cpu::Conv2dGeometry g = cpu::conv2d_geometry(x.shape(), w.shape(), out_shape, args);
  dispatch_floating(x.dtype(), "conv2d_backward", [&](auto tag) {
    using T = decltype(tag);
    if (need_dx) PYCNN_DISPATCH(x.device(), conv2d_input_grad<T>, dc.data<T>(), wc.data<T>(), dx.data<T>(), g);
    if (need_dw) PYCNN_DISPATCH(x.device(), conv2d_weight_grad<T>, dc.data<T>(), xc.data<T>(), dw.data<T>(), g);
  });
  return {dx, dw, db};
}

}  // namespace pycnn
