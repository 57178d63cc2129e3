// CPU binary arithmetic. Inputs arrive as broadcast views of the output's shape (stride 0 on broadcast
// dims). Fast paths: everything contiguous, or one side a single value; otherwise rows of the last dim
// with a multi-index over the outer dims.
#include <vector>

#include "core/parallel.h"
#include "ops/cpu/cpu_ops.h"

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
  const auto& shape = out.shape();
  const int64_t inner = shape[rank - 1];
  const int64_t sa = a.strides()[rank - 1], sb = b.strides()[rank - 1];
  parallel_for(n / inner, std::max<int64_t>(1, grain / inner), [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> idx(rank, 0);
    int64_t rem = r0;
    for (int64_t d = rank - 2; d >= 0; --d) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
    }
    for (int64_t r = r0; r < r1; ++r) {
      int64_t oa = 0, ob = 0;
      for (int64_t d = 0; d < rank - 1; ++d) {
        oa += idx[d] * a.strides()[d];
        ob += idx[d] * b.strides()[d];
      }
      T* o = po + r * inner;
      const T* xa = pa + oa;
      const T* xb = pb + ob;
      for (int64_t i = 0; i < inner; ++i) o[i] = f(xa[i * sa], xb[i * sb]);
      for (int64_t d = rank - 2; d >= 0; --d) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
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
