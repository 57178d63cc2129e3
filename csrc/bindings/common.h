// Shared by the binding files: pybind11 includes, dtype/device parsing, and undefined tensor <-> None.
// One binding file per ops/<family>.cpp, of the same name, each with an init_<family>; module.cpp calls them.
// Conventions: bindings convert arguments and attach docstrings, all logic lives in the core; each releases
// the GIL while the core runs (so Python threads, a data loader say, keep going); outputs that were not asked
// for come back as None; ops chosen by name are parsed with parse_enum (core/enum_list.h).
#pragma once
#include <pybind11/pybind11.h>  // defines: py::module_, py::class_, py::gil_scoped_release
#include <pybind11/stl.h>       // defines: std::vector/std::tuple/std::optional conversions

#include <tuple>  // defines: std::apply

#include "pycnn/core/tensor.h"
#include "pycnn/ops/ops.h"

namespace py = pybind11;

namespace pycnn::bindings {

DType parse_dtype(const std::string& name);
Device parse_device(const std::string& name);

using OptTensor = std::optional<Tensor>;   // an optional tensor argument: None in Python
using Pair = std::pair<int64_t, int64_t>;  // an (h, w) argument: stride, padding, ...

// An undefined tensor (an output that was not asked for) is None in Python.
inline py::object none_if_undefined(const Tensor& t) { return t.defined() ? py::cast(t) : py::none(); }
inline Tensor undefined_if_none(const std::optional<Tensor>& t) { return t ? *t : Tensor(); }
// A backward's tuple of gradients as a Python tuple, those not asked for as None.
template <typename... Ts>
py::tuple none_if_undefined(const std::tuple<Ts...>& r) {
  return std::apply([](const auto&... t) { return py::make_tuple(none_if_undefined(t)...); }, r);
}

}  // namespace pycnn::bindings
