// Element types. Numbering follows onnx.TensorProto.DataType so values round-trip unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "core/half.h"
#include "core/status.h"

namespace idem {

enum class DType : int32_t {
  kUndefined = 0,
  kF32 = 1,
  kU8 = 2,
  kI8 = 3,
  kU16 = 4,
  kI16 = 5,
  kI32 = 6,
  kI64 = 7,
  kString = 8,
  kBool = 9,
  kF16 = 10,
  kF64 = 11,
  kU32 = 12,
  kU64 = 13,
  kBF16 = 16,
};

// Size in bytes of one element (strings: sizeof(std::string)).
size_t DTypeSize(DType t);
// Lower-case short name: "f32", "i64", "bool", "string", ...
const char* DTypeName(DType t);
// ONNX spelling: "float", "int64", ... (for messages about models).
const char* DTypeOnnxName(DType t);
bool IsValidDType(int32_t onnx_type);
inline bool IsFloat(DType t) {
  return t == DType::kF32 || t == DType::kF64 || t == DType::kF16 || t == DType::kBF16;
}
inline bool IsSignedInt(DType t) {
  return t == DType::kI8 || t == DType::kI16 || t == DType::kI32 || t == DType::kI64;
}
inline bool IsUnsignedInt(DType t) {
  return t == DType::kU8 || t == DType::kU16 || t == DType::kU32 || t == DType::kU64;
}
inline bool IsInt(DType t) { return IsSignedInt(t) || IsUnsignedInt(t); }

template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::kF32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::kF64; };
template <> struct DTypeOf<Float16> { static constexpr DType value = DType::kF16; };
template <> struct DTypeOf<BFloat16> { static constexpr DType value = DType::kBF16; };
template <> struct DTypeOf<int8_t> { static constexpr DType value = DType::kI8; };
template <> struct DTypeOf<int16_t> { static constexpr DType value = DType::kI16; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::kI32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::kI64; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::kU8; };
template <> struct DTypeOf<uint16_t> { static constexpr DType value = DType::kU16; };
template <> struct DTypeOf<uint32_t> { static constexpr DType value = DType::kU32; };
template <> struct DTypeOf<uint64_t> { static constexpr DType value = DType::kU64; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::kBool; };
template <> struct DTypeOf<std::string> { static constexpr DType value = DType::kString; };

template <typename T> inline constexpr bool kIsHalf = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;
template <typename T> inline constexpr bool kIsFloat = std::is_floating_point_v<T> || kIsHalf<T>;

// Compute type of an element type: f16/bf16 compute in f32 (DESIGN.md: round-to-nearest-even at op
// boundaries); every other type computes in itself.
template <typename T> struct ComputeTypeOf { using type = T; };
template <> struct ComputeTypeOf<Float16> { using type = float; };
template <> struct ComputeTypeOf<BFloat16> { using type = float; };
template <typename T> using ComputeT = typename ComputeTypeOf<T>::type;

// Load an element as its compute type, and store a compute value back (RNE for halves).
template <typename T> inline ComputeT<T> Load(T v) {
  if constexpr (std::is_same_v<T, Float16>) return HalfToFloat(v);
  else if constexpr (std::is_same_v<T, BFloat16>) return BFloat16ToFloat(v);
  else return v;
}
template <typename T> inline T Store(ComputeT<T> v) {
  if constexpr (std::is_same_v<T, Float16>) return FloatToHalf(v);
  else if constexpr (std::is_same_v<T, BFloat16>) return FloatToBFloat16(v);
  else return v;
}

template <typename T> struct TypeTag { using type = T; };

// Type sets for VisitDType. Each bit is 1 << (int)DType.
namespace types {
constexpr uint32_t Bit(DType t) { return 1u << static_cast<int>(t); }
constexpr uint32_t kFloat = Bit(DType::kF32) | Bit(DType::kF64) | Bit(DType::kF16) | Bit(DType::kBF16);
constexpr uint32_t kSignedInt = Bit(DType::kI8) | Bit(DType::kI16) | Bit(DType::kI32) | Bit(DType::kI64);
constexpr uint32_t kUnsignedInt = Bit(DType::kU8) | Bit(DType::kU16) | Bit(DType::kU32) | Bit(DType::kU64);
constexpr uint32_t kInt = kSignedInt | kUnsignedInt;
constexpr uint32_t kNumeric = kFloat | kInt;
constexpr uint32_t kBool = Bit(DType::kBool);
constexpr uint32_t kString = Bit(DType::kString);
constexpr uint32_t kAllPod = kNumeric | kBool;
constexpr uint32_t kAll = kAllPod | kString;
}  // namespace types

// Calls f(TypeTag<T>{}) for the C++ type T of `t` if `t` is in the compile-time set `kSet`;
// returns the Status f returns, or an Unsupported status naming `what` and the dtype.
// Only the types of kSet are instantiated.
template <uint32_t kSet, typename F>
Status VisitDType(DType t, const char* what, F&& f) {
#define IDEM_VISIT_CASE_(DT, T)                                   \
  case DT:                                                        \
    if constexpr ((kSet & types::Bit(DT)) != 0) return f(TypeTag<T>{}); \
    break;
  switch (t) {
    IDEM_VISIT_CASE_(DType::kF32, float)
    IDEM_VISIT_CASE_(DType::kF64, double)
    IDEM_VISIT_CASE_(DType::kF16, Float16)
    IDEM_VISIT_CASE_(DType::kBF16, BFloat16)
    IDEM_VISIT_CASE_(DType::kI8, int8_t)
    IDEM_VISIT_CASE_(DType::kI16, int16_t)
    IDEM_VISIT_CASE_(DType::kI32, int32_t)
    IDEM_VISIT_CASE_(DType::kI64, int64_t)
    IDEM_VISIT_CASE_(DType::kU8, uint8_t)
    IDEM_VISIT_CASE_(DType::kU16, uint16_t)
    IDEM_VISIT_CASE_(DType::kU32, uint32_t)
    IDEM_VISIT_CASE_(DType::kU64, uint64_t)
    IDEM_VISIT_CASE_(DType::kBool, bool)
    IDEM_VISIT_CASE_(DType::kString, std::string)
    default:
      break;
  }
#undef IDEM_VISIT_CASE_
  return Unsupported(what, ": element type ", DTypeOnnxName(t), " is not supported");
}

}  // namespace idem
