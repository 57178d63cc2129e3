// pycnn::Program in pure C++: a program file written here (save_safetensors with the program as metadata) runs
// bitwise as the direct op calls, and bad files and inputs throw the core's exceptions with "[Program.*]".
#include <cstdio>
#include <cstring>  // defines: std::memcmp
#include <fstream>
#include <random>
#include <string>

#include "expect.h"
#include "pycnn/ops.h"
#include "pycnn/program.h"

using namespace pycnn;

namespace {

Tensor randn(const Shape& shape, unsigned seed) {
  Tensor t = Tensor::empty(shape, DType::Float32);
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist;
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(gen);
  return t;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.contiguous().raw_data(), b.contiguous().raw_data(), a.numel() * a.itemsize()) == 0;
}

// x (N, 2, 6, 6) -> conv 3x3 without bias -> relu -> reshape (0, -1) -> linear -> y (N, 4)
const char* kGraph = R"({
  "inputs": [{"id": 0, "name": "x", "dtype": "float32", "shape": [1, 2, 6, 6], "dynamic_batch": true}],
  "outputs": [{"id": 5, "name": "y"}],
  "constants": [{"id": 1, "tensor": "conv.weight"}, {"id": 2, "tensor": "fc.weight"}, {"id": 3, "tensor": "fc.bias"}],
  "nodes": [
    {"op": "conv2d", "inputs": [0, 1, null], "outputs": [10],
     "attrs": {"stride": [2, 2], "padding": [1, 1], "dilation": [1, 1], "groups": 1}},
    {"op": "relu", "inputs": [10], "outputs": [11], "attrs": {}},
    {"op": "reshape", "inputs": [11], "outputs": [12], "attrs": {"shape": [0, -1], "view_only": true}},
    {"op": "linear", "inputs": [12, 2, 3], "outputs": [5], "attrs": {}}
  ]
})";

struct Fixture {
  Tensor conv_w = randn({3, 2, 3, 3}, 1), fc_w = randn({4, 27}, 2), fc_b = randn({4}, 3);

  void write(const std::string& path, const std::string& graph, const std::string& version = "1") const {
    save_safetensors(path, {{"conv.weight", conv_w}, {"fc.weight", fc_w}, {"fc.bias", fc_b}},
                     {{"format", "pycnn.program"}, {"version", version}, {"program", graph}});
  }
  Tensor reference(const Tensor& x) const {
    Tensor h = relu_forward(conv2d_forward(x, conv_w, Tensor(), conv2d_args({2, 2}, {1, 1}, {1, 1}, 1)));
    return linear_forward(h.view({x.size(0), -1}), fc_w, fc_b);
  }
};

// f() must throw E with a message that starts with `prefix` and contains `text`.
template <typename E, typename F>
bool throws(F f, const std::string& prefix, const std::string& text) {
  try {
    f();
  } catch (const E& e) {
    const std::string msg = e.what();
    if (msg.rfind(prefix, 0) == 0 && msg.find(text) != std::string::npos) return true;
    std::printf("unexpected message: %s\n", msg.c_str());
    return false;
  } catch (const std::exception& e) {
    std::printf("unexpected exception type: %s\n", e.what());
    return false;
  }
  std::printf("nothing thrown (expected '%s')\n", text.c_str());
  return false;
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  return s.replace(s.find(from), from.size(), to);
}

}  // namespace

int main() {
  const std::string path = "test_program_tmp.pycnn";
  Fixture fx;
  fx.write(path, kGraph);

  Program prog = Program::load(path);
  EXPECT(prog.num_nodes() == 4 && prog.inputs().size() == 1 && prog.output_names() == std::vector<std::string>{"y"});
  for (int64_t batch : {1, 3}) {  // dynamic batch: 3 differs from the traced 1
    Tensor x = randn({batch, 2, 6, 6}, 10 + static_cast<unsigned>(batch));
    std::vector<Tensor> out = prog.run({x});
    EXPECT(out.size() == 1 && same_bits(out[0], fx.reference(x)));
  }

  EXPECT(throws<ValueError>([&] { prog.run({randn({1, 3, 6, 6}, 4)}); }, "[Program.run]",
                            "input 'x' has shape (1, 3, 6, 6), the program takes (1, 2, 6, 6)"));
  EXPECT(throws<TypeError>([&] { prog.run({Tensor::zeros({1, 2, 6, 6}, DType::Float64)}); }, "[Program.run]",
                           "is float64"));
  EXPECT(throws<ValueError>([&] { prog.run({}); }, "[Program.run]", "got 0 inputs"));

  fx.write(path, kGraph, "2");
  EXPECT(throws<ValueError>([&] { Program::load(path); }, "[Program.load]", "version '2'"));
  fx.write(path, replaced(kGraph, "\"relu\"", "\"gelu\""));
  EXPECT(throws<ValueError>([&] { Program::load(path); }, "[Program.load]", "unknown op 'gelu'"));
  fx.write(path, replaced(kGraph, "\"groups\": 1", "\"groups\": \"1\""));
  EXPECT(throws<ValueError>([&] { Program::load(path); }, "[Program.load]",
                            "node 0 (conv2d): attribute 'groups' is a string, expected an integer"));
  fx.write(path, replaced(kGraph, "[0, 1, null]", "[0, 1, 11]"));
  EXPECT(throws<ValueError>([&] { Program::load(path); }, "[Program.load]", "id 11 is used before it is defined"));

  // Truncated at every length up to the whole file: a clear error each time, never a crash.
  fx.write(path, kGraph);
  std::string bytes;
  {
    std::ifstream f(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  int refused = 0;
  for (size_t n = 0; n < bytes.size(); n += 7) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(n));
    try {
      Program::load(path);
    } catch (const std::exception& e) {
      refused += std::string(e.what()).rfind("[Program.load]", 0) == 0;
    }
  }
  EXPECT(refused == static_cast<int>((bytes.size() + 6) / 7));
  std::remove(path.c_str());
  return failures != 0;
}
