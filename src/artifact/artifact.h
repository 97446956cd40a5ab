// Writing and loading .idem artifacts (docs/artifact.md).
//
// Writing is deterministic (D5): the bytes depend only on the graph, the prepared states, the
// memory plan and the options given here — no timestamps, pointers or unordered iteration; the
// FlatBuffer is built in one fixed traversal order and tensors are laid out in that same order.
//
// Loading maps the file (mmap, copy-on-write private mapping: the file is never modified),
// verifies it, and rebuilds the Graph with initializers and prepared tensors that point into the
// mapping (zero copy); the mapping lives as long as any of those tensors.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "artifact/format.h"
#include "artifact/memory_plan.h"
#include "core/status.h"
#include "ir/graph.h"
#include "kernels/kernel.h"

namespace idem::artifact {

// Prepared states per graph (main graph and subgraphs), indexed by node index; null = none.
using PreparedStates = std::map<const Graph*, std::vector<std::shared_ptr<const PreparedState>>>;

struct KernelChoice {
  std::string op;
  std::string variant;
};

struct IoSig {
  std::string name;
  ValueType type;
  bool has_default = false;
};

// Invariances of DESIGN.md §2 (bit i-1 = Di).
inline constexpr uint32_t kDeterminismAll = 0x3f;

struct ArtifactInfo {
  std::string idem_version;
  std::string producer;
  int opt_level = 0;
  std::map<std::string, std::vector<int64_t>> input_shapes;
  std::map<std::string, int64_t> ops_before, ops_after;
  std::vector<std::pair<std::string, int64_t>> passes;
  std::vector<int> schedule;
  MemoryPlan memory_plan;
  std::vector<IoSig> inputs, outputs;
  uint32_t determinism_flags = 0;
  std::string determinism_statement;
  // Kernel choice per main-graph node.
  std::vector<KernelChoice> kernels;
  Header header;
  uint64_t file_bytes = 0;
  uint64_t weight_bytes = 0;      // size of the weight section
  uint64_t prepared_bytes = 0;    // of which prepared (packed) states
  int64_t prepared_nodes = 0;
  // The read-only view of the mapped file (tensors of the graph point into it).
  const uint8_t* mapped_data = nullptr;
  uint64_t mapped_size = 0;
};

// What the compiler hands to the writer.
struct ArtifactInput {
  const Graph* graph = nullptr;
  const PreparedStates* prepared = nullptr;
  std::string producer;
  int opt_level = 0;
  std::map<std::string, std::vector<int64_t>> input_shapes;
  std::map<std::string, int64_t> ops_before, ops_after;
  std::vector<std::pair<std::string, int64_t>> passes;
};

// The standard determinism statement of this idem version.
std::string DeterminismStatement();

// Writes the artifact to `path` (via a temporary file renamed into place). `progress` (may be
// null) is called with the fraction of weight bytes written.
Status WriteArtifact(const ArtifactInput& in, const std::string& path, const std::function<void(double)>& progress = {});

struct LoadOptions {
  bool verify_weights = true;  // SHA-256 of the weight section (the header and metadata are always verified)
};

struct LoadedArtifact {
  std::shared_ptr<Graph> graph;
  PreparedStates prepared;
  ArtifactInfo info;
};

Result<LoadedArtifact> LoadArtifact(const std::string& path, const LoadOptions& options = {});

// True if the file starts with the artifact magic (detection by content, not extension).
bool IsArtifactFile(const std::string& path);

}  // namespace idem::artifact
