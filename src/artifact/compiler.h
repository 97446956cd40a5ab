// `idem compile`: ONNX model -> optimized graph -> prepared weights -> memory plan -> .idem file.
//
// Deterministic (D5): the artifact depends only on the model file, opt_level and input_shapes;
// `threads` only speeds up weight packing (prepare functions do not depend on it).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "artifact/memory_plan.h"
#include "core/status.h"
#include "passes/pipeline.h"

namespace idem::artifact {

struct CompileOptions {
  int threads = 1;
  int opt_level = 2;
  std::map<std::string, std::vector<int64_t>> input_shapes;
  std::string dump_graph_path;  // write the optimized graph here (readable text), if not empty
  // Called at the start of each stage ("import", "optimize", "prepare", "plan", "write") and with
  // the write stage's progress (0..1). May be empty.
  std::function<void(const std::string& stage, double fraction)> progress;
};

struct CompileSummary {
  passes::OptimizeReport report;
  MemoryPlan memory_plan;
  uint64_t file_bytes = 0;
  int64_t prepared_nodes = 0;
  std::vector<std::pair<std::string, double>> stage_seconds;
};

Result<CompileSummary> CompileModel(const std::string& onnx_path, const std::string& out_path,
                                    const CompileOptions& options);

}  // namespace idem::artifact
