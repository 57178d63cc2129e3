// Threading: one thread count for every kernel (set_num_threads), and parallel_for, the only way kernels
// start threads. parallel_for runs on pycnn's own pool (parallel.cpp) rather than an OpenMP team: work is
// cut into more chunks than threads and claimed one at a time, and the caller never waits for a worker that
// has not started, so a thread that shares its core with a busy process hands its share to the others
// instead of holding up every region. In a process forked after the pool started (a DataLoader worker)
// the pool's threads are gone, so the child runs every region serially, as PyTorch does.
#pragma once
#include <omp.h>  // defines: omp_in_parallel (a caller inside someone else's OpenMP region stays serial)

#include <cstdint>

namespace pycnn {

void set_num_threads(int n);
// The threads a parallel_for started here may use: set_num_threads' value, or 1 in a forked child and
// inside a parallel_for (nested regions run serially, so sizing work for more threads would only waste).
int get_num_threads();
bool in_forked_child();
bool in_parallel_region();  // true inside f of a parallel_for, on every thread that runs it

namespace detail {
// Each thread asks for about this many chunks, so that a thread slowed down by a neighbour on its core
// leaves the rest of its share to the others (a function of n and the thread count only).
constexpr int64_t kChunksPerThread = 4;

using ChunkBody = void (*)(const void* ctx, int64_t begin, int64_t end);
// Runs body(ctx, b, e) over [0, n) in chunks of `chunk` items on up to `threads` threads (the caller is
// one of them) and returns when every chunk is done; rethrows the first exception a chunk threw.
void run_on_pool(int64_t n, int64_t chunk, int threads, ChunkBody body, const void* ctx);
}  // namespace detail

// Calls f(begin, end) on disjoint chunks of [0, n) that cover it, each at least `grain` items (but the
// last), on at most get_num_threads() threads. The chunks depend on (n, grain, threads) only, but which
// thread runs which varies from run to run: f's results must not depend on either. Serial (one call f(0, n)) inside
// another parallel region, in a forked child, or when n <= grain. An exception thrown by f reaches the caller once
// every chunk already started has finished (chunks not yet started are skipped).
template <typename F>
void parallel_for(int64_t n, int64_t grain, const F& f) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  const int64_t max_chunks = (n + grain - 1) / grain;
  int threads = get_num_threads();
  if (threads > max_chunks) threads = static_cast<int>(max_chunks);
  if (threads <= 1 || omp_in_parallel()) {
    f(int64_t{0}, n);
    return;
  }
  int64_t chunks = threads * detail::kChunksPerThread;
  if (chunks > max_chunks) chunks = max_chunks;
  int64_t chunk = (n + chunks - 1) / chunks;
  if (chunk < grain) chunk = grain;
  detail::run_on_pool(
      n, chunk, threads, [](const void* ctx, int64_t b, int64_t e) { (*static_cast<const F*>(ctx))(b, e); }, &f);
}

}  // namespace pycnn
