// Expansion of ai.onnx.preview.training Gradient nodes by reverse-mode differentiation.
//
// For a node Gradient<xs, zs, y>(inputs...), the forward cone of `y` (nodes between the values named
// in xs/zs and y) is differentiated node by node in reverse topological order, seeded with
// dy = ones like y. Every backward step is an ordinary ai.onnx node (Add, Mul, MatMul, ReduceSum,
// Reshape, ...), so the executor needs no training kernel and every gradient is computed by the same
// deterministic kernels as inference. The Gradient node is removed; each of its outputs becomes the
// output of an Identity node reading the computed gradient, so consumers and graph outputs keep
// their value indices.
//
// If the Gradient node's inputs are not the very values named in xs/zs (the op allows evaluating
// the gradient at other points), the forward cone is first cloned with those inputs substituted.
// Contributions to a value used several times are summed in a fixed order (the order of the
// forward nodes), which keeps the expansion — and its results — deterministic.
#include "onnx/gradient.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace idem {
namespace {

constexpr const char* kTrainingDomain = "ai.onnx.preview.training";

bool IsGradientNode(const Node& n) { return n.op_type == "Gradient" && n.domain == kTrainingDomain; }

// Forward ops the expansion differentiates (Backward below has a rule for each).
const std::set<std::string> kDifferentiable = {"Add",    "Sub",       "Mul",     "Div",       "Neg",
                                               "Identity", "MatMul",  "Relu",    "Sigmoid",   "Tanh",
                                               "Exp",    "Sum",       "Reshape", "Flatten",   "Squeeze",
                                               "Unsqueeze", "Transpose"};
// Ops whose outputs do not depend differentiably on their inputs: no gradient flows back.
const std::set<std::string> kNonDifferentiable = {
    "Shape", "Size", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Not", "And", "Or", "Xor",
    "NonZero", "Sign", "ConstantOfShape", "Constant", "ArgMax", "ArgMin", "Floor", "Ceil", "Round", "IsNaN", "IsInf"};

// What is statically known about a value: its element type and, if has_rank, its dims (a dim is
// known if value >= 0, or symbolically equal to another dim with the same non-empty symbol).
struct Info {
  DType dtype = DType::kUndefined;
  bool has_rank = false;
  std::vector<Dim> dims;

  bool FullyKnown() const {
    if (!has_rank) return false;
    for (const Dim& d : dims)
      if (d.value < 0) return false;
    return true;
  }
  Shape KnownShape() const {
    Shape s;
    for (const Dim& d : dims) s.push_back(d.value);
    return s;
  }
  int64_t rank() const { return static_cast<int64_t>(dims.size()); }
};

bool SameDim(const Dim& a, const Dim& b) {
  if (a.value >= 0 || b.value >= 0) return a.value == b.value;
  return !a.symbol.empty() && a.symbol == b.symbol;
}

bool SameDims(const Info& a, const Info& b) {
  if (!a.has_rank || !b.has_rank || a.dims.size() != b.dims.size()) return false;
  for (size_t i = 0; i < a.dims.size(); ++i)
    if (!SameDim(a.dims[i], b.dims[i])) return false;
  return true;
}

Dim BroadcastDim(const Dim& a, const Dim& b) {
  if (a.value == 1) return b;
  if (b.value == 1) return a;
  if (a.value >= 0) return a;
  if (b.value >= 0) return b;
  if (SameDim(a, b)) return a;
  return Dim{};
}

Info BroadcastInfo(const std::vector<Info>& in) {
  Info out;
  for (const Info& i : in)
    if (out.dtype == DType::kUndefined) out.dtype = i.dtype;
  for (const Info& i : in)
    if (!i.has_rank) return out;
  size_t rank = 0;
  for (const Info& i : in) rank = std::max(rank, i.dims.size());
  out.has_rank = true;
  out.dims.assign(rank, Dim{1, ""});
  for (const Info& i : in) {
    const size_t off = rank - i.dims.size();
    for (size_t d = 0; d < i.dims.size(); ++d) out.dims[off + d] = BroadcastDim(out.dims[off + d], i.dims[d]);
  }
  return out;
}

// A tensor of `dtype` and `shape` with every element equal to v.
Result<Tensor> Filled(DType dtype, const Shape& shape, double v) {
  IDEM_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, shape));
  IDEM_RETURN_IF_ERROR(VisitDType<types::kNumeric>(dtype, "Gradient", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    const T x = Store<T>(static_cast<ComputeT<T>>(v));
    for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = x;
    return Status::Ok();
  }));
  return t;
}

