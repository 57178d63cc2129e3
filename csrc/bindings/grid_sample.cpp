// Bindings of grid_sample (ops/grid_sample.cpp); conventions in bindings/common.h. The mode and padding mode
// are taken by name (ops.h: PYCNN_GRID_SAMPLE_MODES, PYCNN_GRID_PADDING_MODES).
#include "common.h"

namespace pycnn::bindings {

namespace {
GridSampleArgs grid_args(const std::string& mode, const std::string& padding_mode, bool align_corners) {
  GridSampleArgs a;
  a.mode = parse_enum<GridSampleMode>(mode);
  a.padding = parse_enum<GridPaddingMode>(padding_mode);
  a.align_corners = align_corners;
  return a;
}
}  // namespace

void init_grid_sample(py::module_& m) {
  m.def("grid_sample_mode_names", &enum_names<GridSampleMode>, "grid_sample's modes, in the order of ops.h's list");
  m.def("grid_padding_mode_names", &enum_names<GridPaddingMode>,
        "grid_sample's padding modes, in the order of ops.h's list");
  m.def(
      "grid_sample_forward",
      [](const Tensor& x, const Tensor& grid, const std::string& mode, const std::string& padding_mode,
         bool align_corners) {
        const GridSampleArgs a = grid_args(mode, padding_mode, align_corners);
        py::gil_scoped_release nogil;
        return grid_sample_forward(x, grid, a);
      },
      "x (N, C, H, W) sampled at grid (N, Ho, Wo, 2) of (x, y) in [-1, 1] -> (N, C, Ho, Wo)");
  m.def(
      "grid_sample_backward",
      [](const Tensor& dout, const Tensor& x, const Tensor& grid, const std::string& mode,
         const std::string& padding_mode, bool align_corners, bool need_dx, bool need_dgrid) {
        const GridSampleArgs a = grid_args(mode, padding_mode, align_corners);
        std::tuple<Tensor, Tensor> r;
        {
          py::gil_scoped_release nogil;
          r = grid_sample_backward(dout, x, grid, a, need_dx, need_dgrid);
        }
        return none_if_undefined(r);
      },
      "-> (dx, dgrid), None where not asked for");
}

}  // namespace pycnn::bindings
