// Shared harness of the kernel unit tests: attribute builders, an `Op` runner that calls one
// kernel from the registry on run-time values without building a graph (optionally with its
// load-time prepared state, as the executor would make it), and tensor builders/readers.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "core/value.h"
#include "ir/graph.h"
#include "kernels/kernel.h"
#include "kernels/registry.h"

namespace idem::testing {

// ---------------------------------------------------------------- attributes

inline Attribute IntAttr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}
inline Attribute FloatAttr(float v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = v;
  return a;
}
inline Attribute StringAttr(std::string v) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = std::move(v);
  return a;
}
inline Attribute IntsAttr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}
inline Attribute FloatsAttr(std::vector<float> v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloats;
  a.floats = std::move(v);
  return a;
}
inline Attribute StringsAttr(std::vector<std::string> v) {
  Attribute a;
  a.kind = Attribute::Kind::kStrings;
  a.strings = std::move(v);
  return a;
}
inline Attribute TensorAttr(Tensor t) {
  Attribute a;
  a.kind = Attribute::Kind::kTensor;
  a.t = std::move(t);
  return a;
}

// ---------------------------------------------------------------- one kernel, no graph

class Op {
 public:
  Op(std::string op_type, int opset, std::string domain = "") {
    node_.op_type = std::move(op_type);
    node_.domain = std::move(domain);
    node_.opset = opset;
    node_.name = "under_test";
  }
  Op& Attr(const std::string& name, Attribute a) {
    node_.attributes[name] = std::move(a);
    return *this;
  }
  Op& In(Tensor t) {  // an undefined Tensor is an omitted input
    inputs_.push_back(t.defined() ? RtValue(std::move(t)) : RtValue());
    return *this;
  }
  Op& InValue(RtValue v) {
    inputs_.push_back(std::move(v));
    return *this;
  }
  // n outputs, all wanted.
  Op& Outputs(int n) {
    wanted_.assign(static_cast<size_t>(n), true);
    return *this;
  }
  Op& NumOutputs(size_t n) { return Outputs(static_cast<int>(n)); }
  // One entry per output; false = omitted by the model.
  Op& Outputs(std::vector<bool> wanted) {
    wanted_ = std::move(wanted);
    return *this;
  }
  // Treat these inputs as constants (initializers) and run the op's load-time prepare function
  // on them before the kernel, as the executor does.
  Op& ConstantInputs(std::vector<size_t> indices) {
    constant_inputs_ = std::move(indices);
    return *this;
  }

  Status Run(ThreadPool* pool = nullptr, uint64_t seed = 0) {
    const OpInfo* info = FindOp(node_.domain, node_.op_type, node_.opset);
    if (!info || !info->kernel) return Unsupported("no kernel for ", node_.op_type, " at opset ", node_.opset);
    node_.inputs.clear();
    std::vector<const RtValue*> ins;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const bool present = !IsNone(inputs_[i]);
      node_.inputs.push_back(present ? static_cast<int>(i) : -1);
      ins.push_back(present ? &inputs_[i] : nullptr);
    }
    node_.outputs.clear();
    for (size_t i = 0; i < wanted_.size(); ++i) node_.outputs.push_back(wanted_[i] ? static_cast<int>(i) : -1);
    outputs_.assign(wanted_.size(), RtValue());
    prepared_.reset();
    if (!constant_inputs_.empty()) {
      if (PrepareFn prepare = FindPrepare(node_.domain, node_.op_type)) {
        std::vector<const Tensor*> constants(inputs_.size(), nullptr);
        for (size_t i : constant_inputs_)
          if (i < inputs_.size() && std::holds_alternative<Tensor>(inputs_[i])) constants[i] = &std::get<Tensor>(inputs_[i]);
        auto r = prepare(PrepareContext(node_, std::move(constants), pool));
        if (!r.ok()) return r.status();
        prepared_ = std::move(r).value();
      }
    }
    KernelContext ctx(node_, ins, &outputs_, pool, seed, nullptr);
    ctx.set_prepared(prepared_.get());
    return info->kernel(ctx);
  }
  const Tensor& out(size_t i = 0) const { return std::get<Tensor>(outputs_[i]); }
  const RtValue& out_value(size_t i = 0) const { return outputs_[i]; }
  // The state the prepare function made in the last Run (nullptr if none).
  const PreparedState* prepared() const { return prepared_.get(); }

 private:
  Node node_;
  std::vector<RtValue> inputs_;
  std::vector<bool> wanted_ = {true};
  std::vector<RtValue> outputs_;
  std::vector<size_t> constant_inputs_;
  std::shared_ptr<const PreparedState> prepared_;
};

