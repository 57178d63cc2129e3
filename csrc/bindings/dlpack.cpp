// DLPack capsules (core/dlpack.h) in and out of pycnn tensors, without copying. The protocol around them
// (__dlpack__'s max_version, copy, dl_device and stream; which capsule to ask a producer for) is Python's, in
// pycnn/_dlpack.py: these two functions only build a capsule from a tensor and a tensor from a capsule.
// Capsule rules (Python array API standard): a capsule is named "dltensor_versioned" (DLPack >= 1.0) or
// "dltensor" (legacy); a consumer renames it "used_..." when it takes the tensor over and then owns the
// deleter call; a capsule destroyed with its original name was never taken, so its destructor calls it.
#include "pycnn/core/dlpack.h"  // defines: DLTensor, DLManagedTensor, DLManagedTensorVersioned, the flags

#include <Python.h>  // defines: PyCapsule_*

#include <algorithm>  // defines: std::clamp
#include <cstring>    // defines: std::strcmp
#include <string>

#include "common.h"
#include "pycnn/core/cuda_runtime.h"  // defines: cuda::check_device

namespace pycnn::bindings {

using namespace pycnn::dlpack;

constexpr const char* kVersionedName = "dltensor_versioned";
constexpr const char* kLegacyName = "dltensor";
constexpr const char* kUsedVersionedName = "used_dltensor_versioned";
constexpr const char* kUsedLegacyName = "used_dltensor";

// ---- dtypes and devices, both ways ----
static DLDataType dl_dtype(DType t) {
  const uint8_t bits = static_cast<uint8_t>(dtype_size(t) * 8);
  switch (t) {
    case DType::Float32:
    case DType::Float64:
    case DType::Float16: return {kDLFloat, bits, 1};
    case DType::BFloat16: return {kDLBfloat, bits, 1};
    case DType::Int64:
    case DType::Int32: return {kDLInt, bits, 1};
    case DType::UInt8: return {kDLUInt, bits, 1};
    default: return {kDLBool, bits, 1};
  }
}

static DType pycnn_dtype(DLDataType t) {
  PYCNN_CHECK_TYPE(t.lanes == 1, "[from_dlpack] vector elements (lanes=", t.lanes, ") are not supported");
  for (DType d : {DType::Float32, DType::Float64, DType::Int64, DType::Int32, DType::UInt8, DType::Bool, DType::Float16,
                  DType::BFloat16}) {
    const DLDataType m = dl_dtype(d);
    if (m.code == t.code && m.bits == t.bits) return d;
  }
  throw TypeError(str("[from_dlpack] unsupported DLPack dtype (code=", int(t.code), ", bits=", int(t.bits),
                      "); pycnn has float16/32/64, bfloat16, int32/64, uint8 and bool (complex types and int8, "
                      "int16, uint16... are not)"));
}

static DLDevice dl_device(Device d) { return d.is_cpu() ? DLDevice{kDLCPU, 0} : DLDevice{kDLCUDA, d.index}; }

// ---- export: a pycnn tensor in a capsule ----
// What a capsule owns: the tensor (so its storage lives until the deleter runs) and the shape and strides the
// DLTensor points into. manager_ctx points back here.
struct Exported {
  Tensor tensor;
  Shape shape, strides;
  DLManagedTensorVersioned versioned{};
  DLManagedTensor legacy{};
};

// The tensor's view as it is: its first element as the data pointer (byte_offset 0, as the spec allows and
// as consumers that ignore byte_offset need), element strides.
static DLTensor describe(Exported& e) {
  const Tensor& t = e.tensor;
  return DLTensor{t.raw_data(),
                  dl_device(t.device()),
                  static_cast<int32_t>(t.dim()),
                  dl_dtype(t.dtype()),
                  e.shape.data(),
                  e.strides.data(),
                  0};
}

// Destructor of a capsule: one no consumer took still owns its managed tensor. The names are checked without
// PyCapsule_GetPointer's error, since a destructor may run while an exception is pending.
static void capsule_destructor(PyObject* capsule) {
  if (PyCapsule_IsValid(capsule, kVersionedName)) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(capsule, kVersionedName));
    if (m->deleter) m->deleter(m);
  } else if (PyCapsule_IsValid(capsule, kLegacyName)) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, kLegacyName));
    if (m->deleter) m->deleter(m);
  }
}

