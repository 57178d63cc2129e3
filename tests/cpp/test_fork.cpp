// C++ test of the fork guard (core/parallel.h): once a thread pool exists, a forked child that enters a
// parallel region would hang forever (the pool's threads were not copied by fork). pycnn
// runs every region serially in a forked child (a DataLoader worker) instead. The parent starts the pool,
// forks, and waits at most 20 s for the child to run parallel_for and a 256x256 matmul and exit 0.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include "expect.h"               // defines: EXPECT, failures
#include "pycnn/core/parallel.h"  // defines: parallel_for, set_num_threads, get_num_threads, in_forked_child
#include "pycnn/core/tensor.h"
#include "pycnn/ops/ops.h"  // defines: matmul

using namespace pycnn;

// Sums 0..n-1 with parallel_for; returns how many threads took part (each chunk sleeps 1 ms, so that
// with 2 threads the pool's worker surely joins).
static int parallel_sum(int64_t n, int64_t* sum) {
  std::atomic<int64_t> total{0};
  std::mutex m;
  std::set<std::thread::id> ids;
  parallel_for(n, 1, [&](int64_t begin, int64_t end) {
    int64_t s = 0;
    for (int64_t i = begin; i < end; ++i) s += i;
    total += s;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard<std::mutex> lock(m);
    ids.insert(std::this_thread::get_id());
  });
  *sum = total;
  return static_cast<int>(ids.size());
}

// Runs in the child; the exit code says which check failed (0: all passed).
static int child_main() {
  if (!in_forked_child()) return 2;
  if (get_num_threads() != 1) return 3;
  int64_t sum = 0;
  parallel_sum(10000, &sum);
  if (sum != int64_t(10000) * 9999 / 2) return 4;

  // A matmul big enough that the CPU gemm would use its threads in the parent.
  const int64_t n = 256;
  Tensor a = Tensor::full({n, n}, 1.0, DType::Float32), b = Tensor::full({n, n}, 0.5, DType::Float32);
  Tensor c = matmul(a, b);
  const float* p = c.data<float>();
  for (int64_t i = 0; i < n * n; ++i)
    if (p[i] != 0.5f * n) return 5;
  return 0;
}

int main() {
  // Make sure the parent really starts the pool, or the test would prove nothing.
  set_num_threads(2);
  int64_t sum = 0;
  int team = parallel_sum(10000, &sum);
  EXPECT(sum == int64_t(10000) * 9999 / 2);
  EXPECT(team == 2);
  EXPECT(!in_forked_child());

  std::fflush(stdout);  // or the child would print the parent's buffered output again
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    return 1;
  }
  if (pid == 0) _exit(child_main());  // _exit: skip atexit handlers and static destructors in the child

  // Poll rather than block: a hung child must fail the test, not hang ctest.
  int status = 0;
  bool exited = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      exited = true;
      break;
    }
    if (r < 0) {
      std::perror("waitpid");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited) {
    std::printf("FAILED: the forked child did not finish in 20 s (OpenMP hang after fork?); killing it\n");
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ++failures;
  } else {
    EXPECT(WIFEXITED(status));
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
      std::printf(
          "FAILED: child exited with code %d (2: not marked forked, 3: threads != 1, 4: wrong sum, "
          "5: wrong matmul)\n",
          WEXITSTATUS(status));
    EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

  // The parent keeps its threads.
  EXPECT(!in_forked_child());
  EXPECT(get_num_threads() == 2);
  EXPECT(parallel_sum(10000, &sum) == 2 && sum == int64_t(10000) * 9999 / 2);
  std::printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
