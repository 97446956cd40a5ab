// Cancellation of layout ops that undo or repeat each other:
//   Transpose(Transpose(x, p1), p2)  -> Transpose(x, p1∘p2), or x when that is the identity;
//   Reshape(Reshape(x, s1), s2)      -> Reshape(x, s2) when s2 is constant without 0 entries
//                                       (a 0 would copy a dim of the intermediate, not of x);
//   Squeeze(Unsqueeze(x, a), a)      -> x;  Unsqueeze(Squeeze(x, a), a) -> x (Squeeze only
//                                       succeeds when those dims are 1).
// The first node stays if something else reads it (dead-code elimination removes it otherwise).
#include <algorithm>
#include <vector>

#include "passes/graph_util.h"
#include "passes/passes.h"

namespace idem::passes {
namespace {

bool Perm(const Graph& g, const Node& n, std::vector<int64_t>* perm) {
  if (const Attribute* a = n.FindAttribute("perm")) {
    *perm = a->ints;
    return true;
  }
  Shape s;
  if (!StaticShape(g, n.inputs[0], &s)) return false;
  perm->clear();
  for (size_t i = s.size(); i-- > 0;) perm->push_back(static_cast<int64_t>(i));
  return true;
}

// Squeeze/Unsqueeze axes (attribute before opset 13, constant input after), normalized to
// non-negative against `rank` (-1: only non-negative axes accepted) and sorted.
bool Axes(const Graph& g, const Node& n, int64_t rank, std::vector<int64_t>* axes) {
  if (n.opset < 13) {
    const Attribute* a = n.FindAttribute("axes");
    if (a == nullptr) return false;
    *axes = a->ints;
  } else {
    if (n.inputs.size() < 2 || !ConstantInts(g, n.inputs[1], axes)) return false;
  }
  if (axes->empty()) return false;
  for (int64_t& a : *axes) {
    if (a < 0 && rank < 0) return false;
    if (a < 0) a += rank;
    if (a < 0 || (rank >= 0 && a >= rank)) return false;
  }
  std::sort(axes->begin(), axes->end());
  return std::adjacent_find(axes->begin(), axes->end()) == axes->end();
}

int64_t RankOf(const Graph& g, int v) {
  if (v < 0) return -1;
  const ValueType& t = g.values[static_cast<size_t>(v)].type;
  if (IsConstant(g, v)) return g.values[static_cast<size_t>(v)].initializer.rank();
  return t.kind == ValueType::Kind::kTensor && t.has_shape ? static_cast<int64_t>(t.dims.size()) : -1;
}

}  // namespace

Result<int64_t> CancelTransposeReshape(Graph* g) {
  const Uses uses = ComputeUses(*g);
  Rewriter rw(g);
  std::vector<bool> changed(g->nodes.size(), false);
  int64_t count = 0;
  for (const Node& n : g->nodes) {
    if (!n.domain.empty() || n.inputs.empty() || n.inputs[0] < 0 || n.outputs.size() != 1) continue;
    const int mid = n.inputs[0];
    const int p = g->values[static_cast<size_t>(mid)].producer;
    if (p < 0 || changed[static_cast<size_t>(p)] || rw.removed(p)) continue;
    const Node& first = g->nodes[static_cast<size_t>(p)];
    if (!first.domain.empty() || first.inputs.empty() || first.inputs[0] < 0) continue;
    const int x = first.inputs[0];
    const int y = n.outputs[0];
    auto to_input = [&]() {  // n computes x itself
      if (!CanRedirect(uses, y)) return false;
      rw.Redirect(y, x);
      rw.Remove(n.index);
      return true;
    };
    auto replace_with = [&](Node repl) {
      repl.provenance = MergeProvenance(*g, {p, n.index});
      rw.InsertAt(n.index, std::move(repl));
      rw.Remove(n.index);
      return true;
    };
    bool done = false;
    if (n.op_type == "Transpose" && first.op_type == "Transpose") {
      std::vector<int64_t> p1, p2;
      if (!Perm(*g, first, &p1) || !Perm(*g, n, &p2) || p1.size() != p2.size()) continue;
      std::vector<int64_t> q(p2.size());
      bool identity = true;
      for (size_t i = 0; i < p2.size(); ++i) {
        if (p2[i] < 0 || p2[i] >= static_cast<int64_t>(p1.size())) return InvalidModel(n.Describe(), ": bad perm");
        q[i] = p1[static_cast<size_t>(p2[i])];
        identity = identity && q[i] == static_cast<int64_t>(i);
      }
      if (identity) {
        done = to_input();
      } else {
        Node t = n;
        t.inputs = {x};
        t.attributes["perm"].kind = Attribute::Kind::kInts;
        t.attributes["perm"].ints = q;
        done = replace_with(std::move(t));
      }
    } else if (n.op_type == "Reshape" && first.op_type == "Reshape" && n.inputs.size() == 2) {
      std::vector<int64_t> s2;
      const Attribute* allowzero = n.FindAttribute("allowzero");
      if (!ConstantInts(*g, n.inputs[1], &s2)) continue;
      const bool literal_zeros = allowzero != nullptr && allowzero->i != 0;
      if (!literal_zeros && std::find(s2.begin(), s2.end(), 0) != s2.end()) continue;
      Node r = n;
      r.inputs = {x, n.inputs[1]};
      done = replace_with(std::move(r));
    } else if ((n.op_type == "Squeeze" && first.op_type == "Unsqueeze") ||
               (n.op_type == "Unsqueeze" && first.op_type == "Squeeze")) {
      // Axes refer to the rank of the larger tensor: Unsqueeze's output, Squeeze's input.
      const int64_t big_rank = n.op_type == "Squeeze" ? RankOf(*g, mid) : RankOf(*g, x);
      std::vector<int64_t> a1, a2;
      if (!Axes(*g, first, big_rank, &a1) || !Axes(*g, n, big_rank, &a2) || a1 != a2) continue;
      done = to_input();
    }
    if (done) {
      changed[static_cast<size_t>(n.index)] = true;
      ++count;
    }
  }
  if (count == 0) return int64_t{0};
  IDEM_RETURN_IF_ERROR(rw.Commit());
  return count;
}

}  // namespace idem::passes
