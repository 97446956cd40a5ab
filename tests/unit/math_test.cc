// Tests of idem::math (src/core/math.h): accuracy against libm used as an
// independent, more precise reference (float functions against the double
// libm, double functions against the x87 long double libm), C99 Annex F
// special values, subnormals, and exactness of the rounding functions and
// fmod.  Error is measured in ulps of the exact result's binade (subnormal
// ulp below the normal range); the bounds asserted here are the contract
// stated in math.h.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/math.h"

namespace {

namespace m = idem::math;

constexpr float kInfF = std::numeric_limits<float>::infinity();
constexpr double kInfD = std::numeric_limits<double>::infinity();
const float kNanF = std::numeric_limits<float>::quiet_NaN();
const double kNanD = std::numeric_limits<double>::quiet_NaN();

float FloatFromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
double DoubleFromBits(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}
uint32_t BitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
uint64_t BitsOf(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

// Error of `got` against the reference `ref` in ulps of float.  Results that
// round to Inf, zero or NaN must match exactly (a mismatch counts as 1e9).
double UlpErrorF(float got, double ref) {
  if (std::isnan(ref)) return std::isnan(got) ? 0 : 1e9;
  if (std::isnan(got)) return 1e9;
  const float ref_f = static_cast<float>(ref);
  if (std::isinf(ref_f) || std::isinf(got)) return got == ref_f ? 0 : 1e9;
  if (ref == 0) {
    if (got != 0) return std::fabs(got) / 0x1p-149;
    return std::signbit(got) == std::signbit(ref) ? 0 : 1e9;
  }
  // ulp = 2^(exponent(ref) - 23), built from the bits (ref is a normal double).
  int e = static_cast<int>((BitsOf(ref) >> 52) & 0x7ff) - 1023;
  if (e < -126) e = -126;
  const double ulp = DoubleFromBits(static_cast<uint64_t>(e - 23 + 1023) << 52);
  return std::fabs(static_cast<double>(got) - ref) / ulp;
}

double UlpErrorD(double got, long double ref) {
  if (std::isnan(ref)) return std::isnan(got) ? 0 : 1e9;
  if (std::isnan(got)) return 1e9;
  const double ref_d = static_cast<double>(ref);
  if (std::isinf(ref_d) || std::isinf(got)) return got == ref_d ? 0 : 1e9;
  if (ref == 0) {
    if (got != 0) return std::fabs(got) / 0x1p-1074;
    return std::signbit(got) == std::signbit(ref) ? 0 : 1e9;
  }
  int e = std::ilogb(ref);
  if (e < -1022) e = -1022;
  return static_cast<double>(std::fabs(static_cast<long double>(got) - ref) /
                             std::ldexp(1.0L, e - 52));
}

// Tracks the worst error and where it happened.
template <typename T>
struct Worst {
  double ulp = 0;
  T at = 0;
  void Add(double e, T x) {
    if (e > ulp) {
      ulp = e;
      at = x;
    }
  }
};

// ---------------------------------------------------------------------------
// Unary functions: table of (name, ours, reference, sweep range, bound).

struct FloatCase {
  const char* name;
  float (*ours)(float);
  double (*ref)(double);
  double lo, hi;  // dense sweep range
  double bound;   // asserted max ulp
};

struct DoubleCase {
  const char* name;
  double (*ours)(double);
  long double (*ref)(long double);
  double lo, hi;
  double bound;
};

#define IDEM_F(fn, ref_expr, lo, hi, bound)                          \
  FloatCase {                                                        \
    #fn, [](float x) { return m::fn(x); },                           \
        [](double x) -> double { return ref_expr; }, lo, hi, bound \
  }
#define IDEM_D(fn, ref_expr, lo, hi, bound)                                  \
  DoubleCase {                                                               \
    #fn, [](double x) { return m::fn(x); },                                  \
        [](long double x) -> long double { return ref_expr; }, lo, hi, bound \
  }

double RefSigmoid(double x) {
  return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
}
long double RefSigmoidL(long double x) {
  return x >= 0 ? 1 / (1 + expl(-x)) : expl(x) / (1 + expl(x));
}
double RefSoftplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
long double RefSoftplusL(long double x) {
  return x > 0 ? x + log1pl(expl(-x)) : log1pl(expl(x));
}

const FloatCase kFloatCases[] = {
    IDEM_F(exp, std::exp(x), -104, 89, 1.0),
    IDEM_F(expm1, std::expm1(x), -20, 89, 1.0),
    IDEM_F(log, std::log(x), 0, 10, 1.0),
    IDEM_F(log1p, std::log1p(x), -1, 10, 1.0),
    IDEM_F(log2, std::log2(x), 0, 10, 1.0),
    IDEM_F(tanh, std::tanh(x), -10, 10, 1.0),
    IDEM_F(sinh, std::sinh(x), -90, 90, 1.0),
    IDEM_F(cosh, std::cosh(x), -90, 90, 1.0),
    IDEM_F(asinh, std::asinh(x), -100, 100, 1.5),
    IDEM_F(acosh, std::acosh(x), 1, 100, 1.5),
    IDEM_F(atanh, std::atanh(x), -1, 1, 1.0),
    IDEM_F(sin, std::sin(x), -1e5, 1e5, 1.0),
    IDEM_F(cos, std::cos(x), -1e5, 1e5, 1.0),
    IDEM_F(tan, std::tan(x), -1e5, 1e5, 1.5),
    IDEM_F(asin, std::asin(x), -1, 1, 1.0),
    IDEM_F(acos, std::acos(x), -1, 1, 1.0),
    IDEM_F(atan, std::atan(x), -100, 100, 1.5),
    IDEM_F(erf, std::erf(x), -5, 5, 1.0),
    IDEM_F(sigmoid, RefSigmoid(x), -110, 110, 1.0),
    IDEM_F(softplus, RefSoftplus(x), -110, 110, 1.5),
};

const DoubleCase kDoubleCases[] = {
    IDEM_D(exp, expl(x), -746, 710, 1.0),
    IDEM_D(expm1, expm1l(x), -40, 710, 1.0),
    IDEM_D(log, logl(x), 0, 10, 1.0),
    IDEM_D(log1p, log1pl(x), -1, 10, 1.0),
    IDEM_D(log2, log2l(x), 0, 10, 1.0),
    IDEM_D(tanh, tanhl(x), -20, 20, 1.0),
    IDEM_D(sinh, sinhl(x), -711, 711, 1.0),
    IDEM_D(cosh, coshl(x), -711, 711, 1.0),
    IDEM_D(asinh, asinhl(x), -100, 100, 1.5),
    IDEM_D(acosh, acoshl(x), 1, 100, 1.5),
    IDEM_D(atanh, atanhl(x), -1, 1, 1.0),
    IDEM_D(sin, sinl(x), -1e5, 1e5, 1.0),
    IDEM_D(cos, cosl(x), -1e5, 1e5, 1.0),
    IDEM_D(tan, tanl(x), -1e5, 1e5, 1.5),
    IDEM_D(asin, asinl(x), -1, 1, 1.0),
    IDEM_D(acos, acosl(x), -1, 1, 1.0),
    IDEM_D(atan, atanl(x), -100, 100, 1.5),
    IDEM_D(erf, erfl(x), -7, 7, 1.0),
    IDEM_D(sigmoid, RefSigmoidL(x), -750, 750, 1.0),
    IDEM_D(softplus, RefSoftplusL(x), -750, 750, 1.5),
};

class FloatAccuracy : public testing::TestWithParam<FloatCase> {};
class DoubleAccuracy : public testing::TestWithParam<DoubleCase> {};

// Every 4093rd bit pattern (~1M inputs: all signs, binades, subnormals, Inf,
// NaN), 300k random bit patterns, and a dense sweep of the main range.
TEST_P(FloatAccuracy, WithinBound) {
  const FloatCase& c = GetParam();
  Worst<float> w;
  auto check = [&](float x) { w.Add(UlpErrorF(c.ours(x), c.ref(x)), x); };
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 4093) {
    check(FloatFromBits(static_cast<uint32_t>(b)));
  }
  std::mt19937 rng(12345);
  for (int i = 0; i < 300000; ++i) check(FloatFromBits(rng()));
  const int n = 200000;
  for (int i = 0; i <= n; ++i) {
    check(static_cast<float>(c.lo + (c.hi - c.lo) * i / n));
  }
  std::printf("float  %-9s max %.3f ulp at %a\n", c.name, w.ulp, w.at);
  EXPECT_LE(w.ulp, c.bound) << c.name << " at " << w.at << " got "
                            << c.ours(w.at) << " want " << c.ref(w.at);
}

TEST_P(DoubleAccuracy, WithinBound) {
  const DoubleCase& c = GetParam();
  Worst<double> w;
  auto check = [&](double x) { w.Add(UlpErrorD(c.ours(x), c.ref(x)), x); };
  std::mt19937_64 rng(6789);
  for (int i = 0; i < 60000; ++i) check(DoubleFromBits(rng()));
  // Random magnitudes in [2^-12, 2^12): where most arguments live.
  for (int i = 0; i < 60000; ++i) {
    const uint64_t u = rng();
    const double x = std::ldexp(1.0 + static_cast<double>(u >> 12) * 0x1p-52,
                                static_cast<int>(u % 24) - 12);
    check((u >> 5) & 1 ? -x : x);
  }
  const int n = 60000;
  for (int i = 0; i <= n; ++i) check(c.lo + (c.hi - c.lo) * i / n);
  std::printf("double %-9s max %.3f ulp at %a\n", c.name, w.ulp, w.at);
  EXPECT_LE(w.ulp, c.bound) << c.name << " at " << w.at;
}

std::string CaseName(const char* name) { return name; }

INSTANTIATE_TEST_SUITE_P(
    Math, FloatAccuracy, testing::ValuesIn(kFloatCases),
    [](const testing::TestParamInfo<FloatCase>& i) { return CaseName(i.param.name); });
INSTANTIATE_TEST_SUITE_P(
    Math, DoubleAccuracy, testing::ValuesIn(kDoubleCases),
    [](const testing::TestParamInfo<DoubleCase>& i) { return CaseName(i.param.name); });

// Exhaustive over whole binades: every float in [1, 2) for exp and log, and
// every 7th subnormal for log.
TEST(MathExhaustive, FloatBinades) {
  struct Case {
    const char* name;
    float (*ours)(float);
    double (*ref)(double);
    uint32_t first, last;  // bit range, inclusive
  };
  const Case cases[] = {
      {"exp [1,2)", [](float x) { return m::exp(x); },
       [](double x) { return std::exp(x); }, 0x3f800000u, 0x3fffffffu},
      {"log [1,2)", [](float x) { return m::log(x); },
       [](double x) { return std::log(x); }, 0x3f800000u, 0x3fffffffu},
      {"log subnormal", [](float x) { return m::log(x); },
       [](double x) { return std::log(x); }, 0x00000001u, 0x007fffffu},
  };
  for (const Case& c : cases) {
    Worst<float> w;
    const uint32_t step = c.first < 0x00800000u ? 7 : 1;
    for (uint32_t b = c.first; b <= c.last; b += step) {
      const float x = FloatFromBits(b);
      w.Add(UlpErrorF(c.ours(x), c.ref(x)), x);
    }
    std::printf("float  %-14s max %.3f ulp at %a\n", c.name, w.ulp, w.at);
    EXPECT_LE(w.ulp, 1.0) << c.name << " at " << w.at;
  }
}

// exp producing subnormals and log of subnormals, densely.
TEST(MathSubnormal, ExpAndLog) {
  Worst<float> wf;
  for (float x = -104.0f; x < -87.0f; x = std::nextafter(x, 0.0f)) {
    wf.Add(UlpErrorF(m::exp(x), std::exp(static_cast<double>(x))), x);
  }
  EXPECT_LE(wf.ulp, 1.0) << "float exp at " << wf.at;
  EXPECT_EQ(m::exp(-103.9f), static_cast<float>(std::exp(-103.9)));
  EXPECT_EQ(m::exp(-104.0f), 0.0f);
  EXPECT_EQ(m::exp(-87.4f) > 0, true);
  Worst<double> wd;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 30000; ++i) {
    const double x = -745.2 + 37.0 * static_cast<double>(rng() >> 11) * 0x1p-53;
    wd.Add(UlpErrorD(m::exp(x), expl(x)), x);
    const double s = DoubleFromBits(rng() & 0x000fffffffffffffull);  // subnormal
    wd.Add(UlpErrorD(m::log(s), logl(s)), s);
  }
  EXPECT_LE(wd.ulp, 1.0) << "double exp/log at " << wd.at;
  EXPECT_EQ(m::exp(-745.0), DoubleFromBits(1));  // smallest subnormal
  EXPECT_EQ(m::exp(-745.2), 0.0);                // below half of it
  EXPECT_EQ(m::log(DoubleFromBits(1)), static_cast<double>(logl(0x1p-1074L)));
  EXPECT_EQ(m::log2(DoubleFromBits(1)), -1074.0);
  EXPECT_EQ(m::log2(FloatFromBits(1)), -149.0f);
}