// ---------------------------------------------------------------- tensors

template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}
// The bit patterns of a float tensor (for bitwise comparisons that see -0 and NaN payloads).
inline std::vector<uint32_t> Bits(const Tensor& t) {
  std::vector<uint32_t> b(static_cast<size_t>(t.numel()));
  if (!b.empty()) std::memcpy(b.data(), t.data<float>(), b.size() * sizeof(uint32_t));
  return b;
}
inline Tensor F32(std::vector<float> v, Shape s) { return Tensor::FromVector<float>(v, std::move(s)); }
inline Tensor F64(std::vector<double> v, Shape s) { return Tensor::FromVector<double>(v, std::move(s)); }
inline Tensor I64(std::vector<int64_t> v, Shape s) { return Tensor::FromVector<int64_t>(v, std::move(s)); }
inline Tensor I32(std::vector<int32_t> v, Shape s) { return Tensor::FromVector<int32_t>(v, std::move(s)); }
inline Tensor I8(std::vector<int8_t> v, Shape s) { return Tensor::FromVector<int8_t>(v, std::move(s)); }
inline Tensor U8(std::vector<uint8_t> v, Shape s) { return Tensor::FromVector<uint8_t>(v, std::move(s)); }
inline Tensor Strs(std::vector<std::string> v, Shape s) { return Tensor::FromVector<std::string>(v, std::move(s)); }
// f16 / bf16 tensors from floats (rounded to nearest even).
inline Tensor F16(const std::vector<float>& v, Shape s) {
  std::vector<Float16> h;
  for (float f : v) h.push_back(FloatToHalf(f));
  return Tensor::FromVector<Float16>(h, std::move(s));
}
inline Tensor BF16(const std::vector<float>& v, Shape s) {
  std::vector<BFloat16> h;
  for (float f : v) h.push_back(FloatToBFloat16(f));
  return Tensor::FromVector<BFloat16>(h, std::move(s));
}
// The values of an f16 or bf16 tensor as floats (exact).
inline std::vector<float> HalfValues(const Tensor& t) {
  std::vector<float> out;
  for (int64_t i = 0; i < t.numel(); ++i)
    out.push_back(t.dtype() == DType::kF16 ? HalfToFloat(t.data<Float16>()[i]) : BFloat16ToFloat(t.data<BFloat16>()[i]));
  return out;
}

// Deterministic pseudo-random floats (an LCG; the same on every machine) with mixed magnitudes
// (|x| in [2^-7, 2^5)), so that summation order matters; with `specials`, some exact zeros,
// negative zeros and much larger/smaller values are mixed in.
inline std::vector<float> RandomFloats(size_t n, uint32_t seed, bool specials = false) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 12345u;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    const float mant = static_cast<float>((s >> 8) & 0xFFFF) / 65536.0f - 0.5f;
    const int e = static_cast<int>((s >> 24) % 12) - 6;
    float x = std::ldexp(mant, e);
    if (specials) {
      switch ((s >> 3) % 23) {
        case 0: x = 0.0f; break;
        case 1: x = -0.0f; break;
        case 2: x *= 1e4f; break;
        case 3: x *= 1e-4f; break;
        default: break;
      }
    }
    v[i] = x;
  }
  return v;
}

}  // namespace idem::testing