Attribute IntsAttr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}
Attribute IntAttr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}
Attribute TensorAttr(Tensor t) {
  Attribute a;
  a.kind = Attribute::Kind::kTensor;
  a.t = std::move(t);
  return a;
}

// Names of enclosing-scope values a subgraph (and its nested subgraphs) reads.
void CollectOuterNames(const Graph& sub, std::set<std::string>* names) {
  for (const Value& v : sub.values)
    if (v.outer_scope) names->insert(v.name);
  for (const Node& n : sub.nodes)
    for (const auto& [key, a] : n.attributes) {
      if (a.g) CollectOuterNames(*a.g, names);
      for (const auto& sg : a.graphs)
        if (sg) CollectOuterNames(*sg, names);
    }
}

// Reorders g.nodes topologically (stable: keeps the current order where valid), dropping the
// nodes flagged in `drop`, and refreshes Node::index and Value::producer.
Status SortNodes(Graph& g, const std::vector<bool>& drop) {
  const size_t n = g.nodes.size();
  std::vector<int> producer(g.values.size(), -1);
  for (size_t i = 0; i < n; ++i) {
    if (drop[i]) continue;
    for (int o : g.nodes[i].outputs)
      if (o >= 0) producer[static_cast<size_t>(o)] = static_cast<int>(i);
  }
  std::vector<std::vector<int>> users(n);
  std::vector<int> pending(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (drop[i]) continue;
    std::set<int> deps;
    for (int v : g.nodes[i].inputs)
      if (v >= 0 && producer[static_cast<size_t>(v)] >= 0) deps.insert(producer[static_cast<size_t>(v)]);
    std::set<std::string> outer;
    for (const auto& [key, a] : g.nodes[i].attributes) {
      if (a.g) CollectOuterNames(*a.g, &outer);
      for (const auto& sg : a.graphs)
        if (sg) CollectOuterNames(*sg, &outer);
    }
    for (const std::string& name : outer) {
      const int v = g.FindValue(name);
      if (v >= 0 && producer[static_cast<size_t>(v)] >= 0) deps.insert(producer[static_cast<size_t>(v)]);
    }
    deps.erase(static_cast<int>(i));
    pending[i] = static_cast<int>(deps.size());
    for (int d : deps) users[static_cast<size_t>(d)].push_back(static_cast<int>(i));
  }
  std::set<int> ready;
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    if (drop[i]) continue;
    ++kept;
    if (pending[i] == 0) ready.insert(static_cast<int>(i));
  }
  std::vector<Node> order;
  order.reserve(kept);
  while (!ready.empty()) {
    const int i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(std::move(g.nodes[static_cast<size_t>(i)]));
    for (int u : users[static_cast<size_t>(i)])
      if (--pending[static_cast<size_t>(u)] == 0) ready.insert(u);
  }
  if (order.size() != kept) return InvalidModel("graph '", g.name, "': the expanded Gradient nodes form a cycle");
  g.nodes = std::move(order);
  for (Value& v : g.values) v.producer = -1;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    g.nodes[i].index = static_cast<int>(i);
    for (int o : g.nodes[i].outputs)
      if (o >= 0) g.values[static_cast<size_t>(o)].producer = static_cast<int>(i);
  }
  return Status::Ok();
}

class GradientExpander {
 public:
  GradientExpander(Graph& g, Node grad) : g_(g), grad_(std::move(grad)) {
    auto it = g_.opsets.find("");
    opset_ = it == g_.opsets.end() ? 1 : it->second;
    prefix_ = (grad_.name.empty() ? StrCat("Gradient_", grad_.index) : grad_.name) + "/grad";
  }

  Status Expand();

 private:
  Graph& g_;
  Node grad_;
  int opset_ = 1;
  std::string prefix_;
  int counter_ = 0;
  std::map<int, Info> info_;  // statically known types, by value index
  std::map<int, int> sub_;    // forward value -> the value at the Gradient's evaluation point
  std::map<int, int> grad_of_;  // forward value -> accumulated gradient value

  std::string Where() const { return grad_.Describe(); }

  Info InfoOf(int v) {
    auto it = info_.find(v);
    if (it != info_.end()) return it->second;
    Info i;
    const ValueType& t = g_.values[static_cast<size_t>(v)].type;
    if (t.kind == ValueType::Kind::kTensor || t.kind == ValueType::Kind::kUnknown) {
      i.dtype = t.elem;
      i.has_rank = t.kind == ValueType::Kind::kTensor && t.has_shape;
      if (i.has_rank) i.dims = t.dims;
    }
    return i;
  }
  int S(int v) const {
    auto it = sub_.find(v);
    return it == sub_.end() ? v : it->second;
  }

