// Shape rules shared by the elementwise family (see elementwise_map.h).
#include "kernels/elementwise_map.h"

namespace idem::kernels::ew {

OffsetWalker::OffsetWalker(const Shape& out, const std::vector<const Shape*>& ins) : out_(out) {
  const int64_t n = NumElements(out);
  for (const Shape* in : ins) {
    const int64_t nk = NumElements(*in);
    kind_.push_back(nk == n ? kSame : nk == 1 ? kScalar : kStrided);
    need_cursor_ = need_cursor_ || kind_.back() == kStrided;
    strides_.push_back(BroadcastStrides(*in, out));
  }
}

void OffsetWalker::Fill(int64_t begin, int64_t len, int64_t* off) const {
  for (size_t k = 0; k < kind_.size(); ++k) {
    int64_t* o = off + static_cast<int64_t>(k) * kChunk;
    if (kind_[k] == kSame) {
      for (int64_t j = 0; j < len; ++j) o[j] = begin + j;
    } else if (kind_[k] == kScalar) {
      for (int64_t j = 0; j < len; ++j) o[j] = 0;
    }
  }
  if (!need_cursor_) return;
  BroadcastCursor cursor(out_, strides_);
  cursor.Seek(begin);
  for (int64_t j = 0; j < len; ++j, cursor.Next())
    for (size_t k = 0; k < kind_.size(); ++k)
      if (kind_[k] == kStrided) off[static_cast<int64_t>(k) * kChunk + j] = cursor.offset(k);
}

Result<BinaryShapes> ResolveBinaryShapes(const KernelContext& ctx, const Shape& a, const Shape& b) {
  if (ctx.opset() < 7 && ctx.Int("broadcast", 0) != 0) {
    // Legacy unidirectional broadcast: B's dims match A's dims starting at `axis`.
    const int64_t rank_a = static_cast<int64_t>(a.size());
    const int64_t rank_b = static_cast<int64_t>(b.size());
    Shape b_view = b;
    if (NumElements(b) != 1) {
      if (rank_b > rank_a)
        return ctx.Error("with broadcast=1, B ", ShapeToString(b), " must not have a higher rank than A ",
                         ShapeToString(a));
      int64_t axis = rank_a - rank_b;
      if (ctx.HasAttr("axis")) {
        axis = ctx.Int("axis", axis);
        if (axis < 0) axis += rank_a;
        if (axis < 0 || axis + rank_b > rank_a)
          return ctx.Error("with broadcast=1, axis ", ctx.Int("axis", 0), " does not place B ", ShapeToString(b),
                           " inside A ", ShapeToString(a));
      }
      b_view.resize(static_cast<size_t>(rank_a - axis), 1);  // trailing ones after B's dims
    } else {
      b_view.clear();  // one element: a scalar
    }
    const size_t off = a.size() - b_view.size();
    for (size_t i = 0; i < b_view.size(); ++i)
      if (b_view[i] != 1 && b_view[i] != a[off + i])
        return ctx.Error("with broadcast=1, B ", ShapeToString(b), " does not match A ", ShapeToString(a),
                         " at dimension ", off + i);
    return BinaryShapes{a, a, b_view};
  }
  IDEM_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(ctx, {&a, &b}));
  return BinaryShapes{out, a, b};
}

Result<std::array<const Tensor*, 2>> SameTypeInputs(const KernelContext& ctx) {
  if (ctx.num_inputs() != 2) return ctx.Error("expects 2 inputs, got ", ctx.num_inputs());
  IDEM_ASSIGN_OR_RETURN(const Tensor* a, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* b, ctx.InputTensor(1));
  if (a->dtype() != b->dtype())
    return ctx.Error("inputs must have the same element type, got ", DTypeOnnxName(a->dtype()), " and ",
                     DTypeOnnxName(b->dtype()));
  return std::array<const Tensor*, 2>{a, b};
}

}  // namespace idem::kernels::ew
