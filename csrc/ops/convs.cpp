// The convolution family built on conv2d's kernels: padding (constant, reflect, replicate, circular)
// and transposed convolution. conv_transpose2d's forward is conv2d's input gradient with the roles of
// input and output swapped; its backward is conv2d forward (dx) and conv2d's weight gradient (dw), so
// no new convolution kernel exists here (see ops/cpu/conv2d.cpp, ops/cuda/conv2d.cu).
#include <algorithm>  // defines: std::max
#include <string>
#include <vector>

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH
#include "pycnn/ops/ops.h"

namespace pycnn {

namespace {

// Validates x_shape against pads and returns the padded shape.
Shape pad_output_shape(const Shape& xs, const std::vector<int64_t>& pads, PadMode mode) {
  const char* mname = enum_name(mode);
  const int64_t nd = static_cast<int64_t>(pads.size()) / 2;
  PYCNN_CHECK(!pads.empty() && pads.size() % 2 == 0, "[pad] pad must have an even, non-zero length, got ", pads.size());
  const int64_t rank = static_cast<int64_t>(xs.size());
  PYCNN_CHECK(nd <= rank, "[pad] pad of length ", pads.size(), " pads ", nd, " dims but the input ", shape_str(xs),
              " has ", rank);
  if (mode != PadMode::Constant) {
    PYCNN_CHECK(nd <= 2, "[pad] mode '", mname, "' pads the last 1 or 2 dims here, got a pad of length ", pads.size());
    PYCNN_CHECK(rank == nd + 1 || rank == nd + 2, "[pad] mode '", mname, "' with a pad of length ", pads.size(),
                " expects a ", nd + 1, "-D or ", nd + 2, "-D input, got ", shape_str(xs));
  }
  Shape out = xs;
  for (int64_t i = 0; i < nd; ++i) {
    const int64_t d = rank - 1 - i, lo = pads[2 * i], hi = pads[2 * i + 1], n = xs[d];
    if (mode != PadMode::Constant) {
      PYCNN_CHECK(lo >= 0 && hi >= 0, "[pad] mode '", mname, "' needs non-negative pads, got (", lo, ", ", hi,
                  ") for dim ", d);
      PYCNN_CHECK(n > 0, "[pad] mode '", mname, "' cannot pad the empty dim ", d, " of ", shape_str(xs));
    }
    if (mode == PadMode::Reflect)
      PYCNN_CHECK(lo < n && hi < n, "[pad] reflect padding (", lo, ", ", hi, ") must be smaller than dim ", d,
                  " of size ", n, " (input ", shape_str(xs), ")");
    if (mode == PadMode::Circular)
      PYCNN_CHECK(lo <= n && hi <= n, "[pad] circular padding (", lo, ", ", hi, ") must not exceed dim ", d,
                  " of size ", n, " (input ", shape_str(xs), ")");
    out[d] = checked_add(checked_add(n, lo, "pad"), hi, "pad");
    PYCNN_CHECK(out[d] >= 0, "[pad] padding (", lo, ", ", hi, ") leaves dim ", d, " of ", shape_str(xs),
                " with a negative size ", out[d]);
  }
  check_output_shape(out, "pad");
  return out;
}

// For constant padding: the overlap of x and y along each padded dim, as narrowed views of both.
void constant_overlap(Tensor& xv, Tensor& yv, const std::vector<int64_t>& pads) {
  const int64_t rank = xv.dim(), nd = static_cast<int64_t>(pads.size()) / 2;
  for (int64_t i = 0; i < nd; ++i) {
    const int64_t d = rank - 1 - i, lo = pads[2 * i], hi = pads[2 * i + 1];
    const int64_t len = std::max<int64_t>(xv.size(d) - std::max<int64_t>(-lo, 0) - std::max<int64_t>(-hi, 0), 0);
    // no overlap (a crop past the whole dim): empty views at 0, as a start past the end is out of range
    xv = xv.narrow(d, len ? std::max<int64_t>(-lo, 0) : 0, len);
    yv = yv.narrow(d, len ? std::max<int64_t>(lo, 0) : 0, len);
  }
}

// Runs an index-map pad kernel (forward or backward) over x_shape's last two dims. The row and column maps
// are built on the kernel's device (no host-to-device copy).
template <typename F>
void run_index_pad(const Shape& xs, const Shape& ys, const std::vector<int64_t>& pads, PadMode mode, Device device,
                   F&& kernel) {
  const int64_t rank = static_cast<int64_t>(xs.size()), nd = static_cast<int64_t>(pads.size()) / 2;
  const int64_t W = xs[rank - 1], OW = ys[rank - 1];
  const int64_t H = nd == 2 ? xs[rank - 2] : 1, OH = nd == 2 ? ys[rank - 2] : 1;
  int64_t planes = 1;
  for (int64_t d = 0; d < rank - nd; ++d) planes *= xs[d];
  Tensor maps = Tensor::empty({OH + OW}, DType::Int64, device);
  int64_t* mh = maps.data<int64_t>();
  int64_t* mw = mh + OH;
  PYCNN_DISPATCH(device, pad_index_map<int64_t>, mh, H, nd == 2 ? pads[2] : 0, OH, mode);  // 1-D: the one row 0
  PYCNN_DISPATCH(device, pad_index_map<int64_t>, mw, W, pads[0], OW, mode);
  kernel(planes, H, W, OH, OW, mh, mw);
}

}  // namespace

Tensor pad_forward(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) {
  check_defined(x, "pad", "input");
  const Shape out_shape = pad_output_shape(x.shape(), pads, mode);
  if (mode == PadMode::Constant) {
    Tensor y = Tensor::full(out_shape, value, x.dtype(), x.device());
    Tensor xv = x, yv = y;
    constant_overlap(xv, yv, pads);
    if (xv.numel() > 0) copy_(yv, xv);
    return y;
  }
  check_floating(x, "pad", "input");
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  if (y.numel() == 0) return y;
  dispatch_floating(x.dtype(), "pad", [&](auto tag) {
    using T = decltype(tag);
    run_index_pad(x.shape(), out_shape, pads, mode, x.device(),
                  [&](int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const int64_t* mh, const int64_t* mw) {
                    PYCNN_DISPATCH(x.device(), pad_index_forward<T>, xc.data<T>(), y.data<T>(), P, H, W, OH, OW, mh,
                                   mw);
                  });
  });
  return y;
}

Tensor pad_backward(const Tensor& dout, const Shape& x_shape, const std::vector<int64_t>& pads, PadMode mode) {
  check_defined(dout, "pad_backward", "grad_output");
  const Shape out_shape = pad_output_shape(x_shape, pads, mode);
  PYCNN_CHECK(dout.shape() == out_shape, "[pad_backward] expected grad_output of shape ", shape_str(out_shape),
              ", got ", shape_str(dout.shape()));
  if (mode == PadMode::Constant) {
    Tensor dx = Tensor::zeros(x_shape, dout.dtype(), dout.device());
    Tensor xv = dx, yv = dout;
    constant_overlap(xv, yv, pads);
    if (xv.numel() > 0) copy_(xv, yv);
    return dx;
  }
  check_floating(dout, "pad_backward", "grad_output");
  Tensor dc = dout.contiguous();
  Tensor dx = Tensor::zeros(x_shape, dout.dtype(), dout.device());
  if (dc.numel() == 0) return dx;
  dispatch_floating(dout.dtype(), "pad_backward", [&](auto tag) {
    using T = decltype(tag);
    run_index_pad(x_shape, out_shape, pads, mode, dout.device(),
                  [&](int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW, const int64_t* mh, const int64_t* mw) {
                    PYCNN_DISPATCH(dout.device(), pad_index_backward<T>, dc.data<T>(), dx.data<T>(), P, H, W, OH, OW,
                                   mh, mw);
                  });
  });
  return dx;
}

// ---- transposed convolution ----

namespace {

// The smallest output size (output_padding 0) of a transposed conv along one dim.
int64_t transpose_base_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dilation, const char* op) {
  const int64_t spread = checked_mul(in - 1, stride, op), reach = checked_mul(dilation, k - 1, op);
  return checked_add(checked_add(spread, reach, op), 1, op) - checked_mul(2, pad, op);
}

void check_transpose_args(const Tensor& x, const Tensor& w, const Conv2dArgs& a, const char* op) {
  check_conv_args(x, w, a, op, "(in_channels, out_channels/groups, kH, kW)");
  PYCNN_CHECK(w.size(0) == x.size(1), "[", op, "] expected input of shape (N, C, H, W) with C=", w.size(0), " (weight ",
              shape_str(w.shape()), "), got ", shape_str(x.shape()));
  PYCNN_CHECK(x.size(1) % a.groups == 0, "[", op, "] in_channels ", x.size(1), " is not divisible by groups ",
              a.groups);
}

}  // namespace

