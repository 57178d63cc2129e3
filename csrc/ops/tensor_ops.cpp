// Tensor operations: joining (cat, stack), strided views for indexing/splitting (index_view), gathers
// (index_select, masked_select), reductions with indices (max/min over a dim), comparisons and where.
// Each entry validates ("[op] ..."), allocates its output and dispatches once to a kernel of
// ops/cpu/tensor_ops.cpp or ops/cuda/tensor_ops.cu;
// the copies reuse copy_ (which walks strided views), so a backward is often "zeros, then copy into a view".
#include <algorithm>
#include <cmath>  // defines: NAN

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH
#include "pycnn/ops/ops.h"

namespace pycnn {

namespace {

void check_index(const Tensor& index, const char* op) {
  check_defined(index, op, "index");
  PYCNN_CHECK_TYPE(index.dtype() == DType::Int64, "[", op, "] expected an int64 index, got ",
                   dtype_name(index.dtype()));
}

// The index lives where the values do.
void check_index_device(const Tensor& index, const Tensor& t, const char* op) {
  PYCNN_CHECK_RUNTIME(index.device() == t.device(), "[", op, "] the values are on ", t.device().str(),
                      " but the index is on ", index.device().str());
}

void check_mask(const Tensor& mask, const char* op, const char* name) {
  check_defined(mask, op, name);
  PYCNN_CHECK_TYPE(mask.dtype() == DType::Bool, "[", op, "] expected a bool ", name, ", got ",
                   dtype_name(mask.dtype()));
}

// The number of set entries of a contiguous bool mask. On a GPU the count is computed there and read
// back: masked_select's output size must be known on the host, an unavoidable device->host read (a sync).
int64_t count_nonzero(const Tensor& mc) {
  const int64_t n = mc.numel();
  if (mc.device().is_cuda()) {
    Tensor count = Tensor::empty({1}, DType::Int64, mc.device());
    {
      cuda::DeviceGuard guard(mc.device());
      cuda::count_nonzero(mc.data<bool>(), n, count.data<int64_t>());
    }
    return count.to(Device{}).data<int64_t>()[0];
  }
  const bool* mp = mc.data<bool>();
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) count += mp[i] != 0;
  return count;
}

// x viewed as contiguous (A, N, B) around `dim`
void split_around(const Shape& shape, int64_t dim, int64_t& A, int64_t& N, int64_t& B) {
  A = 1, B = 1;
  for (int64_t i = 0; i < dim; ++i) A *= shape[i];
  N = shape[dim];
  for (size_t i = dim + 1; i < shape.size(); ++i) B *= shape[i];
}

}  // namespace

// ---- cat / stack ----
Tensor cat_forward(const std::vector<Tensor>& xs, int64_t dim) {
  PYCNN_CHECK(!xs.empty(), "[cat] expected a non-empty list of tensors");
  const Tensor& first = xs[0];
  PYCNN_CHECK(first.dim() > 0, "[cat] zero-dimensional tensors cannot be concatenated");
  dim = wrap_dim(dim, first.dim(), "cat");
  Shape out_shape = first.shape();
  out_shape[dim] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    check_defined(xs[i], "cat", "tensor");
    check_same(first, xs[i], "cat", "tensors[0]", "another tensor");
    bool ok = xs[i].dim() == first.dim();
    for (int64_t d = 0; ok && d < first.dim(); ++d) ok = d == dim || xs[i].size(d) == first.size(d);
    PYCNN_CHECK(ok, "[cat] sizes must match except in dim ", dim, ": got ", shape_str(first.shape()), " and ",
                shape_str(xs[i].shape()), " (tensor ", i, ")");
    out_shape[dim] += xs[i].size(dim);
  }
  Tensor out = Tensor::empty(out_shape, first.dtype(), first.device());
  int64_t offset = 0;
  for (const Tensor& x : xs) {
    Tensor part = out.narrow(dim, offset, x.size(dim));
    copy_(part, x);
    offset += x.size(dim);
  }
  return out;
}