  int NewValue(const Info& info) {
    std::string name;
    do {
      name = StrCat(prefix_, "/", counter_++);
    } while (g_.FindValue(name) >= 0);
    Value v;
    v.name = name;
    if (info.dtype != DType::kUndefined || info.has_rank) {
      v.type.kind = ValueType::Kind::kTensor;
      v.type.elem = info.dtype;
      v.type.has_shape = info.has_rank;
      v.type.dims = info.dims;
    }
    const int id = g_.AddValue(std::move(v));
    info_[id] = info;
    return id;
  }

  // Adds a single-output ai.onnx node and returns its output value.
  int Emit(const std::string& op, std::vector<int> inputs, std::map<std::string, Attribute> attrs, const Info& out) {
    Node n;
    n.op_type = op;
    n.domain = "";
    n.opset = opset_;
    n.inputs = std::move(inputs);
    n.attributes = std::move(attrs);
    n.provenance = {grad_.name};
    const int v = NewValue(out);
    n.name = g_.values[static_cast<size_t>(v)].name;
    n.outputs = {v};
    g_.AddNode(std::move(n));
    return v;
  }

  int Constant(Tensor t) {
    Info i;
    i.dtype = t.dtype();
    i.has_rank = true;
    for (int64_t d : t.shape()) i.dims.push_back(Dim{d, ""});
    return Emit("Constant", {}, {{"value", TensorAttr(std::move(t))}}, i);
  }
  int ConstI64(const std::vector<int64_t>& v) {
    return Constant(Tensor::FromVector<int64_t>(v, {static_cast<int64_t>(v.size())}));
  }
  Result<int> Scalar(DType dt, double v) {
    IDEM_ASSIGN_OR_RETURN(Tensor t, Filled(dt, {}, v));
    return Constant(std::move(t));
  }
  Result<DType> DTypeOf(int v) {
    const DType dt = InfoOf(v).dtype;
    if (!IsFloat(dt) && !IsInt(dt))
      return Unsupported(Where(), ": the element type of '", g_.values[static_cast<size_t>(v)].name,
                         "' is not known (or not numeric), so its gradient cannot be built");
    return dt;
  }
  // A tensor like value v filled with `fill`.
  Result<int> FilledLike(int v, double fill) {
    IDEM_ASSIGN_OR_RETURN(DType dt, DTypeOf(v));
    const Info i = InfoOf(v);
    if (i.FullyKnown()) {
      IDEM_ASSIGN_OR_RETURN(Tensor t, Filled(dt, i.KnownShape(), fill));
      return Constant(std::move(t));
    }
    IDEM_ASSIGN_OR_RETURN(Tensor one, Filled(dt, {1}, fill));
    Info si{DType::kI64, true, {Dim{i.has_rank ? i.rank() : -1, ""}}};
    if (!i.has_rank) si.has_rank = false;
    const int shape = Emit("Shape", {v}, {}, si);
    Info out = i;
    out.dtype = dt;
    return Emit("ConstantOfShape", {shape}, {{"value", TensorAttr(std::move(one))}}, out);
  }

  int ReduceSum(int x, const std::vector<int64_t>& axes, bool keepdims, const Info& out) {
    if (axes.empty()) return x;
    if (opset_ < 13) return Emit("ReduceSum", {x}, {{"axes", IntsAttr(axes)}, {"keepdims", IntAttr(keepdims)}}, out);
    const int a = ConstI64(axes);
    return Emit("ReduceSum", {x, a}, {{"keepdims", IntAttr(keepdims)}}, out);
  }
  int Unsqueeze(int x, int64_t axis, const Info& out) {
    if (opset_ < 13) return Emit("Unsqueeze", {x}, {{"axes", IntsAttr({axis})}}, out);
    const int a = ConstI64({axis});
    return Emit("Unsqueeze", {x, a}, {}, out);
  }
  int Transpose2(int x, int64_t rank, const Info& out) {
    std::vector<int64_t> perm;
    for (int64_t i = 0; i < rank; ++i) perm.push_back(i);
    std::swap(perm[static_cast<size_t>(rank - 2)], perm[static_cast<size_t>(rank - 1)]);
    return Emit("Transpose", {x}, {{"perm", IntsAttr(perm)}}, out);
  }
  int Binary(const std::string& op, int a, int b, const Info& out) { return Emit(op, {a, b}, {}, out); }

