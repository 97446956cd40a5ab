#include "kernels/util.h"

namespace idem {

std::vector<int64_t> StridesOf(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

Result<int64_t> NormalizeAxis(const KernelContext& ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank || (rank == 0 && axis != 0 && axis != -1))
    return ctx.Error("axis ", axis, " is out of range for rank ", rank);
  return axis < 0 ? axis + rank : axis;
}

Result<Shape> BroadcastShapes(const KernelContext& ctx, const std::vector<const Shape*>& shapes) {
  size_t rank = 0;
  for (const Shape* s : shapes) rank = std::max(rank, s->size());
  Shape out(rank, 1);
  for (const Shape* s : shapes) {
    const size_t off = rank - s->size();
    for (size_t i = 0; i < s->size(); ++i) {
      const int64_t d = (*s)[i];
      int64_t& o = out[off + i];
      if (d == o || d == 1) continue;
      if (o == 1) { o = d; continue; }
      std::string all;
      for (const Shape* t : shapes) all += (all.empty() ? "" : " and ") + ShapeToString(*t);
      return ctx.Error("shapes ", all, " cannot be broadcast together");
    }
  }
  return out;
}

std::vector<int64_t> BroadcastStrides(const Shape& in, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  const std::vector<int64_t> own = StridesOf(in);
  const size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) strides[off + i] = in[i] == 1 ? 0 : own[i];
  return strides;
}

BroadcastCursor::BroadcastCursor(const Shape& out_shape, std::vector<std::vector<int64_t>> operand_strides)
    : shape_(out_shape), strides_(std::move(operand_strides)), index_(out_shape.size(), 0),
      offsets_(strides_.size(), 0) {}

void BroadcastCursor::Seek(int64_t linear) {
  for (size_t d = shape_.size(); d-- > 0;) {
    index_[d] = shape_[d] ? linear % shape_[d] : 0;
    linear = shape_[d] ? linear / shape_[d] : 0;
  }
  for (size_t k = 0; k < strides_.size(); ++k) {
    int64_t o = 0;
    for (size_t d = 0; d < shape_.size(); ++d) o += index_[d] * strides_[k][d];
    offsets_[k] = o;
  }
}

void BroadcastCursor::Next() {
  for (size_t d = shape_.size(); d-- > 0;) {
    if (++index_[d] < shape_[d]) {
      for (size_t k = 0; k < strides_.size(); ++k) offsets_[k] += strides_[k][d];
      return;
    }
    for (size_t k = 0; k < strides_.size(); ++k) offsets_[k] -= (index_[d] - 1) * strides_[k][d];
    index_[d] = 0;
  }
}

}  // namespace idem
