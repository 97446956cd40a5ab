// idem command-line tool: compile, run, inspect, bench, load-time. Contract: DESIGN.md §4; the artifact:
// docs/artifact.md. Every failure prints one line
// "idem: error: <what>" to stderr and exits non-zero (1 = error, 2 = usage, 3 = unsupported model).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "artifact/artifact.h"
#include "artifact/compiler.h"
#include "artifact/inspect.h"
#include "core/digest.h"
#include "core/npy.h"
#include "kernels/simd/isa.h"
#include "onnx/tensor_proto.h"
#include "runtime/session.h"

namespace {

using namespace idem;

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnsupported = 3;

int Fail(const Status& st) {
  std::string msg = st.message();
  for (char& c : msg)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "idem: error: %s\n", msg.c_str());
  return st.code() == StatusCode::kUnsupported ? kExitUnsupported : kExitError;
}

std::string ValuePreview(const Tensor& t, int count) {
  std::string s;
  const int64_t n = std::min<int64_t>(t.numel(), count);
  for (int64_t i = 0; i < n; ++i) {
    if (i) s += ", ";
    if (t.dtype() == DType::kString) {
      s += "\"" + t.data<std::string>()[i] + "\"";
    } else if (IsFloat(t.dtype())) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.6g", t.DoubleAt(i));
      s += buf;
    } else if (t.dtype() == DType::kU64) {
      s += std::to_string(t.data<uint64_t>()[i]);
    } else {
      s += std::to_string(t.IntAt(i));
    }
  }
  if (t.numel() > n) s += ", ...";
  return s;
}

void PrintTensor(const std::string& name, const Tensor& t) {
  std::printf("%s: %s %s [%s] sha256=%s\n", name.c_str(), DTypeName(t.dtype()), ShapeToString(t.shape()).c_str(),
              ValuePreview(t, 6).c_str(), TensorSha256(t).c_str());
}

Status WriteOutput(const std::filesystem::path& dir, const std::string& name, const RtValue& v, bool print) {
  const std::string file = OutputFileStem(name);
  if (IsTensor(v)) {
    IDEM_RETURN_IF_ERROR(WriteNpy((dir / (file + ".npy")).string(), std::get<Tensor>(v)));
    if (print) PrintTensor(name, std::get<Tensor>(v));
  } else if (IsSequence(v)) {
    const auto& seq = std::get<TensorSequence>(v);
    const auto sub = dir / file;
    std::error_code ec;
    std::filesystem::create_directories(sub, ec);
    if (ec) return IoError("cannot create directory '", sub.string(), "'");
    for (size_t i = 0; i < seq.items.size(); ++i) {
      IDEM_RETURN_IF_ERROR(WriteNpy((sub / (std::to_string(i) + ".npy")).string(), seq.items[i]));
      if (print) PrintTensor(name + "[" + std::to_string(i) + "]", seq.items[i]);
    }
    if (print) std::printf("%s: sequence of %zu tensors\n", name.c_str(), seq.items.size());
  } else {
    // An empty optional: an empty marker file.
    FILE* f = std::fopen((dir / (file + ".none")).string().c_str(), "wb");
    if (f == nullptr) return IoError("cannot write '", (dir / (file + ".none")).string(), "'");
    std::fclose(f);
    if (print) std::printf("%s: none (empty optional)\n", name.c_str());
  }
  return Status::Ok();
}

Result<RtValue> ReadInput(const std::string& path, const ValueType& type) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".npy") {
    IDEM_ASSIGN_OR_RETURN(Tensor t, ReadNpy(path));
    return RtValue(std::move(t));
  }
  return ReadValuePb(path, type);
}

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string output_dir;
  int threads = 1;
  uint64_t seed = 0;
  bool print = false;
  std::string isa;  // empty: IDEM_ISA or the best the CPU supports
  bool no_verify = false;
};

// The --input NAME=PATH specs, read with the types the model declares.
Result<std::vector<std::pair<std::string, RtValue>>> ReadInputs(const Session& s, const std::vector<std::string>& specs) {
  std::vector<std::pair<std::string, RtValue>> inputs;
  for (const std::string& spec : specs) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) return InvalidArgument("--input expects NAME=PATH, got '", spec, "'");
    const std::string name = spec.substr(0, eq), path = spec.substr(eq + 1);
    ValueType type;
    for (const IoInfo& info : s.inputs())
      if (info.name == name) type = info.type;
    auto v = ReadInput(path, type);
    if (!v.ok()) return v.status().WithContext("input '" + name + "'");
    inputs.emplace_back(name, std::move(v).value());
  }
  return inputs;
}