// ---------------------------------------------------------------------------
// Special values (C99 Annex F).  Expectations compare bit patterns, so the
// signs of zeros and infinities are checked; any NaN matches any NaN.

template <typename T>
void ExpectSame(T got, T want, const char* what, T x) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what << "(" << x << ") = " << got;
  } else {
    EXPECT_EQ(BitsOf(got), BitsOf(want))
        << what << "(" << x << ") = " << got << ", want " << want;
  }
}

template <typename T>
void CheckUnarySpecials() {
  const T inf = std::numeric_limits<T>::infinity();
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const T z = 0, nz = -T(0);
  struct C {
    const char* name;
    T (*f)(T);
    T x, want;
  };
  const C cases[] = {
      {"exp", m::exp, nan, nan},        {"exp", m::exp, inf, inf},
      {"exp", m::exp, -inf, z},         {"exp", m::exp, z, 1},
      {"exp", m::exp, nz, 1},           {"exp", m::exp, 1000, inf},
      {"exp", m::exp, -1000, z},        {"expm1", m::expm1, nz, nz},
      {"expm1", m::expm1, z, z},        {"expm1", m::expm1, inf, inf},
      {"expm1", m::expm1, -inf, -1},    {"expm1", m::expm1, nan, nan},
      {"expm1", m::expm1, 1000, inf},   {"log", m::log, z, -inf},
      {"log", m::log, nz, -inf},        {"log", m::log, -1, nan},
      {"log", m::log, -inf, nan},       {"log", m::log, inf, inf},
      {"log", m::log, 1, z},            {"log", m::log, nan, nan},
      {"log1p", m::log1p, -1, -inf},    {"log1p", m::log1p, -2, nan},
      {"log1p", m::log1p, nz, nz},      {"log1p", m::log1p, z, z},
      {"log1p", m::log1p, inf, inf},    {"log1p", m::log1p, nan, nan},
      {"log2", m::log2, 8, 3},          {"log2", m::log2, 0.25, -2},
      {"log2", m::log2, z, -inf},       {"log2", m::log2, -1, nan},
      {"log2", m::log2, inf, inf},      {"tanh", m::tanh, nz, nz},
      {"tanh", m::tanh, inf, 1},        {"tanh", m::tanh, -inf, -1},
      {"tanh", m::tanh, nan, nan},      {"sinh", m::sinh, nz, nz},
      {"sinh", m::sinh, -inf, -inf},    {"sinh", m::sinh, 1000, inf},
      {"cosh", m::cosh, nz, 1},         {"cosh", m::cosh, -inf, inf},
      {"cosh", m::cosh, nan, nan},      {"asinh", m::asinh, nz, nz},
      {"asinh", m::asinh, -inf, -inf},  {"asinh", m::asinh, nan, nan},
      {"acosh", m::acosh, 1, z},        {"acosh", m::acosh, T(0.5), nan},
      {"acosh", m::acosh, inf, inf},    {"acosh", m::acosh, -inf, nan},
      {"atanh", m::atanh, nz, nz},      {"atanh", m::atanh, 1, inf},
      {"atanh", m::atanh, -1, -inf},    {"atanh", m::atanh, 2, nan},
      {"atanh", m::atanh, nan, nan},    {"sin", m::sin, nz, nz},
      {"sin", m::sin, inf, nan},        {"sin", m::sin, nan, nan},
      {"cos", m::cos, nz, 1},           {"cos", m::cos, -inf, nan},
      {"tan", m::tan, nz, nz},          {"tan", m::tan, inf, nan},
      {"asin", m::asin, nz, nz},        {"asin", m::asin, T(1.5), nan},
      {"acos", m::acos, 1, z},          {"acos", m::acos, -2, nan},
      {"atan", m::atan, nz, nz},        {"atan", m::atan, nan, nan},
      {"erf", m::erf, nz, nz},          {"erf", m::erf, inf, 1},
      {"erf", m::erf, -inf, -1},        {"erf", m::erf, nan, nan},
      {"sigmoid", m::sigmoid, inf, 1},  {"sigmoid", m::sigmoid, -inf, z},
      {"sigmoid", m::sigmoid, z, T(0.5)}, {"sigmoid", m::sigmoid, nan, nan},
      {"softplus", m::softplus, inf, inf}, {"softplus", m::softplus, -inf, z},
      {"softplus", m::softplus, nan, nan}, {"sqrt", m::sqrt, nz, nz},
      {"sqrt", m::sqrt, -1, nan},       {"sqrt", m::sqrt, 4, 2},
  };
  for (const C& c : cases) ExpectSame(c.f(c.x), c.want, c.name, c.x);
  // Odd functions are exactly odd; atan(+-Inf) and asin/acos(+-1) are the
  // correctly rounded constants.
  const T pi_2 = static_cast<T>(1.57079632679489661923132169163975144L);
  const T pi = static_cast<T>(3.14159265358979323846264338327950288L);
  ExpectSame(m::atan(inf), pi_2, "atan", inf);
  ExpectSame(m::atan(-inf), -pi_2, "atan", -inf);
  ExpectSame(m::asin(T(-1)), -pi_2, "asin", T(-1));
  ExpectSame(m::acos(T(-1)), pi, "acos", T(-1));
  ExpectSame(m::acos(T(0)), pi_2, "acos", T(0));
  std::mt19937_64 rng(5);
  for (int i = 0; i < 10000; ++i) {
    const T x = static_cast<T>(std::ldexp(static_cast<double>(rng() >> 11) * 0x1p-53,
                                          static_cast<int>(rng() % 40) - 20));
    using Fn = T (*)(T);
    for (Fn f : {Fn{m::sin}, Fn{m::tan}, Fn{m::sinh}, Fn{m::tanh}, Fn{m::asinh},
                 Fn{m::atanh}, Fn{m::asin}, Fn{m::atan}, Fn{m::erf}}) {
      const T a = f(x), b = f(-x);
      if (!std::isnan(a)) {
        EXPECT_EQ(BitsOf(a), BitsOf(-b)) << x;
      }
    }
    EXPECT_EQ(BitsOf(m::cos(x)), BitsOf(m::cos(-x))) << x;
    EXPECT_EQ(BitsOf(m::cosh(x)), BitsOf(m::cosh(-x))) << x;
  }
}

