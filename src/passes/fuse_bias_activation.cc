// Conv / MatMul / Gemm + bias Add + activation -> idem.FusedConv / idem.FusedMatMul.
//   MatMul(A, B) [+ Add(., bias)] [+ act]   B: constant 2-D f32 [K, N]; bias: constant f32 with N
//                                           values ([N] or [1, .., 1, N] of rank <= rank(A))
//   Gemm(A, B, C) + act                     transA = 0, alpha = beta = 1, B constant f32, C absent
//                                           or a constant with N values ([N] or [1, N])
//   Conv(X, W, B) [+ Add(., sum)] [+ act]   f32; sum (the residual of a ResNet block): any f32
//                                           value of the Conv output's static shape (no
//                                           broadcast) that is not computed from the Conv's
//                                           output -> FusedConv(X, W, B, sum)
// act: Relu, LeakyRelu, Clip (constant bounds), Sigmoid, Tanh, HardSigmoid, SiLU (Sigmoid(x) and
// Mul(x, Sigmoid(x))), and idem.Gelu (made by FuseGelu, which runs first) as activation "Gelu"
// with activation_params {approximate (0 none / 1 tanh), inner_scale, inner_div, coef, cube_pow,
// half_mode}. The fused kernels (kernels/fused.cc) add the bias with one f32 add after the product
// chain, then the residual with one f32 add, and apply the activation formula of the op(s) they
// replace: the same bits.
#include <limits>
#include <vector>

#include "passes/graph_util.h"
#include "passes/passes.h"

