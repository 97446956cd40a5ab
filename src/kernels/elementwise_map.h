// Shared machinery of the elementwise family (elementwise_*.cc): element conversions with defined
// results, wrap-around integer arithmetic, the unary map, the broadcast walk over N operands and
// the binary map (NumPy broadcasting, or the opset < 7 `broadcast`/`axis` rule). Each op is then a
// small lambda over compute types (ComputeT: f16/bf16 compute in f32 and round to nearest even
// once, at the op boundary).
//
// Order: elementwise ops have no reductions except the variadic folds (Sum/Mean/Max/Min in
// elementwise_variadic.cc), which combine inputs in their order, left to right:
// ((x0 + x1) + x2) + ... . The fold is over inputs, not over elements, so a SIMD version
// vectorizes over elements and keeps the same order.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"
#include "core/tensor.h"
#include "kernels/kernel.h"
#include "kernels/simd/elementwise.h"
#include "kernels/simd/isa.h"
#include "kernels/util.h"

namespace idem::kernels::ew {

// ---------------------------------------------------------------- element conversions

template <typename T> inline constexpr bool kIsInt = std::is_integral_v<T> && !std::is_same_v<T, bool>;

template <typename C>
inline bool IsNan(C v) {
  if constexpr (std::is_floating_point_v<C>) return v != v;
  else return false;
}

// double -> float rounded to odd (truncate toward zero, set the last bit when inexact). A value
// rounded to odd in float and then to nearest-even in a format with at most 22 bits of precision
// (f16: 11, bf16: 8) equals the value rounded to nearest-even directly (no double rounding).
inline float RoundToOddFloat(double d) {
  if (d != d) return static_cast<float>(d);
  float f = static_cast<float>(d);  // nearest-even
  if (static_cast<double>(f) == d) return f;
  uint32_t bits = std::bit_cast<uint32_t>(f);
  const double af = f < 0 ? -static_cast<double>(f) : static_cast<double>(f);
  const double ad = d < 0 ? -d : d;
  if (af > ad) --bits;  // rounded away from zero (or to infinity): step back toward zero
  return std::bit_cast<float>(bits | 1u);
}

// An integer magnitude rounded to odd at 24 bits, as a float (exactly representable).
inline float RoundToOddFloat(uint64_t m) {
  int width = 0;
  for (uint64_t t = m; t != 0; t >>= 1) ++width;
  if (width <= 24) return static_cast<float>(m);
  const int drop = width - 24;
  uint64_t kept = m >> drop;
  if ((m & ((uint64_t{1} << drop) - 1)) != 0) kept |= 1u;
  return static_cast<float>(kept << drop);  // <= 24 significant bits: exact
}

// A float compute value stored into a half type, from double or integer sources with one rounding.
template <typename H>
inline H StoreHalfFrom(float f) {
  if constexpr (std::is_same_v<H, Float16>) return FloatToHalf(f);
  else return FloatToBFloat16(f);
}

// Floating value -> integer type: truncation toward zero; NaN -> 0; out of range -> saturates to the
// type's min/max (a defined result instead of C++ undefined behaviour).
template <typename To>
inline To FloatToInt(double x) {
  if (x != x) return 0;
  constexpr int kDigits = std::numeric_limits<To>::digits;  // value bits (63 for int64, 64 for uint64)
  const double hi = 2.0 * static_cast<double>(uint64_t{1} << (kDigits - 1));  // max + 1, exact
  const double lo = static_cast<double>(std::numeric_limits<To>::min());      // 0 or -2^k, exact
  if (x >= hi) return std::numeric_limits<To>::max();
  // lo - 1 is exact for types up to 32 bits; for int64 it rounds to lo, and x == lo saturates to
  // lo, which is also its truncation.
  if (x <= lo - 1.0) return std::numeric_limits<To>::min();
  return static_cast<To>(x);
}

// Converts one element between any two numeric/bool types with a defined result for every value:
// float -> int truncates (NaN -> 0, saturating); int -> int wraps modulo 2^bits; anything -> bool
// is `!= 0` (NaN -> true); halves round to nearest even exactly once.
template <typename To, typename From>
inline To ConvertElement(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    const auto c = Load(v);
    return c != 0;
  } else if constexpr (std::is_same_v<From, bool>) {
    return Store<To>(static_cast<ComputeT<To>>(v ? 1 : 0));
  } else if constexpr (kIsFloat<From>) {
    const auto c = Load(v);  // float or double
    if constexpr (kIsInt<To>) {
      return FloatToInt<To>(static_cast<double>(c));
    } else if constexpr (kIsHalf<To>) {
      if constexpr (std::is_same_v<From, double>) return StoreHalfFrom<To>(RoundToOddFloat(c));
      else return StoreHalfFrom<To>(c);
    } else {
      return static_cast<To>(c);  // f32 <-> f64: exact or nearest-even
    }
  } else {  // From is an integer type
    if constexpr (kIsInt<To>) {
      return static_cast<To>(v);  // modulo 2^bits (C++20)
    } else if constexpr (kIsHalf<To>) {
      if constexpr (std::is_signed_v<From>) {
        const uint64_t m = v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        const float f = RoundToOddFloat(m);
        return StoreHalfFrom<To>(v < 0 ? -f : f);
      } else {
        return StoreHalfFrom<To>(RoundToOddFloat(static_cast<uint64_t>(v)));
      }
    } else {
      return static_cast<To>(v);  // int -> f32/f64: nearest-even
    }
  }
}

