// Intra-op thread pool. Determinism (DESIGN.md R3): callers split work into tiles of independent
// outputs whose boundaries depend only on the shape; the pool only decides *which thread* runs a
// tile, never what a tile computes. So results are identical for any thread count.
//
// Thread-safe: ParallelFor may be called from several threads; jobs are run one at a time.
// A ParallelFor issued from inside a tile runs inline on the calling thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace idem {

class ThreadPool {
 public:
  // `num_threads` counts the calling thread: 1 means no worker threads.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(tile) for every tile in [0, num_tiles) and returns when all are done.
  void ParallelFor(int64_t num_tiles, const std::function<void(int64_t)>& fn);

 private:
  void WorkerLoop();
  void RunTiles();

  std::vector<std::thread> workers_;
  std::mutex submit_mu_;  // one job at a time
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  const std::function<void(int64_t)>* fn_ = nullptr;
  int64_t num_tiles_ = 0;
  std::atomic<int64_t> next_tile_{0};
  // Changed under mu_ (so that condition-variable waits cannot miss them), read without it while
  // spinning: a worker spins briefly for the next job, the caller for the workers' check-in,
  // before blocking — a run issues many short jobs, and waking a blocked thread costs more than
  // most of them.
  std::atomic<int64_t> generation_{0};
  std::atomic<int> active_{0};
  std::atomic<bool> stop_{false};
};

// Splits [0, n) into consecutive ranges of `grain` items (the last may be shorter) and runs
// fn(begin, end) for each range on the pool. `grain` must be derived from shapes/constants only.
// A null pool runs everything inline.
void ParallelForRange(ThreadPool* pool, int64_t n, int64_t grain,
                      const std::function<void(int64_t, int64_t)>& fn);

}  // namespace idem
