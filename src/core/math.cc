// idem's elementary functions.  See math.h for the contract.
//
// Structure: every algorithm is written once as a template over T = float or
// double; the per-type constants (polynomial coefficients, split constants,
// clamp bounds) live in Consts<T>.  Polynomials are near-minimax
// (Chebyshev-fitted with mpmath, coefficients rounded to T) and evaluated
// with Horner's rule in fma, highest coefficient first.  A SIMD version must
// issue the same operations in the same order; every `c ? a : b` below is a
// lane select, and both of its arms are meant to be computed for all lanes.
//
// Notation: "exact" marks operations whose result is exactly representable
// (Sterbenz lemma, error-free transformations), which the accuracy argument
// relies on.  Nothing here may be reassociated or contracted.

#include "core/math.h"

// The formulas must not be contracted or reassociated.  The build passes
// -ffp-contract=off; these make the file safe even without it.
#if defined(__FAST_MATH__)
#error "core/math.cc must not be compiled with -ffast-math"
#endif
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <bit>
#include <cmath>  // std::fma and std::sqrt only (IEEE correctly rounded).
#include <cstdint>
#include <limits>

namespace idem::math {
namespace {

// ---------------------------------------------------------------------------
// Type traits and per-type constants.

template <typename T>
struct Consts;

template <>
struct Consts<float> {
  using U = uint32_t;
  using S = int32_t;
  static constexpr int kMant = 23;  // explicit significand bits
  static constexpr int kBias = 127;
  static constexpr U kAbsMask = 0x7fffffffu;
  static constexpr U kMantMask = 0x007fffffu;
  static constexpr float kMagic = 0x1.8p23f;  // round-to-int addend
  static constexpr float kNormScale = 0x1p25f;  // lifts subnormals
  static constexpr float kSqrtHalf = 0x1.6a09e6p-1f;

  // exp: Cody-Waite ln2 split for fma reduction; clamp keeps 2^n representable
  // as two factors while still overflowing/underflowing where it must.
  static constexpr float kLog2e = 0x1.715476p+0f;
  static constexpr float kLog2eLo = 0x1.4ae0c0p-26f;
  static constexpr float kLn2Hi = 0x1.62e430p-1f;
  static constexpr float kLn2Lo = -0x1.05c610p-29f;
  static constexpr float kExpHi = 90.0f;
  static constexpr float kExpLo = -105.0f;
  static constexpr float kExpm1Lo = -20.0f;  // expm1(x) rounds to -1 below
  // exp(r) = 1 + r + r^2 P(r), |r| <= ln2/2.
  static constexpr float kExpP[] = {0x1.000000p-1f, 0x1.555556p-3f,
                                    0x1.5554eap-5f, 0x1.1110e0p-7f,
                                    0x1.6d4316p-10f, 0x1.a124e4p-13f};

  // log: k*ln2 with a short high part so that k*kLn2ShortHi is exact.
  static constexpr float kLn2ShortHi = 0x1.62e4p-1f;
  static constexpr float kLn2ShortLo = 0x1.7f7d1cp-20f;
  // (log(1+s) - log(1-s))/s = 2 + z*Lg(z), z = s^2, |s| <= 0.1716.
  static constexpr float kLogLg[] = {0x1.555556p-1f, 0x1.9999ecp-2f,
                                     0x1.245c3ap-2f, 0x1.ddd0bep-3f};
  // atanh(s)/s = 1 + z/3 + z^2 P2(z), used by the double-word log of pow.
  static constexpr float kPowP2[] = {0x1.99999ap-3f, 0x1.24928ep-3f,
                                     0x1.c6c0dcp-4f, 0x1.87975ap-4f};
  static constexpr float kThirdHi = 0x1.555556p-2f;
  static constexpr float kThirdLo = -0x1.555556p-27f;

  // Trigonometric reduction: pi/2 = kPio2_1 + kPio2_2 + kPio2_3.
  static constexpr float kTwoOverPi = 0x1.45f306p-1f;
  static constexpr float kPio2_1 = 0x1.921fb6p+0f;
  static constexpr float kPio2_2 = -0x1.777a5cp-25f;
  static constexpr float kPio2_3 = -0x1.ee59dap-50f;
  static constexpr float kPiHi = 0x1.921fb6p+1f;
  static constexpr float kPiLo = -0x1.777a5cp-24f;
  static constexpr float kCodyWaiteMax = 0x1p17f;
  // sin(r) = r + r^3 S(r^2); cos(r) = 1 - r^2/2 + r^4 C(r^2); |r| <= pi/4.
  static constexpr float kSinS[] = {-0x1.555556p-3f, 0x1.11110ep-7f,
                                    -0x1.a013a8p-13f, 0x1.6dbe08p-19f};
  static constexpr float kCosC[] = {0x1.555556p-5f, -0x1.6c16c0p-10f,
                                    0x1.a015c4p-16f, -0x1.25244ep-22f};
  // tan(r) = r + r^3 T(r^2), |r| <= pi/4.
  static constexpr float kTanT[] = {
      0x1.555556p-2f, 0x1.11111ep-3f, 0x1.ba14d8p-5f,  0x1.66fc0ap-6f,
      0x1.1a1b9ep-7f, 0x1.22047ap-8f, 0x1.27efb6p-35f, 0x1.d50a9ep-10f};
  // atan(t) = t + t^3 A(t^2), 0 <= t <= 1.
  static constexpr float kAtanA[] = {
      -0x1.555556p-2f, 0x1.999998p-3f,  -0x1.2491d2p-3f, 0x1.c70a6cp-4f,
      -0x1.73a71ap-4f, 0x1.36bfd2p-4f,  -0x1.ffb2bap-5f, 0x1.837062p-5f,
      -0x1.ea18b0p-6f, 0x1.cd243cp-7f,  -0x1.14abacp-8f, 0x1.36ecfcp-11f};
  // asin(x) = x + x^3 P(x^2), |x| <= 1/2.
  static constexpr float kAsinP[] = {0x1.555554p-3f, 0x1.333430p-4f,
                                     0x1.6d5bbap-5f, 0x1.fd8da2p-6f,
                                     0x1.18f91ep-6f, 0x1.13fed4p-5f};
  // tanh(x) = x + x^3 T(x^2), |x| < 0.55.
  static constexpr float kTanhSmall = 0.55f;
  static constexpr float kTanhOne = 10.0f;
  static constexpr float kTanhT[] = {-0x1.555554p-2f, 0x1.110feap-3f,
                                     -0x1.b9a044p-5f, 0x1.5d220ep-6f,
                                     -0x1.b13538p-8f};
  // sinh(x) = x + x^3 S(x^2), |x| < 1.
  static constexpr float kSinhS[] = {0x1.555556p-3f, 0x1.11111ep-7f,
                                     0x1.a00900p-13f, 0x1.78a70ep-19f};
  // erf(x) = x + x E(x^2), |x| < 1.
  static constexpr float kErfE[] = {
      0x1.06eba8p-3f,  -0x1.812746p-2f, 0x1.ce2f08p-4f,  -0x1.b829c8p-6f,
      0x1.562a60p-8f, -0x1.bccf66p-11f, 0x1.d88750p-14f, -0x1.445f48p-17f};
  static constexpr float kErfMax = 4.0f;  // erf rounds to 1 from here on
};

template <>
struct Consts<double> {
  using U = uint64_t;
  using S = int64_t;
  static constexpr int kMant = 52;
  static constexpr int kBias = 1023;
  static constexpr U kAbsMask = 0x7fffffffffffffffull;
  static constexpr U kMantMask = 0x000fffffffffffffull;
  static constexpr double kMagic = 0x1.8p52;
  static constexpr double kNormScale = 0x1p54;
  static constexpr double kSqrtHalf = 0x1.6a09e667f3bcdp-1;

