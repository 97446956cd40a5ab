// Losses: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opsets 12, 13). Scalar reference
// kernels in the canonical orders of reduce_internal.h.
//
// input (N, C, d1..dk), target (N, d1..dk); flattened, element (n, j) of the target selects class
// t = target[n, j] and the loss element is -input[n, t, j] * w, with w = weight[t] (1 without
// weights) and loss 0 / w = 0 where t == ignore_index. Reductions:
//   none: the loss elements; sum: CanonicalSum of the loss elements in row-major order;
//   mean: that sum / CanonicalSum of w (with weights), or / the number of non-ignored elements
//   (without weights). If everything is ignored, mean is 0/0 = NaN.
// SoftmaxCrossEntropyLoss first takes the log-softmax over axis 1 (the SoftmaxRow order, identical
// to LogSoftmax-13 with axis = 1) in compute precision and feeds it to the same loss.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "kernels/canonical.h"
#include "kernels/kernel.h"
#include "kernels/reduce_internal.h"
#include "kernels/util.h"

namespace idem::kernels {
namespace {

using reduce_internal::LoadFloatVector;

struct LossSetup {
  int64_t n = 0, classes = 0, d = 1;  // input viewed as (n, classes, d)
  std::vector<int64_t> target;        // n * d class indices
  std::optional<int64_t> ignore_index;
  std::string reduction;
  Shape target_shape;
};

// Validates shapes, target values and attributes shared by both losses.
Result<LossSetup> SetupLoss(const KernelContext& ctx, const Tensor& input, const Tensor& target, const Tensor* weight) {
  LossSetup s;
  if (input.rank() < 2)
    return ctx.Error("input must have shape (N, C, d1, ..., dk) with rank >= 2, got ", ShapeToString(input.shape()));
  s.n = input.dim(0);
  s.classes = input.dim(1);
  for (int64_t k = 2; k < input.rank(); ++k) s.d *= input.dim(k);
  Shape expected = {s.n};
  for (int64_t k = 2; k < input.rank(); ++k) expected.push_back(input.dim(k));
  if (target.shape() != expected)
    return ctx.Error("target has shape ", ShapeToString(target.shape()), " but input shape ",
                     ShapeToString(input.shape()), " requires ", ShapeToString(expected));
  if (!IsInt(target.dtype())) return ctx.Error("target must be int32 or int64, got ", DTypeOnnxName(target.dtype()));
  if (weight && (weight->rank() != 1 || weight->dim(0) != s.classes))
    return ctx.Error("weight has shape ", ShapeToString(weight->shape()), " but must be [", s.classes, "]");
  s.reduction = ctx.String("reduction", "mean");
  if (s.reduction != "none" && s.reduction != "sum" && s.reduction != "mean")
    return ctx.Error("reduction '", s.reduction, "' must be one of none, sum, mean");
  if (ctx.HasAttr("ignore_index")) s.ignore_index = ctx.Int("ignore_index", 0);
  s.target = target.ToInt64Vector();
  for (size_t i = 0; i < s.target.size(); ++i) {
    const int64_t t = s.target[i];
    if (s.ignore_index && t == *s.ignore_index) continue;
    if (t < 0 || t >= s.classes)
      return ctx.Error("target value ", t, " at flat index ", i, " is outside [0, ", s.classes, ")",
                       s.ignore_index ? " and is not ignore_index" : "");
  }
  s.target_shape = target.shape();
  return s;
}

// Computes the loss from log-probabilities logp(n, c, j) (compute type C) into output 0.
template <typename T, typename C, typename LogP>
Status WriteLoss(KernelContext& ctx, const LossSetup& s, const std::vector<C>* weight, LogP logp) {
  const int64_t count = s.n * s.d;
  std::vector<C> loss(static_cast<size_t>(count)), w(static_cast<size_t>(count));
  ctx.ParallelFor(count, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t e = begin; e < end; ++e) {
      const int64_t t = s.target[static_cast<size_t>(e)];
      if (s.ignore_index && t == *s.ignore_index) continue;  // loss and weight stay 0
      const C wt = weight ? (*weight)[static_cast<size_t>(t)] : C{1};
      loss[static_cast<size_t>(e)] = -logp(e / s.d, t, e % s.d) * wt;
      w[static_cast<size_t>(e)] = wt;
    }
  });
  if (s.reduction == "none") {
    IDEM_ASSIGN_OR_RETURN(Tensor* out, ctx.AllocateOutput(0, DTypeOf<T>::value, s.target_shape));
    T* od = out->data<T>();
    for (int64_t e = 0; e < count; ++e) od[e] = Store<T>(loss[static_cast<size_t>(e)]);
    return Status::Ok();
  }
  C result = CanonicalSum<C>(count, [&](int64_t e) { return loss[static_cast<size_t>(e)]; });
  if (s.reduction == "mean") {
    C denom;
    if (weight) {
      denom = CanonicalSum<C>(count, [&](int64_t e) { return w[static_cast<size_t>(e)]; });
    } else {
      int64_t kept = 0;
      for (int64_t t : s.target) kept += (s.ignore_index && t == *s.ignore_index) ? 0 : 1;
      denom = static_cast<C>(kept);
    }
    result = result / denom;
  }
  IDEM_ASSIGN_OR_RETURN(Tensor* out, ctx.AllocateOutput(0, DTypeOf<T>::value, Shape{}));
  out->data<T>()[0] = Store<T>(result);
  return Status::Ok();
}

}  // namespace

