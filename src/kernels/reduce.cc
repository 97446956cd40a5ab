// Reduce* (ReduceSum, ReduceMean, ... over a set of axes), ArgMax/ArgMin and CumSum: scalar
// reference kernels in the canonical orders described in reduce_internal.h.
//
// Each Reduce* op is a policy (a struct with `Apply<T>(n, at)` computing one output from the n
// reduced elements at(0..n-1)); the axes handling, keepdims, output shape, iteration and
// parallelization are shared (RunReduce).
//
// Semantics chosen where the spec leaves room:
//  - empty reductions (a reduced axis of size 0): Sum/SumSquare/L1/L2 = 0, Prod = 1,
//    LogSum = LogSumExp = -inf, Max = -inf (integers: lowest), Min = +inf (integers: max),
//    Mean = NaN (0/0; integers: 0);
//  - "no reduction" (noop_with_empty_axes = 1 and no axes): every output reduces exactly its
//    own element, so ReduceSum/Mean/Max/Min/Prod are the identity, ReduceSumSquare squares,
//    ReduceL1/L2 take |x|, ReduceLogSum takes log(x);
//  - ReduceLogSumExp is evaluated stably: m + log(CanonicalSum(exp(x_i - m))) with m the max
//    (m itself when m is +-inf or NaN);
//  - integers accumulate in 64-bit wrapping arithmetic (the wrapped result equals the exact
//    result modulo 2^bits); Mean divides the 64-bit sum (truncating); L2/LogSum/LogSumExp of
//    integers are computed in f64 and converted with saturation (NaN -> 0).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/math.h"
#include "kernels/canonical.h"
#include "kernels/kernel.h"
#include "kernels/reduce_internal.h"
#include "kernels/util.h"

