// Shared machinery of the reduce family (reduce*.cc, norm*.cc, loss*.cc): reduction geometry
// (which input elements feed which output), the canonical row primitives (arg-best, softmax rows,
// mean/variance) and parameter loading. Internal to the family; not a public kernel interface.
//
// Canonical orders used by the family (DESIGN.md R1), all functions of the reduced extent only:
//  - a reduced "row" is the set of input elements that feed one output, enumerated in row-major
//    order of the reduced axes (axis order, not memory order); element i of that enumeration is
//    term i of CanonicalSum / CanonicalDot (canonical.h);
//  - sums: CanonicalSum; sums of squares (ReduceSumSquare, ReduceL2, variance, LRN):
//    CanonicalDot(v, v), i.e. the FMA form lane = fma(v, v, lane);
//  - products, max, min, arg-max/min, cumulative sums: sequential in enumeration order;
//    max/min propagate NaN (the first NaN met is the result);
//  - mean = sum / n (one IEEE division); variance is two-pass: mean first, then
//    CanonicalDot(d, d) / n with d = x - mean;
//  - softmax: m = max (sequential), e_i = exp(x_i - m), s = CanonicalSum(e), y_i = e_i / s (a
//    division, not a multiplication by 1/s); log-softmax: y_i = (x_i - m) - log(s).
// f16/bf16 compute in f32, f64 in f64, integers in 64-bit wrapping arithmetic.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/math.h"
#include "core/status.h"
#include "core/tensor.h"
#include "kernels/canonical.h"
#include "kernels/kernel.h"
#include "kernels/util.h"

namespace idem::kernels::reduce_internal {

// ---------------------------------------------------------------------------------------------
// Geometry: for every output element o (row-major over the kept axes), the input offset of its
// first element (Base) and the relative offset of reduced element i (Offset).
class ReduceGeometry {
 public:
  // `reduced[d]` tells whether axis d is reduced. With keepdims the reduced axes stay as size 1.
  ReduceGeometry(const Shape& in, const std::vector<bool>& reduced, bool keepdims) {
    const std::vector<int64_t> strides = StridesOf(in);
    for (size_t d = 0; d < in.size(); ++d) {
      if (!reduced[d]) out_shape_.push_back(in[d]);
      else if (keepdims) out_shape_.push_back(1);
    }
    // Merge runs of adjacent axes of the same kind (dims of size 1 are dropped): fewer, larger
    // axes make the index arithmetic cheap. Merging does not change the enumeration order.
    std::vector<int64_t> kd, ks, rd, rs;
    int last_kind = -1;  // 0 kept, 1 reduced
    for (size_t d = 0; d < in.size(); ++d) {
      if (in[d] == 1) continue;
      const int kind = reduced[d] ? 1 : 0;
      std::vector<int64_t>& dims = kind ? rd : kd;
      std::vector<int64_t>& strd = kind ? rs : ks;
      if (kind == last_kind) {
        dims.back() *= in[d];
        strd.back() = strides[d];
      } else {
        dims.push_back(in[d]);
        strd.push_back(strides[d]);
      }
      last_kind = kind;
    }
    kept_dims_ = kd;
    kept_strides_ = ks;
    outputs_ = 1;
    for (int64_t v : kd) outputs_ *= v;
    extent_ = 1;
    for (int64_t v : rd) extent_ *= v;
    if (rd.empty()) {
      inner_dim_ = 1;
      inner_stride_ = 0;
      outer_offsets_ = {0};
    } else {
      inner_dim_ = rd.back();
      inner_stride_ = rs.back();
      // Offsets of all but the innermost merged reduced axis, row-major.
      int64_t count = 1;
      for (size_t k = 0; k + 1 < rd.size(); ++k) count *= rd[k];
      outer_offsets_.assign(static_cast<size_t>(inner_dim_ == 0 ? 0 : count), 0);
      for (int64_t j = 0; j < static_cast<int64_t>(outer_offsets_.size()); ++j) {
        int64_t rem = j, off = 0;
        for (size_t k = rd.size() - 1; k-- > 0;) {
          off += (rem % rd[k]) * rs[k];
          rem /= rd[k];
        }
        outer_offsets_[static_cast<size_t>(j)] = off;
      }
    }
    single_run_ = outer_offsets_.size() <= 1;
  }

  const Shape& out_shape() const { return out_shape_; }
  int64_t outputs() const { return outputs_; }  // number of output elements
  int64_t extent() const { return extent_; }    // elements reduced into each output

