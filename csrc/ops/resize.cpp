// Pooling variants and resampling, forward and backward: adaptive average/max pooling, pixel (un)shuffle,
// nearest/bilinear interpolation and max unpooling. Every op works on the last two dims of (N, C, H, W) or
// (C, H, W) input (pixel shuffles: (*, C, H, W)); the leading dims are flattened into independent planes.
// Each entry point validates, allocates and dispatches once to the kernels of ops/cpu/resize.cpp or
// ops/cuda/resize.cu.
#include <algorithm>  // defines: std::equal, std::max

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH
#include "pycnn/ops/ops.h"

namespace pycnn {

namespace {
void check_image(const Shape& s, const char* op, const char* name) {
  PYCNN_CHECK(s.size() == 4 || s.size() == 3, "[", op, "] expected ", name, " of shape (N, C, H, W) or (C, H, W), got ",
              shape_str(s));
}

Shape with_spatial(Shape s, int64_t h, int64_t w) {
  s[s.size() - 2] = h;
  s[s.size() - 1] = w;
  return s;
}

int64_t planes_of(const Shape& s) {
  int64_t p = 1;
  for (size_t i = 0; i + 2 < s.size(); ++i) p *= s[i];
  return p;
}

// dout must have x's leading dims (the planes); its spatial size is the op's to check.
void check_planes_match(const Tensor& dout, const Shape& x_shape, const char* op) {
  check_image(x_shape, op, "input");
  PYCNN_CHECK(dout.dim() == static_cast<int64_t>(x_shape.size()) &&
                  std::equal(x_shape.begin(), x_shape.end() - 2, dout.shape().begin()),
              "[", op, "] grad_output ", shape_str(dout.shape()), " does not match input ", shape_str(x_shape));
}

// The indices live where the values do.
void check_same_device(const Tensor& t, const Tensor& indices, const char* op) {
  PYCNN_CHECK_RUNTIME(indices.device() == t.device(), "[", op, "] the values are on ", t.device().str(),
                      " but the indices are on ", indices.device().str());
}

// Every index must address a cell of a (size)-element plane: the kernels scatter/gather through them. Only
// host memory is checked (a GPU check would cost a device->host read); the CUDA kernels skip bad indices.
void check_indices(const Tensor& ic, int64_t size, const char* op, const Shape& plane_shape) {
  if (ic.device().is_cuda()) return;
  const int64_t* ip = ic.data<int64_t>();
  const int64_t n = ic.numel();
  bool in_range = true;
  for (int64_t i = 0; i < n; ++i) in_range &= ip[i] >= 0 && ip[i] < size;  // vectorises; find the culprit after
  for (int64_t i = 0; !in_range && i < n; ++i)
    PYCNN_CHECK(ip[i] >= 0 && ip[i] < size, "[", op, "] index ", ip[i], " at position ", i,
                " is out of range for an output of spatial size ", shape_str(plane_shape));
}
}  // namespace

// ---- adaptive pooling ----

static void check_adaptive(const Tensor& x, int64_t OH, int64_t OW, const char* op) {
  check_floating(x, op, "input");
  check_image(x.shape(), op, "input");
  PYCNN_CHECK(OH > 0 && OW > 0, "[", op, "] output_size must be positive, got (", OH, ", ", OW, ")");
  PYCNN_CHECK(x.size(-2) > 0 && x.size(-1) > 0, "[", op, "] input ", shape_str(x.shape()),
              " has an empty spatial size");
  check_output_shape(with_spatial(x.shape(), OH, OW), op);
}

Tensor adaptive_avg_pool2d_forward(const Tensor& x, int64_t OH, int64_t OW) {
  check_adaptive(x, OH, OW, "adaptive_avg_pool2d");
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(with_spatial(x.shape(), OH, OW), x.dtype(), x.device());
  dispatch_floating(x.dtype(), "adaptive_avg_pool2d", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), adaptive_avg_pool2d_forward<T>, xc.data<T>(), y.data<T>(), planes_of(x.shape()),
                   x.size(-2), x.size(-1), OH, OW);
  });
  return y;
}

Tensor adaptive_avg_pool2d_backward(const Tensor& dout, const Shape& x_shape) {
  check_floating(dout, "adaptive_avg_pool2d_backward", "grad_output");
  check_planes_match(dout, x_shape, "adaptive_avg_pool2d_backward");
  Tensor dc = dout.contiguous();
  Tensor dx = Tensor::empty(x_shape, dout.dtype(), dout.device());
  dispatch_floating(dout.dtype(), "adaptive_avg_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dout.device(), adaptive_avg_pool2d_backward<T>, dc.data<T>(), dx.data<T>(), planes_of(x_shape),
                   x_shape[x_shape.size() - 2], x_shape.back(), dout.size(-2), dout.size(-1));
  });
  return dx;
}

