// pycnn-run: runs a .pycnn program (docs/program-format.md) from the command line, without Python.
//   pycnn-run MODEL.pycnn INPUTS.safetensors OUTPUTS.safetensors [--threads N] [--device cpu|cuda[:i]]
//             [--repeat R] [--warmup W]
// Inputs are taken from INPUTS by the program's input names, outputs written to OUTPUTS under its output
// names. With --repeat R it times R runs (after W untimed ones) and prints the median and minimum ms per run.
#include <algorithm>  // defines: std::sort, std::min_element
#include <chrono>
#include <cstdio>
#include <cstdlib>  // defines: std::strtol
#include <string>
#include <vector>

#include "pycnn/core/cuda_runtime.h"  // defines: cuda::synchronize (a timed CUDA run ends when the device is done)
#include "pycnn/ops.h"                // defines: set_num_threads
#include "pycnn/program.h"

namespace {

constexpr const char* kUsage =
    "usage: pycnn-run MODEL.pycnn INPUTS.safetensors OUTPUTS.safetensors [--threads N] [--device cpu|cuda[:i]] "
    "[--repeat R] [--warmup W]\n";

struct Options {
  std::string model, inputs, outputs;
  int threads = 0;  // 0: the core's default
  pycnn::Device device;
  long repeat = 0, warmup = 0;
};

long parse_count(const std::string& flag, const char* text, long lo) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < lo || v > 1000000)
    throw pycnn::ValueError(pycnn::str("[pycnn-run] ", flag, " takes an integer >= ", lo, ", got '", text, "'"));
  return v;
}

pycnn::Device parse_device(const std::string& s) {
  if (s == "cpu") return {};
  if (s == "cuda") return {pycnn::DeviceType::CUDA, 0};
  if (s.rfind("cuda:", 0) == 0)
    return {pycnn::DeviceType::CUDA, static_cast<int>(parse_count("--device cuda:", s.c_str() + 5, 0))};
  throw pycnn::ValueError("[pycnn-run] --device takes cpu, cuda or cuda:<index>, got '" + s + "'");
}

Options parse_args(int argc, char** argv) {
  Options o;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      positional.push_back(a);
      continue;
    }
    if (i + 1 >= argc) throw pycnn::ValueError("[pycnn-run] " + a + " needs a value");
    const char* v = argv[++i];
    if (a == "--threads")
      o.threads = static_cast<int>(parse_count(a, v, 1));
    else if (a == "--device")
      o.device = parse_device(v);
    else if (a == "--repeat")
      o.repeat = parse_count(a, v, 0);
    else if (a == "--warmup")
      o.warmup = parse_count(a, v, 0);
    else
      throw pycnn::ValueError("[pycnn-run] unknown option " + a);
  }
  if (positional.size() != 3)
    throw pycnn::ValueError(pycnn::str("[pycnn-run] expected 3 file arguments, got ", positional.size()));
  o.model = positional[0], o.inputs = positional[1], o.outputs = positional[2];
  return o;
}

std::vector<pycnn::Tensor> read_inputs(const pycnn::Program& prog, const Options& o) {
  const pycnn::SafetensorsFile file = pycnn::load_safetensors(o.inputs);
  std::vector<pycnn::Tensor> inputs;
  for (const pycnn::ProgramInput& in : prog.inputs()) {
    const auto it = std::find_if(file.tensors.begin(), file.tensors.end(),
                                 [&](const auto& named) { return named.first == in.name; });
    if (it == file.tensors.end())
      throw pycnn::ValueError(
          pycnn::str("[pycnn-run] '", o.inputs, "' has no tensor named '", in.name, "', the program's input"));
    inputs.push_back(it->second.to(o.device));
  }
  return inputs;
}

// Median and minimum ms of o.repeat runs after o.warmup untimed ones.
void time_runs(const pycnn::Program& prog, const std::vector<pycnn::Tensor>& inputs, const Options& o) {
  auto sync = [&] {
    if (o.device.is_cuda()) pycnn::cuda::synchronize(o.device.index);
  };
  for (long i = 0; i < o.warmup; ++i) prog.run(inputs);
  sync();
  std::vector<double> ms;
  for (long i = 0; i < o.repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    prog.run(inputs);
    sync();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
  std::printf("%ld runs on %s, %d threads: median %.3f ms, min %.3f ms\n", o.repeat, o.device.str().c_str(),
              pycnn::get_num_threads(), median, ms.front());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse_args(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n%s", e.what(), kUsage);
    return 2;
  }
  try {
    if (o.threads > 0) pycnn::set_num_threads(o.threads);
    pycnn::Program prog = pycnn::Program::load(o.model);
    prog.to(o.device);
    const std::vector<pycnn::Tensor> inputs = read_inputs(prog, o);
    const std::vector<pycnn::Tensor> outputs = prog.run(inputs);
    if (o.repeat > 0) time_runs(prog, inputs, o);
    std::vector<std::pair<std::string, pycnn::Tensor>> named;
    for (size_t i = 0; i < outputs.size(); ++i) named.emplace_back(prog.output_names()[i], outputs[i]);
    pycnn::save_safetensors(o.outputs, named);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pycnn-run: %s\n", e.what());
    return 1;
  }
  return 0;
}
