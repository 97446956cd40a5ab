// Per-target span kernels of kernels/simd/elementwise.h (Highway). Included once per target by
// elementwise.cc through foreach_target.h. Every element is computed by the vector version of its
// scalar formula (math-inl.h for the transcendental functions); a ragged tail is run through the
// same vector code on a zero-padded copy, so an element's bits never depend on where it sits.
//
// f16/bf16 <-> f32 conversions are integer bit manipulation written after core/half.h (no F16C
// or BF16 instructions), hence identical on every target by construction and bitwise equal to
// the scalar routines (tests/unit/simd_elementwise_test.cc checks all 65536 half patterns and a
// sweep of float patterns).

#if defined(IDEM_KERNELS_SIMD_ELEMENTWISE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef IDEM_KERNELS_SIMD_ELEMENTWISE_INL_H_
#undef IDEM_KERNELS_SIMD_ELEMENTWISE_INL_H_
#else
#define IDEM_KERNELS_SIMD_ELEMENTWISE_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <hwy/highway.h>

#include "core/half.h"
#include "kernels/simd/elementwise.h"
#include "kernels/simd/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace idem::simd {
namespace HWY_NAMESPACE {
#if IDEM_SIMD_TARGET

namespace hn = hwy::HWY_NAMESPACE;

namespace ew_detail {

template <ElemType kT>
using RawT = std::conditional_t<kT == ElemType::kF32, float, uint16_t>;

constexpr size_t kMaxLanes = 64 / sizeof(float);

// HalfToFloat: h holds binary16 bits in the low 16 bits of each u32 lane.
template <class D, class VU>
HWY_INLINE hn::Vec<D> HalfBitsToF32(D d, VU h) {
  const hn::RebindToUnsigned<D> du;
  const hn::RebindToSigned<D> di;
  const VU sign = hn::ShiftLeft<16>(hn::And(h, hn::Set(du, 0x8000u)));
  const VU e = hn::And(hn::ShiftRight<10>(h), hn::Set(du, 0x1Fu));
  const VU mant = hn::And(h, hn::Set(du, 0x3FFu));
  const VU mant13 = hn::ShiftLeft<13>(mant);
  const VU normal = hn::Or(hn::ShiftLeft<23>(hn::Add(e, hn::Set(du, 112u))), mant13);
  const VU special = hn::Or(hn::Set(du, 0x7F800000u), mant13);  // Inf / NaN, payload kept
  // Zero and subnormals: mant * 2^-24, exact.
  const VU small = hn::BitCast(du, hn::Mul(hn::ConvertTo(d, hn::BitCast(di, mant)), hn::Set(d, 0x1p-24f)));
  VU r = hn::IfThenElse(hn::Eq(e, hn::Set(du, 0x1Fu)), special, normal);
  r = hn::IfThenElse(hn::Eq(e, hn::Zero(du)), small, r);
  return hn::BitCast(d, hn::Or(sign, r));
}

// FloatToHalf: binary16 bits (round to nearest even) in the low 16 bits of each i32 lane.
template <class D>
HWY_INLINE hn::Vec<hn::RebindToSigned<D>> F32ToHalfBits(D d, hn::Vec<D> f) {
  const hn::RebindToSigned<D> di;
  using VI = hn::Vec<decltype(di)>;
  const VI x = hn::BitCast(di, f);
  const VI sign =
      hn::And(hn::BitCast(di, hn::ShiftRight<16>(hn::BitCast(hn::RebindToUnsigned<D>(), x))), hn::Set(di, 0x8000));
  const VI abs = hn::And(x, hn::Set(di, 0x7FFFFFFF));
  const VI one = hn::Set(di, 1);
  // Inf / NaN (NaN kept quiet and non-zero).
  const VI nan_bits =
      hn::IfThenElseZero(hn::Gt(abs, hn::Set(di, 0x7F800000)),
                         hn::Or(hn::Set(di, 0x200), hn::And(hn::ShiftRight<13>(abs), hn::Set(di, 0x3FF))));
  const VI special = hn::Or(hn::Set(di, 0x7C00), nan_bits);
  // Normal results: rebias in place, round the 13 dropped bits to nearest even.
  const VI rn = hn::Sub(abs, hn::Set(di, 0x38000000));
  const VI rem_n = hn::And(rn, hn::Set(di, 0x1FFF));
  const VI qn = hn::ShiftRight<13>(rn);
  const auto up_n = hn::Or(hn::Gt(rem_n, hn::Set(di, 0x1000)),
                           hn::And(hn::Eq(rem_n, hn::Set(di, 0x1000)), hn::Eq(hn::And(qn, one), one)));
  const VI normal = hn::Add(qn, hn::IfThenElseZero(up_n, one));
  // Subnormal results: drop 126 - e bits (14..24) of the full significand.
  const VI e = hn::ShiftRight<23>(abs);
  const VI m = hn::Or(hn::And(abs, hn::Set(di, 0x7FFFFF)), hn::Set(di, 0x800000));
  const VI shift = hn::Min(hn::Max(hn::Sub(hn::Set(di, 126), e), hn::Set(di, 1)), hn::Set(di, 31));
  const auto du = hn::RebindToUnsigned<D>();
  const VI qs = hn::BitCast(di, hn::BitCast(du, m) >> hn::BitCast(du, shift));
  const VI low_mask = hn::Sub(hn::BitCast(di, hn::Set(du, 1u) << hn::BitCast(du, shift)), one);
  const VI rem_s = hn::And(m, low_mask);
  const VI half = hn::BitCast(di, hn::Set(du, 1u) << hn::BitCast(du, hn::Sub(shift, one)));
  const auto up_s = hn::Or(hn::Gt(rem_s, half), hn::And(hn::Eq(rem_s, half), hn::Eq(hn::And(qs, one), one)));
  const VI subnormal = hn::Add(qs, hn::IfThenElseZero(up_s, one));
  VI r = normal;
  r = hn::IfThenElse(hn::Lt(abs, hn::Set(di, 0x38800000)), subnormal, r);
  r = hn::IfThenElse(hn::Lt(abs, hn::Set(di, 0x33000000)), hn::Zero(di), r);
  r = hn::IfThenElse(hn::Gt(abs, hn::Set(di, 0x477FEFFF)), hn::Set(di, 0x7C00), r);
  r = hn::IfThenElse(hn::Gt(abs, hn::Set(di, 0x7F7FFFFF)), special, r);
  return hn::Or(sign, r);
}

// FloatToBFloat16: bits in the low 16 bits of each i32 lane.
template <class D>
HWY_INLINE hn::Vec<hn::RebindToSigned<D>> F32ToBF16Bits(D d, hn::Vec<D> f) {
  const hn::RebindToSigned<D> di;
  const hn::RebindToUnsigned<D> du;
  const auto x = hn::BitCast(du, f);
  const auto hi = hn::ShiftRight<16>(x);
  const auto nan = hn::Or(hi, hn::Set(du, 0x40u));
  const auto rounded = hn::ShiftRight<16>(hn::Add(hn::Add(x, hn::Set(du, 0x7FFFu)), hn::And(hi, hn::Set(du, 1u))));
  return hn::BitCast(di, hn::IfThenElse(hn::RebindMask(du, hn::IsNaN(f)), nan, rounded));
}

template <ElemType kT, class D>
HWY_INLINE hn::Vec<D> LoadF(D d, const RawT<kT>* HWY_RESTRICT p) {
  if constexpr (kT == ElemType::kF32) {
    return hn::LoadU(d, p);
  } else {
    const hn::Rebind<uint16_t, D> d16;
    const hn::RebindToUnsigned<D> du;
    const auto h = hn::PromoteTo(du, hn::LoadU(d16, p));
    if constexpr (kT == ElemType::kF16)
      return HalfBitsToF32(d, h);
    else
      return hn::BitCast(d, hn::ShiftLeft<16>(h));
  }
}

template <ElemType kT, class D>
HWY_INLINE void StoreF(D d, hn::Vec<D> v, RawT<kT>* HWY_RESTRICT p) {
  if constexpr (kT == ElemType::kF32) {
    hn::StoreU(v, d, p);
  } else {
    const hn::Rebind<uint16_t, D> d16;
    const auto bits = kT == ElemType::kF16 ? F32ToHalfBits(d, v) : F32ToBF16Bits(d, v);
    hn::StoreU(hn::DemoteTo(d16, bits), d16, p);  // values 0..0xFFFF: exact
  }
}

template <ElemType kT>
HWY_INLINE float LoadScalar(RawT<kT> v) {
  if constexpr (kT == ElemType::kF32)
    return v;
  else if constexpr (kT == ElemType::kF16)
    return HalfToFloat(Float16::FromBits(v));
  else
    return BFloat16ToFloat(BFloat16::FromBits(v));
}

// y = f(d, x) over n elements; the tail goes through the same vector code on a padded copy.
template <ElemType kT, class F>
HWY_INLINE void UnarySpan(const RawT<kT>* x, RawT<kT>* y, size_t n, const F& f) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) StoreF<kT>(d, f(d, LoadF<kT>(d, x + i)), y + i);
  if (i < n) {
    alignas(64) RawT<kT> bx[kMaxLanes] = {};
    alignas(64) RawT<kT> by[kMaxLanes];
    std::memcpy(bx, x + i, (n - i) * sizeof(RawT<kT>));
    StoreF<kT>(d, f(d, LoadF<kT>(d, bx)), by);
    std::memcpy(y + i, by, (n - i) * sizeof(RawT<kT>));
  }
}

