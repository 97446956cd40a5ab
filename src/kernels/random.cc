// Random generators and Dropout: RandomNormal, RandomUniform, RandomNormalLike, RandomUniformLike,
// Bernoulli, Multinomial, Dropout (opsets 1–17).
//
// Every random value comes from counter-based Philox4x32-10 (core/philox.h) keyed by
// (seed, node_key(), element index), so results depend only on those three and never on thread
// count, tiling or call order (DESIGN.md D6). The seed is the node's `seed` attribute when present
// (an integral float seed s gives the integer s, any other float its IEEE bit pattern; Dropout's int
// seed is used as is), otherwise the run's seed (ctx.seed()).
//
// Draws (i = row-major output element index):
//  - uniform, f32/f16/bf16 output: u = UniformFloat(i) (24 bits); f64 output: u = UniformDouble(i).
//    value = fma(u, high - low, low).
//  - normal (Box–Muller): u1, u2 = uniforms of counters 2i, 2i+1 (as above for the precision);
//    z = sqrt(-2 log(1 - u1)) * cos(2 pi u2); value = fma(z, scale, mean).
//  - Bernoulli: 1 if u(i) < p[i] else 0, u in the input's compute precision.
//  - Multinomial: sample s of row b uses u = UniformDouble(b * sample_size + s); the class is the
//    first c whose running (sequential, double) sum of exp(x - max) exceeds u * total.
//  - Dropout (training): element i is kept iff UniformFloat(i) >= ratio; kept values are x * scale,
//    scale = 1 / (1 - ratio); dropped values are 0.
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "core/math.h"
#include "core/philox.h"
#include "kernels/kernel.h"
#include "kernels/util.h"

namespace idem::kernels {
namespace {

uint64_t NodeSeed(const KernelContext& ctx) {
  const Attribute* a = ctx.node().FindAttribute("seed");
  if (!a) return ctx.seed();
  if (a->kind == Attribute::Kind::kInt) return static_cast<uint64_t>(a->i);
  if (a->kind == Attribute::Kind::kFloat) {
    const float f = a->f;
    if (std::isfinite(f) && f == std::trunc(f) && std::fabs(f) < 0x1p62f)
      return static_cast<uint64_t>(static_cast<int64_t>(f));
    return std::bit_cast<uint32_t>(f);
  }
  return ctx.seed();
}

PhiloxStream StreamOf(const KernelContext& ctx) { return PhiloxStream(NodeSeed(ctx), ctx.node_key()); }

// Uniform in [0, 1) in compute precision C for element i.
template <typename C>
C Uniform01(const PhiloxStream& ps, uint64_t i) {
  if constexpr (std::is_same_v<C, double>) return ps.UniformDouble(i);
  else return ps.UniformFloat(i);
}

// Standard normal for element i (Box–Muller over counters 2i, 2i+1).
template <typename C>
C StandardNormal(const PhiloxStream& ps, uint64_t i) {
  const C u1 = Uniform01<C>(ps, 2 * i), u2 = Uniform01<C>(ps, 2 * i + 1);
  constexpr C kTwoPi = static_cast<C>(6.283185307179586476925286766559);
  const C radius = std::sqrt(C(-2) * math::log(C(1) - u1));  // 1 - u1 in (0, 1]: finite
  return radius * math::cos(kTwoPi * u2);
}

Result<DType> OutputFloatDType(const KernelContext& ctx, int64_t onnx_type) {
  if (!IsValidDType(static_cast<int32_t>(onnx_type)) || !IsFloat(static_cast<DType>(onnx_type)))
    return ctx.Error("dtype ", onnx_type, " is not a floating-point type (float16, float, double, bfloat16)");
  return static_cast<DType>(onnx_type);
}

enum class Dist { kUniform, kNormal };

Status FillRandom(KernelContext& ctx, Dist dist, DType dtype, const Shape& shape) {
  IDEM_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, dtype, shape));
  const PhiloxStream ps = StreamOf(ctx);
  const float a = dist == Dist::kUniform ? ctx.Float("low", 0.0f) : ctx.Float("mean", 0.0f);
  const float b = dist == Dist::kUniform ? ctx.Float("high", 1.0f) : ctx.Float("scale", 1.0f);
  return VisitDType<types::kFloat>(dtype, "random output", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    T* o = out->data<T>();
    const C lo = static_cast<C>(a), width = static_cast<C>(b) - static_cast<C>(a);
    const C mean = static_cast<C>(a), scale = static_cast<C>(b);
    ctx.ParallelFor(out->numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const uint64_t u = static_cast<uint64_t>(i);
        o[i] = Store<T>(dist == Dist::kUniform ? std::fma(Uniform01<C>(ps, u), width, lo)
                                               : std::fma(StandardNormal<C>(ps, u), scale, mean));
      }
    });
    return Status::Ok();
  });
}