TEST(MathSpecial, FloatUnary) { CheckUnarySpecials<float>(); }
TEST(MathSpecial, DoubleUnary) { CheckUnarySpecials<double>(); }

// ---------------------------------------------------------------------------
// pow and atan2: special-value grid against libm (exact where the result is
// 0, Inf or NaN, or integral), random accuracy.

template <typename T>
std::vector<T> SpecialGrid() {
  const T inf = std::numeric_limits<T>::infinity();
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const T tiny = std::numeric_limits<T>::denorm_min();
  return {T(0),  -T(0), T(1),  T(-1),  T(0.5), T(-0.5), T(2),    T(-2),
          T(3),  T(-3), T(2.5), T(-2.5), inf,   -inf,    nan,     tiny,
          -tiny, T(1e10), T(-1e10), T(1e-10), T(7), T(-7), T(0.999), T(1.001)};
}

template <typename T>
void CheckPowSpecials() {
  const auto grid = SpecialGrid<T>();
  for (T x : grid) {
    for (T y : grid) {
      const T got = m::pow(x, y);
      const T want = std::pow(x, y);
      if (std::isnan(want) || std::isinf(want) || want == 0) {
        if (std::isnan(want)) {
          EXPECT_TRUE(std::isnan(got)) << "pow(" << x << ", " << y << ")";
        } else {
          EXPECT_EQ(BitsOf(got), BitsOf(want))
              << "pow(" << x << ", " << y << ") = " << got << " want " << want;
        }
      } else {
        const double err = sizeof(T) == 4
                               ? UlpErrorF(got, std::pow(double(x), double(y)))
                               : UlpErrorD(got, powl(x, y));
        EXPECT_LE(err, 1.0) << "pow(" << x << ", " << y << ")";
      }
    }
  }
  // pow(x, +-0) = 1 and pow(1, y) = 1 even for NaN.
  const T nan = std::numeric_limits<T>::quiet_NaN();
  EXPECT_EQ(m::pow(nan, T(0)), T(1));
  EXPECT_EQ(m::pow(nan, -T(0)), T(1));
  EXPECT_EQ(m::pow(T(1), nan), T(1));
  EXPECT_EQ(m::pow(T(-1), std::numeric_limits<T>::infinity()), T(1));
  EXPECT_TRUE(std::isnan(m::pow(T(-8), T(1) / T(3))));
  EXPECT_EQ(m::pow(T(-2), T(3)), T(-8));
  EXPECT_EQ(m::pow(T(-2), T(-1)), T(-0.5));
  EXPECT_EQ(BitsOf(m::pow(-T(0), T(-3))),
            BitsOf(-std::numeric_limits<T>::infinity()));
  EXPECT_EQ(BitsOf(m::pow(-T(0), T(4))), BitsOf(T(0)));
}

