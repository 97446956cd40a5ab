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
  // --input-shape NAME:D0,D1,...: applied at import (ImportOptions::input_shapes); Optimize
  // checks that each named graph input has exactly these dims.
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

// Rewrites `graph` (the main graph; subgraphs are left as they are) in place. The result computes
// the same outputs bitwise, except for the two rewrites documented to change rounding
// (FoldConvBatchNorm and FuseLayerNorm, passes.h), and keeps the provenance of every node.
// `options.input_shapes` is only CHECKED here (CheckInputShapes): the dims are applied at import
// (ImportOptions::input_shapes), before ONNX shape inference; pass the same map to both.
Status Optimize(Graph* graph, const OptimizeOptions& options, OptimizeReport* report);

}  // namespace idem::passes
