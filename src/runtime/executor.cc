#include "runtime/executor.h"

#include <chrono>
#include <set>

#include "kernels/registry.h"

namespace idem {

struct Executor::Frame {
  const Graph* graph;
  const std::vector<RtValue>* values;
  const Frame* parent;

  const RtValue* Lookup(const std::string& name) const {
    for (const Frame* f = this; f != nullptr; f = f->parent) {
      const int id = f->graph->FindValue(name);
      if (id >= 0 && !f->graph->values[static_cast<size_t>(id)].outer_scope) return &(*f->values)[static_cast<size_t>(id)];
    }
    return nullptr;
  }
};

Result<std::unique_ptr<Executor>> Executor::Create(std::shared_ptr<const Graph> graph, ThreadPool* pool) {
  std::unique_ptr<Executor> e(new Executor());
  e->graph_ = std::move(graph);
  IDEM_RETURN_IF_ERROR(e->Prepare(*e->graph_, pool, nullptr));
  return e;
}

Result<std::unique_ptr<Executor>> Executor::CreateWithPrepared(std::shared_ptr<const Graph> graph,
                                                               const PreparedStates& prepared) {
  std::unique_ptr<Executor> e(new Executor());
  e->graph_ = std::move(graph);
  IDEM_RETURN_IF_ERROR(e->Prepare(*e->graph_, nullptr, &prepared));
  return e;
}

Executor::PreparedStates Executor::prepared_states() const {
  PreparedStates out;
  for (const auto& [g, plan] : plans_) out[g] = plan.prepared;
  return out;
}

Status Executor::Prepare(const Graph& g, ThreadPool* pool, const PreparedStates* preset) {
  Plan plan;
  const std::vector<std::shared_ptr<const PreparedState>>* given = nullptr;
  if (preset != nullptr) {
    auto it = preset->find(&g);
    if (it == preset->end() || it->second.size() != g.nodes.size())
      return Internal("graph '", g.name, "' has no prepared states for its ", g.nodes.size(), " nodes");
    given = &it->second;
  }
  const size_t nv = g.values.size();
  std::vector<int> last_use(nv, -1);
  for (const Node& n : g.nodes) {
    const OpInfo* op = FindOp(n.domain, n.op_type, n.opset);
    if (op == nullptr) {
      const OpInfo* any = FindOpAnyOpset(n.domain, n.op_type);
      if (any != nullptr)
        return Unsupported("operator ", n.op_type, " (domain ", DomainName(n.domain), ") at node '", n.DisplayName(),
                           "' is supported for opsets ", any->min_opset, " to ", any->max_opset, ", not opset ", n.opset);
      return Unsupported("unsupported operator ", n.op_type, " (domain ", DomainName(n.domain), ", opset ", n.opset,
                         ") at node '", n.DisplayName(), "'");
    }
    plan.kernels.push_back(op->kernel);
    std::shared_ptr<const PreparedState> state;
    if (given != nullptr) {
      state = (*given)[static_cast<size_t>(n.index)];
    } else if (PrepareFn prepare = FindPrepare(n.domain, n.op_type)) {
      std::vector<const Tensor*> constants;
      for (int in : n.inputs) {
        const Value* v = in >= 0 ? &g.values[static_cast<size_t>(in)] : nullptr;
        constants.push_back(v && v->has_initializer && !v->is_graph_input && !v->outer_scope ? &v->initializer : nullptr);
      }
      auto r = prepare(PrepareContext(n, std::move(constants), pool));
      if (!r.ok()) return r.status().WithContext(n.Describe());
      state = std::move(r).value();
    }
    plan.prepared.push_back(std::move(state));
    for (int in : n.inputs)
      if (in >= 0) last_use[static_cast<size_t>(in)] = n.index;
    for (const auto& [_, a] : n.attributes) {
      if (a.g) IDEM_RETURN_IF_ERROR(Prepare(*a.g, pool, preset));
      for (const auto& gg : a.graphs) IDEM_RETURN_IF_ERROR(Prepare(*gg, pool, preset));
    }
    for (const std::string& name : OuterScopeReadsOf(n)) {
      const int id = g.FindValue(name);
      if (id >= 0) last_use[static_cast<size_t>(id)] = n.index;
    }
  }
  std::vector<bool> keep(nv, false);
  for (int o : g.outputs) keep[static_cast<size_t>(o)] = true;
  plan.release_after.resize(g.nodes.size());
  for (size_t v = 0; v < nv; ++v) {
    // Values read by enclosing-scope lookups of *other* subgraphs are not tracked here, so values
    // of subgraphs are kept for the duration of their run (they are freed with the frame).
    if (keep[v] || last_use[v] < 0 || g.values[v].has_initializer || g.values[v].outer_scope) continue;
    plan.release_after[static_cast<size_t>(last_use[v])].push_back(static_cast<int>(v));
  }
  plans_[&g] = std::move(plan);
  return Status::Ok();
}

Result<std::vector<RtValue>> Executor::Run(std::vector<RtValue> inputs, const RunOptions& options) const {
  return RunGraph(*graph_, std::move(inputs), nullptr, options);
}

Result<std::vector<RtValue>> Executor::RunGraph(const Graph& g, std::vector<RtValue> inputs, const Frame* parent,
                                                const RunOptions& options) const {
  const Plan& plan = plans_.at(&g);
  std::vector<RtValue> values(g.values.size());
  for (size_t i = 0; i < g.values.size(); ++i)
    if (g.values[i].has_initializer) values[i] = g.values[i].initializer;
  if (inputs.size() > g.inputs.size())
    return InvalidArgument("graph '", g.name, "' takes ", g.inputs.size(), " inputs, got ", inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!IsNone(inputs[i]) || !g.values[static_cast<size_t>(g.inputs[i])].has_initializer)
      values[static_cast<size_t>(g.inputs[i])] = std::move(inputs[i]);
  Frame frame{&g, &values, parent};
  for (size_t i = 0; i < g.values.size(); ++i) {
    if (!g.values[i].outer_scope) continue;
    const RtValue* v = parent ? parent->Lookup(g.values[i].name) : nullptr;
    if (v == nullptr) return Internal("outer-scope value '", g.values[i].name, "' is not available");
    values[i] = *v;
  }

  SubgraphRunner run_sub = [&](const Graph& sub, std::vector<RtValue> sub_inputs) {
    return RunGraph(sub, std::move(sub_inputs), &frame, options);
  };
  std::vector<const RtValue*> in_ptrs;
  for (const Node& n : g.nodes) {
    in_ptrs.clear();
    for (int in : n.inputs) in_ptrs.push_back(in >= 0 ? &values[static_cast<size_t>(in)] : nullptr);
    std::vector<RtValue> outs(n.outputs.size());
    KernelContext ctx(n, in_ptrs, &outs, options.pool, options.seed, run_sub);
    ctx.set_prepared(plan.prepared[static_cast<size_t>(n.index)].get());
    const auto t0 = options.timer != nullptr ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    Status st = plan.kernels[static_cast<size_t>(n.index)](ctx);
    if (!st.ok()) {
      if (st.message().find(n.op_type + " node '") == std::string::npos) st = st.WithContext(n.Describe());
      return st;
    }
    if (options.timer != nullptr)
      options.timer->Record(
          g, n, std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    for (size_t o = 0; o < n.outputs.size(); ++o)
      if (n.outputs[o] >= 0) values[static_cast<size_t>(n.outputs[o])] = std::move(outs[o]);
    for (int v : plan.release_after[static_cast<size_t>(n.index)]) values[static_cast<size_t>(v)] = RtValue();
  }
  std::vector<RtValue> result;
  result.reserve(g.outputs.size());
  for (int o : g.outputs) result.push_back(values[static_cast<size_t>(o)]);
  return result;
}

}  // namespace idem