std::vector<Tensor> cat_backward(const Tensor& dout, int64_t dim, const std::vector<int64_t>& sizes) {
  check_defined(dout, "cat_backward", "grad_output");
  dim = wrap_dim(dim, dout.dim(), "cat_backward");
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  PYCNN_CHECK(total == dout.size(dim), "[cat_backward] sizes sum to ", total, " but grad_output ",
              shape_str(dout.shape()), " has ", dout.size(dim), " in dim ", dim);
  std::vector<Tensor> out;
  int64_t offset = 0;
  for (int64_t s : sizes) {
    out.push_back(dout.narrow(dim, offset, s).clone());
    offset += s;
  }
  return out;
}

Tensor stack_forward(const std::vector<Tensor>& xs, int64_t dim) {
  PYCNN_CHECK(!xs.empty(), "[stack] expected a non-empty list of tensors");
  dim = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (size_t i = 0; i < xs.size(); ++i) {
    check_defined(xs[i], "stack", "tensor");
    PYCNN_CHECK(xs[i].shape() == xs[0].shape(), "[stack] expects each tensor to be equal size, got ",
                shape_str(xs[0].shape()), " and ", shape_str(xs[i].shape()), " (tensor ", i, ")");
    // a size-1 dim inserted as a view: any stride works for it
    Shape shape = xs[i].shape(), strides = xs[i].strides();
    shape.insert(shape.begin() + dim, 1);
    strides.insert(strides.begin() + dim, 1);
    parts.emplace_back(xs[i].storage(), shape, strides, xs[i].offset(), xs[i].dtype());
  }
  return cat_forward(parts, dim);
}

std::vector<Tensor> stack_backward(const Tensor& dout, int64_t dim) {
  check_defined(dout, "stack_backward", "grad_output");
  dim = wrap_dim(dim, dout.dim(), "stack_backward");
  std::vector<Tensor> out;
  for (int64_t i = 0; i < dout.size(dim); ++i) out.push_back(dout.select(dim, i).clone());
  return out;
}

// ---- strided views (basic indexing, narrow, split) ----
Tensor index_view(const Tensor& x, const std::vector<int64_t>& starts, const std::vector<int64_t>& steps,
                  const std::vector<int64_t>& lengths, const std::vector<int64_t>& keep,
                  const std::vector<int64_t>& new_axes) {
  check_defined(x, "index", "input");
  const size_t rank = x.shape().size();
  PYCNN_CHECK(starts.size() == rank && steps.size() == rank && lengths.size() == rank && keep.size() == rank,
              "[index] expected one (start, step, length, keep) per dim of ", shape_str(x.shape()));
  Shape shape, strides;
  int64_t offset = x.offset();
  for (size_t d = 0; d < rank; ++d) {
    const int64_t size = x.shape()[d];
    PYCNN_CHECK(steps[d] > 0, "[index] step must be positive, got ", steps[d]);
    PYCNN_CHECK(
        lengths[d] >= 0 && (lengths[d] == 0 || (starts[d] >= 0 && starts[d] + (lengths[d] - 1) * steps[d] < size)),
        "[index] index ", starts[d], " (", lengths[d], " items, step ", steps[d], ") is out of bounds for dim ", d,
        " of size ", size);
    if (lengths[d] > 0) offset += starts[d] * x.strides()[d];
    if (keep[d]) {
      shape.push_back(lengths[d]);
      strides.push_back(x.strides()[d] * steps[d]);
    } else {
      PYCNN_CHECK(lengths[d] == 1, "[index] an integer index selects one item");
    }
  }
  for (int64_t pos : new_axes) {
    PYCNN_CHECK(pos >= 0 && pos <= static_cast<int64_t>(shape.size()), "[index] bad new axis position ", pos);
    shape.insert(shape.begin() + pos, 1);
    strides.insert(strides.begin() + pos, 1);
  }
  return Tensor(x.storage(), shape, strides, offset, x.dtype());
}

