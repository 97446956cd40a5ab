// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear (linalg family), per-tensor and
// per-axis. Formulas (all f32, every operation correctly rounded, so every target agrees):
//   quantize:   q = saturate(round_half_even(x / scale) + zero_point)
//               (x / scale is one IEEE division; the rounded value is clamped to
//               [qmin - zp, qmax - zp] before the zero point is added; NaN quantizes to zp)
//   dequantize: y = float(x - zero_point) * scale   (x - zero_point exact in int64)
//   dynamic:    min = min(0, min(x)), max = max(0, max(x)) (NaNs ignored);
//               scale = max == min ? 1 : (max - min) / 255;
//               zero_point = round_half_even(clamp(0 - min / scale, 0, 255)); then quantize.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/dtype.h"
#include "core/math.h"
#include "kernels/kernel.h"
#include "kernels/util.h"

namespace idem::kernels {
namespace {

template <typename Q>
inline Q QuantizeValue(float x, float scale, int32_t zp) {
  constexpr float kMin = static_cast<float>(std::numeric_limits<Q>::min());
  constexpr float kMax = static_cast<float>(std::numeric_limits<Q>::max());
  float v = math::round_half_even(x / scale);
  if (std::isnan(v)) return static_cast<Q>(zp);
  v = std::min(std::max(v, kMin - static_cast<float>(zp)), kMax - static_cast<float>(zp));
  return static_cast<Q>(static_cast<int32_t>(v) + zp);
}

// Scale and zero point layout: per tensor (one value) or per slice along `axis`.
struct QuantParams {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;  // same length as scale
  int64_t inner = 1;                // elements per slice step along the axis (per-axis only)
  int64_t axis_dim = 1;             // size of the axis (per-axis only)
  // Parameter index of element i.
  size_t Index(int64_t i) const {
    return scale.size() == 1 ? 0 : static_cast<size_t>((i / inner) % axis_dim);
  }
};

// Reads scale (input 1) and optional zero point (input 2) for x; `zp_type` receives the zero
// point's dtype (kUndefined when absent).
Result<QuantParams> ReadQuantParams(const KernelContext& ctx, const Tensor& x, DType* zp_type) {
  QuantParams q;
  IDEM_ASSIGN_OR_RETURN(const Tensor* s, ctx.InputTensor(1));
  if (s->dtype() != DType::kF32) return ctx.Error("scale must be float, got ", DTypeOnnxName(s->dtype()));
  const Tensor* zp = nullptr;
  if (ctx.has_input(2)) {
    IDEM_ASSIGN_OR_RETURN(zp, ctx.InputTensor(2));
  }
  *zp_type = zp ? zp->dtype() : DType::kUndefined;
  if (zp && zp->shape() != s->shape() && !(zp->numel() == 1 && s->numel() == 1))
    return ctx.Error("zero point shape ", ShapeToString(zp->shape()), " differs from scale shape ",
                     ShapeToString(s->shape()));
  if (s->numel() == 1 && s->rank() <= 1) {
    q.scale = {s->data<float>()[0]};
  } else {
    if (ctx.opset() < 13 || s->rank() != 1)
      return ctx.Error("scale must be a scalar", ctx.opset() >= 13 ? " or 1-D" : "", ", got shape ",
                       ShapeToString(s->shape()));
    IDEM_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, ctx.Int("axis", 1), x.rank()));
    if (x.dim(axis) != s->dim(0))
      return ctx.Error("scale has ", s->dim(0), " values but input dim ", axis, " of ", ShapeToString(x.shape()),
                       " has size ", x.dim(axis));
    q.scale.assign(s->data<float>(), s->data<float>() + s->numel());
    q.axis_dim = x.dim(axis);
    for (int64_t d = axis + 1; d < x.rank(); ++d) q.inner *= x.dim(d);
  }
  q.zero_point.assign(q.scale.size(), 0);
  if (zp)
    for (int64_t i = 0; i < zp->numel(); ++i) q.zero_point[static_cast<size_t>(i)] = zp->IntAt(i);
  return q;
}

}  // namespace

