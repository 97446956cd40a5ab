// Per-target f32 kernels of the reduce family (Highway). Included once per target by
// reduce_simd.cc through foreach_target.h; each function reproduces the scalar canonical order
// that reduce_simd.h names for it.

#if defined(IDEM_KERNELS_SIMD_REDUCE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef IDEM_KERNELS_SIMD_REDUCE_INL_H_
#undef IDEM_KERNELS_SIMD_REDUCE_INL_H_
#else
#define IDEM_KERNELS_SIMD_REDUCE_INL_H_
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <hwy/highway.h>

#include "kernels/canonical.h"
#include "kernels/simd/math-inl.h"
#include "kernels/simd/reduce_simd.h"

HWY_BEFORE_NAMESPACE();
namespace idem::simd {
namespace HWY_NAMESPACE {
#if IDEM_SIMD_TARGET

namespace hn = hwy::HWY_NAMESPACE;

namespace reduce_detail {

using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;
using M = hn::Mask<D>;
constexpr int kW = static_cast<int>(HWY_LANES(float));  // 16 (AVX-512) or 8 (AVX2)
constexpr int kNV = kReduceLanes / kW;                  // vectors per 16 virtual lanes
static_assert(kNV * kW == kReduceLanes, "16 virtual lanes must be a whole number of vectors");

// The fixed tree over the 16 virtual lanes held in kNV vectors.
HWY_INLINE float LaneTree(const V* acc) {
  const D d;
  HWY_ALIGN float lane[kReduceLanes];
  for (int v = 0; v < kNV; ++v) hn::Store(acc[v], d, lane + v * kW);
  for (int w = kReduceLanes / 2; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) lane[l] = lane[l] + lane[l + w];
  return lane[0];
}

// The fixed tree over 16 vectors (one virtual lane each; every SIMD lane is its own output).
HWY_INLINE V VecTree(V* acc) {
  for (int w = kReduceLanes / 2; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) acc[l] = hn::Add(acc[l], acc[l + w]);
  return acc[0];
}

// CanonicalSum-shaped accumulation over x[0..n): step(acc, x) is the per-term update. (The
// accumulators are named variables, not an array: GCC 12's SRA pass crashes on the array form.)
template <class Step>
HWY_INLINE float CanonicalRow(const float* HWY_RESTRICT x, int64_t n, Step step) {
  const D d;
  V acc0 = hn::Zero(d), acc1 = hn::Zero(d);
  int64_t i = 0;
  for (; i + kReduceLanes <= n; i += kReduceLanes) {
    acc0 = step(acc0, hn::LoadU(d, x + i));
    if constexpr (kNV == 2) acc1 = step(acc1, hn::LoadU(d, x + i + kW));
  }
  const int64_t rem = n - i;
  if (rem > 0) {
    const M m0 = hn::FirstN(d, static_cast<size_t>(std::min<int64_t>(kW, rem)));
    acc0 = hn::IfThenElse(m0, step(acc0, hn::MaskedLoad(m0, d, x + i)), acc0);  // lanes >= rem unchanged
    if (kNV == 2 && rem > kW) {
      const M m1 = hn::FirstN(d, static_cast<size_t>(rem - kW));
      acc1 = hn::IfThenElse(m1, step(acc1, hn::MaskedLoad(m1, d, x + i + kW)), acc1);
    }
  }
  const V acc[2] = {acc0, acc1};
  return LaneTree(acc);
}

float SumRow(const float* x, int64_t n) {
  return CanonicalRow(x, n, [](V a, V v) { return hn::Add(a, v); });
}
float SumAbsRow(const float* x, int64_t n) {
  return CanonicalRow(x, n, [](V a, V v) { return hn::Add(a, hn::Abs(v)); });
}
float SumSquareRow(const float* x, int64_t n) {
  return CanonicalRow(x, n, [](V a, V v) { return hn::MulAdd(v, v, a); });
}
float SumSquareDevRow(const float* x, int64_t n, float mean) {
  const V mv = hn::Set(D(), mean);
  return CanonicalRow(x, n, [mv](V a, V v) {
    const V dv = hn::Sub(v, mv);
    return hn::MulAdd(dv, dv, a);
  });
}

// The scalar sequence of SequentialMaxMin (reduce_internal.h).
template <bool kMax>
float SequentialRow(const float* x, int64_t n) {
  float m = x[0];
  if (std::isnan(m)) return m;
  for (int64_t i = 1; i < n; ++i) {
    const float v = x[i];
    if (std::isnan(v)) return v;
    if (kMax ? v > m : v < m) m = v;
  }
  return m;
}

// Lane-wise max/min, confirmed: without NaN, the sequential result is the first element equal
// to the extreme value; equal non-zero floats have equal bits, so only a zero extreme (whose sign
// is the first zero's) or a NaN needs the scalar sequence.
template <bool kMax>
float MaxMinRow(const float* HWY_RESTRICT x, int64_t n) {
  const D d;
  const V first = hn::Set(d, x[0]);
  V m0 = first, m1 = first;
  M nan = hn::IsNaN(first);
  auto best = [](V a, V b) { return kMax ? hn::Max(a, b) : hn::Min(a, b); };
  int64_t i = 0;
  for (; i + 2 * kW <= n; i += 2 * kW) {
    const V a = hn::LoadU(d, x + i), b = hn::LoadU(d, x + i + kW);
    nan = hn::Or(nan, hn::Or(hn::IsNaN(a), hn::IsNaN(b)));
    m0 = best(m0, a);
    m1 = best(m1, b);
  }
  for (; i < n; i += kW) {
    const M m = hn::FirstN(d, static_cast<size_t>(std::min<int64_t>(kW, n - i)));
    const V a = hn::IfThenElse(m, hn::MaskedLoad(m, d, x + i), first);
    nan = hn::Or(nan, hn::IsNaN(a));
    m0 = best(m0, a);
  }
  if (!hn::AllFalse(d, nan)) return SequentialRow<kMax>(x, n);
  HWY_ALIGN float lane[kW];
  hn::Store(best(m0, m1), d, lane);
  float r = lane[0];
  for (int l = 1; l < kW; ++l) r = kMax ? std::max(r, lane[l]) : std::min(r, lane[l]);
  if (r == 0.0f) return SequentialRow<kMax>(x, n);
  return r;
}
float MaxRow(const float* x, int64_t n) { return MaxMinRow<true>(x, n); }
float MinRow(const float* x, int64_t n) { return MaxMinRow<false>(x, n); }

// Elementwise row loop with a masked tail: f(x vector, index) -> y vector.
template <class F>
HWY_INLINE void MapRow(const float* HWY_RESTRICT x, int64_t n, float* y, F f) {
  const D d;
  int64_t i = 0;
  for (; i + kW <= n; i += kW) hn::StoreU(f(hn::LoadU(d, x + i), i, hn::FirstN(d, kW)), d, y + i);
  if (i < n) {
    const M m = hn::FirstN(d, static_cast<size_t>(n - i));
    hn::BlendedStore(f(hn::MaskedLoad(m, d, x + i), i, m), m, d, y + i);
  }
}

void NormalizeAffine(const float* x, int64_t n, float mean, float inv_std, const float* scale, const float* bias,
                     float* y) {
  const D d;
  const V mv = hn::Set(d, mean), iv = hn::Set(d, inv_std);
  if (bias) {
    MapRow(x, n, y, [&](V v, int64_t i, M m) {
      const V normalized = hn::Mul(hn::Sub(v, mv), iv);
      return hn::MulAdd(normalized, hn::MaskedLoad(m, d, scale + i), hn::MaskedLoad(m, d, bias + i));
    });
  } else {
    MapRow(x, n, y, [&](V v, int64_t i, M m) {
      return hn::Mul(hn::Mul(hn::Sub(v, mv), iv), hn::MaskedLoad(m, d, scale + i));
    });
  }
}

void NormalizeAffineUniform(const float* x, int64_t n, float mean, float inv_std, float scale, float bias, float* y) {
  const D d;
  const V mv = hn::Set(d, mean), iv = hn::Set(d, inv_std), sv = hn::Set(d, scale), bv = hn::Set(d, bias);
  MapRow(x, n, y, [&](V v, int64_t, M) { return hn::MulAdd(hn::Mul(hn::Sub(v, mv), iv), sv, bv); });
}

void NormalizeDivide(const float* x, int64_t n, float mean, float denom, float* y) {
  const D d;
  const V mv = hn::Set(d, mean), dv = hn::Set(d, denom);
  MapRow(x, n, y, [&](V v, int64_t, M) { return hn::Div(hn::Sub(v, mv), dv); });
}

// Canonical-sum columns: 16 accumulator vectors, one per virtual lane.
template <class Term>
HWY_INLINE V ColsCanonical(const float* HWY_RESTRICT xb, const int64_t* off, int64_t n, M m, Term term) {
  const D d;
  V acc[kReduceLanes];
  for (int l = 0; l < kReduceLanes; ++l) acc[l] = hn::Zero(d);
  int64_t i = 0;
  for (; i + kReduceLanes <= n; i += kReduceLanes)
    for (int l = 0; l < kReduceLanes; ++l) acc[l] = term(acc[l], hn::MaskedLoad(m, d, xb + off[i + l]));
  for (int l = 0; i + l < n; ++l) acc[l] = term(acc[l], hn::MaskedLoad(m, d, xb + off[i + l]));
  return VecTree(acc);
}

template <bool kMax>
HWY_INLINE V ColsSequential(const float* HWY_RESTRICT xb, const int64_t* off, int64_t n, M m) {
  const D d;
  V best = hn::MaskedLoad(m, d, xb + off[0]);
  for (int64_t i = 1; i < n; ++i) {
    const V v = hn::MaskedLoad(m, d, xb + off[i]);
    const M better = kMax ? hn::Gt(v, best) : hn::Lt(v, best);
    const M take = hn::AndNot(hn::IsNaN(best), hn::Or(hn::IsNaN(v), better));
    best = hn::IfThenElse(take, v, best);
  }
  return best;
}

void Cols(ColsOp op, const float* x, const int64_t* off, int64_t n, int64_t count, float* y) {
  const D d;
  for (int64_t j0 = 0; j0 < count; j0 += kW) {
    const M m = hn::FirstN(d, static_cast<size_t>(std::min<int64_t>(kW, count - j0)));
    const float* xb = x + j0;
    V r;
    switch (op) {
      case ColsOp::kSum:
        r = ColsCanonical(xb, off, n, m, [](V a, V v) { return hn::Add(a, v); });
        break;
      case ColsOp::kSumAbs:
        r = ColsCanonical(xb, off, n, m, [](V a, V v) { return hn::Add(a, hn::Abs(v)); });
        break;
      case ColsOp::kSumSquare:
        r = ColsCanonical(xb, off, n, m, [](V a, V v) { return hn::MulAdd(v, v, a); });
        break;
      case ColsOp::kMax:
        r = ColsSequential<true>(xb, off, n, m);
        break;
      case ColsOp::kMin:
        r = ColsSequential<false>(xb, off, n, m);
        break;
      case ColsOp::kProd:
      default: {
        r = hn::Set(d, 1.0f);
        for (int64_t i = 0; i < n; ++i) r = hn::Mul(r, hn::MaskedLoad(m, d, xb + off[i]));
        break;
      }
    }
    hn::BlendedStore(r, m, d, y + j0);
  }
}

// ---------------------------------------------------------------- softmax family

// CanonicalSum(exp(x_i - m)) (math::exp lane by lane: ExpF32); e_i stored when e is not null.
float ExpSumRow(const float* HWY_RESTRICT x, int64_t n, float m, float* e) {
  const D d;
  const V mv = hn::Set(d, m);
  if (e == nullptr) return CanonicalRow(x, n, [&](V a, V v) { return hn::Add(a, ExpF32(d, hn::Sub(v, mv))); });
  // As CanonicalRow, storing each term.
  V acc0 = hn::Zero(d), acc1 = hn::Zero(d);
  int64_t i = 0;
  for (; i + kReduceLanes <= n; i += kReduceLanes) {
    const V e0 = ExpF32(d, hn::Sub(hn::LoadU(d, x + i), mv));
    hn::StoreU(e0, d, e + i);
    acc0 = hn::Add(acc0, e0);
    if constexpr (kNV == 2) {
      const V e1 = ExpF32(d, hn::Sub(hn::LoadU(d, x + i + kW), mv));
      hn::StoreU(e1, d, e + i + kW);
      acc1 = hn::Add(acc1, e1);
    }
  }
  const int64_t rem = n - i;
  if (rem > 0) {
    const M m0 = hn::FirstN(d, static_cast<size_t>(std::min<int64_t>(kW, rem)));
    const V e0 = ExpF32(d, hn::Sub(hn::MaskedLoad(m0, d, x + i), mv));
    hn::BlendedStore(e0, m0, d, e + i);
    acc0 = hn::IfThenElse(m0, hn::Add(acc0, e0), acc0);
    if (kNV == 2 && rem > kW) {
      const M m1 = hn::FirstN(d, static_cast<size_t>(rem - kW));
      const V e1 = ExpF32(d, hn::Sub(hn::MaskedLoad(m1, d, x + i + kW), mv));
      hn::BlendedStore(e1, m1, d, e + i + kW);
      acc1 = hn::IfThenElse(m1, hn::Add(acc1, e1), acc1);
    }
  }
  const V acc[2] = {acc0, acc1};
  return LaneTree(acc);
}

void DivideRow(const float* x, int64_t n, float s, float* y) {
  const V sv = hn::Set(D(), s);
  MapRow(x, n, y, [&](V v, int64_t, M) { return hn::Div(v, sv); });
}

void SubSubRow(const float* x, int64_t n, float m, float log_s, float* y) {
  const D d;
  const V mv = hn::Set(d, m), lv = hn::Set(d, log_s);
  MapRow(x, n, y, [&](V v, int64_t, M) { return hn::Sub(hn::Sub(v, mv), lv); });
}

// Softmax-family columns: element i of column j at x[j + i * stride] (y alike), j < count.
void SoftmaxCols(SoftmaxKind kind, const float* x, int64_t n, int64_t stride, int64_t count, float* y) {
  const D d;
  for (int64_t j0 = 0; j0 < count; j0 += kW) {
    const M m = hn::FirstN(d, static_cast<size_t>(std::min<int64_t>(kW, count - j0)));
    const float* xb = x + j0;
    float* yb = y + j0;
    auto load = [&](int64_t i) { return hn::MaskedLoad(m, d, xb + i * stride); };
    // SequentialMaxMin<true>.
    V mx = load(0);
    for (int64_t i = 1; i < n; ++i) {
      const V v = load(i);
      mx = hn::IfThenElse(hn::AndNot(hn::IsNaN(mx), hn::Or(hn::IsNaN(v), hn::Gt(v, mx))), v, mx);
    }
    V acc[kReduceLanes];
    for (int l = 0; l < kReduceLanes; ++l) acc[l] = hn::Zero(d);
    for (int64_t i = 0; i < n; ++i) {
      const V e = ExpF32(d, hn::Sub(load(i), mx));
      if (kind == SoftmaxKind::kSoftmax) hn::BlendedStore(e, m, d, yb + i * stride);
      V& lane = acc[i % kReduceLanes];
      lane = hn::Add(lane, e);
    }
    const V s = VecTree(acc);
    if (kind == SoftmaxKind::kSoftmax) {
      for (int64_t i = 0; i < n; ++i)
        hn::BlendedStore(hn::Div(hn::MaskedLoad(m, d, yb + i * stride), s), m, d, yb + i * stride);
    } else if (kind == SoftmaxKind::kLogSoftmax) {
      const V log_s = LogF32(d, s);
      for (int64_t i = 0; i < n; ++i) hn::BlendedStore(hn::Sub(hn::Sub(load(i), mx), log_s), m, d, yb + i * stride);
    } else {  // LogSumExp: m itself when m is not finite
      const M finite = hn::Not(hn::Or(hn::IsNaN(mx), hn::IsInf(mx)));
      hn::BlendedStore(hn::IfThenElse(finite, hn::Add(mx, LogF32(d, s)), mx), m, d, yb);
    }
  }
}

// Loads the kW inputs of one pooling term for outputs j0 .. j0 + kW - 1: contiguous (stride 1),
// two loads and the even lanes (stride 2, when the second load stays inside the plane), or a
// gather. A ragged last block gathers with its missing lanes pointed at the first output's input.
class LineLoader {
 public:
  using DI = hn::RebindToSigned<D>;
  LineLoader(const PoolLine& a) : a_(a) {
    const DI di;
    index_ = hn::Mul(hn::Iota(di, 0), hn::Set(di, static_cast<int32_t>(a.stride)));
    // The furthest a term of the window reaches past a block's first input (in floats).
    int64_t max_row = 0;
    for (int64_t r = 0; r < a.rows; ++r) max_row = std::max(max_row, a.row_off[r]);
    reach_ = max_row + (a.kw - 1) * a.dil;
  }
  // Prepares block `done` with `cnt` valid outputs; returns its base pointer.
  const float* Block(int64_t done, int64_t cnt) {
    const DI di;
    const int64_t first = a_.w0 + done * a_.stride;
    full_ = cnt == kW;
    pair_ = full_ && a_.stride == 2 && first + reach_ + 2 * kW <= a_.x_size;
    tail_index_ = hn::IfThenElseZero(hn::FirstN(di, static_cast<size_t>(cnt)), index_);
    return a_.x + first;
  }
  HWY_INLINE V Load(const float* p) const {
    const D d;
    if (!full_) return hn::GatherIndex(d, p, tail_index_);
    if (a_.stride == 1) return hn::LoadU(d, p);
    if (pair_) return hn::ConcatEven(d, hn::LoadU(d, p + kW), hn::LoadU(d, p));
    return hn::GatherIndex(d, p, index_);
  }

