// C++ tests of the core without Python: tensor views and copies, and a small op chain.
#include <cmath>
#include <cstdio>

#include "expect.h"  // defines: EXPECT, failures
#include "pycnn/core/tensor.h"
#include "pycnn/ops/ops.h"

using namespace pycnn;

int main() {
  Tensor a = Tensor::empty({2, 3}, DType::Float32);
  for (int i = 0; i < 6; ++i) a.data<float>()[i] = float(i);
  Tensor t = a.transpose(0, 1);
  EXPECT(!t.is_contiguous());
  Tensor tc = t.contiguous();
  EXPECT(tc.shape() == (Shape{3, 2}));
  EXPECT(tc.data<float>()[1] == 3.0f && tc.data<float>()[2] == 1.0f);

  Tensor m = matmul(a, tc);  // (2,3)@(3,2) = a @ a^T
  EXPECT(std::fabs(m.data<float>()[0] - 5.0f) < 1e-6 && std::fabs(m.data<float>()[3] - 50.0f) < 1e-6);

  bool threw = false;
  try {
    matmul(a, a);
  } catch (const ValueError& e) {
    threw = std::string(e.what()).find("[matmul]") == 0;
  }
  EXPECT(threw);

  Tensor d = a.to(DType::Float64);
  EXPECT(d.dtype() == DType::Float64 && d.data<double>()[5] == 5.0);
  std::printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
