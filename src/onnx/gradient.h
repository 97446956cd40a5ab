// Import-time expansion of ai.onnx.preview.training Gradient nodes into explicit backward nodes.
#pragma once

#include "core/status.h"
#include "ir/graph.h"

namespace idem {

// Replaces every Gradient node of `g` by nodes computing the requested gradients.
Status ExpandGradientNodes(Graph& g);

}  // namespace idem
