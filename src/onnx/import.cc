#include "onnx/import.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <filesystem>
#include <map>
#include <set>

#include "onnx/functions.h"
#include "onnx/gradient.h"
#include "onnx/tensor_proto.h"

namespace idem {

namespace {

constexpr int kMaxFunctionDepth = 16;
constexpr int kMaxSubgraphDepth = 64;

std::string NormalizeDomain(const std::string& d) { return d == "ai.onnx" ? std::string() : d; }
std::string DomainForMessage(const std::string& d) { return d.empty() ? "ai.onnx" : d; }

// Names visible from a graph: its own values and those of enclosing graphs.
struct Scope {
  const Graph* graph;
  const Scope* parent;
  bool Has(const std::string& name) const {
    for (const Scope* s = this; s != nullptr; s = s->parent)
      if (s->graph->FindValue(name) >= 0) return true;
    return false;
  }
};

// "node 'conv1'", or "node producing 'y'" for unnamed nodes.
std::string NodeRef(const onnx::NodeProto& n) {
  if (!n.name().empty()) return "node '" + n.name() + "'";
  for (const auto& o : n.output())
    if (!o.empty()) return "node producing '" + o + "'";
  return "unnamed node";
}

std::string NodeLabel(const onnx::NodeProto& n, const std::string& domain, int opset) {
  return StrCat(n.op_type(), " ", NodeRef(n), " (", domain.empty() ? "" : domain + " ", "opset ", opset, ")");
}

Result<Tensor> DenseFromSparse(const onnx::SparseTensorProto& sp, const std::string& base_dir) {
  IDEM_ASSIGN_OR_RETURN(Tensor values, TensorFromProto(sp.values(), base_dir));
  IDEM_ASSIGN_OR_RETURN(Tensor indices, TensorFromProto(sp.indices(), base_dir));
  Shape shape(sp.dims().begin(), sp.dims().end());
  IDEM_ASSIGN_OR_RETURN(Tensor dense, Tensor::Create(values.dtype(), shape));
  const std::string what = "sparse tensor '" + sp.values().name() + "'";
  if (values.dtype() == DType::kString) return Unsupported(what, ": sparse string tensors are not supported");
  if (!IsInt(indices.dtype())) return InvalidModel(what, ": indices must be integers");
  const int64_t nnz = values.numel();
  const int64_t total = dense.numel();
  const size_t esize = DTypeSize(values.dtype());
  const bool linear = indices.rank() == 1;
  if (!(linear && indices.numel() == nnz) &&
      !(indices.rank() == 2 && indices.dim(0) == nnz && indices.dim(1) == static_cast<int64_t>(shape.size())))
    return InvalidModel(what, ": indices shape ", ShapeToString(indices.shape()), " does not match ", nnz, " values");
  for (int64_t i = 0; i < nnz; ++i) {
    int64_t lin = 0;
    if (linear) {
      lin = indices.IntAt(i);
    } else {
      for (size_t d = 0; d < shape.size(); ++d) {
        const int64_t idx = indices.IntAt(i * static_cast<int64_t>(shape.size()) + static_cast<int64_t>(d));
        if (idx < 0 || idx >= shape[d]) return InvalidModel(what, ": index out of range");
        lin = lin * shape[d] + idx;
      }
    }
    if (lin < 0 || lin >= total) return InvalidModel(what, ": index ", lin, " out of range");
    std::memcpy(static_cast<char*>(dense.raw()) + lin * esize, static_cast<const char*>(values.raw()) + i * esize, esize);
  }
  return dense;
}

class Importer {
 public:
  Importer(const onnx::ModelProto& model, std::string base_dir, const ImportOptions& options)
      : model_(model), base_dir_(std::move(base_dir)), options_(options) {
    for (const auto& f : model.functions()) local_functions_[{NormalizeDomain(f.domain()), f.name()}] = &f;
  }

  Status Init() {
    if (model_.opset_import_size() == 0) {
      opsets_[""] = 1;  // IR version < 3 models carry no opset import: opset 1
    }
    for (const auto& o : model_.opset_import()) {
      if (o.version() < 1 || o.version() > 1000)
        return InvalidModel("opset_import for domain '", DomainForMessage(o.domain()), "' has invalid version ", o.version());
      opsets_[NormalizeDomain(o.domain())] = static_cast<int>(o.version());
    }
    auto it = opsets_.find("");
    if (it != opsets_.end() && it->second > kMaxOnnxOpset)
      return Unsupported("model uses ai.onnx opset ", it->second, "; idem supports opsets 1 to ", kMaxOnnxOpset);
    for (const auto& vi : model_.graph().value_info()) inferred_types_[vi.name()] = &vi.type();
    for (const auto& vi : model_.graph().output()) inferred_types_[vi.name()] = &vi.type();
    for (const auto& vi : model_.graph().input()) inferred_types_[vi.name()] = &vi.type();
    return Status::Ok();
  }