Tensor conv_transpose2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dArgs& args, int64_t op_h,
                                int64_t op_w) {
  const char* op = "conv_transpose2d";
  check_transpose_args(x, w, args, op);
  PYCNN_CHECK(op_h >= 0 && op_w >= 0, "[conv_transpose2d] output_padding must be non-negative, got (", op_h, ", ", op_w,
              ")");
  PYCNN_CHECK((op_h < args.stride_h || op_h < args.dilation_h) && (op_w < args.stride_w || op_w < args.dilation_w),
              "[conv_transpose2d] output_padding (", op_h, ", ", op_w,
              ") must be smaller than either stride or dilation, got stride (", args.stride_h, ", ", args.stride_w,
              ") and dilation (", args.dilation_h, ", ", args.dilation_w, ")");
  const int64_t OC = w.size(1) * args.groups;
  const int64_t OH = transpose_base_size(x.size(2), w.size(2), args.stride_h, args.pad_h, args.dilation_h, op) + op_h;
  const int64_t OW = transpose_base_size(x.size(3), w.size(3), args.stride_w, args.pad_w, args.dilation_w, op) + op_w;
  PYCNN_CHECK(OH > 0 && OW > 0, "[conv_transpose2d] input ", shape_str(x.shape()), " with weight ",
              shape_str(w.shape()), " gives a non-positive output size ", OH, "x", OW);
  check_output_shape({x.size(0), OC, OH, OW}, op);
  if (b.defined()) {
    check_same(x, b, op, "input", "bias");
    PYCNN_CHECK(b.dim() == 1 && b.size(0) == OC, "[conv_transpose2d] expected bias of shape (", OC, ",), got ",
                shape_str(b.shape()));
  }
  Tensor xc = x.contiguous(), wc = w.contiguous();
  Tensor y = Tensor::zeros({x.size(0), OC, OH, OW}, x.dtype(), x.device());
  if (y.numel() == 0) return y;
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    // conv2d of y-shaped input with weight w maps OC -> C channels; its input gradient for dout = x is
    // exactly this op.
    const cpu::Conv2dGeometry g = cpu::conv2d_geometry(y.shape(), w.shape(), x.shape(), args);
    if (xc.numel() > 0) PYCNN_DISPATCH(x.device(), conv2d_input_grad<T>, xc.data<T>(), wc.data<T>(), y.data<T>(), g);
    if (b.defined()) {
      Tensor bc = b.contiguous();
      PYCNN_DISPATCH(x.device(), add_channel_bias<T>, y.data<T>(), bc.data<T>(), y.size(0), OC, OH * OW);
    }
  });
  return y;
}