Status QuantizeLinear(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* X, ctx.InputTensor(0));
  DType zp_type;
  IDEM_ASSIGN_OR_RETURN(QuantParams q, ReadQuantParams(ctx, *X, &zp_type));
  const DType out_type = zp_type == DType::kUndefined ? DType::kU8 : zp_type;
  if (out_type != DType::kU8 && out_type != DType::kI8)
    return ctx.Error("zero point type ", DTypeOnnxName(out_type), " is not uint8 or int8");
  if (X->dtype() != DType::kF32 && X->dtype() != DType::kI32)
    return ctx.UnsupportedError("input type ", DTypeOnnxName(X->dtype()), " (expected float or int32)");
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, out_type, X->shape()));
  return VisitDType<types::Bit(DType::kI8) | types::Bit(DType::kU8)>(out_type, "QuantizeLinear", [&](auto tag) {
    using Q = typename decltype(tag)::type;
    Q* y = Y->data<Q>();
    const bool is_f32 = X->dtype() == DType::kF32;
    ctx.ParallelFor(X->numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const float v = is_f32 ? X->data<float>()[i] : static_cast<float>(X->data<int32_t>()[i]);
        const size_t k = q.Index(i);
        y[i] = QuantizeValue<Q>(v, q.scale[k], static_cast<int32_t>(q.zero_point[k]));
      }
    });
    return Status::Ok();
  });
}

Status DequantizeLinear(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* X, ctx.InputTensor(0));
  DType zp_type;
  IDEM_ASSIGN_OR_RETURN(QuantParams q, ReadQuantParams(ctx, *X, &zp_type));
  if (zp_type != DType::kUndefined && zp_type != X->dtype())
    return ctx.Error("zero point type ", DTypeOnnxName(zp_type), " differs from input type ", DTypeOnnxName(X->dtype()));
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, DType::kF32, X->shape()));
  constexpr uint32_t kTypes = types::Bit(DType::kI8) | types::Bit(DType::kU8) | types::Bit(DType::kI32);
  return VisitDType<kTypes>(X->dtype(), "DequantizeLinear", [&](auto tag) {
    using Q = typename decltype(tag)::type;
    const Q* x = X->data<Q>();
    float* y = Y->data<float>();
    ctx.ParallelFor(X->numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const size_t k = q.Index(i);
        y[i] = static_cast<float>(static_cast<int64_t>(x[i]) - q.zero_point[k]) * q.scale[k];
      }
    });
    return Status::Ok();
  });
}

Status DynamicQuantizeLinear(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* X, ctx.InputTensor(0));
  if (X->dtype() != DType::kF32)
    return ctx.UnsupportedError("input type ", DTypeOnnxName(X->dtype()), " (expected float)");
  const float* x = X->data<float>();
  // Sequential min/max (exact: order does not matter), NaNs ignored, range extended to include 0.
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < X->numel(); ++i) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  const float scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  const float initial_zp = 0.0f - lo / scale;
  const float zp_f = math::round_half_even(std::max(0.0f, std::min(255.0f, initial_zp)));
  const int32_t zp = std::isnan(zp_f) ? 0 : static_cast<int32_t>(zp_f);
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, DType::kU8, X->shape()));
  IDEM_ASSIGN_OR_RETURN(Tensor * S, ctx.AllocateOutput(1, DType::kF32, Shape{}));
  IDEM_ASSIGN_OR_RETURN(Tensor * Z, ctx.AllocateOutput(2, DType::kU8, Shape{}));
  S->data<float>()[0] = scale;
  Z->data<uint8_t>()[0] = static_cast<uint8_t>(zp);
  uint8_t* y = Y->data<uint8_t>();
  ctx.ParallelFor(X->numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = QuantizeValue<uint8_t>(x[i], scale, zp);
  });
  return Status::Ok();
}

}  // namespace idem::kernels
