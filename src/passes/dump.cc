#include "passes/dump.h"

#include <sstream>

namespace idem::passes {
namespace {

constexpr size_t kMaxListed = 8;  // list elements shown before "..."

template <typename T>
std::string List(const std::vector<T>& v) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < v.size() && i < kMaxListed; ++i) os << (i ? "," : "") << v[i];
  if (v.size() > kMaxListed) os << ",...(" << v.size() << ")";
  os << "]";
  return os.str();
}

std::string TensorSummary(const Tensor& t) {
  return StrCat(DTypeOnnxName(t.dtype()), ShapeToString(t.shape()));
}

std::string AttrString(const Attribute& a) {
  switch (a.kind) {
    case Attribute::Kind::kFloat: return StrCat(a.f);
    case Attribute::Kind::kInt: return StrCat(a.i);
    case Attribute::Kind::kString: return StrCat("\"", a.s, "\"");
    case Attribute::Kind::kTensor: return StrCat("tensor ", TensorSummary(a.t));
    case Attribute::Kind::kGraph: return StrCat("graph '", a.g ? a.g->name : std::string(), "'");
    case Attribute::Kind::kFloats: return List(a.floats);
    case Attribute::Kind::kInts: return List(a.ints);
    case Attribute::Kind::kStrings: return List(a.strings);
    case Attribute::Kind::kTensors: return StrCat(a.tensors.size(), " tensors");
    case Attribute::Kind::kGraphs: return StrCat(a.graphs.size(), " graphs");
    case Attribute::Kind::kType: return ValueTypeToString(a.type);
  }
  return "?";
}

std::string ValueRef(const Graph& g, int v) {
  if (v < 0) return "<none>";
  const Value& val = g.values[static_cast<size_t>(v)];
  std::string s = StrCat("%", val.name);
  if (val.type.kind != ValueType::Kind::kUnknown) s += StrCat(":", ValueTypeToString(val.type));
  return s;
}

void DumpInto(const Graph& g, const std::string& indent, std::ostringstream& os) {
  os << indent << "graph '" << g.name << "': " << g.nodes.size() << " nodes\n";
  for (int i : g.inputs) os << indent << "  input  " << ValueRef(g, i) << "\n";
  for (int o : g.outputs) os << indent << "  output " << ValueRef(g, o) << "\n";
  for (const Value& v : g.values)
    if (v.has_initializer)
      os << indent << "  init   %" << v.name << " = " << TensorSummary(v.initializer)
         << (v.is_graph_input ? " (default of an input)" : "") << "\n";
  for (const Node& n : g.nodes) {
    os << indent << "  ";
    for (size_t i = 0; i < n.outputs.size(); ++i) os << (i ? ", " : "") << ValueRef(g, n.outputs[i]);
    os << " = " << (n.domain.empty() ? "" : n.domain + ".") << n.op_type;
    if (n.opset) os << "-" << n.opset;
    os << "(";
    for (size_t i = 0; i < n.inputs.size(); ++i)
      os << (i ? ", " : "") << (n.inputs[i] < 0 ? std::string("<none>") : StrCat("%", g.values[static_cast<size_t>(n.inputs[i])].name));
    os << ")";
    if (!n.attributes.empty()) {
      os << " {";
      bool first = true;
      for (const auto& [name, a] : n.attributes) {
        os << (first ? "" : ", ") << name << "=" << AttrString(a);
        first = false;
      }
      os << "}";
    }
    if (!n.provenance.empty()) os << " " << List(n.provenance);
    if (!n.name.empty()) os << "  # " << n.name;
    os << "\n";
    for (const auto& [name, a] : n.attributes) {
      if (a.g) DumpInto(*a.g, indent + "    ", os);
      for (const auto& sub : a.graphs) DumpInto(*sub, indent + "    ", os);
    }
  }
}

}  // namespace

std::string DumpGraph(const Graph& g) {
  std::ostringstream os;
  DumpInto(g, "", os);
  return os.str();
}

}  // namespace idem::passes
