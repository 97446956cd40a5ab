// Scaled dot-product attention -> idem.Attention (kernels/fused.cc), bitwise:
//   R = MatMul(Q, Kt); S = Div(R, c) | Mul(R, c); Z = S | Add(S, mask) | Where(cond, S, fill);
//   P = Softmax(Z, last axis); Y = MatMul(P, V).
// Q, Kt, V need static shapes of one rank with equal batch dims (the kernel does not broadcast
// batches), the mask a static shape that broadcasts to S's shape without enlarging it.
#include <algorithm>
#include <vector>

#include "passes/graph_util.h"
#include "passes/passes.h"

namespace idem::passes {
namespace {

bool BroadcastsInto(const Shape& m, const Shape& s) {
  if (m.size() > s.size()) return false;
  for (size_t i = 0; i < m.size(); ++i) {
    const int64_t md = m[i], sd = s[s.size() - m.size() + i];
    if (md != 1 && md != sd) return false;
  }
  return true;
}

}  // namespace

Result<int64_t> FuseAttention(Graph* g) {
  const Uses u = ComputeUses(*g);
  Rewriter rw(g);
  std::vector<bool> taken(g->nodes.size(), false);
  int64_t fused = 0;
  for (const Node& root : g->nodes) {
    if (taken[static_cast<size_t>(root.index)] || !root.domain.empty() || root.op_type != "MatMul") continue;
    std::vector<int> nodes = {root.index};
    const int v = root.inputs[1];
    const Node* sm = SoleProducer(*g, u, root.inputs[0], "Softmax", taken);
    if (sm == nullptr) continue;
    nodes.push_back(sm->index);
    int z = sm->inputs[0];
    Node att = MakeIdemNode(g, "Attention", root.name);
    auto set_i = [&](const char* name, int64_t val) {
      att.attributes[name].kind = Attribute::Kind::kInt;
      att.attributes[name].i = val;
    };
    auto set_f = [&](const char* name, float val) {
      att.attributes[name].kind = Attribute::Kind::kFloat;
      att.attributes[name].f = val;
    };
    int mask = -1;
    int s = z;
    if (const Node* add = SoleProducer(*g, u, z, "Add", taken)) {
      nodes.push_back(add->index);
      // The scores are the operand produced by the Div/Mul below; try both orders.
      for (int k = 0; k < 2; ++k) {
        const int cand = add->inputs[static_cast<size_t>(k)];
        const int pc = cand >= 0 ? g->values[static_cast<size_t>(cand)].producer : -1;
        if (pc >= 0 && (g->nodes[static_cast<size_t>(pc)].op_type == "Div" ||
                        g->nodes[static_cast<size_t>(pc)].op_type == "Mul")) {
          s = cand;
          mask = add->inputs[static_cast<size_t>(1 - k)];
          break;
        }
      }
      if (mask < 0 || ElemType(*g, mask) != DType::kF32) continue;
      set_i("mask_kind", 1);
    } else if (const Node* wh = SoleProducer(*g, u, z, "Where", taken)) {
      nodes.push_back(wh->index);
      float fill;
      if (!ConstantScalarF32(*g, wh->inputs[2], &fill) || ElemType(*g, wh->inputs[0]) != DType::kBool) continue;
      s = wh->inputs[1];
      mask = wh->inputs[0];
      set_i("mask_kind", 2);
      set_f("fill", fill);
    }
    const Node* scale = SoleProducer(*g, u, s, "Div", taken);
    float c;
    if (scale != nullptr) {
      if (!ConstantScalarF32(*g, scale->inputs[1], &c)) continue;
      set_i("scale_div", 1);
    } else {
      scale = SoleProducer(*g, u, s, "Mul", taken);
      if (scale == nullptr) continue;
      if (!ConstantScalarF32(*g, scale->inputs[1], &c) && !ConstantScalarF32(*g, scale->inputs[0], &c)) continue;
      set_i("scale_div", 0);
    }
    set_f("scale", c);
    nodes.push_back(scale->index);
    int r = scale->inputs[0];
    if (scale->op_type == "Mul" && IsConstant(*g, r)) r = scale->inputs[1];
    const Node* qk = SoleProducer(*g, u, r, "MatMul", taken);
    if (qk == nullptr) continue;
    nodes.push_back(qk->index);
    const int q = qk->inputs[0], kt = qk->inputs[1];
    Shape sq, sk, sv, ss;
    if (ElemType(*g, q) != DType::kF32 || !StaticShape(*g, q, &sq) || !StaticShape(*g, kt, &sk) ||
        !StaticShape(*g, v, &sv) || sq.size() < 2 || sk.size() != sq.size() || sv.size() != sq.size())
      continue;
    const size_t rank = sq.size();
    if (!std::equal(sq.begin(), sq.end() - 2, sk.begin()) || !std::equal(sq.begin(), sq.end() - 2, sv.begin()) ||
        sk[rank - 2] != sq[rank - 1] || sv[rank - 2] != sk[rank - 1])
      continue;
    ss.assign(sq.begin(), sq.end() - 1);
    ss.push_back(sk[rank - 1]);
    if (mask >= 0) {
      Shape sm_shape;
      if (!StaticShape(*g, mask, &sm_shape) || !BroadcastsInto(sm_shape, ss)) continue;
    }
    const Attribute* axis = sm->FindAttribute("axis");
    const int64_t ax = axis ? axis->i : (sm->opset >= 13 ? -1 : 1);
    if (ax != -1 && ax != static_cast<int64_t>(rank) - 1) continue;
    att.inputs = {q, kt, v};
    if (mask >= 0) att.inputs.push_back(mask);
    att.outputs = {root.outputs[0]};
    att.provenance = MergeProvenance(*g, std::vector<int>(nodes.rbegin(), nodes.rend()));
    for (int k : nodes) {
      taken[static_cast<size_t>(k)] = true;
      rw.Remove(k);
    }
    rw.InsertAt(root.index, std::move(att));
    ++fused;
  }
  if (fused == 0) return int64_t{0};
  IDEM_RETURN_IF_ERROR(rw.Commit());
  return fused;
}

}  // namespace idem::passes
