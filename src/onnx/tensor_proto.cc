#include "onnx/tensor_proto.h"

#include <onnx/onnx_pb.h>
#include <onnx/onnx-data_pb.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace idem {

Result<std::string> ReadFileBytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return IoError("'", path, "' is a directory, not a file");
  std::ifstream f(path, std::ios::binary);
  if (!f) return IoError("cannot open '", path, "'");
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return IoError("failed reading '", path, "'");
  return ss.str();
}

namespace {

template <typename T, typename Field>
void CopyField(const Field& field, Tensor& t) {
  T* d = t.data<T>();
  for (int i = 0; i < field.size(); ++i) d[i] = static_cast<T>(field.Get(i));
}

Status ReadExternal(const onnx::TensorProto& p, const std::string& base_dir, std::string* out) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : p.external_data()) {
    try {
      if (kv.key() == "location") location = kv.value();
      else if (kv.key() == "offset") offset = std::stoll(kv.value());
      else if (kv.key() == "length") length = std::stoll(kv.value());
    } catch (...) {
      return InvalidModel("tensor '", p.name(), "': malformed external_data entry '", kv.key(), "'");
    }
  }
  if (location.empty()) return InvalidModel("tensor '", p.name(), "': external data has no location");
  const std::filesystem::path rel(location);
  if (rel.is_absolute() || location.find("..") != std::string::npos)
    return InvalidModel("tensor '", p.name(), "': external data location '", location, "' must be relative to the model");
  const std::string path = (std::filesystem::path(base_dir) / rel).string();
  std::ifstream f(path, std::ios::binary);
  if (!f) return IoError("tensor '", p.name(), "': cannot open external data file '", location, "'");
  f.seekg(0, std::ios::end);
  const int64_t size = f.tellg();
  if (offset < 0 || offset > size) return InvalidModel("tensor '", p.name(), "': external data offset out of range");
  if (length < 0) length = size - offset;
  if (offset + length > size) return InvalidModel("tensor '", p.name(), "': external data is shorter than declared");
  out->resize(static_cast<size_t>(length));
  f.seekg(offset);
  f.read(out->data(), length);
  if (!f) return IoError("tensor '", p.name(), "': failed reading external data '", location, "'");
  return Status::Ok();
}

}  // namespace

Result<Tensor> TensorFromProto(const onnx::TensorProto& p, const std::string& base_dir) {
  const std::string what = "tensor '" + p.name() + "'";
  if (!IsValidDType(p.data_type()))
    return Unsupported(what, ": element type ", p.data_type(), " is not supported");
  if (p.has_segment()) return Unsupported(what, ": segmented tensors are not supported");
  const DType dt = static_cast<DType>(p.data_type());
  Shape shape(p.dims().begin(), p.dims().end());
  const int64_t n = NumElements(shape);
  if (n < 0) return InvalidModel(what, ": invalid shape ", ShapeToString(shape));
  IDEM_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dt, shape));
  const bool external = p.data_location() == onnx::TensorProto::EXTERNAL;
  if (external || p.has_raw_data()) {
    if (dt == DType::kString) return InvalidModel(what, ": string tensors cannot use raw_data");
    std::string ext;
    if (external) IDEM_RETURN_IF_ERROR(ReadExternal(p, base_dir, &ext));
    const std::string& raw = external ? ext : p.raw_data();
    if (raw.size() != t.nbytes())
      return InvalidModel(what, ": raw data has ", raw.size(), " bytes but shape ", ShapeToString(shape), " of ",
                          DTypeOnnxName(dt), " needs ", t.nbytes());
    if (!raw.empty()) std::memcpy(t.raw(), raw.data(), raw.size());
    return t;
  }
  auto check = [&](int size) -> Status {
    if (size != n) return InvalidModel(what, ": has ", size, " values but shape ", ShapeToString(shape), " needs ", n);
    return Status::Ok();
  };
  switch (dt) {
    case DType::kF32: IDEM_RETURN_IF_ERROR(check(p.float_data_size())); CopyField<float>(p.float_data(), t); break;
    case DType::kF64: IDEM_RETURN_IF_ERROR(check(p.double_data_size())); CopyField<double>(p.double_data(), t); break;
    case DType::kI64: IDEM_RETURN_IF_ERROR(check(p.int64_data_size())); CopyField<int64_t>(p.int64_data(), t); break;
    case DType::kU32: case DType::kU64:
      IDEM_RETURN_IF_ERROR(check(p.uint64_data_size()));
      if (dt == DType::kU32) CopyField<uint32_t>(p.uint64_data(), t); else CopyField<uint64_t>(p.uint64_data(), t);
      break;
    case DType::kI32: IDEM_RETURN_IF_ERROR(check(p.int32_data_size())); CopyField<int32_t>(p.int32_data(), t); break;
    case DType::kI16: IDEM_RETURN_IF_ERROR(check(p.int32_data_size())); CopyField<int16_t>(p.int32_data(), t); break;
    case DType::kI8: IDEM_RETURN_IF_ERROR(check(p.int32_data_size())); CopyField<int8_t>(p.int32_data(), t); break;
    case DType::kU16: IDEM_RETURN_IF_ERROR(check(p.int32_data_size())); CopyField<uint16_t>(p.int32_data(), t); break;
    case DType::kU8: IDEM_RETURN_IF_ERROR(check(p.int32_data_size())); CopyField<uint8_t>(p.int32_data(), t); break;
    case DType::kBool: IDEM_RETURN_IF_ERROR(check(p.int32_data_size())); CopyField<bool>(p.int32_data(), t); break;
    case DType::kF16: case DType::kBF16: {
      IDEM_RETURN_IF_ERROR(check(p.int32_data_size()));
      auto* d = static_cast<uint16_t*>(t.raw());
      for (int i = 0; i < p.int32_data_size(); ++i) d[i] = static_cast<uint16_t>(p.int32_data(i));
      break;
    }
    case DType::kString: {
      IDEM_RETURN_IF_ERROR(check(p.string_data_size()));
      for (int i = 0; i < p.string_data_size(); ++i) t.data<std::string>()[i] = p.string_data(i);
      break;
    }
    default: return Unsupported(what, ": element type ", DTypeOnnxName(dt), " is not supported");
  }
  return t;
}