TEST(MathPow, FloatSpecials) { CheckPowSpecials<float>(); }
TEST(MathPow, DoubleSpecials) { CheckPowSpecials<double>(); }

TEST(MathPow, FloatAccuracy) {
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> ux(0.0f, 1.0f);
  Worst<float> w;
  for (int i = 0; i < 300000; ++i) {
    // |x| spread over many binades, y such that x^y spans the float range.
    const float x = std::ldexp(0.5f + ux(rng), static_cast<int>(rng() % 60) - 30);
    const float y = (ux(rng) * 2 - 1) * 120.0f / std::max(1.0f, std::fabs(std::log2(x)));
    w.Add(UlpErrorF(m::pow(x, y), std::pow(double(x), double(y))), x);
    const float xb = FloatFromBits(rng() & 0x7fffffffu);
    const float yb = FloatFromBits(rng());
    w.Add(UlpErrorF(m::pow(xb, yb), std::pow(double(xb), double(yb))), xb);
    const float xi = -xb;  // negative base, integral exponent
    const float yi = static_cast<float>(static_cast<int>(rng() % 41) - 20);
    w.Add(UlpErrorF(m::pow(xi, yi), std::pow(double(xi), double(yi))), xi);
  }
  std::printf("float  pow       max %.3f ulp at x=%a\n", w.ulp, w.at);
  EXPECT_LE(w.ulp, 1.0);
}

