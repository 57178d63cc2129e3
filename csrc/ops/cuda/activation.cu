// CUDA kernels of the nonlinearities: ReLU, the elementwise unary family, PReLU, Maxout (the elementwise
// launcher with the bodies of ops/cuda/pointwise_bodies.h), and softmax / log_softmax over R of (A, R, B):
// one block per row when the row is contiguous (B == 1), else one thread per row (neighbouring threads take
// neighbouring b, so the loads coalesce). PReLU's weight gradient is one block per channel.
#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/launch.cuh"
#include "pycnn/ops/cuda/pointwise_bodies.h"

namespace pycnn::cuda {

template <typename T>
void relu_forward(const T* x, T* y, int64_t n) {
  for_each(n, ReluForward<T>{x, y}, "relu");
}

template <typename T>
void relu_backward(const T* dout, const T* y, T* dx, int64_t n) {
  for_each(n, ReluBackward<T>{dout, y, dx}, "relu_backward");
}

// ---- unary family: the switch (generated from ops.h's list) and the Variants choice run once per call ----

template <typename T>
void unary_forward(UnaryOp op, const T* x, T* y, int64_t n, double alpha, double beta) {
  auto run = [&](auto op_tag) {
    using Op = decltype(op_tag);
    unary::Variants<Op>::forward(alpha, beta, [&](auto form, double a, double b) {
      for_each(n, UnaryForward<decltype(form), T>{x, y, T(a), T(b)}, enum_name(op));
    });
  };
  switch (op) {
#define PYCNN_UNARY_FORWARD_CASE(Name, ...) \
  case UnaryOp::Name: return run(unary::Name{});
    PYCNN_UNARY_OPS(PYCNN_UNARY_FORWARD_CASE)
#undef PYCNN_UNARY_FORWARD_CASE
  }
}

template <typename T>
void unary_backward(UnaryOp op, const T* dout, const T* v, T* dx, int64_t n, double alpha, double beta) {
  auto run = [&](auto op_tag) {
    using Op = decltype(op_tag);
    unary::Variants<Op>::backward(alpha, beta, [&](auto form, double a, double b) {
      for_each(n, UnaryBackward<decltype(form), T>{dout, v, dx, T(a), T(b)}, enum_name(op));
    });
  };
  switch (op) {
#define PYCNN_UNARY_BACKWARD_CASE(Name, ...) \
  case UnaryOp::Name: return run(unary::Name{});
    PYCNN_UNARY_OPS(PYCNN_UNARY_BACKWARD_CASE)
#undef PYCNN_UNARY_BACKWARD_CASE
  }
}

// ---- softmax: x, y contiguous (A, R, B) ----

// Threads per row block: R rounded up to a warp, at most 256 (block_reduce needs whole warps).
static int row_threads(int64_t R) { return static_cast<int>(std::min<int64_t>(256, (R + 31) / 32 * 32)); }

// One block per row (grid-stride over rows); the max and the sum go through block_reduce, whose fixed tree
// makes the result the same on every run. Broadcast of the reduced values through shared memory.
template <typename T>
__global__ void softmax_rows_kernel(SoftmaxRows<T> body, int64_t rows) {
  __shared__ T m_shared;
  __shared__ double s_shared;
  const int t = threadIdx.x, nt = blockDim.x;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T m = block_reduce(body.max_partial(row, t, nt), [](T a, T b) { return softmax_max(a, b); }, T(-INFINITY));
    if (t == 0) m_shared = SoftmaxRows<T>::fix_max(m);
    __syncthreads();
    const T mm = m_shared;
    const double s = block_reduce(body.sum_partial(row, mm, t, nt), SumOp{}, 0.0);
    if (t == 0) s_shared = s;
    __syncthreads();
    body.write(row, mm, s_shared, t, nt);
    __syncthreads();  // the next row overwrites the shared values
  }
}

template <typename T>
__global__ void softmax_backward_rows_kernel(SoftmaxBackwardRows<T> body, int64_t rows) {
  __shared__ double s_shared;
  const int t = threadIdx.x, nt = blockDim.x;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const double s = block_reduce(body.sum_partial(row, t, nt), SumOp{}, 0.0);
    if (t == 0) s_shared = s;
    __syncthreads();
    body.write(row, s_shared, t, nt);
    __syncthreads();
  }
}