// ---------------------------------------------------------------- wrap-around integer arithmetic

// Integer arithmetic that wraps modulo 2^bits (no signed-overflow UB, no int promotion overflow).
template <typename T>
using WideUnsigned = std::conditional_t<(sizeof(T) < 4), uint32_t, std::make_unsigned_t<T>>;
template <typename T> inline T WrapAdd(T a, T b) {
  return static_cast<T>(static_cast<WideUnsigned<T>>(a) + static_cast<WideUnsigned<T>>(b));
}
template <typename T> inline T WrapSub(T a, T b) {
  return static_cast<T>(static_cast<WideUnsigned<T>>(a) - static_cast<WideUnsigned<T>>(b));
}
template <typename T> inline T WrapMul(T a, T b) {
  return static_cast<T>(static_cast<WideUnsigned<T>>(a) * static_cast<WideUnsigned<T>>(b));
}
template <typename T> inline T WrapNeg(T a) {
  return static_cast<T>(WideUnsigned<T>{0} - static_cast<WideUnsigned<T>>(a));
}

// a + b, a - b, a * b in a compute type (wrapping for integers, IEEE for floats).
template <typename C> inline C AddOf(C a, C b) { if constexpr (kIsInt<C>) return WrapAdd(a, b); else return a + b; }
template <typename C> inline C SubOf(C a, C b) { if constexpr (kIsInt<C>) return WrapSub(a, b); else return a - b; }
template <typename C> inline C MulOf(C a, C b) { if constexpr (kIsInt<C>) return WrapMul(a, b); else return a * b; }

// ---------------------------------------------------------------- walks

// Element offsets of several operands broadcast to one output shape (NumPy rules, operands
// right-aligned), produced for runs of consecutive output indices. Operands with the output's
// element count are read at the output index, one-element operands at 0, the others through a
// BroadcastCursor. Not a template, so the per-type kernels stay small. Thread-safe (const).
class OffsetWalker {
 public:
  static constexpr int64_t kChunk = 512;  // output indices per Fill
  OffsetWalker(const Shape& out, const std::vector<const Shape*>& ins);
  // off[k * kChunk + j] = offset into operand k of output index begin + j, for j < len <= kChunk.
  void Fill(int64_t begin, int64_t len, int64_t* off) const;

 private:
  enum Kind : uint8_t { kSame, kScalar, kStrided };
  Shape out_;
  std::vector<Kind> kind_;
  std::vector<std::vector<int64_t>> strides_;
  bool need_cursor_ = false;
};

// Calls body(i, off) for every output index i of `out`, where off[k] is the element offset into
// operand k (shape *ins[k]). Tiles of kElementwiseGrain outputs run in parallel.
template <size_t N, typename Body>
void ForEachBroadcast(const KernelContext& ctx, const Shape& out, const std::array<const Shape*, N>& ins,
                      Body&& body) {
  const OffsetWalker walker(out, std::vector<const Shape*>(ins.begin(), ins.end()));
  constexpr int64_t kChunk = OffsetWalker::kChunk;
  ctx.ParallelFor(NumElements(out), kElementwiseGrain, [&](int64_t begin, int64_t end) {
    int64_t off[N * kChunk];
    for (int64_t start = begin; start < end; start += kChunk) {
      const int64_t len = end - start < kChunk ? end - start : kChunk;
      walker.Fill(start, len, off);
      for (int64_t j = 0; j < len; ++j) {
        std::array<int64_t, N> o;
        for (size_t k = 0; k < N; ++k) o[k] = off[static_cast<int64_t>(k) * kChunk + j];
        body(start + j, o);
      }
    }
  });
}