Tensor index_view_backward(const Tensor& dout, const Shape& x_shape, const std::vector<int64_t>& starts,
                           const std::vector<int64_t>& steps, const std::vector<int64_t>& lengths,
                           const std::vector<int64_t>& keep, const std::vector<int64_t>& new_axes) {
  check_floating(dout, "index_backward", "grad_output");
  Tensor dx = Tensor::zeros(x_shape, dout.dtype(), dout.device());
  Tensor part = index_view(dx, starts, steps, lengths, keep, new_axes);
  PYCNN_CHECK(part.shape() == dout.shape(), "[index_backward] grad_output ", shape_str(dout.shape()),
              " does not match the indexed shape ", shape_str(part.shape()));
  copy_(part, dout);
  return dx;
}

// ---- gathers ----
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_defined(x, "index_select", "input");
  check_index(index, "index_select");
  check_index_device(index, x, "index_select");
  PYCNN_CHECK(x.dim() > 0, "[index_select] cannot index a 0-d tensor");
  PYCNN_CHECK(index.dim() == 1, "[index_select] expected a 1-D index, got ", shape_str(index.shape()));
  dim = wrap_dim(dim, x.dim(), "index_select");
  int64_t A, N, B;
  split_around(x.shape(), dim, A, N, B);
  Tensor idx = index.contiguous();
  const int64_t K = idx.numel();
  const int64_t* ip = idx.data<int64_t>();
  // only host memory is checked (a GPU check would cost a device->host read)
  for (int64_t k = 0; !idx.device().is_cuda() && k < K; ++k)
    PYCNN_CHECK(ip[k] >= -N && ip[k] < N, "[index_select] index ", ip[k], " is out of bounds for dim ", dim,
                " with size ", N);
  Shape out_shape = x.shape();
  out_shape[dim] = K;
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  dispatch_all(x.dtype(), "index_select", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), index_select_anb<T>, xc.data<T>(), ip, out.data<T>(), A, N, K, B);
  });
  return out;
}

Tensor index_select_backward(const Tensor& dout, const Shape& x_shape, int64_t dim, const Tensor& index) {
  check_floating(dout, "index_select_backward", "grad_output");
  check_index(index, "index_select_backward");
  check_index_device(index, dout, "index_select_backward");
  dim = wrap_dim(dim, static_cast<int64_t>(x_shape.size()), "index_select_backward");
  int64_t A, N, B;
  split_around(x_shape, dim, A, N, B);
  Tensor idx = index.contiguous();
  Shape expect = x_shape;
  expect[dim] = idx.numel();
  PYCNN_CHECK(dout.shape() == expect, "[index_select_backward] grad_output ", shape_str(dout.shape()), " should be ",
              shape_str(expect));
  Tensor dc = dout.contiguous();
  Tensor dx = Tensor::zeros(x_shape, dout.dtype(), dout.device());
  dispatch_floating(dout.dtype(), "index_select_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dout.device(), index_add_anb<T>, dc.data<T>(), idx.data<int64_t>(), dx.data<T>(), A, N, idx.numel(),
                   B);
  });
  return dx;
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  check_defined(x, "masked_select", "input");
  check_mask(mask, "masked_select", "mask");
  PYCNN_CHECK(mask.shape() == x.shape(), "[masked_select] mask ", shape_str(mask.shape()),
              " must have the input's shape ", shape_str(x.shape()));
  PYCNN_CHECK_RUNTIME(mask.device() == x.device(), "[masked_select] input is on ", x.device().str(), " but mask is on ",
                      mask.device().str());
  Tensor xc = x.contiguous(), mc = mask.contiguous();
  const bool* mp = mc.data<bool>();
  const int64_t count = count_nonzero(mc);
  Tensor out = Tensor::empty({count}, x.dtype(), x.device());
  dispatch_all(x.dtype(), "masked_select", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), masked_select<T>, xc.data<T>(), mp, out.data<T>(), xc.numel());
  });
  return out;
}

