// Tensor family, indexing reads: Gather, GatherElements, GatherND, Compress, OneHot.
// Every index read from data is validated before any element is touched.
#include <algorithm>

#include "kernels/tensor_common.h"
#include "kernels/util.h"

namespace idem::kernels {

namespace {

int64_t Product(const Shape& s, int64_t begin, int64_t end) {
  int64_t p = 1;
  for (int64_t d = begin; d < end; ++d) p *= s[static_cast<size_t>(d)];
  return p;
}

Result<std::vector<int64_t>> IndexInput(const KernelContext& ctx, size_t i) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(i));
  if (t->dtype() != DType::kI32 && t->dtype() != DType::kI64)
    return ctx.Error("indices must be int32 or int64, got ", DTypeOnnxName(t->dtype()));
  return ReadInts(ctx, *t, "indices");
}

}  // namespace

Status Gather(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* it, ctx.InputTensor(1));
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> idx, IndexInput(ctx, 1));
  if (x->rank() == 0) return ctx.Error("data must have rank >= 1");
  IDEM_ASSIGN_OR_RETURN(const int64_t axis, NormalizeAxis(ctx, ctx.Int("axis", 0), x->rank()));
  const int64_t n = x->dim(axis);
  const int64_t inner = Product(x->shape(), axis + 1, x->rank());
  DimOffsets picks(idx.size());
  for (size_t j = 0; j < idx.size(); ++j) {
    int64_t v;
    if (!NormalizeIndex(idx[j], n, &v))
      return ctx.Error("index ", idx[j], " is out of range [", -n, ", ", n - 1, "] for axis ", axis);
    picks[j] = v * inner;
  }
  Shape out(x->shape().begin(), x->shape().begin() + axis);
  out.insert(out.end(), it->shape().begin(), it->shape().end());
  out.insert(out.end(), x->shape().begin() + axis + 1, x->shape().end());
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out));
  const int64_t outer = Product(x->shape(), 0, axis);
  return MapCopy(ctx, *x, 0, {AffineOffsets(outer, 0, n * inner), picks, AffineOffsets(inner, 0, 1)}, nullptr, y);
}

Status GatherElements(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* it, ctx.InputTensor(1));
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> idx, IndexInput(ctx, 1));
  const int64_t r = x->rank();
  if (r == 0 || it->rank() != r)
    return ctx.Error("data ", ShapeToString(x->shape()), " and indices ", ShapeToString(it->shape()),
                     " must have the same rank >= 1");
  IDEM_ASSIGN_OR_RETURN(const int64_t axis, NormalizeAxis(ctx, ctx.Int("axis", 0), r));
  for (int64_t d = 0; d < r; ++d)
    if (d != axis && it->dim(d) > x->dim(d))
      return ctx.Error("indices shape ", ShapeToString(it->shape()), " exceeds data shape ", ShapeToString(x->shape()),
                       " on axis ", d);
  const int64_t n = x->dim(axis);
  const std::vector<int64_t> xs = StridesOf(x->shape());
  // Source offset of every output element: its own position outside `axis`, the index on it.
  std::vector<int64_t> src(idx.size());
  std::vector<int64_t> pos(static_cast<size_t>(r), 0);
  for (size_t i = 0; i < idx.size(); ++i) {
    int64_t v;
    if (!NormalizeIndex(idx[i], n, &v))
      return ctx.Error("index ", idx[i], " is out of range [", -n, ", ", n - 1, "] for axis ", axis);
    int64_t off = 0;
    for (int64_t d = 0; d < r; ++d) off += (d == axis ? v : pos[static_cast<size_t>(d)]) * xs[static_cast<size_t>(d)];
    src[i] = off;
    for (int64_t d = r; d-- > 0;) {
      if (++pos[static_cast<size_t>(d)] < it->dim(d)) break;
      pos[static_cast<size_t>(d)] = 0;
    }
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), it->shape()));
  return MapCopy(ctx, *x, 0, {src}, nullptr, y);
}

Status GatherND(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* it, ctx.InputTensor(1));
  if (it->dtype() != DType::kI64) return ctx.Error("indices must be int64, got ", DTypeOnnxName(it->dtype()));
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadInts(ctx, *it, "indices"));
  const int64_t r = x->rank(), q = it->rank();
  const int64_t b = ctx.opset() >= 12 ? ctx.Int("batch_dims", 0) : 0;
  if (r < 1 || q < 1) return ctx.Error("data and indices must have rank >= 1");
  if (b < 0 || b >= std::min(r, q))
    return ctx.Error("batch_dims ", b, " must be in [0, min(rank(data), rank(indices)))");
  for (int64_t d = 0; d < b; ++d)
    if (x->dim(d) != it->dim(d))
      return ctx.Error("batch dimension ", d, " differs: data ", ShapeToString(x->shape()), ", indices ",
                       ShapeToString(it->shape()));
  const int64_t m = it->dim(q - 1);
  if (m < 1 || m > r - b)
    return ctx.Error("indices last dimension ", m, " must be in [1, ", r - b, "] (rank(data) - batch_dims)");
  Shape out(it->shape().begin(), it->shape().end() - 1);
  out.insert(out.end(), x->shape().begin() + b + m, x->shape().end());
  const int64_t batches = Product(x->shape(), 0, b);
  const int64_t batch_block = Product(x->shape(), b, r);
  const int64_t tuples = m == 0 ? 0 : static_cast<int64_t>(idx.size()) / m;  // over all batches
  const int64_t per_batch = batches == 0 ? 0 : tuples / batches;
  const int64_t inner = Product(x->shape(), b + m, r);
  const std::vector<int64_t> xs = StridesOf(x->shape());
  DimOffsets src(static_cast<size_t>(tuples));
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = (t / per_batch) * batch_block;
    for (int64_t j = 0; j < m; ++j) {
      const int64_t n = x->dim(b + j);
      int64_t v;
      if (!NormalizeIndex(idx[static_cast<size_t>(t * m + j)], n, &v))
        return ctx.Error("index ", idx[static_cast<size_t>(t * m + j)], " is out of range [", -n, ", ", n - 1,
                         "] for data axis ", b + j);
      off += v * xs[static_cast<size_t>(b + j)];
    }
    src[static_cast<size_t>(t)] = off;
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out));
  return MapCopy(ctx, *x, 0, {src, AffineOffsets(inner, 0, 1)}, nullptr, y);
}

