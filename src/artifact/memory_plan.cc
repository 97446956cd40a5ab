#include "artifact/memory_plan.h"

#include <algorithm>
#include <set>

namespace idem::artifact {

namespace {

uint64_t AlignArena(uint64_t x) { return (x + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

bool IsViewOp(const Node& n) {
  return n.domain.empty() && (n.op_type == "Reshape" || n.op_type == "Flatten" || n.op_type == "Squeeze" ||
                              n.op_type == "Unsqueeze" || n.op_type == "Identity");
}

bool IsUnaryElementwise(const Node& n) {
  static const std::set<std::string> kOps = {"Relu", "Sigmoid", "Tanh", "Neg",  "Abs",      "Exp",     "Log",
                                             "Sqrt", "Erf",     "Ceil", "Floor", "Round",   "Reciprocal", "Softsign",
                                             "Elu",  "Selu",    "LeakyRelu", "HardSigmoid", "HardSwish", "Sin", "Cos"};
  return n.domain.empty() && kOps.count(n.op_type) > 0;
}

}  // namespace

int64_t StaticBytes(const Value& v) {
  if (v.type.kind != ValueType::Kind::kTensor || !v.type.has_shape) return -1;
  if (v.type.elem == DType::kUndefined || v.type.elem == DType::kString) return -1;
  Shape s;
  for (const Dim& d : v.type.dims) {
    if (d.value < 0) return -1;
    s.push_back(d.value);
  }
  const int64_t n = NumElements(s);
  if (n < 0) return -1;
  const int64_t elem = static_cast<int64_t>(DTypeSize(v.type.elem));
  if (elem == 0 || n > (int64_t{1} << 50) / elem) return -1;
  return n * elem;
}

bool PlannedOverlap(const PlannedValue& a, const PlannedValue& b) {
  const bool time = a.first <= b.last && b.first <= a.last;
  const bool space = a.offset < b.offset + std::max<uint64_t>(b.size, 1) && b.offset < a.offset + std::max<uint64_t>(a.size, 1);
  return time && space;
}

MemoryPlan PlanMemory(const Graph& g) {
  MemoryPlan plan;
  const size_t nv = g.values.size();
  const int end = static_cast<int>(g.nodes.size());
  std::vector<int> last(nv, -1);
  for (const Node& n : g.nodes) {
    for (int in : n.inputs)
      if (in >= 0) last[static_cast<size_t>(in)] = n.index;
    for (const std::string& name : OuterScopeReadsOf(n)) {
      const int id = g.FindValue(name);
      if (id >= 0) last[static_cast<size_t>(id)] = n.index;
    }
  }
  std::vector<bool> is_output(nv, false);
  for (int o : g.outputs) is_output[static_cast<size_t>(o)] = true;

  // Planned values and their buffers (group = index of the first value of the in-place chain).
  std::vector<int64_t> bytes(nv, -1);
  std::vector<int> group(nv, -1);
  for (size_t v = 0; v < nv; ++v) {
    const Value& val = g.values[v];
    if (val.producer < 0 || val.is_graph_input || val.has_initializer || val.outer_scope) continue;
    bytes[v] = StaticBytes(val);
    if (bytes[v] < 0) {
      plan.unplanned.push_back(static_cast<int>(v));
      continue;
    }
    if (last[v] < 0) last[v] = val.producer;
    if (is_output[v]) last[v] = end;
    group[v] = static_cast<int>(v);
  }
  std::vector<int> inplace_of(nv, -1);
  for (const Node& n : g.nodes) {
    if (!(IsViewOp(n) || IsUnaryElementwise(n)) || n.inputs.empty() || n.outputs.empty()) continue;
    const int in = n.inputs[0], out = n.outputs[0];
    if (in < 0 || out < 0 || group[static_cast<size_t>(in)] < 0 || group[static_cast<size_t>(out)] < 0) continue;
    if (last[static_cast<size_t>(in)] != n.index || is_output[static_cast<size_t>(in)]) continue;
    if (bytes[static_cast<size_t>(in)] != bytes[static_cast<size_t>(out)]) continue;
    group[static_cast<size_t>(out)] = group[static_cast<size_t>(in)];
    inplace_of[static_cast<size_t>(out)] = in;
  }

  struct Buf {
    int id;
    uint64_t size;
    int first, last;
    uint64_t offset = 0;
  };
  std::vector<Buf> bufs;
  std::vector<int> buf_of(nv, -1);
  for (size_t v = 0; v < nv; ++v) {
    if (group[v] < 0) continue;
    const size_t root = static_cast<size_t>(group[v]);
    if (buf_of[root] < 0) {
      buf_of[root] = static_cast<int>(bufs.size());
      bufs.push_back({static_cast<int>(root), 0, g.values[root].producer, last[root]});
    }
    Buf& b = bufs[static_cast<size_t>(buf_of[root])];
    buf_of[v] = buf_of[root];
    b.size = std::max<uint64_t>(b.size, static_cast<uint64_t>(bytes[v]));
    b.first = std::min(b.first, g.values[v].producer);
    b.last = std::max(b.last, last[v]);
    plan.naive_bytes += static_cast<uint64_t>(bytes[v]);
  }
  std::vector<size_t> order(bufs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (bufs[a].size != bufs[b].size) return bufs[a].size > bufs[b].size;
    return bufs[a].id < bufs[b].id;
  });
  std::vector<size_t> placed;
  for (size_t bi : order) {
    Buf& b = bufs[bi];
    const uint64_t need = AlignArena(std::max<uint64_t>(b.size, 1));
    std::vector<std::pair<uint64_t, uint64_t>> busy;  // [begin, end) of overlapping buffers
    for (size_t pi : placed) {
      const Buf& p = bufs[pi];
      if (p.first <= b.last && b.first <= p.last) busy.emplace_back(p.offset, p.offset + AlignArena(std::max<uint64_t>(p.size, 1)));
    }
    std::sort(busy.begin(), busy.end());
    uint64_t best = UINT64_MAX, best_gap = UINT64_MAX, cursor = 0;
    for (const auto& [s, e] : busy) {
      if (s > cursor && s - cursor >= need && s - cursor < best_gap) {
        best_gap = s - cursor;
        best = cursor;
      }
      cursor = std::max(cursor, e);
    }
    b.offset = best != UINT64_MAX ? best : cursor;
    plan.arena_bytes = std::max(plan.arena_bytes, b.offset + need);
    placed.push_back(bi);
  }
  for (size_t v = 0; v < nv; ++v) {
    if (buf_of[v] < 0) continue;
    const Buf& b = bufs[static_cast<size_t>(buf_of[v])];
    plan.values.push_back({static_cast<int>(v), b.offset, static_cast<uint64_t>(bytes[v]), g.values[v].producer,
                           last[v], inplace_of[v]});
  }
  return plan;
}

}  // namespace idem::artifact
