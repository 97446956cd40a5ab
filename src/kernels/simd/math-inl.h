// Highway versions of idem's float elementary functions (core/math.h), one lane = one scalar call.
//
// Contract: for every float x, lane i of FooF32(d, x) has the bits of idem::math::foo(x[i]) on
// every target (NaN payloads, signed zeros, infinities and subnormals included). Each function
// issues the operations of the scalar routine in core/math.cc in the same order (hn::MulAdd where
// the scalar code has std::fma); every `c ? a : b` of the scalar code is an IfThenElse over values
// computed for all lanes. The one exception is sin/cos of |x| > 2^17, Inf and NaN: those lanes
// (Payne-Hanek reduction) are recomputed by the scalar routine, lane by lane, only when present.
// Tests: tests/unit/simd_math_test.cc (bitwise against the scalar routine).
//
// Use from another SIMD translation unit (after kernels/simd/targets.h and foreach_target.h):
//   #include "kernels/simd/math-inl.h"
//   ... inside idem::simd::HWY_NAMESPACE, under #if IDEM_SIMD_TARGET:
//   const hn::ScalableTag<float> d;  auto y = ExpF32(d, hn::LoadU(d, p));
// The bodies are compiled only for idem's SIMD targets (IDEM_SIMD_TARGET), like gemm-inl.h.
//
// The constants below are copies of Consts<float> in core/math.cc (hex literals, exact); the
// bitwise tests fail if the two ever differ.

#if defined(IDEM_KERNELS_SIMD_MATH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef IDEM_KERNELS_SIMD_MATH_INL_H_
#undef IDEM_KERNELS_SIMD_MATH_INL_H_
#else
#define IDEM_KERNELS_SIMD_MATH_INL_H_
#endif

#include <cstddef>
#include <cstdint>

#include <hwy/highway.h>

#include "core/math.h"