namespace idem::kernels {
namespace {

using reduce_internal::ArgBest;
using reduce_internal::AxisRows;
using reduce_internal::ForEachReducedRow;
using reduce_internal::ReduceGeometry;
using reduce_internal::SaturateCast;
using reduce_internal::SequentialMaxMin;

// ---------------------------------------------------------------------------------------------
// Integer accumulation: 64-bit, wrapping (computed in uint64_t, reinterpreted as Wide<T>).
template <typename T>
using Wide = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;

template <typename T>
inline uint64_t U64(T v) { return static_cast<uint64_t>(static_cast<Wide<T>>(v)); }

template <typename T>
inline uint64_t AbsU64(T v) {
  if constexpr (std::is_signed_v<T>) return v < 0 ? uint64_t{0} - U64(v) : U64(v);
  else return U64(v);
}

// Wrapping sum of term(at(i)) (term returns uint64_t).
template <typename T, typename At, typename Term>
inline Wide<T> IntSum(int64_t n, At at, Term term) {
  uint64_t acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += term(at(i));
  return static_cast<Wide<T>>(acc);
}

template <typename T>
inline T Narrow(Wide<T> v) { return static_cast<T>(v); }  // modular for integers

// The reduced elements as compute values.
template <typename T, typename At>
inline auto Loaded(At at) {
  return [at](int64_t i) { return Load<T>(at(i)); };
}

// ---------------------------------------------------------------------------------------------
// Policies. Apply<T>(n, at): at(i) returns the i-th reduced element (type T), i in [0, n).

struct SumOp {
  template <typename T, typename At>
  static T Apply(int64_t n, At at) {
    if constexpr (kIsFloat<T>) return Store<T>(CanonicalSum<ComputeT<T>>(n, Loaded<T>(at)));
    else return Narrow<T>(IntSum<T>(n, at, [](T v) { return U64(v); }));
  }
};

struct SumSquareOp {
  template <typename T, typename At>
  static T Apply(int64_t n, At at) {
    if constexpr (kIsFloat<T>) {
      auto v = Loaded<T>(at);
      return Store<T>(CanonicalDot<ComputeT<T>>(n, v, v));
    } else {
      return Narrow<T>(IntSum<T>(n, at, [](T v) { return U64(v) * U64(v); }));
    }
  }
};

struct L1Op {
  template <typename T, typename At>
  static T Apply(int64_t n, At at) {
    if constexpr (kIsFloat<T>) {
      auto v = Loaded<T>(at);
      return Store<T>(CanonicalSum<ComputeT<T>>(n, [&](int64_t i) { return std::abs(v(i)); }));
    } else {
      return Narrow<T>(IntSum<T>(n, at, [](T v) { return AbsU64(v); }));
    }
  }
};

struct L2Op {
  template <typename T, typename At>
  static T Apply(int64_t n, At at) {
    if constexpr (kIsFloat<T>) {
      auto v = Loaded<T>(at);
      return Store<T>(std::sqrt(CanonicalDot<ComputeT<T>>(n, v, v)));
    } else {
      const Wide<T> s = IntSum<T>(n, at, [](T v) { return U64(v) * U64(v); });
      return SaturateCast<T>(std::sqrt(static_cast<double>(s)));
    }
  }
};

struct LogSumOp {
  template <typename T, typename At>
  static T Apply(int64_t n, At at) {
    if constexpr (kIsFloat<T>) {
      return Store<T>(math::log(CanonicalSum<ComputeT<T>>(n, Loaded<T>(at))));
    } else {
      const Wide<T> s = IntSum<T>(n, at, [](T v) { return U64(v); });
      return SaturateCast<T>(math::log(static_cast<double>(s)));
    }
  }
};

struct LogSumExpOp {
  template <typename C, typename V>
  static C Compute(int64_t n, V v) {
    if (n == 0) return -std::numeric_limits<C>::infinity();
    const C m = SequentialMaxMin<true, C>(n, v);
    if (!std::isfinite(m)) return m;
    return m + math::log(CanonicalSum<C>(n, [&](int64_t i) { return math::exp(v(i) - m); }));
  }
  template <typename T, typename At>
  static T Apply(int64_t n, At at) {
    if constexpr (kIsFloat<T>) {
      return Store<T>(Compute<ComputeT<T>>(n, Loaded<T>(at)));
    } else {
      return SaturateCast<T>(Compute<double>(n, [&](int64_t i) { return static_cast<double>(at(i)); }));
    }
  }
};

struct MeanOp {
  template <typename T, typename At>
  static T Apply(int64_t n, At at) {
    if constexpr (kIsFloat<T>) {
      using C = ComputeT<T>;
      return Store<T>(CanonicalSum<C>(n, Loaded<T>(at)) / static_cast<C>(n));
    } else {
      if (n == 0) return T{0};
      return Narrow<T>(IntSum<T>(n, at, [](T v) { return U64(v); }) / static_cast<Wide<T>>(n));
    }
  }
};

template <bool kMax>
struct MaxMinOp {
  template <typename T, typename At>
  static T Apply(int64_t n, At at) {
    using C = ComputeT<T>;
    if (n == 0) {
      if constexpr (kIsFloat<T>) {
        return Store<T>(kMax ? -std::numeric_limits<C>::infinity() : std::numeric_limits<C>::infinity());
      } else {
        return kMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
      }
    }
    return Store<T>(SequentialMaxMin<kMax, C>(n, Loaded<T>(at)));
  }
};

struct ProdOp {
  template <typename T, typename At>
  static T Apply(int64_t n, At at) {
    if constexpr (kIsFloat<T>) {
      using C = ComputeT<T>;
      C p = 1;
      for (int64_t i = 0; i < n; ++i) p = p * Load<T>(at(i));
      return Store<T>(p);
    } else {
      uint64_t p = 1;
      for (int64_t i = 0; i < n; ++i) p *= U64(at(i));
      return Narrow<T>(static_cast<Wide<T>>(p));
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Shared driver.

// Mask of reduced axes of a Reduce* node. Axes come from input 1 when given (ReduceSum-13+,
// every Reduce* at opset 18) or else from the `axes` attribute. No axes: reduce all, or none
// with noop_with_empty_axes = 1.
Result<std::vector<bool>> ReducedAxesMask(const KernelContext& ctx, int64_t rank) {
  std::vector<int64_t> axes;
  if (ctx.has_input(1)) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* a, ctx.InputTensor(1));
    if (!IsInt(a->dtype()))
      return ctx.Error("input 'axes' must be an integer tensor, got ", DTypeOnnxName(a->dtype()));
    if (a->rank() > 1) return ctx.Error("input 'axes' must be 1-D, got shape ", ShapeToString(a->shape()));
    axes = a->ToInt64Vector();
  } else {
    axes = ctx.Ints("axes");
  }
  const bool noop = ctx.Int("noop_with_empty_axes", 0) != 0;
  std::vector<bool> mask(static_cast<size_t>(rank), axes.empty() && !noop);
  for (int64_t a : axes) {
    IDEM_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, a, rank));
    if (mask[static_cast<size_t>(axis)]) return ctx.Error("axis ", a, " appears more than once in 'axes'");
    mask[static_cast<size_t>(axis)] = true;
  }
  return mask;
}

template <typename Op>
Status RunReduce(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(std::vector<bool> mask, ReducedAxesMask(ctx, x->rank()));
  const ReduceGeometry g(x->shape(), mask, ctx.Int("keepdims", 1) != 0);
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutput(0, x->dtype(), g.out_shape()));
  const std::string what = ctx.node().Describe() + " input 'data'";
  return VisitDType<types::kNumeric>(x->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    ForEachReducedRow(ctx, g, x->data<T>(), y->data<T>(),
                      [](int64_t n, auto at) { return Op::template Apply<T>(n, at); });
    return Status::Ok();
  });
}