// versioned: a DLPack 1.`minor` capsule, else a legacy one.
static py::capsule to_dlpack(const Tensor& tensor, bool versioned, uint32_t minor, bool copied) {
  auto* e = new Exported{tensor, tensor.shape(), tensor.strides()};
  void* managed;
  if (versioned) {
    e->versioned.version = {kMajorVersion, minor};
    e->versioned.manager_ctx = e;
    e->versioned.deleter = [](DLManagedTensorVersioned* self) { delete static_cast<Exported*>(self->manager_ctx); };
    e->versioned.flags = copied ? kFlagIsCopied : 0;  // pycnn memory is always writable: never READ_ONLY
    e->versioned.dl_tensor = describe(*e);
    managed = &e->versioned;
  } else {
    e->legacy.manager_ctx = e;
    e->legacy.deleter = [](DLManagedTensor* self) { delete static_cast<Exported*>(self->manager_ctx); };
    e->legacy.dl_tensor = describe(*e);
    managed = &e->legacy;
  }
  PyObject* capsule = PyCapsule_New(managed, versioned ? kVersionedName : kLegacyName, capsule_destructor);
  if (!capsule) {
    delete e;
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::capsule>(capsule);
}

// ---- import: a capsule's memory as a pycnn tensor ----
struct Imported {
  DLTensor* dl;
  uint64_t flags;
  std::function<void()> release;  // calls the producer's deleter
};

// Takes the managed tensor out of a capsule, checking its name and version; the capsule is not renamed yet.
static Imported open_capsule(const py::handle& capsule) {
  PYCNN_CHECK_TYPE(PyCapsule_CheckExact(capsule.ptr()), "[from_dlpack] expected an object with __dlpack__ or a ",
                   "DLPack capsule, got ", py::str(py::type::of(capsule).attr("__name__")).cast<std::string>());
  const char* raw = PyCapsule_GetName(capsule.ptr());
  const std::string name = raw ? raw : "";
  PYCNN_CHECK(name != kUsedVersionedName && name != kUsedLegacyName, "[from_dlpack] the capsule was already ",
              "consumed (its name is '", name, "'): a DLPack capsule can be imported once");
  if (name == kVersionedName) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(capsule.ptr(), kVersionedName));
    if (!m) throw py::error_already_set();
    if (m->version.major != kMajorVersion)  // the layout past the version may differ: the capsule stays the owner
      throw py::buffer_error(str("[from_dlpack] DLPack version ", m->version.major, ".", m->version.minor,
                                 " is not supported (pycnn reads major version ", kMajorVersion, ")"));
    return {&m->dl_tensor, m->flags, [m] {
              if (m->deleter) m->deleter(m);
            }};
  }
  PYCNN_CHECK(name == kLegacyName, "[from_dlpack] expected a capsule named 'dltensor_versioned' or 'dltensor', got '",
              name, "'");
  auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), kLegacyName));
  if (!m) throw py::error_already_set();
  return {&m->dl_tensor, 0, [m] {
            if (m->deleter) m->deleter(m);
          }};
}

static Device pycnn_device(const DLDevice& d) {
  if (d.device_type == kDLCPU) return Device{};
  if (d.device_type == kDLCUDA) {
    cuda::check_device(d.device_id, "from_dlpack");  // "built without CUDA", no GPU, or a bad index
    return Device{DeviceType::CUDA, d.device_id};
  }
  throw py::buffer_error(str("[from_dlpack] unsupported DLPack device type ", int(d.device_type),
                             " (pycnn reads kDLCPU=1 and kDLCUDA=2)"));
}

