// Identity and no-op removal: Identity; Dropout in inference mode whose mask nobody reads; Cast to
// the type the input already has; Reshape/Flatten/Expand whose output has the input's static
// shape; Transpose with the identity permutation. Readers of the output read the input instead.
// When the output is a graph output, its name is kept: the input's producer writes it directly
// (if the input has no other reader), otherwise the node stays.
#include <vector>

#include "passes/graph_util.h"
#include "passes/passes.h"

namespace idem::passes {
namespace {

bool IsNoOp(const Graph& g, const Uses& uses, const Node& n) {
  if (!n.domain.empty() || n.inputs.empty() || n.inputs[0] < 0 || n.outputs.empty() || n.outputs[0] < 0) return false;
  const int x = n.inputs[0];
  const int y = n.outputs[0];
  const std::string& op = n.op_type;
  if (op == "Identity") return true;
  if (op == "Dropout") {
    if (n.outputs.size() > 1 && n.outputs[1] >= 0) {
      const int mask = n.outputs[1];
      if (uses.Count(mask) > 0 || uses.is_graph_output[static_cast<size_t>(mask)]) return false;
    }
    if (n.opset < 7) {
      const Attribute* t = n.FindAttribute("is_test");
      return t != nullptr && t->i != 0;
    }
    if (n.opset < 12) return true;
    if (n.inputs.size() < 3 || n.inputs[2] < 0) return true;
    const Tensor* mode = ConstantData(g, n.inputs[2]);
    return mode != nullptr && mode->dtype() == DType::kBool && mode->numel() == 1 && !mode->data<bool>()[0];
  }
  if (op == "Cast") {
    const Attribute* to = n.FindAttribute("to");
    const DType in = ElemType(g, x);
    return to != nullptr && in != DType::kUndefined && in != DType::kString && static_cast<int64_t>(in) == to->i;
  }
  if (op == "Reshape" || op == "Flatten" || op == "Expand") {
    Shape in, out;
    return StaticShape(g, x, &in) && StaticShape(g, y, &out) && in == out;
  }
  if (op == "Transpose") {
    const Attribute* perm = n.FindAttribute("perm");
    if (perm == nullptr) {
      Shape in;
      return StaticShape(g, x, &in) && in.size() <= 1;
    }
    for (size_t i = 0; i < perm->ints.size(); ++i)
      if (perm->ints[i] != static_cast<int64_t>(i)) return false;
    return true;
  }
  return false;
}

}  // namespace

Result<int64_t> RemoveIdentities(Graph* g) {
  const Uses uses = ComputeUses(*g);
  Rewriter rw(g);
  std::vector<bool> touched(g->nodes.size(), false);  // producers given a new output this pass
  int64_t removed = 0;
  for (const Node& n : g->nodes) {
    if (!IsNoOp(*g, uses, n)) continue;
    const int x = n.inputs[0];
    const int y = n.outputs[0];
    if (CanRedirect(uses, y)) {
      rw.Redirect(y, x);
      rw.Remove(n.index);
      ++removed;
      continue;
    }
    // y is a graph output (or read by a subgraph): let x's producer write y.
    const int p = g->values[static_cast<size_t>(x)].producer;
    if (p < 0 || rw.removed(p) || touched[static_cast<size_t>(p)] || !uses.SingleUse(x) ||
        uses.read_by_subgraph[static_cast<size_t>(y)])
      continue;
    Node& producer = g->nodes[static_cast<size_t>(p)];
    for (int& o : producer.outputs)
      if (o == x) o = y;
    touched[static_cast<size_t>(p)] = true;
    rw.Remove(n.index);
    ++removed;
  }
  if (removed == 0) return int64_t{0};
  IDEM_RETURN_IF_ERROR(rw.Commit());
  return removed;
}

}  // namespace idem::passes
