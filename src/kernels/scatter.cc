// Tensor family, indexing writes: Scatter (opset 9-10, = ScatterElements without reduction),
// ScatterElements, ScatterND.
//
// Canonical order: the output starts as a copy of data; updates are applied one at a time in
// row-major order of `updates` (so with duplicate indices, "none" keeps the last update and
// add/mul accumulate in that order). Each reduction step is one op in the element type: halves are
// loaded to f32, combined, and stored with RNE per step; integers wrap around (two's complement);
// bool add = or, mul = and.
#include <algorithm>

#include "kernels/tensor_common.h"
#include "kernels/util.h"

namespace idem::kernels {

namespace {

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

Result<Reduction> ParseReduction(const KernelContext& ctx) {
  if (ctx.node().op_type == "Scatter" || ctx.opset() < 16) return Reduction::kNone;
  const std::string r = ctx.String("reduction", "none");
  if (r == "none") return Reduction::kNone;
  if (r == "add") return Reduction::kAdd;
  if (r == "mul") return Reduction::kMul;
  if (r == "max") return Reduction::kMax;
  if (r == "min") return Reduction::kMin;
  return ctx.Error("reduction '", r, "' is not one of none, add, mul, max, min");
}

template <typename T>
T Combine(Reduction red, T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    switch (red) {
      case Reduction::kAdd:
      case Reduction::kMax: return a || b;
      case Reduction::kMul:
      case Reduction::kMin: return a && b;
      default: return b;
    }
  } else if constexpr (kIsFloat<T>) {
    using C = ComputeT<T>;
    const C x = Load<T>(a), y = Load<T>(b);
    switch (red) {
      case Reduction::kAdd: return Store<T>(x + y);
      case Reduction::kMul: return Store<T>(x * y);
      // NaN propagates: a NaN operand gives NaN.
      case Reduction::kMax: return (x != x || y != y) ? Store<T>(x + y) : (y > x ? b : a);
      case Reduction::kMin: return (x != x || y != y) ? Store<T>(x + y) : (y < x ? b : a);
      default: return b;
    }
  } else {
    switch (red) {
      case Reduction::kAdd: return static_cast<T>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
      case Reduction::kMul: return static_cast<T>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
      case Reduction::kMax: return std::max(a, b);
      case Reduction::kMin: return std::min(a, b);
      default: return b;
    }
  }
}

// Applies updates[i] to out[dst[i]] (or a block of `inner` elements at dst[i] for ScatterND), in order.
Status ApplyUpdates(const KernelContext& ctx, Reduction red, const Tensor& updates, const std::vector<int64_t>& dst,
                    int64_t inner, Tensor* out) {
  if (red == Reduction::kNone) {
    for (size_t i = 0; i < dst.size(); ++i) CopyElements(updates, static_cast<int64_t>(i) * inner, out, dst[i], inner);
    return Status::Ok();
  }
  if (updates.dtype() == DType::kString) return ctx.Error("reduction is not defined for strings");
  return VisitDType<types::kAllPod>(updates.dtype(), "ScatterElements", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* u = updates.data<T>();
    T* o = out->data<T>();
    for (size_t i = 0; i < dst.size(); ++i)
      for (int64_t k = 0; k < inner; ++k) {
        T& slot = o[dst[i] + k];
        slot = Combine<T>(red, slot, u[static_cast<int64_t>(i) * inner + k]);
      }
    return Status::Ok();
  });
}

