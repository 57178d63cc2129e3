// Bindings of the convolution family (ops/convs.cpp): padding, with its mode by name (ops.h: PYCNN_PAD_MODES),
// and transposed convolution; conventions in bindings/common.h.
#include "common.h"

namespace pycnn::bindings {

void init_convs(py::module_& m) {
  m.def("pad_mode_names", &enum_names<PadMode>, "the padding modes' names, in the order of ops.h's list");
  m.def(
      "pad_forward",
      [](const Tensor& x, const std::vector<int64_t>& pads, const std::string& mode, double value) {
        PadMode pm = parse_enum<PadMode>(mode);
        py::gil_scoped_release nogil;
        return pad_forward(x, pads, pm, value);
      },
      "Pads the trailing dims of x; pads in torch order (last dim first)");
  m.def("pad_backward",
        [](const Tensor& dout, const Shape& x_shape, const std::vector<int64_t>& pads, const std::string& mode) {
          PadMode pm = parse_enum<PadMode>(mode);
          py::gil_scoped_release nogil;
          return pad_backward(dout, x_shape, pads, pm);
        });

  m.def(
      "conv_transpose2d_forward",
      [](const Tensor& x, const Tensor& w, const std::optional<Tensor>& b, Pair stride, Pair padding,
         Pair output_padding, Pair dilation, int64_t groups) {
        py::gil_scoped_release nogil;
        return conv_transpose2d_forward(x, w, undefined_if_none(b), conv2d_args(stride, padding, dilation, groups),
                                        output_padding.first, output_padding.second);
      },
      "x (N, C, H, W), w (C, OC/groups, kH, kW) -> (N, OC, OH, OW)");
  m.def("conv_transpose2d_backward", [](const Tensor& dout, const Tensor& x, const Tensor& w, Pair stride, Pair padding,
                                        Pair dilation, int64_t groups, bool need_dx, bool need_dw, bool need_db) {
    std::tuple<Tensor, Tensor, Tensor> r;
    {
      py::gil_scoped_release nogil;
      r = conv_transpose2d_backward(dout, x, w, conv2d_args(stride, padding, dilation, groups), need_dx, need_dw,
                                    need_db);
    }
    return none_if_undefined(r);
  });
}

}  // namespace pycnn::bindings