// NegativeLogLikelihoodLoss-12/13.
Status NegativeLogLikelihoodLoss(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* input, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* target, ctx.InputTensor(1));
  const Tensor* weight = nullptr;
  if (ctx.has_input(2)) {
    IDEM_ASSIGN_OR_RETURN(weight, ctx.InputTensor(2));
  }
  IDEM_ASSIGN_OR_RETURN(const LossSetup s, SetupLoss(ctx, *input, *target, weight));
  const std::string what = ctx.node().Describe() + " input";
  return VisitDType<types::kFloat>(input->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    std::vector<C> wv;
    if (weight) {
      IDEM_ASSIGN_OR_RETURN(wv, LoadFloatVector<C>(ctx, *weight, "input 'weight'"));
    }
    const T* x = input->data<T>();
    return WriteLoss<T, C>(ctx, s, weight ? &wv : nullptr, [&](int64_t n, int64_t c, int64_t j) {
      return static_cast<C>(Load<T>(x[(n * s.classes + c) * s.d + j]));
    });
  });
}

// SoftmaxCrossEntropyLoss-12/13 (outputs: loss, optional log_prob).
Status SoftmaxCrossEntropyLoss(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* scores, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* labels, ctx.InputTensor(1));
  const Tensor* weight = nullptr;
  if (ctx.has_input(2)) {
    IDEM_ASSIGN_OR_RETURN(weight, ctx.InputTensor(2));
  }
  IDEM_ASSIGN_OR_RETURN(const LossSetup s, SetupLoss(ctx, *scores, *labels, weight));
  const std::string what = ctx.node().Describe() + " input 'scores'";
  return VisitDType<types::kFloat>(scores->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    std::vector<C> wv;
    if (weight) {
      IDEM_ASSIGN_OR_RETURN(wv, LoadFloatVector<C>(ctx, *weight, "input 'weights'"));
    }
    // log_prob in compute precision, laid out like scores.
    const T* x = scores->data<T>();
    std::vector<C> logp(static_cast<size_t>(scores->numel()));
    ctx.ParallelFor(s.n * s.d, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, s.classes)),
                    [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t start = (r / s.d) * s.classes * s.d + r % s.d;
        reduce_internal::SoftmaxRow<C>(
            s.classes, /*log=*/true, [&](int64_t i) { return static_cast<C>(Load<T>(x[start + i * s.d])); },
            [&](int64_t i, C v) { logp[static_cast<size_t>(start + i * s.d)] = v; }, nullptr);
      }
    });
    if (ctx.output_wanted(1)) {
      IDEM_ASSIGN_OR_RETURN(Tensor* lp, ctx.AllocateOutput(1, scores->dtype(), scores->shape()));
      T* lpd = lp->data<T>();
      for (size_t i = 0; i < logp.size(); ++i) lpd[i] = Store<T>(logp[i]);
    }
    return WriteLoss<T, C>(ctx, s, weight ? &wv : nullptr, [&](int64_t n, int64_t c, int64_t j) {
      return logp[static_cast<size_t>((n * s.classes + c) * s.d + j)];
    });
  });
}

}  // namespace idem::kernels
