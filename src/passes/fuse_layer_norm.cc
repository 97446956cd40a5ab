// Decomposed layer normalization (as torch exports nn.LayerNorm below opset 17) -> ONNX
// LayerNormalization (opset 17, axis -1):
//   mean = ReduceMean(x, [-1]); d = Sub(x, mean); p = Pow(d, 2) | Mul(d, d);
//   var = ReduceMean(p, [-1]); sd = Sqrt(Add(var, eps)); n = Div(d, sd);
//   y = Add(Mul(n, gamma), beta)        (gamma, beta: constant 1-D f32; either operand order)
// The LayerNormalization kernel computes mean and variance in its own canonical order, so the
// result differs from the decomposed graph in rounding (compare within a tolerance).
#include <vector>

#include "passes/graph_util.h"
#include "passes/passes.h"

namespace idem::passes {
namespace {

// ReduceMean over the last axis only, keepdims.
bool LastAxisMean(const Graph& g, const Node& n, int64_t rank) {
  std::vector<int64_t> axes;
  if (n.opset < 18) {
    const Attribute* a = n.FindAttribute("axes");
    if (a == nullptr) return false;
    axes = a->ints;
  } else if (n.inputs.size() < 2 || !ConstantInts(g, n.inputs[1], &axes)) {
    return false;
  }
  const Attribute* keep = n.FindAttribute("keepdims");
  if (keep != nullptr && keep->i == 0) return false;
  return axes.size() == 1 && (axes[0] == -1 || (rank > 0 && axes[0] == rank - 1));
}

int64_t Rank(const Graph& g, int v) {
  Shape s;
  if (StaticShape(g, v, &s)) return static_cast<int64_t>(s.size());
  const ValueType& t = g.values[static_cast<size_t>(v)].type;
  return t.has_shape ? static_cast<int64_t>(t.dims.size()) : -1;
}

}  // namespace

Result<int64_t> FuseLayerNorm(Graph* g) {
  const Uses u = ComputeUses(*g);
  Rewriter rw(g);
  std::vector<bool> taken(g->nodes.size(), false);
  int64_t fused = 0;
  for (const Node& root : g->nodes) {
    if (taken[static_cast<size_t>(root.index)] || !root.domain.empty() || root.op_type != "Add" ||
        root.inputs.size() != 2)
      continue;
    std::vector<int> nodes = {root.index};
    auto producer = [&](int v, const char* op) {
      const Node* n = SoleProducer(*g, u, v, op, taken);
      if (n != nullptr) nodes.push_back(n->index);
      return n;
    };
    // y = Add(Mul(n, gamma), beta)
    const Node* scale = nullptr;
    int beta = -1;
    for (int k = 0; k < 2 && scale == nullptr; ++k) {
      const int cand = root.inputs[static_cast<size_t>(k)];
      const int pc = g->values[static_cast<size_t>(cand)].producer;
      if (pc >= 0 && g->nodes[static_cast<size_t>(pc)].op_type == "Mul" && IsConstant(*g, root.inputs[static_cast<size_t>(1 - k)])) {
        scale = producer(cand, "Mul");
        beta = root.inputs[static_cast<size_t>(1 - k)];
      }
    }
    if (scale == nullptr) continue;
    int gamma = -1, normed = -1;
    for (int k = 0; k < 2; ++k)
      if (IsConstant(*g, scale->inputs[static_cast<size_t>(k)])) {
        gamma = scale->inputs[static_cast<size_t>(k)];
        normed = scale->inputs[static_cast<size_t>(1 - k)];
      }
    if (gamma < 0) continue;
    const Node* div = producer(normed, "Div");
    if (div == nullptr) continue;
    const int d = div->inputs[0];
    const Node* sqrt = producer(div->inputs[1], "Sqrt");
    if (sqrt == nullptr) continue;
    const Node* add_eps = producer(sqrt->inputs[0], "Add");
    if (add_eps == nullptr) continue;
    float eps;
    int var = -1;
    if (ConstantScalarF32(*g, add_eps->inputs[1], &eps)) var = add_eps->inputs[0];
    else if (ConstantScalarF32(*g, add_eps->inputs[0], &eps)) var = add_eps->inputs[1];
    if (var < 0) continue;
    const Node* var_mean = producer(var, "ReduceMean");
    if (var_mean == nullptr) continue;
    const int p = var_mean->inputs[0];
    const int pp = g->values[static_cast<size_t>(p)].producer;
    if (pp < 0 || !u.SingleUse(p) || taken[static_cast<size_t>(pp)]) continue;
    const Node& sq = g->nodes[static_cast<size_t>(pp)];
    float two;
    const bool is_sq = (sq.op_type == "Pow" && sq.inputs[0] == d && ConstantScalarF32(*g, sq.inputs[1], &two) && two == 2.0f) ||
                       (sq.op_type == "Mul" && sq.inputs[0] == d && sq.inputs[1] == d);
    if (!is_sq || !sq.domain.empty()) continue;
    nodes.push_back(sq.index);
    // d = Sub(x, mean), read only by the square and the Div.
    const int dp = g->values[static_cast<size_t>(d)].producer;
    if (dp < 0 || taken[static_cast<size_t>(dp)] || u.is_graph_output[static_cast<size_t>(d)] ||
        u.read_by_subgraph[static_cast<size_t>(d)])
      continue;
    const Node& sub = g->nodes[static_cast<size_t>(dp)];
    const int64_t d_reads = u.Count(d);
    if (sub.op_type != "Sub" || !sub.domain.empty() || d_reads != (sq.op_type == "Mul" ? 3 : 2)) continue;
    nodes.push_back(sub.index);
    const int x = sub.inputs[0];
    const Node* mean = producer(sub.inputs[1], "ReduceMean");
    if (mean == nullptr || mean->inputs[0] != x) continue;
    const int64_t rank = Rank(*g, x);
    if (!LastAxisMean(*g, *mean, rank) || !LastAxisMean(*g, *var_mean, rank)) continue;
    const Tensor* gt = ConstantData(*g, gamma);
    const Tensor* bt = ConstantData(*g, beta);
    if (ElemType(*g, x) != DType::kF32 || gt->dtype() != DType::kF32 || bt->dtype() != DType::kF32 ||
        gt->rank() != 1 || bt->rank() != 1 || gt->numel() != bt->numel())
      continue;
    Shape xs;
    if (StaticShape(*g, x, &xs) && (xs.empty() || xs.back() != gt->numel())) continue;
    Node ln;
    ln.op_type = "LayerNormalization";
    ln.opset = 17;
    ln.name = root.name;
    ln.inputs = {x, gamma, beta};
    ln.outputs = {root.outputs[0]};
    ln.attributes["axis"].kind = Attribute::Kind::kInt;
    ln.attributes["axis"].i = -1;
    ln.attributes["epsilon"].kind = Attribute::Kind::kFloat;
    ln.attributes["epsilon"].f = eps;
    ln.provenance = MergeProvenance(*g, std::vector<int>(nodes.rbegin(), nodes.rend()));
    for (int k : nodes) {
      taken[static_cast<size_t>(k)] = true;
      rw.Remove(k);
    }
    rw.InsertAt(root.index, std::move(ln));
    ++fused;
  }
  if (fused == 0) return int64_t{0};
  IDEM_RETURN_IF_ERROR(rw.Commit());
  return fused;
}

}  // namespace idem::passes
