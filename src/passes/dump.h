// A readable text listing of an IR graph for `idem compile --dump-graph`: graph inputs and
// outputs with their types, initializers summarized by dtype and shape, then one line per node
//   outputs = domain.op(inputs) {attributes} [provenance]
// with value types after the names where known, and subgraphs indented under their node.
#pragma once

#include <string>

#include "ir/graph.h"

namespace idem::passes {

std::string DumpGraph(const Graph& g);

}  // namespace idem::passes
