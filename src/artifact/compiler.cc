#include "artifact/compiler.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "artifact/artifact.h"
#include "onnx/import.h"
#include "runtime/executor.h"
#include "runtime/session.h"

#if __has_include("passes/dump.h")
#include "passes/dump.h"
#define IDEM_HAVE_DUMP_GRAPH 1
#endif

namespace idem::artifact {

namespace {

std::map<std::string, int64_t> CountOps(const Graph& g) {
  std::map<std::string, int64_t> counts;
  for (const Node& n : g.nodes) ++counts[n.domain.empty() ? n.op_type : n.domain + "." + n.op_type];
  return counts;
}

}  // namespace

Result<CompileSummary> CompileModel(const std::string& onnx_path, const std::string& out_path,
                                    const CompileOptions& options) {
  if (options.threads < 1 || options.threads > 1024)
    return InvalidArgument("thread count must be between 1 and 1024, got ", options.threads);
  CompileSummary summary;
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  auto stage = [&](const std::string& name) {
    const auto now = Clock::now();
    if (!summary.stage_seconds.empty())
      summary.stage_seconds.back().second = std::chrono::duration<double>(now - t0).count();
    t0 = now;
    summary.stage_seconds.emplace_back(name, 0.0);
    if (options.progress) options.progress(name, 0.0);
  };

  stage("import");
  ImportOptions io;
  io.has_kernel = HasKernel;
  // The importer fixes the dims before ONNX shape inference, so intermediate values get static
  // shapes (and can be planned); it refuses unknown names and contradicting dims.
  io.input_shapes = options.input_shapes;
  IDEM_ASSIGN_OR_RETURN(OnnxModel model, ImportOnnxFile(onnx_path, io));
  Graph& g = *model.graph;

  stage("optimize");
  const auto before = CountOps(g);
  passes::OptimizeOptions oo;
  oo.opt_level = options.opt_level;
  oo.input_shapes = options.input_shapes;
  IDEM_RETURN_IF_ERROR(passes::Optimize(&g, oo, &summary.report));
  summary.report.ops_before = before;
  summary.report.ops_after = CountOps(g);
  if (!options.dump_graph_path.empty()) {
#ifdef IDEM_HAVE_DUMP_GRAPH
    std::ofstream f(options.dump_graph_path, std::ios::binary);
    f << passes::DumpGraph(g);
    if (!f) return IoError("cannot write '", options.dump_graph_path, "'");
#else
    return Unsupported("--dump-graph is not available in this build");
#endif
  }

  stage("prepare");
  // Resolves a kernel for every node (unsupported ops fail here, before anything is written) and
  // runs the prepare functions once: the artifact stores their packed weights.
  ThreadPool pool(options.threads);
  std::shared_ptr<const Graph> frozen = model.graph;
  IDEM_ASSIGN_OR_RETURN(auto executor, Executor::Create(frozen, &pool));
  const Executor::PreparedStates states = executor->prepared_states();

  stage("plan");
  summary.memory_plan = PlanMemory(g);

  stage("write");
  ArtifactInput in;
  in.graph = &g;
  in.prepared = &states;
  in.producer = model.producer;
  in.opt_level = options.opt_level;
  in.input_shapes = options.input_shapes;
  in.ops_before = summary.report.ops_before;
  in.ops_after = summary.report.ops_after;
  for (const auto& p : summary.report.passes) in.passes.emplace_back(p.pass, p.changes);
  IDEM_RETURN_IF_ERROR(WriteArtifact(in, out_path, [&](double f) {
    if (options.progress) options.progress("write", f);
  }));
  summary.stage_seconds.back().second = std::chrono::duration<double>(Clock::now() - t0).count();
  std::error_code ec;
  summary.file_bytes = std::filesystem::file_size(out_path, ec);
  for (const auto& [_, v] : states)
    for (const auto& s : v) summary.prepared_nodes += s != nullptr;
  return summary;
}

}  // namespace idem::artifact