HWY_BEFORE_NAMESPACE();
namespace idem::simd {
namespace HWY_NAMESPACE {
#if IDEM_SIMD_TARGET

namespace hn = hwy::HWY_NAMESPACE;

namespace math_detail {

// ---------------------------------------------------------------- constants (Consts<float>)

constexpr float kMagic = 0x1.8p23f;
constexpr float kNormScale = 0x1p25f;
constexpr float kSqrtHalf = 0x1.6a09e6p-1f;
constexpr float kFltMin = 0x1p-126f;
constexpr float kLog2e = 0x1.715476p+0f;
constexpr float kLn2Hi = 0x1.62e430p-1f;
constexpr float kLn2Lo = -0x1.05c610p-29f;
constexpr float kExpHi = 90.0f;
constexpr float kExpLo = -105.0f;
constexpr float kExpm1Lo = -20.0f;
constexpr float kExpP[] = {0x1.000000p-1f, 0x1.555556p-3f,  0x1.5554eap-5f,
                           0x1.1110e0p-7f, 0x1.6d4316p-10f, 0x1.a124e4p-13f};
constexpr float kLn2ShortHi = 0x1.62e4p-1f;
constexpr float kLn2ShortLo = 0x1.7f7d1cp-20f;
constexpr float kLogLg[] = {0x1.555556p-1f, 0x1.9999ecp-2f, 0x1.245c3ap-2f, 0x1.ddd0bep-3f};
constexpr float kPowP2[] = {0x1.99999ap-3f, 0x1.24928ep-3f, 0x1.c6c0dcp-4f, 0x1.87975ap-4f};
constexpr float kThirdHi = 0x1.555556p-2f;
constexpr float kThirdLo = -0x1.555556p-27f;
constexpr float kTwoOverPi = 0x1.45f306p-1f;
constexpr float kPio2_1 = 0x1.921fb6p+0f;
constexpr float kPio2_2 = -0x1.777a5cp-25f;
constexpr float kPio2_3 = -0x1.ee59dap-50f;
constexpr float kCodyWaiteMax = 0x1p17f;
constexpr float kSinS[] = {-0x1.555556p-3f, 0x1.11110ep-7f, -0x1.a013a8p-13f, 0x1.6dbe08p-19f};
constexpr float kCosC[] = {0x1.555556p-5f, -0x1.6c16c0p-10f, 0x1.a015c4p-16f, -0x1.25244ep-22f};
constexpr float kTanhSmall = 0.55f;
constexpr float kTanhOne = 10.0f;
constexpr float kTanhT[] = {-0x1.555554p-2f, 0x1.110feap-3f, -0x1.b9a044p-5f, 0x1.5d220ep-6f, -0x1.b13538p-8f};
constexpr float kErfE[] = {0x1.06eba8p-3f, -0x1.812746p-2f,  0x1.ce2f08p-4f,  -0x1.b829c8p-6f,
                           0x1.562a60p-8f, -0x1.bccf66p-11f, 0x1.d88750p-14f, -0x1.445f48p-17f};
constexpr float kErfMax = 4.0f;
constexpr float kSinhS[] = {0x1.555556p-3f, 0x1.11111ep-7f, 0x1.a00900p-13f, 0x1.78a70ep-19f};
constexpr float kErfcQf[] = {0x1.9010ccp-12f, 0x1.1d5576p-1f,  0x1.b7164ap-5f, -0x1.071dcap-1f,
                             0x1.2e0700p-1f,  -0x1.796876p-2f, 0x1.07203cp-3f, -0x1.413574p-6f};
constexpr float kInf = __builtin_inff();

// ---------------------------------------------------------------- helpers

template <class D>
using VI = hn::Vec<hn::RebindToSigned<D>>;

template <class D, class V, size_t N>
HWY_INLINE V Horner(D d, V x, const float (&c)[N]) {
  V r = hn::Set(d, c[N - 1]);
  for (size_t i = N - 1; i-- > 0;) r = hn::MulAdd(r, x, hn::Set(d, c[i]));
  return r;
}

// IsNaN(x) ? x + x : r (the scalar routines' NaN rule).
template <class V>
HWY_INLINE V NanPass(V x, V r) {
  return hn::IfThenElse(hn::IsNaN(x), hn::Add(x, x), r);
}

// Magnitude of r with the sign bit of s.
template <class D, class V>
HWY_INLINE V CopySignBits(D d, V r, V s) {
  const hn::RebindToUnsigned<D> du;
  const auto abs_mask = hn::Set(du, 0x7fffffffu);
  return hn::BitCast(d, hn::Or(hn::And(hn::BitCast(du, r), abs_mask), hn::AndNot(abs_mask, hn::BitCast(du, s))));
}

template <class D, class V>
HWY_INLINE V AbsBits(D d, V x) {
  const hn::RebindToUnsigned<D> du;
  return hn::BitCast(d, hn::And(hn::BitCast(du, x), hn::Set(du, 0x7fffffffu)));
}

// 2^n for n in the normal exponent range (exact); garbage outside, as the scalar Pow2.
template <class D>
HWY_INLINE hn::Vec<D> Pow2(D d, VI<D> n) {
  const hn::RebindToSigned<D> di;
  return hn::BitCast(d, hn::ShiftLeft<23>(hn::Add(n, hn::Set(di, 127))));
}

// Nearest integer of x * mul (ties to even) as float, and as an integer in *n.
template <class D, class V>
HWY_INLINE V RoundMagic(D d, V x, float mul, VI<D>* n) {
  const hn::RebindToSigned<D> di;
  const V t = hn::MulAdd(x, hn::Set(d, mul), hn::Set(d, kMagic));
  *n = hn::Sub(hn::BitCast(di, t), hn::BitCast(di, hn::Set(d, kMagic)));
  return hn::Sub(t, hn::Set(d, kMagic));
}

template <class V>
HWY_INLINE V TwoSum(V a, V b, V* e) {
  const V s = hn::Add(a, b);
  const V bb = hn::Sub(s, a);
  *e = hn::Add(hn::Sub(a, hn::Sub(s, bb)), hn::Sub(b, bb));
  return s;
}

template <class V>
HWY_INLINE V FastTwoSum(V a, V b, V* e) {
  const V s = hn::Add(a, b);
  *e = hn::Sub(b, hn::Sub(s, a));
  return s;
}

// ExpCore<float> of core/math.cc: e^(x + xl) * 2^scale as hi (+ *lo).
template <class D, class V>
HWY_INLINE V ExpCore(D d, V x, V xl, int scale, V* lo) {
  const hn::RebindToSigned<D> di;
  const V hi_c = hn::Set(d, kExpHi);
  const V lo_c = hn::Set(d, kExpLo);
  const auto in_range = hn::And(hn::Lt(x, hi_c), hn::Gt(x, lo_c));
  x = hn::IfThenElse(hn::Lt(x, hi_c), x, hi_c);  // NaN becomes kExpHi
  x = hn::IfThenElse(hn::Gt(x, lo_c), x, lo_c);
  xl = hn::IfThenElseZero(in_range, xl);
  VI<D> n;
  const V nf = RoundMagic(d, x, kLog2e, &n);
  const V r1 = hn::MulAdd(nf, hn::Set(d, -kLn2Hi), x);
  V r_lo;
  const V r = TwoSum(r1, hn::MulAdd(nf, hn::Set(d, -kLn2Lo), xl), &r_lo);
  const V t = hn::Mul(hn::Mul(r, r), Horner(d, r, kExpP));
  V s_lo;
  const V s = FastTwoSum(hn::Set(d, 1.0f), r, &s_lo);
  const V tail = hn::Add(s_lo, hn::Add(r_lo, t));
  V e_lo;
  const V e = FastTwoSum(s, tail, &e_lo);
  const VI<D> m = hn::Add(n, hn::Set(di, scale));
  const VI<D> m1 = hn::ShiftRight<1>(m);
  const V p1 = Pow2(d, m1);
  const V p2 = Pow2(d, hn::Sub(m, m1));
  if (lo != nullptr) *lo = hn::Mul(hn::Mul(e_lo, p1), p2);
  return hn::Mul(hn::Mul(e, p1), p2);
}

// LogReduce<float>: x = 2^k (1 + f), 1 + f in [sqrt(1/2), sqrt(2)).
template <class D, class V>
HWY_INLINE void LogReduce(D d, V x, V* f, V* k) {
  const hn::RebindToSigned<D> di;
  const auto sub = hn::Lt(x, hn::Set(d, kFltMin));
  const V xs = hn::IfThenElse(sub, hn::Mul(x, hn::Set(d, kNormScale)), x);
  const VI<D> k_adj = hn::IfThenElseZero(hn::RebindMask(di, sub), hn::Set(di, -25));
  const VI<D> u = hn::BitCast(di, xs);
  const VI<D> ki = hn::ShiftRight<23>(hn::Sub(u, hn::BitCast(di, hn::Set(d, kSqrtHalf))));
  const V m = hn::BitCast(d, hn::Sub(u, hn::ShiftLeft<23>(ki)));
  *f = hn::Sub(m, hn::Set(d, 1.0f));
  *k = hn::ConvertTo(d, hn::Add(ki, k_adj));
}

// LogKernel<float>: log(2^k (1 + f)) + c.
template <class D, class V>
HWY_INLINE V LogKernel(D d, V f, V k, V c) {
  const V s = hn::Div(f, hn::Add(hn::Set(d, 2.0f), f));
  const V z = hn::Mul(s, s);
  const V r = hn::Mul(z, Horner(d, z, kLogLg));
  const V hfsq = hn::Mul(hn::Mul(hn::Set(d, 0.5f), f), f);
  const V inner = hn::Sub(hfsq, hn::Add(hn::Mul(s, hn::Add(hfsq, r)), hn::Add(hn::Mul(k, hn::Set(d, kLn2ShortLo)), c)));
  return hn::Sub(hn::Mul(k, hn::Set(d, kLn2ShortHi)), hn::Sub(inner, f));
}

// Log1pCore<float>: log(1 + x + xl) for x >= -1 finite.
template <class D, class V>
HWY_INLINE V Log1pCore(D d, V x, V xl) {
  const V one = hn::Set(d, 1.0f);
  const V u = hn::Add(one, x);
  const auto small = hn::And(hn::Le(x, one), hn::Ge(x, hn::Set(d, -1.0f)));
  V c = hn::IfThenElse(small, hn::Sub(x, hn::Sub(u, one)), hn::Sub(one, hn::Sub(u, x)));
  c = hn::Div(hn::Add(c, xl), u);
  V f, k;
  LogReduce(d, u, &f, &k);
  constexpr float kMidLo = kSqrtHalf - 1.0f;
  constexpr float kMidHi = 2.0f * kSqrtHalf - 1.0f;
  const auto mid = hn::And(hn::Gt(x, hn::Set(d, kMidLo)), hn::Lt(x, hn::Set(d, kMidHi)));
  f = hn::IfThenElse(mid, x, f);
  k = hn::IfThenElse(mid, hn::Zero(d), k);
  c = hn::IfThenElse(mid, hn::Div(xl, u), c);
  return LogKernel(d, f, k, c);
}

// TruncImpl<float>: clears the fraction bits (exact; NaN/Inf/integral returned as is).
template <class D, class V>
HWY_INLINE V Trunc(D d, V x) {
  const hn::RebindToSigned<D> di;
  const hn::RebindToUnsigned<D> du;
  const auto u = hn::BitCast(du, x);
  const VI<D> e = hn::Sub(hn::BitCast(di, hn::ShiftRight<23>(hn::And(u, hn::Set(du, 0x7fffffffu)))), hn::Set(di, 127));
  const auto integral = hn::Gt(e, hn::Set(di, 22));
  const auto below_one = hn::Lt(e, hn::Zero(di));
  // Shift count clamped to [0, 31] so that the variable shift is defined for every lane.
  const VI<D> sh = hn::Min(hn::Max(e, hn::Zero(di)), hn::Set(di, 31));
  const auto frac_sh = hn::Set(du, 0x007fffffu) >> hn::BitCast(du, sh);
  V r = hn::BitCast(d, hn::AndNot(frac_sh, u));
  r = hn::IfThenElse(hn::RebindMask(d, below_one), hn::BitCast(d, hn::And(u, hn::Set(du, 0x80000000u))), r);
  return hn::IfThenElse(hn::RebindMask(d, integral), x, r);
}

// ReduceCodyWaite<float>: x = q pi/2 + (hi + lo), valid for |x| <= 2^17.
template <class D, class V>
HWY_INLINE void ReduceCodyWaite(D d, V x, V* hi, V* lo, VI<D>* q) {
  VI<D> n;
  const V nf = RoundMagic(d, x, kTwoOverPi, &n);
  const V r1 = hn::MulAdd(nf, hn::Set(d, -kPio2_1), x);
  const V p = hn::Mul(nf, hn::Set(d, kPio2_2));
  const V p_err = hn::MulAdd(nf, hn::Set(d, kPio2_2), hn::Neg(p));
  V e;
  const V s = TwoSum(r1, hn::Neg(p), &e);
  const V l = hn::MulAdd(hn::Neg(nf), hn::Set(d, kPio2_3), hn::Sub(e, p_err));
  *hi = FastTwoSum(s, l, lo);
  *q = n;
}

template <class D, class V>
HWY_INLINE V SinKernel(D d, V h, V l) {
  const V z = hn::Mul(h, h);
  const V tail = hn::MulAdd(hn::Mul(h, z), Horner(d, z, kSinS), hn::MulAdd(hn::Mul(hn::Set(d, -0.5f), z), l, l));
  return hn::Add(h, tail);
}

template <class D, class V>
HWY_INLINE V CosKernel(D d, V h, V l) {
  const V one = hn::Set(d, 1.0f);
  const V z = hn::Mul(h, h);
  const V hz = hn::Mul(hn::Set(d, 0.5f), z);
  const V w = hn::Sub(one, hz);
  return hn::Add(
      w, hn::Add(hn::Sub(hn::Sub(one, w), hz), hn::MulAdd(hn::Mul(z, z), Horner(d, z, kCosC), hn::Neg(hn::Mul(h, l)))));
}

// SinCosImpl<float> for the Cody-Waite range; lanes outside it (|x| > 2^17, Inf, NaN) are
// recomputed by the scalar routine.
template <bool kCos, class D, class V>
HWY_INLINE V SinCos(D d, V x) {
  const hn::RebindToSigned<D> di;
  V hi, lo;
  VI<D> n;
  ReduceCodyWaite(d, x, &hi, &lo, &n);
  const VI<D> q = hn::And(hn::Add(n, hn::Set(di, kCos ? 1 : 0)), hn::Set(di, 3));
  const V s = SinKernel(d, hi, lo);
  const V c = CosKernel(d, hi, lo);
  V v = hn::IfThenElse(hn::RebindMask(d, hn::Eq(hn::And(q, hn::Set(di, 1)), hn::Set(di, 1))), c, s);
  v = hn::IfThenElse(hn::RebindMask(d, hn::Eq(hn::And(q, hn::Set(di, 2)), hn::Set(di, 2))), hn::Neg(v), v);
  if constexpr (!kCos) v = hn::IfThenElse(hn::Eq(x, hn::Zero(d)), x, v);
  const auto far = hn::Not(hn::Le(AbsBits(d, x), hn::Set(d, kCodyWaiteMax)));
  if (HWY_UNLIKELY(!hn::AllFalse(d, far))) {
    alignas(64) float xs[64 / sizeof(float)];
    alignas(64) float vs[64 / sizeof(float)];
    hn::Store(x, d, xs);
    hn::Store(v, d, vs);
    for (size_t i = 0; i < hn::Lanes(d); ++i) {
      const float a = idem::math::abs(xs[i]);
      if (!(a <= kCodyWaiteMax)) vs[i] = kCos ? idem::math::cos(xs[i]) : idem::math::sin(xs[i]);
    }
    v = hn::Load(d, vs);
  }
  return v;
}

// LogDW<float>: log(x) = hi + *lo in double-word float arithmetic (for pow).
template <class D, class V>
HWY_INLINE V LogDW(D d, V x, V* lo) {
  V f, k;
  LogReduce(d, x, &f, &k);
  const V two = hn::Set(d, 2.0f);
  V d_lo;
  const V den = FastTwoSum(two, f, &d_lo);
  const V s = hn::Div(f, den);
  const V rem = hn::MulAdd(hn::Neg(s), den, f);
  const V s_lo = hn::Div(hn::Sub(rem, hn::Mul(s, d_lo)), den);
  const V z = hn::Mul(s, s);
  const V z_lo = hn::Add(hn::MulAdd(s, s, hn::Neg(z)), hn::Mul(hn::Mul(two, s), s_lo));
  const V third_hi = hn::Set(d, kThirdHi);
  const V t = hn::Mul(z, third_hi);
  const V t_lo =
      hn::Add(hn::MulAdd(z, third_hi, hn::Neg(t)), hn::Add(hn::Mul(z, hn::Set(d, kThirdLo)), hn::Mul(z_lo, third_hi)));
  const V tail = hn::Mul(hn::Mul(z, z), Horner(d, z, kPowP2));
  V w_lo;
  const V w = FastTwoSum(hn::Set(d, 1.0f), t, &w_lo);
  w_lo = hn::Add(w_lo, hn::Add(t_lo, tail));
  const V s2 = hn::Mul(two, s);
  const V s2_lo = hn::Mul(two, s_lo);
  const V p = hn::Mul(s2, w);
  const V p_lo = hn::Add(hn::MulAdd(s2, w, hn::Neg(p)), hn::Add(hn::Mul(s2, w_lo), hn::Mul(s2_lo, w)));
  const V kh = hn::Mul(k, hn::Set(d, kLn2ShortHi));
  const V kl = hn::Mul(k, hn::Set(d, kLn2ShortLo));
  V e;
  const V h = TwoSum(kh, p, &e);
  const V l = hn::Add(e, hn::Add(p_lo, kl));
  const V hi = hn::Add(h, l);
  *lo = hn::Sub(l, hn::Sub(hi, h));
  return hi;
}

}  // namespace math_detail

// ---------------------------------------------------------------- public functions

// idem::math::exp(float).
template <class D, class V>
HWY_INLINE V ExpF32(D d, V x) {
  const V r = math_detail::ExpCore(d, x, hn::Zero(d), 0, static_cast<V*>(nullptr));
  return math_detail::NanPass(x, r);
}

// idem::math::expm1(float).
template <class D, class V>
HWY_INLINE V Expm1F32(D d, V x) {
  using namespace math_detail;
  const hn::RebindToSigned<D> di;
  const V one = hn::Set(d, 1.0f);
  V xc = hn::IfThenElse(hn::Lt(x, hn::Set(d, kExpHi)), x, hn::Set(d, kExpHi));
  xc = hn::IfThenElse(hn::Gt(xc, hn::Set(d, kExpm1Lo)), xc, hn::Set(d, kExpm1Lo));
  VI<D> n;
  const V nf = RoundMagic(d, xc, kLog2e, &n);
  const V r1 = hn::MulAdd(nf, hn::Set(d, -kLn2Hi), xc);
  V r_lo;
  const V r = TwoSum(r1, hn::Mul(nf, hn::Set(d, -kLn2Lo)), &r_lo);
  const V t = hn::Mul(hn::Mul(r, r), Horner(d, r, kExpP));
  const auto big = hn::Gt(n, hn::Set(di, 23 + 1));
  const VI<D> n_hi = hn::IfThenElse(big, hn::Zero(di), n);
  const V c_hi = hn::IfThenElse(hn::RebindMask(d, big), one, hn::Sub(one, Pow2(d, hn::Neg(n_hi))));
  const VI<D> n_lo = hn::IfThenElse(hn::Lt(n, hn::Set(di, 127 - 2)), n, hn::Set(di, 127 - 2));
  const V c_lo = hn::IfThenElseZero(hn::RebindMask(d, big), hn::Neg(Pow2(d, hn::Neg(n_lo))));
  V u_err;
  const V u = TwoSum(c_hi, r, &u_err);
  const VI<D> n1 = hn::ShiftRight<1>(n);
  const V a = hn::Mul(hn::Mul(hn::Add(u, hn::Add(u_err, hn::Add(hn::Add(r_lo, c_lo), t))), Pow2(d, n1)),
                      Pow2(d, hn::Sub(n, n1)));
  const V b = hn::Sub(hn::Mul(hn::Add(hn::Add(one, r), hn::Add(r_lo, t)), Pow2(d, n)), one);
  V res = hn::IfThenElse(hn::RebindMask(d, hn::Gt(n, hn::Set(di, -2))), a, b);
  res = hn::IfThenElse(hn::Eq(x, hn::Zero(d)), x, res);
  return NanPass(x, res);
}

// idem::math::log(float).
template <class D, class V>
HWY_INLINE V LogF32(D d, V x) {
  using namespace math_detail;
  V f, k;
  LogReduce(d, x, &f, &k);
  V r = LogKernel(d, f, k, hn::Zero(d));
  r = hn::IfThenElse(hn::Eq(x, hn::Zero(d)), hn::Set(d, -kInf), r);
  r = hn::IfThenElse(hn::Lt(x, hn::Zero(d)), hn::Set(d, __builtin_nanf("")), r);
  r = hn::IfThenElse(hn::Eq(x, hn::Set(d, kInf)), x, r);
  return NanPass(x, r);
}

// idem::math::log1p(float).
template <class D, class V>
HWY_INLINE V Log1pF32(D d, V x) {
  using namespace math_detail;
  V r = Log1pCore(d, x, hn::Zero(d));
  r = hn::IfThenElse(hn::Eq(x, hn::Set(d, -1.0f)), hn::Set(d, -kInf), r);
  r = hn::IfThenElse(hn::Lt(x, hn::Set(d, -1.0f)), hn::Set(d, __builtin_nanf("")), r);
  r = hn::IfThenElse(hn::Eq(x, hn::Set(d, kInf)), x, r);
  r = hn::IfThenElse(hn::Eq(x, hn::Zero(d)), x, r);
  return NanPass(x, r);
}

// idem::math::sigmoid(float).
template <class D, class V>
HWY_INLINE V SigmoidF32(D d, V x) {
  using namespace math_detail;
  V e_lo;
  const V e = ExpCore(d, hn::Neg(AbsBits(d, x)), hn::Zero(d), 0, &e_lo);
  V d_lo;
  const V den = FastTwoSum(hn::Set(d, 1.0f), e, &d_lo);
  d_lo = hn::Add(d_lo, e_lo);
  const auto pos = hn::Ge(x, hn::Zero(d));
  const V num = hn::IfThenElse(pos, hn::Set(d, 1.0f), e);
  const V num_lo = hn::IfThenElse(pos, hn::Zero(d), e_lo);
  const V q = hn::Div(num, den);
  const V rem = hn::MulAdd(hn::Neg(q), den, num);
  const V r = hn::Add(q, hn::Div(hn::Sub(hn::Add(rem, num_lo), hn::Mul(q, d_lo)), den));
  return NanPass(x, r);
}

// idem::math::softplus(float).
template <class D, class V>
HWY_INLINE V SoftplusF32(D d, V x) {
  using namespace math_detail;
  V e_lo;
  const V e = ExpCore(d, hn::Neg(AbsBits(d, x)), hn::Zero(d), 0, &e_lo);
  const V l = Log1pCore(d, e, e_lo);
  V r = hn::IfThenElse(hn::Gt(x, hn::Zero(d)), hn::Add(x, l), l);
  r = hn::IfThenElse(hn::Eq(x, hn::Set(d, kInf)), x, r);
  return NanPass(x, r);
}

// idem::math::tanh(float).
template <class D, class V>
HWY_INLINE V TanhF32(D d, V x) {
  using namespace math_detail;
  const V a = AbsBits(d, x);
  const V z = hn::Mul(a, a);
  const V small = hn::MulAdd(hn::Mul(a, z), Horner(d, z, kTanhT), a);
  const V ac = hn::IfThenElse(hn::Lt(a, hn::Set(d, kTanhOne)), a, hn::Set(d, kTanhOne));
  V e_lo;
  const V e = ExpCore(d, hn::Mul(hn::Set(d, 2.0f), ac), hn::Zero(d), 0, &e_lo);
  V d_lo;
  const V den = FastTwoSum(e, hn::Set(d, 1.0f), &d_lo);
  d_lo = hn::Add(d_lo, e_lo);
  const V two = hn::Set(d, 2.0f);
  const V q = hn::Div(two, den);
  const V q_lo = hn::Div(hn::Sub(hn::MulAdd(hn::Neg(q), den, two), hn::Mul(q, d_lo)), den);
  V u_err;
  const V u = TwoSum(hn::Set(d, 1.0f), hn::Neg(q), &u_err);
  const V big = hn::Add(u, hn::Sub(u_err, q_lo));
  const V r = hn::IfThenElse(hn::Lt(a, hn::Set(d, kTanhSmall)), small, big);
  return NanPass(x, CopySignBits(d, r, x));
}

// idem::math::erf(float).
template <class D, class V>
HWY_INLINE V ErfF32(D d, V x) {
  using namespace math_detail;
  const V one = hn::Set(d, 1.0f);
  const V a = AbsBits(d, x);
  const V z = hn::Mul(a, a);
  const V small = hn::MulAdd(a, Horner(d, z, kErfE), a);
  const V b = hn::IfThenElse(hn::Lt(a, hn::Set(d, kErfMax)), a, hn::Set(d, kErfMax));
  const V bb = hn::Mul(b, b);
  const V bb_lo = hn::MulAdd(b, b, hn::Neg(bb));
  const V e = ExpCore(d, hn::Neg(bb), hn::Neg(bb_lo), 0, static_cast<V*>(nullptr));
  const V bq = hn::IfThenElse(hn::Gt(b, one), b, one);
  const V big = hn::MulAdd(hn::Neg(e), Horner(d, hn::Div(one, bq), kErfcQf), one);
  const V r = hn::IfThenElse(hn::Lt(a, one), small, big);
  return NanPass(x, CopySignBits(d, r, x));
}

// idem::math::sinh(float).
template <class D, class V>
HWY_INLINE V SinhF32(D d, V x) {
  using namespace math_detail;
  const V a = AbsBits(d, x);
  const V z = hn::Mul(a, a);
  const V small = hn::MulAdd(hn::Mul(a, z), Horner(d, z, kSinhS), a);
  V h_lo;
  const V h = ExpCore(d, a, hn::Zero(d), -1, &h_lo);  // e^a / 2
  const V q = hn::Div(hn::Set(d, 0.25f), h);
  const V big = hn::Add(h, hn::Sub(hn::MulAdd(hn::Mul(hn::Mul(hn::Set(d, 4.0f), q), q), h_lo, h_lo), q));
  const V r = hn::IfThenElse(hn::Lt(a, hn::Set(d, 1.0f)), small, big);
  return NanPass(x, CopySignBits(d, r, x));
}

// idem::math::cosh(float).
template <class D, class V>
HWY_INLINE V CoshF32(D d, V x) {
  using namespace math_detail;
  V h_lo;
  const V h = ExpCore(d, AbsBits(d, x), hn::Zero(d), -1, &h_lo);
  const V q = hn::Div(hn::Set(d, 0.25f), h);
  const V r = hn::Add(h, hn::Add(hn::MulAdd(hn::Mul(hn::Mul(hn::Set(d, -4.0f), q), q), h_lo, h_lo), q));
  return NanPass(x, r);
}

// idem::math::sin(float) / idem::math::cos(float).
template <class D, class V>
HWY_INLINE V SinF32(D d, V x) {
  return math_detail::SinCos<false>(d, x);
}
template <class D, class V>
HWY_INLINE V CosF32(D d, V x) {
  return math_detail::SinCos<true>(d, x);
}

// idem::math::trunc / floor / ceil / round_half_even (float).
template <class D, class V>
HWY_INLINE V TruncF32(D d, V x) {
  return math_detail::Trunc(d, x);
}
template <class D, class V>
HWY_INLINE V FloorF32(D d, V x) {
  const V t = math_detail::Trunc(d, x);
  return hn::IfThenElse(hn::Lt(x, t), hn::Sub(t, hn::Set(d, 1.0f)), t);
}
template <class D, class V>
HWY_INLINE V CeilF32(D d, V x) {
  const V t = math_detail::Trunc(d, x);
  return hn::IfThenElse(hn::Gt(x, t), hn::Add(t, hn::Set(d, 1.0f)), t);
}
template <class D, class V>
HWY_INLINE V RoundEvenF32(D d, V x) {
  const V a = math_detail::AbsBits(d, x);
  const V two_mant = hn::Set(d, 0x1p23f);
  const V r = hn::IfThenElse(hn::Lt(a, two_mant), hn::Sub(hn::Add(a, two_mant), two_mant), a);
  return math_detail::CopySignBits(d, r, x);
}

// idem::math::pow(float, float), C99 Annex F special cases included (applied as selects in the
// scalar routine's order).
template <class D, class V>
HWY_INLINE V PowF32(D d, V x, V y) {
  using namespace math_detail;
  const V zero = hn::Zero(d);
  const V one = hn::Set(d, 1.0f);
  const V inf = hn::Set(d, kInf);
  const V ax = AbsBits(d, x);
  const auto y_int = hn::Eq(Trunc(d, y), y);
  const V y_half = hn::Mul(y, hn::Set(d, 0.5f));
  const auto y_finite = hn::Lt(AbsBits(d, y), inf);
  const auto y_odd = hn::AndNot(hn::Eq(Trunc(d, y_half), y_half), hn::And(y_int, y_finite));
  V l_lo;
  const V l = LogDW(d, ax, &l_lo);
  const V yl = hn::Mul(y, l);
  const V yl_lo = hn::Add(hn::MulAdd(y, l, hn::Neg(yl)), hn::Mul(y, l_lo));
  V r = ExpCore(d, yl, yl_lo, 0, static_cast<V*>(nullptr));
  // Negative finite base.
  const V r_neg = hn::IfThenElse(y_int, hn::IfThenElse(y_odd, hn::Neg(r), r), hn::Set(d, __builtin_nanf("")));
  r = hn::IfThenElse(hn::Lt(x, zero), r_neg, r);
  // Zero base.
  const auto y_neg = hn::Lt(y, zero);
  const V r_zero =
      hn::IfThenElse(y_neg, hn::IfThenElse(y_odd, CopySignBits(d, inf, x), inf), hn::IfThenElse(y_odd, x, zero));
  r = hn::IfThenElse(hn::Eq(x, zero), r_zero, r);
  // Infinite base.
  const auto odd_neg = hn::And(y_odd, hn::Lt(x, zero));
  const V r_inf = hn::IfThenElse(y_neg, hn::IfThenElse(odd_neg, hn::Set(d, -0.0f), zero),
                                 hn::IfThenElse(odd_neg, hn::Neg(inf), inf));
  r = hn::IfThenElse(hn::Eq(ax, inf), r_inf, r);
  // Infinite exponent.
  const auto ax_lt_one = hn::Lt(ax, one);
  const auto y_pos = hn::Gt(y, zero);
  const auto to_zero = hn::Not(hn::Xor(ax_lt_one, y_pos));  // (ax < 1) == (y > 0)
  const V r_yinf = hn::IfThenElse(hn::Eq(ax, one), one, hn::IfThenElse(to_zero, zero, inf));
  r = hn::IfThenElse(hn::Eq(AbsBits(d, y), inf), r_yinf, r);
  // Correctly rounded shortcuts.
  r = hn::IfThenElse(hn::Eq(y, one), x, r);
  r = hn::IfThenElse(hn::Eq(y, hn::Set(d, 2.0f)), hn::Mul(x, x), r);
  r = hn::IfThenElse(hn::Eq(y, hn::Set(d, -1.0f)), hn::Div(one, x), r);
  r = hn::IfThenElse(hn::And(hn::Eq(y, hn::Set(d, 0.5f)), hn::Gt(x, hn::Neg(inf))), hn::Add(hn::Sqrt(x), zero), r);
  r = hn::IfThenElse(hn::Or(hn::IsNaN(x), hn::IsNaN(y)), hn::Add(x, y), r);
  r = hn::IfThenElse(hn::Or(hn::Eq(y, zero), hn::Eq(x, one)), one, r);
  return r;
}

// idem::math::gelu(float): (0.5 x) (1 + erf(x sqrt(1/2))).
template <class D, class V>
HWY_INLINE V GeluF32(D d, V x) {
  const V t = ErfF32(d, hn::Mul(x, hn::Set(d, static_cast<float>(idem::math::kGeluSqrtHalf))));
  return hn::Mul(hn::Mul(hn::Set(d, 0.5f), x), hn::Add(hn::Set(d, 1.0f), t));
}

// idem::math::gelu_tanh(float): (0.5 x) (1 + tanh(sqrt(2/pi) fma(0.044715 x^2, x, x))).
template <class D, class V>
HWY_INLINE V GeluTanhF32(D d, V x) {
  const V x2 = hn::Mul(x, x);
  const V inner = hn::Mul(hn::Set(d, static_cast<float>(idem::math::kGeluTanhScale)),
                          hn::MulAdd(hn::Mul(hn::Set(d, static_cast<float>(idem::math::kGeluTanhCubic)), x2), x, x));
  return hn::Mul(hn::Mul(hn::Set(d, 0.5f), x), hn::Add(hn::Set(d, 1.0f), TanhF32(d, inner)));
}

// idem::math::silu(float): x * sigmoid(x).
template <class D, class V>
HWY_INLINE V SiluF32(D d, V x) {
  return hn::Mul(x, SigmoidF32(d, x));
}

// The piecewise activations, one definition for the elementwise ops (elementwise-inl.h), the
// fused kernels' epilogues (fused_act-inl.h) and the GEMM register epilogue, so that fusing an
// activation changes no bit. Each lane is idem::math::relu / leaky_relu / clip / saturate01 /
// hard_sigmoid (core/math.h), the formulas of the scalar ops in kernels/elementwise_unary.cc; NaN
// passes through every compare.

// Relu: x < 0 ? 0 : x.
template <class D, class V>
HWY_INLINE V ReluF32(D d, V x) {
  return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), hn::Zero(d), x);
}