std::tuple<Tensor, Tensor> adaptive_max_pool2d_forward(const Tensor& x, int64_t OH, int64_t OW) {
  check_adaptive(x, OH, OW, "adaptive_max_pool2d");
  Tensor xc = x.contiguous();
  const Shape out_shape = with_spatial(x.shape(), OH, OW);
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  Tensor indices = Tensor::empty(out_shape, DType::Int64, x.device());
  dispatch_floating(x.dtype(), "adaptive_max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), adaptive_max_pool2d_forward<T>, xc.data<T>(), y.data<T>(), indices.data<int64_t>(),
                   planes_of(x.shape()), x.size(-2), x.size(-1), OH, OW);
  });
  return {y, indices};
}

// The same scatter as max pooling: each gradient goes to the position its maximum came from.
Tensor adaptive_max_pool2d_backward(const Tensor& dout, const Tensor& indices, const Shape& x_shape) {
  check_floating(dout, "adaptive_max_pool2d_backward", "grad_output");
  PYCNN_CHECK_TYPE(indices.dtype() == DType::Int64, "[adaptive_max_pool2d_backward] indices must be int64");
  check_planes_match(dout, x_shape, "adaptive_max_pool2d_backward");
  PYCNN_CHECK(indices.shape() == dout.shape(), "[adaptive_max_pool2d_backward] indices ", shape_str(indices.shape()),
              " do not match grad_output ", shape_str(dout.shape()));
  check_same_device(dout, indices, "adaptive_max_pool2d_backward");
  Tensor dc = dout.contiguous(), ic = indices.contiguous();
  const int64_t HW = x_shape[x_shape.size() - 2] * x_shape.back();
  check_indices(ic, HW, "adaptive_max_pool2d_backward", {x_shape[x_shape.size() - 2], x_shape.back()});
  Tensor dx = Tensor::empty(x_shape, dout.dtype(), dout.device());
  dispatch_floating(dout.dtype(), "adaptive_max_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dout.device(), max_pool2d_backward<T>, dc.data<T>(), ic.data<int64_t>(), dx.data<T>(),
                   planes_of(x_shape), HW, dout.size(-2) * dout.size(-1));
  });
  return dx;
}

// ---- pixel shuffle ----

static Tensor shuffle(const Tensor& x, int64_t r, bool inverse) {
  const char* op = inverse ? "pixel_unshuffle" : "pixel_shuffle";
  check_floating(x, op, "input");
  PYCNN_CHECK(x.dim() >= 3, "[", op, "] expected input of shape (*, C, H, W), got ", shape_str(x.shape()));
  PYCNN_CHECK(r > 0, "[", op, "] ", inverse ? "downscale_factor" : "upscale_factor", " must be positive, got ", r);
  Shape s = x.shape();
  const int64_t n = static_cast<int64_t>(s.size());
  const int64_t C = s[n - 3], H = s[n - 2], W = s[n - 1];
  int64_t outer = 1;
  for (int64_t i = 0; i < n - 3; ++i) outer *= s[i];
  if (!inverse) {
    PYCNN_CHECK(C % (r * r) == 0, "[pixel_shuffle] the channel count ", C, " of input ", shape_str(s),
                " is not divisible by upscale_factor^2 = ", r * r);
    s[n - 3] = C / (r * r), s[n - 2] = H * r, s[n - 1] = W * r;
  } else {
    PYCNN_CHECK(H % r == 0 && W % r == 0, "[pixel_unshuffle] the spatial size of input ", shape_str(s),
                " is not divisible by downscale_factor ", r);
    s[n - 3] = C * r * r, s[n - 2] = H / r, s[n - 1] = W / r;
  }
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(s, x.dtype(), x.device());
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    // the kernel is written from the shuffled side's view: (outer, C', H', W') with C' = C/r^2, H' = H*r ...
    if (!inverse)
      PYCNN_DISPATCH(x.device(), pixel_shuffle<T>, xc.data<T>(), y.data<T>(), outer, s[n - 3], H, W, r, false);
    else
      PYCNN_DISPATCH(x.device(), pixel_shuffle<T>, xc.data<T>(), y.data<T>(), outer, C, s[n - 2], s[n - 1], r, true);
  });
  return y;
}

Tensor pixel_shuffle(const Tensor& x, int64_t upscale_factor) { return shuffle(x, upscale_factor, false); }
Tensor pixel_unshuffle(const Tensor& x, int64_t downscale_factor) { return shuffle(x, downscale_factor, true); }

// ---- interpolation ----

static void check_interp_args(const InterpolateArgs& a, const char* op) {
  PYCNN_CHECK(a.scale_h >= 0 && a.scale_w >= 0, "[", op, "] scale factors must be positive, got (", a.scale_h, ", ",
              a.scale_w, ")");
  PYCNN_CHECK(!a.align_corners || a.mode == InterpMode::Bilinear, "[", op,
              "] align_corners can only be set for the bilinear mode");
}