  // Input offset of the first reduced element of output o.
  int64_t Base(int64_t o) const {
    int64_t off = 0;
    for (size_t k = kept_dims_.size(); k-- > 0;) {
      off += (o % kept_dims_[k]) * kept_strides_[k];
      o /= kept_dims_[k];
    }
    return off;
  }
  // Offset (relative to Base) of reduced element i, i in [0, extent).
  int64_t Offset(int64_t i) const {
    if (single_run_) return i * inner_stride_;
    return outer_offsets_[static_cast<size_t>(i / inner_dim_)] + (i % inner_dim_) * inner_stride_;
  }
  // Memory layout, for SIMD drivers. The innermost (merged) reduced axis: its length and stride;
  // the offsets of its runs (empty when the extent is 0; one run {0} when contiguous).
  int64_t inner_dim() const { return inner_dim_; }
  int64_t inner_stride() const { return inner_stride_; }
  const std::vector<int64_t>& run_offsets() const { return outer_offsets_; }
  // The innermost kept (merged) axis: length and stride (1 and 0 when nothing is kept).
  int64_t inner_kept_dim() const { return kept_dims_.empty() ? 1 : kept_dims_.back(); }
  int64_t inner_kept_stride() const { return kept_strides_.empty() ? 0 : kept_strides_.back(); }

  // Outputs per parallel tile: derived from the extent only.
  int64_t Grain() const { return std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, extent_)); }

 private:
  Shape out_shape_;
  std::vector<int64_t> kept_dims_, kept_strides_;
  int64_t outputs_ = 0, extent_ = 0;
  int64_t inner_dim_ = 1, inner_stride_ = 0;
  std::vector<int64_t> outer_offsets_;
  bool single_run_ = true;
};

// Runs y[o] = row(extent, at) for every output o, where at(i) returns the i-th reduced input
// element (raw type TIn). Parallel over outputs.
template <typename TIn, typename TOut, typename Row>
void ForEachReducedRow(const KernelContext& ctx, const ReduceGeometry& g, const TIn* x, TOut* y, Row row) {
  ctx.ParallelFor(g.outputs(), g.Grain(), [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      const TIn* base = x + g.Base(o);
      y[o] = row(g.extent(), [&](int64_t i) -> const TIn& { return base[g.Offset(i)]; });
    }
  });
}

// Rows along one axis: `outer` x `n` x `inner`, element i of row r = (o, j) at
// o * n * inner + i * inner + j. Used by softmax, hardmax, top-k, cumsum, losses.
struct AxisRows {
  int64_t outer = 1, n = 1, inner = 1;
  int64_t rows() const { return outer * inner; }
  int64_t Start(int64_t r) const { return (r / inner) * n * inner + r % inner; }
  int64_t Grain() const { return std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, n)); }
};
inline AxisRows MakeAxisRows(const Shape& s, int64_t axis) {
  AxisRows r;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < axis) r.outer *= s[static_cast<size_t>(d)];
    else if (d == axis) r.n = s[static_cast<size_t>(d)];
    else r.inner *= s[static_cast<size_t>(d)];
  }
  return r;
}
// Opset < 13 Softmax/LogSoftmax/Hardmax: the input is coerced to 2-D [prod(s[:axis]), prod(s[axis:])].
inline AxisRows MakeCoerced2DRows(const Shape& s, int64_t axis) {
  AxisRows r;
  r.n = 1;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < axis) r.outer *= s[static_cast<size_t>(d)];
    else r.n *= s[static_cast<size_t>(d)];
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Scalar helpers.

template <typename C>
inline bool IsNan(C v) {
  if constexpr (std::is_floating_point_v<C>) return std::isnan(v);
  else return false;
}

