// Tensor-sequence kernels (ai.onnx opset 11+): SequenceConstruct, SequenceEmpty, SequenceAt,
// SequenceErase, SequenceInsert, SequenceLength, ConcatFromSequence, SplitToSequence.
// A sequence is a TensorSequence inside an RtValue; elements share buffers with their producers
// (tensors are immutable values), so building sequences copies no data.
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "kernels/kernel.h"

namespace idem::kernels {
namespace {

// Copies `rows` runs of `run` elements from src (run r starts at src_off + r * src_stride) to dst
// (run r starts at dst_off + r * dst_stride). Offsets and strides are in elements.
void CopyRuns(DType dt, const void* src, int64_t src_off, int64_t src_stride, void* dst, int64_t dst_off,
              int64_t dst_stride, int64_t rows, int64_t run) {
  if (rows <= 0 || run <= 0) return;
  if (dt == DType::kString) {
    const auto* s = static_cast<const std::string*>(src);
    auto* d = static_cast<std::string*>(dst);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < run; ++i) d[dst_off + r * dst_stride + i] = s[src_off + r * src_stride + i];
    return;
  }
  const size_t es = DTypeSize(dt);
  const auto* s = static_cast<const char*>(src);
  auto* d = static_cast<char*>(dst);
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(d + static_cast<size_t>(dst_off + r * dst_stride) * es,
                s + static_cast<size_t>(src_off + r * src_stride) * es, static_cast<size_t>(run) * es);
}

int64_t Product(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= s[i];
  return p;
}

Result<const TensorSequence*> InputSequence(const KernelContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return ctx.Error("required sequence input ", i, " is missing");
  const RtValue& v = ctx.input_value(i);
  if (!IsSequence(v)) return ctx.Error("input ", i, " must be a sequence of tensors");
  return &std::get<TensorSequence>(v);
}

// A position input: an integer tensor holding one element, in [-n, n - 1] (or [-n, n] when
// `allow_end`), normalized to [0, n) (or [0, n]).
Result<int64_t> ReadPosition(const KernelContext& ctx, size_t i, int64_t n, bool allow_end) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* p, ctx.InputTensor(i));
  if (p->dtype() != DType::kI64 && p->dtype() != DType::kI32)
    return ctx.Error("input 'position' must be int32 or int64, got ", DTypeOnnxName(p->dtype()));
  if (p->numel() != 1)
    return ctx.Error("input 'position' must be a scalar, got shape ", ShapeToString(p->shape()));
  const int64_t pos = p->IntAt(0);
  const int64_t hi = allow_end ? n : n - 1;
  if (pos < -n || pos > hi)
    return ctx.Error("position ", pos, " is out of range [", -n, ", ", hi, "] for a sequence of ", n, " tensors");
  return pos < 0 ? pos + n : pos;
}

Status CheckElemType(const KernelContext& ctx, const TensorSequence& seq, const Tensor& t) {
  if (seq.elem != DType::kUndefined && t.dtype() != seq.elem)
    return ctx.Error("tensor of type ", DTypeOnnxName(t.dtype()), " does not match the sequence's element type ",
                     DTypeOnnxName(seq.elem));
  return Status::Ok();
}

}  // namespace

Status SequenceConstruct(KernelContext& ctx) {
  TensorSequence seq;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(i));
    if (i == 0) seq.elem = t->dtype();
    else if (t->dtype() != seq.elem)
      return ctx.Error("input ", i, " has type ", DTypeOnnxName(t->dtype()), " but input 0 has ",
                       DTypeOnnxName(seq.elem), "; all inputs must have the same type");
    seq.items.push_back(*t);
  }
  if (seq.items.empty()) return ctx.Error("needs at least one input");
  ctx.SetOutput(0, std::move(seq));
  return Status::Ok();
}

