#include "ir/graph.h"

#include <sstream>

namespace idem {

void CollectOuterScopeReads(const Graph& sub, std::set<std::string>* names) {
  for (const Value& v : sub.values)
    if (v.outer_scope) names->insert(v.name);
  for (const Node& n : sub.nodes)
    for (const auto& [_, a] : n.attributes) {
      if (a.g) CollectOuterScopeReads(*a.g, names);
      for (const auto& gg : a.graphs) CollectOuterScopeReads(*gg, names);
    }
}

std::set<std::string> OuterScopeReadsOf(const Node& n) {
  std::set<std::string> names;
  for (const auto& [_, a] : n.attributes) {
    if (a.g) CollectOuterScopeReads(*a.g, &names);
    for (const auto& gg : a.graphs) CollectOuterScopeReads(*gg, &names);
  }
  return names;
}

std::string ValueTypeToString(const ValueType& t) {
  std::ostringstream os;
  auto dims = [&] {
    if (!t.has_shape) return std::string("?");
    std::string s = "[";
    for (size_t i = 0; i < t.dims.size(); ++i) {
      if (i) s += ",";
      s += t.dims[i].value >= 0 ? std::to_string(t.dims[i].value) : (t.dims[i].symbol.empty() ? "?" : t.dims[i].symbol);
    }
    return s + "]";
  };
  switch (t.kind) {
    case ValueType::Kind::kTensor: os << "tensor(" << DTypeOnnxName(t.elem) << ")" << dims(); break;
    case ValueType::Kind::kSequence: os << "seq(tensor(" << DTypeOnnxName(t.elem) << "))"; break;
    case ValueType::Kind::kOptional: os << "optional(" << DTypeOnnxName(t.elem) << ")"; break;
    default: os << "unknown"; break;
  }
  return os.str();
}

const char* AttributeKindName(Attribute::Kind k) {
  switch (k) {
    case Attribute::Kind::kFloat: return "float";
    case Attribute::Kind::kInt: return "int";
    case Attribute::Kind::kString: return "string";
    case Attribute::Kind::kTensor: return "tensor";
    case Attribute::Kind::kGraph: return "graph";
    case Attribute::Kind::kFloats: return "floats";
    case Attribute::Kind::kInts: return "ints";
    case Attribute::Kind::kStrings: return "strings";
    case Attribute::Kind::kTensors: return "tensors";
    case Attribute::Kind::kGraphs: return "graphs";
    case Attribute::Kind::kType: return "type";
  }
  return "?";
}

std::string Node::DisplayName() const {
  if (!name.empty()) return name;
  return op_type + "#" + std::to_string(index);
}

std::string Node::Describe() const {
  std::string s = op_type + " node '" + DisplayName() + "' (";
  if (!domain.empty()) s += domain + " ";
  return s + "opset " + std::to_string(opset) + ")";
}

int Graph::AddValue(Value v) {
  const int id = static_cast<int>(values.size());
  by_name_[v.name] = id;
  values.push_back(std::move(v));
  return id;
}

int Graph::AddNode(Node n) {
  n.index = static_cast<int>(nodes.size());
  nodes.push_back(std::move(n));
  return nodes.back().index;
}

void Graph::Reindex() {
  by_name_.clear();
  for (size_t i = 0; i < values.size(); ++i) by_name_[values[i].name] = static_cast<int>(i);
  for (size_t i = 0; i < nodes.size(); ++i) nodes[i].index = static_cast<int>(i);
}

}  // namespace idem