  const std::map<std::string, int>& opsets() const { return opsets_; }

  Result<std::shared_ptr<Graph>> ConvertGraph(const onnx::GraphProto& gp, const Scope* parent, int depth) {
    if (depth > kMaxSubgraphDepth) return InvalidModel("subgraphs are nested too deeply");
    auto g = std::make_shared<Graph>();
    g->name = gp.name();
    g->opsets = opsets_;
    std::map<std::string, const onnx::TypeProto*> types;
    for (const auto& vi : gp.value_info()) types[vi.name()] = &vi.type();
    for (const auto& vi : gp.output()) types[vi.name()] = &vi.type();

    for (const auto& init : gp.initializer()) {
      if (init.name().empty()) return InvalidModel("graph '", gp.name(), "' has an initializer without a name");
      if (g->FindValue(init.name()) >= 0) return InvalidModel("initializer '", init.name(), "' is defined twice");
      Value v;
      v.name = init.name();
      IDEM_ASSIGN_OR_RETURN(v.initializer, TensorFromProto(init, base_dir_));
      v.has_initializer = true;
      v.type.kind = ValueType::Kind::kTensor;
      v.type.elem = v.initializer.dtype();
      v.type.has_shape = true;
      for (int64_t d : v.initializer.shape()) v.type.dims.push_back(Dim{d, ""});
      g->AddValue(std::move(v));
    }
    for (const auto& sp : gp.sparse_initializer()) {
      Value v;
      v.name = sp.values().name();
      if (v.name.empty() || g->FindValue(v.name) >= 0)
        return InvalidModel("sparse initializer '", v.name, "' has no name or is defined twice");
      IDEM_ASSIGN_OR_RETURN(v.initializer, DenseFromSparse(sp, base_dir_));
      v.has_initializer = true;
      v.type.kind = ValueType::Kind::kTensor;
      v.type.elem = v.initializer.dtype();
      g->AddValue(std::move(v));
    }
    for (const auto& in : gp.input()) {
      if (in.name().empty()) return InvalidModel("graph '", gp.name(), "' has an input without a name");
      int id = g->FindValue(in.name());
      if (id >= 0 && g->values[static_cast<size_t>(id)].is_graph_input)
        return InvalidModel("graph input '", in.name(), "' is declared twice");
      if (id < 0) {
        Value v;
        v.name = in.name();
        id = g->AddValue(std::move(v));
      }
      Value& v = g->values[static_cast<size_t>(id)];
      v.is_graph_input = true;
      if (in.has_type()) v.type = ValueTypeFromProto(in.type());
      g->inputs.push_back(id);
    }

    Scope scope{g.get(), parent};
    IDEM_ASSIGN_OR_RETURN(std::vector<const onnx::NodeProto*> order, TopologicalOrder(gp, scope));
    for (const onnx::NodeProto* np : order)
      IDEM_RETURN_IF_ERROR(ConvertNode(*np, *g, scope, opsets_, {}, depth, 0, types));

    for (const auto& out : gp.output()) {
      int id = g->FindValue(out.name());
      if (id < 0 && parent != nullptr && parent->Has(out.name())) {
        Value v;
        v.name = out.name();
        v.outer_scope = true;
        id = g->AddValue(std::move(v));
      }
      if (id < 0)
        return InvalidModel("graph output '", out.name(), "' is not produced by any node, initializer or input");
      if (out.has_type() && g->values[static_cast<size_t>(id)].type.kind == ValueType::Kind::kUnknown)
        g->values[static_cast<size_t>(id)].type = ValueTypeFromProto(out.type());
      g->outputs.push_back(id);
    }
    return g;
  }

 private:
  static constexpr int kMaxOnnxOpset = 17;

  // Names a node reads, including the free names of its subgraphs.
  static void CollectUses(const onnx::NodeProto& n, std::set<std::string>* uses) {
    for (const auto& i : n.input())
      if (!i.empty()) uses->insert(i);
    for (const auto& a : n.attribute()) {
      auto walk = [&](const onnx::GraphProto& sub) {
        for (const auto& sn : sub.node()) CollectUses(sn, uses);
        for (const auto& o : sub.output()) uses->insert(o.name());
      };
      if (a.has_g()) walk(a.g());
      for (const auto& sub : a.graphs()) walk(sub);
    }
  }