Status SequenceEmpty(KernelContext& ctx) {
  const int64_t dt = ctx.Int("dtype", static_cast<int64_t>(DType::kF32));
  if (dt < 0 || dt > 1000 || !IsValidDType(static_cast<int32_t>(dt)))
    return ctx.UnsupportedError("attribute 'dtype' = ", dt, " is not a supported element type");
  TensorSequence seq;
  seq.elem = static_cast<DType>(dt);
  ctx.SetOutput(0, std::move(seq));
  return Status::Ok();
}

Status SequenceLength(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const TensorSequence* seq, InputSequence(ctx, 0));
  ctx.SetOutput(0, Tensor::Scalar<int64_t>(static_cast<int64_t>(seq->items.size())));
  return Status::Ok();
}

Status SequenceAt(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const TensorSequence* seq, InputSequence(ctx, 0));
  const int64_t n = static_cast<int64_t>(seq->items.size());
  IDEM_ASSIGN_OR_RETURN(int64_t pos, ReadPosition(ctx, 1, n, false));
  ctx.SetOutput(0, seq->items[static_cast<size_t>(pos)]);
  return Status::Ok();
}

Status SequenceErase(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const TensorSequence* seq, InputSequence(ctx, 0));
  const int64_t n = static_cast<int64_t>(seq->items.size());
  if (n == 0) return ctx.Error("cannot erase from an empty sequence");
  int64_t pos = n - 1;
  if (ctx.has_input(1)) {
    IDEM_ASSIGN_OR_RETURN(pos, ReadPosition(ctx, 1, n, false));
  }
  TensorSequence out = *seq;
  out.items.erase(out.items.begin() + pos);
  ctx.SetOutput(0, std::move(out));
  return Status::Ok();
}

Status SequenceInsert(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const TensorSequence* seq, InputSequence(ctx, 0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(1));
  IDEM_RETURN_IF_ERROR(CheckElemType(ctx, *seq, *t));
  const int64_t n = static_cast<int64_t>(seq->items.size());
  int64_t pos = n;
  if (ctx.has_input(2)) {
    IDEM_ASSIGN_OR_RETURN(pos, ReadPosition(ctx, 2, n, true));
  }
  TensorSequence out = *seq;
  out.elem = t->dtype();
  out.items.insert(out.items.begin() + pos, *t);
  ctx.SetOutput(0, std::move(out));
  return Status::Ok();
}

// ConcatFromSequence: numpy.concatenate (new_axis = 0) or numpy.stack (new_axis = 1).
Status ConcatFromSequence(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const TensorSequence* seq, InputSequence(ctx, 0));
  IDEM_ASSIGN_OR_RETURN(int64_t axis, ctx.RequiredInt("axis"));
  const int64_t new_axis = ctx.Int("new_axis", 0);
  if (new_axis != 0 && new_axis != 1) return ctx.Error("attribute 'new_axis' must be 0 or 1, got ", new_axis);
  if (seq->items.empty()) return ctx.Error("cannot concatenate an empty sequence");
  const Tensor& first = seq->items[0];
  const int64_t r = first.rank();
  const int64_t out_rank = r + new_axis;
  if (out_rank == 0) return ctx.Error("cannot concatenate scalars without new_axis = 1");
  if (axis < -out_rank || axis >= out_rank)
    return ctx.Error("axis ", axis, " is out of range [", -out_rank, ", ", out_rank - 1, "] for tensors of rank ", r,
                     new_axis ? " with new_axis = 1" : "");
  if (axis < 0) axis += out_rank;
  const size_t ax = static_cast<size_t>(axis);

  // Every element viewed with rank out_rank (a unit dim inserted at `axis` for new_axis).
  Shape out_shape = first.shape();
  if (new_axis) out_shape.insert(out_shape.begin() + axis, 1);
  out_shape[ax] = 0;
  for (size_t e = 0; e < seq->items.size(); ++e) {
    const Tensor& t = seq->items[e];
    Shape s = t.shape();
    if (new_axis) s.insert(s.begin() + axis, 1);
    bool ok = t.dtype() == first.dtype() && t.rank() == r;
    for (size_t d = 0; ok && d < s.size(); ++d)
      if (d != ax && s[d] != out_shape[d]) ok = false;
    if (!ok)
      return ctx.Error("element ", e, " is ", DTypeOnnxName(t.dtype()), ShapeToString(t.shape()), " but element 0 is ",
                       DTypeOnnxName(first.dtype()), ShapeToString(first.shape()),
                       new_axis ? "; all shapes must be equal" : "; shapes may differ only along the concat axis");
    out_shape[ax] += s[ax];
  }
  Tensor* out;
  IDEM_ASSIGN_OR_RETURN(out, ctx.AllocateOutput(0, first.dtype(), out_shape));
  const int64_t outer = Product(out_shape, 0, ax);
  const int64_t inner = Product(out_shape, ax + 1, out_shape.size());
  const int64_t out_row = out_shape[ax] * inner;
  int64_t at = 0;
  for (const Tensor& t : seq->items) {
    const int64_t d = new_axis ? 1 : t.dim(axis);
    CopyRuns(t.dtype(), t.raw(), 0, d * inner, out->raw(), at * inner, out_row, outer, d * inner);
    at += d;
  }
  return Status::Ok();
}

