// copy_ and fill_: the data movement every view and conversion in core/tensor.cpp relies on.
#include "ops/dispatch.h"
#include "ops/ops.h"

namespace pycnn {

void copy_(Tensor& dst, const Tensor& src) {
  PYCNN_CHECK(dst.shape() == src.shape(), "[copy_] shape mismatch: destination ", shape_str(dst.shape()), ", source ",
              shape_str(src.shape()));
  if (src.device() != dst.device()) {
    // Across devices: move the source's values over (one contiguous transfer), then copy on the destination.
    Tensor moved = src.to(dst.device());
    copy_(dst, moved);
    return;
  }
  StridedViews v;
  v.shape = &dst.shape();
  v.strides[0] = &dst.strides();
  v.strides[1] = &src.strides();
  dispatch_all(dst.dtype(), "copy_", [&](auto dst_tag) {
    using D = decltype(dst_tag);
    dispatch_all(src.dtype(), "copy_", [&](auto src_tag) {
      using S = decltype(src_tag);
      if (dst.device().is_cuda()) {
        cuda::DeviceGuard guard(dst.device());
        cuda::copy_strided<D, S>(dst.data<D>(), src.data<S>(), v);
      } else {
        cpu::copy_strided<D, S>(dst.data<D>(), src.data<S>(), v);
      }
    });
  });
}

void fill_(Tensor& dst, double value) {
  PYCNN_CHECK(dst.is_contiguous(), "[fill_] needs a contiguous tensor");
  dispatch_all(dst.dtype(), "fill_", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dst.device(), fill<T>, dst.data<T>(), dst.numel(), static_cast<T>(value));
  });
}

}  // namespace pycnn