Result<Shape> ShapeAttr(const KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Attribute* a, ctx.RequiredAttr("shape", Attribute::Kind::kInts));
  for (int64_t d : a->ints)
    if (d < 0) return ctx.Error("shape attribute has a negative dimension ", d);
  if (NumElements(a->ints) < 0) return ctx.Error("shape attribute ", ShapeToString(a->ints), " is too large");
  return a->ints;
}

Result<DType> LikeDType(const KernelContext& ctx, const Tensor& in) {
  if (ctx.HasAttr("dtype")) return OutputFloatDType(ctx, ctx.Int("dtype", 1));
  if (!IsFloat(in.dtype()))
    return ctx.Error("input has element type ", DTypeOnnxName(in.dtype()),
                     "; without a dtype attribute the output type must be floating-point");
  return in.dtype();
}

// Dropout's ratio: opset >= 12 from input 1 (default 0.5), earlier from the attribute.
Result<double> DropoutRatio(const KernelContext& ctx) {
  if (ctx.opset() < 12) return static_cast<double>(ctx.Float("ratio", 0.5f));
  if (!ctx.has_input(1)) return 0.5;
  IDEM_ASSIGN_OR_RETURN(const Tensor* r, ctx.InputTensor(1));
  if (!IsFloat(r->dtype()) || r->numel() != 1)
    return ctx.Error("ratio must be a floating-point scalar, got ", DTypeOnnxName(r->dtype()), " ",
                     ShapeToString(r->shape()));
  return r->DoubleAt(0);
}

Result<bool> DropoutTraining(const KernelContext& ctx) {
  if (ctx.opset() < 7) return ctx.Int("is_test", 0) == 0;
  if (ctx.opset() < 12) return false;  // Dropout-7/10 have no training switch: inference
  if (!ctx.has_input(2)) return false;
  IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(2));
  if (t->dtype() != DType::kBool || t->numel() != 1)
    return ctx.Error("training_mode must be a bool scalar, got ", DTypeOnnxName(t->dtype()), " ",
                     ShapeToString(t->shape()));
  return t->data<bool>()[0];
}

}  // namespace

Status RandomUniform(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(Shape shape, ShapeAttr(ctx));
  IDEM_ASSIGN_OR_RETURN(DType dt, OutputFloatDType(ctx, ctx.Int("dtype", 1)));
  return FillRandom(ctx, Dist::kUniform, dt, shape);
}

Status RandomNormal(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(Shape shape, ShapeAttr(ctx));
  IDEM_ASSIGN_OR_RETURN(DType dt, OutputFloatDType(ctx, ctx.Int("dtype", 1)));
  return FillRandom(ctx, Dist::kNormal, dt, shape);
}

Status RandomUniformLike(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* in, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(DType dt, LikeDType(ctx, *in));
  return FillRandom(ctx, Dist::kUniform, dt, in->shape());
}

Status RandomNormalLike(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* in, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(DType dt, LikeDType(ctx, *in));
  return FillRandom(ctx, Dist::kNormal, dt, in->shape());
}

Status Bernoulli(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* in, ctx.InputTensor(0));
  if (!IsFloat(in->dtype())) return ctx.Error("input must be floating-point, got ", DTypeOnnxName(in->dtype()));
  DType out_dt = in->dtype();
  if (ctx.HasAttr("dtype")) {
    const int64_t d = ctx.Int("dtype", 1);
    if (!IsValidDType(static_cast<int32_t>(d)) || static_cast<DType>(d) == DType::kString)
      return ctx.Error("dtype ", d, " is not a numeric or bool type");
    out_dt = static_cast<DType>(d);
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, out_dt, in->shape()));
  const PhiloxStream ps = StreamOf(ctx);
  return VisitDType<types::kFloat>(in->dtype(), "Bernoulli input", [&](auto in_tag) {
    using TI = typename decltype(in_tag)::type;
    using C = ComputeT<TI>;
    const TI* p = in->data<TI>();
    for (int64_t i = 0; i < in->numel(); ++i) {
      const C v = Load(p[i]);
      if (!(v >= C(0) && v <= C(1)))
        return ctx.Error("input[", i, "] = ", static_cast<double>(v), " is not a probability in [0, 1]");
    }
    return VisitDType<types::kAllPod>(out_dt, "Bernoulli output", [&](auto out_tag) {
      using TO = typename decltype(out_tag)::type;
      TO* o = out->data<TO>();
      ctx.ParallelFor(in->numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const bool one = Uniform01<C>(ps, static_cast<uint64_t>(i)) < Load(p[i]);
          if constexpr (kIsFloat<TO>) o[i] = Store<TO>(one ? 1.0f : 0.0f);
          else o[i] = static_cast<TO>(one ? 1 : 0);
        }
      });
      return Status::Ok();
    });
  });
}

