// Tensor family, data movement: Transpose, Concat, Split, Slice, Expand, Tile, Pad, DepthToSpace,
// SpaceToDepth, Trilu, ReverseSequence. Pure element moves (no arithmetic): Transpose, Slice and
// Expand are one StridedCopy, Tile, Pad and the block rearrangements one MapCopy, Concat and Split
// contiguous range copies.
#include <algorithm>
#include <limits>
#include <set>

#include "kernels/tensor_common.h"
#include "kernels/util.h"

namespace idem::kernels {

namespace {

// Elements per parallel range of the flat copies (Concat, Split): a constant, so ranges depend on
// the shape only.
constexpr int64_t kCopyRangeElems = 32768;

int64_t Product(const Shape& s, int64_t begin, int64_t end) {
  int64_t p = 1;
  for (int64_t d = begin; d < end; ++d) p *= s[static_cast<size_t>(d)];
  return p;
}

}  // namespace

Status Transpose(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const int64_t r = x->rank();
  std::vector<int64_t> perm = ctx.Ints("perm");
  if (!ctx.HasAttr("perm"))
    for (int64_t d = r; d-- > 0;) perm.push_back(d);
  if (static_cast<int64_t>(perm.size()) != r)
    return ctx.Error("perm has ", perm.size(), " entries but the input ", ShapeToString(x->shape()), " has rank ", r);
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (int64_t& p : perm) {
    if (p < -r || p >= r) return ctx.Error("perm entry ", p, " is out of range for rank ", r);
    if (p < 0) p += r;
    if (seen[static_cast<size_t>(p)]) return ctx.Error("perm ", ShapeToString(perm), " is not a permutation");
    seen[static_cast<size_t>(p)] = true;
  }
  const std::vector<int64_t> strides = StridesOf(x->shape());
  Shape out(static_cast<size_t>(r));
  std::vector<int64_t> src_strides(static_cast<size_t>(r));
  for (int64_t d = 0; d < r; ++d) {
    const size_t p = static_cast<size_t>(perm[static_cast<size_t>(d)]);
    out[static_cast<size_t>(d)] = x->shape()[p];
    src_strides[static_cast<size_t>(d)] = strides[p];
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputUninitialized(0, x->dtype(), out));
  return StridedCopy(ctx, *x, 0, out, src_strides, y);
}

Status Concat(KernelContext& ctx) {
  if (ctx.num_inputs() == 0) return ctx.Error("at least one input is required");
  std::vector<const Tensor*> xs;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(i));
    xs.push_back(t);
  }
  const Tensor& x0 = *xs[0];
  const int64_t r = x0.rank();
  if (r == 0) return ctx.Error("inputs must have rank >= 1");
  if (ctx.opset() >= 4 && !ctx.HasAttr("axis")) return ctx.Error("attribute 'axis' is required");
  IDEM_ASSIGN_OR_RETURN(const int64_t axis, NormalizeAxis(ctx, ctx.Int("axis", 1), r));
  Shape out = x0.shape();
  out[static_cast<size_t>(axis)] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& t = *xs[i];
    if (t.dtype() != x0.dtype())
      return ctx.Error("input ", i, " has type ", DTypeOnnxName(t.dtype()), " but input 0 has ",
                       DTypeOnnxName(x0.dtype()));
    bool ok = t.rank() == r;
    for (int64_t d = 0; ok && d < r; ++d) ok = d == axis || t.dim(d) == x0.dim(d);
    if (!ok)
      return ctx.Error("input ", i, " has shape ", ShapeToString(t.shape()), " which does not match input 0 ",
                       ShapeToString(x0.shape()), " outside axis ", axis);
    out[static_cast<size_t>(axis)] += t.dim(axis);
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputUninitialized(0, x0.dtype(), out));
  const int64_t inner = Product(out, axis + 1, r);
  const int64_t row = out[static_cast<size_t>(axis)] * inner;
  if (y->numel() == 0) return Status::Ok();
  // Output row o is the concatenation of every input's row o (chunk_i = dim_i(axis) * inner
  // elements). Parallel over fixed-size ranges of the output, so that a single row (outer = 1)
  // is split too; each range is a few contiguous copies.
  std::vector<int64_t> at(xs.size() + 1, 0);  // start of input i's chunk within a row
  for (size_t i = 0; i < xs.size(); ++i) at[i + 1] = at[i] + xs[i]->dim(axis) * inner;
  ctx.ParallelFor(y->numel(), kCopyRangeElems, [&](int64_t begin, int64_t end) {
    int64_t pos = begin;
    while (pos < end) {
      const int64_t o = pos / row, w = pos % row;
      // Input whose chunk holds w (the last i with at[i] <= w; empty inputs are skipped).
      const size_t i = static_cast<size_t>(std::upper_bound(at.begin(), at.end(), w) - at.begin()) - 1;
      const int64_t chunk = at[i + 1] - at[i];
      const int64_t len = std::min(end - pos, at[i + 1] - w);
      CopyElements(*xs[i], o * chunk + (w - at[i]), y, pos, len);
      pos += len;
    }
  });
  return Status::Ok();
}

