// ONNX ModelProto -> idem IR. Handles opsets 1-17 of ai.onnx (and ai.onnx.preview.training),
// initializers, external data next to the model, graph inputs that shadow initializers, sparse
// initializers, subgraphs (If/Loop/Scan bodies with outer-scope references), model-local functions
// and ONNX function ops (expanded into their bodies when idem has no kernel for them), and ONNX
// shape inference (types of intermediate values).
//
// Everything idem cannot run is refused here, before any execution, with a one-line message that
// names the operator, its domain and opset, and the node.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace idem {

struct ImportOptions {
  // True if idem has a kernel for (domain, op_type) at `opset`. Ops without one are expanded into
  // their ONNX function body if they have one, and refused otherwise.
  std::function<bool(const std::string& domain, const std::string& op_type, int opset)> has_kernel;
  // `--input-shape NAME:D0,D1,...`: the dims of these graph inputs, applied to the model before
  // ONNX shape inference so every intermediate value gets static shapes. Fixes unknown/symbolic
  // dims; an unknown name, a different rank or a contradicting known dim is an InvalidArgument.
  std::map<std::string, std::vector<int64_t>> input_shapes;
};

struct OnnxModel {
  std::shared_ptr<Graph> graph;
  int64_t ir_version = 0;
  std::string producer;
  std::map<std::string, int> opsets;  // domain ("" = ai.onnx) -> version
};

Result<OnnxModel> ImportOnnxFile(const std::string& path, const ImportOptions& options);
// `base_dir` resolves external data files.
Result<OnnxModel> ImportOnnxBytes(const std::string& bytes, const std::string& base_dir,
                                  const ImportOptions& options);

}  // namespace idem