  // Reduces gradient `gv` (of the broadcast shape `gi`) to the shape of forward value `target`.
  Result<int> Unbroadcast(int gv, const Info& gi, int target);
  // Adds `contribution` to the gradient of forward value v.
  void Accumulate(int v, int contribution) {
    auto it = grad_of_.find(v);
    if (it == grad_of_.end()) {
      grad_of_[v] = contribution;
      return;
    }
    it->second = Binary("Add", it->second, contribution, InfoOf(S(v)));
  }
  Status Backward(const Node& n, const std::vector<bool>& active_in);
  Status BackwardMatMul(const Node& n, int gy, const std::vector<bool>& active_in);
  void InferForward(const Node& n);
};

Result<int> GradientExpander::Unbroadcast(int gv, const Info& gi, int target) {
  const Info ti = InfoOf(S(target));
  if (SameDims(gi, ti)) return gv;
  if (gi.FullyKnown() && ti.FullyKnown()) {
    const int64_t lead = gi.rank() - ti.rank();
    if (lead < 0)
      return InvalidModel(Where(), ": a gradient of rank ", gi.rank(), " cannot be reduced to rank ", ti.rank());
    std::vector<int64_t> axes;
    for (int64_t a = 0; a < lead; ++a) axes.push_back(a);
    for (int64_t d = 0; d < ti.rank(); ++d)
      if (ti.dims[static_cast<size_t>(d)].value == 1 && gi.dims[static_cast<size_t>(lead + d)].value != 1)
        axes.push_back(lead + d);
    if (axes.empty()) return gv;
    Info kept = gi;
    for (int64_t a : axes) kept.dims[static_cast<size_t>(a)] = Dim{1, ""};
    const int r = ReduceSum(gv, axes, true, kept);
    if (lead == 0) return r;
    const int shape = ConstI64(ti.KnownShape());
    return Emit("Reshape", {r, shape}, {}, ti);
  }
  if (opset_ < 13)
    return Unsupported(Where(), ": reducing a broadcast gradient to the shape of '",
                       g_.values[static_cast<size_t>(target)].name,
                       "' needs static shapes at ai.onnx opset < 13 (its shape is not fully known)");
  // Dynamic: reduce over every axis where the target, left-padded with ones, has extent 1.
  const Info i64v{DType::kI64, false, {}};
  const int sx = Emit("Shape", {S(target)}, {}, i64v);
  const int sy = Emit("Shape", {gv}, {}, i64v);
  const int rx = Emit("Shape", {sx}, {}, i64v);
  const int ry = Emit("Shape", {sy}, {}, i64v);
  const int pad = Binary("Sub", ry, rx, i64v);
  const int ones = Emit("ConstantOfShape", {pad}, {{"value", TensorAttr(Tensor::FromVector<int64_t>({1}, {1}))}}, i64v);
  const int padded = Emit("Concat", {ones, sx}, {{"axis", IntAttr(0)}}, i64v);
  const int one = Constant(Tensor::Scalar<int64_t>(1));
  const int is_one = Binary("Equal", padded, one, Info{DType::kBool, false, {}});
  const int nz = Emit("NonZero", {is_one}, {}, i64v);
  const int flat = Emit("Reshape", {nz, ConstI64({-1})}, {}, i64v);
  Info red = gi;
  red.has_rank = false;
  const int r = Emit("ReduceSum", {gv, flat}, {{"keepdims", IntAttr(1)}, {"noop_with_empty_axes", IntAttr(1)}}, red);
  return Emit("Reshape", {r, sx}, {}, ti);
}

// Fills in static types of a forward node's outputs that shape inference left unknown.
void GradientExpander::InferForward(const Node& n) {
  if (n.outputs.empty() || n.outputs[0] < 0) return;
  const int out = n.outputs[0];
  const Info cur = InfoOf(out);
  if (cur.has_rank && cur.dtype != DType::kUndefined) return;
  std::vector<Info> in;
  for (int v : n.inputs) in.push_back(v >= 0 ? InfoOf(v) : Info{});
  Info r;
  const std::string& op = n.op_type;
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Sum" || op == "Max" || op == "Min") {
    r = BroadcastInfo(in);
  } else if (op == "Neg" || op == "Identity" || op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "Exp") {
    if (!in.empty()) r = in[0];
  } else if (op == "MatMul" && in.size() == 2) {
    r.dtype = in[0].dtype;
    const Info& a = in[0];
    const Info& b = in[1];
    if (a.has_rank && b.has_rank && a.rank() >= 1 && b.rank() >= 1) {
      Info ab, bb;  // batch parts
      ab.has_rank = bb.has_rank = true;
      if (a.rank() > 2) ab.dims.assign(a.dims.begin(), a.dims.end() - 2);
      if (b.rank() > 2) bb.dims.assign(b.dims.begin(), b.dims.end() - 2);
      r = BroadcastInfo({ab, bb});
      r.dtype = in[0].dtype;
      if (a.rank() >= 2) r.dims.push_back(a.dims[a.dims.size() - 2]);
      if (b.rank() >= 2) r.dims.push_back(b.dims.back());
    }
  } else {
    return;
  }
  if (cur.dtype != DType::kUndefined) r.dtype = cur.dtype;
  if (cur.has_rank) { r.has_rank = true; r.dims = cur.dims; }
  info_[out] = r;
}

