// Normalizations: LayerNormalization, BatchNormalization, InstanceNormalization, LRN,
// MeanVarianceNormalization. Scalar reference kernels in the canonical orders of
// reduce_internal.h.
//
// Formulas (C = compute type: f32 for f32/f16/bf16, f64 for f64):
//  - statistics: mean = CanonicalSum(x) / n, var = CanonicalDot(d, d) / n with d = x - mean
//    (two-pass, FMA form), inv_std = 1 / sqrt(var + epsilon);
//  - Layer/Batch/InstanceNormalization: y = fma((x - mean) * inv_std, scale, bias)
//    (LayerNormalization without B: y = ((x - mean) * inv_std) * scale);
//  - MeanVarianceNormalization: y = (x - mean) / (sqrt(var) + 1e-9) (the ONNX function body's
//    formula, with the two-pass variance instead of E[x^2] - E[x]^2);
//  - LRN: y = x / pow(fma(alpha / size, square_sum, bias), beta), square_sum = CanonicalDot over
//    the clipped channel window in channel order;
//  - BatchNormalization running statistics: fma(input_stat, momentum, batch_stat * (1 - momentum)).
//
// SIMD (f32, f16/bf16 staged through f32 rows): with a SIMD ISA, LayerNormalization,
// InstanceNormalization, BatchNormalization's normalization (spatial) and
// MeanVarianceNormalization (innermost axis reduced) compute the statistics with the canonical
// row primitives of simd/reduce_simd.h and normalize with SIMD elementwise loops of the same
// formula; the scalar code paths are the reference (Isa::kScalar).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/math.h"
#include "kernels/canonical.h"
#include "kernels/kernel.h"
#include "kernels/reduce_internal.h"
#include "kernels/simd/isa.h"
#include "kernels/simd/reduce_simd.h"
#include "kernels/util.h"

namespace idem::kernels {
namespace {

using reduce_internal::BroadcastOffsets;
using reduce_internal::LoadFloatVector;
using reduce_internal::MeanVariance;

// Writes compute values `v` into a fresh output `i` of dtype `dt` and shape `shape`.
template <typename C>
Status WriteFloatOutput(KernelContext& ctx, size_t i, DType dt, const Shape& shape, const std::vector<C>& v) {
  IDEM_ASSIGN_OR_RETURN(Tensor* out, ctx.AllocateOutput(i, dt, shape));
  const std::string what = ctx.node().Describe() + " output " + std::to_string(i);
  return VisitDType<types::kFloat>(dt, what.c_str(), [&](auto tag) -> Status {
    using U = typename decltype(tag)::type;
    U* d = out->data<U>();
    for (size_t k = 0; k < v.size(); ++k) d[k] = Store<U>(static_cast<ComputeT<U>>(v[k]));
    return Status::Ok();
  });
}

// Channel-first layout (N, C, D1..Dk) of a normalization input.
struct ChannelLayout {
  int64_t n = 0, c = 0, spatial = 1;
};
Result<ChannelLayout> GetChannelLayout(const KernelContext& ctx, const Tensor& x) {
  if (x.rank() < 2)
    return ctx.Error("input must have rank >= 2 (N x C x D1 ... Dn), got shape ", ShapeToString(x.shape()));
  ChannelLayout l;
  l.n = x.dim(0);
  l.c = x.dim(1);
  for (int64_t d = 2; d < x.rank(); ++d) l.spatial *= x.dim(d);
  return l;
}

// The SIMD table of the current ISA for compute type C (nullptr: run the scalar path).
template <typename C>
const simd::ReduceKernels* SimdFor() {
  if constexpr (!std::is_same_v<C, float>) return nullptr;
  else return simd::ReduceKernelsFor(simd::CurrentIsa());
}

// One row of T as f32: the data itself for float, else converted into `scratch`.
template <typename T>
const float* RowF32(const T* x, int64_t n, std::vector<float>& scratch) {
  if constexpr (std::is_same_v<T, float>) {
    return x;
  } else {
    scratch.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) scratch[static_cast<size_t>(i)] = Load<T>(x[i]);
    return scratch.data();
  }
}
// Where a row's f32 results go: y for float, else `scratch` (then FlushRow).
template <typename T>
float* OutRowF32(T* y, int64_t n, std::vector<float>& scratch) {
  if constexpr (std::is_same_v<T, float>) {
    return y;
  } else {
    scratch.resize(static_cast<size_t>(n));
    return scratch.data();
  }
}
template <typename T>
void FlushRow(const float* f, int64_t n, T* y) {
  if constexpr (!std::is_same_v<T, float>)
    for (int64_t i = 0; i < n; ++i) y[i] = Store<T>(f[i]);
}

// MeanVariance (reduce_internal.h) of a contiguous f32 row with the SIMD primitives.
inline void MeanVarianceSimd(const simd::ReduceKernels& k, const float* x, int64_t n, float* mean, float* var) {
  const float cn = static_cast<float>(n);
  const float mu = k.sum(x, n) / cn;
  *mean = mu;
  *var = k.sum_square_dev(x, n, mu) / cn;
}

// fn(i, x_row, y_row) for the rows i in [0, rows) of n contiguous elements, in parallel, through
// f32 views of the rows (RowF32 / OutRowF32, then FlushRow: f16/bf16 are widened and rounded once).
template <typename T, typename Fn>
void ForEachRowF32(const KernelContext& ctx, const T* xd, T* yd, int64_t rows, int64_t n, Fn fn) {
  ctx.ParallelFor(rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, n)),
                  [&](int64_t begin, int64_t end) {
    std::vector<float> in_scratch, out_scratch;
    for (int64_t i = begin; i < end; ++i) {
      const float* xr = RowF32(xd + i * n, n, in_scratch);
      float* yr = OutRowF32(yd + i * n, n, out_scratch);
      fn(i, xr, yr);
      FlushRow(yr, n, yd + i * n);
    }
  });
}