 private:
  const PoolLine& a_;
  hn::Vec<DI> index_, tail_index_;
  int64_t reach_ = 0;
  bool full_ = true, pair_ = false;
};

// Edge blocks (PoolLine::partial): every term is a gather with a per-lane validity mask.
class EdgeLoader {
 public:
  using DI = hn::RebindToSigned<D>;
  explicit EdgeLoader(const PoolLine& a) : a_(a) {
    const DI di;
    step_ = hn::Mul(hn::Iota(di, 0), hn::Set(di, static_cast<int32_t>(a.stride)));
  }
  void Block(int64_t done, int64_t cnt) {
    const DI di;
    col0_ = hn::Add(hn::Set(di, static_cast<int32_t>(a_.w0 + done * a_.stride)), step_);
    lanes_ = hn::FirstN(di, static_cast<size_t>(cnt));
  }
  // Term k of row `row` (x + row_off): the values (0 where invalid) and the validity.
  HWY_INLINE V Load(const float* row, int64_t k, M* valid) const {
    const DI di;
    const auto col = hn::Add(col0_, hn::Set(di, static_cast<int32_t>(k * a_.dil)));
    const auto ok = hn::And(lanes_, hn::And(hn::Not(hn::Lt(col, hn::Zero(di))),
                                            hn::Lt(col, hn::Set(di, static_cast<int32_t>(a_.in_w)))));
    *valid = hn::RebindMask(D(), ok);
    return hn::GatherIndex(D(), row, hn::IfThenElseZero(ok, col));
  }