Status GradientExpander::BackwardMatMul(const Node& n, int gy, const std::vector<bool>& active_in) {
  const int a = S(n.inputs[0]);
  const int b = S(n.inputs[1]);
  const Info ai = InfoOf(a);
  const Info bi = InfoOf(b);
  const Info yi = InfoOf(S(n.outputs[0]));
  if (!ai.has_rank || !bi.has_rank || ai.rank() < 1 || bi.rank() < 1)
    return Unsupported(Where(), ": the gradient of ", n.Describe(), " needs the ranks of its inputs");
  const int64_t ra = ai.rank();
  const int64_t rb = bi.rank();
  Info unknown;
  unknown.dtype = ai.dtype;
  if (ra == 1 && rb == 1) {  // y = sum_k a[k] b[k]
    if (active_in[0]) Accumulate(n.inputs[0], Binary("Mul", gy, b, bi));
    if (active_in[1]) Accumulate(n.inputs[1], Binary("Mul", gy, a, ai));
    return Status::Ok();
  }
  if (ra == 1) {  // a as [1, K]; y has no M axis
    const int64_t ry = yi.has_rank ? yi.rank() : rb - 1;
    const int gy2 = Unsqueeze(gy, ry - 1, unknown);  // ... [1, N]
    if (active_in[0]) {
      const int bt = Transpose2(b, rb, unknown);
      const int full = Binary("MatMul", gy2, bt, unknown);  // ... [1, K], rank rb
      std::vector<int64_t> axes;
      for (int64_t i = 0; i + 1 < rb; ++i) axes.push_back(i);
      Accumulate(n.inputs[0], ReduceSum(full, axes, false, ai));
    }
    if (active_in[1]) {
      const int a2 = Unsqueeze(a, 1, unknown);  // [K, 1]
      const int full = Binary("MatMul", a2, gy2, unknown);  // ... [K, N]
      Info fi = yi;
      if (fi.has_rank) fi.dims.insert(fi.dims.end() - 1, ai.dims[0]);
      IDEM_ASSIGN_OR_RETURN(int gb, Unbroadcast(full, fi, n.inputs[1]));
      Accumulate(n.inputs[1], gb);
    }
    return Status::Ok();
  }
  if (rb == 1) {  // b as [K, 1]; y has no N axis
    const int64_t ry = yi.has_rank ? yi.rank() : ra - 1;
    const int gy2 = Unsqueeze(gy, ry, unknown);  // ... [M, 1]
    if (active_in[0]) {
      const int b2 = Unsqueeze(b, 0, unknown);  // [1, K]
      const int full = Binary("MatMul", gy2, b2, unknown);  // ... [M, K]
      Info fi = yi;
      if (fi.has_rank) fi.dims.push_back(bi.dims[0]);
      IDEM_ASSIGN_OR_RETURN(int ga, Unbroadcast(full, fi, n.inputs[0]));
      Accumulate(n.inputs[0], ga);
    }
    if (active_in[1]) {
      const int at = Transpose2(a, ra, unknown);
      const int full = Binary("MatMul", at, gy2, unknown);  // ... [K, 1], rank ra
      std::vector<int64_t> axes;
      for (int64_t i = 0; i < ra; ++i)
        if (i != ra - 2) axes.push_back(i);
      Accumulate(n.inputs[1], ReduceSum(full, axes, false, bi));
    }
    return Status::Ok();
  }
  if (active_in[0]) {
    const int bt = Transpose2(b, rb, unknown);
    const int full = Binary("MatMul", gy, bt, unknown);  // batch + [M, K]
    Info fi = yi;
    if (fi.has_rank) fi.dims.back() = ai.dims.back();
    IDEM_ASSIGN_OR_RETURN(int ga, Unbroadcast(full, fi, n.inputs[0]));
    Accumulate(n.inputs[0], ga);
  }
  if (active_in[1]) {
    const int at = Transpose2(a, ra, unknown);
    const int full = Binary("MatMul", at, gy, unknown);  // batch + [K, N]
    Info fi = yi;
    if (fi.has_rank) fi.dims[fi.dims.size() - 2] = bi.dims[bi.dims.size() - 2];
    IDEM_ASSIGN_OR_RETURN(int gb, Unbroadcast(full, fi, n.inputs[1]));
    Accumulate(n.inputs[1], gb);
  }
  return Status::Ok();
}