// LayerNormalization rows [begin, end) with the SIMD primitives (the scalar path's formulas).
template <typename T>
void LayerNormRowsSimd(const simd::ReduceKernels& k, const T* xd, T* yd, int64_t n, int64_t begin, int64_t end,
                       float eps, const float* scale_row, const float* bias_row, float* means, float* inv_stds) {
  std::vector<float> in_scratch, out_scratch;
  for (int64_t r = begin; r < end; ++r) {
    const float* xr = RowF32(xd + r * n, n, in_scratch);
    float* yr = OutRowF32(yd + r * n, n, out_scratch);
    float mean, var;
    MeanVarianceSimd(k, xr, n, &mean, &var);
    const float inv_std = 1.0f / std::sqrt(var + eps);
    means[r] = mean;
    inv_stds[r] = inv_std;
    k.normalize_affine(xr, n, mean, inv_std, scale_row, bias_row, yr);
    FlushRow(yr, n, yd + r * n);
  }
}

Status CheckParamSize(const KernelContext& ctx, const Tensor& t, const char* name, int64_t expected) {
  if (t.numel() != expected)
    return ctx.Error("input '", name, "' has shape ", ShapeToString(t.shape()), " but ", expected,
                     " elements are expected");
  return Status::Ok();
}

}  // namespace