Status ScatterElementsImpl(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* it, ctx.InputTensor(1));
  IDEM_ASSIGN_OR_RETURN(const Tensor* up, ctx.InputTensor(2));
  IDEM_ASSIGN_OR_RETURN(const Reduction red, ParseReduction(ctx));
  if (it->dtype() != DType::kI32 && it->dtype() != DType::kI64)
    return ctx.Error("indices must be int32 or int64, got ", DTypeOnnxName(it->dtype()));
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadInts(ctx, *it, "indices"));
  const int64_t r = x->rank();
  if (r == 0 || it->rank() != r) return ctx.Error("data and indices must have the same rank >= 1");
  if (up->shape() != it->shape())
    return ctx.Error("updates shape ", ShapeToString(up->shape()), " must equal indices shape ",
                     ShapeToString(it->shape()));
  if (up->dtype() != x->dtype()) return ctx.Error("updates and data must have the same type");
  IDEM_ASSIGN_OR_RETURN(const int64_t axis, NormalizeAxis(ctx, ctx.Int("axis", 0), r));
  for (int64_t d = 0; d < r; ++d)
    if (d != axis && it->dim(d) > x->dim(d))
      return ctx.Error("indices shape ", ShapeToString(it->shape()), " exceeds data shape ", ShapeToString(x->shape()),
                       " on axis ", d);
  const int64_t n = x->dim(axis);
  const std::vector<int64_t> xs = StridesOf(x->shape());
  std::vector<int64_t> dst(idx.size());
  std::vector<int64_t> pos(static_cast<size_t>(r), 0);
  for (size_t i = 0; i < idx.size(); ++i) {
    int64_t v;
    if (!NormalizeIndex(idx[i], n, &v))
      return ctx.Error("index ", idx[i], " is out of range [", -n, ", ", n - 1, "] for axis ", axis);
    int64_t off = 0;
    for (int64_t d = 0; d < r; ++d) off += (d == axis ? v : pos[static_cast<size_t>(d)]) * xs[static_cast<size_t>(d)];
    dst[i] = off;
    for (int64_t d = r; d-- > 0;) {
      if (++pos[static_cast<size_t>(d)] < it->dim(d)) break;
      pos[static_cast<size_t>(d)] = 0;
    }
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
  CopyElements(*x, 0, y, 0, x->numel());
  return ApplyUpdates(ctx, red, *up, dst, 1, y);
}

}  // namespace

Status Scatter(KernelContext& ctx) { return ScatterElementsImpl(ctx); }
Status ScatterElements(KernelContext& ctx) { return ScatterElementsImpl(ctx); }

Status ScatterND(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* it, ctx.InputTensor(1));
  IDEM_ASSIGN_OR_RETURN(const Tensor* up, ctx.InputTensor(2));
  IDEM_ASSIGN_OR_RETURN(const Reduction red, ParseReduction(ctx));
  if (it->dtype() != DType::kI64) return ctx.Error("indices must be int64, got ", DTypeOnnxName(it->dtype()));
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadInts(ctx, *it, "indices"));
  if (up->dtype() != x->dtype()) return ctx.Error("updates and data must have the same type");
  const int64_t r = x->rank(), q = it->rank();
  if (r < 1 || q < 1) return ctx.Error("data and indices must have rank >= 1");
  const int64_t k = it->dim(q - 1);
  if (k < 1 || k > r) return ctx.Error("indices last dimension ", k, " must be in [1, ", r, "]");
  Shape expect(it->shape().begin(), it->shape().end() - 1);
  expect.insert(expect.end(), x->shape().begin() + k, x->shape().end());
  if (up->shape() != expect)
    return ctx.Error("updates shape ", ShapeToString(up->shape()), " must be ", ShapeToString(expect),
                     " (indices.shape[:-1] + data.shape[k:])");
  const std::vector<int64_t> xs = StridesOf(x->shape());
  const int64_t inner = k < r ? xs[static_cast<size_t>(k - 1)] : 1;
  const size_t tuples = idx.size() / static_cast<size_t>(k);
  std::vector<int64_t> dst(tuples);
  for (size_t t = 0; t < tuples; ++t) {
    int64_t off = 0;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t raw = idx[t * static_cast<size_t>(k) + static_cast<size_t>(j)];
      int64_t v;
      if (!NormalizeIndex(raw, x->dim(j), &v))
        return ctx.Error("index ", raw, " is out of range [", -x->dim(j), ", ", x->dim(j) - 1, "] for data axis ", j);
      off += v * xs[static_cast<size_t>(j)];
    }
    dst[t] = off;
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
  CopyElements(*x, 0, y, 0, x->numel());
  return ApplyUpdates(ctx, red, *up, dst, inner, y);
}

}  // namespace idem::kernels