Tensor masked_select_backward(const Tensor& dout, const Tensor& mask) {
  check_floating(dout, "masked_select_backward", "grad_output");
  PYCNN_CHECK_RUNTIME(mask.device() == dout.device(), "[masked_select_backward] grad_output is on ",
                      dout.device().str(), " but mask is on ", mask.device().str());
  Tensor mc = mask.contiguous(), dc = dout.contiguous();
  Tensor dx = Tensor::zeros(mask.shape(), dout.dtype(), dout.device());
  dispatch_floating(dout.dtype(), "masked_select_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dout.device(), masked_scatter<T>, dc.data<T>(), mc.data<bool>(), dx.data<T>(), mc.numel());
  });
  return dx;
}

// ---- max / min over a dim ----
std::tuple<Tensor, Tensor> minmax_dim(const Tensor& x, int64_t dim, bool keepdim, bool is_min) {
  const char* op = is_min ? "min" : "max";
  check_defined(x, op, "input");
  Tensor xc = x.dim() == 0 ? x.reshape({1}) : x.contiguous();
  dim = wrap_dim(dim, xc.dim(), op);
  int64_t A, R, B;
  split_around(xc.shape(), dim, A, R, B);
  // an empty reduced dim has no max; other empty dims just give an empty result (as torch)
  PYCNN_CHECK(R > 0, "[", op, "] cannot reduce over dim ", dim, " of size 0 (input ", shape_str(x.shape()), ")");
  Shape out_shape = x.shape();
  if (x.dim() > 0) {
    if (keepdim)
      out_shape[dim] = 1;
    else
      out_shape.erase(out_shape.begin() + dim);
  }
  Tensor values = Tensor::empty(out_shape, x.dtype(), x.device());
  Tensor indices = Tensor::empty(out_shape, DType::Int64, x.device());
  dispatch_all(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), minmax_arb<T>, xc.data<T>(), values.data<T>(), indices.data<int64_t>(), A, R, B, is_min);
  });
  return {values, indices};
}

Tensor minmax_dim_backward(const Tensor& dout, const Tensor& indices, const Shape& x_shape, int64_t dim) {
  check_floating(dout, "max_backward", "grad_output");
  check_index(indices, "max_backward");
  check_index_device(indices, dout, "max_backward");
  PYCNN_CHECK(dout.numel() == indices.numel(), "[max_backward] grad_output ", shape_str(dout.shape()), " and indices ",
              shape_str(indices.shape()), " differ");
  Shape shape = x_shape.empty() ? Shape{1} : x_shape;
  dim = wrap_dim(dim, static_cast<int64_t>(shape.size()), "max_backward");
  int64_t A, R, B;
  split_around(shape, dim, A, R, B);
  Tensor dc = dout.contiguous(), ic = indices.contiguous();
  Tensor dx = Tensor::zeros(x_shape, dout.dtype(), dout.device());
  dispatch_floating(dout.dtype(), "max_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dout.device(), scatter_arb<T>, dc.data<T>(), ic.data<int64_t>(), dx.data<T>(), A, R, B);
  });
  return dx;
}

// ---- comparisons and where (broadcasting) ----
Tensor compare(CompareOp op, const Tensor& a, const Tensor& b) {
  check_defined(a, "compare", "input");
  check_defined(b, "compare", "other");
  check_same(a, b, "compare", "input", "other");
  Shape shape = broadcast_shapes(a.shape(), b.shape(), "compare");
  Tensor ac = a.expand(shape).contiguous(), bc = b.expand(shape).contiguous();
  Tensor out = Tensor::empty(shape, DType::Bool, a.device());
  dispatch_all(a.dtype(), "compare", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(a.device(), compare<T>, op, ac.data<T>(), bc.data<T>(), out.data<bool>(), out.numel());
  });
  return out;
}

Tensor where_forward(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_mask(cond, "where", "condition");
  check_defined(a, "where", "input");
  check_defined(b, "where", "other");
  check_same(a, b, "where", "input", "other");
  PYCNN_CHECK_RUNTIME(cond.device() == a.device(), "[where] input is on ", a.device().str(), " but condition is on ",
                      cond.device().str());
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor cc = cond.expand(shape).contiguous(), ac = a.expand(shape).contiguous(), bc = b.expand(shape).contiguous();
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  dispatch_all(a.dtype(), "where", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(a.device(), where<T>, cc.data<bool>(), ac.data<T>(), bc.data<T>(), out.data<T>(), out.numel());
  });
  return out;
}