  static constexpr double kLog2e = 0x1.71547652b82fep+0;
  static constexpr double kLog2eLo = 0x1.777d0ffda0d24p-56;
  static constexpr double kLn2Hi = 0x1.62e42fefa39efp-1;
  static constexpr double kLn2Lo = 0x1.abc9e3b39803fp-56;
  static constexpr double kExpHi = 711.0;
  static constexpr double kExpLo = -746.0;
  static constexpr double kExpm1Lo = -40.0;
  static constexpr double kExpP[] = {
      0x1.0000000000000p-1,  0x1.5555555555557p-3,  0x1.5555555555556p-5,
      0x1.11111111100dfp-7,  0x1.6c16c16c162d6p-10, 0x1.a01a01abe62ddp-13,
      0x1.a01a01a6d7808p-16, 0x1.71de02375656cp-19, 0x1.27e4db67b4303p-22,
      0x1.af4ddd84882fep-26, 0x1.1f72fc730b4ffp-29};

  static constexpr double kLn2ShortHi = 0x1.62e42feep-1;
  static constexpr double kLn2ShortLo = 0x1.a39ef35793c76p-33;
  static constexpr double kLogLg[] = {
      0x1.5555555555558p-1, 0x1.99999999952bfp-2, 0x1.2492492df5266p-2,
      0x1.c71c62e0922bcp-3, 0x1.7462b61242bb4p-3, 0x1.39fe31c77715cp-3,
      0x1.2b5a8aca255fdp-3};
  static constexpr double kPowP2[] = {
      0x1.999999999999ap-3, 0x1.2492492492491p-3, 0x1.c71c71c71cfdcp-4,
      0x1.745d17451318cp-4, 0x1.3b13b1bc9a79dp-4, 0x1.1110dfa1ced98p-4,
      0x1.e1f7fe42b1ec5p-5, 0x1.ac4a3497bf2f9p-5, 0x1.b8d7370441d69p-5};
  static constexpr double kThirdHi = 0x1.5555555555555p-2;
  static constexpr double kThirdLo = 0x1.5555555555555p-56;