Status Split(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  if (x->rank() == 0) return ctx.Error("input must have rank >= 1");
  IDEM_ASSIGN_OR_RETURN(const int64_t axis, NormalizeAxis(ctx, ctx.Int("axis", 0), x->rank()));
  const int64_t n = x->dim(axis);
  const size_t num_out = ctx.num_outputs();
  std::vector<int64_t> split;
  bool given = false;
  if ((ctx.opset() == 1 || ctx.opset() >= 13) && ctx.has_input(1)) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* s, ctx.InputTensor(1));
    if (s->rank() != 1) return ctx.Error("split must be a 1-D tensor, got shape ", ShapeToString(s->shape()));
    if (ctx.opset() == 1 && IsFloat(s->dtype())) {
      split = IndexValues(*s);  // Split-1 types `split` as T
    } else {
      IDEM_ASSIGN_OR_RETURN(split, ReadInts(ctx, *s, "split"));
    }
    given = true;
  } else if (ctx.opset() < 13 && ctx.HasAttr("split")) {
    split = ctx.Ints("split");
    given = true;
  }
  if (!given) {
    if (num_out == 0 || n % static_cast<int64_t>(num_out) != 0)
      return ctx.Error("dimension ", n, " of axis ", axis, " cannot be split into ", num_out, " equal parts");
    split.assign(num_out, n / static_cast<int64_t>(num_out));
  }
  if (split.size() != num_out)
    return ctx.Error("split has ", split.size(), " entries but the node has ", num_out, " outputs");
  int64_t total = 0;
  for (int64_t s : split) {
    if (s < 0) return ctx.Error("split ", ShapeToString(split), " has a negative entry");
    total += s;
  }
  if (total != n)
    return ctx.Error("split ", ShapeToString(split), " sums to ", total, " but axis ", axis, " has size ", n);
  const int64_t inner = Product(x->shape(), axis + 1, x->rank());
  int64_t start = 0;
  for (size_t k = 0; k < num_out; ++k) {
    const int64_t len = split[k];
    if (ctx.output_wanted(k)) {
      Shape s = x->shape();
      s[static_cast<size_t>(axis)] = len;
      IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(k, x->dtype(), s));
      if (y->numel() > 0) {
        // Output row o (len * inner elements) is input row o from `start`; parallel over fixed-size
        // ranges of the output so that one long row is split too.
        const int64_t row = len * inner;
        ctx.ParallelFor(y->numel(), kCopyRangeElems, [&](int64_t begin, int64_t end) {
          for (int64_t pos = begin; pos < end;) {
            const int64_t o = pos / row, w = pos % row;
            const int64_t count = std::min(end - pos, row - w);
            CopyElements(*x, (o * n + start) * inner + w, y, pos, count);
            pos += count;
          }
        });
      }
    }
    start += len;
  }
  return Status::Ok();
}