  // Nodes in dependency order (stable: the model's order where it is already valid).
  Result<std::vector<const onnx::NodeProto*>> TopologicalOrder(const onnx::GraphProto& gp, const Scope& scope) {
    const int n = gp.node_size();
    std::map<std::string, int> producer;
    for (int i = 0; i < n; ++i)
      for (const auto& o : gp.node(i).output())
        if (!o.empty()) {
          if (producer.count(o) || scope.graph->FindValue(o) >= 0)
            return InvalidModel("value '", o, "' is produced more than once in graph '", gp.name(), "'");
          producer[o] = i;
        }
    std::vector<std::vector<int>> users(static_cast<size_t>(n));
    std::vector<int> pending(static_cast<size_t>(n), 0);
    for (int i = 0; i < n; ++i) {
      std::set<std::string> uses;
      CollectUses(gp.node(i), &uses);
      std::set<int> deps;
      for (const auto& u : uses) {
        auto it = producer.find(u);
        if (it != producer.end() && it->second != i) deps.insert(it->second);
      }
      pending[static_cast<size_t>(i)] = static_cast<int>(deps.size());
      for (int d : deps) users[static_cast<size_t>(d)].push_back(i);
    }
    std::set<int> ready;
    for (int i = 0; i < n; ++i)
      if (pending[static_cast<size_t>(i)] == 0) ready.insert(i);
    std::vector<const onnx::NodeProto*> order;
    while (!ready.empty()) {
      const int i = *ready.begin();
      ready.erase(ready.begin());
      order.push_back(&gp.node(i));
      for (int u : users[static_cast<size_t>(i)])
        if (--pending[static_cast<size_t>(u)] == 0) ready.insert(u);
    }
    if (static_cast<int>(order.size()) != n) return InvalidModel("graph '", gp.name(), "' contains a cycle");
    return order;
  }

  Result<Attribute> ConvertAttribute(const onnx::AttributeProto& a, const Graph& g, const Scope& scope, int depth) {
    Attribute at;
    using AP = onnx::AttributeProto;
    switch (a.type()) {
      case AP::FLOAT: at.kind = Attribute::Kind::kFloat; at.f = a.f(); break;
      case AP::INT: at.kind = Attribute::Kind::kInt; at.i = a.i(); break;
      case AP::STRING: at.kind = Attribute::Kind::kString; at.s = a.s(); break;
      case AP::TENSOR: {
        at.kind = Attribute::Kind::kTensor;
        IDEM_ASSIGN_OR_RETURN(at.t, TensorFromProto(a.t(), base_dir_));
        break;
      }
      case AP::SPARSE_TENSOR: {
        at.kind = Attribute::Kind::kTensor;
        IDEM_ASSIGN_OR_RETURN(at.t, DenseFromSparse(a.sparse_tensor(), base_dir_));
        break;
      }
      case AP::GRAPH: {
        at.kind = Attribute::Kind::kGraph;
        IDEM_ASSIGN_OR_RETURN(at.g, ConvertGraph(a.g(), &scope, depth + 1));
        break;
      }
      case AP::FLOATS: at.kind = Attribute::Kind::kFloats; at.floats.assign(a.floats().begin(), a.floats().end()); break;
      case AP::INTS: at.kind = Attribute::Kind::kInts; at.ints.assign(a.ints().begin(), a.ints().end()); break;
      case AP::STRINGS: at.kind = Attribute::Kind::kStrings; at.strings.assign(a.strings().begin(), a.strings().end()); break;
      case AP::TENSORS:
        at.kind = Attribute::Kind::kTensors;
        for (const auto& t : a.tensors()) {
          IDEM_ASSIGN_OR_RETURN(Tensor tt, TensorFromProto(t, base_dir_));
          at.tensors.push_back(std::move(tt));
        }
        break;
      case AP::GRAPHS:
        at.kind = Attribute::Kind::kGraphs;
        for (const auto& sub : a.graphs()) {
          IDEM_ASSIGN_OR_RETURN(auto sg, ConvertGraph(sub, &scope, depth + 1));
          at.graphs.push_back(std::move(sg));
        }
        break;
      case AP::TYPE_PROTO: at.kind = Attribute::Kind::kType; at.type = ValueTypeFromProto(a.tp()); break;
      case AP::SPARSE_TENSORS:
      case AP::TYPE_PROTOS:
        return Unsupported("attribute '", a.name(), "' has a type idem does not support");
      default: {
        // Untyped (IR < 3) attributes: infer from the populated field.
        if (a.has_f()) { at.kind = Attribute::Kind::kFloat; at.f = a.f(); }
        else if (a.has_i()) { at.kind = Attribute::Kind::kInt; at.i = a.i(); }
        else if (a.has_s()) { at.kind = Attribute::Kind::kString; at.s = a.s(); }
        else if (a.has_t()) { at.kind = Attribute::Kind::kTensor; IDEM_ASSIGN_OR_RETURN(at.t, TensorFromProto(a.t(), base_dir_)); }
        else if (a.floats_size()) { at.kind = Attribute::Kind::kFloats; at.floats.assign(a.floats().begin(), a.floats().end()); }
        else if (a.ints_size()) { at.kind = Attribute::Kind::kInts; at.ints.assign(a.ints().begin(), a.ints().end()); }
        else if (a.strings_size()) { at.kind = Attribute::Kind::kStrings; at.strings.assign(a.strings().begin(), a.strings().end()); }
        else return InvalidModel("attribute '", a.name(), "' has no type");
        break;
      }
    }
    (void)g;
    return at;
  }