// Output shape of a two-operand op and the shape B is read with. For opset < 7 with broadcast=1 the
// legacy rule applies: B is aligned with A at `axis` (default: suffix) and must broadcast to A's
// shape, which is the output shape. Otherwise NumPy multidirectional broadcasting. (opset < 7 with
// broadcast=0 requires equal shapes; equal shapes broadcast to themselves, so the NumPy rule is
// used there too.)
struct BinaryShapes {
  Shape out;
  Shape a;
  Shape b;
};
Result<BinaryShapes> ResolveBinaryShapes(const KernelContext& ctx, const Shape& a, const Shape& b);

// out = f(x) elementwise, f: ComputeT<In> -> ComputeT<Out>. Allocates output 0 with x's shape.
template <typename In, typename Out, typename F>
Status MapUnary(KernelContext& ctx, const Tensor& x, F&& f) {
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutputUninitialized(0, DTypeOf<Out>::value, x.shape()));
  const In* src = x.data<In>();
  Out* dst = y->data<Out>();
  ctx.ParallelFor(x.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) dst[i] = Store<Out>(f(Load(src[i])));
  });
  return Status::Ok();
}

// out = f(a, b) elementwise over resolved shapes, f: (ComputeT<A>, ComputeT<B>) -> ComputeT<Out>.
// Allocates output 0 with shape s.out; a and b are read as shapes s.a and s.b (same element counts
// as the tensors).
template <typename A, typename B, typename Out, typename F>
Status MapBinaryShaped(KernelContext& ctx, const Tensor& a, const Tensor& b, const BinaryShapes& s, F&& f) {
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutputUninitialized(0, DTypeOf<Out>::value, s.out));
  const A* pa = a.data<A>();
  const B* pb = b.data<B>();
  Out* dst = y->data<Out>();
  ForEachBroadcast<2>(ctx, s.out, {&s.a, &s.b}, [&](int64_t i, const std::array<int64_t, 2>& o) {
    dst[i] = Store<Out>(f(Load(pa[o[0]]), Load(pb[o[1]])));
  });
  return Status::Ok();
}

// out = f(a, b) elementwise with broadcasting (ResolveBinaryShapes). Allocates output 0.
template <typename A, typename B, typename Out, typename F>
Status MapBinary(KernelContext& ctx, const Tensor& a, const Tensor& b, F&& f) {
  IDEM_ASSIGN_OR_RETURN(BinaryShapes s, ResolveBinaryShapes(ctx, a.shape(), b.shape()));
  return MapBinaryShaped<A, B, Out>(ctx, a, b, s, f);
}

// The unary op over the input's dtype, for dtypes in kSet: out (same dtype) = op(x) on compute types.
template <uint32_t kSet, typename Op>
Status SameTypeUnary(KernelContext& ctx, Op&& op) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const std::string what = ctx.node().Describe();
  return VisitDType<kSet>(x->dtype(), what.c_str(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return MapUnary<T, T>(ctx, *x, [&](ComputeT<T> v) { return static_cast<ComputeT<T>>(op(v)); });
  });
}

// Both inputs of a binary op must share one dtype; returns them.
Result<std::array<const Tensor*, 2>> SameTypeInputs(const KernelContext& ctx);

// The binary op over one dtype in kSet: out (same dtype) = op(a, b) on compute types.
template <uint32_t kSet, typename Op>
Status SameTypeBinary(KernelContext& ctx, Op&& op) {
  IDEM_ASSIGN_OR_RETURN(auto in, SameTypeInputs(ctx));
  const std::string what = ctx.node().Describe();
  return VisitDType<kSet>(in[0]->dtype(), what.c_str(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return MapBinary<T, T, T>(ctx, *in[0], *in[1], [&](ComputeT<T> a, ComputeT<T> b) {
      return static_cast<ComputeT<T>>(op(a, b));
    });
  });
}

// The comparison/logical op over one dtype in kSet: bool out = op(a, b) on compute types.
template <uint32_t kSet, typename Op>
Status BoolBinary(KernelContext& ctx, Op&& op) {
  IDEM_ASSIGN_OR_RETURN(auto in, SameTypeInputs(ctx));
  const std::string what = ctx.node().Describe();
  return VisitDType<kSet>(in[0]->dtype(), what.c_str(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return MapBinary<T, T, bool>(ctx, *in[0], *in[1], [&](ComputeT<T> a, ComputeT<T> b) {
      return static_cast<bool>(op(a, b));
    });
  });
}

