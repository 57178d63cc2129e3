// Bindings of 3-D convolution (ops/conv3d.cpp) and of unfold / fold (ops/fold.cpp), its 2-D im2col
// neighbours; conventions in bindings/common.h. Window arguments come as (d, h, w) triples or (h, w) pairs.
#include "common.h"

namespace pycnn::bindings {

namespace {

using Triple = std::tuple<int64_t, int64_t, int64_t>;

Conv3dArgs conv3d_args(Triple stride, Triple padding, Triple dilation, int64_t groups) {
  Conv3dArgs a;
  std::tie(a.stride_d, a.stride_h, a.stride_w) = stride;
  std::tie(a.pad_d, a.pad_h, a.pad_w) = padding;
  std::tie(a.dilation_d, a.dilation_h, a.dilation_w) = dilation;
  a.groups = groups;
  return a;
}

}  // namespace

void init_conv3d(py::module_& m) {
  m.def("conv3d_forward", [](const Tensor& x, const Tensor& w, const OptTensor& b, Triple stride, Triple padding,
                             Triple dilation, int64_t groups) {
    py::gil_scoped_release nogil;
    return conv3d_forward(x, w, undefined_if_none(b), conv3d_args(stride, padding, dilation, groups));
  });
  m.def("conv3d_backward", [](const Tensor& dout, const Tensor& x, const Tensor& w, Triple stride, Triple padding,
                              Triple dilation, int64_t groups, bool need_dx, bool need_dw, bool need_db) {
    std::tuple<Tensor, Tensor, Tensor> r;
    {
      py::gil_scoped_release nogil;
      r = conv3d_backward(dout, x, w, conv3d_args(stride, padding, dilation, groups), need_dx, need_dw, need_db);
    }
    return none_if_undefined(r);
  });
  m.def(
      "unfold_forward",
      [](const Tensor& x, Pair kernel, Pair dilation, Pair padding, Pair stride) {
        py::gil_scoped_release nogil;
        return unfold_forward(x, kernel.first, kernel.second, conv2d_args(stride, padding, dilation, 1));
      },
      "x (N, C, H, W) -> (N, C*kH*kW, L); arguments in torch's order (kernel_size, dilation, padding, stride)");
  m.def(
      "fold_forward",
      [](const Tensor& col, Pair output_size, Pair kernel, Pair dilation, Pair padding, Pair stride) {
        py::gil_scoped_release nogil;
        return fold_forward(col, output_size.first, output_size.second, kernel.first, kernel.second,
                            conv2d_args(stride, padding, dilation, 1));
      },
      "col (N, C*kH*kW, L) -> (N, C, H, W), overlaps summed; arguments in torch's order");
}

}  // namespace pycnn::bindings
