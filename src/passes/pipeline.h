// The graph optimizer of `idem compile`: a fixed sequence of small passes over the IR (DESIGN.md
// §1), chosen by the optimization level only (R5: never by the machine).
//
// Every pass is deterministic (D5): it visits nodes and values in graph order, names what it
// creates from the names it consumes, and never depends on pointer values, hash-map iteration
// order, thread count or timing, so the same model and options give the same graph.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace idem::passes {

struct OptimizeOptions {
  // 0: none; 1: cleanups (shape inference, constant folding, dead code, CSE, identity removal,
  // transpose/reshape cancellation); 2: also fusions (Conv+BN, MatMul/Gemm/Conv + bias +
  // activation, LayerNormalization, GELU, attention).
  int opt_level = 2;
  // --input-shape NAME:D0,D1,...: fixes the dims of graph inputs before the passes run.
  std::map<std::string, std::vector<int64_t>> input_shapes;
};

struct PassStat {
  std::string pass;
  int64_t changes = 0;  // nodes rewritten, folded, fused or removed
};

struct OptimizeReport {
  std::vector<PassStat> passes;               // in the order they ran
  std::map<std::string, int64_t> ops_before;  // op_type -> count, main graph
  std::map<std::string, int64_t> ops_after;
};

// Rewrites `graph` in place. The result computes the same outputs (bitwise, except where a
// fusion is documented to change rounding — none do at present) and keeps the provenance of
// every node.
Status Optimize(Graph* graph, const OptimizeOptions& options, OptimizeReport* report);

}  // namespace idem::passes
