// TEMPORARY placeholder (lead), replaced wholesale by the math library.
#include "core/math.h"
#include <cmath>
namespace idem::math {
#define IDEM_MATH_DEF(name, expr) float name(float x) { return expr; } double name(double x) { return expr; }
IDEM_MATH_DEF(exp, std::exp(x)) IDEM_MATH_DEF(expm1, std::expm1(x)) IDEM_MATH_DEF(log, std::log(x))
IDEM_MATH_DEF(log1p, std::log1p(x)) IDEM_MATH_DEF(tanh, std::tanh(x)) IDEM_MATH_DEF(sinh, std::sinh(x))
IDEM_MATH_DEF(cosh, std::cosh(x)) IDEM_MATH_DEF(asinh, std::asinh(x)) IDEM_MATH_DEF(acosh, std::acosh(x))
IDEM_MATH_DEF(atanh, std::atanh(x)) IDEM_MATH_DEF(sin, std::sin(x)) IDEM_MATH_DEF(cos, std::cos(x))
IDEM_MATH_DEF(tan, std::tan(x)) IDEM_MATH_DEF(asin, std::asin(x)) IDEM_MATH_DEF(acos, std::acos(x))
IDEM_MATH_DEF(atan, std::atan(x)) IDEM_MATH_DEF(erf, std::erf(x)) IDEM_MATH_DEF(sigmoid, 1 / (1 + std::exp(-x)))
IDEM_MATH_DEF(softplus, std::log1p(std::exp(x))) IDEM_MATH_DEF(round_half_even, std::nearbyint(x))
IDEM_MATH_DEF(floor, std::floor(x)) IDEM_MATH_DEF(ceil, std::ceil(x)) IDEM_MATH_DEF(trunc, std::trunc(x))
IDEM_MATH_DEF(sqrt, std::sqrt(x))
float atan2(float y, float x) { return std::atan2(y, x); } double atan2(double y, double x) { return std::atan2(y, x); }
float pow(float y, float x) { return std::pow(y, x); } double pow(double y, double x) { return std::pow(y, x); }
float fmod(float y, float x) { return std::fmod(y, x); } double fmod(double y, double x) { return std::fmod(y, x); }
}  // namespace idem::math