// Checks the view and returns the bytes it spans from its first element (strides are never negative here).
static size_t span_bytes(const Shape& shape, const Shape& strides, size_t itemsize) {
  int64_t last = 0;  // the offset of the last element, in elements
  for (size_t i = 0; i < shape.size(); ++i) {
    PYCNN_CHECK(shape[i] >= 0, "[from_dlpack] negative size ", shape[i], " in dim ", i);
    PYCNN_CHECK(strides[i] >= 0, "[from_dlpack] negative stride ", strides[i], " in dim ", i,
                " is not supported (pycnn views have non-negative strides); copy the source first");
    if (shape[i] == 0) return 0;
    last = checked_add(last, checked_mul(shape[i] - 1, strides[i], "from_dlpack"), "from_dlpack");
  }
  return static_cast<size_t>(
      checked_mul(checked_add(last, 1, "from_dlpack"), static_cast<int64_t>(itemsize), "from_dlpack"));
}

// Returns (tensor, flags); the capsule is renamed "used_..." once the tensor holds the producer's memory. The
// deleter then runs once, when the last pycnn view of that memory dies (an empty tensor lets it go at once).
static py::tuple from_dlpack_capsule(const py::handle& capsule) {
  Imported in = open_capsule(capsule);
  const DLTensor& dl = *in.dl;
  PYCNN_CHECK(dl.ndim >= 0, "[from_dlpack] negative ndim ", dl.ndim);
  const DType dtype = pycnn_dtype(dl.dtype);
  const Device device = pycnn_device(dl.device);
  Shape shape(dl.shape, dl.shape + dl.ndim);
  Shape strides = dl.strides ? Shape(dl.strides, dl.strides + dl.ndim) : contiguous_strides(shape);
  const size_t nbytes = span_bytes(shape, strides, dtype_size(dtype));
  char* first = static_cast<char*>(dl.data) + dl.byte_offset;
  PYCNN_CHECK(nbytes == 0 || (dl.data && reinterpret_cast<uintptr_t>(first) % dtype_size(dtype) == 0),
              "[from_dlpack] the data pointer ", static_cast<void*>(first), " is null or not aligned to its ",
              dtype_name(dtype), " elements");

  const char* used =
      std::strcmp(PyCapsule_GetName(capsule.ptr()), kVersionedName) == 0 ? kUsedVersionedName : kUsedLegacyName;
  if (PyCapsule_SetName(capsule.ptr(), used) != 0) throw py::error_already_set();
  Tensor t;
  if (nbytes == 0) {  // nothing to share (the pointer may even be null)
    in.release();
    t = Tensor::empty(shape, dtype, device);
  } else {
    auto release = std::move(in.release);
    auto storage = std::make_shared<Storage>(first, nbytes, device, [release] {
      py::gil_scoped_acquire gil;  // producers' deleters may touch Python objects; tensors may die without the GIL
      release();
    });
    t = Tensor(std::move(storage), shape, strides, 0, dtype);
  }
  return py::make_tuple(t, in.flags);
}

// ---- the __dlpack__ protocol (Python array API standard), for Tensor.__dlpack__ ----
static std::string repr_of(const py::handle& h) { return py::repr(h).cast<std::string>(); }

// A (major, minor) or (device_type, device_id) argument.
static std::pair<int64_t, int64_t> int_pair(const py::handle& h, const char* what) {
  const bool ok = py::isinstance<py::tuple>(h) && py::len(h) == 2 && py::isinstance<py::int_>(h[py::int_(0)]) &&
                  py::isinstance<py::int_>(h[py::int_(1)]);
  PYCNN_CHECK_TYPE(ok, "[__dlpack__] ", what, " must be a tuple of two ints or None, got ", repr_of(h));
  return h.cast<std::pair<int64_t, int64_t>>();
}

static Device device_of_dl(const py::handle& dl_device) {
  const auto pair = int_pair(dl_device, "dl_device");
  if (pair.first == kDLCPU) return Device{};
  if (pair.first == kDLCUDA && pair.second >= 0 && pair.second < cuda::device_count())
    return Device{DeviceType::CUDA, static_cast<int>(pair.second)};
  throw py::buffer_error(str("[__dlpack__] cannot export to DLPack device type ", pair.first, ", device ", pair.second,
                             " (pycnn has kDLCPU=1 and kDLCUDA=2 with ", cuda::device_count(), " CUDA devices)"));
}

