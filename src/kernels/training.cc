// Training optimizers of domain ai.onnx.preview.training (opset 1): Adagrad, Adam, Momentum.
//
// Each node updates n tensors; its inputs are R, T, then n groups of n tensors (X..., G..., and the
// optimizer states), and its outputs are the groups of new values. All arithmetic is elementwise in
// the tensors' type (float or double), with std::fma wherever the formula is a multiply-add:
//   G' = fma(norm_coefficient, X, G)
//   Adagrad:  r = R / (1 + T * decay);  H' = fma(G', G', H);  X' = X - (r * G') / (sqrt(H') + eps)
//   Adam:     V' = fma(alpha, V, (1 - alpha) * G');  H' = fma(beta, H, (1 - beta) * (G' * G'))
//             r = T > 0 ? R * sqrt(1 - beta^T) / (1 - alpha^T) : R
//             X' = (1 - norm_coefficient_post) * (X - r * (V' / (sqrt(H') + eps)))
//   Momentum: b = T > 0 ? beta : 1;  V' = fma(alpha, V, b * G')
//             standard: X' = X - R * V';  nesterov: X' = X - R * fma(alpha, V', G')
#include <cmath>
#include <string>
#include <vector>

#include "core/math.h"
#include "kernels/kernel.h"
#include "kernels/util.h"

namespace idem::kernels {
namespace {

struct OptimizerArgs {
  double rate = 0;       // R
  int64_t count = 0;     // T
  int64_t n = 0;         // number of optimized tensors
  DType dtype = DType::kUndefined;
};

// Validates R, T and the `groups` groups of n same-shaped tensors that follow them.
Status ParseOptimizer(const KernelContext& ctx, int64_t groups, OptimizerArgs& a) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* r, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(1));
  if ((r->dtype() != DType::kF32 && r->dtype() != DType::kF64) || r->numel() != 1)
    return ctx.Error("R must be a float or double scalar, got ", DTypeOnnxName(r->dtype()), " ",
                     ShapeToString(r->shape()));
  if (t->dtype() != DType::kI64 || t->numel() != 1)
    return ctx.Error("T must be an int64 scalar, got ", DTypeOnnxName(t->dtype()), " ", ShapeToString(t->shape()));
  a.rate = r->DoubleAt(0);
  a.count = t->IntAt(0);
  const int64_t rest = static_cast<int64_t>(ctx.num_inputs()) - 2;
  if (rest <= 0 || rest % groups != 0)
    return ctx.Error("expected R, T and ", groups, " groups of n tensors; got ", ctx.num_inputs(), " inputs");
  a.n = rest / groups;
  IDEM_ASSIGN_OR_RETURN(const Tensor* x0, ctx.InputTensor(2));
  a.dtype = x0->dtype();
  if (a.dtype != DType::kF32 && a.dtype != DType::kF64)
    return ctx.Error("optimized tensors must be float or double, got ", DTypeOnnxName(a.dtype));
  for (int64_t i = 0; i < a.n; ++i) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(static_cast<size_t>(2 + i)));
    for (int64_t g = 0; g < groups; ++g) {
      const size_t idx = static_cast<size_t>(2 + g * a.n + i);
      IDEM_ASSIGN_OR_RETURN(const Tensor* v, ctx.InputTensor(idx));
      if (v->dtype() != a.dtype)
        return ctx.Error("input ", idx, " has type ", DTypeOnnxName(v->dtype()), "; expected ", DTypeOnnxName(a.dtype));
      if (v->shape() != x->shape())
        return ctx.Error("input ", idx, " has shape ", ShapeToString(v->shape()), " but the tensor it belongs to (input ",
                         2 + i, ") has shape ", ShapeToString(x->shape()));
    }
  }
  return Status::Ok();
}

// Output pointer for group g of tensor i, or nullptr when the model omitted that output.
template <typename T>
Result<T*> OptimizerOutput(KernelContext& ctx, const OptimizerArgs& a, int64_t g, int64_t i) {
  const size_t idx = static_cast<size_t>(g * a.n + i);
  if (!ctx.output_wanted(idx)) return static_cast<T*>(nullptr);
  IDEM_ASSIGN_OR_RETURN(Tensor * o, ctx.AllocateOutput(idx, a.dtype, ctx.input(static_cast<size_t>(2 + i)).shape()));
  return o->data<T>();
}

template <typename T>
Status RunAdagrad(KernelContext& ctx, const OptimizerArgs& a) {
  const T norm = static_cast<T>(ctx.Float("norm_coefficient", 0.0f));
  const T eps = static_cast<T>(ctx.Float("epsilon", 1e-6f));
  const T decay = static_cast<T>(ctx.Float("decay_factor", 0.0f));
  const T r = static_cast<T>(a.rate) / (T(1) + static_cast<T>(a.count) * decay);
  for (int64_t i = 0; i < a.n; ++i) {
    const Tensor& xt = ctx.input(static_cast<size_t>(2 + i));
    const T* x = xt.data<T>();
    const T* g = ctx.input(static_cast<size_t>(2 + a.n + i)).data<T>();
    const T* h = ctx.input(static_cast<size_t>(2 + 2 * a.n + i)).data<T>();
    IDEM_ASSIGN_OR_RETURN(T * x_new, OptimizerOutput<T>(ctx, a, 0, i));
    IDEM_ASSIGN_OR_RETURN(T * h_new, OptimizerOutput<T>(ctx, a, 1, i));
    ctx.ParallelFor(xt.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        const T gr = std::fma(norm, x[k], g[k]);
        const T hn = std::fma(gr, gr, h[k]);
        if (x_new) x_new[k] = x[k] - (r * gr) / (std::sqrt(hn) + eps);
        if (h_new) h_new[k] = hn;
      }
    });
  }
  return Status::Ok();
}

