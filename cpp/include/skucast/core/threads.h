// CPU parallelism: a persistent worker pool with a settable size; kernels split work into
// fixed ranges so that results never depend on how many threads ran them.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>

namespace skucast {

void set_num_threads(int n);  // n >= 1
int get_num_threads();

// Runs task(i) for i in [0, num_tasks) on the pool (the caller takes part). Exceptions thrown
// by tasks are rethrown on the calling thread.
void run_tasks(int64_t num_tasks, const std::function<void(int64_t)>& task);

// Lowers `first` (-1: none yet) to index i when i comes before it; safe from any thread, so the
// first bad index of a parallel loop does not depend on which thread found which.
inline void keep_first_index(std::atomic<int64_t>& first, int64_t i) {
  int64_t seen = first.load();
  while ((seen < 0 || i < seen) && !first.compare_exchange_weak(seen, i)) {
  }
}

// Splits [0, n) into contiguous ranges of at least `grain` items, up to `per_thread` per thread
// (a few even out uneven rows; one suits uniform memory-bound loops, whose streams then run
// unbroken), and calls body(begin, end) for each. Small n runs inline. Ranges start at multiples
// of grain (begin / grain differs between ranges): callers keep one first-bad-value slot per
// block, written by the one range that starts there.
template <class Body>
void parallel_for(int64_t n, int64_t grain, Body&& body, int per_thread = 4) {
  if (n <= 0) return;
  const int threads = get_num_threads();
  int64_t chunks = (n + grain - 1) / grain;
  if (chunks > int64_t{per_thread} * threads) chunks = int64_t{per_thread} * threads;
  if (chunks <= 1 || threads == 1) {
    body(int64_t{0}, n);
    return;
  }
  // Whole grains per range: a range never shares a grain-sized block with another, and callers
  // that group items (quantiles' column groups) keep their groups whole.
  const int64_t per = ((n + chunks - 1) / chunks + grain - 1) / grain * grain;
  run_tasks(chunks, [&](int64_t c) {
    const int64_t begin = c * per;
    const int64_t end = begin + per < n ? begin + per : n;
    if (begin < end) body(begin, end);
  });
}

}  // namespace skucast
