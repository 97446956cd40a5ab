// idem's own elementary-function library (design contract rule R4).
//
// Every kernel uses these routines instead of libm so that a result is the
// same bit pattern on every target.  Each function is one fixed formula:
//
//   * Only IEEE-754 correctly rounded operations are used: + - * /, std::fma
//     (written explicitly wherever the formula has a fused multiply-add),
//     std::sqrt, comparisons, bit casts and integer arithmetic.  No libm
//     transcendental is called.  The file is compiled with -ffp-contract=off
//     and without -ffast-math; the default rounding mode (nearest-even) and
//     gradual underflow (no FTZ/DAZ, rule R6) are assumed.
//   * float routines compute in float only, double routines in double only,
//     so a SIMD version (Highway, one lane = one scalar call) can reproduce
//     the scalar result bit for bit by issuing the same operations in the same
//     order: range reduction, polynomial evaluated by Horner's rule with fma
//     (highest coefficient first), reconstruction.  Data-dependent choices
//     are written as selects between values that a vector version computes
//     for all lanes.  The only exception is the Payne-Hanek reduction of
//     trigonometric arguments with |x| > 2^17, an integer-exact path that a
//     vector version may run lane by lane through this scalar code.
//   * Special values follow C99 Annex F: NaN in gives NaN out, signed zeros
//     and infinities are honoured, overflow gives +-Inf, underflow gives
//     correctly scaled subnormals or zero (never flushed).
//
// Accuracy (max error in ulps of the result, measured against a more precise
// reference by tests/unit/math_test.cc; see that file for the asserted
// bounds) is below 2 ulp for every function over its whole domain, including
// subnormal inputs and outputs, and below 1 ulp for most.
//
// Functions take and return the same type; each exists for float and double.
// The names follow <cmath> so that kernels read like ordinary math code.

#ifndef IDEM_CORE_MATH_H_
#define IDEM_CORE_MATH_H_

#include <bit>
#include <cmath>
#include <cstdint>