 private:
  const PoolLine& a_;
  hn::Vec<DI> step_, col0_;
  hn::Mask<DI> lanes_;
};

int64_t AvgPoolEdge(const PoolLine& a) {
  const D d;
  EdgeLoader load(a);
  for (int64_t done = 0; done < a.count; done += kW) {
    const int64_t cnt = std::min<int64_t>(kW, a.count - done);
    load.Block(done, cnt);
    V acc[kReduceLanes];
    for (int l = 0; l < kReduceLanes; ++l) acc[l] = hn::Zero(d);
    for (int64_t r = 0; r < a.rows; ++r) {
      const float* row = a.x + a.row_off[r];
      const int64_t kpos = a.row_kpos[r];
      for (int64_t k = 0; k < a.kw; ++k) {
        M valid;
        const V v = load.Load(row, k, &valid);
        V& lane = acc[(kpos + k) % kReduceLanes];
        lane = hn::IfThenElse(valid, hn::Add(lane, v), lane);
      }
    }
    const M m = hn::FirstN(d, static_cast<size_t>(cnt));
    hn::BlendedStore(hn::Div(VecTree(acc), hn::IfThenElse(m, hn::MaskedLoad(m, d, a.divisors + done), hn::Set(d, 1.0f))),
                     m, d, a.y + done);
  }
  return a.count;
}

int64_t MaxPoolEdge(const PoolLine& a) {
  const D d;
  const hn::RebindToSigned<D> di;
  EdgeLoader load(a);
  for (int64_t done = 0; done < a.count; done += kW) {
    const int64_t cnt = std::min<int64_t>(kW, a.count - done);
    load.Block(done, cnt);
    V best = hn::Zero(d);
    auto best_t = hn::Zero(di);
    M any = hn::FirstN(d, 0);
    int32_t t = 0;
    for (int64_t r = 0; r < a.rows; ++r) {
      const float* row = a.x + a.row_off[r];
      for (int64_t k = 0; k < a.kw; ++k, ++t) {
        M valid;
        const V v = load.Load(row, k, &valid);
        const M better = hn::AndNot(hn::IsNaN(best), hn::Or(hn::IsNaN(v), hn::Gt(v, best)));
        const M take = hn::And(valid, hn::Or(hn::Not(any), better));  // !any || MaxTakes(v, best)
        best = hn::IfThenElse(take, v, best);
        best_t = hn::IfThenElse(hn::RebindMask(di, take), hn::Set(di, t), best_t);
        any = hn::Or(any, valid);
      }
    }
    hn::BlendedStore(best, hn::FirstN(d, static_cast<size_t>(cnt)), d, a.y + done);
    if (a.best_term) hn::BlendedStore(best_t, hn::FirstN(di, static_cast<size_t>(cnt)), di, a.best_term + done);
  }
  return a.count;
}

int64_t AvgPoolLine(const PoolLine& a) {
  if (a.partial) return AvgPoolEdge(a);
  const D d;
  LineLoader load(a);
  const V divisor = hn::Set(d, a.divisor);
  for (int64_t done = 0; done < a.count; done += kW) {
    const int64_t cnt = std::min<int64_t>(kW, a.count - done);
    const float* base = load.Block(done, cnt);
    V acc[kReduceLanes];
    for (int l = 0; l < kReduceLanes; ++l) acc[l] = hn::Zero(d);
    for (int64_t r = 0; r < a.rows; ++r) {
      const float* row = base + a.row_off[r];
      const int64_t kpos = a.row_kpos[r];
      for (int64_t k = 0; k < a.kw; ++k) {
        V& lane = acc[(kpos + k) % kReduceLanes];
        lane = hn::Add(lane, load.Load(row + k * a.dil));
      }
    }
    hn::BlendedStore(hn::Div(VecTree(acc), divisor), hn::FirstN(d, static_cast<size_t>(cnt)), d, a.y + done);
  }
  return a.count;
}

int64_t MaxPoolLine(const PoolLine& a) {
  if (a.partial) return MaxPoolEdge(a);
  const D d;
  const hn::RebindToSigned<D> di;
  LineLoader load(a);
  for (int64_t done = 0; done < a.count; done += kW) {
    const int64_t cnt = std::min<int64_t>(kW, a.count - done);
    const float* base = load.Block(done, cnt);
    V best = load.Load(base + a.row_off[0]);
    auto best_t = hn::Zero(di);
    int32_t t = 0;
    for (int64_t r = 0; r < a.rows; ++r) {
      const float* row = base + a.row_off[r];
      for (int64_t k = 0; k < a.kw; ++k, ++t) {
        if (t == 0) continue;
        const V v = load.Load(row + k * a.dil);
        const M take = hn::AndNot(hn::IsNaN(best), hn::Or(hn::IsNaN(v), hn::Gt(v, best)));
        best = hn::IfThenElse(take, v, best);
        best_t = hn::IfThenElse(hn::RebindMask(di, take), hn::Set(di, t), best_t);
      }
    }
    hn::BlendedStore(best, hn::FirstN(d, static_cast<size_t>(cnt)), d, a.y + done);
    if (a.best_term) hn::BlendedStore(best_t, hn::FirstN(di, static_cast<size_t>(cnt)), di, a.best_term + done);
  }
  return a.count;
}

}  // namespace reduce_detail

// The table of this target.
inline ReduceKernels MakeReduceKernels() {
  ReduceKernels k;
  k.sum = &reduce_detail::SumRow;
  k.sum_abs = &reduce_detail::SumAbsRow;
  k.sum_square = &reduce_detail::SumSquareRow;
  k.sum_square_dev = &reduce_detail::SumSquareDevRow;
  k.max = &reduce_detail::MaxRow;
  k.min = &reduce_detail::MinRow;
  k.normalize_affine = &reduce_detail::NormalizeAffine;
  k.normalize_affine_uniform = &reduce_detail::NormalizeAffineUniform;
  k.normalize_divide = &reduce_detail::NormalizeDivide;
  k.cols = &reduce_detail::Cols;
  k.avg_pool_line = &reduce_detail::AvgPoolLine;
  k.max_pool_line = &reduce_detail::MaxPoolLine;
  k.exp_sum = &reduce_detail::ExpSumRow;
  k.divide = &reduce_detail::DivideRow;
  k.sub_sub = &reduce_detail::SubSubRow;
  k.softmax_cols = &reduce_detail::SoftmaxCols;
  k.lanes = reduce_detail::kW;
  return k;
}

#endif  // IDEM_SIMD_TARGET
}  // namespace HWY_NAMESPACE
}  // namespace idem::simd
HWY_AFTER_NAMESPACE();

#endif  // include guard
