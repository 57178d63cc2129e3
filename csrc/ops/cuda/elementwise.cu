// CUDA binary arithmetic (add/sub/mul/div): out is contiguous with the broadcast shape, a and b are views of
// that shape (stride 0 along broadcast dims). Both contiguous: a flat loop; otherwise the StridedIndexer maps
// each output index to the operands' offsets.
#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/launch.cuh"
#include "pycnn/ops/cuda/pointwise_bodies.h"

namespace pycnn::cuda {

namespace {

template <typename T, typename Op>
void apply(const T* a, const T* b, T* out, const StridedViews& v, const char* op) {
  const int64_t n = shape_numel(*v.shape);
  const StridedIndexer<2> ix = make_indexer<2>(*v.shape, v.strides, op);
  if (both_contiguous(ix))
    for_each(n, BinaryContiguous<T, Op>{a, b, out}, op);
  else
    for_each(n, BinaryStrided<T, Op>{a, b, out, ix}, op);
}

}  // namespace

template <typename T>
void binary(BinaryOp op, const T* a, const T* b, T* out, const StridedViews& v) {
  const char* name = enum_name(op);
  switch (op) {
    case BinaryOp::Add: return apply<T, AddOp>(a, b, out, v, name);
    case BinaryOp::Sub: return apply<T, SubOp>(a, b, out, v, name);
    case BinaryOp::Mul: return apply<T, MulOp>(a, b, out, v, name);
    case BinaryOp::Div: return apply<T, DivOp>(a, b, out, v, name);
  }
}

#define PYCNN_BINARY(T) template void binary<T>(BinaryOp, const T*, const T*, T*, const StridedViews&);
PYCNN_FOR_EACH_VALUE_TYPE(PYCNN_BINARY)
#undef PYCNN_BINARY

}  // namespace pycnn::cuda