Status Multinomial(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* in, ctx.InputTensor(0));
  if (!IsFloat(in->dtype())) return ctx.Error("input must be floating-point, got ", DTypeOnnxName(in->dtype()));
  if (in->rank() != 2)
    return ctx.Error("input must have shape [batch_size, class_size], got ", ShapeToString(in->shape()));
  const int64_t batch = in->dim(0), classes = in->dim(1);
  const int64_t samples = ctx.Int("sample_size", 1);
  if (samples < 0) return ctx.Error("sample_size must be non-negative, got ", samples);
  const int64_t dt_attr = ctx.Int("dtype", 6);
  if (dt_attr != 6 && dt_attr != 7) return ctx.Error("dtype must be int32 (6) or int64 (7), got ", dt_attr);
  if (classes == 0 && batch > 0 && samples > 0) return ctx.Error("class_size is 0: nothing to sample from");
  // Per-row probabilities (unnormalized) in double, validated before any output is written.
  std::vector<double> weights(static_cast<size_t>(batch * classes));
  IDEM_RETURN_IF_ERROR(VisitDType<types::kFloat>(in->dtype(), "Multinomial", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in->data<T>();
    for (int64_t b = 0; b < batch; ++b) {
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < classes; ++c) {
        const double v = static_cast<double>(Load(x[b * classes + c]));
        if (std::isnan(v) || v == std::numeric_limits<double>::infinity())
          return ctx.Error("input[", b, ", ", c, "] = ", v, " is not a valid log-probability");
        mx = v > mx ? v : mx;
      }
      if (classes > 0 && mx == -std::numeric_limits<double>::infinity())
        return ctx.Error("row ", b, " has every log-probability equal to -inf");
      for (int64_t c = 0; c < classes; ++c)
        weights[b * classes + c] = math::exp(static_cast<double>(Load(x[b * classes + c])) - mx);
    }
    return Status::Ok();
  }));
  const DType out_dt = dt_attr == 6 ? DType::kI32 : DType::kI64;
  IDEM_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, out_dt, {batch, samples}));
  const PhiloxStream ps = StreamOf(ctx);
  ctx.ParallelFor(batch, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> cum(static_cast<size_t>(classes));
    for (int64_t b = begin; b < end; ++b) {
      double total = 0.0;
      for (int64_t c = 0; c < classes; ++c) {
        total += weights[b * classes + c];
        cum[c] = total;
      }
      for (int64_t s = 0; s < samples; ++s) {
        const double target = ps.UniformDouble(static_cast<uint64_t>(b * samples + s)) * total;
        int64_t pick = classes - 1;
        while (pick > 0 && weights[b * classes + pick] == 0.0) --pick;  // fallback: last possible class
        for (int64_t c = 0; c < classes; ++c)
          if (cum[c] > target) {
            pick = c;
            break;
          }
        if (out_dt == DType::kI32) out->data<int32_t>()[b * samples + s] = static_cast<int32_t>(pick);
        else out->data<int64_t>()[b * samples + s] = pick;
      }
    }
  });
  return Status::Ok();
}

Status Dropout(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  if (!IsFloat(x->dtype())) return ctx.Error("data must be floating-point, got ", DTypeOnnxName(x->dtype()));
  IDEM_ASSIGN_OR_RETURN(double ratio, DropoutRatio(ctx));
  IDEM_ASSIGN_OR_RETURN(bool training, DropoutTraining(ctx));
  const DType mask_dt = ctx.opset() < 10 ? x->dtype() : DType::kBool;
  if (training && !(ratio >= 0.0 && ratio < 1.0)) return ctx.Error("ratio must be in [0, 1), got ", ratio);
  if (!training || ratio == 0.0) {
    ctx.SetOutput(0, *x);  // unchanged: share the buffer
    if (ctx.output_wanted(1)) {
      IDEM_ASSIGN_OR_RETURN(Tensor * m, ctx.AllocateOutput(1, mask_dt, x->shape()));
      return VisitDType<types::kFloat | types::kBool>(mask_dt, "Dropout mask", [&](auto tag) {
        using M = typename decltype(tag)::type;
        M* mp = m->data<M>();
        for (int64_t i = 0; i < m->numel(); ++i) {
          if constexpr (std::is_same_v<M, bool>) mp[i] = true;
          else mp[i] = Store<M>(1.0f);
        }
        return Status::Ok();
      });
    }
    return Status::Ok();
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
  Tensor* mask = nullptr;
  if (ctx.output_wanted(1)) {
    IDEM_ASSIGN_OR_RETURN(mask, ctx.AllocateOutput(1, mask_dt, x->shape()));
  }
  const PhiloxStream ps = StreamOf(ctx);
  const float threshold = static_cast<float>(ratio);
  return VisitDType<types::kFloat>(x->dtype(), "Dropout", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    const C scale = C(1) / (C(1) - static_cast<C>(ratio));
    const T* xp = x->data<T>();
    T* yp = y->data<T>();
    ctx.ParallelFor(x->numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const bool keep = ps.UniformFloat(static_cast<uint64_t>(i)) >= threshold;
        yp[i] = Store<T>(keep ? Load(xp[i]) * scale : C(0));
        if (mask) {
          if (mask_dt == DType::kBool) mask->data<bool>()[i] = keep;
          else mask->data<T>()[i] = Store<T>(keep ? C(1) : C(0));
        }
      }
    });
    return Status::Ok();
  });
}

}  // namespace idem::kernels