// The consumer's stream for a CUDA export: None is the legacy default stream (1), -1 asks for no
// synchronisation, 2 is the per-thread default stream, anything else a cudaStream_t; 0 is ambiguous and refused.
static void sync_for_consumer(const Tensor& t, const py::handle& stream) {
  if (t.device().is_cpu()) {
    PYCNN_CHECK(stream.is_none(), "[__dlpack__] stream must be None for a CPU tensor, got ", repr_of(stream));
    return;
  }
  PYCNN_CHECK_TYPE(stream.is_none() || py::isinstance<py::int_>(stream), "[__dlpack__] stream must be an int or ",
                   "None, got ", repr_of(stream));
  const int64_t s = stream.is_none() ? 1 : stream.cast<int64_t>();
  PYCNN_CHECK(s != 0 && s >= -1, "[__dlpack__] stream ", s,
              " is not a valid CUDA stream (use 1 for the legacy "
              "default stream, 2 for the per-thread one, -1 for no synchronisation)");
  if (s == -1) return;
  // The producer's work is queued on pycnn's current stream: the consumer's stream may use the memory once it
  // has finished. Waiting for that stream on the host is the simple sufficient order (no event API here).
  const cuda::Stream consumer = s == 1 ? nullptr : reinterpret_cast<cuda::Stream>(s);
  const cuda::Stream producer = cuda::current_stream(t.device().index);
  if (consumer != producer) {
    py::gil_scoped_release release;
    cuda::synchronize_stream(t.device().index, producer);
  }
}

static py::capsule dlpack_export(const Tensor& t, const py::handle& stream, const py::handle& max_version,
                                 const py::handle& dl_device, const py::handle& copy) {
  PYCNN_CHECK_TYPE(copy.is_none() || py::isinstance<py::bool_>(copy), "[__dlpack__] copy must be True, False or ",
                   "None, got ", repr_of(copy));
  const Device target = dl_device.is_none() ? t.device() : device_of_dl(dl_device);
  Tensor out = t;
  bool copied = false;
  if (target != t.device()) {
    PYCNN_CHECK(copy.is_none() || copy.cast<bool>(), "[__dlpack__] exporting a ", t.device().str(), " tensor to ",
                target.str(), " needs a copy, and copy=False");
    out = t.to(target), copied = true;
  } else if (!copy.is_none() && copy.cast<bool>()) {
    out = t.clone(), copied = true;
  }
  sync_for_consumer(out, stream);
  // The newest version the consumer reads and pycnn writes (1.0 and 1.1 share their layout).
  const auto asked = max_version.is_none() ? std::pair<int64_t, int64_t>{0, 0} : int_pair(max_version, "max_version");
  const bool versioned = asked.first >= 1;
  const uint32_t minor =
      asked.first > 1 ? kMinorVersion : static_cast<uint32_t>(std::clamp<int64_t>(asked.second, 0, kMinorVersion));
  return to_dlpack(out, versioned, minor, copied);
}

void init_dlpack(py::module_& m) {
  m.def("to_dlpack", &dlpack_export, py::arg("tensor"), py::arg("stream"), py::arg("max_version"), py::arg("dl_device"),
        py::arg("copy"),
        "Tensor.__dlpack__: a capsule viewing the tensor (or a copy, with copy=True or another dl_device), "
        "'dltensor_versioned' when max_version allows DLPack 1.x, else the legacy 'dltensor'.");
  m.def(
      "dlpack_device",
      [](const Tensor& t) {
        const DLDevice d = dl_device(t.device());
        return py::make_tuple(int(d.device_type), d.device_id);
      },
      "Tensor.__dlpack_device__: (kDLCPU=1, 0) or (kDLCUDA=2, index).");
  m.def("from_dlpack_capsule", &from_dlpack_capsule, py::arg("capsule"),
        "(tensor, flags): a tensor viewing a DLPack capsule's memory, which is renamed used_dltensor(_versioned).");
  m.attr("DLPACK_FLAG_READ_ONLY") = kFlagReadOnly;
  m.attr("DLPACK_FLAG_IS_COPIED") = kFlagIsCopied;
  m.attr("DLPACK_VERSION") = py::make_tuple(kMajorVersion, kMinorVersion);
}

}  // namespace pycnn::bindings