Status Slice(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const int64_t r = x->rank();
  std::vector<int64_t> starts, ends, axes, steps;
  bool have_axes = false, have_steps = false;
  if (ctx.opset() < 10) {
    if (!ctx.HasAttr("starts") || !ctx.HasAttr("ends")) return ctx.Error("attributes 'starts' and 'ends' are required");
    starts = ctx.Ints("starts");
    ends = ctx.Ints("ends");
    if ((have_axes = ctx.HasAttr("axes"))) axes = ctx.Ints("axes");
  } else {
    IDEM_ASSIGN_OR_RETURN(const Tensor* ts, ctx.InputTensor(1));
    IDEM_ASSIGN_OR_RETURN(const Tensor* te, ctx.InputTensor(2));
    IDEM_ASSIGN_OR_RETURN(starts, ReadInts(ctx, *ts, "starts"));
    IDEM_ASSIGN_OR_RETURN(ends, ReadInts(ctx, *te, "ends"));
    if ((have_axes = ctx.has_input(3))) {
      IDEM_ASSIGN_OR_RETURN(const Tensor* ta, ctx.InputTensor(3));
      IDEM_ASSIGN_OR_RETURN(axes, ReadInts(ctx, *ta, "axes"));
    }
    if ((have_steps = ctx.has_input(4))) {
      IDEM_ASSIGN_OR_RETURN(const Tensor* tt, ctx.InputTensor(4));
      IDEM_ASSIGN_OR_RETURN(steps, ReadInts(ctx, *tt, "steps"));
    }
  }
  if (!have_axes)
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (!have_steps) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return ctx.Error("starts, ends, axes and steps must have the same length, got ", starts.size(), ", ", ends.size(),
                     ", ", axes.size(), ", ", steps.size());
  IDEM_ASSIGN_OR_RETURN(axes, NormalizeAxes(ctx, axes, r));
  const std::vector<int64_t> strides = StridesOf(x->shape());
  Shape out = x->shape();
  std::vector<int64_t> first(static_cast<size_t>(r), 0), step(static_cast<size_t>(r), 1);
  for (size_t i = 0; i < axes.size(); ++i) {
    const size_t a = static_cast<size_t>(axes[i]);
    const int64_t n = x->shape()[a];
    int64_t s = starts[i], e = ends[i];
    const int64_t t = steps[i];
    if (t == 0) return ctx.Error("steps[", i, "] is 0");
    if (s < 0) s += n;
    if (e < 0) e += n;
    int64_t len;
    if (n == 0) {
      len = 0;
    } else if (t > 0) {
      s = std::clamp<int64_t>(s, 0, n);
      e = std::clamp<int64_t>(e, 0, n);
      len = e > s ? (e - s - 1) / t + 1 : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, n - 1);
      e = std::clamp<int64_t>(e, -1, n - 1);
      len = s > e ? (s - e - 1) / (-t) + 1 : 0;
    }
    out[a] = len;
    first[a] = len > 0 ? s : 0;
    step[a] = len > 1 ? t : 1;  // |t| <= n here, so t * stride cannot overflow
  }
  int64_t base = 0;
  std::vector<int64_t> src_strides(static_cast<size_t>(r));
  for (int64_t d = 0; d < r; ++d) {
    const size_t u = static_cast<size_t>(d);
    base += first[u] * strides[u];
    src_strides[u] = step[u] * strides[u];
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputUninitialized(0, x->dtype(), out));
  if (y->numel() == 0) return Status::Ok();
  return StridedCopy(ctx, *x, base, out, src_strides, y);
}

Status Expand(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* s, ctx.InputTensor(1));
  if (s->rank() != 1) return ctx.Error("shape must be a 1-D tensor, got shape ", ShapeToString(s->shape()));
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ReadInts(ctx, *s, "shape"));
  for (int64_t d : shape)
    if (d < 0) return ctx.Error("shape ", ShapeToString(shape), " has a negative dimension");
  IDEM_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(ctx, {&x->shape(), &shape}));
  const std::vector<int64_t> strides = BroadcastStrides(x->shape(), out);
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputUninitialized(0, x->dtype(), out));
  return StridedCopy(ctx, *x, 0, out, strides, y);
}

