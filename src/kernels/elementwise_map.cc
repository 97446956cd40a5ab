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

bool SimdElemType(DType dt, simd::ElemType* t) {
  switch (dt) {
    case DType::kF32: *t = simd::ElemType::kF32; return true;
    case DType::kF16: *t = simd::ElemType::kF16; return true;
    case DType::kBF16: *t = simd::ElemType::kBF16; return true;
    default: return false;
  }
}

BinaryRuns::BinaryRuns(const Shape& out, const Shape& a, const Shape& b) {
  const std::vector<int64_t> sa = BroadcastStrides(a, out);
  const std::vector<int64_t> sb = BroadcastStrides(b, out);
  std::vector<int64_t> d, x, y;  // innermost first
  for (size_t i = out.size(); i-- > 0;) {
    if (out[i] == 1) continue;
    if (!d.empty() && x.back() * d.back() == sa[i] && y.back() * d.back() == sb[i]) {
      d.back() *= out[i];
    } else {
      d.push_back(out[i]);
      x.push_back(sa[i]);
      y.push_back(sb[i]);
    }
  }
  if (d.empty()) return;  // one element (or none): a run of 1, steps 0
  inner_ = d[0] > 0 ? d[0] : 1;
  a_step_ = x[0];
  b_step_ = y[0];
  dims_.assign(d.begin() + 1, d.end());
  a_str_.assign(x.begin() + 1, x.end());
  b_str_.assign(y.begin() + 1, y.end());
}

Result<bool> TrySimdUnary(KernelContext& ctx, const Tensor& x, simd::UnaryF32Op op,
                          const simd::UnaryF32Params& params) {
  const simd::Isa isa = simd::CurrentIsa();
  simd::ElemType type;
  if (isa == simd::Isa::kScalar || !SimdElemType(x.dtype(), &type)) return false;
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutputUninitialized(0, x.dtype(), x.shape()));
  const simd::UnaryF32Fn fn = simd::UnaryF32For(isa, type);  // dispatch once per call
  const size_t es = type == simd::ElemType::kF32 ? sizeof(float) : sizeof(uint16_t);
  const char* src = static_cast<const char*>(x.raw());
  char* dst = static_cast<char*>(y->raw());
  ctx.ParallelFor(x.numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
    fn(op, params, src + static_cast<size_t>(b) * es, dst + static_cast<size_t>(b) * es, static_cast<size_t>(e - b));
  });
  return true;
}

Result<bool> TrySimdBinary(KernelContext& ctx, const Tensor& a, const Tensor& b, const BinaryShapes& s,
                           simd::BinaryF32Op op) {
  const simd::Isa isa = simd::CurrentIsa();
  simd::ElemType type;
  if (isa == simd::Isa::kScalar || a.dtype() != b.dtype() || !SimdElemType(a.dtype(), &type)) return false;
  const BinaryRuns runs(s.out, s.a, s.b);
  const int64_t n = NumElements(s.out);
  if (runs.inner() < kMinSimdRun && n > 1) return false;
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutputUninitialized(0, a.dtype(), s.out));
  const simd::BinaryF32Fn fn = simd::BinaryF32For(isa, type);  // dispatch once per call
  const size_t es = type == simd::ElemType::kF32 ? sizeof(float) : sizeof(uint16_t);
  const char* pa = static_cast<const char*>(a.raw());
  const char* pb = static_cast<const char*>(b.raw());
  char* dst = static_cast<char*>(y->raw());
  ctx.ParallelFor(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    runs.ForRange(begin, end, [&](int64_t o, int64_t ao, int64_t as, int64_t bo, int64_t bs, int64_t len) {
      fn(op, pa + static_cast<size_t>(ao) * es, static_cast<size_t>(as), pb + static_cast<size_t>(bo) * es,
         static_cast<size_t>(bs), dst + static_cast<size_t>(o) * es, static_cast<size_t>(len));
    });
  });
  return true;
}

}  // namespace idem::kernels::ew
