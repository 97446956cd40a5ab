#include "artifact/inspect.h"

#include <cinttypes>
#include <cstdio>
#include <sstream>

namespace idem::artifact {

namespace {

// The static shape of value `id`: its initializer's, or its declared one; false if unknown.
bool StaticShape(const Graph& g, int id, Shape* out) {
  if (id < 0 || static_cast<size_t>(id) >= g.values.size()) return false;
  const Value& v = g.values[static_cast<size_t>(id)];
  if (v.has_initializer && !v.is_graph_input) {
    *out = v.initializer.shape();
    return true;
  }
  if (v.type.kind != ValueType::Kind::kTensor || !v.type.has_shape) return false;
  out->clear();
  for (const Dim& d : v.type.dims) {
    if (d.value < 0) return false;
    out->push_back(d.value);
  }
  return true;
}

bool Contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

std::string Human(double x, const char* unit) {
  const char* prefixes[] = {"", "K", "M", "G", "T", "P"};
  int i = 0;
  while (x >= 1000 && i < 5) {
    x /= 1000;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), i == 0 ? "%.0f %s%s" : "%.2f %s%s", x, prefixes[i], unit);
  return buf;
}

std::string Bytes(uint64_t b) {
  char buf[64];
  if (b >= (1u << 20))
    std::snprintf(buf, sizeof(buf), "%" PRIu64 " bytes (%.2f MiB)", b, static_cast<double>(b) / (1 << 20));
  else
    std::snprintf(buf, sizeof(buf), "%" PRIu64 " bytes", b);
  return buf;
}

std::string SigText(const IoSig& s) {
  return "  " + s.name + ": " + ValueTypeToString(s.type) + (s.has_default ? " (optional: has a default)" : "") + "\n";
}

}  // namespace

int64_t EstimateFlops(const Graph& g, int64_t* unknown) {
  int64_t flops = 0, skipped = 0;
  for (const Node& n : g.nodes) {
    const std::string& op = n.op_type;
    const bool conv = Contains(op, "Conv");
    const bool matmul = Contains(op, "MatMul") || Contains(op, "Gemm");
    if (!conv && !matmul) continue;
    Shape y, a, w;
    if (n.outputs.empty() || n.inputs.size() < 2 || !StaticShape(g, n.outputs[0], &y)) {
      ++skipped;
      continue;
    }
    const int64_t ny = NumElements(y);
    int64_t k = 0;
    if (conv && StaticShape(g, n.inputs[1], &w) && w.size() >= 2) {
      // Each output element of Conv reads C/group x kernel inputs: W is [M, C/group, k...].
      // ConvTranspose's W is [C, M/group, k...]: per input element; use the input's count.
      k = NumElements(Shape(w.begin() + 1, w.end()));
      if (Contains(op, "ConvTranspose") && StaticShape(g, n.inputs[0], &a)) {
        flops += 2 * NumElements(a) * k;
        continue;
      }
    } else if (matmul && StaticShape(g, n.inputs[0], &a) && !a.empty()) {
      const Attribute* ta = n.FindAttribute("transA");
      k = (Contains(op, "Gemm") && ta && ta->i != 0) ? a[0] : a.back();
    } else {
      ++skipped;
      continue;
    }
    flops += 2 * ny * k;
  }
  if (unknown) *unknown = skipped;
  return flops;
}

int64_t ParameterCount(const Graph& g) {
  int64_t n = 0;
  for (const Value& v : g.values)
    if (v.has_initializer) n += v.initializer.numel();
  for (const Node& node : g.nodes)
    for (const auto& [_, a] : node.attributes) {
      if (a.g) n += ParameterCount(*a.g);
      for (const auto& gg : a.graphs) n += ParameterCount(*gg);
    }
  return n;
}

