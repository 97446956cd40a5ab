// Expansion of function ops (ONNX schema functions and model-local FunctionProtos) into their
// body nodes, renamed so they can be spliced into the calling graph.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace onnx {
class OpSchema;
}

namespace idem {

// Body of `call` as nodes of the calling graph: formal inputs/outputs are renamed to the call's
// actual names, internal names get `prefix`, attribute references are resolved from the call's
// attributes (or the schema's defaults). `fn.opset_import` tells the body's opsets.
Result<std::vector<onnx::NodeProto>> InlineFunctionBody(const onnx::NodeProto& call, const onnx::FunctionProto& fn,
                                                       const onnx::OpSchema* schema, const std::string& prefix);

}  // namespace idem