template <ElemType kT, bool kAVec, bool kBVec, class F>
HWY_INLINE void BinarySpanSteps(const RawT<kT>* a, const RawT<kT>* b, RawT<kT>* out, size_t n, const F& f) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t N = hn::Lanes(d);
  const V a1 = hn::Set(d, kAVec ? 0.0f : LoadScalar<kT>(a[0]));
  const V b1 = hn::Set(d, kBVec ? 0.0f : LoadScalar<kT>(b[0]));
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const V va = kAVec ? LoadF<kT>(d, a + i) : a1;
    const V vb = kBVec ? LoadF<kT>(d, b + i) : b1;
    StoreF<kT>(d, f(d, va, vb), out + i);
  }
  if (i < n) {
    alignas(64) RawT<kT> ba[kMaxLanes] = {};
    alignas(64) RawT<kT> bb[kMaxLanes] = {};
    alignas(64) RawT<kT> bo[kMaxLanes];
    if (kAVec) std::memcpy(ba, a + i, (n - i) * sizeof(RawT<kT>));
    if (kBVec) std::memcpy(bb, b + i, (n - i) * sizeof(RawT<kT>));
    const V va = kAVec ? LoadF<kT>(d, ba) : a1;
    const V vb = kBVec ? LoadF<kT>(d, bb) : b1;
    StoreF<kT>(d, f(d, va, vb), bo);
    std::memcpy(out + i, bo, (n - i) * sizeof(RawT<kT>));
  }
}

