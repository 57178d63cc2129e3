// Bindings of deformable convolution (ops/deform_conv.cpp); conventions in bindings/common.h.
#include "common.h"

namespace pycnn::bindings {

static DeformConv2dArgs deform_args(Pair stride, Pair padding, Pair dilation) {
  DeformConv2dArgs a;
  a.stride_h = stride.first, a.stride_w = stride.second;
  a.pad_h = padding.first, a.pad_w = padding.second;
  a.dilation_h = dilation.first, a.dilation_w = dilation.second;
  return a;
}

void init_deform_conv(py::module_& m) {
  m.def(
      "deform_conv2d_forward",
      [](const Tensor& x, const Tensor& offset, const std::optional<Tensor>& mask, const Tensor& w,
         const std::optional<Tensor>& b, Pair stride, Pair padding, Pair dilation) {
        py::gil_scoped_release nogil;
        return deform_conv2d_forward(x, offset, undefined_if_none(mask), w, undefined_if_none(b),
                                     deform_args(stride, padding, dilation));
      },
      "x (N, C, H, W), offset (N, 2*og*KH*KW, OH, OW), mask (N, og*KH*KW, OH, OW) or None, w (OC, C/groups, KH, KW)");
  m.def(
      "deform_conv2d_backward",
      [](const Tensor& dout, const Tensor& x, const Tensor& offset, const std::optional<Tensor>& mask, const Tensor& w,
         Pair stride, Pair padding, Pair dilation, bool need_dx, bool need_doffset, bool need_dmask, bool need_dw,
         bool need_db) {
        std::tuple<Tensor, Tensor, Tensor, Tensor, Tensor> r;
        {
          py::gil_scoped_release nogil;
          r = deform_conv2d_backward(dout, x, offset, undefined_if_none(mask), w,
                                     deform_args(stride, padding, dilation), need_dx, need_doffset, need_dmask, need_dw,
                                     need_db);
        }
        return none_if_undefined(r);
      },
      "returns (dx, doffset, dmask, dw, db), None where not asked for");
}

}  // namespace pycnn::bindings