  // Arity, required inputs and attribute types against the ONNX schema, so kernels can rely on
  // them and a malformed node is refused at load with a message naming it.
  static Status CheckAgainstSchema(const onnx::NodeProto& np, const onnx::OpSchema& schema, const std::string& label) {
    if (np.input_size() < schema.min_input() || np.input_size() > schema.max_input())
      return InvalidModel(label, ": has ", np.input_size(), " inputs, the operator takes ", schema.min_input(),
                          schema.max_input() != schema.min_input() ? StrCat(" to ", schema.max_input()) : "");
    if (np.output_size() < schema.min_output() || np.output_size() > schema.max_output())
      return InvalidModel(label, ": has ", np.output_size(), " outputs, the operator produces ", schema.min_output(),
                          schema.max_output() != schema.min_output() ? StrCat(" to ", schema.max_output()) : "");
    const auto& formal = schema.inputs();
    for (size_t i = 0; i < formal.size() && static_cast<int>(i) < np.input_size(); ++i)
      if (formal[i].GetOption() == onnx::OpSchema::Single && np.input(static_cast<int>(i)).empty())
        return InvalidModel(label, ": required input ", i, " ('", formal[i].GetName(), "') is missing");
    for (const auto& a : np.attribute()) {
      auto it = schema.attributes().find(a.name());
      if (it == schema.attributes().end() || a.type() == onnx::AttributeProto::UNDEFINED) continue;
      if (it->second.type != a.type())
        return InvalidModel(label, ": attribute '", a.name(), "' must be of type ",
                            onnx::AttributeProto_AttributeType_Name(it->second.type), ", got ",
                            onnx::AttributeProto_AttributeType_Name(a.type()));
    }
    for (const auto& [name, attr] : schema.attributes()) {
      if (!attr.required) continue;
      bool present = false;
      for (const auto& a : np.attribute()) present = present || a.name() == name;
      if (!present) return InvalidModel(label, ": required attribute '", name, "' is missing");
    }
    return Status::Ok();
  }

  // Input types of a node as far as shape inference knows them (for context-dependent functions).
  std::vector<onnx::TypeProto> InputTypes(const onnx::NodeProto& n, const Graph& g) {
    std::vector<onnx::TypeProto> types;
    for (const auto& in : n.input()) {
      onnx::TypeProto tp;
      auto it = inferred_types_.find(in);
      if (it != inferred_types_.end()) {
        tp = *it->second;
      } else {
        const int id = g.FindValue(in);
        if (id >= 0 && g.values[static_cast<size_t>(id)].type.kind == ValueType::Kind::kTensor)
          tp.mutable_tensor_type()->set_elem_type(static_cast<int>(g.values[static_cast<size_t>(id)].type.elem));
      }
      types.push_back(tp);
    }
    return types;
  }