std::tuple<Tensor, Tensor> where_backward(const Tensor& dout, const Tensor& cond, const Shape& a_shape,
                                          const Shape& b_shape, bool need_da, bool need_db) {
  check_floating(dout, "where_backward", "grad_output");
  PYCNN_CHECK_RUNTIME(cond.device() == dout.device(), "[where_backward] grad_output is on ", dout.device().str(),
                      " but condition is on ", cond.device().str());
  Tensor cc = cond.expand(dout.shape()).contiguous(), dc = dout.contiguous();
  Tensor da = Tensor::empty(dout.shape(), dout.dtype(), dout.device());
  Tensor db = Tensor::empty(dout.shape(), dout.dtype(), dout.device());
  dispatch_floating(dout.dtype(), "where_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dout.device(), where_grad<T>, cc.data<bool>(), dc.data<T>(), da.data<T>(), db.data<T>(), dc.numel());
  });
  return {need_da ? sum_to(da, a_shape) : Tensor(), need_db ? sum_to(db, b_shape) : Tensor()};
}

// ---- variance over dims (composed in the core from sum and broadcasting arithmetic) ----
namespace {

// (x - mean) with the mean kept as size-1 dims, and the count of reduced elements
Tensor centered(const Tensor& x, const std::vector<int64_t>& dims, int64_t& count) {
  Tensor s = sum(x, dims, true);
  count = s.numel() ? x.numel() / s.numel() : 0;
  Tensor mean = binary(BinaryOp::Mul, s, Tensor::scalar(count ? 1.0 / count : NAN, x.dtype(), x.device()));
  return binary(BinaryOp::Sub, x, mean);
}

}  // namespace

Tensor var_forward(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  check_floating(x, "var", "input");
  normalize_dims(dims, x.dim(), "var");  // so that a bad dim is var's error, not the inner sum's
  int64_t count;
  Tensor d = centered(x, dims, count);
  // count - correction <= 0 divides by zero (inf or nan), as torch does
  Tensor ss = sum(binary(BinaryOp::Mul, d, d), dims, keepdim);
  return binary(BinaryOp::Mul, ss, Tensor::scalar(1.0 / std::max(0.0, count - correction), x.dtype(), x.device()));
}

// d var / dx = 2 (x - mean) / (count - correction), times dout broadcast back over the reduced dims
Tensor var_backward(const Tensor& dout, const Tensor& x, const std::vector<int64_t>& dims, double correction,
                    bool keepdim) {
  check_floating(dout, "var_backward", "grad_output");
  check_same(x, dout, "var_backward", "input", "grad_output");
  int64_t count;
  Tensor d = centered(x, dims, count);
  Tensor g = sum_backward(dout, x.shape(), dims, keepdim);
  Tensor scale = Tensor::scalar(2.0 / std::max(0.0, count - correction), x.dtype(), x.device());
  return binary(BinaryOp::Mul, binary(BinaryOp::Mul, g, d), scale);
}

// ---- batched matmul with broadcast batch dims ----
namespace {

Shape batch_of(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end() - 2); }

// t expanded to (batch..., r, c) and made a contiguous (B, r, c) block
Tensor to_batches(const Tensor& t, const Shape& batch) {
  Shape full = batch;
  full.push_back(t.size(-2));
  full.push_back(t.size(-1));
  return t.expand(full).contiguous().reshape({shape_numel(batch), t.size(-2), t.size(-1)});
}

// out[i] = op(x[i]) @ op(y[i]) for each block i of the (B, r, c) blocks x, y and out (op transposes when the
// flag says so); returns out, (B, M, N), viewed as (batch..., M, N).
Tensor gemm_batches(bool trans_x, bool trans_y, const Tensor& x, const Tensor& y, Tensor out, const Shape& batch) {
  for (int64_t i = 0; i < out.size(0); ++i) {
    Tensor c = out.select(0, i);
    gemm(trans_x, trans_y, 1.0, x.select(0, i), y.select(0, i), 0.0, c);
  }
  Shape shape = batch;
  shape.push_back(out.size(1));
  shape.push_back(out.size(2));
  return out.view(shape);
}

}  // namespace

