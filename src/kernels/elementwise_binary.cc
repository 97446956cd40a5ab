// Binary and n-ary elementwise ops: arithmetic, Pow, Mod, BitShift, comparisons, logic, PRelu,
// Where, and the variadic Max/Min/Sum/Mean. Integer arithmetic wraps modulo 2^bits; integer
// division (and Mod, and 0 to a negative power) by zero is an error, never a crash.
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "core/math.h"
#include "kernels/elementwise_map.h"

namespace idem::kernels {
namespace {

using ew::BoolBinary;
using ew::ElementFault;
using ew::kIsInt;
using ew::SameTypeBinary;

constexpr uint32_t kNumeric = types::kNumeric;
constexpr uint32_t kFloat = types::kFloat;

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

// x^y for base compute type C and exponent compute type E. Float base with float exponent: pow in
// f32 (for f32/f16/bf16 pairs) or f64 (when either side is f64); float base with integer
// exponent: pow in f64, rounded to the base's type; integer base with float exponent: pow in f64,
// truncated to the base's type; integer ^ integer: exact (IntPow).
template <typename C, typename E>
C PowOf(C x, E y, ElementFault& fault) {
  if constexpr (kIsInt<C> && kIsInt<E>) {
    return IntPow(x, y, fault);
  } else if constexpr (kIsInt<C>) {
    return ew::ConvertElement<C>(math::pow(static_cast<double>(x), static_cast<double>(y)));
  } else if constexpr (std::is_same_v<C, float> && std::is_same_v<E, float>) {
    return math::pow(x, y);
  } else {
    return static_cast<C>(math::pow(static_cast<double>(x), static_cast<double>(y)));
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

// max/min that propagate NaN: the first NaN operand wins; otherwise ties keep the accumulator.
template <typename C>
C MaxOf(C acc, C v) {
  if (ew::IsNan(acc)) return acc;
  if (ew::IsNan(v)) return v;
  return v > acc ? v : acc;
}
template <typename C>
C MinOf(C acc, C v) {
  if (ew::IsNan(acc)) return acc;
  if (ew::IsNan(v)) return v;
  return v < acc ? v : acc;
}

// Left fold over all inputs (broadcast together, NumPy rules): acc = x0; acc = combine(acc, xk)
// for k = 1..n-1; out = finish(acc, n). The accumulator is the compute type (f32 for halves).
template <uint32_t kSet, typename Combine, typename Finish>
Status FoldInputs(KernelContext& ctx, Combine combine, Finish finish) {
  if (ctx.num_inputs() == 0) return ctx.Error("expects at least one input");
  std::vector<const Tensor*> in;
  std::vector<const Shape*> shapes;
  for (size_t k = 0; k < ctx.num_inputs(); ++k) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(k));
    if (!in.empty() && t->dtype() != in[0]->dtype())
      return ctx.Error("input ", k, " has element type ", DTypeOnnxName(t->dtype()), ", expected ",
                       DTypeOnnxName(in[0]->dtype()));
    in.push_back(t);
    shapes.push_back(&t->shape());
  }
  IDEM_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(ctx, shapes));
  const std::string what = ctx.node().Describe();
  return VisitDType<kSet>(in[0]->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    const int64_t n = NumElements(out);
    std::vector<C> acc(static_cast<size_t>(n));
    const T* first = in[0]->template data<T>();
    ew::ForEachBroadcast<1>(ctx, out, {shapes[0]}, [&](int64_t i, const std::array<int64_t, 1>& o) {
      acc[static_cast<size_t>(i)] = Load(first[o[0]]);
    });
    for (size_t k = 1; k < in.size(); ++k) {
      const T* p = in[k]->template data<T>();
      ew::ForEachBroadcast<1>(ctx, out, {shapes[k]}, [&](int64_t i, const std::array<int64_t, 1>& o) {
        C& a = acc[static_cast<size_t>(i)];
        a = static_cast<C>(combine(a, Load(p[o[0]])));
      });
    }
    IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutput(0, in[0]->dtype(), out));
    T* dst = y->template data<T>();
    const C count = static_cast<C>(in.size());
    ctx.ParallelFor(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) dst[i] = Store<T>(static_cast<C>(finish(acc[static_cast<size_t>(i)], count)));
    });
    return Status::Ok();
  });
}

}  // namespace

// ---------------------------------------------------------------- arithmetic

Status Add(KernelContext& ctx) { return SameTypeBinary<kNumeric>(ctx, [](auto a, auto b) { return ew::AddOf(a, b); }); }
Status Sub(KernelContext& ctx) { return SameTypeBinary<kNumeric>(ctx, [](auto a, auto b) { return ew::SubOf(a, b); }); }
Status Mul(KernelContext& ctx) { return SameTypeBinary<kNumeric>(ctx, [](auto a, auto b) { return ew::MulOf(a, b); }); }

