// Max and average pooling over (N, C, H, W), forward and backward, with PyTorch's output-size rule:
// OH = floor_or_ceil((H + 2*pad - dilation*(k-1) - 1) / stride) + 1, and in ceil mode the last window
// must start inside the input or the left padding.
#include <algorithm>  // defines: std::equal

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH
#include "pycnn/ops/ops.h"

namespace pycnn {

// Division rounding toward minus infinity: a kernel larger than the input makes the span negative, and
// C++'s truncation toward zero would then give a 1-wide output where PyTorch gives none.
static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode,
                         const char* op) {
  const int64_t span = checked_add(in, checked_mul(2, pad, op), op) - checked_mul(dilation, kernel - 1, op) - 1;
  int64_t out = floor_div(ceil_mode ? span + stride - 1 : span, stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

static Shape pool_output_shape(const Shape& x_shape, const Pool2dArgs& a, const char* op) {
  PYCNN_CHECK(x_shape.size() == 4 || x_shape.size() == 3, "[", op,
              "] expected input of shape (N, C, H, W) or (C, H, W), got ", shape_str(x_shape));
  PYCNN_CHECK(a.kernel_h > 0 && a.kernel_w > 0, "[", op, "] kernel_size must be positive, got (", a.kernel_h, ", ",
              a.kernel_w, ")");
  PYCNN_CHECK(a.stride_h > 0 && a.stride_w > 0, "[", op, "] stride must be positive, got (", a.stride_h, ", ",
              a.stride_w, ")");
  PYCNN_CHECK(a.dilation_h > 0 && a.dilation_w > 0, "[", op, "] dilation must be positive");
  PYCNN_CHECK(a.pad_h >= 0 && a.pad_w >= 0 && a.pad_h <= a.kernel_h / 2 && a.pad_w <= a.kernel_w / 2, "[", op,
              "] padding (", a.pad_h, ", ", a.pad_w, ") should be at most half the kernel size (", a.kernel_h, ", ",
              a.kernel_w, ")");
  const int64_t H = x_shape[x_shape.size() - 2], W = x_shape.back();
  // an empty plane with padding would give windows of padding only: -inf and index -1, or 0/0 (torch refuses too)
  PYCNN_CHECK(H > 0 && W > 0, "[", op, "] expected an input with non-empty H and W, got ", shape_str(x_shape));
  const int64_t OH = pool_output_size(H, a.kernel_h, a.stride_h, a.pad_h, a.dilation_h, a.ceil_mode, op);
  const int64_t OW = pool_output_size(W, a.kernel_w, a.stride_w, a.pad_w, a.dilation_w, a.ceil_mode, op);
  PYCNN_CHECK(OH > 0 && OW > 0, "[", op, "] input ", shape_str(x_shape), " is too small for kernel (", a.kernel_h, ", ",
              a.kernel_w, "): the output would be ", OH, "x", OW);
  Shape out = x_shape;
  out[out.size() - 2] = OH;
  out[out.size() - 1] = OW;
  check_output_shape(out, op);
  return out;
}

std::tuple<Tensor, Tensor> max_pool2d_forward(const Tensor& x, const Pool2dArgs& args) {
  check_floating(x, "max_pool2d", "input");
  Shape out_shape = pool_output_shape(x.shape(), args, "max_pool2d");
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  Tensor indices = Tensor::empty(out_shape, DType::Int64, x.device());
  const int64_t planes = x.numel() / std::max<int64_t>(x.size(-2) * x.size(-1), 1);
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), max_pool2d_forward<T>, xc.data<T>(), y.data<T>(), indices.data<int64_t>(), planes,
                   x.size(-2), x.size(-1), out_shape[out_shape.size() - 2], out_shape.back(), args);
  });
  return {y, indices};
}

