#include "passes/graph_util.h"

#include <algorithm>
#include <map>

namespace idem::passes {
Uses ComputeUses(const Graph& g) {
  Uses u;
  const size_t nv = g.values.size();
  u.consumers.assign(nv, {});
  u.is_graph_output.assign(nv, false);
  u.read_by_subgraph.assign(nv, false);
  for (int o : g.outputs) u.is_graph_output[static_cast<size_t>(o)] = true;
  for (const Node& n : g.nodes) {
    for (int in : n.inputs)
      if (in >= 0) u.consumers[static_cast<size_t>(in)].push_back(n.index);
    for (const std::string& name : OuterScopeReadsOf(n)) {
      const int id = g.FindValue(name);
      if (id < 0) continue;
      u.consumers[static_cast<size_t>(id)].push_back(n.index);
      u.read_by_subgraph[static_cast<size_t>(id)] = true;
    }
  }
  return u;
}

bool IsConstant(const Graph& g, int v) {
  if (v < 0) return false;
  const Value& val = g.values[static_cast<size_t>(v)];
  return val.has_initializer && !val.is_graph_input && !val.outer_scope;
}

const Tensor* ConstantData(const Graph& g, int v) {
  return IsConstant(g, v) ? &g.values[static_cast<size_t>(v)].initializer : nullptr;
}

bool ConstantScalarF32(const Graph& g, int v, float* out) {
  const Tensor* t = ConstantData(g, v);
  if (t == nullptr || t->dtype() != DType::kF32 || t->numel() != 1) return false;
  *out = t->data<float>()[0];
  return true;
}

bool ConstantInts(const Graph& g, int v, std::vector<int64_t>* out) {
  const Tensor* t = ConstantData(g, v);
  if (t == nullptr || !IsInt(t->dtype())) return false;
  *out = t->ToInt64Vector();
  return true;
}

bool StaticShape(const Graph& g, int v, Shape* out) {
  if (v < 0) return false;
  const Value& val = g.values[static_cast<size_t>(v)];
  if (IsConstant(g, v)) {
    *out = val.initializer.shape();
    return true;
  }
  if (val.type.kind != ValueType::Kind::kTensor || !val.type.has_shape) return false;
  Shape s;
  for (const Dim& d : val.type.dims) {
    if (d.value < 0) return false;
    s.push_back(d.value);
  }
  *out = std::move(s);
  return true;
}

DType ElemType(const Graph& g, int v) {
  if (v < 0) return DType::kUndefined;
  const Value& val = g.values[static_cast<size_t>(v)];
  if (IsConstant(g, v)) return val.initializer.dtype();
  if (val.type.kind != ValueType::Kind::kTensor) return DType::kUndefined;
  return val.type.elem;
}

bool IsRandomOp(const Node& n) {
  static const char* const kRandom[] = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
                                        "Bernoulli",    "Multinomial",      "Dropout"};
  if (!n.domain.empty() && n.domain != "ai.onnx") return false;
  for (const char* r : kRandom)
    if (n.op_type == r) return true;
  return false;
}

bool HasSubgraph(const Node& n) {
  for (const auto& [_, a] : n.attributes)
    if (a.g || !a.graphs.empty()) return true;
  return false;
}

std::string UniqueValueName(const Graph& g, const std::string& base) {
  if (g.FindValue(base) < 0) return base;
  for (int i = 1;; ++i) {
    std::string name = base + "_" + std::to_string(i);
    if (g.FindValue(name) < 0) return name;
  }
}

std::vector<std::string> MergeProvenance(const Graph& g, const std::vector<int>& nodes) {
  std::vector<std::string> out;
  for (int i : nodes) {
    const Node& n = g.nodes[static_cast<size_t>(i)];
    std::vector<std::string> p = n.provenance.empty() ? std::vector<std::string>{n.name} : n.provenance;
    for (std::string& s : p)
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  }
  return out;
}

int OtherInput(const Node& n, int v) {
  if (n.inputs.size() != 2) return -2;
  if (n.inputs[0] == v) return n.inputs[1];
  if (n.inputs[1] == v) return n.inputs[0];
  return -2;
}

const Node* SoleProducer(const Graph& g, const Uses& u, int v, const char* op_type, const std::vector<bool>& taken) {
  if (v < 0 || !u.SingleUse(v)) return nullptr;
  const int p = g.values[static_cast<size_t>(v)].producer;
  if (p < 0 || taken[static_cast<size_t>(p)]) return nullptr;
  const Node& n = g.nodes[static_cast<size_t>(p)];
  return n.domain.empty() && n.op_type == op_type ? &n : nullptr;
}

const Node* SoleConsumer(const Graph& g, const Uses& u, int v, const char* op_type, const std::vector<bool>& taken) {
  if (v < 0 || !u.SingleUse(v)) return nullptr;
  const int c = u.consumers[static_cast<size_t>(v)][0];
  if (taken[static_cast<size_t>(c)]) return nullptr;
  const Node& n = g.nodes[static_cast<size_t>(c)];
  return n.domain.empty() && n.op_type == op_type ? &n : nullptr;
}