template <ElemType kT, class F>
HWY_INLINE void BinarySpan(const RawT<kT>* a, size_t as, const RawT<kT>* b, size_t bs, RawT<kT>* out, size_t n,
                           const F& f) {
  if (n == 0) return;
  if (as != 0 && bs != 0) return BinarySpanSteps<kT, true, true>(a, b, out, n, f);
  if (as != 0) return BinarySpanSteps<kT, true, false>(a, b, out, n, f);
  if (bs != 0) return BinarySpanSteps<kT, false, true>(a, b, out, n, f);
  return BinarySpanSteps<kT, false, false>(a, b, out, n, f);
}

template <ElemType kT>
void UnaryTyped(UnaryF32Op op, const UnaryF32Params& p, const void* xv, void* yv, size_t n) {
  const auto* x = static_cast<const RawT<kT>*>(xv);
  auto* y = static_cast<RawT<kT>*>(yv);
  switch (op) {
    case UnaryF32Op::kRelu:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return ReluF32(d, v); });
    case UnaryF32Op::kAbs:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return math_detail::AbsBits(d, v); });
    case UnaryF32Op::kNeg:
      return UnarySpan<kT>(x, y, n, [](auto, auto v) HWY_ATTR { return hn::Neg(v); });
    case UnaryF32Op::kSqrt:
      return UnarySpan<kT>(x, y, n, [](auto, auto v) HWY_ATTR { return hn::Sqrt(v); });
    case UnaryF32Op::kReciprocal:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return hn::Div(hn::Set(d, 1.0f), v); });
    case UnaryF32Op::kExp:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return ExpF32(d, v); });
    case UnaryF32Op::kLog:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return LogF32(d, v); });
    case UnaryF32Op::kTanh:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return TanhF32(d, v); });
    case UnaryF32Op::kErf:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return ErfF32(d, v); });
    case UnaryF32Op::kSigmoid:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return SigmoidF32(d, v); });
    case UnaryF32Op::kSoftplus:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return SoftplusF32(d, v); });
    case UnaryF32Op::kSin:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return SinF32(d, v); });
    case UnaryF32Op::kCos:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return CosF32(d, v); });
    case UnaryF32Op::kFloor:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return FloorF32(d, v); });
    case UnaryF32Op::kCeil:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return CeilF32(d, v); });
    case UnaryF32Op::kRound:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return RoundEvenF32(d, v); });
    case UnaryF32Op::kSign:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR {
        const auto zero = hn::Zero(d);
        return hn::IfThenElse(hn::Gt(v, zero), hn::Set(d, 1.0f), hn::IfThenElse(hn::Lt(v, zero), hn::Set(d, -1.0f), v));
      });
    case UnaryF32Op::kLeakyRelu: {
      const float alpha = p.alpha;
      return UnarySpan<kT>(x, y, n, [alpha](auto d, auto v) HWY_ATTR { return LeakyReluF32(d, v, alpha); });
    }
    case UnaryF32Op::kThresholdedRelu: {
      const float alpha = p.alpha;
      return UnarySpan<kT>(x, y, n, [alpha](auto d, auto v) HWY_ATTR {
        return hn::IfThenElse(hn::Gt(v, hn::Set(d, alpha)), v, hn::Zero(d));
      });
    }
    case UnaryF32Op::kElu: {
      const float alpha = p.alpha;
      return UnarySpan<kT>(x, y, n, [alpha](auto d, auto v) HWY_ATTR {
        return hn::IfThenElse(hn::Lt(v, hn::Zero(d)), hn::Mul(hn::Set(d, alpha), Expm1F32(d, v)), v);
      });
    }
    case UnaryF32Op::kSelu: {
      const float alpha = p.alpha;
      const float gamma = p.gamma;
      return UnarySpan<kT>(x, y, n, [alpha, gamma](auto d, auto v) HWY_ATTR {
        const auto g = hn::Set(d, gamma);
        return hn::IfThenElse(hn::Gt(v, hn::Zero(d)), hn::Mul(g, v),
                              hn::Mul(g, hn::Mul(hn::Set(d, alpha), Expm1F32(d, v))));
      });
    }
    case UnaryF32Op::kCelu: {
      const float alpha = p.alpha;
      return UnarySpan<kT>(x, y, n, [alpha](auto d, auto v) HWY_ATTR {
        const auto a = hn::Set(d, alpha);
        return hn::IfThenElse(hn::Gt(v, hn::Zero(d)), v, hn::Mul(a, Expm1F32(d, hn::Div(v, a))));
      });
    }
    case UnaryF32Op::kHardSigmoid: {
      const float alpha = p.alpha;
      const float beta = p.beta;
      return UnarySpan<kT>(x, y, n,
                           [alpha, beta](auto d, auto v) HWY_ATTR { return HardSigmoidF32(d, v, alpha, beta); });
    }
    case UnaryF32Op::kHardSwish:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR {
        return hn::Mul(v, Saturate01(d, hn::MulAdd(hn::Set(d, 1.0f / 6.0f), v, hn::Set(d, 0.5f))));
      });
    case UnaryF32Op::kSoftsign:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR {
        return hn::Div(v, hn::Add(hn::Set(d, 1.0f), math_detail::AbsBits(d, v)));
      });
    case UnaryF32Op::kClip: {
      const float lo = p.lo;
      const float hi = p.hi;
      return UnarySpan<kT>(x, y, n, [lo, hi](auto d, auto v) HWY_ATTR { return ClipF32(d, v, lo, hi); });
    }
    case UnaryF32Op::kGelu:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return GeluF32(d, v); });
    case UnaryF32Op::kGeluTanh:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return GeluTanhF32(d, v); });
    case UnaryF32Op::kSilu:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return SiluF32(d, v); });
    case UnaryF32Op::kExpm1:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return Expm1F32(d, v); });
    case UnaryF32Op::kLog1p:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return Log1pF32(d, v); });
    case UnaryF32Op::kSinh:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return SinhF32(d, v); });
    case UnaryF32Op::kCosh:
      return UnarySpan<kT>(x, y, n, [](auto d, auto v) HWY_ATTR { return CoshF32(d, v); });
  }
}