TEST(MathPow, DoubleAccuracy) {
  std::mt19937_64 rng(98);
  std::uniform_real_distribution<double> ux(0.0, 1.0);
  Worst<double> w;
  for (int i = 0; i < 50000; ++i) {
    const double x = std::ldexp(0.5 + ux(rng), static_cast<int>(rng() % 400) - 200);
    const double y = (ux(rng) * 2 - 1) * 1000.0 / std::max(1.0, std::fabs(std::log2(x)));
    w.Add(UlpErrorD(m::pow(x, y), powl(x, y)), x);
    const double xb = DoubleFromBits(rng() & 0x7fffffffffffffffull);
    const double yb = DoubleFromBits(rng());
    w.Add(UlpErrorD(m::pow(xb, yb), powl(xb, yb)), xb);
  }
  std::printf("double pow       max %.3f ulp at x=%a\n", w.ulp, w.at);
  EXPECT_LE(w.ulp, 1.0);
}

template <typename T>
void CheckAtan2() {
  const auto grid = SpecialGrid<T>();
  for (T y : grid) {
    for (T x : grid) {
      const T got = m::atan2(y, x);
      const T want = std::atan2(y, x);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got)) << "atan2(" << y << ", " << x << ")";
      } else if (want == 0) {
        EXPECT_EQ(BitsOf(got), BitsOf(want)) << "atan2(" << y << ", " << x << ")";
      } else {
        const double err = sizeof(T) == 4
                               ? UlpErrorF(got, std::atan2(double(y), double(x)))
                               : UlpErrorD(got, atan2l(y, x));
        EXPECT_LE(err, 1.5) << "atan2(" << y << ", " << x << ") = " << got;
      }
    }
  }
  std::mt19937_64 rng(7);
  Worst<T> w;
  for (int i = 0; i < 100000; ++i) {
    T y, x;
    if constexpr (sizeof(T) == 4) {
      y = FloatFromBits(static_cast<uint32_t>(rng()));
      x = (i & 1) ? FloatFromBits(static_cast<uint32_t>(rng()))
                  : static_cast<T>(y * (static_cast<double>(rng() >> 11) * 0x1p-52 - 1));
      w.Add(UlpErrorF(m::atan2(y, x), std::atan2(double(y), double(x))), y);
    } else {
      y = DoubleFromBits(rng());
      x = (i & 1) ? DoubleFromBits(rng())
                  : y * (static_cast<double>(rng() >> 11) * 0x1p-52 - 1);
      w.Add(UlpErrorD(m::atan2(y, x), atan2l(y, x)), y);
    }
  }
  std::printf("%s atan2     max %.3f ulp\n", sizeof(T) == 4 ? "float " : "double", w.ulp);
  EXPECT_LE(w.ulp, 1.5);
}