// Chooses the kernels' ISA: --isa, else the environment variable IDEM_ISA, else the best one.
Status SelectIsa(const std::string& name) {
  if (name.empty()) return simd::InitIsaFromEnvironment();
  IDEM_ASSIGN_OR_RETURN(simd::Isa isa, simd::ParseIsa(name));
  return simd::SetIsa(isa).WithContext("--isa");
}

int RunCommand(const RunArgs& a) {
  if (Status st = SelectIsa(a.isa); !st.ok()) return Fail(st);
  SessionOptions so;
  so.threads = a.threads;
  so.seed = a.seed;
  so.verify_weights = !a.no_verify;
  auto session = Session::Load(a.model, so);
  if (!session.ok()) return Fail(session.status());
  const Session& s = **session;

  auto inputs = ReadInputs(s, a.inputs);
  if (!inputs.ok()) return Fail(inputs.status());
  auto outputs = s.Run(std::move(inputs).value());
  if (!outputs.ok()) return Fail(outputs.status());

  const std::filesystem::path dir(a.output_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) return Fail(IoError("cannot create output directory '", a.output_dir, "'"));
  if (a.print) std::printf("isa: %s\n", simd::CurrentIsaName());
  for (size_t i = 0; i < outputs->size(); ++i) {
    Status st = WriteOutput(dir, s.outputs()[i].name, (*outputs)[i], a.print);
    if (!st.ok()) return Fail(st);
  }
  return 0;
}


// ---------------------------------------------------------------- compile

enum class LogLevel { kError, kWarn, kInfo, kDebug };

struct CompileArgs {
  std::string model;
  std::string output;
  int threads = 1;
  std::vector<std::string> input_shapes;
  int opt_level = 2;
  std::string dump_graph;
  std::string log = "warn";
};