Tensor interpolate_forward(const Tensor& x, int64_t OH, int64_t OW, const InterpolateArgs& args) {
  check_floating(x, "interpolate", "input");
  check_image(x.shape(), "interpolate", "input");
  check_interp_args(args, "interpolate");
  PYCNN_CHECK(OH > 0 && OW > 0, "[interpolate] output size must be positive, got (", OH, ", ", OW, ") for input ",
              shape_str(x.shape()));
  PYCNN_CHECK(x.size(-2) > 0 && x.size(-1) > 0, "[interpolate] input ", shape_str(x.shape()),
              " has an empty spatial size");
  check_output_shape(with_spatial(x.shape(), OH, OW), "interpolate");
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(with_spatial(x.shape(), OH, OW), x.dtype(), x.device());
  dispatch_floating(x.dtype(), "interpolate", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), interpolate_forward<T>, xc.data<T>(), y.data<T>(), planes_of(x.shape()), x.size(-2),
                   x.size(-1), OH, OW, args);
  });
  return y;
}

Tensor interpolate_backward(const Tensor& dout, const Shape& x_shape, const InterpolateArgs& args) {
  check_floating(dout, "interpolate_backward", "grad_output");
  check_planes_match(dout, x_shape, "interpolate_backward");
  check_interp_args(args, "interpolate_backward");
  PYCNN_CHECK(dout.size(-2) > 0 && dout.size(-1) > 0 && x_shape[x_shape.size() - 2] > 0 && x_shape.back() > 0,
              "[interpolate_backward] empty spatial size: grad_output ", shape_str(dout.shape()), ", input ",
              shape_str(x_shape));
  Tensor dc = dout.contiguous();
  Tensor dx = Tensor::empty(x_shape, dout.dtype(), dout.device());
  dispatch_floating(dout.dtype(), "interpolate_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dout.device(), interpolate_backward<T>, dc.data<T>(), dx.data<T>(), planes_of(x_shape),
                   x_shape[x_shape.size() - 2], x_shape.back(), dout.size(-2), dout.size(-1), args);
  });
  return dx;
}

// ---- max unpooling ----

Tensor max_unpool2d_forward(const Tensor& x, const Tensor& indices, int64_t OH, int64_t OW) {
  check_floating(x, "max_unpool2d", "input");
  check_image(x.shape(), "max_unpool2d", "input");
  PYCNN_CHECK_TYPE(indices.dtype() == DType::Int64, "[max_unpool2d] indices must be int64, got ",
                   dtype_name(indices.dtype()));
  PYCNN_CHECK(indices.shape() == x.shape(), "[max_unpool2d] indices ", shape_str(indices.shape()),
              " must have the input's shape ", shape_str(x.shape()));
  PYCNN_CHECK(OH > 0 && OW > 0, "[max_unpool2d] output size must be positive, got (", OH, ", ", OW, ")");
  check_output_shape(with_spatial(x.shape(), OH, OW), "max_unpool2d");
  check_same_device(x, indices, "max_unpool2d");
  Tensor xc = x.contiguous(), ic = indices.contiguous();
  check_indices(ic, OH * OW, "max_unpool2d", {OH, OW});
  Tensor y = Tensor::empty(with_spatial(x.shape(), OH, OW), x.dtype(), x.device());
  dispatch_floating(x.dtype(), "max_unpool2d", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), max_unpool2d_forward<T>, xc.data<T>(), ic.data<int64_t>(), y.data<T>(),
                   planes_of(x.shape()), x.size(-2) * x.size(-1), OH * OW);
  });
  return y;
}

Tensor max_unpool2d_backward(const Tensor& dout, const Tensor& indices) {
  check_floating(dout, "max_unpool2d_backward", "grad_output");
  check_image(dout.shape(), "max_unpool2d_backward", "grad_output");
  PYCNN_CHECK_TYPE(indices.dtype() == DType::Int64, "[max_unpool2d_backward] indices must be int64");
  PYCNN_CHECK(
      indices.dim() == dout.dim() && std::equal(dout.shape().begin(), dout.shape().end() - 2, indices.shape().begin()),
      "[max_unpool2d_backward] indices ", shape_str(indices.shape()), " do not match grad_output ",
      shape_str(dout.shape()));
  check_same_device(dout, indices, "max_unpool2d_backward");
  Tensor dc = dout.contiguous(), ic = indices.contiguous();
  const int64_t OHW = dout.size(-2) * dout.size(-1);
  check_indices(ic, OHW, "max_unpool2d_backward", {dout.size(-2), dout.size(-1)});
  Tensor dx = Tensor::empty(indices.shape(), dout.dtype(), dout.device());
  dispatch_floating(dout.dtype(), "max_unpool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dout.device(), max_unpool2d_backward<T>, dc.data<T>(), ic.data<int64_t>(), dx.data<T>(),
                   planes_of(indices.shape()), indices.size(-2) * indices.size(-1), OHW);
  });
  return dx;
}

}  // namespace pycnn