namespace idem::passes {
namespace {

struct ActMatch {
  std::string name;
  std::vector<float> params;
  std::vector<int> nodes;
  int output = -1;
};

float FloatAttrOr(const Node& n, const char* name, float def) {
  const Attribute* a = n.FindAttribute(name);
  return a != nullptr && a->kind == Attribute::Kind::kFloat ? a->f : def;
}

// The activation reading `v` (its only reader; SiLU: the Sigmoid and the Mul).
bool MatchActivation(const Graph& g, const Uses& u, int v, const std::vector<bool>& taken, ActMatch* m) {
  if (v < 0 || u.is_graph_output[static_cast<size_t>(v)] || u.read_by_subgraph[static_cast<size_t>(v)]) return false;
  const auto& cons = u.consumers[static_cast<size_t>(v)];
  if (cons.size() == 2) {  // SiLU: s = Sigmoid(v); Mul(v, s)
    const Node& a = g.nodes[static_cast<size_t>(cons[0])];
    const Node& b = g.nodes[static_cast<size_t>(cons[1])];
    const Node* sig = a.op_type == "Sigmoid" ? &a : (b.op_type == "Sigmoid" ? &b : nullptr);
    const Node* mul = a.op_type == "Mul" ? &a : (b.op_type == "Mul" ? &b : nullptr);
    if (sig == nullptr || mul == nullptr || !sig->domain.empty() || !mul->domain.empty() || taken[static_cast<size_t>(sig->index)] ||
        taken[static_cast<size_t>(mul->index)])
      return false;
    if (OtherInput(*mul, v) != sig->outputs[0] || !u.SingleUse(sig->outputs[0])) return false;
    m->name = "SiLU";
    m->nodes = {sig->index, mul->index};
    m->output = mul->outputs[0];
    return true;
  }
  if (cons.size() != 1 || taken[static_cast<size_t>(cons[0])]) return false;
  const Node& n = g.nodes[static_cast<size_t>(cons[0])];
  if (n.outputs.size() != 1 || n.inputs.empty() || n.inputs[0] != v) return false;
  m->nodes = {n.index};
  m->output = n.outputs[0];
  m->params.clear();
  if (n.domain == "idem" && n.op_type == "Gelu") {
    // The attributes of idem.Gelu (kernels/fused.cc) with its defaults, as floats.
    const Attribute* approx = n.FindAttribute("approximate");
    if (approx != nullptr && (approx->kind != Attribute::Kind::kString || (approx->s != "none" && approx->s != "tanh")))
      return false;
    const bool tanh_form = approx != nullptr && approx->s == "tanh";
    auto int_attr = [&](const char* name, int64_t def) {
      const Attribute* a = n.FindAttribute(name);
      return a != nullptr && a->kind == Attribute::Kind::kInt ? a->i : def;
    };
    const int64_t inner_div = int_attr("inner_div", tanh_form ? 0 : 1);
    const int64_t cube_pow = int_attr("cube_pow", 0);
    const int64_t half_mode = int_attr("half_mode", 0);
    if (half_mode < 0 || half_mode > 2) return false;
    m->name = "Gelu";
    m->params = {tanh_form ? 1.0f : 0.0f,
                 FloatAttrOr(n, "inner_scale", tanh_form ? 0.7978845834732056f : 1.4142135381698608f),
                 inner_div != 0 ? 1.0f : 0.0f,
                 FloatAttrOr(n, "coef", 0.044715f),
                 cube_pow != 0 ? 1.0f : 0.0f,
                 static_cast<float>(half_mode)};
    return true;
  }
  if (!n.domain.empty()) return false;
  if (n.op_type == "Relu" || n.op_type == "Sigmoid" || n.op_type == "Tanh") {
    m->name = n.op_type;
    return true;
  }
  if (n.op_type == "LeakyRelu") {
    m->name = n.op_type;
    m->params = {FloatAttrOr(n, "alpha", 0.01f)};
    return true;
  }
  if (n.op_type == "HardSigmoid") {
    m->name = n.op_type;
    m->params = {FloatAttrOr(n, "alpha", 0.2f), FloatAttrOr(n, "beta", 0.5f)};
    return true;
  }
  if (n.op_type == "Clip") {
    float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
    if (n.opset < 11) {
      lo = FloatAttrOr(n, "min", lo);
      hi = FloatAttrOr(n, "max", hi);
    } else {
      if (n.inputs.size() > 1 && n.inputs[1] >= 0 && !ConstantScalarF32(g, n.inputs[1], &lo)) return false;
      if (n.inputs.size() > 2 && n.inputs[2] >= 0 && !ConstantScalarF32(g, n.inputs[2], &hi)) return false;
    }
    m->name = "Clip";
    m->params = {lo, hi};
    return true;
  }
  return false;
}

// True if value v is computed (transitively) from the output of node `from`.
bool DependsOnNode(const Graph& g, int v, int from) {
  std::vector<bool> seen(g.values.size(), false);
  std::vector<int> stack = {v};
  while (!stack.empty()) {
    const int cur = stack.back();
    stack.pop_back();
    if (cur < 0 || seen[static_cast<size_t>(cur)]) continue;
    seen[static_cast<size_t>(cur)] = true;
    const int producer = g.values[static_cast<size_t>(cur)].producer;
    if (producer < 0) continue;
    if (producer == from) return true;
    for (int in : g.nodes[static_cast<size_t>(producer)].inputs) stack.push_back(in);
  }
  return false;
}

// Conv output y read only by Add(y, sum) / Add(sum, y) where sum is an f32 value of y's static
// shape (no broadcast, the Add's output has it too) not computed from the Conv: the residual.
int MatchResidual(const Graph& g, const Uses& u, const Node& conv, const std::vector<bool>& taken,
                  const Node** add_out) {
  const int y = conv.outputs[0];
  const Node* add = SoleConsumer(g, u, y, "Add", taken);
  if (add == nullptr || add->inputs.size() != 2 || add->outputs.size() != 1) return -1;
  const int sum = OtherInput(*add, y);
  if (sum < 0 || sum == y || ElemType(g, sum) != DType::kF32) return -1;
  Shape ys, ss, as;
  if (!StaticShape(g, y, &ys) || !StaticShape(g, sum, &ss) || !StaticShape(g, add->outputs[0], &as)) return -1;
  if (ys != ss || ys != as) return -1;
  if (DependsOnNode(g, sum, conv.index)) return -1;
  *add_out = add;
  return sum;
}

Attribute StrAttr(const std::string& s) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = s;
  return a;
}

}  // namespace

