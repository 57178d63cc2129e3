// pycnn's public C++ API for deployment: pycnn::Program runs a traced model (a .pycnn file, written by
// pycnn.export / pycnn.program.trace(...).save; format in docs/program-format.md) on the core's kernels, CPU
// or CUDA, without Python:
//
//   auto prog = pycnn::Program::load("model.pycnn");
//   std::vector<pycnn::Tensor> out = prog.run({x});
//
// Plus the safetensors reader and writer the programs are stored in. Bad files and bad inputs throw the core's
// exceptions (pycnn::ValueError, pycnn::TypeError, std::runtime_error) with messages starting "[Program.load]",
// "[Program.run]" or "[safetensors]"; nothing here aborts.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>  // defines: std::pair
#include <vector>

#include "pycnn/tensor.h"

namespace pycnn {

// ---- safetensors files ----
struct SafetensorsFile {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in file order (by data offset), CPU, contiguous
  std::map<std::string, std::string> metadata;          // the header's __metadata__
};
// Reads and validates the whole file: header length within the file, JSON header, every tensor's dtype, shape
// and byte range (overflow-checked, inside the data area, size = numel * itemsize).
SafetensorsFile load_safetensors(const std::string& path);
// Writes the tensors (any device, any layout: copied to contiguous CPU little-endian) and metadata, in the
// given order; the file is written to path + ".tmp" and renamed.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// ---- programs ----
struct ProgramInput {
  std::string name;
  DType dtype;
  Shape shape;                 // the traced shape
  bool dynamic_batch = false;  // dim 0 may differ at run time
};

class Program {
 public:
  // Reads and validates the whole file up front: the safetensors layout, format and version, every node's op,
  // attributes (present, of the right JSON type) and arity, ids defined once and before use, constants present.
  // Shapes are checked by each op when it runs; such an error names the node ("[Program.run] node 7 (linear):
  // [linear] ...").
  static Program load(const std::string& path);

  // Runs the nodes in order, one core op each (the call the Python op makes: bitwise the Python forward's
  // results at the same thread count). Inputs are checked against the declared dtypes and shapes (dim 0 free
  // with dynamic_batch) and must be on the program's device. Intermediate values are freed after their last
  // use, so peak memory is that of one forward. run keeps no state between calls.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) const;

  // Moves the constants to `device`; run then takes inputs on that device.
  Program& to(Device device);
  Device device() const;

  const std::vector<ProgramInput>& inputs() const;
  const std::vector<std::string>& output_names() const;
  int64_t num_nodes() const;
  std::vector<std::string> ops() const;  // each node's op, in order
  int64_t num_constants() const;

  struct Impl;

 private:
  explicit Program(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;  // shared by copies until to() replaces the constants
};

}  // namespace pycnn
