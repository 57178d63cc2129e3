// Bindings of pycnn::Program (include/pycnn/program.h), the C++ interpreter of .pycnn files, so that Python
// tests can compare it with the Python forward; conventions in bindings/common.h. Users run programs through
// pycnn.program (Python) or from C++.
#include "pycnn/program.h"

#include "common.h"

namespace pycnn::bindings {

void init_program(py::module_& m) {
  py::class_<Program>(m, "Program", "A .pycnn program run by the C++ interpreter (no Python per op).")
      .def_static(
          "load",
          [](const std::string& path) {
            py::gil_scoped_release nogil;
            return Program::load(path);
          },
          py::arg("path"))
      .def(
          "run",
          [](const Program& p, const std::vector<Tensor>& inputs) {
            py::gil_scoped_release nogil;
            return p.run(inputs);
          },
          py::arg("inputs"), "The outputs, a list in the program's output order.")
      .def(
          "to", [](Program& p, const std::string& device) -> Program& { return p.to(parse_device(device)); },
          py::arg("device"), py::return_value_policy::reference_internal)
      .def_property_readonly("device", [](const Program& p) { return p.device().str(); })
      .def(
          "info",
          [](const Program& p) {
            py::list inputs;
            for (const ProgramInput& in : p.inputs())
              inputs.append(py::dict(py::arg("name") = in.name, py::arg("dtype") = dtype_name(in.dtype),
                                     py::arg("shape") = in.shape, py::arg("dynamic_batch") = in.dynamic_batch));
            return py::dict(py::arg("inputs") = inputs, py::arg("outputs") = p.output_names(),
                            py::arg("num_nodes") = p.num_nodes(), py::arg("ops") = p.ops(),
                            py::arg("num_constants") = p.num_constants());
          },
          "{'inputs': [{name, dtype, shape, dynamic_batch}], 'outputs': [names], 'num_nodes', 'ops', "
          "'num_constants'}");
  m.def(
      "save_safetensors",
      [](const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
         const std::map<std::string, std::string>& metadata) {
        py::gil_scoped_release nogil;
        save_safetensors(path, tensors, metadata);
      },
      py::arg("path"), py::arg("tensors"), py::arg("metadata") = std::map<std::string, std::string>{},
      "The C++ safetensors writer (pycnn-run's): tensors is a list of (name, tensor).");
  m.def(
      "load_safetensors",
      [](const std::string& path) {
        SafetensorsFile f;
        {
          py::gil_scoped_release nogil;
          f = load_safetensors(path);
        }
        return py::make_tuple(f.tensors, f.metadata);
      },
      py::arg("path"), "The C++ safetensors reader: ([(name, tensor)] in offset order, metadata).");
}

}  // namespace pycnn::bindings
