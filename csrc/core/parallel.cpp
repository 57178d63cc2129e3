// Thread count and the fork guard (see parallel.h).
#include "core/parallel.h"

#include <pthread.h>

#include <atomic>

#include "core/check.h"

namespace pycnn {

namespace {
std::atomic<int> g_num_threads{0};  // 0: not set yet, use OpenMP's default
std::atomic<bool> g_forked{false};

void mark_forked_child() { g_forked = true; }

// Registered once when the library loads.
struct ForkGuard {
  ForkGuard() { pthread_atfork(nullptr, nullptr, mark_forked_child); }
} g_fork_guard;
}  // namespace

void set_num_threads(int n) {
  PYCNN_CHECK(n >= 1, "[set_num_threads] expected a positive number of threads, got ", n);
  g_num_threads = n;
}

int get_num_threads() {
  if (g_forked) return 1;
  int n = g_num_threads;
  if (n == 0) {
    n = omp_get_max_threads();
    g_num_threads = n;
  }
  return n;
}

bool in_forked_child() { return g_forked; }

}  // namespace pycnn
