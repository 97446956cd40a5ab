// Tensor family, shape-only ops: Reshape, Squeeze, Unsqueeze, Flatten (zero-copy views of the input
// buffer), Shape, Size, Identity, Constant, ConstantOfShape, EyeLike.
#include <algorithm>
#include <limits>
#include <set>

#include "kernels/tensor_common.h"
#include "kernels/util.h"

namespace idem::kernels {

namespace {

// Axes given by attribute `axes` before `input_opset`, by input 1 from it on. `given` is false when
// neither is present.
Result<std::vector<int64_t>> AxesAttrOrInput(const KernelContext& ctx, int input_opset, bool* given) {
  *given = false;
  if (ctx.opset() < input_opset) {
    if (!ctx.HasAttr("axes")) return std::vector<int64_t>{};
    *given = true;
    return ctx.Ints("axes");
  }
  if (!ctx.has_input(1)) return std::vector<int64_t>{};
  IDEM_ASSIGN_OR_RETURN(const Tensor* a, ctx.InputTensor(1));
  if (a->rank() > 1) return ctx.Error("axes must be a 1-D tensor, got shape ", ShapeToString(a->shape()));
  *given = true;
  return ReadInts(ctx, *a, "axes");
}

Status SetView(KernelContext& ctx, const Tensor& x, Shape shape) {
  auto r = x.Reshaped(std::move(shape));
  if (!r.ok()) return ctx.Error(r.status().message());
  ctx.SetOutput(0, std::move(r).value());
  return Status::Ok();
}

}  // namespace

Status Reshape(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  std::vector<int64_t> req;
  if (ctx.opset() < 5) {
    if (!ctx.HasAttr("shape")) return ctx.Error("attribute 'shape' is required before opset 5");
    req = ctx.Ints("shape");
  } else {
    IDEM_ASSIGN_OR_RETURN(const Tensor* s, ctx.InputTensor(1));
    if (s->rank() != 1) return ctx.Error("shape must be a 1-D tensor, got shape ", ShapeToString(s->shape()));
    IDEM_ASSIGN_OR_RETURN(req, ReadInts(ctx, *s, "shape"));
  }
  const bool allowzero = ctx.opset() >= 14 && ctx.Int("allowzero", 0) != 0;
  Shape out(req.size());
  int64_t infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < req.size(); ++i) {
    int64_t d = req[i];
    if (d == 0 && !allowzero) {
      if (static_cast<int64_t>(i) >= x->rank())
        return ctx.Error("shape[", i, "] is 0 (copy the input dimension) but the input ", ShapeToString(x->shape()),
                         " has rank ", x->rank());
      d = x->dim(static_cast<int64_t>(i));
    } else if (d == -1) {
      if (infer >= 0) return ctx.Error("shape ", ShapeToString(req), " has more than one -1");
      infer = static_cast<int64_t>(i);
      continue;
    } else if (d < -1) {
      return ctx.Error("shape ", ShapeToString(req), " has the invalid dimension ", d);
    }
    out[i] = d;
    if (d != 0 && known > std::numeric_limits<int64_t>::max() / d)
      return ctx.Error("shape ", ShapeToString(req), " is too large");
    known *= d;
  }
  if (infer >= 0) {
    if (known == 0)
      return ctx.Error("cannot infer the -1 dimension of shape ", ShapeToString(req), " when other dimensions are 0");
    if (x->numel() % known != 0)
      return ctx.Error("cannot reshape ", ShapeToString(x->shape()), " to ", ShapeToString(req), ": ", x->numel(),
                       " elements are not divisible by ", known);
    out[static_cast<size_t>(infer)] = x->numel() / known;
  } else if (known != x->numel()) {
    return ctx.Error("cannot reshape ", ShapeToString(x->shape()), " (", x->numel(), " elements) to ",
                     ShapeToString(out));
  }
  return SetView(ctx, *x, std::move(out));
}