// ---------------------------------------------------------------- SIMD paths (f32, f16, bf16)
//
// The vectorized paths compute exactly the scalar formulas above (kernels/simd/elementwise.h
// states the per-element contract; tests/unit/simd_elementwise_test.cc checks every ISA against
// Isa::kScalar, which runs the scalar code of the kernels themselves). They are taken when the
// process-wide ISA is not kScalar and the tensor is f32, f16 or bf16.

// The span element type of a dtype, if it has SIMD kernels.
bool SimdElemType(DType dt, simd::ElemType* t);

// Contiguous runs of a two-operand broadcast: calls run(out_begin, a_off, a_step, b_off, b_step,
// len) for consecutive output ranges covering [begin, end), where operand k of output index
// out_begin + j is at k_off + j * k_step (steps 0 or 1). Dimensions of size 1 are dropped and
// dimensions contiguous in both operands merged, so the run is the longest innermost block.
class BinaryRuns {
 public:
  BinaryRuns(const Shape& out, const Shape& a, const Shape& b);
  int64_t inner() const { return inner_; }
  template <typename Run>
  void ForRange(int64_t begin, int64_t end, Run&& run) const {
    int64_t i = begin;
    while (i < end) {
      int64_t row = i / inner_;
      const int64_t col = i % inner_;
      int64_t a_off = col * a_step_, b_off = col * b_step_;
      for (size_t k = 0; k < dims_.size(); ++k) {
        const int64_t idx = row % dims_[k];
        row /= dims_[k];
        a_off += idx * a_str_[k];
        b_off += idx * b_str_[k];
      }
      const int64_t len = inner_ - col < end - i ? inner_ - col : end - i;
      run(i, a_off, a_step_, b_off, b_step_, len);
      i += len;
    }
  }

 private:
  int64_t inner_ = 1;
  int64_t a_step_ = 0, b_step_ = 0;
  std::vector<int64_t> dims_, a_str_, b_str_;  // outer dimensions, innermost first
};

// Runs below this length take the scalar path (the per-run bookkeeping would dominate).
inline constexpr int64_t kMinSimdRun = 8;

// y = op(x) through the SIMD span kernel of the current ISA, allocating output 0 (x's dtype and
// shape). Returns false (and does nothing) when the scalar path must run instead.
Result<bool> TrySimdUnary(KernelContext& ctx, const Tensor& x, simd::UnaryF32Op op,
                          const simd::UnaryF32Params& params = {});

// out = op(a, b) over resolved shapes through the SIMD span kernels, allocating output 0 (a's
// dtype). Returns false (nothing done) when the scalar path must run instead.
Result<bool> TrySimdBinary(KernelContext& ctx, const Tensor& a, const Tensor& b, const BinaryShapes& s,
                           simd::BinaryF32Op op);

// SameTypeUnary / SameTypeBinary with a SIMD path for f32/f16/bf16.
template <uint32_t kSet, typename Op>
Status SameTypeUnarySimd(KernelContext& ctx, simd::UnaryF32Op simd_op, const simd::UnaryF32Params& params,
                         Op&& op) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const bool done, TrySimdUnary(ctx, *x, simd_op, params));
  if (done) return Status::Ok();
  return SameTypeUnary<kSet>(ctx, op);
}

template <uint32_t kSet, typename Op>
Status SameTypeBinarySimd(KernelContext& ctx, simd::BinaryF32Op simd_op, Op&& op) {
  IDEM_ASSIGN_OR_RETURN(auto in, SameTypeInputs(ctx));
  if ((kSet & types::kFloat) != 0 && simd::CurrentIsa() != simd::Isa::kScalar) {
    IDEM_ASSIGN_OR_RETURN(BinaryShapes s, ResolveBinaryShapes(ctx, in[0]->shape(), in[1]->shape()));
    IDEM_ASSIGN_OR_RETURN(const bool done, TrySimdBinary(ctx, *in[0], *in[1], s, simd_op));
    if (done) return Status::Ok();
  }
  return SameTypeBinary<kSet>(ctx, op);
}

// Set by element functions that meet a value with no defined result (e.g. integer division by
// zero); the kernel turns it into an error after the map. Thread-safe.
class ElementFault {
 public:
  void Raise() { raised_.store(true, std::memory_order_relaxed); }
  bool raised() const { return raised_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> raised_{false};
};

}  // namespace idem::kernels::ew