Status SplitToSequence(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const int64_t r = x->rank();
  int64_t axis = ctx.Int("axis", 0);
  if (r == 0) return ctx.Error("cannot split a scalar");
  if (axis < -r || axis >= r) return ctx.Error("axis ", axis, " is out of range for input of rank ", r);
  if (axis < 0) axis += r;
  const int64_t keepdims = ctx.Int("keepdims", 1);
  const size_t ax = static_cast<size_t>(axis);
  const int64_t dim = x->dim(axis);

  std::vector<int64_t> lengths;
  bool squeeze = false;
  if (ctx.has_input(1)) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* split, ctx.InputTensor(1));
    if (split->dtype() != DType::kI64 && split->dtype() != DType::kI32)
      return ctx.Error("input 'split' must be int32 or int64, got ", DTypeOnnxName(split->dtype()));
    if (split->rank() == 0) {
      const int64_t chunk = split->IntAt(0);
      if (chunk <= 0) return ctx.Error("scalar 'split' must be positive, got ", chunk);
      for (int64_t done = 0; done < dim; done += chunk) lengths.push_back(std::min(chunk, dim - done));
    } else if (split->rank() == 1) {
      int64_t sum = 0;
      for (int64_t i = 0; i < split->numel(); ++i) {
        const int64_t l = split->IntAt(i);
        if (l < 0) return ctx.Error("'split' entries must be >= 0, got ", l, " at index ", i);
        if (l > dim - sum) return ctx.Error("'split' entries sum to more than the axis length ", dim);
        sum += l;
        lengths.push_back(l);
      }
      if (sum != dim) return ctx.Error("'split' entries sum to ", sum, " but the axis length is ", dim);
    } else {
      return ctx.Error("input 'split' must be a scalar or 1-D, got shape ", ShapeToString(split->shape()));
    }
  } else {
    lengths.assign(static_cast<size_t>(dim), 1);
    squeeze = keepdims == 0;
  }

  const Shape& xs = x->shape();
  const int64_t outer = Product(xs, 0, ax);
  const int64_t inner = Product(xs, ax + 1, xs.size());
  TensorSequence seq;
  seq.elem = x->dtype();
  int64_t start = 0;
  for (int64_t l : lengths) {
    Shape s = xs;
    s[ax] = l;
    if (squeeze) s.erase(s.begin() + axis);
    IDEM_ASSIGN_OR_RETURN(Tensor part, Tensor::Create(x->dtype(), s));
    CopyRuns(x->dtype(), x->raw(), start * inner, dim * inner, part.raw(), 0, l * inner, outer, l * inner);
    seq.items.push_back(std::move(part));
    start += l;
  }
  ctx.SetOutput(0, std::move(seq));
  return Status::Ok();
}

}  // namespace idem::kernels
