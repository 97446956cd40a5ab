// Tensor family, data-dependent shapes: Range, NonZero, Unique.
#include <algorithm>
#include <limits>
#include <numeric>

#include "core/math.h"
#include "kernels/tensor_common.h"
#include "kernels/util.h"

namespace idem::kernels {

namespace {

int64_t Product(const Shape& s, int64_t begin, int64_t end) {
  int64_t p = 1;
  for (int64_t d = begin; d < end; ++d) p *= s[static_cast<size_t>(d)];
  return p;
}

// Largest element count Range produces (a guard against absurd inputs; allocation fails first).
constexpr double kMaxRangeCount = 4.0e15;

}  // namespace

// Range: output[i] = start + i * delta for i in [0, max(ceil((limit - start) / delta), 0)).
// Floating types compute the count in double and each element as start + T(i) * delta in the
// element's compute type (one multiply, one add; no FMA).
Status Range(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* ts, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* tl, ctx.InputTensor(1));
  IDEM_ASSIGN_OR_RETURN(const Tensor* td, ctx.InputTensor(2));
  if (ts->numel() != 1 || tl->numel() != 1 || td->numel() != 1)
    return ctx.Error("start, limit and delta must be scalars");
  if (tl->dtype() != ts->dtype() || td->dtype() != ts->dtype())
    return ctx.Error("start, limit and delta must have the same type");
  constexpr uint32_t kRangeTypes = types::kFloat | types::kInt;
  return VisitDType<kRangeTypes>(ts->dtype(), "Range", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    int64_t n = 0;
    if constexpr (kIsFloat<T>) {
      using C = ComputeT<T>;
      const C start = Load<T>(ts->data<T>()[0]), limit = Load<T>(tl->data<T>()[0]), delta = Load<T>(td->data<T>()[0]);
      if (delta == 0) return ctx.Error("delta must not be zero");
      const double q =
          math::ceil((static_cast<double>(limit) - static_cast<double>(start)) / static_cast<double>(delta));
      if (q != q || q > kMaxRangeCount) return ctx.Error("range (", start, ", ", limit, ", ", delta, ") is too long");
      n = q > 0 ? static_cast<int64_t>(q) : 0;
      IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, ts->dtype(), {n}));
      T* o = y->data<T>();
      for (int64_t i = 0; i < n; ++i) o[i] = Store<T>(start + static_cast<C>(i) * delta);
    } else {
      const __int128 start = ts->data<T>()[0], limit = tl->data<T>()[0], delta = td->data<T>()[0];
      if (delta == 0) return ctx.Error("delta must not be zero");
      const __int128 diff = limit - start;
      __int128 q = 0;
      if ((diff > 0 && delta > 0) || (diff < 0 && delta < 0)) {
        const __int128 ad = diff < 0 ? -diff : diff, dd = delta < 0 ? -delta : delta;
        q = (ad + dd - 1) / dd;
      }
      if (q > static_cast<__int128>(kMaxRangeCount)) return ctx.Error("range is too long");
      n = static_cast<int64_t>(q);
      IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, ts->dtype(), {n}));
      T* o = y->data<T>();
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(start + static_cast<__int128>(i) * delta);
    }
    return Status::Ok();
  });
}

// NonZero: int64 [rank, count] of the indices of non-zero elements in row-major order (NaN is
// non-zero, -0.0 is zero, strings are non-zero when non-empty). A scalar counts as shape [1].
Status NonZero(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  std::vector<int64_t> hits;
  IDEM_RETURN_IF_ERROR(VisitDType<types::kAll>(x->dtype(), "NonZero", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* d = x->data<T>();
    for (int64_t i = 0; i < x->numel(); ++i) {
      bool nz;
      if constexpr (std::is_same_v<T, std::string>)
        nz = !d[i].empty();
      else if constexpr (std::is_same_v<T, bool>)
        nz = d[i];
      else
        nz = Load<T>(d[i]) != 0;
      if (nz) hits.push_back(i);
    }
    return Status::Ok();
  }));
  const Shape shape = x->rank() == 0 ? Shape{1} : x->shape();
  const int64_t r = static_cast<int64_t>(shape.size());
  const int64_t cnt = static_cast<int64_t>(hits.size());
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kI64, {r, cnt}));
  int64_t* o = y->data<int64_t>();
  for (int64_t j = 0; j < cnt; ++j) {
    int64_t lin = hits[static_cast<size_t>(j)];
    for (int64_t d = r; d-- > 0;) {
      o[d * cnt + j] = lin % shape[static_cast<size_t>(d)];
      lin /= shape[static_cast<size_t>(d)];
    }
  }
  return Status::Ok();
}

