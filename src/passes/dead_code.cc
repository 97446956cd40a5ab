// Dead-code elimination: nodes whose outputs nobody reads (and that are not graph outputs), found
// backwards from the graph outputs, then initializers nobody reads.
#include <vector>

#include "passes/graph_util.h"
#include "passes/passes.h"

namespace idem::passes {

Result<int64_t> EliminateDeadCode(Graph* g) {
  const Uses uses = ComputeUses(*g);
  const size_t nv = g->values.size();
  std::vector<bool> live_value(nv, false);
  for (int o : g->outputs) live_value[static_cast<size_t>(o)] = true;
  std::vector<bool> live_node(g->nodes.size(), false);
  int64_t removed = 0;
  for (size_t i = g->nodes.size(); i-- > 0;) {
    const Node& n = g->nodes[i];
    bool live = false;
    for (int o : n.outputs) live = live || (o >= 0 && live_value[static_cast<size_t>(o)]);
    if (!live) {
      ++removed;
      continue;
    }
    live_node[i] = true;
    for (int in : n.inputs)
      if (in >= 0) live_value[static_cast<size_t>(in)] = true;
    // Values the node's subgraphs read by name.
    if (HasSubgraph(n))
      for (size_t v = 0; v < nv; ++v)
        if (uses.read_by_subgraph[v])
          for (int c : uses.consumers[v])
            if (c == static_cast<int>(i)) live_value[v] = true;
  }
  if (removed > 0) {
    Rewriter rw(g);
    for (size_t i = 0; i < live_node.size(); ++i)
      if (!live_node[i]) rw.Remove(static_cast<int>(i));
    IDEM_RETURN_IF_ERROR(rw.Commit());
  }
  removed += CompactValues(g, /*drop_unused_initializers=*/true);
  return removed;
}

}  // namespace idem::passes