Tensor max_pool2d_backward(const Tensor& dout, const Tensor& indices, const Shape& x_shape) {
  check_floating(dout, "max_pool2d_backward", "grad_output");
  PYCNN_CHECK_TYPE(indices.dtype() == DType::Int64, "[max_pool2d_backward] indices must be int64");
  PYCNN_CHECK(dout.shape() == indices.shape() && dout.dim() == static_cast<int64_t>(x_shape.size()) &&
                  dout.dim() >= 3 && std::equal(x_shape.begin(), x_shape.end() - 2, dout.shape().begin()),
              "[max_pool2d_backward] grad_output ", shape_str(dout.shape()), ", indices ", shape_str(indices.shape()),
              " and input ", shape_str(x_shape), " do not match");
  PYCNN_CHECK_RUNTIME(indices.device() == dout.device(), "[max_pool2d_backward] grad_output is on ",
                      dout.device().str(), " but indices are on ", indices.device().str());
  Tensor dc = dout.contiguous(), ic = indices.contiguous();
  Tensor dx = Tensor::empty(x_shape, dout.dtype(), dout.device());
  const int64_t HW = x_shape[x_shape.size() - 2] * x_shape.back();
  // The kernel scatters to these positions: one that no forward could have produced would write outside dx.
  // Only host memory is checked here (a GPU check would cost a device->host read); the CUDA kernel skips them.
  if (!ic.device().is_cuda()) {
    const int64_t* ip = ic.data<int64_t>();
    const int64_t n = ic.numel();
    bool in_range = true;
    for (int64_t i = 0; i < n; ++i) in_range &= ip[i] >= -1 && ip[i] < HW;  // vectorises; find the culprit after
    for (int64_t i = 0; !in_range && i < n; ++i)
      PYCNN_CHECK(ip[i] >= -1 && ip[i] < HW, "[max_pool2d_backward] index ", ip[i], " at position ", i,
                  " is out of range for an input of shape ", shape_str(x_shape));
  }
  const int64_t OHW = dout.size(-2) * dout.size(-1);
  const int64_t planes = shape_numel(x_shape) / std::max<int64_t>(HW, 1);
  dispatch_floating(dout.dtype(), "max_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dout.device(), max_pool2d_backward<T>, dc.data<T>(), ic.data<int64_t>(), dx.data<T>(), planes, HW,
                   OHW);
  });
  return dx;
}

Tensor avg_pool2d_forward(const Tensor& x, const Pool2dArgs& args) {
  check_floating(x, "avg_pool2d", "input");
  Shape out_shape = pool_output_shape(x.shape(), args, "avg_pool2d");
  PYCNN_CHECK(args.divisor_override >= 0, "[avg_pool2d] divisor_override must be positive");
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  const int64_t planes = x.numel() / std::max<int64_t>(x.size(-2) * x.size(-1), 1);
  dispatch_floating(x.dtype(), "avg_pool2d", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), avg_pool2d_forward<T>, xc.data<T>(), y.data<T>(), planes, x.size(-2), x.size(-1),
                   out_shape[out_shape.size() - 2], out_shape.back(), args);
  });
  return y;
}

Tensor avg_pool2d_backward(const Tensor& dout, const Shape& x_shape, const Pool2dArgs& args) {
  check_floating(dout, "avg_pool2d_backward", "grad_output");
  Shape out_shape = pool_output_shape(x_shape, args, "avg_pool2d_backward");
  PYCNN_CHECK(dout.shape() == out_shape, "[avg_pool2d_backward] expected grad_output of shape ", shape_str(out_shape),
              ", got ", shape_str(dout.shape()));
  Tensor dc = dout.contiguous();
  Tensor dx = Tensor::empty(x_shape, dout.dtype(), dout.device());
  const int64_t H = x_shape[x_shape.size() - 2], W = x_shape.back();
  const int64_t planes = shape_numel(x_shape) / std::max<int64_t>(H * W, 1);
  dispatch_floating(dout.dtype(), "avg_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dout.device(), avg_pool2d_backward<T>, dc.data<T>(), dx.data<T>(), planes, H, W,
                   out_shape[out_shape.size() - 2], out_shape.back(), args);
  });
  return dx;
}

}  // namespace pycnn
