// Arithmetic elementwise ops: Add, Sub, Mul, Div, Mod, Pow, BitShift, PRelu. Integer arithmetic
// wraps modulo 2^bits; integer division and Mod by zero, and 0 to a negative integer power, are
// errors, never a crash.
#include <string>
#include <type_traits>

#include "core/math.h"
#include "kernels/elementwise_map.h"

namespace idem::kernels {
namespace {

using ew::ElementFault;
using ew::kIsInt;
using ew::SameTypeBinary;

constexpr uint32_t kNumeric = types::kNumeric;

// Runs a kernel body whose element function may raise `fault`, and turns a raised fault into an
// error naming `rule`.
template <typename Body>
Status WithFault(KernelContext& ctx, const char* rule, Body body) {
  ElementFault fault;
  IDEM_RETURN_IF_ERROR(body(fault));
  if (fault.raised()) return ctx.Error(rule);
  return Status::Ok();
}

// Integer x^y by repeated squaring (exact modulo 2^bits). Negative y: 1 and -1 give +-1, 0 raises
// the fault (no defined value), any other base gives 0 (the truncated value of 1/x^|y|).
template <typename C, typename E>
C IntPow(C x, E y, ElementFault& fault) {
  if constexpr (std::is_signed_v<E>) {
    if (y < 0) {
      if (x == C(1)) return C(1);
      if constexpr (std::is_signed_v<C>)
        if (x == C(-1)) return (y & 1) != 0 ? C(-1) : C(1);
      if (x == C(0)) fault.Raise();
      return C(0);
    }
  }
  uint64_t e = static_cast<uint64_t>(y);
  C result = C(1);
  C base = x;
  while (e != 0) {
    if ((e & 1u) != 0) result = ew::WrapMul(result, base);
    e >>= 1;
    if (e != 0) base = ew::WrapMul(base, base);
  }
  return result;
}

// x^y for a base of element type X (compute type C) and an exponent of compute type E. Float base
// with float exponent: pow in f32 (for f32/f16/bf16 pairs) or f64 (when either side is f64); float
// base with integer exponent: pow in f64, rounded once to X; integer base with float exponent: pow
// in f64, truncated to X; integer ^ integer: exact (IntPow).
template <typename X, typename C, typename E>
C PowOf(C x, E y, ElementFault& fault) {
  if constexpr (kIsInt<C> && kIsInt<E>) {
    return IntPow(x, y, fault);
  } else if constexpr (kIsInt<C>) {
    return ew::ConvertElement<C>(math::pow(static_cast<double>(x), static_cast<double>(y)));
  } else if constexpr (std::is_same_v<C, float> && std::is_same_v<E, float>) {
    return math::pow(x, y);
  } else {
    const double r = math::pow(static_cast<double>(x), static_cast<double>(y));
    if constexpr (kIsHalf<X>) return ew::RoundToOddFloat(r);  // rounded once more, to nearest, by Store
    else return static_cast<C>(r);
  }
}

// Remainder of a / b. fmod: sign of the dividend (C fmod); otherwise the sign of the divisor
// (Python/NumPy mod). Integer b == 0 raises the fault.
template <typename C>
C ModOf(C a, C b, bool fmod, ElementFault& fault) {
  if constexpr (kIsInt<C>) {
    if (b == C(0)) {
      fault.Raise();
      return C(0);
    }
    if constexpr (std::is_signed_v<C>) {
      if (b == C(-1)) return C(0);  // also min % -1, which overflows in C
      C r = static_cast<C>(a % b);
      if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<C>(r + b);
      return r;
    } else {
      return static_cast<C>(a % b);
    }
  } else {
    C r = math::fmod(a, b);
    if (!fmod && r != C(0) && ((r < C(0)) != (b < C(0)))) r = r + b;
    return r;
  }
}

// The exponent as one of four exact canonical types: f32 (f32/f16/bf16), f64, i64 (signed ints),
// u64 (unsigned ints). PowOf gives the same result for an exponent and its canonical form; this
// keeps the kernel to 6 x 4 instantiations instead of 6 x 12.
Tensor CanonicalExponent(const Tensor& y) {
  DType canon = y.dtype();
  if (y.dtype() == DType::kF16 || y.dtype() == DType::kBF16) canon = DType::kF32;
  else if (IsSignedInt(y.dtype())) canon = DType::kI64;
  else if (IsUnsignedInt(y.dtype())) canon = DType::kU64;
  if (canon == y.dtype()) return y;
  Tensor out = Tensor::Make(canon, y.shape());
  constexpr uint32_t kConverted = types::Bit(DType::kF16) | types::Bit(DType::kBF16) | types::kInt;
  VisitDType<kConverted>(y.dtype(), "Pow exponent", [&](auto tag) {
    using Y = typename decltype(tag)::type;
    using E = std::conditional_t<kIsHalf<Y>, float, std::conditional_t<std::is_signed_v<Y>, int64_t, uint64_t>>;
    const Y* src = y.data<Y>();
    E* dst = out.data<E>();
    for (int64_t i = 0; i < y.numel(); ++i) dst[i] = ew::ConvertElement<E>(src[i]);
    return Status::Ok();
  }).IgnoreError();
  return out;
}

}  // namespace

// ---------------------------------------------------------------- arithmetic

// f32/f16/bf16 take the SIMD span kernels (same formula; kernels/simd/elementwise.h).
Status Add(KernelContext& ctx) {
  return ew::SameTypeBinarySimd<kNumeric>(ctx, simd::BinaryF32Op::kAdd, [](auto a, auto b) { return ew::AddOf(a, b); });
}
Status Sub(KernelContext& ctx) {
  return ew::SameTypeBinarySimd<kNumeric>(ctx, simd::BinaryF32Op::kSub, [](auto a, auto b) { return ew::SubOf(a, b); });
}
Status Mul(KernelContext& ctx) {
  return ew::SameTypeBinarySimd<kNumeric>(ctx, simd::BinaryF32Op::kMul, [](auto a, auto b) { return ew::MulOf(a, b); });
}

// Integers truncate toward zero (min / -1 wraps to min); division by zero is an error.
Status Div(KernelContext& ctx) {
  return WithFault(ctx, "integer division by zero", [&](ElementFault& fault) {
    return ew::SameTypeBinarySimd<kNumeric>(ctx, simd::BinaryF32Op::kDiv, [&fault](auto a, auto b) {
      using C = decltype(a);
      if constexpr (kIsInt<C>) {
        if (b == C(0)) {
          fault.Raise();
          return C(0);
        }
        if constexpr (std::is_signed_v<C>)
          if (b == C(-1)) return ew::WrapNeg(a);
        return static_cast<C>(a / b);
      } else {
        return a / b;
      }
    });
  });
}

Status Mod(KernelContext& ctx) {
  const bool fmod = ctx.Int("fmod", 0) != 0;
  return WithFault(ctx, "integer modulus by zero", [&](ElementFault& fault) {
    return SameTypeBinary<kNumeric>(ctx, [&fault, fmod](auto a, auto b) { return ModOf(a, b, fmod, fault); });
  });
}

// Base and exponent may have different types (Pow-12+); the output has the base's type.
Status Pow(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* y, ctx.InputTensor(1));
  if (!IsFloat(y->dtype()) && !IsInt(y->dtype()))
    return ctx.UnsupportedError("exponent element type ", DTypeOnnxName(y->dtype()), " is not supported");
  const Tensor exponent = CanonicalExponent(*y);
  const std::string what = ctx.node().Describe();
  constexpr uint32_t kBase = types::kFloat | types::Bit(DType::kI32) | types::Bit(DType::kI64);
  constexpr uint32_t kExponent =
      types::Bit(DType::kF32) | types::Bit(DType::kF64) | types::Bit(DType::kI64) | types::Bit(DType::kU64);
  if (x->dtype() == DType::kF32 && exponent.dtype() == DType::kF32) {  // math::pow in f32, vectorized
    IDEM_ASSIGN_OR_RETURN(ew::BinaryShapes s, ew::ResolveBinaryShapes(ctx, x->shape(), exponent.shape()));
    IDEM_ASSIGN_OR_RETURN(const bool done, ew::TrySimdBinary(ctx, *x, exponent, s, simd::BinaryF32Op::kPow));
    if (done) return Status::Ok();
  }
  return WithFault(ctx, "0 raised to a negative integer power", [&](ElementFault& fault) {
    return VisitDType<kBase>(x->dtype(), what.c_str(), [&](auto xtag) {
      using X = typename decltype(xtag)::type;
      return VisitDType<kExponent>(exponent.dtype(), what.c_str(), [&](auto etag) {
        using E = typename decltype(etag)::type;
        return ew::MapBinary<X, E, X>(ctx, *x, exponent,
                                      [&fault](ComputeT<X> a, E b) { return PowOf<X>(a, b, fault); });
      });
    });
  });
}

