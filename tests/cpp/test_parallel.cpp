// C++ tests of parallel_for (core/parallel.h): every index visited exactly once for many (n, grain,
// threads), chunks at least `grain` long, serial when nested, an exception thrown in f reaching the caller
// (and the pool still working afterwards), many back-to-back tiny regions, and two threads starting
// regions at once.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "expect.h"               // defines: EXPECT, failures
#include "pycnn/core/parallel.h"  // defines: parallel_for, set_num_threads, get_num_threads, in_parallel_region

using namespace pycnn;

// Visits [0, n) and checks each index is seen once and each chunk but the last is >= grain.
static bool covers_once(int64_t n, int64_t grain) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  for (auto& h : hits) h = 0;
  std::atomic<bool> short_chunk{false}, empty_chunk{false};
  parallel_for(n, grain, [&](int64_t b, int64_t e) {
    if (b >= e) empty_chunk = true;
    if (e - b < grain && e != n) short_chunk = true;
    for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
  });
  bool ok = !short_chunk && !empty_chunk;
  for (auto& h : hits) ok = ok && h == 1;
  return ok;
}

static void test_coverage() {
  for (int threads : {1, 2, 3, 4, 7})
    for (int64_t n : {1, 2, 3, 5, 7, 8, 9, 31, 64, 100, 1000, 4097})
      for (int64_t grain : {-1, 0, 1, 2, 3, 16, 1000, 5000}) {
        set_num_threads(threads);
        if (!covers_once(n, grain)) {
          std::printf("FAILED coverage: threads %d n %lld grain %lld\n", threads, (long long)n, (long long)grain);
          ++failures;
        }
      }
  int calls = 0;
  parallel_for(0, 1, [&](int64_t, int64_t) { ++calls; });
  parallel_for(-5, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT(calls == 0);
}

// With slow chunks a second thread surely joins: the pool really runs on two threads.
static void test_uses_threads() {
  set_num_threads(2);
  std::mutex m;
  std::set<std::thread::id> ids;
  parallel_for(16, 1, [&](int64_t, int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::lock_guard<std::mutex> lock(m);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT(ids.size() == 2);
}

static void test_nested_is_serial() {
  set_num_threads(4);
  EXPECT(!in_parallel_region());
  EXPECT(get_num_threads() == 4);
  std::atomic<int> bad{0};
  parallel_for(64, 1, [&](int64_t b, int64_t e) {
    if (!in_parallel_region() || get_num_threads() != 1) bad++;
    for (int64_t i = b; i < e; ++i) {
      int inner_calls = 0;
      const auto me = std::this_thread::get_id();
      parallel_for(100, 1, [&](int64_t ib, int64_t ie) {
        ++inner_calls;  // not atomic on purpose: a serial inner region calls once, on this thread
        if (ib != 0 || ie != 100 || std::this_thread::get_id() != me) bad++;
      });
      if (inner_calls != 1) bad++;
    }
  });
  EXPECT(bad == 0);
  EXPECT(!in_parallel_region());
  EXPECT(get_num_threads() == 4);
}

// Today's contract: the first exception reaches the caller, after the chunks in flight end.
static void test_exception_propagates() {
  for (int threads : {1, 2, 4}) {
    set_num_threads(threads);
    std::atomic<int> running{0};
    bool caught = false;
    try {
      parallel_for(1000, 1, [&](int64_t b, int64_t e) {
        running++;
        if (b <= 500 && 500 < e) {
          running--;
          throw std::runtime_error("chunk 500");
        }
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        running--;
      });
    } catch (const std::runtime_error& err) {
      caught = std::string(err.what()) == "chunk 500";
    }
    EXPECT(caught);
    EXPECT(running == 0);          // no chunk still running once the caller sees the exception
    EXPECT(covers_once(1000, 1));  // and the pool works afterwards
  }
}

// Many tiny regions back to back (a training step's worth of small kernels, many times over).
static void test_many_small_regions() {
  set_num_threads(2);
  int64_t total = 0;
  for (int r = 0; r < 20000; ++r) {
    std::atomic<int64_t> sum{0};
    parallel_for(8, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sum += i;
    });
    total += sum;
  }
  EXPECT(total == int64_t(20000) * 28);
}

// Two threads starting regions at once: one gets the pool, the other runs its region alone; both finish.
static void test_concurrent_callers() {
  set_num_threads(2);
  std::atomic<int> bad{0};
  auto caller = [&] {
    for (int r = 0; r < 2000; ++r)
      if (!covers_once(257, 4)) bad++;
  };
  std::thread a(caller), b(caller);
  a.join();
  b.join();
  EXPECT(bad == 0);
}

int main() {
  test_coverage();
  test_uses_threads();
  test_nested_is_serial();
  test_exception_propagates();
  test_many_small_regions();
  test_concurrent_callers();
  std::printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
