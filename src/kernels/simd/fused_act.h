// Activations of the fused kernels (kernels/fused.cc: FusedMatMul, FusedConv, Gelu) over
// contiguous f32 spans, per ISA, and the GEMM post-store hook that applies them to C while it is
// cache-hot.
//
// Contract (DESIGN.md D4, R7): for every ISA and every element, the result has the bits of
// FusedActivationScalar below, which is the formula of the ONNX op (or decomposed sub-graph) the
// fusion replaced, operation by operation (transcendental functions are idem::math's; the SIMD
// versions are kernels/simd/math-inl.h, bitwise equal per lane):
//   Relu         x < 0 ? 0 : x
//   LeakyRelu    x < 0 ? a * x : x
//   Clip         y = x < a ? a : x;  y > b ? b : y
//   Sigmoid      math::sigmoid(x)
//   Tanh         math::tanh(x)
//   HardSigmoid  v = fma(a, x, b);  v < 0 ? 0 : v > 1 ? 1 : v
//   SiLU         x * math::sigmoid(x)                               (Sigmoid, then Mul)
//   Gelu         the decomposed GELU torch exports (GeluForm), one f32 rounding per ONNX op:
//     erf form:  u = inner_div ? x / inner_scale : x * inner_scale;   e = math::erf(u)
//     tanh form: c = cube_pow ? math::pow(x, 3) : x * (x * x);  s = x + coef * c;
//                u = inner_scale * s;                               e = math::tanh(u)
//     t = e + 1;  half_mode 0: (x * t) * 0.5;  1: (x * 0.5) * t;  2: x * (t * 0.5)
// With an addend (the residual of a fused Conv + Add), x = in + addend (one f32 add) first.
// No element depends on another, on n, on alignment or on the span's position.
//
// Thread-safe: all functions are pure over their arguments.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/simd/isa.h"

namespace idem::simd {

enum class FusedActKind { kNone, kRelu, kLeakyRelu, kClip, kSigmoid, kTanh, kHardSigmoid, kSiLU, kGelu };

// The operation order of a decomposed GELU (see the contract above).
struct GeluForm {
  bool tanh_form = false;
  float inner_scale = 1.4142135381698608f;  // erf: x / inner_scale or x * inner_scale; tanh: sqrt(2/pi)
  bool inner_div = true;
  float coef = 0.044715f;  // tanh form: the cubic coefficient
  bool cube_pow = false;   // tanh form: x^3 as Pow(x, 3) instead of x * (x * x)
  int half_mode = 0;       // 0: (x * t) * 0.5; 1: (x * 0.5) * t; 2: x * (t * 0.5)
};

struct FusedActivation {
  FusedActKind kind = FusedActKind::kNone;
  float a = 0.0f;  // LeakyRelu alpha; Clip lo; HardSigmoid alpha
  float b = 0.0f;  // Clip hi; HardSigmoid beta
  GeluForm gelu;   // kGelu
};

// "Relu", "LeakyRelu", ..., "Gelu" ("None" for kNone).
const char* FusedActName(FusedActKind kind);

// The scalar reference of one element (the definition every ISA reproduces).
float FusedActivationScalar(const FusedActivation& act, float x);

// y[i] = act(x[i]) (addend null) or act(x[i] + addend[i]) for i < n. y may equal x (in place);
// addend may equal neither unless it equals x too.
using FusedActSpanFn = void (*)(const FusedActivation& act, const float* x, const float* addend, float* y, size_t n);

// The span function of `isa` (kScalar: the scalar reference loop). IDEM_CHECKs the ISA is
// supported. Dispatch once per kernel call, never per element.
FusedActSpanFn FusedActSpanFor(Isa isa);

// A GEMM post-store hook (gemm.h GemmPostStore) that replaces every block of C it is given by
// act(C) or act(C + addend), addend(m, n) = addend[m * addend_ld + n] in the GEMM's coordinates
// (e.g. the residual of a Conv output, which has the output's layout). The hook's ctx is a
// const FusedActHook*.
struct FusedActHook {
  FusedActSpanFn span = nullptr;
  FusedActivation act;
  const float* addend = nullptr;  // null: no addend
  int64_t addend_ld = 0;
};
void FusedActPostStore(const void* hook, float* c, int64_t ldc, int64_t m, int64_t n, int64_t rows, int64_t cols);

}  // namespace idem::simd
