// Helpers shared by the graph passes: who reads each value, constants, and a Rewriter that removes
// and inserts nodes and rewires values while keeping the graph topologically sorted, its value
// indices dense and every Value::producer correct.
//
// Passes work on the main graph only; subgraphs (If/Loop/Scan bodies) are left as they are. A
// subgraph reads values of the enclosing graph BY NAME, so a value read that way is never renamed
// or replaced (CanRedirect() is false for it).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace idem::passes {

// The readers of every value of a graph, in graph order.
struct Uses {
  // consumers[v]: indices of the nodes that read value v (once per reading input; a node that
  // reads v through a subgraph is listed once as well).
  std::vector<std::vector<int>> consumers;
  std::vector<bool> is_graph_output;
  std::vector<bool> read_by_subgraph;  // read by name from an If/Loop/Scan body

  int64_t Count(int v) const { return static_cast<int64_t>(consumers[static_cast<size_t>(v)].size()); }
  // True when v is read by exactly one node input in total and is not a graph output.
  bool SingleUse(int v) const {
    return v >= 0 && Count(v) == 1 && !is_graph_output[static_cast<size_t>(v)] &&
           !read_by_subgraph[static_cast<size_t>(v)];
  }
};
Uses ComputeUses(const Graph& g);

// True for a value with constant data: an initializer that is not a graph input (a graph input
// with a default can be overridden at run time) and not an outer-scope value.
bool IsConstant(const Graph& g, int v);
// The constant data of v, or nullptr.
const Tensor* ConstantData(const Graph& g, int v);
// The single float of a one-element f32 constant.
bool ConstantScalarF32(const Graph& g, int v, float* out);
// The integers of a constant integer tensor.
bool ConstantInts(const Graph& g, int v, std::vector<int64_t>* out);

// Static shape of v from its type, if every dim is known.
bool StaticShape(const Graph& g, int v, Shape* out);
// Element type of v from its type (or its constant), kUndefined if unknown.
DType ElemType(const Graph& g, int v);

// Nodes a pass must never remove as duplicates or evaluate at compile time.
bool IsRandomOp(const Node& n);
bool HasSubgraph(const Node& n);

// A value name not used in g: `base`, or `base_1`, `base_2`, ... (deterministic).
std::string UniqueValueName(const Graph& g, const std::string& base);

// The union of the provenance lists of `nodes` (in the order given, without repeats).
std::vector<std::string> MergeProvenance(const Graph& g, const std::vector<int>& nodes);

// The input of `n`'s two inputs that is not `v` (for commutative binary ops), or -2.
int OtherInput(const Node& n, int v);

// The node producing v, when it is a default-domain `op_type` node, v is read exactly once (and is
// not a graph output), and the node is not `taken` by another match of the pass; else nullptr.
const Node* SoleProducer(const Graph& g, const Uses& u, int v, const char* op_type, const std::vector<bool>& taken);
// The single reader of v (v read once, not a graph output), if it is a default-domain `op_type`
// node not yet taken; else nullptr.
const Node* SoleConsumer(const Graph& g, const Uses& u, int v, const char* op_type, const std::vector<bool>& taken);

// A node of idem's own domain (opset 1), registering the domain in the graph's opsets.
Node MakeIdemNode(Graph* g, const std::string& op_type, const std::string& name);

// Batched graph edits. Indices refer to the graph as it was when the Rewriter was made; nothing
// changes until Commit().
class Rewriter {
 public:
  explicit Rewriter(Graph* g) : g_(g), removed_(g->nodes.size(), false), inserted_(g->nodes.size()) {}

  bool removed(int node) const { return removed_[static_cast<size_t>(node)]; }
  void Remove(int node) { removed_[static_cast<size_t>(node)] = true; }
  // Emits `n` where node `position` is (before it, if that node stays). All inputs of `n` must be
  // defined before `position`.
  void InsertAt(int position, Node n) { inserted_[static_cast<size_t>(position)].push_back(std::move(n)); }
  // Every read of value `from` reads `to` instead (node inputs of the main graph).
  void Redirect(int from, int to) { redirect_.push_back({from, to}); }
  // Adds a constant value now (it gets an index at once).
  int AddConstant(const std::string& base_name, Tensor t);
  bool empty() const;

  // Applies the edits, then drops values nobody produces, reads or lists as graph input/output and
  // that carry no data. Fails (Internal) if the result is not topologically sorted.
  Status Commit();

 private:
  Graph* g_;
  std::vector<bool> removed_;
  std::vector<std::vector<Node>> inserted_;
  std::vector<std::pair<int, int>> redirect_;
  bool added_constant_ = false;
};

// True if uses of value `from` may be rewired to another value: it is not a graph output and no
// subgraph reads it by name.
bool CanRedirect(const Uses& u, int from);

// Removes values that are unused and have no producer (keeps graph inputs/outputs and, unless
// `drop_unused_initializers`, initializers); renumbers. Returns the number of initializers dropped.
int64_t CompactValues(Graph* g, bool drop_unused_initializers);

// Counts of op types ("Conv", "idem.FusedConv") of the main graph.
std::map<std::string, int64_t> CountOps(const Graph& g);

}  // namespace idem::passes
