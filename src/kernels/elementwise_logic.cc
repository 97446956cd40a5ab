// Comparison and logic elementwise ops (Equal, Greater, GreaterOrEqual, Less, LessOrEqual, And,
// Or, Xor) and Where.
#include <string>

#include "kernels/elementwise_map.h"

namespace idem::kernels {

using ew::BoolBinary;

Status Equal(KernelContext& ctx) { return BoolBinary<types::kAllPod>(ctx, [](auto a, auto b) { return a == b; }); }
Status Greater(KernelContext& ctx) { return BoolBinary<types::kNumeric>(ctx, [](auto a, auto b) { return a > b; }); }
Status GreaterOrEqual(KernelContext& ctx) {
  return BoolBinary<types::kNumeric>(ctx, [](auto a, auto b) { return a >= b; });
}
Status Less(KernelContext& ctx) { return BoolBinary<types::kNumeric>(ctx, [](auto a, auto b) { return a < b; }); }
Status LessOrEqual(KernelContext& ctx) {
  return BoolBinary<types::kNumeric>(ctx, [](auto a, auto b) { return a <= b; });
}
Status And(KernelContext& ctx) { return BoolBinary<types::kBool>(ctx, [](bool a, bool b) { return a && b; }); }
Status Or(KernelContext& ctx) { return BoolBinary<types::kBool>(ctx, [](bool a, bool b) { return a || b; }); }
Status Xor(KernelContext& ctx) { return BoolBinary<types::kBool>(ctx, [](bool a, bool b) { return a != b; }); }

// ---------------------------------------------------------------- Where

// out = condition ? X : Y with three-way NumPy broadcasting; elements are copied unchanged.
Status Where(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* cond, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(1));
  IDEM_ASSIGN_OR_RETURN(const Tensor* y, ctx.InputTensor(2));
  if (cond->dtype() != DType::kBool)
    return ctx.Error("condition must be bool, got ", DTypeOnnxName(cond->dtype()));
  if (x->dtype() != y->dtype())
    return ctx.Error("X and Y must have the same element type, got ", DTypeOnnxName(x->dtype()), " and ",
                     DTypeOnnxName(y->dtype()));
  IDEM_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(ctx, {&cond->shape(), &x->shape(), &y->shape()}));
  const std::string what = ctx.node().Describe();
  return VisitDType<types::kAll>(x->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    IDEM_ASSIGN_OR_RETURN(Tensor* z, ctx.AllocateOutput(0, x->dtype(), out));
    const bool* pc = cond->data<bool>();
    const T* px = x->template data<T>();
    const T* py = y->template data<T>();
    T* dst = z->template data<T>();
    ew::ForEachBroadcast<3>(ctx, out, {&cond->shape(), &x->shape(), &y->shape()},
                            [&](int64_t i, const std::array<int64_t, 3>& o) {
                              dst[i] = pc[o[0]] ? px[o[1]] : py[o[2]];
                            });
    return Status::Ok();
  });
}

}  // namespace idem::kernels