template <typename T>
void softmax_forward(const T* x, T* y, int64_t A, int64_t R, int64_t B, bool log) {
  const SoftmaxRows<T> body{x, y, R, B, log};
  const char* op = log ? "log_softmax" : "softmax";
  if (B > 1 || A * B * R == 0) return for_each(A * B * (R > 0), body, op);
  const int threads = row_threads(R);
  softmax_rows_kernel<<<blocks_for(A, 1), threads, 0, stream()>>>(body, A);
  CUDA_CHECK_LAUNCH(op);
}

template <typename T>
void softmax_backward(const T* dout, const T* y, T* dx, int64_t A, int64_t R, int64_t B, bool log) {
  const SoftmaxBackwardRows<T> body{dout, y, dx, R, B, log};
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  if (B > 1 || A * B * R == 0) return for_each(A * B * (R > 0), body, op);
  softmax_backward_rows_kernel<<<blocks_for(A, 1), row_threads(R), 0, stream()>>>(body, A);
  CUDA_CHECK_LAUNCH(op);
}

// ---- PReLU: x (outer, C, inner), w (C,) ----

template <typename T>
void prelu_forward(const T* x, const T* w, T* y, int64_t outer, int64_t C, int64_t inner) {
  for_each(outer * C * inner, PreluForward<T>{x, w, y, C, inner}, "prelu");
}

// Block c sums channel c: each thread its strided share in double, then block_reduce in a fixed order.
template <typename T>
__global__ void __launch_bounds__(1024) prelu_weight_grad_kernel(PreluWeightGrad<T> body, T* dw) {
  const double s = block_reduce(body.partial(blockIdx.x, threadIdx.x, blockDim.x), SumOp{}, 0.0);
  if (threadIdx.x == 0) dw[blockIdx.x] = T(s);
}

template <typename T>
void prelu_backward(const T* dout, const T* x, const T* w, T* dx, T* dw, int64_t outer, int64_t C, int64_t inner) {
  if (dx) for_each(outer * C * inner, PreluInputGrad<T>{dout, x, w, dx, C, inner}, "prelu_backward");
  if (dw && C > 0) {
    PYCNN_CHECK(C < (int64_t(1) << 31), "[prelu_backward] too many channels for the CUDA kernel: ", C);
    // few channels (one weight: C = 1) get the largest blocks, their only parallelism
    const int threads = C < 128 ? 1024 : kBlockThreads;
    prelu_weight_grad_kernel<<<static_cast<unsigned>(C), threads, 0, stream()>>>(
        PreluWeightGrad<T>{dout, x, outer, C, inner}, dw);
    CUDA_CHECK_LAUNCH("prelu_backward");
  }
}

// ---- Maxout: x (N, C*k, inner) -> y, indices (N, C, inner) ----

template <typename T>
void maxout_forward(const T* x, T* y, int64_t* indices, int64_t N, int64_t C, int64_t k, int64_t inner) {
  for_each(N * C * inner, MaxoutForward<T>{x, y, indices, k, inner}, "maxout");
}

template <typename T>
void maxout_backward(const T* dout, const int64_t* indices, T* dx, int64_t N, int64_t C, int64_t k, int64_t inner) {
  for_each(N * C * k * inner, MaxoutBackward<T>{dout, indices, dx, k, inner}, "maxout_backward");
}

#define PYCNN_INSTANTIATE_ACTIVATION(T)                                                             \
  template void relu_forward<T>(const T*, T*, int64_t);                                             \
  template void relu_backward<T>(const T*, const T*, T*, int64_t);                                  \
  template void softmax_forward<T>(const T*, T*, int64_t, int64_t, int64_t, bool);                  \
  template void softmax_backward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, bool);       \
  template void unary_forward<T>(UnaryOp, const T*, T*, int64_t, double, double);                   \
  template void unary_backward<T>(UnaryOp, const T*, const T*, T*, int64_t, double, double);        \
  template void prelu_forward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t);                \
  template void prelu_backward<T>(const T*, const T*, const T*, T*, T*, int64_t, int64_t, int64_t); \
  template void maxout_forward<T>(const T*, T*, int64_t*, int64_t, int64_t, int64_t, int64_t);      \
  template void maxout_backward<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t);
PYCNN_INSTANTIATE_ACTIVATION(float)
PYCNN_INSTANTIATE_ACTIVATION(double)
#undef PYCNN_INSTANTIATE_ACTIVATION

}  // namespace pycnn::cuda