  Status ConvertNode(const onnx::NodeProto& np, Graph& g, const Scope& scope, const std::map<std::string, int>& opsets,
                     const std::vector<std::string>& provenance, int depth, int fn_depth,
                     const std::map<std::string, const onnx::TypeProto*>& types) {
    const std::string domain = NormalizeDomain(np.domain());
    auto oit = opsets.find(domain);
    if (oit == opsets.end())
      return InvalidModel(np.op_type(), " ", NodeRef(np), " uses domain '", DomainForMessage(domain),
                          "' that the model does not import");
    const int opset = oit->second;
    const std::string label = NodeLabel(np, domain, opset);
    if (np.op_type().empty()) return InvalidModel("a node in graph '", g.name, "' has no op_type");

    const bool has_kernel = options_.has_kernel && options_.has_kernel(domain, np.op_type(), opset);
    const bool is_gradient = domain == "ai.onnx.preview.training" && np.op_type() == "Gradient";
    if (!has_kernel && !is_gradient) {
      // A function op: expand into its body.
      const onnx::FunctionProto* fn = nullptr;
      onnx::FunctionProto built;
      std::map<std::string, int> body_opsets = opsets;
      const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(np.op_type(), opset, domain);
      auto lf = local_functions_.find({domain, np.op_type()});
      if (lf != local_functions_.end()) {
        fn = lf->second;
        schema = nullptr;
      } else if (schema != nullptr && schema->HasFunction()) {
        fn = schema->GetFunction();
      } else if (schema != nullptr && schema->HasContextDependentFunction()) {
        onnx::FunctionBodyBuildContextImpl ctx(np, InputTypes(np, g));
        if (schema->BuildContextDependentFunction(ctx, built)) fn = &built;
      }
      if (fn == nullptr) {
        if (schema == nullptr && lf == local_functions_.end() &&
            onnx::OpSchemaRegistry::Schema(np.op_type(), 1000, domain) == nullptr)
          return Unsupported("unknown operator ", np.op_type(), " (domain ", DomainForMessage(domain), ", opset ", opset,
                             ") at ", NodeRef(np));
        return Unsupported("unsupported operator ", np.op_type(), " (domain ", DomainForMessage(domain), ", opset ",
                           opset, ") at ", NodeRef(np));
      }
      if (fn_depth >= kMaxFunctionDepth) return InvalidModel(label, ": function expansion nested too deeply");
      for (const auto& o : fn->opset_import()) body_opsets[NormalizeDomain(o.domain())] = static_cast<int>(o.version());
      if (fn->opset_import_size() == 0) body_opsets[""] = opset;
      const std::string prefix = (np.name().empty() ? np.op_type() + "_" + std::to_string(fn_counter_) : np.name()) + "/";
      ++fn_counter_;
      IDEM_ASSIGN_OR_RETURN(auto body, InlineFunctionBody(np, *fn, schema, prefix));
      std::vector<std::string> prov = provenance;
      if (prov.empty()) prov.push_back(np.name());
      for (const auto& bn : body)
        IDEM_RETURN_IF_ERROR(ConvertNode(bn, g, scope, body_opsets, prov, depth, fn_depth + 1, types));
      return Status::Ok();
    }

    if (const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(np.op_type(), opset, domain))
      IDEM_RETURN_IF_ERROR(CheckAgainstSchema(np, *schema, label));

    Node node;
    node.name = np.name();
    node.op_type = np.op_type();
    node.domain = domain;
    node.opset = opset;
    node.provenance = provenance.empty() ? std::vector<std::string>{np.name()} : provenance;
    for (const auto& in : np.input()) {
      if (in.empty()) { node.inputs.push_back(-1); continue; }
      int id = g.FindValue(in);
      if (id < 0 && scope.parent != nullptr && scope.parent->Has(in)) {
        Value v;
        v.name = in;
        v.outer_scope = true;
        id = g.AddValue(std::move(v));
      }
      if (id < 0)
        return InvalidModel(label, ": input '", in, "' is not produced by any node, initializer or graph input");
      node.inputs.push_back(id);
    }
    for (const auto& a : np.attribute()) {
      if (a.name().empty()) return InvalidModel(label, ": attribute without a name");
      auto at = ConvertAttribute(a, g, scope, depth);
      if (!at.ok()) return at.status().WithContext(label);
      node.attributes[a.name()] = std::move(at).value();
    }
    const int node_index = static_cast<int>(g.nodes.size());
    for (const auto& out : np.output()) {
      if (out.empty()) { node.outputs.push_back(-1); continue; }
      if (g.FindValue(out) >= 0) return InvalidModel(label, ": value '", out, "' is produced more than once");
      Value v;
      v.name = out;
      v.producer = node_index;
      auto t = types.find(out);
      if (t != types.end()) v.type = ValueTypeFromProto(*t->second);
      else if (auto it = inferred_types_.find(out); it != inferred_types_.end()) v.type = ValueTypeFromProto(*it->second);
      node.outputs.push_back(g.AddValue(std::move(v)));
    }
    g.AddNode(std::move(node));
    return Status::Ok();
  }

