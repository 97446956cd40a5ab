#include "passes/pipeline.h"

namespace idem::passes {
namespace {

std::map<std::string, int64_t> CountOps(const Graph& g) {
  std::map<std::string, int64_t> counts;
  for (const Node& n : g.nodes) ++counts[n.domain.empty() ? n.op_type : n.domain + "." + n.op_type];
  return counts;
}

}  // namespace

Status Optimize(Graph* graph, const OptimizeOptions& options, OptimizeReport* report) {
  if (options.opt_level < 0 || options.opt_level > 2)
    return InvalidArgument("optimization level must be 0, 1 or 2, got ", options.opt_level);
  OptimizeReport local;
  OptimizeReport& r = report ? *report : local;
  r.ops_before = CountOps(*graph);
  r.ops_after = CountOps(*graph);
  return Status::Ok();
}

}  // namespace idem::passes