std::tuple<Tensor, Tensor, Tensor> conv_transpose2d_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                                             const Conv2dArgs& args, bool need_dx, bool need_dw,
                                                             bool need_db) {
  const char* op = "conv_transpose2d_backward";
  check_transpose_args(x, w, args, op);
  check_same(dout, x, op, "grad_output", "input");
  const int64_t OC = w.size(1) * args.groups;
  const int64_t bh = transpose_base_size(x.size(2), w.size(2), args.stride_h, args.pad_h, args.dilation_h, op);
  const int64_t bw = transpose_base_size(x.size(3), w.size(3), args.stride_w, args.pad_w, args.dilation_w, op);
  const int64_t mh = std::max(args.stride_h, args.dilation_h), mw = std::max(args.stride_w, args.dilation_w);
  PYCNN_CHECK(dout.dim() == 4 && dout.size(0) == x.size(0) && dout.size(1) == OC && dout.size(2) >= bh &&
                  dout.size(2) < bh + mh && dout.size(3) >= bw && dout.size(3) < bw + mw,
              "[conv_transpose2d_backward] grad_output ", shape_str(dout.shape()), " does not match input ",
              shape_str(x.shape()), " and weight ", shape_str(w.shape()));
  Tensor dc = dout.contiguous(), xc = x.contiguous(), wc = w.contiguous();
  Tensor dx, dw, db;
  if (need_dx) dx = Tensor::zeros(x.shape(), x.dtype(), x.device());
  if (need_dw) dw = Tensor::zeros(w.shape(), w.dtype(), w.device());
  if (need_db) db = sum(dc, {0, 2, 3}, false);
  if (dc.numel() == 0 || xc.numel() == 0) return {dx, dw, db};
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    // dx = conv2d(dout, w); dw = conv2d's weight gradient with dout as its input and x as its grad_output.
    const cpu::Conv2dGeometry g = cpu::conv2d_geometry(dc.shape(), w.shape(), x.shape(), args);
    if (need_dx) PYCNN_DISPATCH(x.device(), conv2d_forward<T>, dc.data<T>(), wc.data<T>(), nullptr, dx.data<T>(), g);
    if (need_dw) PYCNN_DISPATCH(x.device(), conv2d_weight_grad<T>, xc.data<T>(), dc.data<T>(), dw.data<T>(), g);
  });
  return {dx, dw, db};
}

}  // namespace pycnn
