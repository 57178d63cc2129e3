// Embedding pycnn in a C++ program: build tensors, run matmul and a linear + ReLU layer through the
// core's op entry points (<pycnn/ops.h>), print the result and check it against values computed by hand.
// Exits non-zero when a value is wrong, so it doubles as a smoke test of the exported CMake package.
#include <pycnn/ops.h>     // defines: matmul, linear_forward, relu_forward
#include <pycnn/tensor.h>  // defines: pycnn::Tensor, DType

#include <cmath>
#include <cstdio>

using pycnn::DType;
using pycnn::Tensor;

static Tensor from_values(const pycnn::Shape& shape, std::initializer_list<float> values) {
  Tensor t = Tensor::empty(shape, DType::Float32);
  float* p = t.data<float>();
  for (float v : values) *p++ = v;
  return t;
}

static void print(const char* name, const Tensor& t) {
  std::printf("%s %s:\n", name, pycnn::shape_str(t.shape()).c_str());
  for (int64_t i = 0; i < t.size(0); ++i) {
    for (int64_t j = 0; j < t.size(1); ++j) std::printf(" %7.2f", t.data<float>()[i * t.size(1) + j]);
    std::printf("\n");
  }
}

static bool equal(const Tensor& t, std::initializer_list<float> expected) {
  const float* p = t.data<float>();
  for (float v : expected)
    if (std::fabs(*p++ - v) > 1e-5f) return false;
  return true;
}

int main() {
  Tensor x = from_values({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor w = from_values({3, 2}, {1, 0, 0, 1, 1, -1});

  Tensor y = pycnn::matmul(x, w);  // (2, 3) @ (3, 2) -> (2, 2)
  print("x @ w", y);

  // A linear layer as torch.nn.Linear holds it: weight (out, in), bias (out,); h = relu(x @ weight^T + bias).
  Tensor weight = from_values({2, 3}, {1, -1, 0, 0, 1, -2});
  Tensor bias = from_values({2}, {0.5f, 5});
  Tensor h = pycnn::relu_forward(pycnn::linear_forward(x, weight, bias));
  print("relu(linear(x))", h);

  // By hand: x @ weight^T + bias = [[-0.5, 1], [-0.5, -2]]; the ReLU zeroes the negatives.
  bool ok = equal(y, {4, -1, 10, -1}) && equal(h, {0, 1, 0, 0});
  std::printf(ok ? "embed: OK\n" : "embed: WRONG RESULT\n");
  return ok ? 0 : 1;
}
