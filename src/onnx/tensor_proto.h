// Conversions between ONNX protobuf messages (TensorProto, SequenceProto, OptionalProto) and idem
// tensors/values. Shared by the model importer, the CLI's .pb input reader and the test runner.
#pragma once

#include <string>

#include "core/status.h"
#include "core/value.h"
#include "ir/graph.h"

namespace onnx {
class TensorProto;
class SequenceProto;
class OptionalProto;
class TypeProto;
}  // namespace onnx

namespace idem {

// `base_dir` is the directory external data locations are relative to ("" = no external data).
Result<Tensor> TensorFromProto(const onnx::TensorProto& p, const std::string& base_dir);
Result<RtValue> SequenceFromProto(const onnx::SequenceProto& p);
Result<RtValue> OptionalFromProto(const onnx::OptionalProto& p);

ValueType ValueTypeFromProto(const onnx::TypeProto& t);

// Reads a serialized TensorProto / SequenceProto / OptionalProto file, choosing the message by
// the expected type (unknown -> TensorProto).
Result<RtValue> ReadValuePb(const std::string& path, const ValueType& expected);

// Reads a whole file into memory.
Result<std::string> ReadFileBytes(const std::string& path);

}  // namespace idem