// Shift amounts of at least the bit width give 0.
Status BitShift(KernelContext& ctx) {
  const std::string direction = ctx.String("direction", "");
  if (direction != "LEFT" && direction != "RIGHT")
    return ctx.Error("attribute 'direction' must be \"LEFT\" or \"RIGHT\", got \"", direction, "\"");
  const bool left = direction == "LEFT";
  return SameTypeBinary<types::kUnsignedInt>(ctx, [left](auto x, auto s) {
    using C = decltype(x);
    using W = ew::WideUnsigned<C>;
    if (s >= C(sizeof(C) * 8)) return C(0);
    return left ? static_cast<C>(static_cast<W>(x) << s) : static_cast<C>(x >> s);
  });
}

// ---------------------------------------------------------------- PRelu

// y = x < 0 ? slope * x : x, slope broadcast to x unidirectionally. Before opset 7 the slope is a
// single value or, as exported by Caffe2/PyTorch at opset 6, one value per channel (dim 1).
Status PRelu(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(auto in, ew::SameTypeInputs(ctx));
  const Shape& xs = in[0]->shape();
  const Shape& ss = in[1]->shape();
  ew::BinaryShapes shapes{xs, xs, ss};
  if (ctx.opset() < 7 && in[1]->numel() == 1) {
    shapes.b.clear();
  } else if (ctx.opset() < 7 && ss.size() == 1 && xs.size() >= 2 && ss[0] == xs[1]) {
    shapes.b.resize(xs.size() - 1, 1);  // [C, 1, ..., 1]
  } else {
    IDEM_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(ctx, {&xs, &ss}));
    if (out != xs)
      return ctx.Error("slope ", ShapeToString(ss), " does not broadcast unidirectionally to X ", ShapeToString(xs));
  }
  const std::string what = ctx.node().Describe();
  return VisitDType<types::kFloat | types::kInt>(in[0]->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    if constexpr (std::is_same_v<C, float>) {  // f32, f16, bf16
      IDEM_ASSIGN_OR_RETURN(const bool done, ew::TrySimdBinary(ctx, *in[0], *in[1], shapes, simd::BinaryF32Op::kPRelu));
      if (done) return Status::Ok();
    }
    return ew::MapBinaryShaped<T, T, T>(ctx, *in[0], *in[1], shapes, [](C x, C slope) {
      if constexpr (std::is_unsigned_v<C>) {
        (void)slope;
        return x;
      } else {
        return x < C(0) ? ew::MulOf(slope, x) : x;
      }
    });
  });
}

}  // namespace idem::kernels