Status Compress(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* ct, ctx.InputTensor(1));
  if (ct->rank() != 1) return ctx.Error("condition must be 1-D, got shape ", ShapeToString(ct->shape()));
  if (ct->dtype() != DType::kBool) return ctx.Error("condition must be bool, got ", DTypeOnnxName(ct->dtype()));
  const bool has_axis = ctx.HasAttr("axis");
  int64_t axis = 0;
  Shape shape = has_axis ? x->shape() : Shape{x->numel()};
  if (has_axis) {
    IDEM_ASSIGN_OR_RETURN(axis, NormalizeAxis(ctx, ctx.Int("axis", 0), x->rank()));
  }
  const int64_t n = shape[static_cast<size_t>(axis)];
  DimOffsets picks;
  const int64_t inner = Product(shape, axis + 1, static_cast<int64_t>(shape.size()));
  for (int64_t i = 0; i < ct->numel(); ++i) {
    if (!ct->data<bool>()[i]) continue;
    if (i >= n) return ctx.Error("condition selects index ", i, " but the axis has size ", n);
    picks.push_back(i * inner);
  }
  shape[static_cast<size_t>(axis)] = static_cast<int64_t>(picks.size());
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), shape));
  const int64_t outer = Product(shape, 0, axis);
  return MapCopy(ctx, *x, 0, {AffineOffsets(outer, 0, n * inner), picks, AffineOffsets(inner, 0, 1)}, nullptr, y);
}

Status OneHot(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* it, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* dt, ctx.InputTensor(1));
  IDEM_ASSIGN_OR_RETURN(const Tensor* vt, ctx.InputTensor(2));
  if (!IsInt(it->dtype()) && !IsFloat(it->dtype()))
    return ctx.Error("indices must be numeric, got ", DTypeOnnxName(it->dtype()));
  if (!IsInt(dt->dtype()) && !IsFloat(dt->dtype()))
    return ctx.Error("depth must be numeric, got ", DTypeOnnxName(dt->dtype()));
  if (dt->numel() != 1) return ctx.Error("depth must have one element, got shape ", ShapeToString(dt->shape()));
  if (vt->numel() != 2)
    return ctx.Error("values must have two elements [off, on], got shape ", ShapeToString(vt->shape()));
  const int64_t depth = IndexValues(*dt)[0];
  if (depth < 1 || depth > (int64_t{1} << 40)) return ctx.Error("depth ", depth, " must be positive");
  const int64_t r = it->rank();
  int64_t axis = ctx.Int("axis", -1);
  if (axis < -(r + 1) || axis > r) return ctx.Error("axis ", axis, " is out of range for output rank ", r + 1);
  if (axis < 0) axis += r + 1;
  const std::vector<int64_t> idx = IndexValues(*it);
  Shape out(it->shape().begin(), it->shape().begin() + axis);
  out.push_back(depth);
  out.insert(out.end(), it->shape().begin() + axis, it->shape().end());
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, vt->dtype(), out));
  const int64_t outer = Product(it->shape(), 0, axis);
  const int64_t inner = Product(it->shape(), axis, r);
  // Index -> depth position, or -1 when outside [-depth, depth) (the whole vector stays "off").
  std::vector<int64_t> hot(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) {
    int64_t v;
    hot[i] = NormalizeIndex(idx[i], depth, &v) ? v : -1;
  }
  // Output element (a, d, i) of the [outer, depth, inner] view = values[hot(a, i) == d ? 1 : 0].
  return VisitCarrier(vt->dtype(), [&](auto tag) -> Status {
    using E = typename decltype(tag)::type;
    const E* v = vt->data<E>();
    E* o = y->data<E>();
    ctx.ParallelFor(outer * depth, RowGrain(inner), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t a = row / depth, d = row % depth;
        for (int64_t i = 0; i < inner; ++i)
          o[row * inner + i] = v[hot[static_cast<size_t>(a * inner + i)] == d ? 1 : 0];
      }
    });
    return Status::Ok();
  });
}

}  // namespace idem::kernels