template <ElemType kT>
void BinaryTyped(BinaryF32Op op, const void* av, size_t as, const void* bv, size_t bs, void* ov, size_t n) {
  const auto* a = static_cast<const RawT<kT>*>(av);
  const auto* b = static_cast<const RawT<kT>*>(bv);
  auto* out = static_cast<RawT<kT>*>(ov);
  switch (op) {
    case BinaryF32Op::kAdd:
      return BinarySpan<kT>(a, as, b, bs, out, n, [](auto, auto x, auto y) HWY_ATTR { return hn::Add(x, y); });
    case BinaryF32Op::kSub:
      return BinarySpan<kT>(a, as, b, bs, out, n, [](auto, auto x, auto y) HWY_ATTR { return hn::Sub(x, y); });
    case BinaryF32Op::kMul:
      return BinarySpan<kT>(a, as, b, bs, out, n, [](auto, auto x, auto y) HWY_ATTR { return hn::Mul(x, y); });
    case BinaryF32Op::kDiv:
      return BinarySpan<kT>(a, as, b, bs, out, n, [](auto, auto x, auto y) HWY_ATTR { return hn::Div(x, y); });
    case BinaryF32Op::kMax:
      return BinarySpan<kT>(a, as, b, bs, out, n, [](auto, auto x, auto y) HWY_ATTR {
        auto r = hn::IfThenElse(hn::Gt(y, x), y, x);
        r = hn::IfThenElse(hn::IsNaN(y), y, r);
        return hn::IfThenElse(hn::IsNaN(x), x, r);
      });
    case BinaryF32Op::kMin:
      return BinarySpan<kT>(a, as, b, bs, out, n, [](auto, auto x, auto y) HWY_ATTR {
        auto r = hn::IfThenElse(hn::Lt(y, x), y, x);
        r = hn::IfThenElse(hn::IsNaN(y), y, r);
        return hn::IfThenElse(hn::IsNaN(x), x, r);
      });
    case BinaryF32Op::kPRelu:
      return BinarySpan<kT>(a, as, b, bs, out, n, [](auto d, auto x, auto slope) HWY_ATTR {
        return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), hn::Mul(slope, x), x);
      });
    case BinaryF32Op::kPow:
      return BinarySpan<kT>(a, as, b, bs, out, n, [](auto d, auto x, auto y) HWY_ATTR { return PowF32(d, x, y); });
  }
}

}  // namespace ew_detail