  const onnx::ModelProto& model_;
  std::string base_dir_;
  const ImportOptions& options_;
  std::map<std::string, int> opsets_;
  std::map<std::pair<std::string, std::string>, const onnx::FunctionProto*> local_functions_;
  std::map<std::string, const onnx::TypeProto*> inferred_types_;
  int fn_counter_ = 0;
};

// Writes the --input-shape dims into the graph inputs' declared types.
Status ApplyInputShapes(onnx::ModelProto* model, const std::map<std::string, std::vector<int64_t>>& shapes) {
  std::set<std::string> initializers;
  for (const auto& init : model->graph().initializer()) initializers.insert(init.name());
  for (const auto& [name, dims] : shapes) {
    onnx::ValueInfoProto* input = nullptr;
    for (auto& in : *model->mutable_graph()->mutable_input())
      if (in.name() == name) input = &in;
    if (input == nullptr) {
      std::string names;
      for (const auto& in : model->graph().input())
        if (!initializers.count(in.name())) names += (names.empty() ? "" : ", ") + in.name();
      return InvalidArgument("--input-shape names '", name, "', which is not a graph input (inputs: ", names, ")");
    }
    if (!input->type().has_tensor_type())
      return InvalidArgument("--input-shape: graph input '", name, "' is not a tensor");
    for (int64_t d : dims)
      if (d < 0) return InvalidArgument("--input-shape: dims of '", name, "' must be >= 0, got ", d);
    auto* tt = input->mutable_type()->mutable_tensor_type();
    if (tt->has_shape()) {
      const auto& shape = tt->shape();
      if (shape.dim_size() != static_cast<int>(dims.size()))
        return InvalidArgument("--input-shape: graph input '", name, "' has rank ", shape.dim_size(), ", got ",
                               dims.size(), " dims ", ShapeToString(dims));
      for (int i = 0; i < shape.dim_size(); ++i)
        if (shape.dim(i).has_dim_value() && shape.dim(i).dim_value() != dims[static_cast<size_t>(i)])
          return InvalidArgument("--input-shape: dim ", i, " of graph input '", name, "' is fixed to ",
                                 shape.dim(i).dim_value(), " by the model, got ", dims[static_cast<size_t>(i)]);
    }
    tt->mutable_shape()->clear_dim();
    for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  return Status::Ok();
}

}  // namespace

Result<OnnxModel> ImportOnnxBytes(const std::string& bytes, const std::string& base_dir, const ImportOptions& options) {
  onnx::ModelProto model;
  if (bytes.empty()) return InvalidModel("model file is empty");
  if (!model.ParseFromString(bytes)) return InvalidModel("not a valid ONNX model (protobuf parsing failed)");
  if (!model.has_graph()) return InvalidModel("not a valid ONNX model (no graph)");
  if (model.ir_version() <= 0) return InvalidModel("not a valid ONNX model (missing ir_version)");
  IDEM_RETURN_IF_ERROR(ApplyInputShapes(&model, options.input_shapes));
  // Shape inference fills value_info with the types of intermediate values; errors here are not
  // fatal (idem checks shapes at run time), so a model ONNX cannot fully infer still runs.
  try {
    onnx::ShapeInferenceOptions opts;
    opts.check_type = false;
    opts.error_mode = 0;
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), opts);
  } catch (const std::exception&) {
  }
  Importer importer(model, base_dir, options);
  IDEM_RETURN_IF_ERROR(importer.Init());
  IDEM_ASSIGN_OR_RETURN(auto graph, importer.ConvertGraph(model.graph(), nullptr, 0));
  IDEM_RETURN_IF_ERROR(ExpandGradientNodes(*graph));
  OnnxModel out;
  out.graph = std::move(graph);
  out.ir_version = model.ir_version();
  out.producer = model.producer_name();
  out.opsets = importer.opsets();
  return out;
}

Result<OnnxModel> ImportOnnxFile(const std::string& path, const ImportOptions& options) {
  IDEM_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  const std::string dir = std::filesystem::path(path).parent_path().string();
  auto m = ImportOnnxBytes(bytes, dir.empty() ? "." : dir, options);
  if (!m.ok()) return m.status();
  return m;
}

}  // namespace idem