Result<RtValue> SequenceFromProto(const onnx::SequenceProto& p) {
  TensorSequence seq;
  if (p.elem_type() != onnx::SequenceProto::TENSOR && p.elem_type() != onnx::SequenceProto::UNDEFINED)
    return Unsupported("sequence '", p.name(), "': only sequences of tensors are supported");
  for (const auto& tp : p.tensor_values()) {
    IDEM_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(tp, ""));
    seq.elem = t.dtype();
    seq.items.push_back(std::move(t));
  }
  return RtValue(std::move(seq));
}

Result<RtValue> OptionalFromProto(const onnx::OptionalProto& p) {
  switch (p.elem_type()) {
    case onnx::OptionalProto::UNDEFINED: return RtValue();
    case onnx::OptionalProto::TENSOR: {
      if (!p.has_tensor_value()) return RtValue();
      IDEM_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(p.tensor_value(), ""));
      return RtValue(std::move(t));
    }
    case onnx::OptionalProto::SEQUENCE:
      if (!p.has_sequence_value()) return RtValue();
      return SequenceFromProto(p.sequence_value());
    default: return Unsupported("optional '", p.name(), "': unsupported element kind");
  }
}

ValueType ValueTypeFromProto(const onnx::TypeProto& t) {
  ValueType v;
  if (t.has_tensor_type()) {
    v.kind = ValueType::Kind::kTensor;
    v.elem = IsValidDType(t.tensor_type().elem_type()) ? static_cast<DType>(t.tensor_type().elem_type()) : DType::kUndefined;
    if (t.tensor_type().has_shape()) {
      v.has_shape = true;
      for (const auto& d : t.tensor_type().shape().dim()) {
        Dim dim;
        if (d.has_dim_value()) dim.value = d.dim_value();
        else if (d.has_dim_param()) dim.symbol = d.dim_param();
        v.dims.push_back(dim);
      }
    }
  } else if (t.has_sequence_type()) {
    v.kind = ValueType::Kind::kSequence;
    if (t.sequence_type().elem_type().has_tensor_type()) {
      const int e = t.sequence_type().elem_type().tensor_type().elem_type();
      v.elem = IsValidDType(e) ? static_cast<DType>(e) : DType::kUndefined;
    }
  } else if (t.has_optional_type()) {
    v.kind = ValueType::Kind::kOptional;
    const ValueType inner = ValueTypeFromProto(t.optional_type().elem_type());
    v.optional_of = inner.kind;
    v.elem = inner.elem;
  }
  return v;
}

Result<RtValue> ReadValuePb(const std::string& path, const ValueType& expected) {
  IDEM_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  const std::string what = "'" + path + "'";
  if (expected.kind == ValueType::Kind::kSequence) {
    onnx::SequenceProto p;
    if (!p.ParseFromString(bytes)) return InvalidArgument(what, " is not a valid ONNX SequenceProto file");
    return SequenceFromProto(p);
  }
  if (expected.kind == ValueType::Kind::kOptional) {
    onnx::OptionalProto p;
    if (!p.ParseFromString(bytes)) return InvalidArgument(what, " is not a valid ONNX OptionalProto file");
    return OptionalFromProto(p);
  }
  onnx::TensorProto p;
  if (!p.ParseFromString(bytes)) return InvalidArgument(what, " is not a valid ONNX TensorProto file");
  auto t = TensorFromProto(p, "");
  if (!t.ok()) return t.status().WithContext(what);
  return RtValue(std::move(t).value());
}

}  // namespace idem