Tensor bmm_forward(const Tensor& a, const Tensor& b) {
  check_floating(a, "matmul", "input");
  check_same(a, b, "matmul", "input", "other");
  PYCNN_CHECK(a.dim() >= 2 && b.dim() >= 2, "[matmul] expected tensors with at least 2 dims, got ",
              shape_str(a.shape()), " and ", shape_str(b.shape()));
  PYCNN_CHECK(a.size(-1) == b.size(-2), "[matmul] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
              " cannot be multiplied (", a.size(-1), " != ", b.size(-2), ")");
  Shape batch = broadcast_shapes(batch_of(a), batch_of(b), "matmul");
  Tensor ab = to_batches(a, batch), bb = to_batches(b, batch);
  Tensor out = Tensor::empty({shape_numel(batch), a.size(-2), b.size(-1)}, a.dtype(), a.device());
  return gemm_batches(false, false, ab, bb, out, batch);
}

// da = dout @ b^T, db = a^T @ dout per batch, then summed over the batch dims a (b) was broadcast along
std::tuple<Tensor, Tensor> bmm_backward(const Tensor& dout, const Tensor& a, const Tensor& b, bool need_da,
                                        bool need_db) {
  check_floating(dout, "matmul_backward", "grad_output");
  Shape batch = broadcast_shapes(batch_of(a), batch_of(b), "matmul_backward");
  Tensor ab = to_batches(a, batch), bb = to_batches(b, batch), db3 = to_batches(dout, batch);
  const int64_t nb = ab.size(0);
  Tensor da, db;
  if (need_da) {
    Tensor full = Tensor::empty({nb, a.size(-2), a.size(-1)}, a.dtype(), a.device());
    da = sum_to(gemm_batches(false, true, db3, bb, full, batch), a.shape());
  }
  if (need_db) {
    Tensor full = Tensor::empty({nb, b.size(-2), b.size(-1)}, b.dtype(), b.device());
    db = sum_to(gemm_batches(true, false, ab, db3, full, batch), b.shape());
  }
  return {da, db};
}

// ---- elementwise maximum / minimum (broadcasting) ----
Tensor maximum_forward(const Tensor& a, const Tensor& b, bool is_min) {
  const char* op = is_min ? "minimum" : "maximum";
  check_floating(a, op, "input");
  check_same(a, b, op, "input", "other");
  Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor ac = a.expand(shape).contiguous(), bc = b.expand(shape).contiguous();
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  dispatch_floating(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(a.device(), maximum<T>, ac.data<T>(), bc.data<T>(), out.data<T>(), out.numel(), is_min);
  });
  return out;
}

// torch's rule: the larger (smaller) input gets dout, a tie splits it in halves
std::tuple<Tensor, Tensor> maximum_backward(const Tensor& dout, const Tensor& a, const Tensor& b, bool is_min,
                                            bool need_da, bool need_db) {
  check_floating(dout, "maximum_backward", "grad_output");
  check_same(dout, a, "maximum_backward", "grad_output", "input");
  check_same(dout, b, "maximum_backward", "grad_output", "other");
  Tensor ac = a.expand(dout.shape()).contiguous(), bc = b.expand(dout.shape()).contiguous(), dc = dout.contiguous();
  Tensor da = Tensor::empty(dout.shape(), dout.dtype(), dout.device());
  Tensor db = Tensor::empty(dout.shape(), dout.dtype(), dout.device());
  dispatch_floating(dout.dtype(), "maximum_backward", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(dout.device(), maximum_grad<T>, ac.data<T>(), bc.data<T>(), dc.data<T>(), da.data<T>(), db.data<T>(),
                   dc.numel(), is_min);
  });
  return {need_da ? sum_to(da, a.shape()) : Tensor(), need_db ? sum_to(db, b.shape()) : Tensor()};
}

}  // namespace pycnn
