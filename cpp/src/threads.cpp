// The worker pool behind parallel_for: created lazily, resized by set_num_threads, rebuilt
// in a forked child (threads do not survive fork).
#include "skucast/core/threads.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace skucast {
namespace {

int default_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void run(int64_t num_tasks, const std::function<void(int64_t)>& task) {
    std::unique_lock<std::mutex> caller(run_mu_);  // one parallel region at a time
    {
      std::lock_guard<std::mutex> lock(mu_);
      task_ = &task;
      num_tasks_ = num_tasks;
      next_.store(0);
      pending_ = num_tasks;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    drain();
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return pending_ == 0; });
    task_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void drain() {
    for (;;) {
      const int64_t i = next_.fetch_add(1);
      if (i >= num_tasks_) return;
      try {
        (*task_)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!error_) error_ = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_.notify_all();
    }
  }

  void work() {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return stop_ || (generation_ != seen && task_ != nullptr); });
        if (stop_) return;
        seen = generation_;
      }
      drain();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex run_mu_, mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t)>* task_ = nullptr;
  int64_t num_tasks_ = 0;
  std::atomic<int64_t> next_{0};
  int64_t pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

std::mutex g_config_mu;
int g_num_threads = 0;  // 0: not yet chosen
std::shared_ptr<Pool> g_pool;
int g_pool_workers = -1;
thread_local bool t_in_parallel = false;  // nested regions run inline instead of deadlocking

void forget_pool_after_fork() {
  // The child has no worker threads: the old pool is leaked on purpose (destroying it would
  // join threads that do not exist) and a new one is made on first use.
  new std::shared_ptr<Pool>(std::move(g_pool));
  g_pool_workers = -1;
  new (&g_config_mu) std::mutex();
}

std::shared_ptr<Pool> pool_for(int threads) {
  static bool registered = [] {
    pthread_atfork(nullptr, nullptr, forget_pool_after_fork);
    return true;
  }();
  (void)registered;
  if (!g_pool || g_pool_workers != threads - 1) {
    g_pool = std::make_shared<Pool>(threads - 1);  // a pool still running elsewhere lives on
    g_pool_workers = threads - 1;
  }
  return g_pool;
}

}  // namespace

void set_num_threads(int n) {
  if (n < 1) throw std::invalid_argument("num_threads: must be >= 1");
  std::lock_guard<std::mutex> lock(g_config_mu);
  g_num_threads = n;
}

int get_num_threads() {
  std::lock_guard<std::mutex> lock(g_config_mu);
  if (g_num_threads == 0) g_num_threads = default_threads();
  return g_num_threads;
}

void run_tasks(int64_t num_tasks, const std::function<void(int64_t)>& task) {
  const int threads = get_num_threads();
  if (threads == 1 || num_tasks <= 1 || t_in_parallel) {
    for (int64_t i = 0; i < num_tasks; ++i) task(i);
    return;
  }
  std::shared_ptr<Pool> pool;
  {
    std::lock_guard<std::mutex> lock(g_config_mu);
    pool = pool_for(threads);
  }
  pool->run(num_tasks, [&](int64_t i) {
    struct Flag {
      Flag() { t_in_parallel = true; }
      ~Flag() { t_in_parallel = false; }
    } flag;
    task(i);
  });
}

}  // namespace skucast
