// Common-subexpression elimination: two nodes with the same domain, op, opset, attributes and
// (already merged) inputs compute the same thing; the later one's readers read the first one's
// outputs. Identical small constants are merged first, so duplicated weights or shape constants
// (as exporters emit them) make their readers equal too. Random ops and nodes with subgraphs are
// never merged. Visits nodes in graph order, keeps the first: deterministic.
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "passes/graph_util.h"
#include "passes/passes.h"

namespace idem::passes {
namespace {

constexpr int64_t kMaxMergedConstantBytes = 1 << 16;

void AppendTensor(const Tensor& t, std::string* key) {
  *key += StrCat("T", static_cast<int>(t.dtype()), ShapeToString(t.shape()), ":");
  if (t.dtype() == DType::kString) {
    for (int64_t i = 0; i < t.numel(); ++i) {
      const std::string& s = t.data<std::string>()[i];
      *key += StrCat(s.size(), ":", s);
    }
  } else {
    key->append(static_cast<const char*>(t.raw()), t.nbytes());
  }
}

std::string FloatBits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return std::to_string(b);
}

// A byte string equal for two nodes iff they compute the same function of their inputs.
std::string NodeKey(const Node& n, const std::vector<int>& inputs) {
  std::string key = StrCat(n.domain, "|", n.op_type, "|", n.opset, "|");
  for (int in : inputs) key += StrCat(in, ",");
  key += StrCat("|", n.outputs.size(), "|");
  for (int o : n.outputs) key += o < 0 ? "-" : "+";
  for (const auto& [name, a] : n.attributes) {
    key += StrCat("|", name, "=", static_cast<int>(a.kind), ":");
    switch (a.kind) {
      case Attribute::Kind::kFloat: key += FloatBits(a.f); break;
      case Attribute::Kind::kInt: key += std::to_string(a.i); break;
      case Attribute::Kind::kString: key += StrCat(a.s.size(), ":", a.s); break;
      case Attribute::Kind::kTensor: AppendTensor(a.t, &key); break;
      case Attribute::Kind::kFloats:
        for (float f : a.floats) key += FloatBits(f) + ",";
        break;
      case Attribute::Kind::kInts:
        for (int64_t i : a.ints) key += std::to_string(i) + ",";
        break;
      case Attribute::Kind::kStrings:
        for (const std::string& s : a.strings) key += StrCat(s.size(), ":", s);
        break;
      case Attribute::Kind::kTensors:
        for (const Tensor& t : a.tensors) AppendTensor(t, &key);
        break;
      case Attribute::Kind::kType: key += ValueTypeToString(a.type); break;
      case Attribute::Kind::kGraph:
      case Attribute::Kind::kGraphs: break;  // never reached: such nodes are skipped
    }
  }
  return key;
}

}  // namespace

Result<int64_t> EliminateCommonSubexpressions(Graph* g) {
  const Uses uses = ComputeUses(*g);
  std::vector<int> replace(g->values.size());
  for (size_t v = 0; v < replace.size(); ++v) replace[v] = static_cast<int>(v);
  Rewriter rw(g);
  int64_t merged = 0;

  std::map<std::string, int> constants;
  for (size_t v = 0; v < g->values.size(); ++v) {
    const int id = static_cast<int>(v);
    const Tensor* t = ConstantData(*g, id);
    if (t == nullptr || t->dtype() == DType::kString || static_cast<int64_t>(t->nbytes()) > kMaxMergedConstantBytes)
      continue;
    std::string key;
    AppendTensor(*t, &key);
    auto [it, inserted] = constants.emplace(std::move(key), id);
    if (inserted || !CanRedirect(uses, id) || uses.Count(id) == 0) continue;
    ++merged;
    replace[v] = it->second;
    rw.Redirect(id, it->second);
  }

  std::map<std::string, int> seen;
  for (const Node& n : g->nodes) {
    if (IsRandomOp(n) || HasSubgraph(n) || n.outputs.empty()) continue;
    std::vector<int> inputs;
    for (int in : n.inputs) inputs.push_back(in < 0 ? -1 : replace[static_cast<size_t>(in)]);
    auto [it, inserted] = seen.emplace(NodeKey(n, inputs), n.index);
    if (inserted) continue;
    const Node& first = g->nodes[static_cast<size_t>(it->second)];
    bool ok = true;
    for (int o : n.outputs) ok = ok && (o < 0 || CanRedirect(uses, o));
    if (!ok) continue;
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      if (n.outputs[k] < 0) continue;
      replace[static_cast<size_t>(n.outputs[k])] = first.outputs[k];
      rw.Redirect(n.outputs[k], first.outputs[k]);
    }
    rw.Remove(n.index);
    ++merged;
  }
  if (rw.empty()) return int64_t{0};
  IDEM_RETURN_IF_ERROR(rw.Commit());
  return merged;
}

}  // namespace idem::passes