// "NAME:D0,D1,..." (the last ':' separates, so names may contain ':'; "NAME:" is a scalar).
Status ParseInputShape(const std::string& spec, std::map<std::string, std::vector<int64_t>>* out) {
  const size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return InvalidArgument("--input-shape expects NAME:D0,D1,..., got '", spec, "'");
  const std::string name = spec.substr(0, colon), dims = spec.substr(colon + 1);
  std::vector<int64_t> shape;
  size_t pos = 0;
  while (pos < dims.size()) {
    size_t comma = dims.find(',', pos);
    if (comma == std::string::npos) comma = dims.size();
    const std::string d = dims.substr(pos, comma - pos);
    if (d.empty() || d.size() > 18 || !std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return InvalidArgument("--input-shape ", name, ": dim '", d, "' is not a non-negative integer");
    shape.push_back(std::stoll(d));
    pos = comma + 1;
    if (comma + 1 == dims.size()) return InvalidArgument("--input-shape ", name, ": trailing ','");
  }
  if (out->count(name)) return InvalidArgument("--input-shape ", name, " is given twice");
  (*out)[name] = std::move(shape);
  return Status::Ok();
}

int CompileCommand(const CompileArgs& a) {
  const LogLevel level = a.log == "error" ? LogLevel::kError
                         : a.log == "info" ? LogLevel::kInfo
                         : a.log == "debug" ? LogLevel::kDebug
                                            : LogLevel::kWarn;
  artifact::CompileOptions o;
  o.threads = a.threads;
  o.opt_level = a.opt_level;
  o.dump_graph_path = a.dump_graph;
  for (const std::string& spec : a.input_shapes)
    if (Status st = ParseInputShape(spec, &o.input_shapes); !st.ok()) return Fail(st);
  // Progress: a self-updating line on a terminal; one line per stage at --log info and above.
  const bool tty = ::isatty(2) != 0;
  const bool lines = level >= LogLevel::kInfo;
  static const char* kStages[] = {"import", "optimize", "prepare", "plan", "write"};
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  int last_pct = -1;
  o.progress = [&](const std::string& stage, double fraction) {
    int k = 0;
    while (k < 5 && stage != kStages[k]) ++k;
    if (lines && fraction == 0.0) {
      std::fprintf(stderr, "idem compile: [%d/5] %s (%.2f s)\n", k + 1, stage.c_str(), elapsed());
    } else if (tty && !lines) {
      const int pct = static_cast<int>(fraction * 100);
      if (fraction != 0.0 && pct == last_pct) return;
      last_pct = pct;
      std::fprintf(stderr, "\r\033[Kidem compile: [%d/5] %s", k + 1, stage.c_str());
      if (stage == "write") std::fprintf(stderr, " %3d%%", pct);
      std::fprintf(stderr, " (%.1f s)", elapsed());
    }
  };
  auto r = artifact::CompileModel(a.model, a.output, o);
  if (tty && !lines) std::fprintf(stderr, "\r\033[K");
  if (!r.ok()) return Fail(r.status());
  if (lines) {
    int64_t before = 0, after = 0;
    for (const auto& [_, c] : r->report.ops_before) before += c;
    for (const auto& [_, c] : r->report.ops_after) after += c;
    std::fprintf(stderr, "idem compile: wrote %s: %" PRIu64 " bytes, %" PRId64 " -> %" PRId64
                         " nodes, %" PRId64 " prepared, arena %" PRIu64 " bytes (naive %" PRIu64 ") in %.2f s\n",
                 a.output.c_str(), r->file_bytes, before, after, r->prepared_nodes, r->memory_plan.arena_bytes,
                 r->memory_plan.naive_bytes, elapsed());
  }
  if (level >= LogLevel::kDebug) {
    for (const auto& [stage, sec] : r->stage_seconds) std::fprintf(stderr, "idem compile: stage %s %.3f s\n", stage.c_str(), sec);
    for (const auto& p : r->report.passes)
      std::fprintf(stderr, "idem compile: pass %s: %" PRId64 " changes\n", p.pass.c_str(), p.changes);
  }
  return 0;
}

// ---------------------------------------------------------------- inspect / load-time

int InspectCommand(const std::string& path, bool no_verify) {
  artifact::LoadOptions lo;
  lo.verify_weights = !no_verify;
  if (!artifact::IsArtifactFile(path)) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return Fail(IoError("cannot open '", path, "'"));
  }
  auto a = artifact::LoadArtifact(path, lo);
  if (!a.ok()) return Fail(a.status());
  std::fputs(artifact::InspectText(path, *a).c_str(), stdout);
  return 0;
}

// Load time, open to ready-to-run (a Session that could Run), for .onnx and .idem alike.
int LoadTimeCommand(const std::string& path, int repeat, bool no_verify) {
  SessionOptions so;
  so.verify_weights = !no_verify;
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto s = Session::Load(path, so);
    const auto t1 = std::chrono::steady_clock::now();
    if (!s.ok()) return Fail(s.status());
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  std::printf("%s: load (open to ready-to-run) min %.2f ms, median %.2f ms over %d runs%s\n", path.c_str(), sorted.front(),
              sorted[sorted.size() / 2], repeat, no_verify ? " (weights not verified)" : "");
  return 0;
}

// ---------------------------------------------------------------- bench

struct BenchArgs {
  std::string model;
  std::vector<std::string> inputs;
  int threads = 1;
  std::string isa;
  int warmup = 2;
  int runs = 10;
  bool no_verify = false;
  bool json = false;
  bool profile = false;
  int top = 15;
};

// `text` as the body of a JSON string.
std::string JsonEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// Per-node wall times summed over the profiled runs (bench --profile): by op type and by node.
class BenchProfile : public NodeTimer {
 public:
  explicit BenchProfile(const Graph* main) : main_(main) {}

  void Record(const Graph& graph, const Node& node, int64_t nanoseconds) override {
    // Nodes of subgraphs run inside their parent node: counted per node, not in the op totals
    // (their time is already in the If/Loop/Scan that ran them).
    const bool top_level = &graph == main_;
    NodeStat& st = nodes_[{&graph, node.index}];
    if (st.calls == 0) {
      st.name = node.name.empty() ? "#" + std::to_string(node.index) : node.name;
      st.op = node.domain.empty() ? node.op_type : node.domain + "." + node.op_type;
      st.top_level = top_level;
    }
    st.ns += nanoseconds;
    ++st.calls;
    if (top_level) total_ns_ += nanoseconds;
  }

