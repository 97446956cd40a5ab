// The IR: a Graph of Nodes that read and write Values. Small and plain on purpose; passes and the
// compiler (later) rewrite it, the runtime executes it.
//
// Values and nodes are addressed by integer index inside their graph ("plan by name, run by
// index"). A subgraph (If/Loop/Scan body) may read values of enclosing graphs; such a value appears
// in the subgraph as a Value with `outer_scope = true`, resolved by name at run time.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace idem {

class Graph;

// A dimension from the model: a known size (>= 0), or unknown (-1) with an optional symbol.
struct Dim {
  int64_t value = -1;
  std::string symbol;
};

// Static type of a value as far as the model or shape inference tells.
struct ValueType {
  enum class Kind { kUnknown, kTensor, kSequence, kOptional };
  Kind kind = Kind::kUnknown;
  DType elem = DType::kUndefined;  // element dtype (of the tensor, or of the sequence's tensors)
  bool has_shape = false;
  std::vector<Dim> dims;
  // For kOptional: what it wraps (kTensor or kSequence).
  Kind optional_of = Kind::kUnknown;
};
std::string ValueTypeToString(const ValueType& t);

struct Attribute {
  enum class Kind { kFloat, kInt, kString, kTensor, kGraph, kFloats, kInts, kStrings, kTensors, kGraphs, kType };
  Kind kind = Kind::kInt;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;
  ValueType type;  // kType
};
const char* AttributeKindName(Attribute::Kind k);

class Graph;
// Adds to `names` the outer-scope values that subgraph `sub` (and its own subgraphs, transitively)
// reads: the values a node holding `sub` uses implicitly from the enclosing graph.
void CollectOuterScopeReads(const Graph& sub, std::set<std::string>* names);
struct Node;
// The outer-scope values the subgraph attributes of `n` read (transitively): values of the graph
// holding `n` that `n` uses implicitly, besides its inputs.
std::set<std::string> OuterScopeReadsOf(const Node& n);

struct Value {
  std::string name;
  ValueType type;
  int producer = -1;          // index of the producing node, -1 for inputs/initializers/outer values
  bool is_graph_input = false;
  bool has_initializer = false;  // constant data (a graph input with an initializer has a default)
  Tensor initializer;
  bool outer_scope = false;   // defined by an enclosing graph; resolved by name
};

struct Node {
  std::string name;  // may be empty in ONNX; DisplayName() gives a usable one
  std::string op_type;
  std::string domain;  // "" for the default ONNX domain
  int opset = 0;       // the model's opset for this node's domain
  std::vector<int> inputs;   // value indices; -1 for an omitted optional input
  std::vector<int> outputs;  // value indices; -1 for an omitted optional output
  std::map<std::string, Attribute> attributes;
  // Names of the original ONNX nodes this node stands for (fusion keeps the list; see passes).
  std::vector<std::string> provenance;
  int index = -1;  // position in Graph::nodes

  const Attribute* FindAttribute(const std::string& n) const {
    auto it = attributes.find(n);
    return it == attributes.end() ? nullptr : &it->second;
  }
  // "Conv node 'conv1' (opset 11)" — the standard way messages name a node.
  std::string Describe() const;
  std::string DisplayName() const;
};

class Graph {
 public:
  std::string name;
  std::vector<Value> values;
  std::vector<Node> nodes;     // topologically sorted (validated at import)
  std::vector<int> inputs;     // value indices of graph inputs (in order)
  std::vector<int> outputs;    // value indices of graph outputs (in order)
  std::map<std::string, int> opsets;  // domain -> opset version, shared with subgraphs

  int FindValue(const std::string& value_name) const {
    auto it = by_name_.find(value_name);
    return it == by_name_.end() ? -1 : it->second;
  }
  // Adds a value; the name must be unique in this graph.
  int AddValue(Value v);
  int AddNode(Node n);
  // Rebuilds the name index (after passes rename or remove values).
  void Reindex();

 private:
  std::map<std::string, int> by_name_;
};

}  // namespace idem