TEST(MathAtan2, Float) { CheckAtan2<float>(); }
TEST(MathAtan2, Double) { CheckAtan2<double>(); }

// ---------------------------------------------------------------------------
// Exact operations: rounding functions and fmod must equal libm bit for bit.

template <typename T>
void CheckRounding(T x) {
  ExpectSame(m::trunc(x), std::trunc(x), "trunc", x);
  ExpectSame(m::floor(x), std::floor(x), "floor", x);
  ExpectSame(m::ceil(x), std::ceil(x), "ceil", x);
  ExpectSame(m::round_half_even(x), std::nearbyint(x), "round_half_even", x);
  ExpectSame(m::round_half_away(x), std::round(x), "round_half_away", x);
}

TEST(MathExact, Rounding) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 100000; ++i) {
    CheckRounding(FloatFromBits(static_cast<uint32_t>(rng())));
    CheckRounding(DoubleFromBits(rng()));
    // Small magnitudes and exact halves, where rounding is decided.
    const int k = static_cast<int>(rng() % 2001) - 1000;
    CheckRounding(static_cast<float>(k) * 0.5f);
    CheckRounding(static_cast<double>(k) * 0.25);
    CheckRounding(std::ldexp(static_cast<double>(rng() >> 11), -50));
  }
  for (float x : {0.0f, -0.0f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 0.49999997f,
                  8388607.5f, -8388608.0f, kInfF, -kInfF, kNanF}) {
    CheckRounding(x);
  }
  for (double x : {0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.49999999999999994,
                   4503599627370495.5, kInfD, -kInfD, kNanD}) {
    CheckRounding(x);
  }
}

