// CUDA optimizer updates, multi-tensor: the tensors of one parameter group go to the GPU as a table of
// pointers in the kernel's parameters (no host->device copy), kChunk tensors per launch, so a group of up
// to kChunk tensors is one launch. blockIdx.y picks the tensor, blockIdx.x grid-strides over its elements
// (the blocks of a small tensor past its end exit at once). The per-element math is the bodies of
// ops/cuda/pointwise_bodies.h, which mirror the cpu:: kernels.
#include <algorithm>

#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/launch.cuh"
#include "pycnn/ops/cuda/pointwise_bodies.h"

namespace pycnn::cuda {

namespace {

// 32 tensors of 5 pointers, a size and 2 scalars: 2 KB of kernel parameters, under the 4 KB limit.
constexpr int kChunk = 32;

template <typename T>
struct TensorTable {
  T* q[kChunk][5];
  int64_t n[kChunk];
  T s[kChunk][2];  // the body's per-tensor scalars
};

template <typename T, typename Update>
__global__ void multi_tensor_kernel(TensorTable<T> table, Update update) {
  const int t = blockIdx.y;
  const int64_t n = table.n[t];
  const T s0 = table.s[t][0], s1 = table.s[t][1];
  // the tensor's pointers copied out: passing the parameter's own array would take its address, which can
  // move the whole table to local memory
  T* q[5];
  for (int k = 0; k < 5; ++k) q[k] = table.q[t][k];
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) update(q, s0, s1, i);
}

// Launches `update` over every tensor of `ts`; scalars(t, s0, s1) gives tensor t's per-tensor scalars.
template <typename T, typename Update, typename Scalars>
void launch_multi(const OptimTensors<T>& ts, const Update& update, Scalars scalars, const char* op) {
  for (int64_t first = 0; first < ts.count(); first += kChunk) {
    const int count = static_cast<int>(std::min<int64_t>(kChunk, ts.count() - first));
    TensorTable<T> table{};
    int64_t largest = 0;
    for (int j = 0; j < count; ++j) {
      for (int k = 0; k < 5; ++k) table.q[j][k] = ts.q[k][first + j];
      table.n[j] = ts.n[first + j];
      largest = std::max(largest, table.n[j]);
      double s0 = 0, s1 = 0;
      scalars(first + j, s0, s1);
      table.s[j][0] = T(s0), table.s[j][1] = T(s1);
    }
    if (largest == 0) continue;
    // grid-stride: 1024 blocks per tensor fill an H100 for one tensor, and the blocks of the small tensors
    // of a group (which exit at once) stay few
    const unsigned blocks = std::min(blocks_for(largest), 1024u);
    multi_tensor_kernel<<<dim3(blocks, count), kBlockThreads, 0, stream()>>>(table, update);
    CUDA_CHECK_LAUNCH(op);
  }
}

}  // namespace

template <typename T>
void sgd_step_multi(const OptimTensors<T>& ts, const SgdArgs& args) {
  launch_multi(ts, sgd_update<T>(args), [&](int64_t t, double& s0, double&) { s0 = ts.step[t]; }, "sgd_step");
}

template <typename T>
void adam_step_multi(const OptimTensors<T>& ts, const AdamArgs& args) {
  launch_multi(
      ts, adam_update<T>(args), [&](int64_t t, double& s0, double& s1) { adam_step_scalars(args, ts.step[t], s0, s1); },
      "adam_step");
}

template <typename T>
void rmsprop_step_multi(const OptimTensors<T>& ts, const RmspropArgs& args) {
  launch_multi(ts, rmsprop_update<T>(args), [](int64_t, double&, double&) {}, "rmsprop_step");
}

template <typename T>
void adagrad_step_multi(const OptimTensors<T>& ts, const AdagradArgs& args) {
  launch_multi(
      ts, adagrad_update<T>(args), [&](int64_t t, double& s0, double&) { s0 = adagrad_neg_clr(args, ts.step[t]); },
      "adagrad_step");
}

template <typename T>
void adadelta_step_multi(const OptimTensors<T>& ts, const AdadeltaArgs& args) {
  launch_multi(ts, adadelta_update<T>(args), [](int64_t, double&, double&) {}, "adadelta_step");
}

#define PYCNN_INSTANTIATE_OPTIM(T)                                                 \
  template void sgd_step_multi<T>(const OptimTensors<T>&, const SgdArgs&);         \
  template void adam_step_multi<T>(const OptimTensors<T>&, const AdamArgs&);       \
  template void rmsprop_step_multi<T>(const OptimTensors<T>&, const RmspropArgs&); \
  template void adagrad_step_multi<T>(const OptimTensors<T>&, const AdagradArgs&); \
  template void adadelta_step_multi<T>(const OptimTensors<T>&, const AdadeltaArgs&);
PYCNN_INSTANTIATE_OPTIM(float)
PYCNN_INSTANTIATE_OPTIM(double)
#undef PYCNN_INSTANTIATE_OPTIM

}  // namespace pycnn::cuda