// LayerNormalization-17. Statistics over axes [axis, rank) of each row; Mean/InvStdDev have the
// stash_type dtype. Stage one runs in C (f64 inputs: f64 — more precise than stash_type float).
Status LayerNormalization(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* scale, ctx.InputTensor(1));
  const Tensor* bias = nullptr;
  if (ctx.has_input(2)) {
    IDEM_ASSIGN_OR_RETURN(bias, ctx.InputTensor(2));
  }
  IDEM_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, ctx.Int("axis", -1), x->rank()));
  const int64_t stash = ctx.Int("stash_type", 1);
  if (stash != 1 && stash != 10 && stash != 11 && stash != 16)
    return ctx.Error("stash_type ", stash, " is not a floating-point type (expected 1, 10, 11 or 16)");
  const DType stash_dt = static_cast<DType>(stash);
  const float epsilon = ctx.Float("epsilon", 1e-5f);

  const Shape norm_shape(x->shape().begin() + axis, x->shape().end());
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x->dim(d);
  const int64_t n = NumElements(norm_shape);
  Shape stat_shape = x->shape();
  for (int64_t d = axis; d < x->rank(); ++d) stat_shape[static_cast<size_t>(d)] = 1;

  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> scale_off, BroadcastOffsets(ctx, scale->shape(), norm_shape, "Scale"));
  std::vector<int64_t> bias_off;
  if (bias) {
    IDEM_ASSIGN_OR_RETURN(bias_off, BroadcastOffsets(ctx, bias->shape(), norm_shape, "B"));
  }
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutputUninitialized(0, x->dtype(), x->shape()));

  const std::string what = ctx.node().Describe() + " input 'X'";
  return VisitDType<types::kFloat>(x->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    IDEM_ASSIGN_OR_RETURN(std::vector<C> sc, LoadFloatVector<C>(ctx, *scale, "input 'Scale'"));
    std::vector<C> bs;
    if (bias) {
      IDEM_ASSIGN_OR_RETURN(bs, LoadFloatVector<C>(ctx, *bias, "input 'B'"));
    }
    std::vector<C> means(static_cast<size_t>(outer)), inv_stds(static_cast<size_t>(outer));
    const T* xd = x->data<T>();
    T* yd = y->data<T>();
    const C eps = static_cast<C>(epsilon);
    const simd::ReduceKernels* k = SimdFor<C>();
    std::vector<C> scale_row, bias_row;  // Scale and B broadcast to the row (SIMD path)
    if (k) {
      scale_row.resize(static_cast<size_t>(n));
      bias_row.resize(bias ? static_cast<size_t>(n) : 0);
      for (size_t i = 0; i < scale_row.size(); ++i) scale_row[i] = sc[static_cast<size_t>(scale_off[i])];
      for (size_t i = 0; i < bias_row.size(); ++i) bias_row[i] = bs[static_cast<size_t>(bias_off[i])];
    }
    ctx.ParallelFor(outer, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, n)),
                    [&](int64_t begin, int64_t end) {
      if constexpr (std::is_same_v<C, float>) {
        if (k) {
          LayerNormRowsSimd(*k, xd, yd, n, begin, end, eps, scale_row.data(), bias ? bias_row.data() : nullptr,
                            means.data(), inv_stds.data());
          return;
        }
      }
      for (int64_t r = begin; r < end; ++r) {
        const T* xr = xd + r * n;
        T* yr = yd + r * n;
        auto at = [&](int64_t i) { return static_cast<C>(Load<T>(xr[i])); };
        C mean, var;
        MeanVariance<C>(n, at, &mean, &var);
        const C inv_std = C{1} / std::sqrt(var + eps);
        means[static_cast<size_t>(r)] = mean;
        inv_stds[static_cast<size_t>(r)] = inv_std;
        for (int64_t i = 0; i < n; ++i) {
          const C normalized = (at(i) - mean) * inv_std;
          const C s = sc[static_cast<size_t>(scale_off[static_cast<size_t>(i)])];
          const C v = bias ? std::fma(normalized, s, bs[static_cast<size_t>(bias_off[static_cast<size_t>(i)])])
                           : normalized * s;
          yr[i] = Store<T>(v);
        }
      }
    });
    if (ctx.output_wanted(1)) IDEM_RETURN_IF_ERROR(WriteFloatOutput(ctx, 1, stash_dt, stat_shape, means));
    if (ctx.output_wanted(2)) IDEM_RETURN_IF_ERROR(WriteFloatOutput(ctx, 2, stash_dt, stat_shape, inv_stds));
    return Status::Ok();
  });
}