namespace idem::math {

// ---------------------------------------------------------------------------
// Bit-level helpers (exact, inline).

inline float abs(float x) {
  return std::bit_cast<float>(std::bit_cast<uint32_t>(x) & 0x7fffffffu);
}
inline double abs(double x) {
  return std::bit_cast<double>(std::bit_cast<uint64_t>(x) &
                               0x7fffffffffffffffull);
}
// Magnitude of `x` with the sign bit of `s`.
inline float copysign(float x, float s) {
  return std::bit_cast<float>((std::bit_cast<uint32_t>(x) & 0x7fffffffu) |
                              (std::bit_cast<uint32_t>(s) & 0x80000000u));
}
inline double copysign(double x, double s) {
  return std::bit_cast<double>(
      (std::bit_cast<uint64_t>(x) & 0x7fffffffffffffffull) |
      (std::bit_cast<uint64_t>(s) & 0x8000000000000000ull));
}
inline bool signbit(float x) { return std::bit_cast<uint32_t>(x) >> 31; }
inline bool signbit(double x) { return std::bit_cast<uint64_t>(x) >> 63; }
inline bool isnan(float x) {
  return (std::bit_cast<uint32_t>(x) & 0x7fffffffu) > 0x7f800000u;
}
inline bool isnan(double x) {
  return (std::bit_cast<uint64_t>(x) & 0x7fffffffffffffffull) >
         0x7ff0000000000000ull;
}
inline bool isinf(float x) {
  return (std::bit_cast<uint32_t>(x) & 0x7fffffffu) == 0x7f800000u;
}
inline bool isinf(double x) {
  return (std::bit_cast<uint64_t>(x) & 0x7fffffffffffffffull) ==
         0x7ff0000000000000ull;
}
inline bool isfinite(float x) {
  return (std::bit_cast<uint32_t>(x) & 0x7fffffffu) < 0x7f800000u;
}
inline bool isfinite(double x) {
  return (std::bit_cast<uint64_t>(x) & 0x7fffffffffffffffull) <
         0x7ff0000000000000ull;
}

// ---------------------------------------------------------------------------
// Exact operations (correctly rounded by definition; results are exact).

// IEEE square root (correctly rounded, like + - * /).
float sqrt(float x);
double sqrt(double x);

// Integral rounding; exact, signed zeros preserved, NaN/Inf returned as is.
float trunc(float x);
double trunc(double x);
float floor(float x);
double floor(double x);
float ceil(float x);
double ceil(double x);
// Nearest integer, ties to even (ONNX Round, numpy.round).
float round_half_even(float x);
double round_half_even(double x);
// Nearest integer, ties away from zero (C round).
float round_half_away(float x);
double round_half_away(double x);

// C fmod: x - n*y with n = trunc(x/y) computed exactly (integer long
// division of the significands).  Sign of x; NaN for x = +-Inf or y = 0;
// x for finite x and infinite y.
float fmod(float x, float y);
double fmod(double x, double y);

// ---------------------------------------------------------------------------
// Exponentials and logarithms.

// e^x.  Overflow to +Inf above ln(max), subnormal results correctly scaled.
float exp(float x);
double exp(double x);
// e^x - 1, accurate near 0; expm1(-0) = -0.
float expm1(float x);
double expm1(double x);
// Natural logarithm: log(+-0) = -Inf, log(x<0) = NaN, subnormals handled.
float log(float x);
double log(double x);
// log(1 + x), accurate near 0; log1p(-1) = -Inf, log1p(x < -1) = NaN.
float log1p(float x);
double log1p(double x);
// Base-2 logarithm; exact for powers of two.
float log2(float x);
double log2(double x);
// x^y with C99 Annex F special cases (pow(x, +-0) = 1 and pow(1, y) = 1 even
// for NaN; negative x needs an integral y, odd y keeps the sign; pow(+-0, y<0)
// = +-Inf; ...).  The logarithm is carried in double-word arithmetic of the
// same type, so the float version stays in float.
float pow(float x, float y);
double pow(double x, double y);

// 1 / (1 + e^-x), evaluated as 1/(1+e^-|x|) or e^-|x|/(1+e^-|x|) so that it
// neither overflows nor loses the tiny results for very negative x.
float sigmoid(float x);
double sigmoid(double x);
// log(1 + e^x) = max(x, 0) + log1p(e^-|x|).
float softplus(float x);
double softplus(double x);

// ---------------------------------------------------------------------------
// Hyperbolic functions and their inverses.

float tanh(float x);
double tanh(double x);
float sinh(float x);
double sinh(double x);
float cosh(float x);
double cosh(double x);
float asinh(float x);
double asinh(double x);
// acosh(x < 1) = NaN, acosh(1) = +0.
float acosh(float x);
double acosh(double x);
// atanh(+-1) = +-Inf, atanh(|x| > 1) = NaN.
float atanh(float x);
double atanh(double x);

// ---------------------------------------------------------------------------
// Trigonometric functions.  Arguments are reduced modulo pi/2 exactly enough
// for every finite input: three-part Cody-Waite for |x| <= 2^17, Payne-Hanek
// with 2/pi bits beyond, so the accuracy bound holds on the whole domain.
// sin/tan keep the sign of zero; +-Inf gives NaN.

float sin(float x);
double sin(double x);
float cos(float x);
double cos(double x);
float tan(float x);
double tan(double x);
// asin/acos of |x| > 1 is NaN.
float asin(float x);
double asin(double x);
float acos(float x);
double acos(double x);
float atan(float x);
double atan(double x);
// Angle of (x, y) in [-pi, pi] with every Annex F signed-zero/Inf case.
float atan2(float y, float x);
double atan2(double y, double x);

// ---------------------------------------------------------------------------
// Error function.

float erf(float x);
double erf(double x);

// ---------------------------------------------------------------------------
// Compound activations, each one fixed formula (the SIMD versions in
// kernels/simd/math-inl.h issue the same operations):
//   gelu(x)      = (0.5 x) * (1 + erf(x * kGeluSqrtHalf))
//   gelu_tanh(x) = (0.5 x) * (1 + tanh(kGeluTanhScale * fma(kGeluTanhCubic * x^2, x, x)))
//   silu(x)      = x * sigmoid(x)
// (constants rounded to the argument's type).
inline constexpr double kGeluSqrtHalf = 0.70710678118654752440;   // sqrt(1/2)
inline constexpr double kGeluTanhScale = 0.79788456080286535588;  // sqrt(2/pi)
inline constexpr double kGeluTanhCubic = 0.044715;

float gelu(float x);
double gelu(double x);
float gelu_tanh(float x);
double gelu_tanh(double x);
float silu(float x);
double silu(double x);

// The piecewise activations, one scalar definition for the elementwise ops, the fused kernels'
// epilogues and the GEMM epilogue (kernels/simd/math-inl.h's ReluF32, LeakyReluF32, ClipF32,
// Saturate01 and HardSigmoidF32 are their per-lane twins). NaN passes through every compare.
inline float relu(float x) { return x < 0.0f ? 0.0f : x; }
inline float leaky_relu(float x, float alpha) { return x < 0.0f ? alpha * x : x; }
inline float clip(float x, float lo, float hi) {
  const float above = x < lo ? lo : x;
  return above > hi ? hi : above;
}
inline float saturate01(float x) { return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x; }
inline float hard_sigmoid(float x, float alpha, float beta) { return saturate01(std::fma(alpha, x, beta)); }

}  // namespace idem::math

#endif  // IDEM_CORE_MATH_H_
