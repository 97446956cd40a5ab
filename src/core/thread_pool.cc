#include "core/thread_pool.h"

#include <algorithm>

namespace idem {

namespace {
thread_local bool t_inside_tile = false;
}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  const int workers = std::max(0, num_threads - 1);
  workers_.reserve(static_cast<size_t>(workers));
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
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
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || generation_ != seen_generation; });
      if (stop_) return;
      seen_generation = generation_;
    }
    RunTiles();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--active_ == 0) done_cv_.notify_all();
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
    ++generation_;
    // Every worker checks in once per job, so none can miss a generation or see a stale job.
    active_ = static_cast<int>(workers_.size()) + 1;
  }
  work_cv_.notify_all();
  RunTiles();
  std::unique_lock<std::mutex> lock(mu_);
  --active_;
  done_cv_.wait(lock, [&] { return active_ == 0; });
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
