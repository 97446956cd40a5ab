// The optimizer's fixed pass order (R5: chosen by the level only):
//   level 1: [FoldConstants, RemoveIdentities, CancelTransposeReshape, EliminateCommonSubexpressions,
//             EliminateDeadCode] repeated until nothing changes (at most kMaxRounds rounds);
//   level 2: then FoldConvBatchNorm, FuseLayerNorm, FuseGelu, FuseAttention, FuseBiasActivation
//            (in this order: GELU becomes one node before the bias/activation fusion looks at
//            what follows a MatMul), and one more cleanup round.
// Input shapes given with --input-shape are applied at import (onnx/import.h); Optimize checks
// that the graph it gets has them.
#include "passes/pipeline.h"

#include "passes/graph_util.h"
#include "passes/passes.h"

namespace idem::passes {
namespace {

constexpr int kMaxRounds = 8;

using PassFn = Result<int64_t> (*)(Graph*);
struct NamedPass {
  const char* name;
  PassFn fn;
};

constexpr NamedPass kCleanups[] = {
    {"constant-folding", &FoldConstants},
    {"identity-elimination", &RemoveIdentities},
    {"transpose-reshape-cancellation", &CancelTransposeReshape},
    {"common-subexpression-elimination", &EliminateCommonSubexpressions},
    {"dead-code-elimination", &EliminateDeadCode},
};

constexpr NamedPass kFusions[] = {
    {"conv-batchnorm-folding", &FoldConvBatchNorm},
    {"layer-norm-fusion", &FuseLayerNorm},
    {"gelu-fusion", &FuseGelu},
    {"attention-fusion", &FuseAttention},
    {"bias-activation-fusion", &FuseBiasActivation},
};

// Adds `changes` to the report's entry for `name` (one entry per pass, in first-run order).
void Record(OptimizeReport* r, const char* name, int64_t changes) {
  for (PassStat& s : r->passes)
    if (s.pass == name) {
      s.changes += changes;
      return;
    }
  r->passes.push_back(PassStat{name, changes});
}

Status RunCleanups(Graph* g, OptimizeReport* r) {
  for (int round = 0; round < kMaxRounds; ++round) {
    int64_t total = 0;
    for (const NamedPass& p : kCleanups) {
      auto changes = p.fn(g);
      if (!changes.ok()) return changes.status().WithContext(StrCat("pass ", p.name));
      Record(r, p.name, changes.value());
      total += changes.value();
    }
    if (total == 0) break;
  }
  return Status::Ok();
}

}  // namespace

Status Optimize(Graph* graph, const OptimizeOptions& options, OptimizeReport* report) {
  if (options.opt_level < 0 || options.opt_level > 2)
    return InvalidArgument("optimization level must be 0, 1 or 2, got ", options.opt_level);
  OptimizeReport local;
  OptimizeReport& r = report ? *report : local;
  r.passes.clear();
  IDEM_RETURN_IF_ERROR(CheckInputShapes(*graph, options.input_shapes));
  r.ops_before = CountOps(*graph);
  if (options.opt_level >= 1) IDEM_RETURN_IF_ERROR(RunCleanups(graph, &r));
  if (options.opt_level >= 2) {
    int64_t total = 0;
    for (const NamedPass& p : kFusions) {
      auto changes = p.fn(graph);
      if (!changes.ok()) return changes.status().WithContext(StrCat("pass ", p.name));
      Record(&r, p.name, changes.value());
      total += changes.value();
    }
    if (total > 0) IDEM_RETURN_IF_ERROR(RunCleanups(graph, &r));
  }
  r.ops_after = CountOps(*graph);
  return Status::Ok();
}

Status CheckInputShapes(const Graph& g, const std::map<std::string, std::vector<int64_t>>& shapes) {
  for (const auto& [name, dims] : shapes) {
    const int id = g.FindValue(name);
    bool is_input = false;
    for (int i : g.inputs) is_input = is_input || i == id;
    if (id < 0 || !is_input) return InvalidArgument("--input-shape names '", name, "', which is not a graph input");
    const ValueType& t = g.values[static_cast<size_t>(id)].type;
    bool same = t.kind == ValueType::Kind::kTensor && t.has_shape && t.dims.size() == dims.size();
    for (size_t i = 0; same && i < dims.size(); ++i) same = t.dims[i].value == dims[i];
    if (!same)
      return InvalidArgument("graph input '", name, "' has type ", ValueTypeToString(t), ", not the shape ",
                             ShapeToString(dims), " given with --input-shape (shapes are fixed at import)");
  }
  return Status::Ok();
}

}  // namespace idem::passes
