#include "kernels/kernel.h"

namespace idem {

const RtValue& KernelContext::input_value(size_t i) const {
  static const RtValue kNone;
  if (i >= inputs_.size() || inputs_[i] == nullptr) return kNone;
  return *inputs_[i];
}

const Tensor& KernelContext::input(size_t i) const {
  // A model can put a sequence or nothing where a kernel expects a tensor; instead of aborting,
  // hand out an undefined tensor, which every kernel rejects through its dtype dispatch.
  static const Tensor kUndefined;
  if (i >= inputs_.size() || inputs_[i] == nullptr || !IsTensor(*inputs_[i])) return kUndefined;
  return std::get<Tensor>(*inputs_[i]);
}

Result<const Tensor*> KernelContext::InputTensor(size_t i) const {
  if (!has_input(i)) return Error("required input ", i, " is missing");
  if (!IsTensor(*inputs_[i])) return Error("input ", i, " must be a tensor");
  return &std::get<Tensor>(*inputs_[i]);
}

Result<Tensor*> KernelContext::AllocateOutputTensor(size_t i, DType dtype, Shape shape, bool zero) {
  if (i >= outputs_->size()) return Internal(node_.Describe(), ": output index ", i, " out of range");
  auto t = Tensor::Allocate(dtype, std::move(shape), zero);
  if (!t.ok()) return t.status().WithContext(node_.Describe());
  (*outputs_)[i] = std::move(t).value();
  return &std::get<Tensor>((*outputs_)[i]);
}

int64_t PrepareContext::Int(const std::string& name, int64_t def) const {
  const Attribute* a = node_.FindAttribute(name);
  return a && a->kind == Attribute::Kind::kInt ? a->i : def;
}

int64_t KernelContext::Int(const std::string& name, int64_t def) const {
  const Attribute* a = node_.FindAttribute(name);
  return a && a->kind == Attribute::Kind::kInt ? a->i : def;
}
float KernelContext::Float(const std::string& name, float def) const {
  const Attribute* a = node_.FindAttribute(name);
  return a && a->kind == Attribute::Kind::kFloat ? a->f : def;
}
std::string KernelContext::String(const std::string& name, const std::string& def) const {
  const Attribute* a = node_.FindAttribute(name);
  return a && a->kind == Attribute::Kind::kString ? a->s : def;
}
std::vector<int64_t> KernelContext::Ints(const std::string& name, std::vector<int64_t> def) const {
  const Attribute* a = node_.FindAttribute(name);
  return a && a->kind == Attribute::Kind::kInts ? a->ints : def;
}
std::vector<float> KernelContext::Floats(const std::string& name, std::vector<float> def) const {
  const Attribute* a = node_.FindAttribute(name);
  return a && a->kind == Attribute::Kind::kFloats ? a->floats : def;
}
std::vector<std::string> KernelContext::Strings(const std::string& name, std::vector<std::string> def) const {
  const Attribute* a = node_.FindAttribute(name);
  return a && a->kind == Attribute::Kind::kStrings ? a->strings : def;
}

Result<const Attribute*> KernelContext::RequiredAttr(const std::string& name, Attribute::Kind kind) const {
  const Attribute* a = node_.FindAttribute(name);
  if (!a) return Error("required attribute '", name, "' is missing");
  if (a->kind != kind)
    return Error("attribute '", name, "' must be of type ", AttributeKindName(kind), ", got ", AttributeKindName(a->kind));
  return a;
}

Result<int64_t> KernelContext::RequiredInt(const std::string& name) const {
  IDEM_ASSIGN_OR_RETURN(const Attribute* a, RequiredAttr(name, Attribute::Kind::kInt));
  return a->i;
}

uint64_t KernelContext::node_key() const {
  // FNV-1a over the node's name and op type: stable across runs, processes and machines.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) { h ^= c; h *= 1099511628211ull; }
    h ^= 0xFF; h *= 1099511628211ull;
  };
  mix(node_.name.empty() ? std::to_string(node_.index) : node_.name);
  mix(node_.op_type);
  return h;
}

}  // namespace idem
