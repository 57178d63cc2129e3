// Reductions: sum over dims (and its backward, a broadcast), sum_to (undoing a broadcast), argmax.
// Every reduction is brought to the (A, R, B) form: a contiguous tensor whose reduced dims form one
// block of size R between A outer and B inner elements, permuting and copying first when they don't.
#include <algorithm>
#include <numeric>

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH
#include "pycnn/ops/ops.h"

namespace pycnn {

// Sorted, unique, wrapped dims; all dims when `dims` is empty.
std::vector<int64_t> normalize_dims(const std::vector<int64_t>& dims, int64_t rank, const char* op) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    out.resize(rank);
    std::iota(out.begin(), out.end(), 0);
    return out;
  }
  for (int64_t d : dims) out.push_back(wrap_dim(d, rank, op));
  std::sort(out.begin(), out.end());
  PYCNN_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), "[", op, "] repeated dim in ", shape_str(dims));
  if (rank == 0) out.clear();  // a 0-d tensor has nothing to reduce: dim 0/-1 is accepted as in torch
  return out;
}

namespace {

Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim) {
  Shape out;
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    bool reduced = std::binary_search(dims.begin(), dims.end(), i);
    if (!reduced)
      out.push_back(shape[i]);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

// Returns a contiguous tensor and (A, R, B) such that the reduced dims are the middle block.
Tensor to_arb(const Tensor& x, const std::vector<int64_t>& dims, int64_t& A, int64_t& R, int64_t& B) {
  const int64_t rank = x.dim();
  bool consecutive = dims.empty() || dims.back() - dims.front() + 1 == static_cast<int64_t>(dims.size());
  Tensor xc = x;
  Shape shape = x.shape();
  std::vector<int64_t> block = dims;
  if (!consecutive) {  // move the reduced dims to the end
    Shape perm;
    for (int64_t i = 0; i < rank; ++i)
      if (!std::binary_search(dims.begin(), dims.end(), i)) perm.push_back(i);
    for (int64_t d : dims) perm.push_back(d);
    xc = x.permute(perm);
    shape = xc.shape();
    block.clear();
    for (int64_t i = rank - static_cast<int64_t>(dims.size()); i < rank; ++i) block.push_back(i);
  }
  xc = xc.contiguous();
  A = 1, R = 1, B = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (!block.empty() && i < block.front())
      A *= shape[i];
    else if (!block.empty() && i <= block.back())
      R *= shape[i];
    else if (block.empty())
      A *= shape[i];
    else
      B *= shape[i];
  }
  return xc;
}

}  // namespace

namespace {
template <typename F>
void dispatch_sum(DType t, F&& f) {
  if (t == DType::Int64) return f(int64_t{});
  dispatch_floating(t, "sum", f);
}
}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  check_defined(x, "sum", "input");
  // Integer sums are int64 (Python converts smaller integers and bool first, as torch's sum promotes them).
  PYCNN_CHECK_TYPE(is_floating(x.dtype()) || x.dtype() == DType::Int64,
                   "[sum] expected a float32, float64 or int64 input, got ", dtype_name(x.dtype()));
  std::vector<int64_t> dims = normalize_dims(dims_in, x.dim(), "sum");
  const bool consecutive = dims.empty() || dims.back() - dims.front() + 1 == static_cast<int64_t>(dims.size());
  if (!consecutive) {
    // Reduce the innermost run of dims first, then the others: (N, C, H, W) over {0, 2, 3} (a bias
    // gradient) becomes two passes over contiguous memory instead of a permuted copy.
    size_t run = dims.size() - 1;
    while (run > 0 && dims[run - 1] == dims[run] - 1) --run;
    std::vector<int64_t> inner(dims.begin() + run, dims.end()), outer(dims.begin(), dims.begin() + run);
    Tensor partial = sum(sum(x, inner, true), outer, true);
    return partial.view(reduced_shape(x.shape(), dims, keepdim));
  }
  int64_t A, R, B;
  Tensor xc = to_arb(x, dims, A, R, B);
  Tensor out = Tensor::empty(reduced_shape(x.shape(), dims, keepdim), x.dtype(), x.device());
  dispatch_sum(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), sum_arb<T>, xc.data<T>(), out.data<T>(), A, R, B);
  });
  return out;
}

Tensor sum_backward(const Tensor& dout, const Shape& x_shape, const std::vector<int64_t>& dims_in, bool keepdim) {
  check_floating(dout, "sum_backward", "grad_output");
  std::vector<int64_t> dims = normalize_dims(dims_in, static_cast<int64_t>(x_shape.size()), "sum_backward");
  Shape kept = reduced_shape(x_shape, dims, true);
  PYCNN_CHECK(shape_numel(kept) == dout.numel(), "[sum_backward] grad_output ", shape_str(dout.shape()),
              " does not match the reduction of ", shape_str(x_shape));
  return dout.reshape(kept).expand(x_shape).contiguous();
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  PYCNN_CHECK(x.dim() >= static_cast<int64_t>(shape.size()), "[sum_to] cannot reduce ", shape_str(x.shape()), " to ",
              shape_str(shape));
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < x.dim(); ++i) {
    if (i < lead) {
      dims.push_back(i);
    } else if (shape[i - lead] == 1 && x.size(i) != 1) {
      dims.push_back(i);
    } else {
      PYCNN_CHECK(shape[i - lead] == x.size(i), "[sum_to] cannot reduce ", shape_str(x.shape()), " to ",
                  shape_str(shape));
    }
  }
  if (dims.empty()) return x.reshape(shape);
  return sum(x, dims, false).reshape(shape);
}

Tensor argmax(const Tensor& x, int64_t dim) {
  check_defined(x, "argmax", "input");
  std::vector<int64_t> dims = normalize_dims({dim}, x.dim(), "argmax");
  // an empty reduced dim has no argmax; other empty dims just give an empty result (as torch)
  PYCNN_CHECK(x.numel() > 0 || x.size(dims[0]) > 0, "[argmax] cannot reduce over dim ", dims[0], " of size 0 (input ",
              shape_str(x.shape()), ")");
  int64_t A, R, B;
  Tensor xc = to_arb(x, dims, A, R, B);
  Tensor out = Tensor::empty(reduced_shape(x.shape(), dims, false), DType::Int64, x.device());
  dispatch_all(x.dtype(), "argmax", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), argmax_arb<T>, xc.data<T>(), out.data<int64_t>(), A, R, B);
  });
  return out;
}

}  // namespace pycnn