Status GradientExpander::Backward(const Node& n, const std::vector<bool>& active_in) {
  const std::string& op = n.op_type;
  if (kNonDifferentiable.count(op)) return Status::Ok();
  if (n.outputs.size() != 1 || n.outputs[0] < 0)
    return Unsupported(Where(), ": cannot differentiate ", n.Describe(), " (unsupported operator in the forward graph)");
  auto git = grad_of_.find(n.outputs[0]);
  if (git == grad_of_.end()) return Status::Ok();  // y does not depend on this node's output
  const int gy = git->second;
  const int y = S(n.outputs[0]);
  const Info yi = InfoOf(y);
  auto in = [&](size_t i) { return S(n.inputs[i]); };
  auto need = [&](size_t i) { return i < active_in.size() && active_in[i]; };
  auto to_input = [&](size_t i, int g, const Info& gi) -> Status {
    IDEM_ASSIGN_OR_RETURN(int r, Unbroadcast(g, gi, n.inputs[i]));
    Accumulate(n.inputs[i], r);
    return Status::Ok();
  };
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (n.inputs[i] < 0 && need(i)) return Internal(Where(), ": an omitted input is active");

  if (op == "Add" || op == "Sum") {
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (need(i)) IDEM_RETURN_IF_ERROR(to_input(i, gy, yi));
    return Status::Ok();
  }
  if (op == "Sub") {
    if (need(0)) IDEM_RETURN_IF_ERROR(to_input(0, gy, yi));
    if (need(1)) IDEM_RETURN_IF_ERROR(to_input(1, Emit("Neg", {gy}, {}, yi), yi));
    return Status::Ok();
  }
  if (op == "Mul") {
    if (need(0)) IDEM_RETURN_IF_ERROR(to_input(0, Binary("Mul", gy, in(1), yi), yi));
    if (need(1)) IDEM_RETURN_IF_ERROR(to_input(1, Binary("Mul", gy, in(0), yi), yi));
    return Status::Ok();
  }
  if (op == "Div") {  // y = a / b: da = dy / b, db = -dy * y / b
    if (need(0)) IDEM_RETURN_IF_ERROR(to_input(0, Binary("Div", gy, in(1), yi), yi));
    if (need(1)) {
      const int q = Binary("Div", y, in(1), yi);
      const int p = Binary("Mul", gy, q, yi);
      IDEM_RETURN_IF_ERROR(to_input(1, Emit("Neg", {p}, {}, yi), yi));
    }
    return Status::Ok();
  }
  if (!need(0)) return Status::Ok();
  if (op == "Identity") {
    Accumulate(n.inputs[0], gy);
    return Status::Ok();
  }
  if (op == "Neg") {
    Accumulate(n.inputs[0], Emit("Neg", {gy}, {}, yi));
    return Status::Ok();
  }
  if (op == "Exp") {  // dx = dy * y
    Accumulate(n.inputs[0], Binary("Mul", gy, y, yi));
    return Status::Ok();
  }
  if (op == "Relu") {  // dx = dy where y > 0, else 0
    IDEM_ASSIGN_OR_RETURN(DType dt, DTypeOf(y));
    IDEM_ASSIGN_OR_RETURN(int zero, Scalar(dt, 0.0));
    Info bi = yi;
    bi.dtype = DType::kBool;
    const int pos = Binary("Greater", y, zero, bi);
    Accumulate(n.inputs[0], Emit("Where", {pos, gy, zero}, {}, yi));
    return Status::Ok();
  }
  if (op == "Sigmoid") {  // dx = dy * (y * (1 - y))
    IDEM_ASSIGN_OR_RETURN(DType dt, DTypeOf(y));
    IDEM_ASSIGN_OR_RETURN(int one, Scalar(dt, 1.0));
    const int d = Binary("Mul", y, Binary("Sub", one, y, yi), yi);
    Accumulate(n.inputs[0], Binary("Mul", gy, d, yi));
    return Status::Ok();
  }
  if (op == "Tanh") {  // dx = dy * (1 - y * y)
    IDEM_ASSIGN_OR_RETURN(DType dt, DTypeOf(y));
    IDEM_ASSIGN_OR_RETURN(int one, Scalar(dt, 1.0));
    const int d = Binary("Sub", one, Binary("Mul", y, y, yi), yi);
    Accumulate(n.inputs[0], Binary("Mul", gy, d, yi));
    return Status::Ok();
  }
  if (op == "MatMul") return BackwardMatMul(n, gy, active_in);
  if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze") {  // dx = dy reshaped like x
    const int shape = Emit("Shape", {in(0)}, {}, Info{DType::kI64, false, {}});
    Accumulate(n.inputs[0], Emit("Reshape", {gy, shape}, {}, InfoOf(in(0))));
    return Status::Ok();
  }
  if (op == "Transpose") {  // dx = dy transposed by the inverse permutation
    const Info xi = InfoOf(in(0));
    std::vector<int64_t> perm;
    if (const Attribute* p = n.FindAttribute("perm")) {
      perm = p->ints;
    } else {
      if (!xi.has_rank) return Unsupported(Where(), ": the gradient of ", n.Describe(), " needs the input's rank");
      for (int64_t i = xi.rank(); i-- > 0;) perm.push_back(i);
    }
    std::vector<int64_t> inv(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) {
      if (perm[i] < 0 || perm[i] >= static_cast<int64_t>(perm.size()))
        return InvalidModel(n.Describe(), ": perm entry ", perm[i], " is out of range");
      inv[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
    }
    Accumulate(n.inputs[0], Emit("Transpose", {gy}, {{"perm", IntsAttr(inv)}}, xi));
    return Status::Ok();
  }
  return Unsupported(Where(), ": cannot differentiate through ", n.Describe(),
                     ": operator ", op, " is not supported by the Gradient expansion");
}