Result<int64_t> FuseBiasActivation(Graph* g) {
  const Uses u = ComputeUses(*g);
  Rewriter rw(g);
  std::vector<bool> taken(g->nodes.size(), false);
  int64_t fused = 0;
  const size_t num_nodes = g->nodes.size();
  for (size_t i = 0; i < num_nodes; ++i) {
    const Node& n = g->nodes[i];
    if (taken[i] || !n.domain.empty() || n.outputs.size() != 1 || n.outputs[0] < 0) continue;
    const bool is_matmul = n.op_type == "MatMul", is_gemm = n.op_type == "Gemm", is_conv = n.op_type == "Conv";
    if (!is_matmul && !is_gemm && !is_conv) continue;
    if (ElemType(*g, n.inputs[0]) != DType::kF32) continue;
    std::vector<int> nodes = {n.index};
    int cur = n.outputs[0];
    int bias = -1;
    int64_t N = -1;
    bool trans_b = false;
    if (is_matmul || is_gemm) {
      const Tensor* B = ConstantData(*g, n.inputs[1]);
      if (B == nullptr || B->dtype() != DType::kF32 || B->rank() != 2) continue;
      if (is_gemm) {
        const Attribute* ta = n.FindAttribute("transA");
        const Attribute* tb = n.FindAttribute("transB");
        if ((ta && ta->i != 0) || FloatAttrOr(n, "alpha", 1.0f) != 1.0f || FloatAttrOr(n, "beta", 1.0f) != 1.0f) continue;
        trans_b = tb && tb->i != 0;
      }
      N = trans_b ? B->dim(0) : B->dim(1);
      if (is_gemm && n.inputs.size() > 2 && n.inputs[2] >= 0) {
        const Tensor* C = ConstantData(*g, n.inputs[2]);
        if (C == nullptr || C->dtype() != DType::kF32 || C->numel() != N || C->rank() > 2 ||
            (C->rank() >= 1 && C->dim(C->rank() - 1) != N))
          continue;
        bias = n.inputs[2];
      }
    }
    if (is_matmul) {
      if (const Node* add = SoleConsumer(*g, u, cur, "Add", taken)) {
        const int other = OtherInput(*add, cur);
        const Tensor* b = other >= 0 ? ConstantData(*g, other) : nullptr;
        Shape a_shape;
        const int64_t a_rank = StaticShape(*g, n.inputs[0], &a_shape) ? static_cast<int64_t>(a_shape.size()) : 1;
        bool ok = b != nullptr && b->dtype() == DType::kF32 && b->numel() == N && b->rank() >= 1 &&
                  b->rank() <= std::max<int64_t>(a_rank, 1) && b->dim(b->rank() - 1) == N;
        if (ok) {
          bias = other;
          nodes.push_back(add->index);
          cur = add->outputs[0];
        }
      }
    }
    int residual = -1;
    if (is_conv) {
      const Node* add = nullptr;
      residual = MatchResidual(*g, u, n, taken, &add);
      if (residual >= 0) {
        nodes.push_back(add->index);
        cur = add->outputs[0];
      }
    }
    ActMatch act;
    const bool has_act = MatchActivation(*g, u, cur, taken, &act);
    if (has_act) {
      nodes.insert(nodes.end(), act.nodes.begin(), act.nodes.end());
      cur = act.output;
    }
    if (!has_act && !(is_matmul && bias >= 0) && residual < 0) continue;
    Node f = MakeIdemNode(g, is_conv ? "FusedConv" : "FusedMatMul", g->nodes[static_cast<size_t>(nodes.back())].name);
    if (is_conv) {
      f.attributes = n.attributes;
      Attribute op;
      op.kind = Attribute::Kind::kInt;
      op.i = n.opset;
      f.attributes["conv_opset"] = op;
      f.inputs = n.inputs;
      if (residual >= 0) {
        f.inputs.resize(3, -1);  // X, W, B (absent: -1), sum
        f.inputs.push_back(residual);
      }
    } else {
      f.inputs = {n.inputs[0], n.inputs[1]};
      if (bias >= 0) f.inputs.push_back(bias);
      if (trans_b) {
        Attribute tb;
        tb.kind = Attribute::Kind::kInt;
        tb.i = 1;
        f.attributes["trans_b"] = tb;
      }
    }
    if (has_act) {
      f.attributes["activation"] = StrAttr(act.name);
      if (!act.params.empty()) {
        Attribute p;
        p.kind = Attribute::Kind::kFloats;
        p.floats = act.params;
        f.attributes["activation_params"] = p;
      }
    }
    f.outputs = {cur};
    f.provenance = MergeProvenance(*g, nodes);
    int last = nodes[0];
    for (int k : nodes) {
      last = std::max(last, k);
      taken[static_cast<size_t>(k)] = true;
      rw.Remove(k);
    }
    rw.InsertAt(last, std::move(f));
    ++fused;
  }
  if (fused == 0) return int64_t{0};
  IDEM_RETURN_IF_ERROR(rw.Commit());
  return fused;
}

}  // namespace idem::passes
