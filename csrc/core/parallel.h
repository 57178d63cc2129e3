// Threading: one OpenMP thread count for every kernel (set_num_threads), and parallel_for, the only way
// kernels start threads. In a process forked after OpenMP ran (a DataLoader worker), libgomp's pool is
// unusable and would hang, so the child runs every parallel region serially, as PyTorch does.
#pragma once
#include <omp.h>

#include <cstdint>

namespace pycnn {

void set_num_threads(int n);
int get_num_threads();  // 1 in a forked child
bool in_forked_child();

// Calls f(begin, end) on chunks of [0, n), at most get_num_threads() threads, each chunk at least
// `grain` items. Serial when already inside a parallel region or when the work is small.
template <typename F>
void parallel_for(int64_t n, int64_t grain, const F& f) {
  if (n <= 0) return;
  int threads = get_num_threads();
  if (grain < 1) grain = 1;
  int64_t max_chunks = (n + grain - 1) / grain;
  if (threads > max_chunks) threads = static_cast<int>(max_chunks);
  if (threads <= 1 || omp_in_parallel()) {
    f(int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    int64_t chunk = (n + nt - 1) / nt;
    int64_t begin = t * chunk, end = begin + chunk < n ? begin + chunk : n;
    if (begin < end) f(begin, end);
  }
}

}  // namespace pycnn