template <typename T>
Status RunAdam(KernelContext& ctx, const OptimizerArgs& a) {
  const T norm = static_cast<T>(ctx.Float("norm_coefficient", 0.0f));
  const T norm_post = static_cast<T>(ctx.Float("norm_coefficient_post", 0.0f));
  const T alpha = static_cast<T>(ctx.Float("alpha", 0.9f));
  const T beta = static_cast<T>(ctx.Float("beta", 0.999f));
  const T eps = static_cast<T>(ctx.Float("epsilon", 1e-6f));
  T r = static_cast<T>(a.rate);
  if (a.count > 0) {
    const T t = static_cast<T>(a.count);
    r = r * std::sqrt(T(1) - math::pow(beta, t)) / (T(1) - math::pow(alpha, t));
  }
  for (int64_t i = 0; i < a.n; ++i) {
    const Tensor& xt = ctx.input(static_cast<size_t>(2 + i));
    const T* x = xt.data<T>();
    const T* g = ctx.input(static_cast<size_t>(2 + a.n + i)).data<T>();
    const T* v = ctx.input(static_cast<size_t>(2 + 2 * a.n + i)).data<T>();
    const T* h = ctx.input(static_cast<size_t>(2 + 3 * a.n + i)).data<T>();
    IDEM_ASSIGN_OR_RETURN(T * x_new, OptimizerOutput<T>(ctx, a, 0, i));
    IDEM_ASSIGN_OR_RETURN(T * v_new, OptimizerOutput<T>(ctx, a, 1, i));
    IDEM_ASSIGN_OR_RETURN(T * h_new, OptimizerOutput<T>(ctx, a, 2, i));
    ctx.ParallelFor(xt.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        const T gr = std::fma(norm, x[k], g[k]);
        const T vn = std::fma(alpha, v[k], (T(1) - alpha) * gr);
        const T hn = std::fma(beta, h[k], (T(1) - beta) * (gr * gr));
        if (x_new) x_new[k] = (T(1) - norm_post) * (x[k] - r * (vn / (std::sqrt(hn) + eps)));
        if (v_new) v_new[k] = vn;
        if (h_new) h_new[k] = hn;
      }
    });
  }
  return Status::Ok();
}

template <typename T>
Status RunMomentum(KernelContext& ctx, const OptimizerArgs& a, bool nesterov) {
  IDEM_ASSIGN_OR_RETURN(const Attribute* alpha_attr, ctx.RequiredAttr("alpha", Attribute::Kind::kFloat));
  IDEM_ASSIGN_OR_RETURN(const Attribute* beta_attr, ctx.RequiredAttr("beta", Attribute::Kind::kFloat));
  IDEM_ASSIGN_OR_RETURN(const Attribute* norm_attr, ctx.RequiredAttr("norm_coefficient", Attribute::Kind::kFloat));
  const T alpha = static_cast<T>(alpha_attr->f);
  const T beta = a.count > 0 ? static_cast<T>(beta_attr->f) : T(1);
  const T norm = static_cast<T>(norm_attr->f);
  const T r = static_cast<T>(a.rate);
  for (int64_t i = 0; i < a.n; ++i) {
    const Tensor& xt = ctx.input(static_cast<size_t>(2 + i));
    const T* x = xt.data<T>();
    const T* g = ctx.input(static_cast<size_t>(2 + a.n + i)).data<T>();
    const T* v = ctx.input(static_cast<size_t>(2 + 2 * a.n + i)).data<T>();
    IDEM_ASSIGN_OR_RETURN(T * x_new, OptimizerOutput<T>(ctx, a, 0, i));
    IDEM_ASSIGN_OR_RETURN(T * v_new, OptimizerOutput<T>(ctx, a, 1, i));
    ctx.ParallelFor(xt.numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        const T gr = std::fma(norm, x[k], g[k]);
        const T vn = std::fma(alpha, v[k], beta * gr);
        if (x_new) x_new[k] = x[k] - r * (nesterov ? std::fma(alpha, vn, gr) : vn);
        if (v_new) v_new[k] = vn;
      }
    });
  }
  return Status::Ok();
}

template <typename F>
Status DispatchOptimizer(const OptimizerArgs& a, F&& f) {
  if (a.dtype == DType::kF64) return f(double{});
  return f(float{});
}

}  // namespace

Status Adagrad(KernelContext& ctx) {
  OptimizerArgs a;
  IDEM_RETURN_IF_ERROR(ParseOptimizer(ctx, 3, a));
  return DispatchOptimizer(a, [&](auto v) { return RunAdagrad<decltype(v)>(ctx, a); });
}

Status Adam(KernelContext& ctx) {
  OptimizerArgs a;
  IDEM_RETURN_IF_ERROR(ParseOptimizer(ctx, 4, a));
  return DispatchOptimizer(a, [&](auto v) { return RunAdam<decltype(v)>(ctx, a); });
}

Status Momentum(KernelContext& ctx) {
  OptimizerArgs a;
  IDEM_RETURN_IF_ERROR(ParseOptimizer(ctx, 3, a));
  IDEM_ASSIGN_OR_RETURN(const Attribute* mode, ctx.RequiredAttr("mode", Attribute::Kind::kString));
  if (mode->s != "standard" && mode->s != "nesterov")
    return ctx.Error("mode must be 'standard' or 'nesterov', got '", mode->s, "'");
  const bool nesterov = mode->s == "nesterov";
  return DispatchOptimizer(a, [&](auto v) { return RunMomentum<decltype(v)>(ctx, a, nesterov); });
}

}  // namespace idem::kernels