TEST(MathExact, Fmod) {
  std::mt19937_64 rng(13);
  auto check_f = [](float x, float y) {
    const float got = m::fmod(x, y), want = std::fmod(x, y);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << x << " " << y;
    } else {
      EXPECT_EQ(BitsOf(got), BitsOf(want)) << "fmod(" << x << ", " << y << ")";
    }
  };
  auto check_d = [](double x, double y) {
    const double got = m::fmod(x, y), want = std::fmod(x, y);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << x << " " << y;
    } else {
      EXPECT_EQ(BitsOf(got), BitsOf(want)) << "fmod(" << x << ", " << y << ")";
    }
  };
  for (int i = 0; i < 50000; ++i) {
    check_f(FloatFromBits(static_cast<uint32_t>(rng())),
            FloatFromBits(static_cast<uint32_t>(rng())));
    check_d(DoubleFromBits(rng()), DoubleFromBits(rng()));
    // Nearby magnitudes (few quotient bits) and subnormal divisors.
    const float a = FloatFromBits(static_cast<uint32_t>(rng()) & 0x7fffffffu);
    check_f(a, a * 0.3f);
    check_f(-a, FloatFromBits(static_cast<uint32_t>(rng() & 0x807fffffu)));
    const double b = DoubleFromBits(rng() & 0x7fffffffffffffffull);
    check_d(b, -b * 0.7);
    check_d(b, DoubleFromBits(rng() & 0x800fffffffffffffull));
  }
  for (float x : SpecialGrid<float>()) {
    for (float y : SpecialGrid<float>()) check_f(x, y);
  }
  for (double x : SpecialGrid<double>()) {
    for (double y : SpecialGrid<double>()) check_d(x, y);
  }
}