  // Prints the op types by total time and the `top` slowest nodes, per run (divided by `runs`).
  void Print(int runs, int top, bool json) const {
    struct OpStat {
      std::string op;
      int64_t ns = 0;
      int nodes = 0;
    };
    std::map<std::string, OpStat> ops;
    std::vector<const NodeStat*> nodes;
    for (const auto& [key, st] : nodes_) {
      nodes.push_back(&st);
      if (!st.top_level) continue;
      OpStat& o = ops[st.op];
      o.op = st.op;
      o.ns += st.ns;
      ++o.nodes;
    }
    std::vector<OpStat> by_op;
    for (auto& [name, o] : ops) by_op.push_back(o);
    std::stable_sort(by_op.begin(), by_op.end(), [](const OpStat& x, const OpStat& y) { return x.ns > y.ns; });
    std::stable_sort(nodes.begin(), nodes.end(), [](const NodeStat* x, const NodeStat* y) { return x->ns > y->ns; });
    if (nodes.size() > static_cast<size_t>(top)) nodes.resize(static_cast<size_t>(top));
    const double per_run = 1e-6 / std::max(runs, 1);  // ns summed over runs -> ms per run
    const double total = static_cast<double>(std::max<int64_t>(total_ns_, 1));
    if (json) {
      std::printf("{\"profile_runs\": %d, \"nodes_ms\": %.3f, \"by_op\": [", runs, total_ns_ * per_run);
      for (size_t i = 0; i < by_op.size(); ++i)
        std::printf("%s{\"op\": \"%s\", \"nodes\": %d, \"ms\": %.4f, \"share\": %.4f}", i ? ", " : "",
                    JsonEscape(by_op[i].op).c_str(), by_op[i].nodes, by_op[i].ns * per_run, by_op[i].ns / total);
      std::printf("], \"top_nodes\": [");
      for (size_t i = 0; i < nodes.size(); ++i)
        std::printf("%s{\"node\": \"%s\", \"op\": \"%s\", \"ms\": %.4f, \"share\": %.4f}", i ? ", " : "",
                    JsonEscape(nodes[i]->name).c_str(), JsonEscape(nodes[i]->op).c_str(), nodes[i]->ns * per_run,
                    nodes[i]->ns / total);
      std::printf("]}\n");
      return;
    }
    std::printf("  profile (%d runs; per run, nodes total %.2f ms):\n", runs, total_ns_ * per_run);
    std::printf("    %-28s %6s %10s %7s\n", "op", "nodes", "ms", "share");
    for (const OpStat& o : by_op)
      std::printf("    %-28s %6d %10.3f %6.1f%%\n", o.op.c_str(), o.nodes, o.ns * per_run, 100.0 * o.ns / total);
    std::printf("    slowest nodes:\n");
    for (const NodeStat* n : nodes)
      std::printf("    %-40s %-20s %10.3f %6.1f%%\n", n->name.c_str(), n->op.c_str(), n->ns * per_run,
                  100.0 * n->ns / total);
  }

 private:
  struct NodeStat {
    std::string name, op;
    bool top_level = true;
    int64_t ns = 0;
    int64_t calls = 0;
  };
  const Graph* main_;
  std::map<std::pair<const Graph*, int>, NodeStat> nodes_;
  int64_t total_ns_ = 0;
};

// SHA-256 over every output tensor's bytes, in order (sequences: their items; empty optionals: "none").
std::string OutputsDigest(const std::vector<RtValue>& outs) {
  std::string all;
  for (const RtValue& v : outs) {
    if (IsTensor(v)) {
      all += TensorSha256(std::get<Tensor>(v));
    } else if (IsSequence(v)) {
      for (const Tensor& t : std::get<TensorSequence>(v).items) all += TensorSha256(t);
    } else {
      all += "none";
    }
    all += ';';
  }
  return all;
}

