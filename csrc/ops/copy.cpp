// copy_ and fill_: the data movement every view and conversion in core/tensor.cpp relies on.
#include <algorithm>
#include <cstdlib>
#include <utility>

#include "pycnn/ops/dispatch.h"
#include "pycnn/ops/ops.h"

namespace pycnn {

namespace {

// Whether two elements of a view may share memory: walking the dims of size > 1 from the smallest stride up,
// each stride must step past everything the smaller dims reach. (An expand() view fails at its 0 stride.)
bool may_overlap_itself(const Tensor& t) {
  if (t.numel() == 0) return false;               // no element, no two sharing a cell
  std::vector<std::pair<int64_t, int64_t>> dims;  // (|stride|, size)
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.shape()[d] > 1) dims.emplace_back(std::llabs(t.strides()[d]), t.shape()[d]);
  std::sort(dims.begin(), dims.end());
  int64_t reach = 0;  // the farthest element offset the dims so far reach
  for (auto [stride, size] : dims) {
    if (stride <= reach) return true;
    reach += stride * (size - 1);
  }
  return false;
}

// The byte range [first, last] a non-empty view touches.
std::pair<const char*, const char*> byte_span(const Tensor& t) {
  int64_t lo = 0, hi = 0;
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t step = t.strides()[d] * (t.shape()[d] - 1);
    (step < 0 ? lo : hi) += step;
  }
  const char* base = static_cast<const char*>(t.raw_data());
  const auto item = static_cast<int64_t>(t.itemsize());
  return {base + lo * item, base + hi * item + item - 1};
}

// src reads memory that dst writes, and not element for element at the same place: copying in place would
// read values already overwritten.
bool reads_what_it_writes(const Tensor& dst, const Tensor& src) {
  if (dst.storage() != src.storage() || dst.numel() == 0) return false;
  if (dst.offset() == src.offset() && dst.strides() == src.strides() && dst.dtype() == src.dtype()) return false;
  auto [d0, d1] = byte_span(dst);
  auto [s0, s1] = byte_span(src);
  return d0 <= s1 && s0 <= d1;
}

}  // namespace

void copy_(Tensor& dst, const Tensor& src) {
  PYCNN_CHECK(dst.shape() == src.shape(), "[copy_] shape mismatch: destination ", shape_str(dst.shape()), ", source ",
              shape_str(src.shape()));
  PYCNN_CHECK(!may_overlap_itself(dst), "[copy_] the destination (shape ", shape_str(dst.shape()), ", strides ",
              shape_str(dst.strides()),
              ") has elements that share memory (an expand() view?): several values would land in one cell; "
              "copy into a tensor of its own (clone() it first)");
  if (reads_what_it_writes(dst, src)) {
    copy_(dst, src.clone());  // as if the source were read in full first, like NumPy's assignment
    return;
  }
  dst.bump_version();
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
  dispatch_storage(dst.dtype(), "copy_", [&](auto dst_tag) {
    using D = decltype(dst_tag);
    dispatch_storage(src.dtype(), "copy_", [&](auto src_tag) {
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
  dst.bump_version();
  dispatch_storage(dst.dtype(), "fill_", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dst.device(), fill<T>, dst.data<T>(), dst.numel(), convert_value<T>(value));
  });
}

}  // namespace pycnn
