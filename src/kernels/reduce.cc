// Reduce* (ReduceSum, ReduceMean, ... over a set of axes), ArgMax/ArgMin and CumSum: scalar
// reference kernels in the canonical orders described in reduce_internal.h.
//
// Each Reduce* op is a policy (a struct with `Apply<T>(n, at)` computing one output from the n
// reduced elements at(0..n-1)); the axes handling, keepdims, output shape, iteration and
// parallelization are shared (RunReduce).
//
// SIMD (f32, and f16/bf16 staged through f32): RunReduce's scalar path is the reference
// (Isa::kScalar). With a SIMD ISA, a float reduction whose policy names a SIMD form runs either
// along contiguous rows (the innermost axis is reduced: row primitives of simd/reduce_simd.h, a
// row made of several runs is gathered into a scratch row first) or across outputs (the innermost
// axis is kept: "cols" primitives, one SIMD lane per output). Both give the scalar bits.
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
#include <algorithm>
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
#include "kernels/simd/isa.h"
#include "kernels/simd/reduce_simd.h"
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

// The SIMD form of a policy: which primitive computes its accumulated value (then Finish).
enum class SimdForm { kNone, kSum, kSumAbs, kSumSquare, kMax, kMin, kProd, kLogSumExp };

// ---------------------------------------------------------------------------------------------
// Policies. Apply<T>(n, at): at(i) returns the i-th reduced element (type T), i in [0, n).

struct SumOp {
  static constexpr SimdForm kSimd = SimdForm::kSum;
  static float Finish(float s, int64_t) { return s; }
  template <typename T, typename At>
  static T Apply(int64_t n, At at) {
    if constexpr (kIsFloat<T>) return Store<T>(CanonicalSum<ComputeT<T>>(n, Loaded<T>(at)));
    else return Narrow<T>(IntSum<T>(n, at, [](T v) { return U64(v); }));
  }
};

struct SumSquareOp {
  static constexpr SimdForm kSimd = SimdForm::kSumSquare;
  static float Finish(float s, int64_t) { return s; }
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
  static constexpr SimdForm kSimd = SimdForm::kSumAbs;
  static float Finish(float s, int64_t) { return s; }
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
  static constexpr SimdForm kSimd = SimdForm::kSumSquare;
  static float Finish(float s, int64_t) { return std::sqrt(s); }
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
  static constexpr SimdForm kSimd = SimdForm::kSum;
  static float Finish(float s, int64_t) { return math::log(s); }
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
  static constexpr SimdForm kSimd = SimdForm::kLogSumExp;
  static float Finish(float s, int64_t) { return s; }
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
  static constexpr SimdForm kSimd = SimdForm::kSum;
  static float Finish(float s, int64_t n) { return s / static_cast<float>(n); }
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
  static constexpr SimdForm kSimd = kMax ? SimdForm::kMax : SimdForm::kMin;
  static float Finish(float s, int64_t) { return s; }
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
  static constexpr SimdForm kSimd = SimdForm::kProd;
  static float Finish(float s, int64_t) { return s; }
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

// ---------------------------------------------------------------------------------------------
// SIMD driver (see the file comment). xf/yf: the f32 input and outputs.

// The accumulated value of one contiguous f32 row (n >= 1).
float SimdRow(const simd::ReduceKernels& k, SimdForm form, const float* x, int64_t n) {
  switch (form) {
    case SimdForm::kSum:
      return k.sum(x, n);
    case SimdForm::kSumAbs:
      return k.sum_abs(x, n);
    case SimdForm::kSumSquare:
      return k.sum_square(x, n);
    case SimdForm::kMax:
      return k.max(x, n);
    case SimdForm::kMin:
      return k.min(x, n);
    case SimdForm::kLogSumExp: {  // LogSumExpOp::Compute
      const float m = k.max(x, n);
      if (!std::isfinite(m)) return m;
      return m + math::log(k.exp_sum(x, n, m, nullptr));
    }
    case SimdForm::kProd:
    case SimdForm::kNone:
      break;
  }
  float p = 1;  // ProdOp's sequential product
  for (int64_t i = 0; i < n; ++i) p = p * x[i];
  return p;
}

simd::ColsOp ColsOpOf(SimdForm form) {
  switch (form) {
    case SimdForm::kSum:
      return simd::ColsOp::kSum;
    case SimdForm::kSumAbs:
      return simd::ColsOp::kSumAbs;
    case SimdForm::kSumSquare:
      return simd::ColsOp::kSumSquare;
    case SimdForm::kMax:
      return simd::ColsOp::kMax;
    case SimdForm::kMin:
      return simd::ColsOp::kMin;
    case SimdForm::kProd:
    case SimdForm::kLogSumExp:
    case SimdForm::kNone:
      break;
  }
  return simd::ColsOp::kProd;
}

// Columns per parallel task of the across-outputs form (a multiple of every vector width).
constexpr int64_t kColsBlock = 64;

template <typename Op>
void ReduceF32Simd(const KernelContext& ctx, const simd::ReduceKernels& k, const ReduceGeometry& g, const float* xf,
                   float* yf) {
  const int64_t n = g.extent();
  if (g.inner_stride() == 1) {
    // Along rows: the innermost axis is reduced.
    const std::vector<int64_t>& runs = g.run_offsets();
    const int64_t run = g.inner_dim();
    ctx.ParallelFor(g.outputs(), g.Grain(), [&](int64_t begin, int64_t end) {
      std::vector<float> row(runs.size() > 1 ? static_cast<size_t>(n) : 0);
      for (int64_t o = begin; o < end; ++o) {
        const float* base = xf + g.Base(o);
        const float* r = base;
        if (runs.size() > 1) {
          for (size_t j = 0; j < runs.size(); ++j)
            std::copy(base + runs[j], base + runs[j] + run, row.begin() + static_cast<int64_t>(j) * run);
          r = row.data();
        }
        yf[o] = Op::Finish(SimdRow(k, Op::kSimd, r, n), n);
      }
    });
    return;
  }
  // Across outputs: the innermost axis is kept (unit stride between neighbouring outputs).
  std::vector<int64_t> off(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) off[static_cast<size_t>(i)] = g.Offset(i);
  const int64_t width = g.inner_kept_dim();
  const int64_t blocks = (width + kColsBlock - 1) / kColsBlock;
  const int64_t tasks = g.outputs() / width * blocks;
  const simd::ColsOp op = ColsOpOf(Op::kSimd);
  ctx.ParallelFor(tasks, std::max<int64_t>(1, kElementwiseGrain / (kColsBlock * n)), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = (t / blocks) * width + (t % blocks) * kColsBlock;
      const int64_t count = std::min(kColsBlock, width - (t % blocks) * kColsBlock);
      float* yo = yf + o;
      if constexpr (Op::kSimd == SimdForm::kLogSumExp) {  // one reduced run: uniform stride
        k.softmax_cols(simd::SoftmaxKind::kLogSumExp, xf + g.Base(o), n, g.inner_stride(), count, yo);
        continue;
      }
      k.cols(op, xf + g.Base(o), off.data(), n, count, yo);
      for (int64_t j = 0; j < count; ++j) yo[j] = Op::Finish(yo[j], n);
    }
  });
}