// BatchNormalization-1/6/7/9/14/15.
// Inference: normalizes with input_mean/input_var. Training (batch statistics) when
//   opset >= 14: training_mode = 1 (outputs: Y, running_mean, running_var);
//   opset 7..13: any of the optional outputs is requested;
//   opset < 7: is_test = 0 and any optional output is requested
// (opset < 14 outputs: Y, running mean, running var, saved mean, saved var = batch mean and
// batch population variance). `spatial` = 0 (opset < 9) keeps statistics per (channel, position).
Status BatchNormalization(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const Tensor* params[4];
  const char* param_names[4] = {"scale", "B", "input_mean", "input_var"};
  for (size_t i = 0; i < 4; ++i) {
    IDEM_ASSIGN_OR_RETURN(params[i], ctx.InputTensor(i + 1));
  }
  IDEM_ASSIGN_OR_RETURN(const ChannelLayout l, GetChannelLayout(ctx, *x));
  const bool spatial = ctx.opset() >= 9 || ctx.Int("spatial", 1) != 0;
  const int64_t num_params = spatial ? l.c : l.c * l.spatial;
  for (size_t i = 0; i < 4; ++i) IDEM_RETURN_IF_ERROR(CheckParamSize(ctx, *params[i], param_names[i], num_params));

  bool extra_outputs = false;
  for (size_t i = 1; i < 5; ++i) extra_outputs = extra_outputs || ctx.output_wanted(i);
  bool training;
  if (ctx.opset() >= 14) {
    training = ctx.Int("training_mode", 0) != 0;
    if (!training && extra_outputs)
      return ctx.Error("outputs running_mean/running_var are only produced with training_mode = 1");
  } else if (ctx.opset() >= 7) {
    training = extra_outputs;
  } else {
    training = extra_outputs && ctx.Int("is_test", 0) == 0;
  }
  const float epsilon = ctx.Float("epsilon", 1e-5f);
  const float momentum = ctx.Float("momentum", 0.9f);
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutputUninitialized(0, x->dtype(), x->shape()));

  const std::string what = ctx.node().Describe() + " input 'X'";
  return VisitDType<types::kFloat>(x->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    std::vector<C> p[4];
    for (size_t i = 0; i < 4; ++i) {
      IDEM_ASSIGN_OR_RETURN(p[i], LoadFloatVector<C>(ctx, *params[i], param_names[i]));
    }
    const T* xd = x->data<T>();
    T* yd = y->data<T>();
    const int64_t plane = l.c * l.spatial;  // elements per sample

    std::vector<C> mean = p[2], var = p[3];
    if (training) {
      // Statistics of parameter index q over the batch (and positions when spatial), enumerated
      // sample-major: i = sample * per_sample + position.
      const int64_t per_sample = spatial ? l.spatial : 1;
      const int64_t count = l.n * per_sample;
      ctx.ParallelFor(num_params, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, count)),
                      [&](int64_t begin, int64_t end) {
        for (int64_t q = begin; q < end; ++q) {
          const int64_t base = spatial ? q * l.spatial : q;
          auto at = [&](int64_t i) {
            return static_cast<C>(Load<T>(xd[(i / per_sample) * plane + base + i % per_sample]));
          };
          MeanVariance<C>(count, at, &mean[static_cast<size_t>(q)], &var[static_cast<size_t>(q)]);
        }
      });
      const C mom = static_cast<C>(momentum);
      const C one_minus = C{1} - mom;
      std::vector<C> run_mean(mean.size()), run_var(var.size());
      for (size_t q = 0; q < mean.size(); ++q) {
        run_mean[q] = std::fma(p[2][q], mom, mean[q] * one_minus);
        run_var[q] = std::fma(p[3][q], mom, var[q] * one_minus);
      }
      const DType stat_dt = ctx.opset() >= 14 ? params[2]->dtype() : x->dtype();
      const Shape& stat_shape = params[2]->shape();
      if (ctx.output_wanted(1)) IDEM_RETURN_IF_ERROR(WriteFloatOutput(ctx, 1, stat_dt, stat_shape, run_mean));
      if (ctx.output_wanted(2)) IDEM_RETURN_IF_ERROR(WriteFloatOutput(ctx, 2, stat_dt, stat_shape, run_var));
      if (ctx.opset() < 14) {
        if (ctx.output_wanted(3)) IDEM_RETURN_IF_ERROR(WriteFloatOutput(ctx, 3, stat_dt, stat_shape, mean));
        if (ctx.output_wanted(4)) IDEM_RETURN_IF_ERROR(WriteFloatOutput(ctx, 4, stat_dt, stat_shape, var));
      }
    }

    std::vector<C> inv_std(var.size());
    const C eps = static_cast<C>(epsilon);
    for (size_t q = 0; q < var.size(); ++q) inv_std[q] = C{1} / std::sqrt(var[q] + eps);
    if constexpr (std::is_same_v<C, float>) {
      if (const simd::ReduceKernels* k = spatial ? SimdFor<C>() : nullptr) {
        ForEachRowF32(ctx, xd, yd, l.n * l.c, l.spatial, [&](int64_t nc, const float* xr, float* yr) {
          const size_t q = static_cast<size_t>(nc % l.c);
          k->normalize_affine_uniform(xr, l.spatial, mean[q], inv_std[q], p[0][q], p[1][q], yr);
        });
        return Status::Ok();
      }
    }
    ctx.ParallelFor(l.n * l.c, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, l.spatial)),
                    [&](int64_t begin, int64_t end) {
      for (int64_t nc = begin; nc < end; ++nc) {
        const int64_t c = nc % l.c;
        const T* xr = xd + nc * l.spatial;
        T* yr = yd + nc * l.spatial;
        for (int64_t s = 0; s < l.spatial; ++s) {
          const size_t q = static_cast<size_t>(spatial ? c : c * l.spatial + s);
          const C normalized = (static_cast<C>(Load<T>(xr[s])) - mean[q]) * inv_std[q];
          yr[s] = Store<T>(std::fma(normalized, p[0][q], p[1][q]));
        }
      }
    });
    return Status::Ok();
  });
}