// Integers truncate toward zero (min / -1 wraps to min); division by zero is an error.
Status Div(KernelContext& ctx) {
  return WithFault(ctx, "integer division by zero", [&](ElementFault& fault) {
    return SameTypeBinary<kNumeric>(ctx, [&fault](auto a, auto b) {
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
  const std::string what = ctx.node().Describe();
  return WithFault(ctx, "0 raised to a negative integer power", [&](ElementFault& fault) {
    return VisitDType<kNumeric>(x->dtype(), what.c_str(), [&](auto xtag) {
      using X = typename decltype(xtag)::type;
      return VisitDType<kNumeric>(y->dtype(), what.c_str(), [&](auto ytag) {
        using Y = typename decltype(ytag)::type;
        return ew::MapBinary<X, Y, X>(ctx, *x, *y,
                                      [&fault](ComputeT<X> a, ComputeT<Y> b) { return PowOf(a, b, fault); });
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

// ---------------------------------------------------------------- comparisons and logic

Status Equal(KernelContext& ctx) { return BoolBinary<types::kAllPod>(ctx, [](auto a, auto b) { return a == b; }); }
Status Greater(KernelContext& ctx) { return BoolBinary<kNumeric>(ctx, [](auto a, auto b) { return a > b; }); }
Status GreaterOrEqual(KernelContext& ctx) { return BoolBinary<kNumeric>(ctx, [](auto a, auto b) { return a >= b; }); }
Status Less(KernelContext& ctx) { return BoolBinary<kNumeric>(ctx, [](auto a, auto b) { return a < b; }); }
Status LessOrEqual(KernelContext& ctx) { return BoolBinary<kNumeric>(ctx, [](auto a, auto b) { return a <= b; }); }
Status And(KernelContext& ctx) { return BoolBinary<types::kBool>(ctx, [](bool a, bool b) { return a && b; }); }
Status Or(KernelContext& ctx) { return BoolBinary<types::kBool>(ctx, [](bool a, bool b) { return a || b; }); }
Status Xor(KernelContext& ctx) { return BoolBinary<types::kBool>(ctx, [](bool a, bool b) { return a != b; }); }

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
  return VisitDType<types::kFloat | types::kInt>(in[0]->dtype(), what.c_str(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
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

// ---------------------------------------------------------------- Where

// out = condition ? X : Y with three-way NumPy broadcasting; elements are copied unchanged.
Status Where(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* cond, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(1));
  IDEM_ASSIGN_OR_RETURN(const Tensor* y, ctx.InputTensor(2));
  if (cond->dtype() != DType::kBool)
    return ctx.Error("condition must be bool, got ", DTypeOnnxName(cond->dtype()));
  if (x->dtype() != y->dtype())
    return ctx.Error("X and Y must have the same element type, got ", DTypeOnnxName(x->dtype()), " and ",
                     DTypeOnnxName(y->dtype()));
  IDEM_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(ctx, {&cond->shape(), &x->shape(), &y->shape()}));
  const std::string what = ctx.node().Describe();
  return VisitDType<types::kAll>(x->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    IDEM_ASSIGN_OR_RETURN(Tensor* z, ctx.AllocateOutput(0, x->dtype(), out));
    const bool* pc = cond->data<bool>();
    const T* px = x->template data<T>();
    const T* py = y->template data<T>();
    T* dst = z->template data<T>();
    ew::ForEachBroadcast<3>(ctx, out, {&cond->shape(), &x->shape(), &y->shape()},
                            [&](int64_t i, const std::array<int64_t, 3>& o) {
                              dst[i] = pc[o[0]] ? px[o[1]] : py[o[2]];
                            });
    return Status::Ok();
  });
}

// ---------------------------------------------------------------- variadic

Status Max(KernelContext& ctx) {
  return FoldInputs<kNumeric>(ctx, [](auto a, auto v) { return MaxOf(a, v); }, [](auto a, auto) { return a; });
}
Status Min(KernelContext& ctx) {
  return FoldInputs<kNumeric>(ctx, [](auto a, auto v) { return MinOf(a, v); }, [](auto a, auto) { return a; });
}
Status Sum(KernelContext& ctx) {
  return FoldInputs<kNumeric>(ctx, [](auto a, auto v) { return ew::AddOf(a, v); }, [](auto a, auto) { return a; });
}
// (x0 + x1 + ... + x{n-1}) / n, summed left to right in the compute type.
Status Mean(KernelContext& ctx) {
  return FoldInputs<kFloat>(ctx, [](auto a, auto v) { return a + v; }, [](auto a, auto n) { return a / n; });
}

}  // namespace idem::kernels