// LeakyRelu: x < 0 ? alpha * x : x.
template <class D, class V>
HWY_INLINE V LeakyReluF32(D d, V x, float alpha) {
  return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), hn::Mul(hn::Set(d, alpha), x), x);
}

// Clip: y = x < lo ? lo : x; y > hi ? hi : y.
template <class D, class V>
HWY_INLINE V ClipF32(D d, V x, float lo, float hi) {
  const V vlo = hn::Set(d, lo);
  const V vhi = hn::Set(d, hi);
  const V above = hn::IfThenElse(hn::Lt(x, vlo), vlo, x);
  return hn::IfThenElse(hn::Gt(above, vhi), vhi, above);
}

// clamp(x, 0, 1): x < 0 ? 0 : x > 1 ? 1 : x.
template <class D, class V>
HWY_INLINE V Saturate01(D d, V x) {
  const V zero = hn::Zero(d);
  const V one = hn::Set(d, 1.0f);
  return hn::IfThenElse(hn::Lt(x, zero), zero, hn::IfThenElse(hn::Gt(x, one), one, x));
}

// HardSigmoid: clamp(fma(alpha, x, beta), 0, 1).
template <class D, class V>
HWY_INLINE V HardSigmoidF32(D d, V x, float alpha, float beta) {
  return Saturate01(d, hn::MulAdd(hn::Set(d, alpha), x, hn::Set(d, beta)));
}

#endif  // IDEM_SIMD_TARGET
}  // namespace HWY_NAMESPACE
}  // namespace idem::simd
HWY_AFTER_NAMESPACE();

#endif  // include guard