Node MakeIdemNode(Graph* g, const std::string& op_type, const std::string& name) {
  g->opsets["idem"] = 1;
  Node n;
  n.op_type = op_type;
  n.domain = "idem";
  n.opset = 1;
  n.name = name;
  return n;
}

bool CanRedirect(const Uses& u, int from) {
  return from >= 0 && !u.is_graph_output[static_cast<size_t>(from)] && !u.read_by_subgraph[static_cast<size_t>(from)];
}

int Rewriter::AddConstant(const std::string& base_name, Tensor t) {
  Value v;
  v.name = UniqueValueName(*g_, base_name);
  v.has_initializer = true;
  v.type.kind = ValueType::Kind::kTensor;
  v.type.elem = t.dtype();
  v.type.has_shape = true;
  for (int64_t d : t.shape()) v.type.dims.push_back(Dim{d, ""});
  v.initializer = std::move(t);
  added_constant_ = true;
  return g_->AddValue(std::move(v));
}

bool Rewriter::empty() const {
  if (!redirect_.empty() || added_constant_) return false;
  for (size_t i = 0; i < removed_.size(); ++i)
    if (removed_[i] || !inserted_[i].empty()) return false;
  return true;
}

Status Rewriter::Commit() {
  Graph& g = *g_;
  std::map<int, int> redirect;
  for (const auto& [from, to] : redirect_) redirect[from] = to;
  auto resolve = [&](int v) {
    for (size_t guard = 0; guard <= redirect.size(); ++guard) {
      auto it = redirect.find(v);
      if (it == redirect.end()) return v;
      v = it->second;
    }
    return v;
  };
  std::vector<Node> nodes;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (Node& n : inserted_[i]) nodes.push_back(std::move(n));
    if (!removed_[i]) nodes.push_back(std::move(g.nodes[i]));
  }
  for (Node& n : nodes)
    for (int& in : n.inputs)
      if (in >= 0) in = resolve(in);
  g.nodes = std::move(nodes);
  for (Value& v : g.values) v.producer = -1;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    g.nodes[i].index = static_cast<int>(i);
    for (int o : g.nodes[i].outputs)
      if (o >= 0) {
        Value& v = g.values[static_cast<size_t>(o)];
        if (v.producer >= 0) return Internal("graph pass: value '", v.name, "' is produced twice");
        v.producer = static_cast<int>(i);
      }
  }
  for (const Node& n : g.nodes)
    for (int in : n.inputs) {
      if (in < 0) continue;
      const Value& v = g.values[static_cast<size_t>(in)];
      const bool defined = v.producer >= 0 ? v.producer < n.index : (v.has_initializer || v.is_graph_input || v.outer_scope);
      if (!defined)
        return Internal("graph pass: ", n.Describe(), " reads value '", v.name, "' before it is defined");
    }
  for (int o : g.outputs) {
    const Value& v = g.values[static_cast<size_t>(o)];
    if (v.producer < 0 && !v.has_initializer && !v.is_graph_input)
      return Internal("graph pass: graph output '", v.name, "' lost its producer");
  }
  CompactValues(&g, false);
  return Status::Ok();
}

int64_t CompactValues(Graph* g, bool drop_unused_initializers) {
  const Uses u = ComputeUses(*g);
  const size_t nv = g->values.size();
  std::vector<bool> keep(nv, false);
  int64_t dropped = 0;
  for (size_t v = 0; v < nv; ++v) {
    const Value& val = g->values[v];
    const bool used = !u.consumers[v].empty() || u.is_graph_output[v];
    if (val.is_graph_input || used || val.producer >= 0) keep[v] = true;
    else if (val.has_initializer && !drop_unused_initializers) keep[v] = true;
    else if (val.has_initializer) ++dropped;
  }
  std::vector<int> remap(nv, -1);
  std::vector<Value> values;
  for (size_t v = 0; v < nv; ++v)
    if (keep[v]) {
      remap[v] = static_cast<int>(values.size());
      values.push_back(std::move(g->values[v]));
    }
  g->values = std::move(values);
  auto map = [&](int& v) {
    if (v >= 0) v = remap[static_cast<size_t>(v)];
  };
  for (Node& n : g->nodes) {
    for (int& in : n.inputs) map(in);
    for (int& o : n.outputs) map(o);
  }
  for (int& i : g->inputs) map(i);
  for (int& o : g->outputs) map(o);
  g->Reindex();
  return dropped;
}

std::map<std::string, int64_t> CountOps(const Graph& g) {
  std::map<std::string, int64_t> counts;
  for (const Node& n : g.nodes) ++counts[n.domain.empty() ? n.op_type : n.domain + "." + n.op_type];
  return counts;
}

}  // namespace idem::passes
