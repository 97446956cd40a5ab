#include "onnx/gradient.h"

namespace idem {

Status ExpandGradientNodes(Graph& g) {
  for (const Node& n : g.nodes)
    if (n.op_type == "Gradient" && n.domain == "ai.onnx.preview.training")
      return Unsupported("unsupported operator Gradient (domain ai.onnx.preview.training, opset ", n.opset,
                         ") at node '", n.name, "'");
  return Status::Ok();
}

}  // namespace idem