template <bool kMax>
Status RunArgBest(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, ctx.Int("axis", 0), x->rank()));
  if (x->dim(axis) == 0) return ctx.Error("cannot take the arg-", kMax ? "max" : "min", " over axis ", axis,
                                          " of size 0 (input shape ", ShapeToString(x->shape()), ")");
  const bool last = ctx.opset() >= 12 && ctx.Int("select_last_index", 0) != 0;
  std::vector<bool> mask(static_cast<size_t>(x->rank()), false);
  mask[static_cast<size_t>(axis)] = true;
  const ReduceGeometry g(x->shape(), mask, ctx.Int("keepdims", 1) != 0);
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutput(0, DType::kI64, g.out_shape()));
  const std::string what = ctx.node().Describe() + " input 'data'";
  return VisitDType<types::kNumeric>(x->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    ForEachReducedRow(ctx, g, x->data<T>(), y->data<int64_t>(),
                      [last](int64_t n, auto at) { return ArgBest<kMax, T>(n, last, at); });
    return Status::Ok();
  });
}

}  // namespace

Status ReduceSum(KernelContext& ctx) { return RunReduce<SumOp>(ctx); }
Status ReduceSumSquare(KernelContext& ctx) { return RunReduce<SumSquareOp>(ctx); }
Status ReduceL1(KernelContext& ctx) { return RunReduce<L1Op>(ctx); }
Status ReduceL2(KernelContext& ctx) { return RunReduce<L2Op>(ctx); }
Status ReduceLogSum(KernelContext& ctx) { return RunReduce<LogSumOp>(ctx); }
Status ReduceLogSumExp(KernelContext& ctx) { return RunReduce<LogSumExpOp>(ctx); }
Status ReduceMean(KernelContext& ctx) { return RunReduce<MeanOp>(ctx); }
Status ReduceMax(KernelContext& ctx) { return RunReduce<MaxMinOp<true>>(ctx); }
Status ReduceMin(KernelContext& ctx) { return RunReduce<MaxMinOp<false>>(ctx); }
Status ReduceProd(KernelContext& ctx) { return RunReduce<ProdOp>(ctx); }

Status ArgMax(KernelContext& ctx) { return RunArgBest<true>(ctx); }
Status ArgMin(KernelContext& ctx) { return RunArgBest<false>(ctx); }

// CumSum-11/14: running sum along `axis` (input 1, a scalar), sequential in the scan direction.
// exclusive: y_i excludes x_i; reverse: the scan runs from the end.
Status CumSum(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* axis_t, ctx.InputTensor(1));
  if (!IsInt(axis_t->dtype()) || axis_t->numel() != 1)
    return ctx.Error("input 'axis' must be an integer scalar, got ", DTypeOnnxName(axis_t->dtype()), " of shape ",
                     ShapeToString(axis_t->shape()));
  IDEM_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, axis_t->IntAt(0), x->rank()));
  const bool exclusive = ctx.Int("exclusive", 0) != 0;
  const bool reverse = ctx.Int("reverse", 0) != 0;
  const AxisRows rows = reduce_internal::MakeAxisRows(x->shape(), axis);
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
  const std::string what = ctx.node().Describe() + " input 'x'";
  return VisitDType<types::kNumeric>(x->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    const T* xd = x->data<T>();
    T* yd = y->data<T>();
    ctx.ParallelFor(rows.rows(), rows.Grain(), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t start = rows.Start(r);
        auto pos = [&](int64_t k) { return start + (reverse ? rows.n - 1 - k : k) * rows.inner; };
        if constexpr (kIsFloat<T>) {
          ComputeT<T> acc = 0;
          for (int64_t k = 0; k < rows.n; ++k) {
            const int64_t p = pos(k);
            if (exclusive) {
              yd[p] = Store<T>(acc);
              acc = acc + Load<T>(xd[p]);
            } else {
              acc = acc + Load<T>(xd[p]);
              yd[p] = Store<T>(acc);
            }
          }
        } else {
          uint64_t acc = 0;
          for (int64_t k = 0; k < rows.n; ++k) {
            const int64_t p = pos(k);
            if (exclusive) {
              yd[p] = Narrow<T>(static_cast<Wide<T>>(acc));
              acc += U64(xd[p]);
            } else {
              acc += U64(xd[p]);
              yd[p] = Narrow<T>(static_cast<Wide<T>>(acc));
            }
          }
        }
      }
    });
    return Status::Ok();
  });
}

}  // namespace idem::kernels
