#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace idem {

namespace {
thread_local bool t_inside_tile = false;

// How long a thread spins for a condition before it blocks (about the cost of a wake-up).
constexpr auto kSpinFor = std::chrono::microseconds(50);

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until cond() holds or kSpinFor has passed; returns whether it holds.
template <typename Cond>
bool SpinFor(Cond cond) {
  const auto until = std::chrono::steady_clock::now() + kSpinFor;
  for (int i = 0;; ++i) {
    if (cond()) return true;
    CpuRelax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() >= until) return cond();
  }
}
}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  const int workers = std::max(0, num_threads - 1);
  workers_.reserve(static_cast<size_t>(workers));
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true, std::memory_order_release);
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::RunTiles() {
  const bool was_inside = t_inside_tile;
  t_inside_tile = true;
  for (;;) {
    const int64_t tile = next_tile_.fetch_add(1, std::memory_order_relaxed);
    if (tile >= num_tiles_) break;
    (*fn_)(tile);
  }
  t_inside_tile = was_inside;
}

void ThreadPool::WorkerLoop() {
  int64_t seen_generation = 0;
  auto has_work = [&] {
    return stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen_generation;
  };
  for (;;) {
    if (!SpinFor(has_work)) {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, has_work);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    // The job's fields were written before generation_ was released; each job waits for every
    // worker's check-in below, so this is exactly the next generation.
    seen_generation = generation_.load(std::memory_order_acquire);
    RunTiles();
    if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu_);
      done_cv_.notify_all();
    }
  }
}

void ThreadPool::ParallelFor(int64_t num_tiles, const std::function<void(int64_t)>& fn) {
  if (num_tiles <= 0) return;
  if (workers_.empty() || num_tiles == 1 || t_inside_tile) {
    const bool was_inside = t_inside_tile;
    t_inside_tile = true;
    for (int64_t i = 0; i < num_tiles; ++i) fn(i);
    t_inside_tile = was_inside;
    return;
  }
  std::lock_guard<std::mutex> submit(submit_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    num_tiles_ = num_tiles;
    next_tile_.store(0, std::memory_order_relaxed);
    // Every worker checks in once per job, so none can miss a generation or see a stale job.
    active_.store(static_cast<int>(workers_.size()) + 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  work_cv_.notify_all();
  RunTiles();
  if (active_.fetch_sub(1, std::memory_order_acq_rel) != 1) {
    auto done = [&] { return active_.load(std::memory_order_acquire) == 0; };
    if (!SpinFor(done)) {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, done);
    }
  }
  fn_ = nullptr;
}

void ParallelForRange(ThreadPool* pool, int64_t n, int64_t grain,
                      const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t tiles = (n + grain - 1) / grain;
  auto tile_fn = [&](int64_t t) { fn(t * grain, std::min(n, (t + 1) * grain)); };
  if (pool == nullptr || tiles == 1) {
    for (int64_t t = 0; t < tiles; ++t) tile_fn(t);
    return;
  }
  pool->ParallelFor(tiles, tile_fn);
}

}  // namespace idem
