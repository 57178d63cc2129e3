// CPU binary arithmetic. Inputs arrive as broadcast views of the output's shape (stride 0 on broadcast
// dims). Fast paths: everything contiguous, or one side a single value; otherwise row by row (strided.h).
#include "core/parallel.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/strided.h"

namespace pycnn::cpu {

namespace {

template <typename T, typename F>
void apply(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* po = out.data<T>();
  const int64_t grain = 1 << 15;
  auto all_zero = [](const Tensor& t) {
    for (int64_t s : t.strides()) if (s != 0) return false;
    return true;
  };
  const bool ca = a.is_contiguous(), cb = b.is_contiguous();
  if (ca && cb) {
    parallel_for(n, grain, [&](int64_t s, int64_t e) { for (int64_t i = s; i < e; ++i) po[i] = f(pa[i], pb[i]); });
    return;
  }
  if (ca && all_zero(b)) {
    const T vb = *pb;
    parallel_for(n, grain, [&](int64_t s, int64_t e) { for (int64_t i = s; i < e; ++i) po[i] = f(pa[i], vb); });
    return;
  }
  if (cb && all_zero(a)) {
    const T va = *pa;
    parallel_for(n, grain, [&](int64_t s, int64_t e) { for (int64_t i = s; i < e; ++i) po[i] = f(va, pb[i]); });
    return;
  }
  const int64_t rank = out.dim();
  const int64_t inner = out.shape()[rank - 1];
  const int64_t sa = a.strides()[rank - 1], sb = b.strides()[rank - 1];
  for_each_row<2>(out.shape(), {&a.strides(), &b.strides()}, grain, [&](int64_t r, const auto& off) {
    T* o = po + r * inner;
    const T* xa = pa + off[0];
    const T* xb = pb + off[1];
    for (int64_t i = 0; i < inner; ++i) o[i] = f(xa[i * sa], xb[i * sb]);
  });
}

}  // namespace

template <typename T>
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  switch (op) {
    case BinaryOp::Add: return apply<T>(a, b, out, [](T x, T y) { return x + y; });
    case BinaryOp::Sub: return apply<T>(a, b, out, [](T x, T y) { return x - y; });
    case BinaryOp::Mul: return apply<T>(a, b, out, [](T x, T y) { return x * y; });
    case BinaryOp::Div: return apply<T>(a, b, out, [](T x, T y) { return x / y; });
  }
}

template void binary<float>(BinaryOp, const Tensor&, const Tensor&, const Tensor&);
template void binary<double>(BinaryOp, const Tensor&, const Tensor&, const Tensor&);

}  // namespace pycnn::cpu