// InstanceNormalization-1/6: statistics per (sample, channel) over the spatial positions.
Status InstanceNormalization(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* scale, ctx.InputTensor(1));
  IDEM_ASSIGN_OR_RETURN(const Tensor* bias, ctx.InputTensor(2));
  IDEM_ASSIGN_OR_RETURN(const ChannelLayout l, GetChannelLayout(ctx, *x));
  IDEM_RETURN_IF_ERROR(CheckParamSize(ctx, *scale, "scale", l.c));
  IDEM_RETURN_IF_ERROR(CheckParamSize(ctx, *bias, "B", l.c));
  const float epsilon = ctx.Float("epsilon", 1e-5f);
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutputUninitialized(0, x->dtype(), x->shape()));
  const std::string what = ctx.node().Describe() + " input";
  return VisitDType<types::kFloat>(x->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    IDEM_ASSIGN_OR_RETURN(std::vector<C> sc, LoadFloatVector<C>(ctx, *scale, "input 'scale'"));
    IDEM_ASSIGN_OR_RETURN(std::vector<C> bs, LoadFloatVector<C>(ctx, *bias, "input 'B'"));
    const T* xd = x->data<T>();
    T* yd = y->data<T>();
    const C eps = static_cast<C>(epsilon);
    if constexpr (std::is_same_v<C, float>) {
      if (const simd::ReduceKernels* k = SimdFor<C>()) {
        ForEachRowF32(ctx, xd, yd, l.n * l.c, l.spatial, [&](int64_t nc, const float* xr, float* yr) {
          const size_t c = static_cast<size_t>(nc % l.c);
          float mean, var;
          MeanVarianceSimd(*k, xr, l.spatial, &mean, &var);
          const float inv_std = 1.0f / std::sqrt(var + eps);
          k->normalize_affine_uniform(xr, l.spatial, mean, inv_std, sc[c], bs[c], yr);
        });
        return Status::Ok();
      }
    }
    ctx.ParallelFor(l.n * l.c, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, l.spatial)),
                    [&](int64_t begin, int64_t end) {
      for (int64_t nc = begin; nc < end; ++nc) {
        const size_t c = static_cast<size_t>(nc % l.c);
        const T* xr = xd + nc * l.spatial;
        T* yr = yd + nc * l.spatial;
        auto at = [&](int64_t i) { return static_cast<C>(Load<T>(xr[i])); };
        C mean, var;
        MeanVariance<C>(l.spatial, at, &mean, &var);
        const C inv_std = C{1} / std::sqrt(var + eps);
        for (int64_t s = 0; s < l.spatial; ++s) yr[s] = Store<T>(std::fma((at(s) - mean) * inv_std, sc[c], bs[c]));
      }
    });
    return Status::Ok();
  });
}