// Trigonometric reduction of huge arguments (Payne-Hanek) against libm.
TEST(MathTrig, HugeArguments) {
  Worst<float> wf;
  for (uint32_t b = 0x48000000u; b < 0x7f800000u; b += 1999) {  // 2^17 .. max
    const float x = FloatFromBits(b);
    wf.Add(UlpErrorF(m::sin(x), std::sin(double(x))), x);
    wf.Add(UlpErrorF(m::cos(x), std::cos(double(x))), x);
  }
  EXPECT_LE(wf.ulp, 1.0) << "float at " << wf.at;
  Worst<double> wd;
  std::mt19937_64 rng(17);
  for (int i = 0; i < 10000; ++i) {
    const double x =
        DoubleFromBits((rng() % (0x7ff0000000000000ull - 0x40f0000000000000ull)) +
                       0x40f0000000000000ull);
    wd.Add(UlpErrorD(m::sin(x), sinl(x)), x);
    wd.Add(UlpErrorD(m::cos(x), cosl(x)), x);
  }
  EXPECT_LE(wd.ulp, 1.0) << "double at " << wd.at;
  // A classic hard case: the double nearest a huge multiple of pi.
  EXPECT_EQ(m::sin(0x1.6ac5b262ca1ffp+849), static_cast<double>(sinl(0x1.6ac5b262ca1ffp+849L)));
}

}  // namespace
