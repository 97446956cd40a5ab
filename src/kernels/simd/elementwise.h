// Vectorized f32 elementwise maps over contiguous spans, per ISA, and f32 <-> f16/bf16 conversion.
//
// Contract (DESIGN.md D4, R7): for every ISA, every op and every element, the result has the bits
// of the scalar element function UnaryF32Scalar / BinaryF32Scalar below, which are the kernels'
// scalar reference formulas (elementwise_unary.cc, elementwise_arith.cc, elementwise_variadic.cc)
// on float: transcendental functions are idem::math's (core/math.h); the SIMD versions are
// kernels/simd/math-inl.h. f16/bf16 spans are read exactly into f32, computed in f32 and rounded to
// nearest even once (FloatToHalf / FloatToBFloat16 of core/half.h, NaN handling included).
// No element depends on another, on n, on alignment or on the span's position.
//
// Thread-safe: all functions are pure over their arguments.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/simd/isa.h"

namespace idem::simd {

// Storage type of a span: f32, or IEEE binary16 / bfloat16 bit patterns (uint16_t).
enum class ElemType { kF32, kF16, kBF16 };

enum class UnaryF32Op {
  kRelu,        // x < 0 ? 0 : x
  kAbs,         // sign bit cleared
  kNeg,         // sign bit flipped
  kSqrt,        // IEEE sqrt
  kReciprocal,  // 1 / x
  kExp,
  kLog,
  kTanh,
  kErf,
  kSigmoid,
  kSoftplus,
  kSin,
  kCos,
  kFloor,
  kCeil,
  kRound,            // half to even
  kSign,             // x > 0 ? 1 : x < 0 ? -1 : x
  kLeakyRelu,        // x < 0 ? alpha * x : x
  kThresholdedRelu,  // x > alpha ? x : 0
  kElu,              // x < 0 ? alpha * expm1(x) : x
  kSelu,             // x > 0 ? gamma * x : gamma * (alpha * expm1(x))
  kCelu,             // x > 0 ? x : alpha * expm1(x / alpha)
  kHardSigmoid,      // clamp01(fma(alpha, x, beta)), NaN passes
  kHardSwish,        // x * clamp01(fma(1/6, x, 0.5))
  kSoftsign,         // x / (1 + |x|)
  kClip,             // min(max(x, lo), hi) as (x < lo ? lo : x) then (v > hi ? hi : v)
  kGelu,             // math::gelu
  kGeluTanh,         // math::gelu_tanh
  kSilu,             // math::silu
  kExpm1,            // math::expm1 (no ONNX op; for tests and fused kernels)
  kLog1p,            // math::log1p
  kSinh,
  kCosh,
};
inline constexpr int kNumUnaryF32Ops = static_cast<int>(UnaryF32Op::kCosh) + 1;
const char* UnaryF32OpName(UnaryF32Op op);

// Attributes of the parameterized ops (unused fields are ignored).
struct UnaryF32Params {
  float alpha = 0.0f;
  float beta = 0.0f;
  float gamma = 0.0f;
  float lo = 0.0f;  // Clip
  float hi = 0.0f;
};

// The scalar reference of one element (the formula every ISA reproduces).
float UnaryF32Scalar(UnaryF32Op op, const UnaryF32Params& p, float x);

// y[i] = op(x[i]) for i < n; x and y hold `type` elements (float*, or uint16_t* for f16/bf16).
// x == y (in place) is allowed.
using UnaryF32Fn = void (*)(UnaryF32Op op, const UnaryF32Params& p, const void* x, void* y, size_t n);
// The span function of `isa` (kScalar: the scalar reference loop). IDEM_CHECKs the ISA is supported.
UnaryF32Fn UnaryF32For(Isa isa, ElemType type);

enum class BinaryF32Op {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMax,    // NaN-propagating, first NaN operand wins: isnan(a) ? a : isnan(b) ? b : (b > a ? b : a)
  kMin,    // likewise with b < a
  kPRelu,  // a < 0 ? b * a : a   (a = x, b = slope)
  kPow,    // math::pow(a, b)
};
inline constexpr int kNumBinaryF32Ops = static_cast<int>(BinaryF32Op::kPow) + 1;
const char* BinaryF32OpName(BinaryF32Op op);

float BinaryF32Scalar(BinaryF32Op op, float a, float b);

// out[i] = op(a[i * a_step], b[i * b_step]) for i < n, a_step and b_step in {0, 1} (0: one value
// broadcast over the span). Spans hold `type` elements; out may alias a or b when their step is 1.
using BinaryF32Fn = void (*)(BinaryF32Op op, const void* a, size_t a_step, const void* b, size_t b_step, void* out,
                             size_t n);
BinaryF32Fn BinaryF32For(Isa isa, ElemType type);

// Conversions of n elements, bitwise equal to FloatToHalf / HalfToFloat / FloatToBFloat16 /
// BFloat16ToFloat of core/half.h.
struct ConvertFns {
  void (*f32_to_f16)(const float* x, uint16_t* y, size_t n);
  void (*f16_to_f32)(const uint16_t* x, float* y, size_t n);
  void (*f32_to_bf16)(const float* x, uint16_t* y, size_t n);
  void (*bf16_to_f32)(const uint16_t* x, float* y, size_t n);
};
ConvertFns ConvertFor(Isa isa);

}  // namespace idem::simd