// double -> integer type with defined results for values out of range (NaN -> 0, saturating).
template <typename I>
inline I SaturateCast(double v) {
  if (std::isnan(v)) return I{0};
  if (v <= static_cast<double>(std::numeric_limits<I>::lowest())) return std::numeric_limits<I>::lowest();
  if (v >= static_cast<double>(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
  return static_cast<I>(v);
}

// Index of the maximum (kMax) or minimum of at(0..n-1), compared as compute values. Ties: the
// first index, or the last with `last`. NaN counts as beyond every number (the first NaN, or the
// last NaN with `last`, wins), as numpy.argmax/argmin do. n must be > 0.
template <bool kMax, typename T, typename At>
inline int64_t ArgBest(int64_t n, bool last, At at) {
  using C = ComputeT<T>;
  C best = Load<T>(at(0));
  int64_t best_i = 0;
  for (int64_t i = 1; i < n; ++i) {
    const C v = Load<T>(at(i));
    bool take;
    if (last) take = IsNan(v) || (kMax ? v >= best : v <= best);
    else take = (IsNan(v) && !IsNan(best)) || (kMax ? v > best : v < best);
    if (take) {
      best = v;
      best_i = i;
    }
  }
  return best_i;
}

// Sequential max (kMax) or min of at(0..n-1) as compute values; the first NaN is the result.
// n must be > 0.
template <bool kMax, typename C, typename At>
inline C SequentialMaxMin(int64_t n, At at) {
  C m = at(0);
  if (IsNan(m)) return m;
  for (int64_t i = 1; i < n; ++i) {
    const C v = at(i);
    if (IsNan(v)) return v;
    if (kMax ? v > m : v < m) m = v;
  }
  return m;
}

// Mean and variance (two-pass, see the header comment) of at(0..n-1) (compute values).
template <typename C, typename At>
inline void MeanVariance(int64_t n, At at, C* mean, C* var) {
  const C cn = static_cast<C>(n);
  const C mu = CanonicalSum<C>(n, at) / cn;
  auto dev = [&](int64_t i) { return at(i) - mu; };
  *mean = mu;
  *var = CanonicalDot<C>(n, dev, dev) / cn;
}

// Softmax or log-softmax of one row: at(i) gives compute values, put(i, v) receives results.
// `scratch` holds n compute values (softmax only).
template <typename C, typename At, typename Put>
inline void SoftmaxRow(int64_t n, bool log, At at, Put put, C* scratch) {
  if (n == 0) return;
  const C m = SequentialMaxMin<true, C>(n, at);
  if (log) {
    const C s = CanonicalSum<C>(n, [&](int64_t i) { return math::exp(at(i) - m); });
    const C log_s = math::log(s);
    for (int64_t i = 0; i < n; ++i) put(i, (at(i) - m) - log_s);
  } else {
    for (int64_t i = 0; i < n; ++i) scratch[i] = math::exp(at(i) - m);
    const C s = CanonicalSum<C>(n, [&](int64_t i) { return scratch[i]; });
    for (int64_t i = 0; i < n; ++i) put(i, scratch[i] / s);
  }
}

// ---------------------------------------------------------------------------------------------
// f32 staging for the SIMD paths: f16/bf16 compute in f32 (exact widening), so a SIMD kernel
// runs on an f32 copy and rounds once on store, exactly like the scalar Load/Store pair.

// x as f32: `x` itself for float, else a converted copy kept in `buffer`. Parallel.
template <typename T>
inline const float* StageF32(const KernelContext& ctx, const T* x, int64_t n, std::vector<float>& buffer) {
  if constexpr (std::is_same_v<T, float>) {
    return x;
  } else {
    buffer.resize(static_cast<size_t>(n));
    float* b = buffer.data();
    ctx.ParallelFor(n, kElementwiseGrain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) b[i] = Load<T>(x[i]);
    });
    return b;
  }
}
// Where the f32 results for y go: y itself for float, else `buffer` (n floats).
template <typename T>
inline float* StageF32Out(T* y, int64_t n, std::vector<float>& buffer) {
  if constexpr (std::is_same_v<T, float>) {
    return y;
  } else {
    buffer.resize(static_cast<size_t>(n));
    return buffer.data();
  }
}
// Rounds the staged f32 results into y (no-op for float). Parallel.
template <typename T>
inline void UnstageF32(const KernelContext& ctx, const float* f, int64_t n, T* y) {
  if constexpr (!std::is_same_v<T, float>) {
    ctx.ParallelFor(n, kElementwiseGrain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) y[i] = Store<T>(f[i]);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Parameters.

// All elements of a floating-point tensor (any float dtype) converted to compute type C.
template <typename C>
inline Result<std::vector<C>> LoadFloatVector(const KernelContext& ctx, const Tensor& t, const char* what) {
  std::vector<C> v(static_cast<size_t>(t.numel()));
  Status st = VisitDType<types::kFloat>(t.dtype(), what, [&](auto tag) -> Status {
    using P = typename decltype(tag)::type;
    const P* p = t.data<P>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<C>(Load<P>(p[i]));
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext(ctx.node().Describe());
  return v;
}

// Offsets into a parameter of shape `param` unidirectionally broadcast to `target`, for every
// element of `target` in row-major order. Error if `param` does not broadcast to `target`.
inline Result<std::vector<int64_t>> BroadcastOffsets(const KernelContext& ctx, const Shape& param,
                                                     const Shape& target, const char* what) {
  bool ok = param.size() <= target.size();
  for (size_t i = 0; ok && i < param.size(); ++i) {
    const int64_t p = param[param.size() - 1 - i], t = target[target.size() - 1 - i];
    ok = p == 1 || p == t;
  }
  if (!ok)
    return ctx.Error(what, " has shape ", ShapeToString(param), " which does not broadcast to ",
                     ShapeToString(target));
  const int64_t n = NumElements(target);
  std::vector<int64_t> off(static_cast<size_t>(n));
  BroadcastCursor c(target, {BroadcastStrides(param, target)});
  for (int64_t i = 0; i < n; ++i, c.Next()) off[static_cast<size_t>(i)] = c.offset(0);
  return off;
}

}  // namespace idem::kernels::reduce_internal
