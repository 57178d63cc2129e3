// Bindings of the tensor operations (ops/tensor_ops.cpp): joining, splitting, indexing, reductions with
// indices, comparisons (by name, ops.h: PYCNN_COMPARE_OPS) and where; conventions in bindings/common.h.
#include "common.h"

namespace pycnn::bindings {

using Ints = std::vector<int64_t>;

void init_tensor_ops(py::module_& m) {
  m.def("compare_op_names", &enum_names<CompareOp>, "the comparisons' names, in the order of ops.h's list");
  m.def("cat_forward", [](const std::vector<Tensor>& xs, int64_t dim) {
    py::gil_scoped_release nogil;
    return cat_forward(xs, dim);
  });
  m.def(
      "cat_backward",
      [](const Tensor& dout, int64_t dim, const Ints& sizes) {
        py::gil_scoped_release nogil;
        return cat_backward(dout, dim, sizes);
      },
      "one gradient per concatenated tensor");
  m.def("stack_forward", [](const std::vector<Tensor>& xs, int64_t dim) {
    py::gil_scoped_release nogil;
    return stack_forward(xs, dim);
  });
  m.def("stack_backward", [](const Tensor& dout, int64_t dim) {
    py::gil_scoped_release nogil;
    return stack_backward(dout, dim);
  });
  m.def(
      "index_view",
      [](const Tensor& x, const Ints& starts, const Ints& steps, const Ints& lengths, const Ints& keep,
         const Ints& new_axes) { return index_view(x, starts, steps, lengths, keep, new_axes); },
      "basic indexing as one strided view of x's memory");
  m.def("index_view_backward", [](const Tensor& dout, const Shape& x_shape, const Ints& starts, const Ints& steps,
                                  const Ints& lengths, const Ints& keep, const Ints& new_axes) {
    py::gil_scoped_release nogil;
    return index_view_backward(dout, x_shape, starts, steps, lengths, keep, new_axes);
  });
  m.def("index_select", [](const Tensor& x, int64_t dim, const Tensor& index) {
    py::gil_scoped_release nogil;
    return index_select(x, dim, index);
  });
  m.def("index_select_backward", [](const Tensor& dout, const Shape& x_shape, int64_t dim, const Tensor& index) {
    py::gil_scoped_release nogil;
    return index_select_backward(dout, x_shape, dim, index);
  });
  m.def("masked_select", [](const Tensor& x, const Tensor& mask) {
    py::gil_scoped_release nogil;
    return masked_select(x, mask);
  });
  m.def("masked_select_backward", [](const Tensor& dout, const Tensor& mask) {
    py::gil_scoped_release nogil;
    return masked_select_backward(dout, mask);
  });
  m.def(
      "minmax_dim",
      [](const Tensor& x, int64_t dim, bool keepdim, bool is_min) {
        py::gil_scoped_release nogil;
        return minmax_dim(x, dim, keepdim, is_min);
      },
      "(values, indices) of the first max (min) along dim");
  m.def("minmax_dim_backward", [](const Tensor& dout, const Tensor& indices, const Shape& x_shape, int64_t dim) {
    py::gil_scoped_release nogil;
    return minmax_dim_backward(dout, indices, x_shape, dim);
  });
  m.def(
      "compare",
      [](const std::string& op, const Tensor& a, const Tensor& b) {
        CompareOp c = parse_enum<CompareOp>(op);
        py::gil_scoped_release nogil;
        return compare(c, a, b);
      },
      "int64 0/1 result of a (gt|lt|ge|le|eq|ne) b, broadcasting");
  m.def("where_forward", [](const Tensor& cond, const Tensor& a, const Tensor& b) {
    py::gil_scoped_release nogil;
    return where_forward(cond, a, b);
  });
  m.def("where_backward", [](const Tensor& dout, const Tensor& cond, const Shape& a_shape, const Shape& b_shape,
                             bool need_da, bool need_db) {
    std::tuple<Tensor, Tensor> r;
    {
      py::gil_scoped_release nogil;
      r = where_backward(dout, cond, a_shape, b_shape, need_da, need_db);
    }
    return none_if_undefined(r);
  });
  m.def("var_forward", [](const Tensor& x, const Ints& dims, double correction, bool keepdim) {
    py::gil_scoped_release nogil;
    return var_forward(x, dims, correction, keepdim);
  });
  m.def("var_backward", [](const Tensor& dout, const Tensor& x, const Ints& dims, double correction, bool keepdim) {
    py::gil_scoped_release nogil;
    return var_backward(dout, x, dims, correction, keepdim);
  });
  m.def(
      "bmm_forward",
      [](const Tensor& a, const Tensor& b) {
        py::gil_scoped_release nogil;
        return bmm_forward(a, b);
      },
      "(..., M, K) @ (..., K, N) with broadcast batch dims");
  m.def("bmm_backward", [](const Tensor& dout, const Tensor& a, const Tensor& b, bool need_da, bool need_db) {
    std::tuple<Tensor, Tensor> r;
    {
      py::gil_scoped_release nogil;
      r = bmm_backward(dout, a, b, need_da, need_db);
    }
    return none_if_undefined(r);
  });
  m.def("maximum_forward", [](const Tensor& a, const Tensor& b, bool is_min) {
    py::gil_scoped_release nogil;
    return maximum_forward(a, b, is_min);
  });
  m.def("maximum_backward",
        [](const Tensor& dout, const Tensor& a, const Tensor& b, bool is_min, bool need_da, bool need_db) {
          std::tuple<Tensor, Tensor> r;
          {
            py::gil_scoped_release nogil;
            r = maximum_backward(dout, a, b, is_min, need_da, need_db);
          }
          return none_if_undefined(r);
        });
}

}  // namespace pycnn::bindings