Status Squeeze(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  bool given = false;
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> axes, AxesAttrOrInput(ctx, 13, &given));
  given = given && !axes.empty();  // empty axes = squeeze every dimension of size 1
  IDEM_ASSIGN_OR_RETURN(axes, NormalizeAxes(ctx, axes, x->rank()));
  std::set<int64_t> drop(axes.begin(), axes.end());
  Shape out;
  for (int64_t d = 0; d < x->rank(); ++d) {
    if (given ? drop.count(d) != 0 : x->dim(d) == 1) {
      if (x->dim(d) != 1)
        return ctx.Error("cannot squeeze axis ", d, " of shape ", ShapeToString(x->shape()), ": its size is not 1");
      continue;
    }
    out.push_back(x->dim(d));
  }
  return SetView(ctx, *x, std::move(out));
}

Status Unsqueeze(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  bool given = false;
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> axes, AxesAttrOrInput(ctx, 13, &given));
  if (!given) return ctx.Error("axes are required");
  const int64_t out_rank = x->rank() + static_cast<int64_t>(axes.size());
  IDEM_ASSIGN_OR_RETURN(axes, NormalizeAxes(ctx, axes, out_rank));
  std::set<int64_t> add(axes.begin(), axes.end());
  Shape out;
  int64_t next = 0;
  for (int64_t d = 0; d < out_rank; ++d) out.push_back(add.count(d) ? 1 : x->dim(next++));
  return SetView(ctx, *x, std::move(out));
}

Status Flatten(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const int64_t r = x->rank();
  int64_t axis = ctx.Int("axis", 1);
  if (axis < -r || axis > r) return ctx.Error("axis ", axis, " is out of range [", -r, ", ", r, "]");
  if (axis < 0) axis += r;
  int64_t a = 1, b = 1;
  for (int64_t d = 0; d < r; ++d) (d < axis ? a : b) *= x->dim(d);
  return SetView(ctx, *x, {a, b});
}

Status Shape(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const int64_t r = x->rank();
  int64_t start = 0, end = r;
  if (ctx.opset() >= 15) {
    start = ctx.Int("start", 0);
    end = ctx.Int("end", r);
  }
  auto clamp = [r](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + r : v, 0, r); };
  start = clamp(start);
  end = clamp(end);
  const int64_t n = std::max<int64_t>(0, end - start);
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kI64, {n}));
  for (int64_t i = 0; i < n; ++i) y->data<int64_t>()[i] = x->dim(start + i);
  return Status::Ok();
}

Status Size(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kI64, {}));
  y->data<int64_t>()[0] = x->numel();
  return Status::Ok();
}

// Passes tensors, sequences and (empty) optionals through unchanged (shared buffers).
Status Identity(KernelContext& ctx) {
  if (!ctx.has_input(0)) {
    ctx.SetOutput(0, RtValue{});
    return Status::Ok();
  }
  ctx.SetOutput(0, ctx.input_value(0));
  return Status::Ok();
}

