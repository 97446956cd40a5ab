#include "runtime/session.h"

#include <algorithm>

#include "artifact/artifact.h"
#include "kernels/registry.h"
#include "onnx/import.h"

namespace idem {

bool HasKernel(const std::string& domain, const std::string& op_type, int opset) {
  return FindOp(domain, op_type, opset) != nullptr;
}

Result<std::unique_ptr<Session>> Session::Load(const std::string& model_path, const SessionOptions& options) {
  if (artifact::IsArtifactFile(model_path)) {
    artifact::LoadOptions lo;
    lo.verify_weights = options.verify_weights;
    IDEM_ASSIGN_OR_RETURN(artifact::LoadedArtifact a, artifact::LoadArtifact(model_path, lo));
    return FromPrepared(std::move(a.graph), a.prepared, options);
  }
  ImportOptions io;
  io.has_kernel = HasKernel;
  IDEM_ASSIGN_OR_RETURN(OnnxModel model, ImportOnnxFile(model_path, io));
  return FromGraph(std::move(model.graph), options);
}

Result<std::unique_ptr<Session>> Session::FromGraph(std::shared_ptr<Graph> graph, const SessionOptions& options) {
  return Make(std::move(graph), nullptr, options);
}

Result<std::unique_ptr<Session>> Session::FromPrepared(std::shared_ptr<Graph> graph,
                                                       const Executor::PreparedStates& prepared,
                                                       const SessionOptions& options) {
  return Make(std::move(graph), &prepared, options);
}

Result<std::unique_ptr<Session>> Session::Make(std::shared_ptr<Graph> graph, const Executor::PreparedStates* prepared,
                                               const SessionOptions& options) {
  if (options.threads < 1 || options.threads > 1024)
    return InvalidArgument("thread count must be between 1 and 1024, got ", options.threads);
  std::unique_ptr<Session> s(new Session());
  s->options_ = options;
  for (int id : graph->inputs) {
    const Value& v = graph->values[static_cast<size_t>(id)];
    s->inputs_.push_back({v.name, v.type, v.has_initializer});
  }
  for (int id : graph->outputs) {
    const Value& v = graph->values[static_cast<size_t>(id)];
    s->outputs_.push_back({v.name, v.type, false});
  }
  if (prepared != nullptr) {
    IDEM_ASSIGN_OR_RETURN(s->executor_, Executor::CreateWithPrepared(std::move(graph), *prepared));
  } else {
    IDEM_ASSIGN_OR_RETURN(s->executor_, Executor::Create(std::move(graph)));
  }
  s->pool_ = std::make_unique<ThreadPool>(options.threads);
  return s;
}

namespace {

std::string DescribeValue(const RtValue& v) {
  if (IsTensor(v)) {
    const Tensor& t = std::get<Tensor>(v);
    return StrCat(DTypeOnnxName(t.dtype()), " tensor of shape ", ShapeToString(t.shape()));
  }
  if (IsSequence(v)) return "a sequence";
  return "an empty optional";
}

// Checks a user-given value against the declared type; converts bf16 given as raw uint16.
Status CheckInput(const IoInfo& info, RtValue& v) {
  const ValueType& t = info.type;
  if (t.kind == ValueType::Kind::kTensor) {
    if (!IsTensor(v)) return InvalidArgument("input '", info.name, "' must be a tensor, got ", DescribeValue(v));
    Tensor& x = std::get<Tensor>(v);
    if (t.elem != DType::kUndefined && x.dtype() != t.elem) {
      if (t.elem == DType::kBF16 && x.dtype() == DType::kU16) {
        x = MakeTensorView(DType::kBF16, x.shape(), Buffer::View(x.raw(), x.nbytes(), nullptr), 0).Clone();
      } else {
        return InvalidArgument("input '", info.name, "' must have element type ", DTypeOnnxName(t.elem), ", got ",
                               DTypeOnnxName(x.dtype()));
      }
    }
    if (t.has_shape) {
      bool ok = static_cast<size_t>(x.rank()) == t.dims.size();
      for (size_t i = 0; ok && i < t.dims.size(); ++i)
        if (t.dims[i].value >= 0 && t.dims[i].value != x.shape()[i]) ok = false;
      if (!ok)
        return InvalidArgument("input '", info.name, "' must have shape ", ValueTypeToString(t), ", got ",
                               ShapeToString(x.shape()));
    }
  } else if (t.kind == ValueType::Kind::kSequence) {
    if (!IsSequence(v)) return InvalidArgument("input '", info.name, "' must be a sequence, got ", DescribeValue(v));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<RtValue>> Session::Run(std::vector<std::pair<std::string, RtValue>> named, NodeTimer* timer) const {
  std::vector<RtValue> ordered(inputs_.size());
  std::vector<bool> given(inputs_.size(), false);
  for (auto& [name, value] : named) {
    auto it = std::find_if(inputs_.begin(), inputs_.end(), [&](const IoInfo& i) { return i.name == name; });
    if (it == inputs_.end()) {
      std::string names;
      for (const auto& i : inputs_) names += (names.empty() ? "" : ", ") + i.name;
      return InvalidArgument("the model has no input named '", name, "' (inputs: ", names, ")");
    }
    const size_t k = static_cast<size_t>(it - inputs_.begin());
    if (given[k]) return InvalidArgument("input '", name, "' is given twice");
    IDEM_RETURN_IF_ERROR(CheckInput(*it, value));
    ordered[k] = std::move(value);
    given[k] = true;
  }
  for (size_t k = 0; k < inputs_.size(); ++k)
    if (!given[k] && !inputs_[k].has_default && inputs_[k].type.kind != ValueType::Kind::kOptional)
      return InvalidArgument("missing input '", inputs_[k].name, "' (", ValueTypeToString(inputs_[k].type), ")");
  RunOptions ro;
  ro.pool = pool_.get();
  ro.seed = options_.seed;
  ro.timer = timer;
  return executor_->Run(std::move(ordered), ro);
}

}  // namespace idem