// LRN-1/13: local response normalization across channels.
Status LRN(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const ChannelLayout l, GetChannelLayout(ctx, *x));
  IDEM_ASSIGN_OR_RETURN(int64_t size, ctx.RequiredInt("size"));
  if (size < 1) return ctx.Error("attribute 'size' must be >= 1, got ", size);
  const float alpha = ctx.Float("alpha", 1e-4f);
  const float beta = ctx.Float("beta", 0.75f);
  const float bias = ctx.Float("bias", 1.0f);
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutputUninitialized(0, x->dtype(), x->shape()));
  const std::string what = ctx.node().Describe() + " input 'X'";
  return VisitDType<types::kFloat>(x->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    const T* xd = x->data<T>();
    T* yd = y->data<T>();
    const C alpha_over_size = static_cast<C>(alpha) / static_cast<C>(size);
    const C cbeta = static_cast<C>(beta), cbias = static_cast<C>(bias);
    const int64_t before = (size - 1) / 2, after = size / 2;  // floor((size-1)/2), ceil((size-1)/2)
    ctx.ParallelFor(l.n * l.c, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, l.spatial * size)),
                    [&](int64_t begin, int64_t end) {
      for (int64_t nc = begin; nc < end; ++nc) {
        const int64_t c = nc % l.c;
        const int64_t lo = std::max<int64_t>(0, c - before), hi = std::min<int64_t>(l.c - 1, c + after);
        const T* window = xd + (nc - c + lo) * l.spatial;  // channel lo of this sample
        for (int64_t s = 0; s < l.spatial; ++s) {
          auto v = [&](int64_t i) { return static_cast<C>(Load<T>(window[i * l.spatial + s])); };
          const C square_sum = CanonicalDot<C>(hi - lo + 1, v, v);
          const C xv = static_cast<C>(Load<T>(xd[nc * l.spatial + s]));
          yd[nc * l.spatial + s] = Store<T>(xv / math::pow(std::fma(alpha_over_size, square_sum, cbias), cbeta));
        }
      }
    });
    return Status::Ok();
  });
}

// MeanVarianceNormalization-9/13: statistics over `axes` (default [0, 2, 3]).
Status MeanVarianceNormalization(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const std::vector<int64_t> axes = ctx.Ints("axes", {0, 2, 3});
  std::vector<bool> mask(static_cast<size_t>(x->rank()), false);
  for (int64_t a : axes) {
    IDEM_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, a, x->rank()));
    if (mask[static_cast<size_t>(axis)]) return ctx.Error("axis ", a, " appears more than once in 'axes'");
    mask[static_cast<size_t>(axis)] = true;
  }
  const reduce_internal::ReduceGeometry g(x->shape(), mask, true);
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
  const std::string what = ctx.node().Describe() + " input 'X'";
  return VisitDType<types::kFloat>(x->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    const T* xd = x->data<T>();
    T* yd = y->data<T>();
    const C eps = static_cast<C>(1e-9);
    if constexpr (std::is_same_v<C, float>) {
      const simd::ReduceKernels* k = SimdFor<C>();
      if (k && g.inner_stride() == 1 && g.extent() > 0) {
        // Rows gathered from their runs into a scratch row, normalized there, scattered back.
        const std::vector<int64_t>& runs = g.run_offsets();
        const int64_t run = g.inner_dim(), n = g.extent();
        ctx.ParallelFor(g.outputs(), g.Grain(), [&](int64_t begin, int64_t end) {
          std::vector<float> row(static_cast<size_t>(n));
          for (int64_t o = begin; o < end; ++o) {
            const int64_t base = g.Base(o);
            for (size_t j = 0; j < runs.size(); ++j)
              for (int64_t i = 0; i < run; ++i)
                row[j * static_cast<size_t>(run) + static_cast<size_t>(i)] = Load<T>(xd[base + runs[j] + i]);
            float mean, var;
            MeanVarianceSimd(*k, row.data(), n, &mean, &var);
            k->normalize_divide(row.data(), n, mean, std::sqrt(var) + eps, row.data());
            for (size_t j = 0; j < runs.size(); ++j)
              for (int64_t i = 0; i < run; ++i)
                yd[base + runs[j] + i] = Store<T>(row[j * static_cast<size_t>(run) + static_cast<size_t>(i)]);
          }
        });
        return Status::Ok();
      }
    }
    ctx.ParallelFor(g.outputs(), g.Grain(), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const int64_t base = g.Base(o);
        auto at = [&](int64_t i) { return static_cast<C>(Load<T>(xd[base + g.Offset(i)])); };
        C mean, var;
        MeanVariance<C>(g.extent(), at, &mean, &var);
        const C denom = std::sqrt(var) + eps;
        for (int64_t i = 0; i < g.extent(); ++i) yd[base + g.Offset(i)] = Store<T>((at(i) - mean) / denom);
      }
    });
    return Status::Ok();
  });
}

}  // namespace idem::kernels