namespace {

// Three-way comparison of two elements: a total order where NaN sorts after every number and all
// NaNs are equal; -0.0 equals +0.0.
template <typename T>
int CompareElem(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, std::string>) {
    const int c = a.compare(b);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else if constexpr (std::is_same_v<T, bool>) {
    return a == b ? 0 : (a ? 1 : -1);
  } else {
    const auto x = Load<T>(a), y = Load<T>(b);
    if constexpr (kIsFloat<T>) {
      const bool xn = x != x, yn = y != y;
      if (xn || yn) return xn == yn ? 0 : (xn ? 1 : -1);
    }
    return x < y ? -1 : (y < x ? 1 : 0);
  }
}

}  // namespace

// Unique: items are elements (no axis; flattened) or slices along `axis`, compared
// lexicographically in row-major order. sorted=1 orders the unique items ascending; sorted=0
// by first occurrence. Outputs: Y, indices (first occurrence), inverse_indices, counts.
Status Unique(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const bool sorted = ctx.Int("sorted", 1) != 0;
  const bool has_axis = ctx.HasAttr("axis");
  Shape shape = has_axis ? x->shape() : Shape{x->numel()};
  int64_t axis = 0;
  if (has_axis) {
    IDEM_ASSIGN_OR_RETURN(axis, NormalizeAxis(ctx, ctx.Int("axis", 0), x->rank()));
  }
  const int64_t n = shape[static_cast<size_t>(axis)];
  const int64_t outer = Product(shape, 0, axis);
  const int64_t inner = Product(shape, axis + 1, static_cast<int64_t>(shape.size()));
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::vector<int64_t> group_of(static_cast<size_t>(n));  // item -> group id (in output order)
  std::vector<int64_t> first;                             // group -> first occurrence
  std::vector<int64_t> counts;
  IDEM_RETURN_IF_ERROR(VisitDType<types::kAll>(x->dtype(), "Unique", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* d = x->data<T>();
    auto cmp = [&](int64_t a, int64_t b) {
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < inner; ++k) {
          const int c = CompareElem<T>(d[(o * n + a) * inner + k], d[(o * n + b) * inner + k]);
          if (c != 0) return c;
        }
      return 0;
    };
    // Stable sort: equal items keep ascending position, so each group starts at its first occurrence.
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return cmp(a, b) < 0; });
    std::vector<int64_t> sorted_group(static_cast<size_t>(n));
    for (size_t i = 0; i < order.size(); ++i) {
      if (i == 0 || cmp(order[i - 1], order[i]) != 0) {
        first.push_back(order[i]);
        counts.push_back(0);
      }
      sorted_group[static_cast<size_t>(order[i])] = static_cast<int64_t>(first.size()) - 1;
      ++counts.back();
    }
    std::vector<int64_t> remap(first.size());
    std::iota(remap.begin(), remap.end(), 0);
    if (!sorted) {  // renumber groups by first occurrence
      std::vector<int64_t> by_first(first.size());
      std::iota(by_first.begin(), by_first.end(), 0);
      std::sort(by_first.begin(), by_first.end(),
                [&](int64_t a, int64_t b) { return first[static_cast<size_t>(a)] < first[static_cast<size_t>(b)]; });
      std::vector<int64_t> f2(first.size()), c2(first.size());
      for (size_t g = 0; g < by_first.size(); ++g) {
        remap[static_cast<size_t>(by_first[g])] = static_cast<int64_t>(g);
        f2[g] = first[static_cast<size_t>(by_first[g])];
        c2[g] = counts[static_cast<size_t>(by_first[g])];
      }
      first.swap(f2);
      counts.swap(c2);
    }
    for (int64_t i = 0; i < n; ++i)
      group_of[static_cast<size_t>(i)] = remap[static_cast<size_t>(sorted_group[static_cast<size_t>(i)])];
    return Status::Ok();
  }));
  const int64_t groups = static_cast<int64_t>(first.size());
  Shape yshape = shape;
  yshape[static_cast<size_t>(axis)] = groups;
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), yshape));
  DimOffsets picks(first.size());
  for (size_t g = 0; g < first.size(); ++g) picks[g] = first[g] * inner;
  IDEM_RETURN_IF_ERROR(
      MapCopy(ctx, *x, 0, {AffineOffsets(outer, 0, n * inner), picks, AffineOffsets(inner, 0, 1)}, nullptr, y));
  auto put = [&](size_t i, const std::vector<int64_t>& v) -> Status {
    if (i >= ctx.num_outputs() || !ctx.output_wanted(i)) return Status::Ok();
    IDEM_ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutput(i, DType::kI64, {static_cast<int64_t>(v.size())}));
    std::copy(v.begin(), v.end(), t->data<int64_t>());
    return Status::Ok();
  };
  IDEM_RETURN_IF_ERROR(put(1, first));
  IDEM_RETURN_IF_ERROR(put(2, group_of));
  return put(3, counts);
}

}  // namespace idem::kernels
