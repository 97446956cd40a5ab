// Unary elementwise ops: math functions, activations, rounding, tests (IsNaN/IsInf), Clip, Not.
// Every transcendental comes from idem::math (R4); halves compute in f32 (elementwise_map.h).
// f32/f16/bf16 tensors of the ops with a UnaryF32Op run the SIMD span kernels of the current ISA
// (kernels/simd/elementwise.h), which compute the same formulas bit for bit; Isa::kScalar runs the
// lambdas below, the reference.
#include <cmath>
#include <limits>

#include "core/math.h"
#include "kernels/elementwise_map.h"

namespace idem::kernels {
namespace {

using ew::SameTypeUnary;

constexpr uint32_t kFloat = types::kFloat;
constexpr uint32_t kFloatOrSigned = types::kFloat | types::kSignedInt;
constexpr uint32_t kNumeric = types::kNumeric;

using simd::UnaryF32Op;
using simd::UnaryF32Params;

// A float-only op y = f(x); f is called with float (f32/f16/bf16) or double.
template <typename F>
Status FloatUnary(KernelContext& ctx, F f) {
  return SameTypeUnary<kFloat>(ctx, f);
}

// The same with the SIMD span kernel `op` for f32/f16/bf16 (same formula, kernels/simd/).
template <typename F>
Status FloatUnary(KernelContext& ctx, UnaryF32Op op, F f, const UnaryF32Params& params = {}) {
  return ew::SameTypeUnarySimd<kFloat>(ctx, op, params, f);
}

// clamp(v, 0, 1) keeping NaN.
template <typename C>
C Saturate01(C v) {
  return v < C(0) ? C(0) : v > C(1) ? C(1) : v;
}

// max(0, min(1, alpha * x + beta)) with one fused multiply-add.
template <typename C>
C HardSigmoidOf(C x, C alpha, C beta) {
  return Saturate01(std::fma(alpha, x, beta));
}

}  // namespace

// ---------------------------------------------------------------- math functions

Status Exp(KernelContext& ctx) { return FloatUnary(ctx, UnaryF32Op::kExp, [](auto x) { return math::exp(x); }); }
Status Log(KernelContext& ctx) { return FloatUnary(ctx, UnaryF32Op::kLog, [](auto x) { return math::log(x); }); }
Status Sqrt(KernelContext& ctx) { return FloatUnary(ctx, UnaryF32Op::kSqrt, [](auto x) { return std::sqrt(x); }); }
Status Reciprocal(KernelContext& ctx) {
  return FloatUnary(ctx, UnaryF32Op::kReciprocal, [](auto x) { return decltype(x)(1) / x; });
}
Status Sin(KernelContext& ctx) { return FloatUnary(ctx, UnaryF32Op::kSin, [](auto x) { return math::sin(x); }); }
Status Cos(KernelContext& ctx) { return FloatUnary(ctx, UnaryF32Op::kCos, [](auto x) { return math::cos(x); }); }
Status Tan(KernelContext& ctx) { return FloatUnary(ctx, [](auto x) { return math::tan(x); }); }
Status Asin(KernelContext& ctx) { return FloatUnary(ctx, [](auto x) { return math::asin(x); }); }
Status Acos(KernelContext& ctx) { return FloatUnary(ctx, [](auto x) { return math::acos(x); }); }
Status Atan(KernelContext& ctx) { return FloatUnary(ctx, [](auto x) { return math::atan(x); }); }
Status Sinh(KernelContext& ctx) { return FloatUnary(ctx, UnaryF32Op::kSinh, [](auto x) { return math::sinh(x); }); }
Status Cosh(KernelContext& ctx) { return FloatUnary(ctx, UnaryF32Op::kCosh, [](auto x) { return math::cosh(x); }); }
Status Tanh(KernelContext& ctx) { return FloatUnary(ctx, UnaryF32Op::kTanh, [](auto x) { return math::tanh(x); }); }
Status Asinh(KernelContext& ctx) { return FloatUnary(ctx, [](auto x) { return math::asinh(x); }); }
Status Acosh(KernelContext& ctx) { return FloatUnary(ctx, [](auto x) { return math::acosh(x); }); }
Status Atanh(KernelContext& ctx) { return FloatUnary(ctx, [](auto x) { return math::atanh(x); }); }
Status Ceil(KernelContext& ctx) { return FloatUnary(ctx, UnaryF32Op::kCeil, [](auto x) { return math::ceil(x); }); }
Status Floor(KernelContext& ctx) { return FloatUnary(ctx, UnaryF32Op::kFloor, [](auto x) { return math::floor(x); }); }
// Round half to even.
Status Round(KernelContext& ctx) {
  return FloatUnary(ctx, UnaryF32Op::kRound, [](auto x) { return math::round_half_even(x); });
}

// Erf also accepts integer tensors (Erf-9): erf in double, converted back (truncation).
Status Erf(KernelContext& ctx) {
  return ew::SameTypeUnarySimd<kNumeric>(ctx, UnaryF32Op::kErf, {}, [](auto x) {
    using C = decltype(x);
    if constexpr (ew::kIsInt<C>) return ew::ConvertElement<C>(math::erf(static_cast<double>(x)));
    else return math::erf(x);
  });
}

// ---------------------------------------------------------------- sign and magnitude

Status Abs(KernelContext& ctx) {
  return ew::SameTypeUnarySimd<kNumeric>(ctx, UnaryF32Op::kAbs, {}, [](auto x) {
    using C = decltype(x);
    if constexpr (std::is_floating_point_v<C>) return math::abs(x);  // clears the sign bit
    else if constexpr (std::is_signed_v<C>) return x < 0 ? ew::WrapNeg(x) : x;  // |min| wraps to min
    else return x;
  });
}

Status Neg(KernelContext& ctx) {
  return ew::SameTypeUnarySimd<kFloatOrSigned>(ctx, UnaryF32Op::kNeg, {}, [](auto x) {
    using C = decltype(x);
    if constexpr (std::is_floating_point_v<C>) return -x;
    else return ew::WrapNeg(x);
  });
}

// 1 for x > 0, -1 for x < 0, x itself for zeros (keeping -0) and NaN.
Status Sign(KernelContext& ctx) {
  return ew::SameTypeUnarySimd<kNumeric>(ctx, UnaryF32Op::kSign, {}, [](auto x) {
    using C = decltype(x);
    if constexpr (std::is_unsigned_v<C>) return x > 0 ? C(1) : C(0);
    else return x > C(0) ? C(1) : x < C(0) ? C(-1) : x;
  });
}

// ---------------------------------------------------------------- activations

// x < 0 ? 0 : x (NaN and -0 pass through).
Status Relu(KernelContext& ctx) {
  return ew::SameTypeUnarySimd<kFloatOrSigned>(ctx, UnaryF32Op::kRelu, {},
                                               [](auto x) { return x < decltype(x)(0) ? decltype(x)(0) : x; });
}

Status LeakyRelu(KernelContext& ctx) {
  const float alpha = ctx.Float("alpha", 0.01f);
  UnaryF32Params p;
  p.alpha = alpha;
  return FloatUnary(ctx, UnaryF32Op::kLeakyRelu, [alpha](auto x) {
    using C = decltype(x);
    return x < C(0) ? static_cast<C>(alpha) * x : x;
  }, p);
}

Status ThresholdedRelu(KernelContext& ctx) {
  const float alpha = ctx.Float("alpha", 1.0f);
  UnaryF32Params p;
  p.alpha = alpha;
  return FloatUnary(ctx, UnaryF32Op::kThresholdedRelu, [alpha](auto x) {
    using C = decltype(x);
    return x > static_cast<C>(alpha) ? x : C(0);
  }, p);
}

// x < 0 ? alpha * (exp(x) - 1) : x
Status Elu(KernelContext& ctx) {
  const float alpha = ctx.Float("alpha", 1.0f);
  UnaryF32Params p;
  p.alpha = alpha;
  return FloatUnary(ctx, UnaryF32Op::kElu, [alpha](auto x) {
    using C = decltype(x);
    return x < C(0) ? static_cast<C>(alpha) * math::expm1(x) : x;
  }, p);
}

// x > 0 ? gamma * x : gamma * (alpha * (exp(x) - 1))
Status Selu(KernelContext& ctx) {
  const float alpha = ctx.Float("alpha", 1.67326319217681884765625f);
  const float gamma = ctx.Float("gamma", 1.05070102214813232421875f);
  UnaryF32Params p;
  p.alpha = alpha;
  p.gamma = gamma;
  return FloatUnary(ctx, UnaryF32Op::kSelu, [alpha, gamma](auto x) {
    using C = decltype(x);
    const C g = static_cast<C>(gamma);
    return x > C(0) ? g * x : g * (static_cast<C>(alpha) * math::expm1(x));
  }, p);
}

// max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) == x > 0 ? x : alpha * expm1(x / alpha)
Status Celu(KernelContext& ctx) {
  const float alpha = ctx.Float("alpha", 1.0f);
  if (alpha == 0) return ctx.Error("alpha must not be 0");
  UnaryF32Params p;
  p.alpha = alpha;
  return FloatUnary(ctx, UnaryF32Op::kCelu, [alpha](auto x) {
    using C = decltype(x);
    const C a = static_cast<C>(alpha);
    return x > C(0) ? x : a * math::expm1(x / a);
  }, p);
}

Status HardSigmoid(KernelContext& ctx) {
  const float alpha = ctx.Float("alpha", 0.2f);
  const float beta = ctx.Float("beta", 0.5f);
  UnaryF32Params p;
  p.alpha = alpha;
  p.beta = beta;
  return FloatUnary(ctx, UnaryF32Op::kHardSigmoid, [alpha, beta](auto x) {
    using C = decltype(x);
    return HardSigmoidOf(x, static_cast<C>(alpha), static_cast<C>(beta));
  }, p);
}

// x * HardSigmoid(x) with alpha = 1/6, beta = 1/2.
Status HardSwish(KernelContext& ctx) {
  return FloatUnary(ctx, UnaryF32Op::kHardSwish, [](auto x) {
    using C = decltype(x);
    return x * HardSigmoidOf(x, C(1) / C(6), C(0.5));
  });
}

Status Sigmoid(KernelContext& ctx) {
  return FloatUnary(ctx, UnaryF32Op::kSigmoid, [](auto x) { return math::sigmoid(x); });
}
Status Softplus(KernelContext& ctx) {
  return FloatUnary(ctx, UnaryF32Op::kSoftplus, [](auto x) { return math::softplus(x); });
}
// x / (1 + |x|)
Status Softsign(KernelContext& ctx) {
  return FloatUnary(ctx, UnaryF32Op::kSoftsign, [](auto x) { return x / (decltype(x)(1) + math::abs(x)); });
}

// x < -lambd ? x + bias : x > lambd ? x - bias : 0. Integers compute in double and convert back.
Status Shrink(KernelContext& ctx) {
  const float lambd = ctx.Float("lambd", 0.5f);
  const float bias = ctx.Float("bias", 0.0f);
  return SameTypeUnary<kNumeric>(ctx, [lambd, bias](auto x) {
    using C = decltype(x);
    using W = std::conditional_t<ew::kIsInt<C>, double, C>;
    const W v = static_cast<W>(x), l = static_cast<W>(lambd), b = static_cast<W>(bias);
    const W y = v < -l ? v + b : v > l ? v - b : W(0);
    if constexpr (ew::kIsInt<C>) return ew::ConvertElement<C>(y);
    else return y;
  });
}

// ---------------------------------------------------------------- Clip

// y = min(max(x, lo), hi) (so lo > hi gives hi; NaN passes). Bounds: attributes min/max before
// opset 11, optional one-element inputs after; absent bounds are the type's lowest/max.
Status Clip(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const std::string what = ctx.node().Describe();
  return VisitDType<kNumeric>(x->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    C lo = std::numeric_limits<C>::lowest();
    C hi = std::numeric_limits<C>::max();
    if (ctx.opset() < 11) {
      if (ctx.HasAttr("min")) lo = ew::ConvertElement<C>(ctx.Float("min", 0));
      if (ctx.HasAttr("max")) hi = ew::ConvertElement<C>(ctx.Float("max", 0));
    } else {
      for (size_t i = 1; i <= 2; ++i) {
        if (!ctx.has_input(i)) continue;
        IDEM_ASSIGN_OR_RETURN(const Tensor* bound, ctx.InputTensor(i));
        const char* name = i == 1 ? "min" : "max";
        if (bound->dtype() != x->dtype())
          return ctx.Error("input '", name, "' has element type ", DTypeOnnxName(bound->dtype()), ", expected ",
                           DTypeOnnxName(x->dtype()));
        if (bound->numel() != 1)
          return ctx.Error("input '", name, "' must be a scalar, got shape ", ShapeToString(bound->shape()));
        (i == 1 ? lo : hi) = Load(bound->data<T>()[0]);
      }
    }
    if constexpr (std::is_same_v<C, float>) {  // f32, f16, bf16
      UnaryF32Params p;
      p.lo = lo;
      p.hi = hi;
      IDEM_ASSIGN_OR_RETURN(const bool done, ew::TrySimdUnary(ctx, *x, UnaryF32Op::kClip, p));
      if (done) return Status::Ok();
    }
    return ew::MapUnary<T, T>(ctx, *x, [lo, hi](C v) {
      const C above = v < lo ? lo : v;
      return above > hi ? hi : above;
    });
  });
}

// ---------------------------------------------------------------- tests and logic

Status IsNaN(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const std::string what = ctx.node().Describe();
  return VisitDType<kFloat>(x->dtype(), what.c_str(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return ew::MapUnary<T, bool>(ctx, *x, [](ComputeT<T> v) { return v != v; });
  });
}

Status IsInf(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const bool positive = ctx.Int("detect_positive", 1) != 0;
  const bool negative = ctx.Int("detect_negative", 1) != 0;
  const std::string what = ctx.node().Describe();
  return VisitDType<kFloat>(x->dtype(), what.c_str(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    return ew::MapUnary<T, bool>(ctx, *x, [positive, negative](C v) {
      constexpr C kInf = std::numeric_limits<C>::infinity();
      return (positive && v == kInf) || (negative && v == -kInf);
    });
  });
}

Status Not(KernelContext& ctx) {
  return SameTypeUnary<types::kBool>(ctx, [](bool x) { return !x; });
}

}  // namespace idem::kernels