Status Tile(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const int64_t r = x->rank();
  std::vector<int64_t> repeats(static_cast<size_t>(r), 1);
  if (ctx.opset() < 6) {
    // Tile-1: inputs `tiles` and `axis` (scalars): repeat `tiles` times along `axis`.
    IDEM_ASSIGN_OR_RETURN(const Tensor* tiles, ctx.InputTensor(1));
    IDEM_ASSIGN_OR_RETURN(const Tensor* axis_t, ctx.InputTensor(2));
    if (tiles->numel() != 1 || axis_t->numel() != 1) return ctx.Error("tiles and axis must be scalars");
    IDEM_ASSIGN_OR_RETURN(const int64_t axis, NormalizeAxis(ctx, IndexValues(*axis_t)[0], r));
    repeats[static_cast<size_t>(axis)] = IndexValues(*tiles)[0];
  } else {
    IDEM_ASSIGN_OR_RETURN(const Tensor* rt, ctx.InputTensor(1));
    if (rt->rank() != 1 || rt->numel() != r)
      return ctx.Error("repeats must be a 1-D tensor of ", r, " elements, got shape ", ShapeToString(rt->shape()));
    IDEM_ASSIGN_OR_RETURN(repeats, ReadInts(ctx, *rt, "repeats"));
  }
  const std::vector<int64_t> strides = StridesOf(x->shape());
  Shape out(static_cast<size_t>(r));
  std::vector<DimOffsets> dims;
  for (size_t d = 0; d < static_cast<size_t>(r); ++d) {
    if (repeats[d] < 0) return ctx.Error("repeats ", ShapeToString(repeats), " has a negative entry");
    const int64_t n = x->shape()[d];
    if (n != 0 && repeats[d] > std::numeric_limits<int64_t>::max() / n) return ctx.Error("repeats are too large");
    out[d] = n * repeats[d];
    DimOffsets m(static_cast<size_t>(out[d]));
    for (int64_t o = 0; o < out[d]; ++o) m[static_cast<size_t>(o)] = (o % n) * strides[d];
    dims.push_back(std::move(m));
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputUninitialized(0, x->dtype(), out));
  return MapCopy(ctx, *x, 0, dims, nullptr, y);
}