  static constexpr double kTwoOverPi = 0x1.45f306dc9c883p-1;
  static constexpr double kPio2_1 = 0x1.921fb54442d18p+0;
  static constexpr double kPio2_2 = 0x1.1a62633145c07p-54;
  static constexpr double kPio2_3 = -0x1.f1976b7ed8fbcp-110;
  static constexpr double kPiHi = 0x1.921fb54442d18p+1;
  static constexpr double kPiLo = 0x1.1a62633145c07p-53;
  static constexpr double kCodyWaiteMax = 0x1p17;
  static constexpr double kSinS[] = {
      -0x1.5555555555555p-3, 0x1.1111111111110p-7,  -0x1.a01a01a019938p-13,
      0x1.71de3a546095bp-19, -0x1.ae645412c560cp-26, 0x1.61217f0b800d5p-33,
      -0x1.ab17d404de5b3p-41};
  static constexpr double kCosC[] = {
      0x1.5555555555555p-5,  -0x1.6c16c16c16c16p-10, 0x1.a01a01a019d0ap-16,
      -0x1.27e4fb7712d65p-22, 0x1.1eed8deb97a97p-29, -0x1.9394ba0cd6ed5p-37,
      0x1.ab785b00b4646p-45};
  static constexpr double kTanT[] = {
      0x1.5555555555555p-2,  0x1.1111111111099p-3,  0x1.ba1ba1ba29c21p-5,
      0x1.664f487d825e1p-6,  0x1.226e3662c71bfp-7,  0x1.d6d3944502de5p-9,
      0x1.7da7fa99fca91p-10, 0x1.351b7f935bf85p-11, 0x1.f9e369939f5edp-13,
      0x1.796ce0408401dp-14, 0x1.d24dfe20bc85bp-15, -0x1.718e379a38132p-17,
      0x1.3251e75204828p-15, -0x1.3347cc60aa3fcp-16, 0x1.1ca765e4c0039p-17};
  static constexpr double kAtanA[] = {
      -0x1.5555555555555p-2, 0x1.9999999999994p-3,  -0x1.24924924920f5p-3,
      0x1.c71c71c6fc8c9p-4,  -0x1.745d17412271bp-4, 0x1.3b13b0ce8aff4p-4,
      -0x1.11110a746070dp-4, 0x1.e1e14ec4e4c39p-5,  -0x1.af23abb356af8p-5,
      0x1.85fa5056a06ccp-5,  -0x1.639775bb08f45p-5, 0x1.4560f34706c85p-5,
      -0x1.280da61ab6494p-5, 0x1.0740e7b22ddb7p-5,  -0x1.bd57b2a70fb25p-6,
      0x1.5a0e630f82889p-6,  -0x1.db3ca635fdf7fp-7, 0x1.14e2d5c3cf8dfp-7,
      -0x1.062861c099837p-8, 0x1.7f300a4168aa2p-10, -0x1.929735fe2c7dap-12,
      0x1.0d2ba64dc4b35p-14, -0x1.56d93881af28bp-18};
  static constexpr double kAsinP[] = {
      0x1.5555555555556p-3, 0x1.3333333332ecap-4,  0x1.6db6db6e31f13p-5,
      0x1.f1c71c1db0623p-6, 0x1.6e8bb1c8209a2p-6,  0x1.1c4d35cf95421p-6,
      0x1.c9cf07674736ap-7, 0x1.782651caa6547p-7,  0x1.52420b04b37bep-7,
      0x1.65a9c4dfcf8b2p-8, 0x1.1d189408314eep-6,  -0x1.e6aaa8a0a04ccp-7,
      0x1.d72b2bc8155f8p-6};
  static constexpr double kTanhSmall = 0.55;
  static constexpr double kTanhOne = 20.0;
  static constexpr double kTanhT[] = {
      -0x1.5555555555555p-2, 0x1.1111111111032p-3,  -0x1.ba1ba1b9fec84p-5,
      0x1.664f487713373p-6,  -0x1.226e32f00cf0cp-7, 0x1.d6d339333f329p-9,
      -0x1.7d97cfd138c28p-10, 0x1.34c5a8a996cd4p-11, -0x1.ec1091436eb2ap-13,
      0x1.64fd88e9900a4p-14, -0x1.59a834187ce22p-16};
  static constexpr double kSinhS[] = {
      0x1.5555555555555p-3,  0x1.1111111111111p-7,  0x1.a01a01a01a001p-13,
      0x1.71de3a556f96cp-19, 0x1.ae6456792a77fp-26, 0x1.612467ccb2260p-33,
      0x1.ae777c36fd5b6p-41, 0x1.99f0806c2628dp-49};
  static constexpr double kErfE[] = {
      0x1.06eba8214db69p-3,  -0x1.812746b0379e7p-2, 0x1.ce2f21a042bdep-4,
      -0x1.b82ce312889bap-6, 0x1.565bcd0e6502dp-8,  -0x1.c02db3feeb579p-11,
      0x1.f9a326c233146p-14, -0x1.f4d2561aeafd4p-17, 0x1.b9e6509b9867dp-20,
      -0x1.5f6d925a0bc7ap-23, 0x1.fc4356498c2d9p-27, -0x1.4e607b41a6416p-30,
      0x1.7f072188e194dp-34, -0x1.29b9f1b3df556p-38};
  static constexpr double kErfMax = 6.0;
};

// erfc(x) e^(x^2) on 1 <= x <= 4 as a polynomial in t = 1/x (float).
constexpr float kErfcQf[] = {0x1.9010ccp-12f, 0x1.1d5576p-1f, 0x1.b7164ap-5f,
                             -0x1.071dcap-1f, 0x1.2e0700p-1f, -0x1.796876p-2f,
                             0x1.07203cp-3f,  -0x1.413574p-6f};
// erfc(x) e^(x^2) on 1 <= x < 2 as a polynomial in u = x - 1.5 (double).
constexpr double kErfcQd1[] = {
    0x1.494daffa2ad68p-2,  -0x1.4f1988444caf7p-3, 0x1.37ea271bc55a0p-4,
    -0x1.0dc51d2941ee4p-5, 0x1.b65944f32a576p-7,  -0x1.513ed75ff9ad6p-8,
    0x1.ee705e987b820p-10, -0x1.5b0abff9c2a92p-11, 0x1.d4508ae09730fp-13,
    -0x1.30c0e2f1726a0p-14, 0x1.7f9e4d674bd86p-16, -0x1.d41a7f9e3cd6fp-18,
    0x1.14b718ccbc836p-19, -0x1.3f46ec5c2de67p-21, 0x1.835e0a520b1cfp-23,
    -0x1.a7ba6423339dep-25};
// erfc(x) e^(x^2) on 2 <= x <= 6 as a polynomial in t = 1/x (double).
constexpr double kErfcQd2[] = {
    0x1.00ff27cdd5132p-25, 0x1.20dd40fc93fe4p-1,  0x1.3119f2a5ccf79p-15,
    -0x1.2161ee141683ap-2, 0x1.28d06bf1301bep-8,  0x1.96a72e3388eb7p-2,
    0x1.429e99e81f5a1p-4,  -0x1.ed351d22957cep-1, -0x1.32fcdeb0f06dbp+1,
    0x1.12c6f974216c8p+4,  -0x1.5e1d33e09d0f8p+5, 0x1.0f8d9845d790bp+6,
    -0x1.17d7508a543e3p+6, 0x1.7aedde05faea7p+5,  -0x1.342597c764ca2p+4,
    0x1.cb0f5f2145ff0p+1};

// Bits of 2/pi (0.a2f9836e...), preceded by 64 zero bits so that windows may
// start before the binary point.  1248 bits cover every double exponent.
constexpr int kTwoOverPiPad = 64;
constexpr uint32_t kTwoOverPiBits[] = {
    0x00000000, 0x00000000, 0xa2f9836e, 0x4e441529, 0xfc2757d1, 0xf534ddc0,
    0xdb629599, 0x3c439041, 0xfe5163ab, 0xdebbc561, 0xb7246e3a, 0x424dd2e0,
    0x06492eea, 0x09d1921c, 0xfe1deb1c, 0xb129a73e, 0xe88235f5, 0x2ebb4484,
    0xe99c7026, 0xb45f7e41, 0x3991d639, 0x835339f4, 0x9c845f8b, 0xbdf9283b,
    0x1ff897ff, 0xde05980f, 0xef2f118b, 0x5a0a6d1f, 0x6d367ecf, 0x27cb09b7,
    0x4f463f66, 0x9e5fea2d, 0x7527bac7, 0xebe5f17b, 0x3d0739f7, 0x8a5292ea,
    0x6bfb5fb1, 0x1f8d5d08, 0x56033046, 0xfc7b6bab, 0xf0cfbc20};

// ---------------------------------------------------------------------------
// Small helpers.

template <typename T>
inline typename Consts<T>::U Bits(T x) {
  return std::bit_cast<typename Consts<T>::U>(x);
}
template <typename T>
inline T FromBits(typename Consts<T>::U u) {
  return std::bit_cast<T>(u);
}
// 2^n for n in the normal exponent range (exact).  Garbage, never UB, outside.
template <typename T>
inline T Pow2(typename Consts<T>::S n) {
  using U = typename Consts<T>::U;
  return FromBits<T>(static_cast<U>(n + Consts<T>::kBias) << Consts<T>::kMant);
}
template <typename T>
inline T Inf() {
  return std::numeric_limits<T>::infinity();
}
template <typename T>
inline T QNaN() {
  return std::numeric_limits<T>::quiet_NaN();
}
template <typename T>
inline bool IsNaN(T x) {
  return x != x;
}

template <typename T, std::size_t N>
inline T Horner(T x, const T (&c)[N]) {
  T r = c[N - 1];
  for (std::size_t i = N - 1; i-- > 0;) r = std::fma(r, x, c[i]);
  return r;
}

// Rounds x to the nearest integer (ties to even) via the magic addend; valid
// for |x| < 2^(mant-1).  Returns the value as T and as an integer.
template <typename T>
inline T RoundMagic(T x, T mul, typename Consts<T>::S* n) {
  using C = Consts<T>;
  const T t = std::fma(x, mul, C::kMagic);
  *n = static_cast<typename C::S>(Bits(t) - Bits(C::kMagic));
  return t - C::kMagic;
}

// Error-free sum: s + e == a + b exactly.
template <typename T>
inline T TwoSum(T a, T b, T* e) {
  const T s = a + b;
  const T bb = s - a;
  *e = (a - (s - bb)) + (b - bb);
  return s;
}
// Error-free sum for |a| >= |b| (or a == 0).
template <typename T>
inline T FastTwoSum(T a, T b, T* e) {
  const T s = a + b;
  *e = b - (s - a);
  return s;
}

// ---------------------------------------------------------------------------
// Exponential core: e^(x + xl) * 2^scale as hi (+ *lo).  |xl| must be tiny
// against ulp(x).  Reduction x = n ln2 + r with an fma Cody-Waite step (the
// first step is exact, the reduced argument is kept as r + r_lo), then
// e^r = (1 + r) + (r^2 P(r) + r_lo) summed error-free so that the one
// rounding of the result is nearly correct, then 2^(n+scale) applied as two
// exact power-of-two factors so that only the last multiply rounds
// (subnormal results).  x is clamped, so the result saturates to Inf / 0;
// NaN is the caller's job.
template <typename T>
T ExpCore(T x, T xl, int scale, T* lo = nullptr) {
  using C = Consts<T>;
  using S = typename C::S;
  const bool in_range = x < C::kExpHi && x > C::kExpLo;
  x = x < C::kExpHi ? x : C::kExpHi;  // NaN becomes kExpHi
  x = x > C::kExpLo ? x : C::kExpLo;
  xl = in_range ? xl : T(0);
  S n;
  const T nf = RoundMagic(x, C::kLog2e, &n);
  const T r1 = std::fma(nf, -C::kLn2Hi, x);  // exact
  T r_lo;
  const T r = TwoSum(r1, std::fma(nf, -C::kLn2Lo, xl), &r_lo);
  const T t = (r * r) * Horner(r, C::kExpP);
  T s_lo;
  const T s = FastTwoSum(T(1), r, &s_lo);
  const T tail = s_lo + (r_lo + t);
  T e_lo;
  const T e = FastTwoSum(s, tail, &e_lo);
  const S m = n + scale;
  const S m1 = m >> 1;
  const T p1 = Pow2<T>(m1);
  const T p2 = Pow2<T>(m - m1);
  if (lo != nullptr) *lo = e_lo * p1 * p2;
  return e * p1 * p2;
}

template <typename T>
T ExpImpl(T x) {
  const T r = ExpCore(x, T(0), 0);
  return IsNaN(x) ? x + x : r;
}

// e^x - 1.  With x = n ln2 + (r + r_lo) and e^r - 1 = r + t, t = r^2 P(r):
//   n >= -1:  ((1 - 2^-n) + r + t) * 2^n, the leading sum error-free
//   n <= -2:  (1 + r + t) * 2^n - 1      (the -1 dominates)
template <typename T>
T Expm1Impl(T x) {
  using C = Consts<T>;
  using S = typename C::S;
  T xc = x < C::kExpHi ? x : C::kExpHi;
  xc = xc > C::kExpm1Lo ? xc : C::kExpm1Lo;
  S n;
  const T nf = RoundMagic(xc, C::kLog2e, &n);
  const T r1 = std::fma(nf, -C::kLn2Hi, xc);  // exact
  T r_lo;
  const T r = TwoSum(r1, nf * -C::kLn2Lo, &r_lo);
  const T t = (r * r) * Horner(r, C::kExpP);
  // Case n >= -1.  1 - 2^-n is exact up to n = mant+1; beyond, 2^-n is kept
  // apart as c_lo.
  const bool big = n > C::kMant + 1;
  const T c_hi = big ? T(1) : T(1) - Pow2<T>(-(big ? S(0) : n));
  const S n_lo = n < C::kBias - 2 ? n : S(C::kBias - 2);
  const T c_lo = big ? -Pow2<T>(-n_lo) : T(0);
  T u_err;
  const T u = TwoSum(c_hi, r, &u_err);
  const S n1 = n >> 1;
  const T a = (u + (u_err + ((r_lo + c_lo) + t))) * Pow2<T>(n1) * Pow2<T>(n - n1);
  // Case n <= -2 (n >= -29 / -58 thanks to the clamp, 2^n is normal).
  const T b = ((T(1) + r) + (r_lo + t)) * Pow2<T>(n) - T(1);
  T res = n >= -1 ? a : b;
  res = x == T(0) ? x : res;  // keeps -0
  return IsNaN(x) ? x + x : res;
}

// ---------------------------------------------------------------------------
// Logarithm core.  x = 2^k m with m in [sqrt(1/2), sqrt(2)), f = m - 1
// (exact), s = f / (2 + f), log(1+f) = f - f^2/2 + s (f^2/2 + R(s^2)).

template <typename T>
struct LogArgs {
  T f;  // m - 1
  T k;  // exponent as T
};

// x positive, finite (subnormals allowed); garbage without UB otherwise.
template <typename T>
LogArgs<T> LogReduce(T x) {
  using C = Consts<T>;
  using S = typename C::S;
  using U = typename C::U;
  const bool sub = x < std::numeric_limits<T>::min();
  const T xs = sub ? x * C::kNormScale : x;
  const S k_adj = sub ? -(C::kMant + 2) : 0;
  const U u = Bits(xs);
  const S k = static_cast<S>(u - Bits(C::kSqrtHalf)) >> C::kMant;
  const T m = FromBits<T>(u - (static_cast<U>(k) << C::kMant));
  return {m - T(1), static_cast<T>(k + k_adj)};
}

// log(2^k (1 + f)) + c, where c is a small correction (|c| << ulp(f)).
template <typename T>
T LogKernel(LogArgs<T> a, T c) {
  using C = Consts<T>;
  const T f = a.f;
  const T k = a.k;
  const T s = f / (T(2) + f);
  const T z = s * s;
  const T r = z * Horner(z, C::kLogLg);
  const T hfsq = T(0.5) * f * f;
  return k * C::kLn2ShortHi -
         ((hfsq - (s * (hfsq + r) + (k * C::kLn2ShortLo + c))) - f);
}

template <typename T>
T LogImpl(T x) {
  T r = LogKernel(LogReduce(x), T(0));
  r = x == T(0) ? -Inf<T>() : r;
  r = x < T(0) ? QNaN<T>() : r;
  r = x == Inf<T>() ? x : r;
  return IsNaN(x) ? x + x : r;
}

// log(1 + x + xl) for x >= -1 finite; u = 1 + x is rounded, its error (exact
// by Fast2Sum) plus xl goes in as the correction c / u.
template <typename T>
T Log1pCore(T x, T xl) {
  const T u = T(1) + x;
  const bool small = x <= T(1) && x >= T(-1);
  T c = small ? x - (u - T(1)) : T(1) - (u - x);  // exact
  c = (c + xl) / u;
  LogArgs<T> a = LogReduce(u);
  // 1 + x in [sqrt(1/2), sqrt(2)): f = x is exact, no rounding of u at all.
  const bool mid = x > Consts<T>::kSqrtHalf - T(1) && x < T(2) * Consts<T>::kSqrtHalf - T(1);
  a.f = mid ? x : a.f;
  a.k = mid ? T(0) : a.k;
  c = mid ? xl / u : c;
  return LogKernel(a, c);
}

template <typename T>
T Log1pImpl(T x) {
  T r = Log1pCore(x, T(0));
  r = x == T(-1) ? -Inf<T>() : r;
  r = x < T(-1) ? QNaN<T>() : r;
  r = x == Inf<T>() ? x : r;
  r = x == T(0) ? x : r;
  return IsNaN(x) ? x + x : r;
}

// Double-word T arithmetic for pow: log(x) = hi + lo with ~2^-(2p-10)
// relative error, p = 24 or 53.
template <typename T>
T LogDW(T x, T* lo) {
  using C = Consts<T>;
  const LogArgs<T> a = LogReduce(x);
  const T f = a.f;
  // s = f / (2 + f) as s + s_lo.
  T d_lo;
  const T d = FastTwoSum(T(2), f, &d_lo);
  const T s = f / d;
  const T rem = std::fma(-s, d, f);  // exact
  const T s_lo = (rem - s * d_lo) / d;
  // z = s^2 as z + z_lo.
  const T z = s * s;
  const T z_lo = std::fma(s, s, -z) + T(2) * s * s_lo;
  // w = 1 + z/3 + z^2 P2(z) as w + w_lo.
  const T t = z * C::kThirdHi;
  const T t_lo = std::fma(z, C::kThirdHi, -t) +
                 (z * C::kThirdLo + z_lo * C::kThirdHi);
  const T tail = z * z * Horner(z, C::kPowP2);
  T w_lo;
  const T w = FastTwoSum(T(1), t, &w_lo);
  w_lo = w_lo + (t_lo + tail);
  // log(1 + f) = 2 s w.
  const T s2 = T(2) * s;
  const T s2_lo = T(2) * s_lo;
  const T p = s2 * w;
  const T p_lo = std::fma(s2, w, -p) + (s2 * w_lo + s2_lo * w);
  // + k ln2 (k * kLn2ShortHi is exact).
  const T kh = a.k * C::kLn2ShortHi;
  const T kl = a.k * C::kLn2ShortLo;
  T e;
  const T h = TwoSum(kh, p, &e);
  T l = e + (p_lo + kl);
  const T hi = h + l;
  *lo = l - (hi - h);
  return hi;
}

// Integral part, exact: clears the fraction bits (signed zero for |x| < 1).
template <typename T>
T TruncImpl(T x) {
  using C = Consts<T>;
  using U = typename C::U;
  using S = typename C::S;
  const U u = Bits(x);
  const S e = static_cast<S>((u & C::kAbsMask) >> C::kMant) - C::kBias;
  if (e >= C::kMant) return x;  // integral, Inf or NaN
  if (e < 0) return FromBits<T>(u & ~C::kAbsMask);  // signed zero
  const U frac = C::kMantMask >> e;
  return FromBits<T>(u & ~frac);
}

// True for integral y, including +-Inf; false for NaN.
template <typename T>
bool IsInt(T y) {
  return TruncImpl(y) == y;
}

// x^y = e^(y log|x|) with log|x| and the product in double-word arithmetic
// (relative error ~2^-(2p-10)), so the only significant rounding is the
// exponential's.  Special cases are applied afterwards in Annex F order.
template <typename T>
T PowImpl(T x, T y) {
  const T ax = abs(x);
  const bool y_int = IsInt(y);
  const bool y_odd = y_int && !IsInt(y * T(0.5)) && isfinite(y);
  // General case |x|^y = e^(y log|x|) with a double-word logarithm.
  T l_lo;
  const T l = LogDW(ax, &l_lo);
  const T yl = y * l;
  const T yl_lo = std::fma(y, l, -yl) + y * l_lo;
  T r = ExpCore(yl, yl_lo, 0);
  // Negative finite base.
  if (x < T(0)) r = y_int ? (y_odd ? -r : r) : QNaN<T>();
  // Zero base.
  if (x == T(0)) {
    r = y < T(0) ? (y_odd ? copysign(Inf<T>(), x) : Inf<T>())
                 : (y_odd ? x : T(0));
  }
  // Infinite base.
  if (ax == Inf<T>()) {
    r = y < T(0) ? (y_odd && x < T(0) ? T(-0.0) : T(0))
                 : (y_odd && x < T(0) ? -Inf<T>() : Inf<T>());
  }
  // Infinite exponent.
  if (abs(y) == Inf<T>()) {
    r = ax == T(1) ? T(1)
                   : ((ax < T(1)) == (y > T(0)) ? T(0) : Inf<T>());
  }
  // Correctly rounded shortcuts (pow(x, 2) == x * x, pow(x, 1) == x, ...).
  if (y == T(1)) r = x;
  if (y == T(2)) r = x * x;
  if (y == T(-1)) r = T(1) / x;
  if (y == T(0.5) && x > -Inf<T>()) r = std::sqrt(x) + T(0);  // +0 for -0
  if (IsNaN(x) || IsNaN(y)) r = x + y;
  if (y == T(0) || x == T(1)) r = T(1);
  return r;
}

// log2(x) = k + log(m) * log2(e), with log(m) in double-word arithmetic.
template <typename T>
T Log2Impl(T x) {
  using C = Consts<T>;
  const LogArgs<T> a = LogReduce(x);
  // log(m), m = 1 + f in [sqrt(1/2), sqrt(2)): LogDW reduces it with k = 0.
  T lo;
  const T hi = LogDW(T(1) + a.f, &lo);  // 1 + f is exact
  const T p = hi * C::kLog2e;
  const T p_lo = std::fma(hi, C::kLog2e, -p) + (hi * C::kLog2eLo + lo * C::kLog2e);
  T e;
  const T s = FastTwoSum(a.k, p, &e);  // |k| >= 1 > |p| unless k == 0
  T r = s + (e + p_lo);
  r = x == T(0) ? -Inf<T>() : r;
  r = x < T(0) ? QNaN<T>() : r;
  r = x == Inf<T>() ? x : r;
  return IsNaN(x) ? x + x : r;
}

// ---------------------------------------------------------------------------
// Hyperbolic functions.

// 1/(1+e) for x >= 0, e/(1+e) for x < 0, e = e^-|x| = e_hi + e_lo, with the
// division corrected by its exact residual.
template <typename T>
T SigmoidImpl(T x) {
  T e_lo;
  const T e = ExpCore(-abs(x), T(0), 0, &e_lo);  // e^-|x| in (0, 1]
  T d_lo;
  const T d = FastTwoSum(T(1), e, &d_lo);
  d_lo = d_lo + e_lo;                     // 1 + e = d + d_lo
  const T num = x >= T(0) ? T(1) : e;
  const T num_lo = x >= T(0) ? T(0) : e_lo;
  const T q = num / d;
  const T rem = std::fma(-q, d, num);  // exact
  const T r = q + ((rem + num_lo) - q * d_lo) / d;
  return IsNaN(x) ? x + x : r;
}

template <typename T>
T SoftplusImpl(T x) {
  T e_lo;
  const T e = ExpCore(-abs(x), T(0), 0, &e_lo);
  const T l = Log1pCore(e, e_lo);
  T r = x > T(0) ? x + l : l;
  r = x == Inf<T>() ? x : r;
  return IsNaN(x) ? x + x : r;
}

template <typename T>
T TanhImpl(T x) {
  using C = Consts<T>;
  const T a = abs(x);
  const T z = a * a;
  const T small = std::fma(a * z, Horner(z, C::kTanhT), a);
  // a >= 0.55: 1 - 2 / (e^(2a) + 1), e^(2a) and the quotient in double-word.
  const T ac = a < C::kTanhOne ? a : C::kTanhOne;  // tanh(kTanhOne) rounds to 1
  T e_lo;
  const T e = ExpCore(T(2) * ac, T(0), 0, &e_lo);
  T d_lo;
  const T d = FastTwoSum(e, T(1), &d_lo);
  d_lo = d_lo + e_lo;
  const T q = T(2) / d;
  const T q_lo = (std::fma(-q, d, T(2)) - q * d_lo) / d;
  T u_err;
  const T u = TwoSum(T(1), -q, &u_err);
  const T big = u + (u_err - q_lo);
  const T r = a < C::kTanhSmall ? small : big;
  return IsNaN(x) ? x + x : copysign(r, x);
}

template <typename T>
T SinhImpl(T x) {
  using C = Consts<T>;
  const T a = abs(x);
  const T z = a * a;
  const T small = std::fma(a * z, Horner(z, C::kSinhS), a);
  T h_lo;
  const T h = ExpCore(a, T(0), -1, &h_lo);  // e^a / 2, no premature overflow
  // 0.25/(h + h_lo) = q - h_lo (q/h), q/h ~ 4 q^2.
  const T q = T(0.25) / h;
  const T big = h + (std::fma(T(4) * q * q, h_lo, h_lo) - q);
  const T r = a < T(1) ? small : big;
  return IsNaN(x) ? x + x : copysign(r, x);
}

template <typename T>
T CoshImpl(T x) {
  T h_lo;
  const T h = ExpCore(abs(x), T(0), -1, &h_lo);
  const T q = T(0.25) / h;  // 0.25/(h + h_lo) = q - h_lo (q/h), q/h ~ 4 q^2
  const T r = h + (std::fma(T(-4) * q * q, h_lo, h_lo) + q);
  return IsNaN(x) ? x + x : r;
}

// log(y) + ln2 (used for large arguments of asinh/acosh).
template <typename T>
T LogPlusLn2(T y) {
  LogArgs<T> a = LogReduce(y);
  a.k = a.k + T(1);
  return LogKernel(a, T(0));
}

template <typename T>
T AsinhImpl(T x) {
  const T a = abs(x);
  const T a2 = a * a;
  // a < 2: log1p(a + a^2 / (1 + sqrt(1 + a^2))), sum kept in double-word.
  const T t = a2 / (T(1) + std::sqrt(T(1) + a2));
  T y_lo;
  const T y = FastTwoSum(a, t, &y_lo);
  const T small = Log1pCore(y, y_lo);
  // a >= 2: log(2a + 1/(a + sqrt(a^2 + 1))) = ln2 + log(a + 0.5/(...)).
  const T big = LogPlusLn2(a + T(0.5) / (a + std::sqrt(a2 + T(1))));
  T r = a < T(2) ? small : big;
  r = a == Inf<T>() ? a : r;
  return IsNaN(x) ? x + x : copysign(r, x);
}

template <typename T>
T AcoshImpl(T x) {
  // 1 <= x <= 2: log1p(t + sqrt(2t + t^2)), t = x - 1 (exact).
  const T t = x - T(1);
  const T w = std::fma(t, t, T(2) * t);
  const T s = std::sqrt(w);
  const T s_lo = w > T(0) ? std::fma(-s, s, w) / (T(2) * s) : T(0);
  T y_lo;
  const T y = FastTwoSum(s, t, &y_lo);
  const T small = Log1pCore(y, y_lo + s_lo);
  // x > 2: ln2 + log(x - 0.5/(x + sqrt(x^2 - 1))).
  const T big = LogPlusLn2(x - T(0.5) / (x + std::sqrt(x * x - T(1))));
  T r = x <= T(2) ? small : big;
  r = x < T(1) ? QNaN<T>() : r;
  r = x == Inf<T>() ? x : r;
  return IsNaN(x) ? x + x : r;
}

template <typename T>
T AtanhImpl(T x) {
  // atanh(a) = log1p(2a / (1 - a)) / 2 with the quotient in double-word.
  const T a = abs(x);
  T d_lo;
  const T d = FastTwoSum(T(1), -a, &d_lo);  // 1 - a = d + d_lo exactly
  const T a2 = T(2) * a;
  const T q = a2 / d;
  const T e = std::fma(-q, d, a2);  // exact
  const T q_lo = (e - q * d_lo) / d;
  T r = T(0.5) * Log1pCore(q, q_lo);
  r = a == T(1) ? Inf<T>() : r;
  r = a > T(1) ? QNaN<T>() : r;
  r = IsNaN(x) ? x + x : r;
  return copysign(r, x);
}

// ---------------------------------------------------------------------------
// Trigonometric argument reduction: x = q pi/2 + (hi + lo), |hi| <~ pi/4.

template <typename T>
struct Reduced {
  T hi;
  T lo;
  int q;
};

// Three-part Cody-Waite with error-free products; |x| <= 2^17.
template <typename T>
Reduced<T> ReduceCodyWaite(T x) {
  using C = Consts<T>;
  typename C::S n;
  const T nf = RoundMagic(x, C::kTwoOverPi, &n);
  const T r1 = std::fma(nf, -C::kPio2_1, x);  // exact
  const T p = nf * C::kPio2_2;
  const T p_err = std::fma(nf, C::kPio2_2, -p);  // exact
  T e;
  const T s = TwoSum(r1, -p, &e);
  const T lo = std::fma(-nf, C::kPio2_3, e - p_err);
  T out_lo;
  const T out_hi = FastTwoSum(s, lo, &out_lo);
  return {out_hi, out_lo, static_cast<int>(n & 3)};
}

// 64 bits of kTwoOverPiBits starting at bit position p (MSB first).
inline uint64_t TwoOverPiWindow(int p) {
  const int idx = p >> 5;
  const int sh = p & 31;
  const uint64_t hi = (static_cast<uint64_t>(kTwoOverPiBits[idx]) << 32) |
                      kTwoOverPiBits[idx + 1];
  const uint64_t lo = kTwoOverPiBits[idx + 2];
  return (hi << sh) | ((lo << sh) >> 32);
}

using u128 = unsigned __int128;

// Multiplies the signed fraction (value in [-1/2, 1/2)) given as a
// normalized magnitude by pi/2, producing the reduced argument in T.
template <typename T>
Reduced<T> FinishPayneHanek(T fh, T fl, bool neg, int q, bool x_neg) {
  using C = Consts<T>;
  // pi/2 as kPio2_1 + kPio2_2.
  const T h = fh * C::kPio2_1;
  const T l = std::fma(fh, C::kPio2_1, -h) + (fh * C::kPio2_2 + fl * C::kPio2_1);
  T lo;
  T hi = FastTwoSum(h, l, &lo);
  if (neg != x_neg) {
    hi = -hi;
    lo = -lo;
  }
  if (x_neg) q = -q;
  return {hi, lo, q & 3};
}

// Payne-Hanek for finite |x| > 2^17 (float): integer-exact product of the
// 24-bit significand with a 96-bit window of 2/pi.
Reduced<float> ReducePayneHanek(float x) {
  const uint32_t u = Bits(x) & 0x7fffffffu;
  const int e = static_cast<int>(u >> 23) - 127;
  const uint64_t m = (u & 0x7fffffu) | 0x800000u;
  // x = m 2^(e-23); bits of 2/pi with weight >= 2^-(e-24) only add multiples
  // of 4 to x*2/pi, so the window starts at bit index e - 24 (1-based).
  const int p = kTwoOverPiPad - 1 + (e - 24);
  const uint64_t w_hi = TwoOverPiWindow(p);
  const uint64_t w_lo = TwoOverPiWindow(p + 64) >> 32;
  const u128 prod = ((static_cast<u128>(m) * w_hi) << 32) + m * w_lo;
  // x*2/pi mod 4 = prod / 2^94.
  int q = static_cast<int>(prod >> 94) & 3;
  const uint64_t frac = static_cast<uint64_t>(prod >> 30);
  q += static_cast<int>(frac >> 63);  // round to nearest quadrant
  const bool neg = (frac >> 63) != 0;
  uint64_t a = neg ? 0 - frac : frac;  // |fraction| * 2^64
  int lz = std::countl_zero(a);
  lz = lz > 63 ? 63 : lz;
  a <<= lz;
  const float fh = static_cast<float>(a >> 40) * Pow2<float>(-24 - lz);
  const float fl =
      static_cast<float>((a >> 16) & 0xffffffu) * Pow2<float>(-48 - lz);
  return FinishPayneHanek(fh, fl, neg, q, x < 0);
}

// Payne-Hanek for finite |x| > 2^17 (double): 53-bit significand times a
// 192-bit window of 2/pi, low 192 bits of the product kept.
Reduced<double> ReducePayneHanek(double x) {
  const uint64_t u = Bits(x) & 0x7fffffffffffffffull;
  const int e = static_cast<int>(u >> 52) - 1023;
  const uint64_t m = (u & 0xfffffffffffffull) | (1ull << 52);
  const int p = kTwoOverPiPad - 1 + (e - 53);
  const uint64_t w0 = TwoOverPiWindow(p);
  const uint64_t w1 = TwoOverPiWindow(p + 64);
  const uint64_t w2 = TwoOverPiWindow(p + 128);
  const u128 a2 = static_cast<u128>(m) * w2;
  const u128 a1 = static_cast<u128>(m) * w1;
  const uint64_t a0 = m * w0;  // mod 2^64
  const uint64_t word0 = static_cast<uint64_t>(a2);
  const u128 t = (a2 >> 64) + static_cast<uint64_t>(a1);
  const uint64_t word1 = static_cast<uint64_t>(t);
  const uint64_t word2 =
      static_cast<uint64_t>(a1 >> 64) + a0 + static_cast<uint64_t>(t >> 64);
  // x*2/pi mod 4 = (word2:word1:word0) / 2^190.
  int q = static_cast<int>(word2 >> 62);
  const uint64_t f_hi = (word2 << 2) | (word1 >> 62);
  const uint64_t f_lo = (word1 << 2) | (word0 >> 62);
  q += static_cast<int>(f_hi >> 63);
  const bool neg = (f_hi >> 63) != 0;
  u128 f = (static_cast<u128>(f_hi) << 64) | f_lo;
  if (neg) f = ~f + 1;
  const uint64_t top = static_cast<uint64_t>(f >> 64);
  int lz = top != 0 ? std::countl_zero(top)
                    : 64 + std::countl_zero(static_cast<uint64_t>(f));
  lz = lz > 127 ? 127 : lz;
  f <<= lz;
  const double fh =
      static_cast<double>(static_cast<uint64_t>(f >> 75)) * Pow2<double>(-53 - lz);
  const double fl =
      static_cast<double>(static_cast<uint64_t>(f >> 22) & ((1ull << 53) - 1)) *
      Pow2<double>(-106 - lz);
  return FinishPayneHanek(fh, fl, neg, q, x < 0);
}

template <typename T>
Reduced<T> Reduce(T x) {
  const T a = abs(x);
  if (a <= Consts<T>::kCodyWaiteMax) return ReduceCodyWaite(x);
  if (a < Inf<T>()) return ReducePayneHanek(x);
  return {x - x, x - x, 0};  // NaN for Inf and NaN
}

// sin(h + l) for |h| <= ~pi/4.
template <typename T>
T SinKernel(T h, T l) {
  const T z = h * h;
  const T tail =
      std::fma(h * z, Horner(z, Consts<T>::kSinS), std::fma(T(-0.5) * z, l, l));
  return h + tail;
}

// cos(h + l) for |h| <= ~pi/4.
template <typename T>
T CosKernel(T h, T l) {
  const T z = h * h;
  const T hz = T(0.5) * z;
  const T w = T(1) - hz;
  return w + (((T(1) - w) - hz) +
              std::fma(z * z, Horner(z, Consts<T>::kCosC), -(h * l)));
}

template <typename T>
T SinCosImpl(T x, int quadrant_shift) {
  const Reduced<T> r = Reduce(x);
  const int q = (r.q + quadrant_shift) & 3;
  const T s = SinKernel(r.hi, r.lo);
  const T c = CosKernel(r.hi, r.lo);
  T v = (q & 1) ? c : s;
  v = (q & 2) ? -v : v;
  return v;
}

template <typename T>
T TanImpl(T x) {
  const Reduced<T> r = Reduce(x);
  const T h = r.hi;
  const T z = h * h;
  const T th = (h * z) * Horner(z, Consts<T>::kTanT);
  T t_lo;
  const T t = FastTwoSum(h, th, &t_lo);
  t_lo = t_lo + r.lo * std::fma(t, t, T(1));  // d tan = (1 + tan^2) dr
  // Odd quadrant: -1 / (t + t_lo) with one Newton correction.
  const T inv = T(-1) / t;
  const T e = std::fma(inv, t, T(1));  // exact residual
  const T cot = std::fma(inv, e + inv * t_lo, inv);
  T v = (r.q & 1) ? cot : t + t_lo;
  return x == T(0) ? x : v;
}

// ---------------------------------------------------------------------------
// Inverse trigonometric functions.

// atan(t) = hi + lo for 0 <= t <= 1.
template <typename T>
T AtanKernel(T t, T* lo) {
  const T z = t * t;
  return FastTwoSum(t, (t * z) * Horner(z, Consts<T>::kAtanA), lo);
}

template <typename T>
T AtanImpl(T x) {
  using C = Consts<T>;
  const T a = abs(x);
  const bool inv = a > T(1);
  const T t = inv ? T(1) / a : a;
  // 1/a = t + t_lo (t_lo = 0 for a = Inf).
  const T t_lo = a < Inf<T>() ? std::fma(-t, a, T(1)) / a : T(0);
  T p_lo;
  const T p = AtanKernel(t, &p_lo);
  // pi/2 - p - p_lo - t_lo/(1+t^2), pi/2 = kPiHi/2 + kPiLo/2 (exact halves).
  T d_err;
  const T d = TwoSum(T(0.5) * C::kPiHi, -p, &d_err);
  const T big = d + (d_err + ((T(0.5) * C::kPiLo - p_lo) -
                              t_lo / std::fma(t, t, T(1))));
  const T r = inv ? big : p + p_lo;
  return IsNaN(x) ? x + x : copysign(r, x);
}

template <typename T>
T Atan2Impl(T y, T x) {
  using C = Consts<T>;
  const T ax = abs(x);
  const T ay = abs(y);
  const bool swap = ay > ax;
  T num = swap ? ax : ay;
  T den = swap ? ay : ax;
  // Both infinite: angle pi/4 per quadrant; both zero: ratio 0.
  const bool both_inf = num == Inf<T>();
  num = both_inf ? T(1) : num;
  den = both_inf ? T(1) : den;
  den = den == T(0) ? T(1) : den;
  const T t = num / den;
  // num/den = t + t_lo (t_lo = 0 for den = Inf).
  const T t_lo = den < Inf<T>() ? std::fma(-t, den, num) / den : T(0);
  T a_lo;
  const T a = AtanKernel(t, &a_lo);
  a_lo = a_lo + t_lo / std::fma(t, t, T(1));
  // result = off + sgn * (a + a_lo), off in {0, pi/2, pi}, summed error-free.
  const T half_hi = T(0.5) * C::kPiHi;
  const T half_lo = T(0.5) * C::kPiLo;
  const bool xneg = signbit(x);
  T off_hi = swap ? half_hi : T(0);
  T off_lo = swap ? half_lo : T(0);
  T sgn = swap ? T(-1) : T(1);
  off_hi = xneg ? (swap ? half_hi : C::kPiHi) : off_hi;
  off_lo = xneg ? (swap ? half_lo : C::kPiLo) : off_lo;
  sgn = xneg ? -sgn : sgn;
  T u_err;
  const T u = TwoSum(off_hi, sgn * a, &u_err);
  const T r = u + (u_err + std::fma(sgn, a_lo, off_lo));
  return IsNaN(x) || IsNaN(y) ? x + y : copysign(r, y);
}

template <typename T>
T AsinImpl(T x) {
  using C = Consts<T>;
  const T a = abs(x);
  // |x| <= 1/2.
  const T z0 = a * a;
  const T small = std::fma(a * z0, Horner(z0, C::kAsinP), a);
  // |x| > 1/2: pi/2 - 2 asin(s), s = sqrt((1 - a) / 2) kept as s + s_lo.
  const T z = T(0.5) * (T(1) - a);  // exact
  const T s = std::sqrt(z);
  const T s_lo = z > T(0) ? std::fma(-s, s, z) / (T(2) * s) : T(0);
  const T t = T(2) * std::fma(s * z, Horner(z, C::kAsinP), s_lo) -
              T(0.5) * C::kPiLo;
  T d_err;
  const T d = TwoSum(T(0.5) * C::kPiHi, T(-2) * s, &d_err);
  const T big = d + (d_err - t);
  T r = a <= T(0.5) ? small : big;
  r = a > T(1) ? QNaN<T>() : r;
  return IsNaN(x) ? x + x : copysign(r, x);
}

template <typename T>
T AcosImpl(T x) {
  using C = Consts<T>;
  const T a = abs(x);
  // |x| <= 1/2: pi/2 - asin(x).
  const T z0 = x * x;
  const T small = T(0.5) * C::kPiHi -
                  (x - (T(0.5) * C::kPiLo - x * z0 * Horner(z0, C::kAsinP)));
  // |x| > 1/2: s = sqrt((1 - |x|) / 2); acos = 2 asin(s) or pi - 2 asin(s).
  const T z = T(0.5) * (T(1) - a);  // exact
  const T s = std::sqrt(z);
  const T s_lo = z > T(0) ? std::fma(-s, s, z) / (T(2) * s) : T(0);
  const T tail = std::fma(s * z, Horner(z, C::kAsinP), s_lo);
  const T pos = T(2) * (s + tail);
  T d_err;
  const T d = TwoSum(C::kPiHi, T(-2) * s, &d_err);
  const T neg = d + (d_err - (T(2) * tail - C::kPiLo));
  T r = a <= T(0.5) ? small : (x > T(0) ? pos : neg);
  r = a > T(1) ? QNaN<T>() : r;
  return IsNaN(x) ? x + x : r;
}

// ---------------------------------------------------------------------------
// erf.  |x| < 1: x + x E(x^2).  |x| >= 1: 1 - e^(-x^2) Q(x) with
// Q = erfc e^(x^2) (its error is damped by erfc/erf <= 0.19), x^2 carried in
// double-word into the exponential.

inline float ErfcScaled(float a) { return Horner(1.0f / a, kErfcQf); }
inline double ErfcScaled(double a) {
  const bool near = a < 2.0;
  const double v = near ? a - 1.5 : 1.0 / a;
  // Both polynomials have 16 coefficients: a lane-wise coefficient select.
  double r = near ? kErfcQd1[15] : kErfcQd2[15];
  for (int i = 14; i >= 0; --i) r = std::fma(r, v, near ? kErfcQd1[i] : kErfcQd2[i]);
  return r;
}

template <typename T>
T ErfImpl(T x) {
  using C = Consts<T>;
  const T a = abs(x);
  const T z = a * a;
  const T small = std::fma(a, Horner(z, C::kErfE), a);
  const T b = a < C::kErfMax ? a : C::kErfMax;  // erf(kErfMax) rounds to 1
  const T bb = b * b;
  const T bb_lo = std::fma(b, b, -bb);
  const T e = ExpCore(-bb, -bb_lo, 0);
  const T big = std::fma(-e, ErfcScaled(b > T(1) ? b : T(1)), T(1));
  const T r = a < T(1) ? small : big;
  return IsNaN(x) ? x + x : copysign(r, x);
}

// ---------------------------------------------------------------------------
// GELU (see math.h for the formulas).

template <typename T>
T GeluImpl(T x) {
  const T t = ErfImpl(x * static_cast<T>(kGeluSqrtHalf));
  return (T(0.5) * x) * (T(1) + t);
}

template <typename T>
T GeluTanhImpl(T x) {
  const T x2 = x * x;
  const T inner = static_cast<T>(kGeluTanhScale) * std::fma(static_cast<T>(kGeluTanhCubic) * x2, x, x);
  return (T(0.5) * x) * (T(1) + TanhImpl(inner));
}

// ---------------------------------------------------------------------------
// Rounding and fmod.

template <typename T>
T FloorImpl(T x) {
  const T t = TruncImpl(x);
  return x < t ? t - T(1) : t;
}
template <typename T>
T CeilImpl(T x) {
  const T t = TruncImpl(x);
  return x > t ? t + T(1) : t;
}
template <typename T>
T RoundEvenImpl(T x) {
  using C = Consts<T>;
  const T a = abs(x);
  const T two_mant = Pow2<T>(C::kMant);
  // a + 2^mant rounds to an integer, ties to even (default rounding mode).
  const T r = a < two_mant ? (a + two_mant) - two_mant : a;
  return copysign(r, x);
}
template <typename T>
T RoundAwayImpl(T x) {
  const T t = TruncImpl(x);
  const T frac = abs(x - t);  // exact
  return frac >= T(0.5) ? t + copysign(T(1), x) : t;
}

// Exact fmod by integer long division of the significands.
template <typename T>
T FmodImpl(T x, T y) {
  using C = Consts<T>;
  using U = typename C::U;
  using S = typename C::S;
  const U ux = Bits(x) & C::kAbsMask;
  const U uy = Bits(y) & C::kAbsMask;
  const U kInfBits = Bits(Inf<T>());
  if (ux > kInfBits || uy > kInfBits) return x + y;          // NaN
  if (ux == kInfBits || uy == 0) return QNaN<T>();           // Inf, y = 0
  if (ux < uy) return x;                                     // |x| < |y|
  S ex = static_cast<S>(ux >> C::kMant);
  S ey = static_cast<S>(uy >> C::kMant);
  U mx = (ux & C::kMantMask) | (ex != 0 ? (U(1) << C::kMant) : U(0));
  U my = (uy & C::kMantMask) | (ey != 0 ? (U(1) << C::kMant) : U(0));
  ex = ex != 0 ? ex : 1;  // subnormal exponent
  ey = ey != 0 ? ey : 1;
  // r = mx * 2^(ex-ey) mod my, a chunk of bits at a time (exact integers).
  constexpr int kChunk = 64;  // r < 2^53: r << 64 fits in 128 bits
  u128 r = mx % my;
  for (S d = ex - ey; d > 0;) {
    const int c = d < kChunk ? static_cast<int>(d) : kChunk;
    r = (r << c) % my;
    d -= c;
  }
  // |result| = r * 2^(ey - bias - mant): exact, possibly subnormal.
  const S k = ey - C::kBias - C::kMant;
  const S k1 = k >> 1;
  const T v = static_cast<T>(static_cast<U>(r)) * Pow2<T>(k1) * Pow2<T>(k - k1);
  return copysign(v, x);
}

}  // namespace

// ---------------------------------------------------------------------------
// Public entry points.

float sqrt(float x) { return std::sqrt(x); }
double sqrt(double x) { return std::sqrt(x); }
float trunc(float x) { return TruncImpl(x); }
double trunc(double x) { return TruncImpl(x); }
float floor(float x) { return FloorImpl(x); }
double floor(double x) { return FloorImpl(x); }
float ceil(float x) { return CeilImpl(x); }
double ceil(double x) { return CeilImpl(x); }
float round_half_even(float x) { return RoundEvenImpl(x); }
double round_half_even(double x) { return RoundEvenImpl(x); }
float round_half_away(float x) { return RoundAwayImpl(x); }
double round_half_away(double x) { return RoundAwayImpl(x); }
float fmod(float x, float y) { return FmodImpl(x, y); }
double fmod(double x, double y) { return FmodImpl(x, y); }

float exp(float x) { return ExpImpl(x); }
double exp(double x) { return ExpImpl(x); }
float expm1(float x) { return Expm1Impl(x); }
double expm1(double x) { return Expm1Impl(x); }
float log(float x) { return LogImpl(x); }
double log(double x) { return LogImpl(x); }
float log1p(float x) { return Log1pImpl(x); }
double log1p(double x) { return Log1pImpl(x); }
float log2(float x) { return Log2Impl(x); }
double log2(double x) { return Log2Impl(x); }
float pow(float x, float y) { return PowImpl(x, y); }
double pow(double x, double y) { return PowImpl(x, y); }
float sigmoid(float x) { return SigmoidImpl(x); }
double sigmoid(double x) { return SigmoidImpl(x); }
float softplus(float x) { return SoftplusImpl(x); }
double softplus(double x) { return SoftplusImpl(x); }

float tanh(float x) { return TanhImpl(x); }
double tanh(double x) { return TanhImpl(x); }
float sinh(float x) { return SinhImpl(x); }
double sinh(double x) { return SinhImpl(x); }
float cosh(float x) { return CoshImpl(x); }
double cosh(double x) { return CoshImpl(x); }
float asinh(float x) { return AsinhImpl(x); }
double asinh(double x) { return AsinhImpl(x); }
float acosh(float x) { return AcoshImpl(x); }
double acosh(double x) { return AcoshImpl(x); }
float atanh(float x) { return AtanhImpl(x); }
double atanh(double x) { return AtanhImpl(x); }

float sin(float x) {
  const float r = SinCosImpl(x, 0);
  return x == 0.0f ? x : r;
}
double sin(double x) {
  const double r = SinCosImpl(x, 0);
  return x == 0.0 ? x : r;
}
float cos(float x) { return SinCosImpl(x, 1); }
double cos(double x) { return SinCosImpl(x, 1); }
float tan(float x) { return TanImpl(x); }
double tan(double x) { return TanImpl(x); }
float asin(float x) { return AsinImpl(x); }
double asin(double x) { return AsinImpl(x); }
float acos(float x) { return AcosImpl(x); }
double acos(double x) { return AcosImpl(x); }
float atan(float x) { return AtanImpl(x); }
double atan(double x) { return AtanImpl(x); }
float atan2(float y, float x) { return Atan2Impl(y, x); }
double atan2(double y, double x) { return Atan2Impl(y, x); }

float erf(float x) { return ErfImpl(x); }
double erf(double x) { return ErfImpl(x); }

float gelu(float x) { return GeluImpl(x); }
double gelu(double x) { return GeluImpl(x); }
float gelu_tanh(float x) { return GeluTanhImpl(x); }
double gelu_tanh(double x) { return GeluTanhImpl(x); }
float silu(float x) { return x * SigmoidImpl(x); }
double silu(double x) { return x * SigmoidImpl(x); }

}  // namespace idem::math
