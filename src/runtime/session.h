// Session: a loaded model ready to run (the foundation's runtime entry point).
//
// Thread-safe: Run() may be called from several threads at once; a Session is immutable after
// Load().
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "core/value.h"
#include "ir/graph.h"
#include "runtime/executor.h"

namespace idem {

struct SessionOptions {
  int threads = 1;    // intra-op threads (changes speed, never bits)
  uint64_t seed = 0;  // seed of random ops without a seed attribute
  // For .idem artifacts: check the weight section's SHA-256 at load (the header and metadata are
  // always checked). Off = faster load, corruption of weights goes unnoticed.
  bool verify_weights = true;
};

struct IoInfo {
  std::string name;
  ValueType type;
  bool has_default = false;  // an input backed by an initializer may be omitted
};

class Session {
 public:
  // Loads an ONNX model or a .idem artifact (recognized by its magic bytes, not its extension).
  static Result<std::unique_ptr<Session>> Load(const std::string& model_path, const SessionOptions& options);
  // For models already imported (tests).
  static Result<std::unique_ptr<Session>> FromGraph(std::shared_ptr<Graph> graph, const SessionOptions& options);
  // A graph with its prepared states given (a loaded artifact): no prepare function runs.
  static Result<std::unique_ptr<Session>> FromPrepared(std::shared_ptr<Graph> graph,
                                                       const Executor::PreparedStates& prepared,
                                                       const SessionOptions& options);

  const std::vector<IoInfo>& inputs() const { return inputs_; }
  const std::vector<IoInfo>& outputs() const { return outputs_; }
  const Graph& graph() const { return executor_->graph(); }

  // Runs with named inputs; returns outputs in the order of outputs(). `timer` (optional) receives
  // every node's wall time.
  Result<std::vector<RtValue>> Run(std::vector<std::pair<std::string, RtValue>> inputs,
                                   NodeTimer* timer = nullptr) const;

 private:
  Session() = default;
  static Result<std::unique_ptr<Session>> Make(std::shared_ptr<Graph> graph, const Executor::PreparedStates* prepared,
                                               const SessionOptions& options);
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<ThreadPool> pool_;
  SessionOptions options_;
  std::vector<IoInfo> inputs_, outputs_;
};

// True if idem has a kernel for the op at this opset (for the importer).
bool HasKernel(const std::string& domain, const std::string& op_type, int opset);

}  // namespace idem