Status Pad(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const int64_t r = x->rank();
  const std::string mode = ctx.String("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return ctx.Error("mode '", mode, "' is not one of constant, reflect, edge");
  std::vector<int64_t> pads;
  Tensor fill;
  if (ctx.opset() < 11) {
    const char* name = ctx.opset() < 2 ? "paddings" : "pads";
    if (!ctx.HasAttr(name)) return ctx.Error("attribute '", name, "' is required");
    pads = ctx.Ints(name);
    fill = ScalarOfDType(x->dtype(), ctx.Float("value", 0.0f));
  } else {
    IDEM_ASSIGN_OR_RETURN(const Tensor* p, ctx.InputTensor(1));
    if (p->rank() != 1) return ctx.Error("pads must be a 1-D tensor, got shape ", ShapeToString(p->shape()));
    IDEM_ASSIGN_OR_RETURN(pads, ReadInts(ctx, *p, "pads"));
    if (ctx.has_input(2)) {
      IDEM_ASSIGN_OR_RETURN(const Tensor* cv, ctx.InputTensor(2));
      if (cv->numel() != 1) return ctx.Error("constant_value must have one element, got ", cv->numel());
      if (cv->dtype() != x->dtype())
        return ctx.Error("constant_value has type ", DTypeOnnxName(cv->dtype()), " but data has ",
                         DTypeOnnxName(x->dtype()));
      fill = *cv;
    } else {
      fill = ScalarOfDType(x->dtype(), 0.0);
    }
  }
  if (static_cast<int64_t>(pads.size()) != 2 * r)
    return ctx.Error("pads has ", pads.size(), " entries but the input ", ShapeToString(x->shape()), " needs ", 2 * r);
  const std::vector<int64_t> strides = StridesOf(x->shape());
  Shape out(static_cast<size_t>(r));
  std::vector<DimOffsets> dims;
  for (size_t d = 0; d < static_cast<size_t>(r); ++d) {
    const int64_t n = x->shape()[d];
    const int64_t b = pads[d], e = pads[d + static_cast<size_t>(r)];
    const int64_t limit = int64_t{1} << 40;
    if (b > limit || e > limit || b < -limit || e < -limit)
      return ctx.Error("pads ", ShapeToString(pads), " are too large");
    out[d] = n + b + e;
    if (out[d] < 0)
      return ctx.Error("pads ", ShapeToString(pads), " give a negative size for axis ", d, " of ",
                       ShapeToString(x->shape()));
    if (mode != "constant" && n == 0 && out[d] > 0)
      return ctx.Error("cannot pad the empty axis ", d, " in ", mode, " mode");
    DimOffsets m(static_cast<size_t>(out[d]));
    for (int64_t o = 0; o < out[d]; ++o) {
      int64_t i = o - b;
      if (i < 0 || i >= n) {
        if (mode == "constant") {
          m[static_cast<size_t>(o)] = kFillOffset;
          continue;
        }
        if (mode == "edge" || n == 1) {
          i = std::clamp<int64_t>(i, 0, n - 1);
        } else {  // reflect (without repeating the edge), periodic with period 2 * (n - 1)
          const int64_t period = 2 * (n - 1);
          i %= period;
          if (i < 0) i += period;
          if (i >= n) i = period - i;
        }
      }
      m[static_cast<size_t>(o)] = i * strides[d];
    }
    dims.push_back(std::move(m));
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputUninitialized(0, x->dtype(), out));
  return MapCopy(ctx, *x, 0, dims, &fill, y);
}

namespace {

enum class BlockLayout { kDCR, kCRD, kSpaceToDepth };

// DepthToSpace / SpaceToDepth as one 6-D MapCopy (a reshape-transpose-reshape without temporaries).
Status BlockRearrange(KernelContext& ctx, BlockLayout layout) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  if (x->rank() != 4) return ctx.Error("input must be 4-D (N, C, H, W), got shape ", ShapeToString(x->shape()));
  IDEM_ASSIGN_OR_RETURN(const int64_t b, ctx.RequiredInt("blocksize"));
  if (b <= 0) return ctx.Error("blocksize ", b, " must be positive");
  const int64_t N = x->dim(0), C = x->dim(1), H = x->dim(2), W = x->dim(3);
  Shape out;
  std::vector<DimOffsets> dims;
  if (layout == BlockLayout::kSpaceToDepth) {
    if (H % b != 0 || W % b != 0)
      return ctx.Error("height ", H, " and width ", W, " must be divisible by blocksize ", b);
    const int64_t h = H / b, w = W / b;
    out = {N, C * b * b, h, w};
    // Output viewed as [N, b1, b2, C, h, w] reading input [N, C, h, b1, w, b2].
    dims = {AffineOffsets(N, 0, C * H * W), AffineOffsets(b, 0, W),     AffineOffsets(b, 0, 1),
            AffineOffsets(C, 0, H * W),     AffineOffsets(h, 0, b * W), AffineOffsets(w, 0, b)};
  } else {
    if (C % (b * b) != 0) return ctx.Error("channels ", C, " must be divisible by blocksize^2 = ", b * b);
    const int64_t c = C / (b * b);
    out = {N, c, H * b, W * b};
    // Output viewed as [N, c, H, b1, W, b2]; the input channel is (b1, b2, c) for DCR, (c, b1, b2) for CRD.
    const int64_t hw = H * W;
    const bool dcr = layout == BlockLayout::kDCR;
    dims = {AffineOffsets(N, 0, C * hw), AffineOffsets(c, 0, dcr ? hw : b * b * hw),
            AffineOffsets(H, 0, W),      AffineOffsets(b, 0, dcr ? b * c * hw : b * hw),
            AffineOffsets(W, 0, 1),      AffineOffsets(b, 0, dcr ? c * hw : hw)};
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputUninitialized(0, x->dtype(), out));
  return MapCopy(ctx, *x, 0, dims, nullptr, y);
}

}  // namespace

