// Constant folding: a node whose inputs are all constant is evaluated at compile time by its own
// kernel (the registry's, with the node's attributes and opset, prepare function included), so
// the folded initializer holds exactly the bits the kernel would produce at run time.
#include <string>
#include <vector>

#include "kernels/registry.h"
#include "passes/graph_util.h"
#include "passes/passes.h"

namespace idem::passes {
namespace {

// Shape-15 start/end clamped as the Shape kernel does.
bool FoldShapeOf(const Node& n, const Shape& s, Tensor* out) {
  const int64_t rank = static_cast<int64_t>(s.size());
  int64_t start = 0, end = rank;
  if (n.opset >= 15) {
    if (const Attribute* a = n.FindAttribute("start")) start = a->i;
    if (const Attribute* a = n.FindAttribute("end")) end = a->i;
  }
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = start < 0 ? 0 : (start > rank ? rank : start);
  end = end < 0 ? 0 : (end > rank ? rank : end);
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(s[static_cast<size_t>(i)]);
  *out = Tensor::FromVector<int64_t>(dims, Shape{static_cast<int64_t>(dims.size())});
  return true;
}

// Runs the node's kernel on its constant inputs. Returns false (not an error) when the node cannot
// be folded: no kernel, a kernel error (left for run time to report), or a non-tensor output.
Result<bool> Evaluate(const Graph& g, const Node& n, std::vector<Tensor>* outs) {
  const OpInfo* op = FindOp(n.domain, n.op_type, n.opset);
  if (op == nullptr) return false;
  std::vector<RtValue> in_values(n.inputs.size());
  std::vector<const RtValue*> in_ptrs;
  std::vector<const Tensor*> constants;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] < 0) {
      in_ptrs.push_back(nullptr);
      constants.push_back(nullptr);
      continue;
    }
    const Tensor& t = g.values[static_cast<size_t>(n.inputs[i])].initializer;
    in_values[i] = t;
    in_ptrs.push_back(&in_values[i]);
    constants.push_back(&t);
  }
  std::shared_ptr<const PreparedState> prepared;
  if (PrepareFn prepare = FindPrepare(n.domain, n.op_type)) {
    auto r = prepare(PrepareContext(n, constants, nullptr));
    if (!r.ok()) return false;
    prepared = std::move(r).value();
  }
  std::vector<RtValue> out_values(n.outputs.size());
  KernelContext ctx(n, in_ptrs, &out_values, nullptr, 0, nullptr);
  ctx.set_prepared(prepared.get());
  if (!op->kernel(ctx).ok()) return false;
  outs->clear();
  for (size_t o = 0; o < n.outputs.size(); ++o) {
    if (n.outputs[o] < 0) {
      outs->emplace_back();
      continue;
    }
    if (!IsTensor(out_values[o])) return false;
    const Tensor& t = std::get<Tensor>(out_values[o]);
    if (static_cast<int64_t>(t.nbytes()) > kMaxFoldBytes) return false;
    outs->push_back(t);
  }
  return true;
}

}  // namespace

Result<int64_t> FoldConstants(Graph* g) {
  int64_t folded = 0;
  std::vector<bool> remove(g->nodes.size(), false);
  for (Node& n : g->nodes) {
    if (IsRandomOp(n) || HasSubgraph(n) || n.outputs.empty()) continue;
    // Outputs keep their values (now initializers), so readers by name from subgraphs still find them.
    std::vector<Tensor> outs;
    const bool shape_like = (n.op_type == "Shape" || n.op_type == "Size") && n.domain.empty() && n.inputs.size() == 1;
    Shape static_shape;
    if (shape_like && !IsConstant(*g, n.inputs[0]) && StaticShape(*g, n.inputs[0], &static_shape)) {
      Tensor t;
      if (n.op_type == "Shape") FoldShapeOf(n, static_shape, &t);
      else t = Tensor::Scalar<int64_t>(NumElements(static_shape));
      outs.push_back(std::move(t));
    } else {
      bool all_constant = true;
      for (int in : n.inputs) all_constant = all_constant && (in < 0 || IsConstant(*g, in));
      if (!all_constant) continue;
      IDEM_ASSIGN_OR_RETURN(bool ok, Evaluate(*g, n, &outs));
      if (!ok) continue;
    }
    for (size_t o = 0; o < n.outputs.size(); ++o) {
      if (n.outputs[o] < 0) continue;
      Value& v = g->values[static_cast<size_t>(n.outputs[o])];
      v.has_initializer = true;
      v.initializer = outs[o];
      v.producer = -1;
      v.type.kind = ValueType::Kind::kTensor;
      v.type.elem = outs[o].dtype();
      v.type.has_shape = true;
      v.type.dims.clear();
      for (int64_t d : outs[o].shape()) v.type.dims.push_back(Dim{d, ""});
    }
    remove[static_cast<size_t>(n.index)] = true;
    ++folded;
  }
  if (folded == 0) return int64_t{0};
  Rewriter rw(g);
  for (size_t i = 0; i < remove.size(); ++i)
    if (remove[i]) rw.Remove(static_cast<int>(i));
  IDEM_RETURN_IF_ERROR(rw.Commit());
  return folded;
}

}  // namespace idem::passes
