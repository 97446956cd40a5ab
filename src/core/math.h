// TEMPORARY placeholder (lead): declarations of idem::math so the build links while the real
// library is being written. It is replaced wholesale by the math library.
#pragma once
namespace idem::math {
#define IDEM_MATH_DECL(name) float name(float); double name(double);
IDEM_MATH_DECL(exp) IDEM_MATH_DECL(expm1) IDEM_MATH_DECL(log) IDEM_MATH_DECL(log1p) IDEM_MATH_DECL(tanh)
IDEM_MATH_DECL(sinh) IDEM_MATH_DECL(cosh) IDEM_MATH_DECL(asinh) IDEM_MATH_DECL(acosh) IDEM_MATH_DECL(atanh)
IDEM_MATH_DECL(sin) IDEM_MATH_DECL(cos) IDEM_MATH_DECL(tan) IDEM_MATH_DECL(asin) IDEM_MATH_DECL(acos)
IDEM_MATH_DECL(atan) IDEM_MATH_DECL(erf) IDEM_MATH_DECL(sigmoid) IDEM_MATH_DECL(softplus)
IDEM_MATH_DECL(round_half_even) IDEM_MATH_DECL(floor) IDEM_MATH_DECL(ceil) IDEM_MATH_DECL(trunc) IDEM_MATH_DECL(sqrt)
#undef IDEM_MATH_DECL
float atan2(float, float); double atan2(double, double);
float pow(float, float); double pow(double, double);
float fmod(float, float); double fmod(double, double);
}  // namespace idem::math
