// The indexing ops: gather / scatter along a dim (torch's shape rules), the embedding lookup with its
// gradient and max_norm renormalisation, and one_hot. Each entry validates ("[op] ...", an index out of
// range is std::out_of_range, Python's IndexError), allocates and calls its kernel in ops/cpu/indexing.cpp.
// CPU only for now (check_cpu). gather and scatter read their inputs through their strides (no copies).
#include "pycnn/ops/checks.h"
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/ops.h"

namespace pycnn {

namespace {

void check_index(const Tensor& index, const Tensor& self, const char* op, const char* name = "index") {
  check_defined(index, op, name);
  PYCNN_CHECK_TYPE(index.dtype() == DType::Int64, "[", op, "] expected ", name, " to be an int64 tensor, got ",
                   dtype_name(index.dtype()));
  PYCNN_CHECK_RUNTIME(index.device() == self.device(), "[", op, "] the values are on ", self.device().str(), " but ",
                      name, " is on ", index.device().str());
}

// Every index value in [0, size): an IndexError that names it otherwise. Host memory only (check_cpu first).
void check_bounds(const Tensor& index, int64_t size, const char* op, const char* what) {
  const int64_t* ip = index.data<int64_t>();
  for (int64_t i = 0, n = index.numel(); i < n; ++i)
    PYCNN_CHECK_T(ip[i] >= 0 && ip[i] < size, std::out_of_range, "[", op, "] index ", ip[i], " is out of range for ",
                  what, " ", size);
}

// A 0-d tensor as gather/scatter see it: 1-d of size 1, stride 0 (torch's rule for scalars).
Shape shape_1d(const Tensor& t) { return t.dim() == 0 ? Shape{1} : t.shape(); }
Shape strides_1d(const Tensor& t) { return t.dim() == 0 ? Shape{0} : t.strides(); }

// The walk over index (contiguous) for an input x and the other tensor (src, or gather's out), after torch's
// shape rules: equal ranks, index no larger than x off dim (and than src in every dim).
cpu::IndexGeometry index_geometry(const Tensor& x, int64_t& dim, const Tensor& index, const Tensor* src,
                                  const char* op) {
  const Shape xs = shape_1d(x), is = shape_1d(index);
  const int64_t rank = static_cast<int64_t>(xs.size());
  dim = wrap_dim(dim, x.dim(), op);
  PYCNN_CHECK(static_cast<int64_t>(is.size()) == rank, "[", op, "] index ", shape_str(index.shape()),
              " must have as many dims as input ", shape_str(x.shape()));
  for (int64_t d = 0; d < rank; ++d)
    PYCNN_CHECK(d == dim || is[d] <= xs[d], "[", op, "] index ", shape_str(index.shape()),
                " must be no larger than input ", shape_str(x.shape()), " in every dim but ", dim);
  cpu::IndexGeometry g;
  g.shape = is;
  g.index_strides = contiguous_strides(is);
  g.self_strides = strides_1d(x);
  g.dim = dim;
  if (src) {
    const Shape ss = shape_1d(*src);
    bool fits = ss.size() == is.size();
    for (int64_t d = 0; fits && d < rank; ++d) fits = is[d] <= ss[d];
    PYCNN_CHECK(fits, "[", op, "] index ", shape_str(index.shape()), " must be no larger than src ",
                shape_str(src->shape()), " in every dim");
    g.src_strides = strides_1d(*src);
  } else {
    g.src_strides = contiguous_strides(is);  // gather's out, of index's shape
  }
  check_bounds(index, xs[dim], op, str("dim ", dim, " of size").c_str());
  return g;
}

}  // namespace

// ---- gather / scatter ----
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  check_defined(x, "gather", "input");
  check_index(index, x, "gather");
  check_cpu(x, "gather");
  const Tensor idx = index.contiguous();
  const cpu::IndexGeometry g = index_geometry(x, dim, idx, nullptr, "gather");
  Tensor out = Tensor::empty(index.shape(), x.dtype(), x.device());
  dispatch_all(x.dtype(), "gather", [&](auto tag) {
    using T = decltype(tag);
    cpu::gather<T>(x.data<T>(), idx.data<int64_t>(), out.data<T>(), g);
  });
  return out;
}

Tensor gather_backward(const Tensor& dout, const Shape& x_shape, int64_t dim, const Tensor& index) {
  check_floating(dout, "gather_backward", "grad_output");
  PYCNN_CHECK(dout.shape() == index.shape(), "[gather_backward] grad_output ", shape_str(dout.shape()),
              " should have index's shape ", shape_str(index.shape()));
  Tensor dx = Tensor::zeros(x_shape, dout.dtype(), dout.device());
  return scatter(dx, dim, index, dout, ScatterReduce::Add);
}

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, ScatterReduce reduce) {
  check_defined(x, "scatter", "input");
  check_defined(src, "scatter", "src");
  check_same(x, src, "scatter", "input", "src");
  check_index(index, x, "scatter");
  check_cpu(x, "scatter");
  const Tensor idx = index.contiguous();
  cpu::IndexGeometry g = index_geometry(x, dim, idx, &src, "scatter");
  Tensor out = x.clone();
  g.self_strides = strides_1d(out);
  dispatch_all(x.dtype(), "scatter", [&](auto tag) {
    using T = decltype(tag);
    cpu::scatter<T>(out.data<T>(), idx.data<int64_t>(), src.data<T>(), reduce, g);
  });
  return out;
}