// Steady-state latency of one model: load once, `warmup` untimed runs, `runs` timed runs of the same
// inputs (wall clock of Session::Run, outputs included, no file I/O). Every run's outputs must have
// the same bits as the first run's (D1), else the command fails.
int BenchCommand(const BenchArgs& a) {
  if (Status st = SelectIsa(a.isa); !st.ok()) return Fail(st);
  SessionOptions so;
  so.threads = a.threads;
  so.verify_weights = !a.no_verify;
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); };
  const auto t_load = Clock::now();
  auto session = Session::Load(a.model, so);
  if (!session.ok()) return Fail(session.status());
  const double load_ms = ms_since(t_load);
  const Session& s = **session;
  auto inputs = ReadInputs(s, a.inputs);
  if (!inputs.ok()) return Fail(inputs.status());

  std::string first_digest;
  double first_ms = 0;
  std::vector<double> ms;
  for (int i = 0; i < a.warmup + a.runs; ++i) {
    const auto t0 = Clock::now();
    auto outputs = s.Run(*inputs);
    const double dt = ms_since(t0);
    if (!outputs.ok()) return Fail(outputs.status());
    const std::string digest = OutputsDigest(*outputs);
    if (i == 0) {
      first_digest = digest;
      first_ms = dt;
    } else if (digest != first_digest) {
      return Fail(Internal("run ", i + 1, " gave different output bits than run 1 (a determinism bug)"));
    }
    if (i >= a.warmup) ms.push_back(dt);
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  double mean = 0;
  for (double x : ms) mean += x;
  mean /= static_cast<double>(std::max<size_t>(ms.size(), 1));
  const double median = sorted.empty() ? 0 : sorted[sorted.size() / 2];
  const double min = sorted.empty() ? 0 : sorted.front();
  const double max = sorted.empty() ? 0 : sorted.back();
  // Profiled runs come after the timed ones, so that the clock reads per node never touch the
  // latency figures; their outputs are checked like every other run's.
  BenchProfile profile(&s.graph());
  for (int i = 0; a.profile && i < a.runs; ++i) {
    auto outputs = s.Run(*inputs, &profile);
    if (!outputs.ok()) return Fail(outputs.status());
    if (OutputsDigest(*outputs) != first_digest)
      return Fail(Internal("profiled run ", i + 1, " gave different output bits than run 1 (a determinism bug)"));
  }
  if (a.json) {
    std::printf("{\"model\": \"%s\", \"isa\": \"%s\", \"threads\": %d, \"load_ms\": %.3f, \"first_run_ms\": %.3f, "
                "\"runs\": %d, \"median_ms\": %.3f, \"mean_ms\": %.3f, \"min_ms\": %.3f, \"max_ms\": %.3f, "
                "\"identical_outputs\": true}\n",
                a.model.c_str(), simd::CurrentIsaName(), a.threads, load_ms, first_ms, a.runs, median, mean, min, max);
  } else {
    std::printf("%s: isa %s, threads %d\n", a.model.c_str(), simd::CurrentIsaName(), a.threads);
    std::printf("  load (open to ready-to-run) %.2f ms, first run %.2f ms\n", load_ms, first_ms);
    std::printf("  %d runs after %d warm-up: median %.2f ms, mean %.2f ms, min %.2f ms, max %.2f ms\n", a.runs, a.warmup,
                median, mean, min, max);
    std::printf("  outputs of all %d runs bitwise identical\n", a.warmup + a.runs * (a.profile ? 2 : 1));
  }
  if (a.profile) profile.Print(a.runs, a.top, a.json);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"idem: bitwise-reproducible ONNX compiler and runtime"};
  app.require_subcommand(1);
  RunArgs run;
  CLI::App* run_cmd = app.add_subcommand("run", "Run a model on inputs and write its outputs as .npy files");
  run_cmd->add_option("model", run.model, "model file (.onnx or .idem, recognized by content)")->required();
  run_cmd->add_option("--input,-i", run.inputs, "NAME=PATH (.npy or ONNX TensorProto .pb); repeat per input");
  run_cmd->add_option("--output-dir,-o", run.output_dir, "directory for <output>.npy files")->required();
  run_cmd->add_option("--threads,-t", run.threads, "intra-op threads (changes speed, never results)")
      ->check(CLI::Range(1, 1024));
  run_cmd->add_option("--seed", run.seed, "seed for random operators");
  run_cmd->add_option("--isa", run.isa, "kernel instruction set: scalar, avx2 or avx512 (changes speed, never results)")
      ->check(CLI::IsMember({"scalar", "avx2", "avx512"}));
  run_cmd->add_flag("--print", run.print, "print shape, dtype, first values and SHA-256 of each output");
  run_cmd->add_flag("--no-verify", run.no_verify, "for .idem files: skip the weight section's SHA-256 check");

  CompileArgs comp;
  CLI::App* compile_cmd = app.add_subcommand("compile", "Compile an ONNX model into a .idem artifact");
  compile_cmd->add_option("model", comp.model, "model file (.onnx)")->required();
  compile_cmd->add_option("--output,-o", comp.output, "artifact to write (.idem)")->required();
  compile_cmd->add_option("--threads,-t", comp.threads, "threads for weight packing (never changes the artifact)")
      ->check(CLI::Range(1, 1024));
  compile_cmd->add_option("--input-shape", comp.input_shapes, "NAME:D0,D1,... fixes an input's dims; repeat per input");
  compile_cmd->add_option("--opt-level", comp.opt_level, "0: none, 1: cleanups, 2: also fusions (default)")
      ->check(CLI::Range(0, 2));
  compile_cmd->add_option("--dump-graph", comp.dump_graph, "write the optimized graph (readable text) to FILE");
  compile_cmd->add_option("--log", comp.log, "error, warn (default), info (stages) or debug (also passes)")
      ->check(CLI::IsMember({"error", "warn", "info", "debug"}));

  std::string inspect_path;
  bool inspect_no_verify = false;
  CLI::App* inspect_cmd = app.add_subcommand("inspect", "Print a .idem artifact's signature, ops, plan and checksums");
  inspect_cmd->add_option("model", inspect_path, "artifact (.idem)")->required();
  inspect_cmd->add_flag("--no-verify", inspect_no_verify, "skip the weight section's SHA-256 check");

  std::string load_path;
  int load_repeat = 5;
  bool load_no_verify = false;
  CLI::App* load_cmd = app.add_subcommand("load-time", "Measure load time (open to ready-to-run) of a model");
  load_cmd->add_option("model", load_path, "model file (.onnx or .idem)")->required();
  load_cmd->add_option("--repeat,-n", load_repeat, "number of loads")->check(CLI::Range(1, 1000));
  load_cmd->add_flag("--no-verify", load_no_verify, "for .idem files: skip the weight section's SHA-256 check");
  BenchArgs bench;
  CLI::App* bench_cmd = app.add_subcommand("bench", "Measure a model's steady-state latency (and check every run's bits)");
  bench_cmd->add_option("model", bench.model, "model file (.onnx or .idem)")->required();
  bench_cmd->add_option("--input,-i", bench.inputs, "NAME=PATH (.npy or ONNX TensorProto .pb); repeat per input");
  bench_cmd->add_option("--threads,-t", bench.threads, "intra-op threads")->check(CLI::Range(1, 1024));
  bench_cmd->add_option("--isa", bench.isa, "kernel instruction set: scalar, avx2 or avx512")
      ->check(CLI::IsMember({"scalar", "avx2", "avx512"}));
  bench_cmd->add_option("--warmup", bench.warmup, "untimed runs first (default 2)")->check(CLI::Range(0, 100000));
  bench_cmd->add_option("--runs,-n", bench.runs, "timed runs (default 10)")->check(CLI::Range(1, 100000));
  bench_cmd->add_flag("--no-verify", bench.no_verify, "for .idem files: skip the weight section's SHA-256 check");
  bench_cmd->add_flag("--json", bench.json, "one JSON object on stdout (with --profile: a second line)");
  bench_cmd->add_flag("--profile", bench.profile,
                      "then as many profiled runs: time per op type and the slowest nodes (per run)");
  bench_cmd->add_option("--top", bench.top, "slowest nodes listed by --profile (default 15)")
      ->check(CLI::Range(0, 100000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n') c = ' ';
    std::fprintf(stderr, "idem: error: %s (see idem --help)\n", msg.c_str());
    return kExitUsage;
  }
  if (*run_cmd) return RunCommand(run);
  if (*compile_cmd) return CompileCommand(comp);
  if (*inspect_cmd) return InspectCommand(inspect_path, inspect_no_verify);
  if (*load_cmd) return LoadTimeCommand(load_path, load_repeat, load_no_verify);
  if (*bench_cmd) return BenchCommand(bench);
  return kExitUsage;
}
