// The CUDA runtime for pycnn.cuda (core/cuda_runtime.h): devices, synchronisation, memory statistics, streams
// (as integer handles; 0 is the default stream) and the host-transfer counter the tests read.
#include "common.h"
#include "pycnn/core/cuda_runtime.h"

namespace pycnn::bindings {

void init_cuda(py::module_& m) {
  m.def("cuda_is_built", &cuda::is_built);
  m.def("cuda_device_count", &cuda::device_count);
  m.def("cuda_device_name", &cuda::device_name);
  m.def("cuda_check_device", &cuda::check_device, py::arg("index"), py::arg("op"));
  m.def("cuda_synchronize", &cuda::synchronize, py::call_guard<py::gil_scoped_release>());
  m.def("cuda_memory_stats", [](int index) {
    const cuda::MemoryStats s = cuda::memory_stats(index);
    py::dict d;
    d["allocated_bytes"] = s.allocated, d["peak_allocated_bytes"] = s.peak_allocated;
    d["reserved_bytes"] = s.reserved, d["peak_reserved_bytes"] = s.peak_reserved;
    d["driver_allocs"] = s.driver_allocs, d["driver_frees"] = s.driver_frees;
    return d;
  });
  m.def("cuda_reset_peak_memory_stats", &cuda::reset_peak_memory_stats);
  m.def("cuda_empty_cache", &cuda::empty_cache, py::call_guard<py::gil_scoped_release>());
  m.def("cuda_host_transfer_count", &cuda::host_transfer_count);
  m.def("cuda_stream_create", [](int index) { return reinterpret_cast<uintptr_t>(cuda::create_stream(index)); });
  m.def("cuda_stream_destroy",
        [](int index, uintptr_t s) { cuda::destroy_stream(index, reinterpret_cast<cuda::Stream>(s)); });
  m.def("cuda_current_stream", [](int index) { return reinterpret_cast<uintptr_t>(cuda::current_stream(index)); });
  m.def("cuda_set_stream",
        [](int index, uintptr_t s) { cuda::set_current_stream(index, reinterpret_cast<cuda::Stream>(s)); });
  m.def(
      "cuda_stream_synchronize",
      [](int index, uintptr_t s) { cuda::synchronize_stream(index, reinterpret_cast<cuda::Stream>(s)); },
      py::call_guard<py::gil_scoped_release>());
}

}  // namespace pycnn::bindings
