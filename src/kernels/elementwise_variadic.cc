// Variadic elementwise ops: Max, Min, Sum, Mean. The inputs broadcast together (NumPy rules) and
// are folded left to right in the compute type: acc = x0; acc = f(acc, x1); ... (f32 for halves,
// rounded once at the end).
#include <string>
#include <vector>

#include "kernels/elementwise_map.h"

namespace idem::kernels {
namespace {

// max/min that propagate NaN: the first NaN operand wins; otherwise ties keep the accumulator.
template <typename C>
C MaxOf(C acc, C v) {
  if (ew::IsNan(acc)) return acc;
  if (ew::IsNan(v)) return v;
  return v > acc ? v : acc;
}
template <typename C>
C MinOf(C acc, C v) {
  if (ew::IsNan(acc)) return acc;
  if (ew::IsNan(v)) return v;
  return v < acc ? v : acc;
}

// Left fold over all inputs (broadcast together, NumPy rules): acc = x0; acc = combine(acc, xk)
// for k = 1..n-1; out = finish(acc, n). The accumulator is the compute type (f32 for halves).
template <uint32_t kSet, typename Combine, typename Finish>
Status FoldInputs(KernelContext& ctx, Combine combine, Finish finish) {
  if (ctx.num_inputs() == 0) return ctx.Error("expects at least one input");
  std::vector<const Tensor*> in;
  std::vector<const Shape*> shapes;
  for (size_t k = 0; k < ctx.num_inputs(); ++k) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(k));
    if (!in.empty() && t->dtype() != in[0]->dtype())
      return ctx.Error("input ", k, " has element type ", DTypeOnnxName(t->dtype()), ", expected ",
                       DTypeOnnxName(in[0]->dtype()));
    in.push_back(t);
    shapes.push_back(&t->shape());
  }
  IDEM_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(ctx, shapes));
  const std::string what = ctx.node().Describe();
  return VisitDType<kSet>(in[0]->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    const int64_t n = NumElements(out);
    std::vector<C> acc(static_cast<size_t>(n));
    const T* first = in[0]->template data<T>();
    ew::ForEachBroadcast<1>(ctx, out, {shapes[0]}, [&](int64_t i, const std::array<int64_t, 1>& o) {
      acc[static_cast<size_t>(i)] = Load(first[o[0]]);
    });
    for (size_t k = 1; k < in.size(); ++k) {
      const T* p = in[k]->template data<T>();
      ew::ForEachBroadcast<1>(ctx, out, {shapes[k]}, [&](int64_t i, const std::array<int64_t, 1>& o) {
        C& a = acc[static_cast<size_t>(i)];
        a = static_cast<C>(combine(a, Load(p[o[0]])));
      });
    }
    IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutput(0, in[0]->dtype(), out));
    T* dst = y->template data<T>();
    const C count = static_cast<C>(in.size());
    ctx.ParallelFor(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        dst[i] = Store<T>(static_cast<C>(finish(acc[static_cast<size_t>(i)], count)));
    });
    return Status::Ok();
  });
}

}  // namespace

// ---------------------------------------------------------------- variadic

Status Max(KernelContext& ctx) {
  return FoldInputs<types::kNumeric>(ctx, [](auto a, auto v) { return MaxOf(a, v); }, [](auto a, auto) { return a; });
}
Status Min(KernelContext& ctx) {
  return FoldInputs<types::kNumeric>(ctx, [](auto a, auto v) { return MinOf(a, v); }, [](auto a, auto) { return a; });
}
Status Sum(KernelContext& ctx) {
  return FoldInputs<types::kNumeric>(
      ctx, [](auto a, auto v) { return ew::AddOf(a, v); }, [](auto a, auto) { return a; });
}
// (x0 + x1 + ... + x{n-1}) / n, summed left to right in the compute type.
Status Mean(KernelContext& ctx) {
  return FoldInputs<types::kFloat>(ctx, [](auto a, auto v) { return a + v; }, [](auto a, auto n) { return a / n; });
}

}  // namespace idem::kernels
