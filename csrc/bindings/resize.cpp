// Bindings of the pooling variants and upsampling (ops/resize.cpp); conventions in bindings/common.h. The
// interpolation mode is taken by name (ops.h: PYCNN_INTERP_MODES).
#include "common.h"

namespace pycnn::bindings {

namespace {
InterpolateArgs interp_args(const std::string& mode, bool align_corners, std::pair<double, double> scales) {
  InterpolateArgs a;
  a.mode = parse_enum<InterpMode>(mode);
  a.align_corners = align_corners;
  a.scale_h = scales.first, a.scale_w = scales.second;
  return a;
}
}  // namespace
using Scales = std::pair<double, double>;

void init_resize(py::module_& m) {
  m.def("interp_mode_names", &enum_names<InterpMode>, "the interpolation modes' names, in the order of ops.h's list");
  m.def(
      "adaptive_avg_pool2d_forward",
      [](const Tensor& x, Pair size) {
        py::gil_scoped_release nogil;
        return adaptive_avg_pool2d_forward(x, size.first, size.second);
      },
      "(.., H, W) -> (.., OH, OW): mean over torch's adaptive windows");
  m.def("adaptive_avg_pool2d_backward", [](const Tensor& dout, const Shape& x_shape) {
    py::gil_scoped_release nogil;
    return adaptive_avg_pool2d_backward(dout, x_shape);
  });
  m.def(
      "adaptive_max_pool2d_forward",
      [](const Tensor& x, Pair size) {
        py::gil_scoped_release nogil;
        return adaptive_max_pool2d_forward(x, size.first, size.second);
      },
      "(.., H, W) -> (values, flat h*W+w indices) over torch's adaptive windows");
  m.def("adaptive_max_pool2d_backward", [](const Tensor& dout, const Tensor& indices, const Shape& x_shape) {
    py::gil_scoped_release nogil;
    return adaptive_max_pool2d_backward(dout, indices, x_shape);
  });
  m.def(
      "pixel_shuffle",
      [](const Tensor& x, int64_t r) {
        py::gil_scoped_release nogil;
        return pixel_shuffle(x, r);
      },
      "(*, C*r*r, H, W) -> (*, C, H*r, W*r)");
  m.def(
      "pixel_unshuffle",
      [](const Tensor& x, int64_t r) {
        py::gil_scoped_release nogil;
        return pixel_unshuffle(x, r);
      },
      "(*, C, H*r, W*r) -> (*, C*r*r, H, W)");
  m.def(
      "interpolate_forward",
      [](const Tensor& x, Pair size, const std::string& mode, bool align_corners, Scales scales) {
        InterpolateArgs a = interp_args(mode, align_corners, scales);
        py::gil_scoped_release nogil;
        return interpolate_forward(x, size.first, size.second, a);
      },
      "resample (.., H, W) to size; scales are the user's scale factors or 0 (then in/out is used)");
  m.def("interpolate_backward",
        [](const Tensor& dout, const Shape& x_shape, const std::string& mode, bool align_corners, Scales scales) {
          InterpolateArgs a = interp_args(mode, align_corners, scales);
          py::gil_scoped_release nogil;
          return interpolate_backward(dout, x_shape, a);
        });
  m.def(
      "max_unpool2d_forward",
      [](const Tensor& x, const Tensor& indices, Pair size) {
        py::gil_scoped_release nogil;
        return max_unpool2d_forward(x, indices, size.first, size.second);
      },
      "scatter x to the flat indices of zeroed (.., OH, OW) planes");
  m.def("max_unpool2d_backward", [](const Tensor& dout, const Tensor& indices) {
    py::gil_scoped_release nogil;
    return max_unpool2d_backward(dout, indices);
  });
}

}  // namespace pycnn::bindings