// Runs the SIMD form when it applies; false when the scalar path must run.
template <typename Op, typename T>
bool TryReduceSimd(const KernelContext& ctx, const ReduceGeometry& g, const T* x, int64_t numel, T* y) {
  if constexpr (!std::is_same_v<ComputeT<T>, float>) {
    return false;
  } else {
    if (Op::kSimd == SimdForm::kNone || g.extent() == 0 || g.outputs() == 0) return false;
    if (g.inner_stride() != 1 && g.inner_kept_stride() != 1) return false;
    if (Op::kSimd == SimdForm::kLogSumExp && g.inner_stride() != 1 && g.run_offsets().size() != 1) return false;
    const simd::ReduceKernels* k = simd::ReduceKernelsFor(simd::CurrentIsa());
    if (k == nullptr) return false;
    std::vector<float> xbuf, ybuf;
    const float* xf = reduce_internal::StageF32(ctx, x, numel, xbuf);
    float* yf = reduce_internal::StageF32Out(y, g.outputs(), ybuf);
    ReduceF32Simd<Op>(ctx, *k, g, xf, yf);
    reduce_internal::UnstageF32(ctx, yf, g.outputs(), y);
    return true;
  }
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
    if (TryReduceSimd<Op>(ctx, g, x->data<T>(), x->numel(), y->data<T>())) return Status::Ok();
    ForEachReducedRow(ctx, g, x->data<T>(), y->data<T>(),
                      [](int64_t n, auto at) { return Op::template Apply<T>(n, at); });
    return Status::Ok();
  });
}

// ArgMax/ArgMin with SIMD: the extreme value m of every output with the SIMD max/min (which
// returns the first NaN when there is one), then the first (or, with `last`, the last) index
// holding a NaN when m is NaN, else holding a value == m — exactly ArgBest's choice. False when
// the scalar path must run.
template <bool kMax, typename T>
bool TryArgBestSimd(const KernelContext& ctx, const ReduceGeometry& g, const T* x, int64_t numel, bool last,
                    int64_t* y) {
  if constexpr (!std::is_same_v<ComputeT<T>, float>) {
    return false;
  } else {
    if (g.extent() == 0 || g.outputs() == 0) return false;
    if (g.inner_stride() != 1 && g.inner_kept_stride() != 1) return false;
    const simd::ReduceKernels* k = simd::ReduceKernelsFor(simd::CurrentIsa());
    if (k == nullptr) return false;
    std::vector<float> xbuf, best(static_cast<size_t>(g.outputs()));
    const float* xf = reduce_internal::StageF32(ctx, x, numel, xbuf);
    ReduceF32Simd<MaxMinOp<kMax>>(ctx, *k, g, xf, best.data());
    const int64_t n = g.extent();
    ctx.ParallelFor(g.outputs(), g.Grain(), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const float* base = xf + g.Base(o);
        const float m = best[static_cast<size_t>(o)];
        const bool nan = std::isnan(m);
        auto hit = [&](int64_t i) {
          const float v = base[g.Offset(i)];
          return nan ? std::isnan(v) : v == m;
        };
        int64_t i = 0;
        if (last) {
          for (i = n - 1; i > 0 && !hit(i); --i) {
          }
        } else {
          for (i = 0; i < n - 1 && !hit(i); ++i) {
          }
        }
        y[o] = i;
      }
    });
    return true;
  }
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
    if (TryArgBestSimd<kMax>(ctx, g, x->data<T>(), x->numel(), last, y->data<int64_t>())) return Status::Ok();
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
