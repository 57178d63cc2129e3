// Sorting, selection and scans: sort, topk (and their shared backward), cumsum, prod, unique, nonzero.
// Each entry validates ("[op] ..."), brings x to the contiguous (A, N, B) form around its dim, allocates the
// outputs and calls one kernel of ops/cpu/sort.cpp. No CUDA kernels yet: check_cpu says so.
#include <numeric>  // defines: std::iota

#include "pycnn/ops/checks.h"
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/ops.h"

namespace pycnn {

namespace {

// x's shape seen as (A, N, B) around dim (already wrapped); a 0-d tensor is (1, 1, 1).
void around_dim(const Shape& shape, int64_t dim, int64_t& A, int64_t& N, int64_t& B) {
  A = 1, N = 1, B = 1;
  if (shape.empty()) return;
  for (int64_t i = 0; i < dim; ++i) A *= shape[i];
  N = shape[dim];
  for (size_t i = dim + 1; i < shape.size(); ++i) B *= shape[i];
}

// The shape of x with dim (of a rank >= 1 shape) set to `size`; a 0-d shape stays 0-d.
Shape with_size(const Shape& shape, int64_t dim, int64_t size) {
  Shape out = shape;
  if (!out.empty()) out[dim] = size;
  return out;
}

void check_input(const Tensor& x, const char* op) {
  check_defined(x, op, "input");
  check_cpu(x, op);
}

}  // namespace

std::tuple<Tensor, Tensor> sort_forward(const Tensor& x, int64_t dim, bool descending) {
  check_input(x, "sort");
  dim = wrap_dim(dim, x.dim(), "sort");
  return topk_forward(x, x.dim() == 0 ? 1 : x.size(dim), dim, descending);
}

std::tuple<Tensor, Tensor> topk_forward(const Tensor& x, int64_t k, int64_t dim, bool largest) {
  check_input(x, "topk");
  dim = wrap_dim(dim, x.dim(), "topk");
  int64_t A, N, B;
  around_dim(x.shape(), dim, A, N, B);
  PYCNN_CHECK(k >= 0 && k <= N, "[topk] k ", k, " is out of range for dim ", dim, " of size ", N, " (input ",
              shape_str(x.shape()), ")");
  // a 0-d tensor gives itself whatever k is (torch's rule)
  const int64_t K = x.dim() == 0 ? 1 : k;
  Tensor xc = x.contiguous();
  Tensor values = Tensor::empty(with_size(x.shape(), dim, K), x.dtype(), x.device());
  Tensor indices = Tensor::empty(values.shape(), DType::Int64, x.device());
  dispatch_all(x.dtype(), "topk", [&](auto tag) {
    using T = decltype(tag);
    cpu::sort_anb<T>(xc.data<T>(), values.data<T>(), indices.data<int64_t>(), A, N, B, K, largest);
  });
  return {values, indices};
}

Tensor sort_backward(const Tensor& dout, const Tensor& indices, const Shape& x_shape, int64_t dim) {
  check_floating(dout, "sort_backward", "grad_output");
  check_cpu(dout, "sort_backward");
  PYCNN_CHECK_TYPE(indices.dtype() == DType::Int64, "[sort_backward] expected int64 indices, got ",
                   dtype_name(indices.dtype()));
  PYCNN_CHECK(dout.shape() == indices.shape() && dout.dim() == static_cast<int64_t>(x_shape.size()),
              "[sort_backward] grad_output ", shape_str(dout.shape()), " and indices ", shape_str(indices.shape()),
              " do not match the input ", shape_str(x_shape));
  dim = wrap_dim(dim, dout.dim(), "sort_backward");
  int64_t A, N, B;
  around_dim(x_shape, dim, A, N, B);
  const int64_t K = dout.dim() == 0 ? 1 : dout.size(dim);
  Tensor dx = Tensor::zeros(x_shape, dout.dtype(), dout.device());
  Tensor dc = dout.contiguous(), ic = indices.contiguous();
  dispatch_floating(dout.dtype(), "sort_backward", [&](auto tag) {
    using T = decltype(tag);
    cpu::scatter_anb<T>(dc.data<T>(), ic.data<int64_t>(), dx.data<T>(), A, K, N, B);
  });
  return dx;
}

Tensor cumsum(const Tensor& x, int64_t dim, bool reverse) {
  check_input(x, "cumsum");
  dim = wrap_dim(dim, x.dim(), "cumsum");
  int64_t A, N, B;
  around_dim(x.shape(), dim, A, N, B);
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_all(x.dtype(), "cumsum", [&](auto tag) {
    using T = decltype(tag);
    cpu::cumsum_anb<T>(xc.data<T>(), out.data<T>(), A, N, B, reverse);
  });
  return out;
}

Tensor prod_forward(const Tensor& x, int64_t dim, bool keepdim) {
  check_input(x, "prod");
  dim = wrap_dim(dim, x.dim(), "prod");
  int64_t A, R, B;
  around_dim(x.shape(), dim, A, R, B);
  Shape out_shape = x.shape();
  if (!out_shape.empty() && keepdim)
    out_shape[dim] = 1;
  else if (!out_shape.empty())
    out_shape.erase(out_shape.begin() + dim);
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  dispatch_all(x.dtype(), "prod", [&](auto tag) {
    using T = decltype(tag);
    cpu::prod_arb<T>(xc.data<T>(), out.data<T>(), A, R, B);
  });
  return out;
}

Tensor prod_backward(const Tensor& dout, const Tensor& x, int64_t dim, bool keepdim) {
  check_floating(dout, "prod_backward", "grad_output");
  check_same(x, dout, "prod_backward", "input", "grad_output");
  check_cpu(x, "prod_backward");
  dim = wrap_dim(dim, x.dim(), "prod_backward");
  int64_t A, R, B;
  around_dim(x.shape(), dim, A, R, B);
  PYCNN_CHECK(dout.numel() == A * B, "[prod_backward] grad_output ", shape_str(dout.shape()),
              " does not match the product of ", shape_str(x.shape()), " over dim ", dim, " (keepdim ", keepdim, ")");
  Tensor xc = x.contiguous(), dc = dout.contiguous();
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_floating(x.dtype(), "prod_backward", [&](auto tag) {
    using T = decltype(tag);
    cpu::prod_backward_arb<T>(xc.data<T>(), dc.data<T>(), dx.data<T>(), A, R, B);
  });
  return dx;
}

std::tuple<Tensor, Tensor, Tensor> unique_dim(const Tensor& x, int64_t dim) {
  check_input(x, "unique");
  PYCNN_CHECK(x.dim() > 0, "[unique] dim ", dim, " is out of range for a 0-d tensor");
  dim = wrap_dim(dim, x.dim(), "unique");
  const int64_t N = x.size(dim);
  const int64_t M = N == 0 ? 0 : x.numel() / N;
  PYCNN_CHECK(N == 0 || M > 0, "[unique] input ", shape_str(x.shape()), " has a 0-sized dim other than dim ", dim,
              ": its slices cannot be told apart");
  // dim first, the other dims flattened behind it: rows of M elements
  Shape perm(x.dim());
  std::iota(perm.begin(), perm.end(), 0);
  perm.erase(perm.begin() + dim);
  perm.insert(perm.begin(), dim);
  Tensor rows = x.permute(perm).contiguous();
  Tensor first = Tensor::empty({N}, DType::Int64, x.device());
  Tensor inverse = Tensor::empty({N}, DType::Int64, x.device());
  Tensor counts = Tensor::empty({N}, DType::Int64, x.device());
  int64_t U = 0;
  dispatch_all(x.dtype(), "unique", [&](auto tag) {
    using T = decltype(tag);
    U = cpu::unique_rows<T>(rows.data<T>(), N, M, first.data<int64_t>(), inverse.data<int64_t>(),
                            counts.data<int64_t>());
  });
  first = first.narrow(0, 0, U);
  // the distinct rows, put back in x's dim order
  Tensor picked = index_select(rows, 0, first);
  Shape back(x.dim());
  for (int64_t i = 0; i < x.dim(); ++i) back[perm[i]] = i;
  return {picked.permute(back).contiguous(), inverse, counts.narrow(0, 0, U).clone()};
}

Tensor nonzero(const Tensor& x) {
  check_input(x, "nonzero");
  const int64_t n = x.numel(), ndim = x.dim();
  constexpr int64_t kChunk = 1 << 15;
  const int64_t nchunks = (n + kChunk - 1) / kChunk;
  Tensor xc = x.contiguous();
  std::vector<int64_t> counts(nchunks), offsets(nchunks + 1, 0);
  dispatch_all(x.dtype(), "nonzero", [&](auto tag) {
    using T = decltype(tag);
    cpu::nonzero_counts<T>(xc.data<T>(), n, kChunk, counts.data());
  });
  std::partial_sum(counts.begin(), counts.end(), offsets.begin() + 1);
  Tensor out = Tensor::empty({offsets[nchunks], ndim}, DType::Int64, x.device());
  dispatch_all(x.dtype(), "nonzero", [&](auto tag) {
    using T = decltype(tag);
    cpu::nonzero_coords<T>(xc.data<T>(), n, kChunk, offsets.data(), x.shape().data(), ndim, out.data<int64_t>());
  });
  return out;
}

}  // namespace pycnn
