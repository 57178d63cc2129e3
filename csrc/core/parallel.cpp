// The thread count, the fork guard and the pool behind parallel_for (see parallel.h).
// The pool runs one job at a time: the caller publishes it under a new epoch, workers join it (a CAS on one
// state word that also holds the job's closed bit and how many workers are inside), everyone claims chunks
// from one counter, and the caller closes the job once the chunks run out and waits only for workers
// still inside a chunk. A worker that was asleep or descheduled simply misses the job.
#include "pycnn/core/parallel.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "pycnn/core/check.h"

namespace pycnn {

namespace {
std::atomic<int> g_num_threads{0};  // 0: not set yet, use OpenMP's default (OMP_NUM_THREADS)
std::atomic<bool> g_forked{false};
thread_local bool tl_in_region = false;

void mark_forked_child() { g_forked = true; }

// Registered once when the library loads.
struct ForkGuard {
  ForkGuard() { pthread_atfork(nullptr, nullptr, mark_forked_child); }
} g_fork_guard;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// How long an idle worker polls for the next job before it sleeps. Kernels come back to back in a
// training step, so a short poll saves a wake-up; a long one would take the CPU from the busy thread that
// shares its core (the caller's, or another process'). PYCNN_SPIN_US overrides it (read once).
std::chrono::microseconds spin_time() {
  static const std::chrono::microseconds t = [] {
    const char* env = std::getenv("PYCNN_SPIN_US");
    return std::chrono::microseconds(env ? std::atoi(env) : 50);
  }();
  return t;
}

class Pool {
 public:
  // state_: epoch (bits 32..63) | closed (bit 31) | workers inside the job (bits 0..30)
  static constexpr uint64_t kClosed = uint64_t{1} << 31, kActive = kClosed - 1, kEpoch = uint64_t{1} << 32;

  void run(int64_t n, int64_t chunk, int threads, detail::ChunkBody body, const void* ctx) {
    std::unique_lock<std::mutex> job(job_mutex_, std::try_to_lock);
    if (!job.owns_lock()) {  // another thread's job is running (two Python threads): run this one alone
      body(ctx, 0, n);
      return;
    }
    while (static_cast<int>(workers_.size()) < threads - 1) workers_.emplace_back([this] { worker_loop(); });
    body_ = body, ctx_ = ctx, n_ = n, chunk_ = chunk, chunks_ = (n + chunk - 1) / chunk;
    error_ = nullptr;
    next_.store(0, std::memory_order_relaxed);
    wanted_.store(threads - 1, std::memory_order_relaxed);
    const uint64_t epoch = (state_.load(std::memory_order_relaxed) & ~(kEpoch - 1)) + kEpoch;
    state_.store(epoch);  // publishes the job (seq_cst: ordered before reading sleepers_)
    if (sleepers_.load() > 0) {
      {
        std::lock_guard<std::mutex> lock(sleep_mutex_);
      }
      wake_.notify_all();
    }
    const bool outer = tl_in_region;
    tl_in_region = true;
    run_chunks();
    tl_in_region = outer;
    state_.fetch_or(kClosed, std::memory_order_acq_rel);  // no worker joins from now on
    while (state_.load(std::memory_order_acquire) & kActive) std::this_thread::yield();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void run_chunks() {
    for (;;) {
      const int64_t c = next_.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks_) return;
      const int64_t begin = c * chunk_, end = begin + chunk_ < n_ ? begin + chunk_ : n_;
      try {
        body_(ctx_, begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
        next_.store(chunks_, std::memory_order_relaxed);  // skip the chunks nobody has started
      }
    }
  }

  // Returns the state once its epoch differs from `seen`: polls for spin_time(), then sleeps.
  uint64_t wait_for_job(uint64_t seen) {
    const auto until = std::chrono::steady_clock::now() + spin_time();
    for (int i = 0;; ++i) {
      const uint64_t s = state_.load(std::memory_order_acquire);
      if ((s & ~(kEpoch - 1)) != seen) return s;
      if ((i & 63) == 63 && std::chrono::steady_clock::now() >= until) break;
      cpu_relax();
    }
    std::unique_lock<std::mutex> lock(sleep_mutex_);
    sleepers_.fetch_add(1);
    uint64_t s;
    wake_.wait(lock, [&] { return ((s = state_.load()) & ~(kEpoch - 1)) != seen; });
    sleepers_.fetch_sub(1);
    return s;
  }

  void worker_loop() {
    tl_in_region = true;  // a worker only ever runs chunks
    uint64_t seen = 0;
    for (;;) {
      uint64_t s = wait_for_job(seen);
      seen = s & ~(kEpoch - 1);
      // Join unless the job is closed, replaced, or has all the workers it asked for.
      while (!(s & kClosed) && (s & ~(kEpoch - 1)) == seen &&
             static_cast<int>(s & kActive) < wanted_.load(std::memory_order_relaxed)) {
        if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
          run_chunks();
          state_.fetch_sub(1, std::memory_order_release);
          break;
        }
      }
    }
  }

  std::mutex job_mutex_;  // one job at a time
  std::vector<std::thread> workers_;
  // The job: written by the caller before it publishes the epoch, read by workers that joined it.
  detail::ChunkBody body_ = nullptr;
  const void* ctx_ = nullptr;
  int64_t n_ = 0, chunk_ = 1, chunks_ = 0;
  std::exception_ptr error_;
  std::mutex error_mutex_;
  std::atomic<int64_t> next_{0};
  std::atomic<int> wanted_{0};
  std::atomic<uint64_t> state_{0};
  // Sleeping workers wait on wake_; the caller notifies only when there are some.
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
};

// Never destroyed: its threads are detached in effect and die with the process.
Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}
}  // namespace

void set_num_threads(int n) {
  PYCNN_CHECK(n >= 1, "[set_num_threads] expected a positive number of threads, got ", n);
  g_num_threads = n;
}

int get_num_threads() {
  if (g_forked || tl_in_region) return 1;
  int n = g_num_threads;
  if (n == 0) {
    n = omp_get_max_threads();
    g_num_threads = n;
  }
  return n;
}

bool in_forked_child() { return g_forked; }

bool in_parallel_region() { return tl_in_region; }

namespace detail {
void run_on_pool(int64_t n, int64_t chunk, int threads, ChunkBody body, const void* ctx) {
  pool().run(n, chunk, threads, body, ctx);
}
}  // namespace detail

}  // namespace pycnn
