// Executes an IR graph node by node (the interpreter of the foundation; the compiled-plan runtime
// of later issues replaces its scheduling, not its kernels).
//
// Thread-safe: an Executor is immutable after Create(); Run() may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "core/value.h"
#include "ir/graph.h"
#include "kernels/kernel.h"

namespace idem {

// Receives each node's wall time (idem bench --profile). Record is called on the thread that runs
// the graph, right after the node's kernel returns (successfully); nodes inside subgraphs
// (If/Loop/Scan bodies) are reported too, and their time is also part of the enclosing node's.
class NodeTimer {
 public:
  virtual ~NodeTimer() = default;
  virtual void Record(const Graph& graph, const Node& node, int64_t nanoseconds) = 0;
};

struct RunOptions {
  ThreadPool* pool = nullptr;
  uint64_t seed = 0;
  NodeTimer* timer = nullptr;  // optional
};

class Executor {
 public:
  // Resolves a kernel for every node of `graph` and its subgraphs; fails with a message naming
  // the first node idem cannot run.
  // Also runs the prepare functions of nodes with constant inputs (packing weights), on `pool`
  // (may be null; the result does not depend on it).
  static Result<std::unique_ptr<Executor>> Create(std::shared_ptr<const Graph> graph, ThreadPool* pool = nullptr);

  // Prepared states per graph (the main graph and every subgraph, by address), per node index;
  // null where a node has none.
  using PreparedStates = std::map<const Graph*, std::vector<std::shared_ptr<const PreparedState>>>;
  // Like Create, but takes the prepared states as given (e.g. mapped from an artifact) instead of
  // running prepare functions: loading never repacks. Every graph of `graph` must have an entry
  // with one slot per node.
  static Result<std::unique_ptr<Executor>> CreateWithPrepared(std::shared_ptr<const Graph> graph,
                                                              const PreparedStates& prepared);

  // The prepared states of every graph (what an artifact stores).
  PreparedStates prepared_states() const;

  // Runs the main graph. `inputs` are in the order of graph->inputs (monostate = use the
  // initializer default).
  Result<std::vector<RtValue>> Run(std::vector<RtValue> inputs, const RunOptions& options) const;

  const Graph& graph() const { return *graph_; }

 private:
  struct Frame;
  struct Plan {
    std::vector<KernelFn> kernels;
    std::vector<std::shared_ptr<const PreparedState>> prepared;  // per node, may be null
    std::vector<std::vector<int>> release_after;  // values to free after node i
  };
  Executor() = default;
  Status Prepare(const Graph& g, ThreadPool* pool, const PreparedStates* preset);
  Result<std::vector<RtValue>> RunGraph(const Graph& g, std::vector<RtValue> inputs, const Frame* parent,
                                        const RunOptions& options) const;

  std::shared_ptr<const Graph> graph_;
  std::map<const Graph*, Plan> plans_;
};

}  // namespace idem