Status DepthToSpace(KernelContext& ctx) {
  const std::string mode = ctx.opset() >= 11 ? ctx.String("mode", "DCR") : "DCR";
  if (mode != "DCR" && mode != "CRD") return ctx.Error("mode '", mode, "' is not DCR or CRD");
  return BlockRearrange(ctx, mode == "DCR" ? BlockLayout::kDCR : BlockLayout::kCRD);
}

Status SpaceToDepth(KernelContext& ctx) { return BlockRearrange(ctx, BlockLayout::kSpaceToDepth); }

Status Trilu(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  if (x->rank() < 2) return ctx.Error("input must have rank >= 2, got shape ", ShapeToString(x->shape()));
  int64_t k = 0;
  if (ctx.has_input(1)) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* kt, ctx.InputTensor(1));
    if (kt->numel() != 1) return ctx.Error("k must be a scalar, got shape ", ShapeToString(kt->shape()));
    IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> kv, ReadInts(ctx, *kt, "k"));
    k = kv[0];
  }
  const bool upper = ctx.Int("upper", 1) != 0;
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
  const int64_t rows = x->dim(x->rank() - 2), cols = x->dim(x->rank() - 1);
  const int64_t mats = rows * cols == 0 ? 0 : x->numel() / (rows * cols);
  // Row i keeps columns j with j - i >= k (upper) or j - i <= k (lower); the others stay zero.
  const int64_t kk = std::clamp<int64_t>(k, -rows - 1, cols + 1);
  ctx.ParallelFor(mats * rows, RowGrain(cols), [&](int64_t begin, int64_t end) {
    for (int64_t m = begin; m < end; ++m) {
      const int64_t i = m % rows;
      const int64_t lo = upper ? std::clamp<int64_t>(i + kk, 0, cols) : 0;
      const int64_t hi = upper ? cols : std::clamp<int64_t>(i + kk + 1, 0, cols);
      CopyElements(*x, m * cols + lo, y, m * cols + lo, hi - lo);
    }
  });
  return Status::Ok();
}

Status ReverseSequence(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* lt, ctx.InputTensor(1));
  if (x->rank() < 2) return ctx.Error("input must have rank >= 2, got shape ", ShapeToString(x->shape()));
  const int64_t batch_axis = ctx.Int("batch_axis", 1), time_axis = ctx.Int("time_axis", 0);
  if (!((batch_axis == 0 && time_axis == 1) || (batch_axis == 1 && time_axis == 0)))
    return ctx.Error("batch_axis ", batch_axis, " and time_axis ", time_axis, " must be 0 and 1 in some order");
  const int64_t B = x->dim(batch_axis), T = x->dim(time_axis);
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> lens, ReadInts(ctx, *lt, "sequence_lens"));
  if (lt->rank() != 1 || static_cast<int64_t>(lens.size()) != B)
    return ctx.Error("sequence_lens must be a 1-D tensor of ", B, " elements, got shape ", ShapeToString(lt->shape()));
  for (int64_t l : lens)
    if (l < 0 || l > T) return ctx.Error("sequence length ", l, " is out of range [0, ", T, "]");
  const int64_t inner = Product(x->shape(), 2, x->rank());
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputUninitialized(0, x->dtype(), x->shape()));
  auto offset = [&](int64_t b, int64_t t) { return (time_axis == 0 ? t * B + b : b * T + t) * inner; };
  ctx.ParallelFor(B * T, RowGrain(inner), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / T, t = i % T;
      const int64_t l = lens[static_cast<size_t>(b)];
      const int64_t src_t = t < l ? l - 1 - t : t;
      CopyElements(*x, offset(b, src_t), y, offset(b, t), inner);
    }
  });
  return Status::Ok();
}

}  // namespace idem::kernels
