// The kernel interface. A kernel is a plain function `Status Fn(KernelContext&)`: it reads its
// inputs and attributes from the context, allocates its outputs through it, and returns a Status.
//
// Contract for every kernel (DESIGN.md §2):
//  - never write into an input; outputs are fresh tensors (or share an input's buffer unchanged);
//  - follow R1–R6: canonical reduction order, explicit std::fma, idem::math instead of libm,
//    parallelize over independent outputs only via ctx.ParallelFor (tiles derived from shapes);
//  - report bad inputs with ctx.Error(...) (names the node), never abort, never throw.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "core/value.h"
#include "ir/graph.h"

namespace idem {

// Runs a subgraph (If/Loop/Scan body) with the given inputs; the current scope's values are
// visible to it as outer-scope values.
using SubgraphRunner = std::function<Result<std::vector<RtValue>>(const Graph&, std::vector<RtValue>)>;

// What a kernel derives once from its node's constant inputs, before any run: GEMM and convolution
// weights packed into panels, for example. Plain tensors (target-neutral layouts, R5), immutable
// and shared by every run, so that an artifact can store them and map them back without repacking.
// Only the op's own prepare function knows what each tensor means.
struct PreparedState {
  std::vector<Tensor> tensors;
};

// What a prepare function sees: the node, and those of its inputs that are constant (initializers
// that are not graph inputs), at load time.
class PrepareContext {
 public:
  PrepareContext(const Node& node, std::vector<const Tensor*> constant_inputs, ThreadPool* pool)
      : node_(node), constant_inputs_(std::move(constant_inputs)), pool_(pool) {}
  const Node& node() const { return node_; }
  // Constant input i, or nullptr if input i is omitted or only known at run time.
  const Tensor* constant_input(size_t i) const { return i < constant_inputs_.size() ? constant_inputs_[i] : nullptr; }
  ThreadPool* pool() const { return pool_; }
  // Attribute access with the same defaults and semantics as KernelContext's.
  int64_t Int(const std::string& name, int64_t def) const;

 private:
  const Node& node_;
  std::vector<const Tensor*> constant_inputs_;
  ThreadPool* pool_;
};

// A prepare function returns the node's state, or nullptr when there is nothing to prepare (the
// kernel then works from its inputs alone). It must not depend on the CPU (R5) or the thread count.
using PrepareFn = Result<std::shared_ptr<const PreparedState>> (*)(const PrepareContext&);

class KernelContext {
 public:
  KernelContext(const Node& node, std::vector<const RtValue*> inputs, std::vector<RtValue>* outputs,
                ThreadPool* pool, uint64_t seed, SubgraphRunner run_subgraph)
      : node_(node), inputs_(std::move(inputs)), outputs_(outputs), pool_(pool), seed_(seed),
        run_subgraph_(std::move(run_subgraph)) {}

  const Node& node() const { return node_; }
  int opset() const { return node_.opset; }

  // ---- inputs
  size_t num_inputs() const { return inputs_.size(); }
  // True if input i was given (not omitted, not an empty optional).
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] && !IsNone(*inputs_[i]); }
  // The tensor of input i; an undefined Tensor (dtype kUndefined, no data) if input i is omitted
  // or not a tensor — kernels reject that through their dtype dispatch. InputTensor() gives an
  // error naming the node instead.
  const Tensor& input(size_t i) const;
  Result<const Tensor*> InputTensor(size_t i) const;
  const RtValue& input_value(size_t i) const;  // an empty RtValue if omitted

  // ---- outputs
  size_t num_outputs() const { return outputs_->size(); }
  // False when the model omitted optional output i (a kernel may skip computing it).
  bool output_wanted(size_t i) const { return i < node_.outputs.size() && node_.outputs[i] >= 0; }
  // Allocates output i (zero-filled).
  Result<Tensor*> AllocateOutput(size_t i, DType dtype, Shape shape) {
    return AllocateOutputTensor(i, dtype, std::move(shape), /*zero=*/true);
  }
  // Allocates output i without zero-filling it, for a kernel that writes EVERY element on every
  // path (tests run with IDEM_POISON_UNINITIALIZED=1, which fills it with 0xFF bytes instead).
  Result<Tensor*> AllocateOutputUninitialized(size_t i, DType dtype, Shape shape) {
    return AllocateOutputTensor(i, dtype, std::move(shape), /*zero=*/false);
  }
  void SetOutput(size_t i, RtValue v) { (*outputs_)[i] = std::move(v); }

  // ---- attributes (types are validated against the ONNX schema at load)
  bool HasAttr(const std::string& name) const { return node_.FindAttribute(name) != nullptr; }
  int64_t Int(const std::string& name, int64_t def) const;
  float Float(const std::string& name, float def) const;
  std::string String(const std::string& name, const std::string& def) const;
  std::vector<int64_t> Ints(const std::string& name, std::vector<int64_t> def = {}) const;
  std::vector<float> Floats(const std::string& name, std::vector<float> def = {}) const;
  std::vector<std::string> Strings(const std::string& name, std::vector<std::string> def = {}) const;
  Result<int64_t> RequiredInt(const std::string& name) const;
  Result<const Attribute*> RequiredAttr(const std::string& name, Attribute::Kind kind) const;

  // ---- execution services
  ThreadPool* pool() const { return pool_; }
  // Runs fn(begin, end) over [0, n) in tiles of `grain` items. `grain` must depend only on shapes.
  void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) const {
    ParallelForRange(pool_, n, grain, fn);
  }
  uint64_t seed() const { return seed_; }
  // The state this node's prepare function made at load (packed weights...), or nullptr. A kernel
  // must give the same bits with or without it.
  const PreparedState* prepared() const { return prepared_; }
  void set_prepared(const PreparedState* p) { prepared_ = p; }
  // Stable identity of this node for counter-based RNG: a hash of its name (or position).
  uint64_t node_key() const;
  Result<std::vector<RtValue>> RunSubgraph(const Graph& g, std::vector<RtValue> inputs) const {
    return run_subgraph_(g, std::move(inputs));
  }

  // An InvalidArgument status whose message names this node: "Conv node 'c1' (opset 11): <msg>".
  template <typename... Args>
  Status Error(const Args&... a) const { return InvalidArgument(node_.Describe(), ": ", a...); }
  template <typename... Args>
  Status UnsupportedError(const Args&... a) const { return Unsupported(node_.Describe(), ": ", a...); }

 private:
  Result<Tensor*> AllocateOutputTensor(size_t i, DType dtype, Shape shape, bool zero);

  const Node& node_;
  std::vector<const RtValue*> inputs_;
  std::vector<RtValue>* outputs_;
  ThreadPool* pool_;
  uint64_t seed_;
  SubgraphRunner run_subgraph_;
  const PreparedState* prepared_ = nullptr;
};

using KernelFn = Status (*)(KernelContext&);

}  // namespace idem
