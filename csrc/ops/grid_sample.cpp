// grid_sample, forward and backward (torch.nn.functional.grid_sample on 4-D input): validation, allocation and
// the call into ops/cpu/grid_sample.cpp. There is no CUDA kernel yet: a CUDA tensor is refused by check_cpu.
#include <tuple>

#include "pycnn/ops/checks.h"
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/ops.h"

namespace pycnn {

namespace {

cpu::GridSampleGeometry check_grid_sample_args(const Tensor& x, const Tensor& grid, const char* op) {
  check_floating(x, op, "input");
  check_defined(grid, op, "grid");
  check_same(x, grid, op, "input", "grid");
  check_cpu(x, op);
  check_rank(x, 4, op, "input", "(N, C, H, W) (only 4-D input is supported)");
  check_rank(grid, 4, op, "grid", "(N, H_out, W_out, 2)");
  PYCNN_CHECK(grid.size(0) == x.size(0) && grid.size(3) == 2, "[", op, "] expected grid of shape (", x.size(0),
              ", H_out, W_out, 2) for input ", shape_str(x.shape()), ", got ", shape_str(grid.shape()));
  PYCNN_CHECK(x.size(2) > 0 && x.size(3) > 0, "[", op, "] expected input to have non-empty spatial dimensions, got ",
              shape_str(x.shape()));
  return {x.size(0), x.size(1), x.size(2), x.size(3), grid.size(1), grid.size(2)};
}

}  // namespace

Tensor grid_sample_forward(const Tensor& x, const Tensor& grid, const GridSampleArgs& args) {
  const char* op = "grid_sample";
  const cpu::GridSampleGeometry g = check_grid_sample_args(x, grid, op);
  const Shape out_shape{g.N, g.C, g.Ho, g.Wo};
  check_output_shape(out_shape, op);
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  if (y.numel() == 0) return y;
  Tensor xc = x.contiguous(), gc = grid.contiguous();
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    cpu::grid_sample_forward<T>(xc.data<T>(), gc.data<T>(), y.data<T>(), g, args);
  });
  return y;
}

std::tuple<Tensor, Tensor> grid_sample_backward(const Tensor& dout, const Tensor& x, const Tensor& grid,
                                                const GridSampleArgs& args, bool need_dx, bool need_dgrid) {
  const char* op = "grid_sample_backward";
  const cpu::GridSampleGeometry g = check_grid_sample_args(x, grid, op);
  check_defined(dout, op, "grad_output");
  check_same(x, dout, op, "input", "grad_output");
  const Shape out_shape{g.N, g.C, g.Ho, g.Wo};
  PYCNN_CHECK(dout.shape() == out_shape, "[", op, "] expected grad_output of shape ", shape_str(out_shape), ", got ",
              shape_str(dout.shape()));
  Tensor dx = need_dx ? Tensor::zeros(x.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dgrid = need_dgrid ? Tensor::empty(grid.shape(), x.dtype(), x.device()) : Tensor();
  if (grid.numel() == 0 || (!need_dx && !need_dgrid)) return {dx, dgrid};
  Tensor dc = dout.contiguous(), xc = x.contiguous(), gc = grid.contiguous();
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    cpu::grid_sample_backward<T>(dc.data<T>(), xc.data<T>(), gc.data<T>(), need_dx ? dx.data<T>() : nullptr,
                                 need_dgrid ? dgrid.data<T>() : nullptr, g, args);
  });
  return {dx, dgrid};
}

}  // namespace pycnn