// Exported span functions (elementwise.cc takes their addresses per target).
void UnaryF32SpanF32(UnaryF32Op op, const UnaryF32Params& p, const void* x, void* y, size_t n) {
  ew_detail::UnaryTyped<ElemType::kF32>(op, p, x, y, n);
}
void UnaryF32SpanF16(UnaryF32Op op, const UnaryF32Params& p, const void* x, void* y, size_t n) {
  ew_detail::UnaryTyped<ElemType::kF16>(op, p, x, y, n);
}
void UnaryF32SpanBF16(UnaryF32Op op, const UnaryF32Params& p, const void* x, void* y, size_t n) {
  ew_detail::UnaryTyped<ElemType::kBF16>(op, p, x, y, n);
}
void BinaryF32SpanF32(BinaryF32Op op, const void* a, size_t as, const void* b, size_t bs, void* out, size_t n) {
  ew_detail::BinaryTyped<ElemType::kF32>(op, a, as, b, bs, out, n);
}
void BinaryF32SpanF16(BinaryF32Op op, const void* a, size_t as, const void* b, size_t bs, void* out, size_t n) {
  ew_detail::BinaryTyped<ElemType::kF16>(op, a, as, b, bs, out, n);
}
void BinaryF32SpanBF16(BinaryF32Op op, const void* a, size_t as, const void* b, size_t bs, void* out, size_t n) {
  ew_detail::BinaryTyped<ElemType::kBF16>(op, a, as, b, bs, out, n);
}

// Conversions: LoadF of one storage type, StoreF of the other.
namespace ew_detail {
template <ElemType kFrom, ElemType kTo>
HWY_INLINE void ConvertSpan(const RawT<kFrom>* x, RawT<kTo>* y, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) StoreF<kTo>(d, LoadF<kFrom>(d, x + i), y + i);
  if (i < n) {
    alignas(64) RawT<kFrom> bx[kMaxLanes] = {};
    alignas(64) RawT<kTo> by[kMaxLanes];
    std::memcpy(bx, x + i, (n - i) * sizeof(RawT<kFrom>));
    StoreF<kTo>(d, LoadF<kFrom>(d, bx), by);
    std::memcpy(y + i, by, (n - i) * sizeof(RawT<kTo>));
  }
}
}  // namespace ew_detail

void ConvertF32ToF16(const float* x, uint16_t* y, size_t n) {
  ew_detail::ConvertSpan<ElemType::kF32, ElemType::kF16>(x, y, n);
}
void ConvertF16ToF32(const uint16_t* x, float* y, size_t n) {
  ew_detail::ConvertSpan<ElemType::kF16, ElemType::kF32>(x, y, n);
}
void ConvertF32ToBF16(const float* x, uint16_t* y, size_t n) {
  ew_detail::ConvertSpan<ElemType::kF32, ElemType::kBF16>(x, y, n);
}
void ConvertBF16ToF32(const uint16_t* x, float* y, size_t n) {
  ew_detail::ConvertSpan<ElemType::kBF16, ElemType::kF32>(x, y, n);
}

#endif  // IDEM_SIMD_TARGET
}  // namespace HWY_NAMESPACE
}  // namespace idem::simd
HWY_AFTER_NAMESPACE();

#endif  // include guard