std::string InspectText(const std::string& path, const LoadedArtifact& a) {
  const ArtifactInfo& i = a.info;
  const Graph& g = *a.graph;
  std::ostringstream os;
  os << "idem artifact " << path << "\n";
  os << "  format version " << i.header.format_version << ", built by idem " << i.idem_version << ", "
     << Bytes(i.file_bytes) << ", flags 0x" << std::hex << i.header.flags << std::dec
     << ((i.header.flags & kFlagPreparedWeights) ? " (prepared weights)" : "") << "\n";
  if (!i.producer.empty()) os << "  producer: " << i.producer << "\n";
  os << "  compile options: opt-level " << i.opt_level;
  for (const auto& [name, dims] : i.input_shapes) {
    os << ", --input-shape " << name << ":";
    for (size_t k = 0; k < dims.size(); ++k) os << (k ? "," : "") << dims[k];
  }
  os << "\n";
  os << "inputs:\n";
  for (const IoSig& s : i.inputs) os << SigText(s);
  os << "outputs:\n";
  for (const IoSig& s : i.outputs) os << SigText(s);

  int64_t nb = 0, na = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> ops;
  for (const auto& [op, c] : i.ops_before) {
    ops[op].first = c;
    nb += c;
  }
  for (const auto& [op, c] : i.ops_after) {
    ops[op].second = c;
    na += c;
  }
  os << "ops (before -> after optimization): " << nb << " -> " << na << " nodes\n";
  for (const auto& [op, c] : ops) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "  %-28s %6" PRId64 " -> %6" PRId64 "\n", op.c_str(), c.first, c.second);
    os << buf;
  }
  if (!i.passes.empty()) {
    os << "passes (changes):";
    for (const auto& [p, c] : i.passes) os << " " << p << "=" << c;
    os << "\n";
  }
  std::map<std::string, int64_t> kernels;
  for (const KernelChoice& k : i.kernels) ++kernels[k.op + "/" + k.variant];
  os << "kernels (R5, chosen at compile time):";
  for (const auto& [k, c] : kernels) os << " " << k << "=" << c;
  os << "\n";

  const int64_t params = ParameterCount(g);
  os << "parameters: " << params << " (" << Human(static_cast<double>(params), "") << ")\n";
  int64_t unknown = 0;
  const int64_t flops = EstimateFlops(g, &unknown);
  os << "FLOPs (estimate: Conv/MatMul/Gemm and fused forms, 2 per multiply-add): " << flops << " ("
     << Human(static_cast<double>(flops), "FLOP") << ")";
  if (unknown > 0) os << ", " << unknown << " nodes without static shapes not counted";
  os << "\n";
  os << "weight section: " << Bytes(i.weight_bytes) << ", of which prepared (packed) weights "
     << Bytes(i.prepared_bytes) << " for " << i.prepared_nodes << " nodes\n";
  const MemoryPlan& mp = i.memory_plan;
  int64_t inplace = 0;
  for (const PlannedValue& p : mp.values) inplace += p.inplace_of >= 0;
  char pct[32] = "-";
  if (mp.naive_bytes > 0)
    std::snprintf(pct, sizeof(pct), "%.1f%%", 100.0 * static_cast<double>(mp.arena_bytes) / static_cast<double>(mp.naive_bytes));
  os << "memory plan: arena " << Bytes(mp.arena_bytes) << " vs naive total " << Bytes(mp.naive_bytes) << " (" << pct
     << "); " << mp.values.size() << " planned values, " << inplace << " in place, " << mp.unplanned.size()
     << " unplanned (dynamic shape)\n";
  os << "sections:\n";
  for (const Section& s : i.header.sections) {
    char buf[128];
    std::snprintf(buf, sizeof(buf), "  %-9s offset %12" PRIu64 "  size %12" PRIu64 "  sha256 ", SectionKindName(s.kind),
                  s.offset, s.size);
    os << buf << DigestHex(s.sha256) << "\n";
  }
  os << "determinism:";
  for (int d = 0; d < 6; ++d)
    if (i.determinism_flags & (1u << d)) os << " D" << (d + 1);
  os << "\n  " << i.determinism_statement << "\n";
  return os.str();
}

}  // namespace idem::artifact
