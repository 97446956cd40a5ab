// GELU sub-graphs -> idem.Gelu, recording the exact operation order in attributes so the kernel
// (kernels/fused.cc GeluOf) computes the same bits:
//   erf form:  t = Erf(x / c) + 1  (or Erf(x * c) + 1)
//   tanh form: t = Tanh(c2 * (x + c1 * x3)) + 1,  x3 = x * (x * x) or Pow(x, 3)
//   then y = (x * t) * 0.5 [half_mode 0], (x * 0.5) * t [1], or x * (t * 0.5) [2],
// with every binary op in either operand order (f32 + and * are commutative bitwise).
#include <vector>

#include "passes/graph_util.h"
#include "passes/passes.h"

namespace idem::passes {
namespace {

struct Matcher {
  const Graph& g;
  const Uses& u;
  const std::vector<bool>& taken;
  std::vector<int> nodes;

  const Node* Producer(int v, const char* op) {
    const Node* n = SoleProducer(g, u, v, op, taken);
    if (n != nullptr) nodes.push_back(n->index);
    return n;
  }
  bool IsConst(int v, float value) {
    float f;
    return ConstantScalarF32(g, v, &f) && f == value;
  }
};

// t = E(u) + 1 with E = Erf or Tanh and u a function of x. Fills the Gelu attributes.
bool MatchT(Matcher& m, int t, int x, Node* gelu) {
  const Node* add = m.Producer(t, "Add");
  if (add == nullptr || add->inputs.size() != 2) return false;
  int e = -1;
  if (m.IsConst(add->inputs[1], 1.0f)) e = add->inputs[0];
  else if (m.IsConst(add->inputs[0], 1.0f)) e = add->inputs[1];
  if (e < 0) return false;
  auto set_f = [&](const char* name, float v) {
    gelu->attributes[name].kind = Attribute::Kind::kFloat;
    gelu->attributes[name].f = v;
  };
  auto set_i = [&](const char* name, int64_t v) {
    gelu->attributes[name].kind = Attribute::Kind::kInt;
    gelu->attributes[name].i = v;
  };
  if (const Node* erf = m.Producer(e, "Erf")) {
    const int uval = erf->inputs[0];
    float c;
    if (const Node* div = m.Producer(uval, "Div")) {
      if (div->inputs[0] != x || !ConstantScalarF32(m.g, div->inputs[1], &c)) return false;
      set_i("inner_div", 1);
    } else if (const Node* mul = m.Producer(uval, "Mul")) {
      const int other = OtherInput(*mul, x);
      if (other < 0 || !ConstantScalarF32(m.g, other, &c)) return false;
      set_i("inner_div", 0);
    } else {
      return false;
    }
    set_f("inner_scale", c);
    gelu->attributes["approximate"].kind = Attribute::Kind::kString;
    gelu->attributes["approximate"].s = "none";
    return true;
  }
  const Node* th = m.Producer(e, "Tanh");
  if (th == nullptr) return false;
  const Node* scale = m.Producer(th->inputs[0], "Mul");
  if (scale == nullptr) return false;
  float c2, c1;
  int s = -1;
  if (ConstantScalarF32(m.g, scale->inputs[0], &c2)) s = scale->inputs[1];
  else if (ConstantScalarF32(m.g, scale->inputs[1], &c2)) s = scale->inputs[0];
  if (s < 0) return false;
  const Node* sum = m.Producer(s, "Add");
  if (sum == nullptr) return false;
  const int a = OtherInput(*sum, x);
  if (a < 0) return false;
  const Node* coef = m.Producer(a, "Mul");
  if (coef == nullptr) return false;
  int x3 = -1;
  if (ConstantScalarF32(m.g, coef->inputs[0], &c1)) x3 = coef->inputs[1];
  else if (ConstantScalarF32(m.g, coef->inputs[1], &c1)) x3 = coef->inputs[0];
  if (x3 < 0) return false;
  const int p3 = m.g.values[static_cast<size_t>(x3)].producer;
  if (p3 >= 0 && m.g.nodes[static_cast<size_t>(p3)].op_type == "Pow") {
    const Node* pw = m.Producer(x3, "Pow");
    if (pw == nullptr || pw->inputs[0] != x || !m.IsConst(pw->inputs[1], 3.0f)) return false;
    set_i("cube_pow", 1);
  } else {
    const Node* cube = m.Producer(x3, "Mul");
    if (cube == nullptr) return false;
    const int x2 = OtherInput(*cube, x);
    if (x2 < 0) return false;
    const Node* sq = m.Producer(x2, "Mul");
    if (sq == nullptr || sq->inputs[0] != x || sq->inputs[1] != x) return false;
    set_i("cube_pow", 0);
  }
  set_f("inner_scale", c2);
  set_f("coef", c1);
  gelu->attributes["approximate"].kind = Attribute::Kind::kString;
  gelu->attributes["approximate"].s = "tanh";
  return true;
}

}  // namespace

Result<int64_t> FuseGelu(Graph* g) {
  const Uses u = ComputeUses(*g);
  Rewriter rw(g);
  std::vector<bool> taken(g->nodes.size(), false);
  int64_t fused = 0;
  for (const Node& root : g->nodes) {
    if (taken[static_cast<size_t>(root.index)] || !root.domain.empty() || root.op_type != "Mul" ||
        root.inputs.size() != 2 || root.outputs.size() != 1)
      continue;
    // Try the three placements of the 0.5 factor, each operand order.
    for (int mode = 0; mode < 3; ++mode) {
      bool matched = false;
      for (int side = 0; side < 2 && !matched; ++side) {
        Matcher m{*g, u, taken, {root.index}};
        Node gelu = MakeIdemNode(g, "Gelu", root.name);
        const int p = root.inputs[static_cast<size_t>(side)];
        const int q = root.inputs[static_cast<size_t>(1 - side)];
        int x = -1, t = -1;
        if (mode == 0) {  // root = Mul(Mul(x, t), 0.5)
          if (!m.IsConst(q, 0.5f)) continue;
          const Node* xt = m.Producer(p, "Mul");
          if (xt == nullptr) continue;
          for (int k = 0; k < 2 && !matched; ++k) {
            Matcher mk{*g, u, taken, m.nodes};
            Node gk = gelu;
            x = xt->inputs[static_cast<size_t>(k)];
            t = xt->inputs[static_cast<size_t>(1 - k)];
            if (ElemType(*g, x) == DType::kF32 && MatchT(mk, t, x, &gk)) {
              m.nodes = mk.nodes;
              gelu = gk;
              matched = true;
            }
          }
        } else if (mode == 1) {  // root = Mul(Mul(x, 0.5), t)
          const Node* xh = m.Producer(p, "Mul");
          if (xh == nullptr) continue;
          if (m.IsConst(xh->inputs[1], 0.5f)) x = xh->inputs[0];
          else if (m.IsConst(xh->inputs[0], 0.5f)) x = xh->inputs[1];
          else continue;
          matched = ElemType(*g, x) == DType::kF32 && MatchT(m, q, x, &gelu);
        } else {  // root = Mul(x, Mul(t, 0.5))
          const Node* th = m.Producer(q, "Mul");
          if (th == nullptr) continue;
          x = p;
          if (m.IsConst(th->inputs[1], 0.5f)) t = th->inputs[0];
          else if (m.IsConst(th->inputs[0], 0.5f)) t = th->inputs[1];
          else continue;
          matched = ElemType(*g, x) == DType::kF32 && MatchT(m, t, x, &gelu);
        }
        if (!matched) continue;
        gelu.attributes["half_mode"].kind = Attribute::Kind::kInt;
        gelu.attributes["half_mode"].i = mode;
        gelu.inputs = {x};
        gelu.outputs = {root.outputs[0]};
        gelu.provenance = MergeProvenance(*g, m.nodes);
        int last = root.index;
        for (int k : m.nodes) {
          last = std::max(last, k);
          taken[static_cast<size_t>(k)] = true;
          rw.Remove(k);
        }
        rw.InsertAt(last, std::move(gelu));
        ++fused;
      }
      if (matched) break;
    }
  }
  if (fused == 0) return int64_t{0};
  IDEM_RETURN_IF_ERROR(rw.Commit());
  return fused;
}

}  // namespace idem::passes