Status Constant(KernelContext& ctx) {
  const Node& n = ctx.node();
  int count = 0;
  for (const char* name : {"value", "sparse_value", "value_float", "value_floats", "value_int", "value_ints",
                           "value_string", "value_strings"})
    if (n.FindAttribute(name) != nullptr) ++count;
  if (count != 1) return ctx.Error("exactly one value attribute is required, got ", count);
  using K = Attribute::Kind;
  if (const Attribute* a = n.FindAttribute("value"); a != nullptr) {
    if (a->kind != K::kTensor) return ctx.Error("attribute 'value' must be a tensor");
    ctx.SetOutput(0, a->t);
  } else if (const Attribute* a = n.FindAttribute("sparse_value"); a != nullptr) {
    if (a->kind != K::kTensor) return ctx.Error("attribute 'sparse_value' must be a sparse tensor");
    ctx.SetOutput(0, a->t);
  } else if (const Attribute* a = n.FindAttribute("value_float"); a != nullptr) {
    IDEM_ASSIGN_OR_RETURN(a, ctx.RequiredAttr("value_float", K::kFloat));
    ctx.SetOutput(0, Tensor::Scalar<float>(a->f));
  } else if (const Attribute* a = n.FindAttribute("value_floats"); a != nullptr) {
    IDEM_ASSIGN_OR_RETURN(a, ctx.RequiredAttr("value_floats", K::kFloats));
    ctx.SetOutput(0, Tensor::FromVector<float>(a->floats, {static_cast<int64_t>(a->floats.size())}));
  } else if (const Attribute* a = n.FindAttribute("value_int"); a != nullptr) {
    IDEM_ASSIGN_OR_RETURN(a, ctx.RequiredAttr("value_int", K::kInt));
    ctx.SetOutput(0, Tensor::Scalar<int64_t>(a->i));
  } else if (const Attribute* a = n.FindAttribute("value_ints"); a != nullptr) {
    IDEM_ASSIGN_OR_RETURN(a, ctx.RequiredAttr("value_ints", K::kInts));
    ctx.SetOutput(0, Tensor::FromVector<int64_t>(a->ints, {static_cast<int64_t>(a->ints.size())}));
  } else if (const Attribute* a = n.FindAttribute("value_string"); a != nullptr) {
    IDEM_ASSIGN_OR_RETURN(a, ctx.RequiredAttr("value_string", K::kString));
    ctx.SetOutput(0, Tensor::Scalar<std::string>(a->s));
  } else {
    IDEM_ASSIGN_OR_RETURN(a, ctx.RequiredAttr("value_strings", K::kStrings));
    ctx.SetOutput(0, Tensor::FromVector<std::string>(a->strings, {static_cast<int64_t>(a->strings.size())}));
  }
  return Status::Ok();
}

Status ConstantOfShape(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* s, ctx.InputTensor(0));
  if (s->rank() != 1) return ctx.Error("input must be a 1-D shape tensor, got shape ", ShapeToString(s->shape()));
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ReadInts(ctx, *s, "input"));
  for (int64_t d : shape)
    if (d < 0) return ctx.Error("shape ", ShapeToString(shape), " has a negative dimension");
  Tensor value = ScalarOfDType(DType::kF32, 0.0);
  if (const Attribute* a = ctx.node().FindAttribute("value"); a != nullptr) {
    if (a->kind != Attribute::Kind::kTensor || a->t.numel() != 1)
      return ctx.Error("attribute 'value' must be a one-element tensor");
    value = a->t;
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, value.dtype(), shape));
  std::vector<DimOffsets> dims;
  for (int64_t d : shape) dims.emplace_back(static_cast<size_t>(d), kFillOffset);
  return MapCopy(ctx, value, 0, dims, &value, y);
}

Status EyeLike(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  if (x->rank() != 2) return ctx.Error("input must be 2-D, got shape ", ShapeToString(x->shape()));
  DType dt = x->dtype();
  if (ctx.HasAttr("dtype")) {
    const int64_t v = ctx.Int("dtype", 0);
    if (!IsValidDType(static_cast<int32_t>(v))) return ctx.Error("attribute dtype ", v, " is not a valid data type");
    dt = static_cast<DType>(v);
  }
  const int64_t k = ctx.Int("k", 0);
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, dt, x->shape()));
  const int64_t rows = x->dim(0), cols = x->dim(1);
  return VisitDType<types::kAllPod>(dt, "EyeLike output", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T one;
    if constexpr (std::is_same_v<T, bool>)
      one = true;
    else
      one = Store<T>(static_cast<ComputeT<T>>(1));
    for (int64_t i = 0; i < rows; ++i) {
      if (k > cols || k < -rows) break;  // no diagonal element inside (also avoids overflow below)
      const int64_t j = i + k;
      if (j >= 0 && j < cols) y->data<T>()[i * cols + j] = one;
    }
    return Status::Ok();
  });
}

}  // namespace idem::kernels
