// pycnn._C.Tensor: the core tensor with NumPy's buffer protocol (np.asarray(t) shares memory),
// from_numpy (shares the array's memory, keeping the array alive), views and factories.
#include <pybind11/numpy.h>  // defines: py::array, py::buffer_info

#include "common.h"

namespace pycnn::bindings {

constexpr DType kDTypes[] = {DType::Float32, DType::Float64, DType::Int64,   DType::Int32,
                             DType::UInt8,   DType::Bool,    DType::Float16, DType::BFloat16};

DType parse_dtype(const std::string& name) {
  for (DType t : kDTypes)
    if (name == dtype_name(t)) return t;
  throw TypeError("[dtype] unsupported dtype '" + name +
                  "' (pycnn has float32, float64, float16, bfloat16, int64, int32, uint8 and bool)");
}

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device{};
  if (name == "cuda") return Device{DeviceType::CUDA, 0};
  if (name.rfind("cuda:", 0) == 0) {
    try {
      return Device{DeviceType::CUDA, std::stoi(name.substr(5))};
    } catch (const std::exception&) {
    }
  }
  throw ValueError("[device] expected 'cpu', 'cuda' or 'cuda:N', got '" + name + "'");
}

// The buffer format of each dtype. NumPy has no bfloat16: its buffer shows the raw bits as uint16 (pycnn's
// numpy() refuses it; serialization and repr read the bits).
static std::string numpy_format(DType t) {
  switch (t) {
    case DType::Float32: return py::format_descriptor<float>::format();
    case DType::Float64: return py::format_descriptor<double>::format();
    case DType::Int64: return py::format_descriptor<int64_t>::format();
    case DType::Int32: return py::format_descriptor<int32_t>::format();
    case DType::UInt8: return py::format_descriptor<uint8_t>::format();
    case DType::Bool: return py::format_descriptor<bool>::format();
    case DType::Float16: return "e";
    default: return py::format_descriptor<uint16_t>::format();
  }
}

// The dtype of a NumPy array's elements (by kind and size, so that int64 is found whatever its C name).
static DType dtype_of_array(const py::array& arr, const std::string& as) {
  const char kind = arr.dtype().kind();
  const auto size = arr.itemsize();
  if (!as.empty()) {  // bfloat16 from its bits (uint16): NumPy has no bfloat16 type
    const DType t = parse_dtype(as);
    PYCNN_CHECK_TYPE(static_cast<size_t>(size) == dtype_size(t), "[from_numpy] cannot view ",
                     py::str(arr.dtype()).cast<std::string>(), " elements as ", as);
    return t;
  }
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 8) return DType::Float64;
  if (kind == 'f' && size == 2) return DType::Float16;
  if (kind == 'i' && size == 8) return DType::Int64;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'u' && size == 1) return DType::UInt8;
  if (kind == 'b' && size == 1) return DType::Bool;
  throw TypeError("[from_numpy] unsupported array dtype " + py::str(arr.dtype()).cast<std::string>() +
                  " (pycnn has float32, float64, float16, int64, int32, uint8 and bool)");
}

// Wraps a NumPy array's memory; the array stays alive as long as any tensor views it.
static Tensor from_numpy(py::array arr, const std::string& as) {
  const DType dtype = dtype_of_array(arr, as);
  const int64_t item = static_cast<int64_t>(dtype_size(dtype));
  Shape shape(arr.ndim()), strides(arr.ndim());
  for (py::ssize_t i = 0; i < arr.ndim(); ++i) {
    shape[i] = arr.shape(i);
    PYCNN_CHECK(arr.strides(i) >= 0 && arr.strides(i) % item == 0,
                "[from_numpy] arrays with negative or unaligned strides are not supported; use np.ascontiguousarray");
    strides[i] = arr.strides(i) / item;
  }
  if (!arr.writeable()) arr = arr.attr("copy")();  // never write through a read-only array
  auto* owner = new py::object(arr);
  auto storage =
      std::make_shared<Storage>(const_cast<void*>(arr.data()), static_cast<size_t>(arr.nbytes()), Device{}, [owner] {
        py::gil_scoped_acquire gil;  // tensors may die in a GIL-free op
        delete owner;
      });
  return Tensor(std::move(storage), shape, strides, 0, dtype);
}

void init_tensor(py::module_& m) {
  py::class_<Tensor>(m, "Tensor", py::buffer_protocol())
      .def_buffer([](const Tensor& t) -> py::buffer_info {
        PYCNN_CHECK_RUNTIME(t.device().is_cpu(), "[numpy] the tensor is on ", t.device().str(),
                            "; copy it with .cpu() first");
        std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides;
        for (int64_t s : t.strides()) strides.push_back(s * static_cast<py::ssize_t>(t.itemsize()));
        return py::buffer_info(t.raw_data(), t.itemsize(), numpy_format(t.dtype()), t.dim(), shape, strides);
      })
      .def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t.shape())); })
      .def_property_readonly("strides", [](const Tensor& t) { return py::tuple(py::cast(t.strides())); })
      .def_property_readonly("offset", &Tensor::offset)
      .def_property_readonly("_version", &Tensor::version)
      // For writers that bypass the core (MPI, NCCL write into the memory in place): saved tensors see the change.
      .def("_bump_version", &Tensor::bump_version)
      // How many core tensors view this memory (autograd refuses an in-place write to a shared one).
      .def_property_readonly("_storage_use_count", [](const Tensor& t) { return t.storage().use_count(); })
      .def_property_readonly("dtype", [](const Tensor& t) { return dtype_name(t.dtype()); })
      .def_property_readonly("device", [](const Tensor& t) { return t.device().str(); })
      .def_property_readonly("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()); })
      .def("dim", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("item", &Tensor::item)
      .def("contiguous", &Tensor::contiguous)
      .def("clone", &Tensor::clone)
      .def("view", &Tensor::view)
      .def("reshape", &Tensor::reshape)
      .def("transpose", &Tensor::transpose)
      .def("permute", &Tensor::permute)
      .def("expand", &Tensor::expand)
      .def("select", &Tensor::select)
      .def("narrow", &Tensor::narrow)
      .def(
          "to_device",
          [](const Tensor& t, const std::string& d, bool non_blocking) { return t.to(parse_device(d), non_blocking); },
          py::arg("device"), py::arg("non_blocking") = false)
      .def("pin_memory", &Tensor::pin_memory)
      .def("is_pinned", &Tensor::is_pinned)
      .def("to_dtype", [](const Tensor& t, const std::string& d) { return t.to(parse_dtype(d)); })
      .def("shares_storage", [](const Tensor& a, const Tensor& b) { return a.storage() == b.storage(); });

  m.def("from_numpy", &from_numpy, py::arg("array"), py::arg("dtype") = "",
        "A tensor sharing the array's memory; dtype 'bfloat16' views a uint16 array's bits as bfloat16.");
  m.def("empty", [](const Shape& shape, const std::string& dtype, const std::string& device) {
    return Tensor::empty(shape, parse_dtype(dtype), parse_device(device));
  });
  m.def("full", [](const Shape& shape, double value, const std::string& dtype, const std::string& device) {
    return Tensor::full(shape, value, parse_dtype(dtype), parse_device(device));
  });
}

}  // namespace pycnn::bindings