Status GradientExpander::Expand() {
  const Attribute* xs_a = grad_.FindAttribute("xs");
  const Attribute* y_a = grad_.FindAttribute("y");
  if (!xs_a || xs_a->kind != Attribute::Kind::kStrings || !y_a || y_a->kind != Attribute::Kind::kString)
    return InvalidModel(Where(), ": attributes 'xs' (strings) and 'y' (string) are required");
  std::vector<std::string> names = xs_a->strings;
  const size_t nx = names.size();
  if (const Attribute* zs_a = grad_.FindAttribute("zs"); zs_a && zs_a->kind == Attribute::Kind::kStrings)
    names.insert(names.end(), zs_a->strings.begin(), zs_a->strings.end());
  if (grad_.inputs.size() != names.size())
    return InvalidModel(Where(), ": has ", grad_.inputs.size(), " inputs but xs and zs name ", names.size(), " tensors");
  if (grad_.outputs.size() > nx)
    return InvalidModel(Where(), ": has ", grad_.outputs.size(), " outputs but xs names only ", nx, " tensors");
  if (opset_ < 9) return Unsupported(Where(), ": Gradient expansion needs ai.onnx opset >= 9, the model uses ", opset_);
  std::vector<int> roots;  // value indices of xs then zs
  for (size_t i = 0; i < names.size(); ++i) {
    const int v = g_.FindValue(names[i]);
    if (v < 0) return InvalidModel(Where(), ": '", names[i], "' named in ", i < nx ? "xs" : "zs", " is not a value of the graph");
    if (grad_.inputs[i] < 0) return InvalidModel(Where(), ": input ", i, " is missing");
    roots.push_back(v);
  }
  const int y = g_.FindValue(y_a->s);
  if (y < 0) return InvalidModel(Where(), ": y '", y_a->s, "' is not a value of the graph");
  const std::set<int> root_set(roots.begin(), roots.end());

  // The forward cone: nodes on which y depends, not looking past the xs/zs values.
  std::set<int> cone;
  {
    std::vector<int> stack{y};
    std::set<int> seen;
    while (!stack.empty()) {
      const int v = stack.back();
      stack.pop_back();
      if (!seen.insert(v).second || root_set.count(v)) continue;
      const int p = g_.values[static_cast<size_t>(v)].producer;
      if (p < 0 || IsGradientNode(g_.nodes[static_cast<size_t>(p)])) continue;
      if (cone.insert(p).second)
        for (int in : g_.nodes[static_cast<size_t>(p)].inputs)
          if (in >= 0) stack.push_back(in);
    }
  }
  const std::vector<int> order(cone.begin(), cone.end());  // topological: the graph is sorted

  // Evaluation point: clone the cone where the Gradient's inputs differ from the named values.
  for (size_t i = 0; i < roots.size(); ++i)
    if (grad_.inputs[i] != roots[i]) sub_[roots[i]] = grad_.inputs[i];
  for (int ni : order) {
    const Node& fwd = g_.nodes[static_cast<size_t>(ni)];
    bool changed = false;
    for (int in : fwd.inputs) changed = changed || (in >= 0 && S(in) != in);
    if (!changed) continue;
    Node c = fwd;
    for (int& in : c.inputs)
      if (in >= 0) in = S(in);
    for (int& o : c.outputs) {
      if (o < 0) continue;
      const int nv = NewValue(InfoOf(o));
      g_.values[static_cast<size_t>(nv)].type = g_.values[static_cast<size_t>(o)].type;
      sub_[o] = nv;
      o = nv;
    }
    c.name = StrCat(prefix_, "/", c.name.empty() ? c.op_type : c.name);
    c.provenance = {grad_.name};
    g_.AddNode(std::move(c));
  }

  // Active values: xs, and outputs of cone nodes that read an active value.
  std::set<int> active(roots.begin(), roots.begin() + static_cast<std::ptrdiff_t>(nx));
  std::vector<int> active_nodes;
  for (int ni : order) {
    const Node fwd = g_.nodes[static_cast<size_t>(ni)];
    InferForward(fwd);
    bool any = false;
    for (int in : fwd.inputs) any = any || (in >= 0 && active.count(in));
    if (!any) continue;
    active_nodes.push_back(ni);
    for (int o : fwd.outputs)
      if (o >= 0) active.insert(o);
  }
  // Refuse unsupported forward ops up front, naming them (before any backward node is built).
  for (int ni : active_nodes) {
    const Node& fwd = g_.nodes[static_cast<size_t>(ni)];
    if (!fwd.domain.empty() || (!kDifferentiable.count(fwd.op_type) && !kNonDifferentiable.count(fwd.op_type)))
      return Unsupported(Where(), ": cannot differentiate through ", fwd.Describe(), ": operator ", fwd.op_type,
                         " is not supported by the Gradient expansion");
  }
  // Types of cloned values follow their originals.
  for (const auto& [orig, clone] : sub_)
    if (!info_.count(clone) || !info_[clone].has_rank) info_[clone] = InfoOf(orig);

  if (active.count(y)) {
    IDEM_ASSIGN_OR_RETURN(int seed, FilledLike(S(y), 1.0));
    grad_of_[y] = seed;
    for (auto it = active_nodes.rbegin(); it != active_nodes.rend(); ++it) {
      const Node fwd = g_.nodes[static_cast<size_t>(*it)];  // a copy: Emit grows g_.nodes
      std::vector<bool> active_in;
      for (int in : fwd.inputs) active_in.push_back(in >= 0 && active.count(in) > 0);
      IDEM_RETURN_IF_ERROR(Backward(fwd, active_in));
    }
  }

  for (size_t i = 0; i < grad_.outputs.size(); ++i) {
    const int out = grad_.outputs[i];
    if (out < 0) continue;
    int g;
    auto it = grad_of_.find(roots[i]);
    if (it != grad_of_.end()) {
      g = it->second;
    } else {
      IDEM_ASSIGN_OR_RETURN(g, FilledLike(grad_.inputs[i], 0.0));
    }
    Node id;
    id.op_type = "Identity";
    id.opset = opset_;
    id.name = StrCat(prefix_, "/output_", i);
    id.inputs = {g};
    id.outputs = {out};
    id.provenance = {grad_.name};
    g_.AddNode(std::move(id));
  }
  return Status::Ok();
}

}  // namespace

Status ExpandGradientNodes(Graph& g) {
  for (Node& n : g.nodes)
    for (auto& [key, a] : n.attributes) {
      if (a.g) IDEM_RETURN_IF_ERROR(ExpandGradientNodes(*a.g));
      for (auto& sg : a.graphs)
        if (sg) IDEM_RETURN_IF_ERROR(ExpandGradientNodes(*sg));
    }
  for (;;) {
    int gi = -1;
    for (size_t i = 0; i < g.nodes.size() && gi < 0; ++i)
      if (IsGradientNode(g.nodes[i])) gi = static_cast<int>(i);
    if (gi < 0) return Status::Ok();
    const Node grad = g.nodes[static_cast<size_t>(gi)];
    if (grad.opset != 1)
      return Unsupported("unsupported operator Gradient (domain ", kTrainingDomain, ", opset ", grad.opset,
                         ") at node '", grad.name, "'");
    GradientExpander ex(g, grad);
    IDEM_RETURN_IF_ERROR(ex.Expand());
    std::vector<bool> drop(g.nodes.size(), false);
    drop[static_cast<size_t>(gi)] = true;
    IDEM_RETURN_IF_ERROR(SortNodes(g, drop));
  }
}

}  // namespace idem
