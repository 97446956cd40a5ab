// Per-target span kernels of kernels/simd/fused_act.h (Highway). Included once per target by
// fused_act.cc through foreach_target.h. Every element is computed by the vector version of its
// scalar formula (FusedActivationScalar), operation for operation, with math-inl.h for erf, tanh,
// sigmoid and pow; a ragged tail runs through the same vector code on a zero-padded copy, so an
// element's bits never depend on where it sits.

#if defined(IDEM_KERNELS_SIMD_FUSED_ACT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef IDEM_KERNELS_SIMD_FUSED_ACT_INL_H_
#undef IDEM_KERNELS_SIMD_FUSED_ACT_INL_H_
#else
#define IDEM_KERNELS_SIMD_FUSED_ACT_INL_H_
#endif

#include <cstddef>
#include <cstring>

#include <hwy/highway.h>

#include "kernels/simd/fused_act.h"
#include "kernels/simd/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace idem::simd {
namespace HWY_NAMESPACE {
#if IDEM_SIMD_TARGET

namespace hn = hwy::HWY_NAMESPACE;

namespace fused_act_detail {

constexpr size_t kMaxLanes = 64 / sizeof(float);

// y = f(x (+ addend)) over n elements; the tail goes through the same vector code on a padded copy.
template <bool kAdd, class F>
HWY_INLINE void Span(const float* x, const float* addend, float* y, size_t n, const F& f) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    auto v = hn::LoadU(d, x + i);
    if constexpr (kAdd) v = hn::Add(v, hn::LoadU(d, addend + i));
    hn::StoreU(f(d, v), d, y + i);
  }
  if (i < n) {
    alignas(64) float bx[kMaxLanes] = {};
    alignas(64) float ba[kMaxLanes] = {};
    alignas(64) float by[kMaxLanes];
    std::memcpy(bx, x + i, (n - i) * sizeof(float));
    auto v = hn::Load(d, bx);
    if constexpr (kAdd) {
      std::memcpy(ba, addend + i, (n - i) * sizeof(float));
      v = hn::Add(v, hn::Load(d, ba));
    }
    hn::Store(f(d, v), d, by);
    std::memcpy(y + i, by, (n - i) * sizeof(float));
  }
}

// GELU for one form; kTanh / kAlt (inner_div for erf, cube_pow for tanh) / kHalf fixed at
// compile time so that the vector loop has no per-vector branches.
template <bool kTanh, bool kAlt, int kHalf, bool kAdd>
HWY_INLINE void GeluSpan(const GeluForm& g, const float* x, const float* addend, float* y, size_t n) {
  const float inner = g.inner_scale;
  const float coef = g.coef;
  Span<kAdd>(x, addend, y, n, [inner, coef](auto d, auto v) HWY_ATTR {
    using V = decltype(v);
    V e;
    if constexpr (kTanh) {
      const V c = kAlt ? PowF32(d, v, hn::Set(d, 3.0f)) : hn::Mul(v, hn::Mul(v, v));
      const V s = hn::Add(v, hn::Mul(hn::Set(d, coef), c));
      e = TanhF32(d, hn::Mul(hn::Set(d, inner), s));
    } else {
      const V u = kAlt ? hn::Div(v, hn::Set(d, inner)) : hn::Mul(v, hn::Set(d, inner));
      e = ErfF32(d, u);
    }
    const V t = hn::Add(e, hn::Set(d, 1.0f));
    const V half = hn::Set(d, 0.5f);
    if constexpr (kHalf == 1) return hn::Mul(hn::Mul(v, half), t);
    if constexpr (kHalf == 2) return hn::Mul(v, hn::Mul(t, half));
    return hn::Mul(hn::Mul(v, t), half);
  });
}

template <bool kTanh, bool kAlt, bool kAdd>
HWY_INLINE void GeluHalf(const GeluForm& g, const float* x, const float* addend, float* y, size_t n) {
  if (g.half_mode == 1) return GeluSpan<kTanh, kAlt, 1, kAdd>(g, x, addend, y, n);
  if (g.half_mode == 2) return GeluSpan<kTanh, kAlt, 2, kAdd>(g, x, addend, y, n);
  return GeluSpan<kTanh, kAlt, 0, kAdd>(g, x, addend, y, n);
}

template <bool kAdd>
void ActSpan(const FusedActivation& act, const float* x, const float* addend, float* y, size_t n) {
  const float a = act.a;
  const float b = act.b;
  switch (act.kind) {
    case FusedActKind::kNone:
      return Span<kAdd>(x, addend, y, n, [](auto, auto v) HWY_ATTR { return v; });
    case FusedActKind::kRelu:
      return Span<kAdd>(x, addend, y, n, [](auto d, auto v) HWY_ATTR { return ReluF32(d, v); });
    case FusedActKind::kLeakyRelu:
      return Span<kAdd>(x, addend, y, n, [a](auto d, auto v) HWY_ATTR { return LeakyReluF32(d, v, a); });
    case FusedActKind::kClip:
      return Span<kAdd>(x, addend, y, n, [a, b](auto d, auto v) HWY_ATTR { return ClipF32(d, v, a, b); });
    case FusedActKind::kSigmoid:
      return Span<kAdd>(x, addend, y, n, [](auto d, auto v) HWY_ATTR { return SigmoidF32(d, v); });
    case FusedActKind::kTanh:
      return Span<kAdd>(x, addend, y, n, [](auto d, auto v) HWY_ATTR { return TanhF32(d, v); });
    case FusedActKind::kHardSigmoid:
      return Span<kAdd>(x, addend, y, n, [a, b](auto d, auto v) HWY_ATTR { return HardSigmoidF32(d, v, a, b); });
    case FusedActKind::kSiLU:
      return Span<kAdd>(x, addend, y, n, [](auto d, auto v) HWY_ATTR { return SiluF32(d, v); });
    case FusedActKind::kGelu: {
      const GeluForm& g = act.gelu;
      if (g.tanh_form) {
        if (g.cube_pow) return GeluHalf<true, true, kAdd>(g, x, addend, y, n);
        return GeluHalf<true, false, kAdd>(g, x, addend, y, n);
      }
      if (g.inner_div) return GeluHalf<false, true, kAdd>(g, x, addend, y, n);
      return GeluHalf<false, false, kAdd>(g, x, addend, y, n);
    }
  }
}

}  // namespace fused_act_detail

// FusedActSpanFn of this target.
void FusedActSpanF32(const FusedActivation& act, const float* x, const float* addend, float* y, size_t n) {
  if (n == 0) return;
  if (addend != nullptr) return fused_act_detail::ActSpan<true>(act, x, addend, y, n);
  return fused_act_detail::ActSpan<false>(act, x, nullptr, y, n);
}

#endif  // IDEM_SIMD_TARGET
}  // namespace HWY_NAMESPACE
}  // namespace idem::simd
HWY_AFTER_NAMESPACE();

#endif  // include guard