Tensor scatter_value(const Tensor& x, int64_t dim, const Tensor& index, double value, ScatterReduce reduce) {
  check_defined(x, "scatter", "input");
  check_defined(index, "scatter", "index");
  // every src value the same: one scalar seen through zero strides
  const Tensor src = Tensor::scalar(value, x.dtype(), x.device()).expand(shape_1d(index));
  return scatter(x, dim, index, src, reduce);
}

// ---- embedding ----
Tensor embedding_forward(const Tensor& weight, const Tensor& indices) {
  check_defined(weight, "embedding", "weight");
  check_index(indices, weight, "embedding", "indices");
  check_cpu(weight, "embedding");
  check_rank(weight, 2, "embedding", "weight", "(num_embeddings, embedding_dim)");
  const Tensor idx = indices.contiguous();
  check_bounds(idx, weight.size(0), "embedding", "num_embeddings");
  Shape out_shape = indices.shape();
  out_shape.push_back(weight.size(1));
  check_output_shape(out_shape, "embedding");
  Tensor out = Tensor::empty(out_shape, weight.dtype(), weight.device());
  dispatch_all(weight.dtype(), "embedding", [&](auto tag) {
    using T = decltype(tag);
    cpu::embedding_forward<T>(weight.data<T>(), weight.strides()[0], weight.strides()[1], idx.data<int64_t>(),
                              out.data<T>(), idx.numel(), weight.size(1));
  });
  return out;
}

Tensor embedding_backward(const Tensor& dout, const Tensor& indices, int64_t num_weights, int64_t padding_idx,
                          bool scale_grad_by_freq) {
  check_floating(dout, "embedding_backward", "grad_output");
  check_index(indices, dout, "embedding_backward", "indices");
  check_cpu(dout, "embedding_backward");
  PYCNN_CHECK(num_weights >= 0, "[embedding_backward] num_weights must be non-negative, got ", num_weights);
  PYCNN_CHECK(padding_idx >= -1 && padding_idx < num_weights, "[embedding_backward] padding_idx ", padding_idx,
              " must be in [0, ", num_weights, ") or -1 for none");
  PYCNN_CHECK(dout.dim() == indices.dim() + 1 && Shape(dout.shape().begin(), dout.shape().end() - 1) == indices.shape(),
              "[embedding_backward] grad_output ", shape_str(dout.shape()), " should be indices' shape ",
              shape_str(indices.shape()), " plus embedding_dim");
  const Tensor idx = indices.contiguous(), dc = dout.contiguous();
  check_bounds(idx, num_weights, "embedding_backward", "num_weights");
  const int64_t D = dout.size(-1);
  Tensor dweight = Tensor::zeros({num_weights, D}, dout.dtype(), dout.device());
  dispatch_floating(dout.dtype(), "embedding_backward", [&](auto tag) {
    using T = decltype(tag);
    cpu::embedding_backward<T>(dc.data<T>(), idx.data<int64_t>(), dweight.data<T>(), idx.numel(), num_weights, D,
                               padding_idx, scale_grad_by_freq);
  });
  return dweight;
}

void embedding_renorm_(const Tensor& weight, const Tensor& indices, double max_norm, double norm_type) {
  check_floating(weight, "embedding_renorm_", "weight");
  check_index(indices, weight, "embedding_renorm_", "indices");
  check_cpu(weight, "embedding_renorm_");
  check_rank(weight, 2, "embedding_renorm_", "weight", "(num_embeddings, embedding_dim)");
  PYCNN_CHECK(max_norm >= 0, "[embedding_renorm_] max_norm must be non-negative, got ", max_norm);
  const Tensor idx = indices.contiguous();
  check_bounds(idx, weight.size(0), "embedding_renorm_", "num_embeddings");
  dispatch_floating(weight.dtype(), "embedding_renorm_", [&](auto tag) {
    using T = decltype(tag);
    cpu::embedding_renorm<T>(weight.data<T>(), weight.strides()[0], weight.strides()[1], idx.data<int64_t>(),
                             idx.numel(), weight.size(0), weight.size(1), max_norm, norm_type);
  });
  weight.bump_version();  // changed in place: a graph that saved weight is stale
}

// ---- one_hot ----
Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  check_defined(indices, "one_hot", "input");
  PYCNN_CHECK_TYPE(indices.dtype() == DType::Int64, "[one_hot] expected an int64 tensor of class indices, got ",
                   dtype_name(indices.dtype()));
  check_cpu(indices, "one_hot");
  PYCNN_CHECK(num_classes >= -1, "[one_hot] num_classes must be -1 (inferred) or non-negative, got ", num_classes);
  const Tensor idx = indices.contiguous();
  const int64_t* ip = idx.data<int64_t>();
  const int64_t n = idx.numel();
  int64_t low = 0, high = -1;
  for (int64_t i = 0; i < n; ++i) low = std::min(low, ip[i]), high = std::max(high, ip[i]);
  PYCNN_CHECK(low >= 0, "[one_hot] class values must be non-negative, got ", low);
  if (num_classes == -1) {
    PYCNN_CHECK(n > 0, "[one_hot] cannot infer num_classes from an empty tensor; pass num_classes");
    num_classes = high + 1;
  }
  PYCNN_CHECK(high < num_classes, "[one_hot] class value ", high, " is too large for num_classes ", num_classes);
  Shape out_shape = indices.shape();
  out_shape.push_back(num_classes);
  check_output_shape(out_shape, "one_hot");
  Tensor out = Tensor::zeros(out_shape, DType::Int64, indices.device());
  cpu::one_hot(ip, out.data<int64_t>(), n, num_classes);
  return out;
}

}  // namespace pycnn
