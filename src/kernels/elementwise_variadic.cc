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

// The fold of FoldInputs through the SIMD span kernels for f32/f16/bf16 (same order per element:
// acc = x0, then acc = op(acc, xk) for k = 1..n-1, then acc / n for Mean; halves are read exactly
// into f32 and the result rounded once). Returns false when the scalar path must run.
Result<bool> TrySimdFold(KernelContext& ctx, const std::vector<const Tensor*>& in, const Shape& out,
                         simd::BinaryF32Op op, bool mean) {
  const simd::Isa isa = simd::CurrentIsa();
  simd::ElemType type;
  if (isa == simd::Isa::kScalar || !ew::SimdElemType(in[0]->dtype(), &type)) return false;
  const int64_t n = NumElements(out);
  std::vector<ew::BinaryRuns> runs;
  for (const Tensor* t : in) {
    runs.emplace_back(out, out, t->shape());
    if (runs.back().inner() < ew::kMinSimdRun && n > 1) return false;
  }
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutput(0, in[0]->dtype(), out));
  const bool f32 = type == simd::ElemType::kF32;
  std::vector<float> scratch(f32 ? 0 : static_cast<size_t>(n));
  float* acc = f32 ? y->data<float>() : scratch.data();
  const simd::BinaryF32Fn bin = simd::BinaryF32For(isa, simd::ElemType::kF32);  // dispatch once per call
  const simd::ConvertFns conv = simd::ConvertFor(isa);
  const float count = static_cast<float>(in.size());
  ctx.ParallelFor(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    std::vector<float> buf;
    for (size_t k = 0; k < in.size(); ++k) {
      runs[k].ForRange(begin, end, [&](int64_t o, int64_t, int64_t, int64_t bo, int64_t bs, int64_t len) {
        const size_t m = static_cast<size_t>(bs == 0 ? 1 : len);
        const float* src;
        if (f32) {
          src = in[k]->data<float>() + bo;
        } else {
          buf.resize(m);
          const uint16_t* h = static_cast<const uint16_t*>(in[k]->raw()) + bo;
          (type == simd::ElemType::kF16 ? conv.f16_to_f32 : conv.bf16_to_f32)(h, buf.data(), m);
          src = buf.data();
        }
        float* a = acc + o;
        if (k == 0) {
          for (int64_t j = 0; j < len; ++j) a[j] = src[bs == 0 ? 0 : j];
        } else {
          bin(op, a, 1, src, static_cast<size_t>(bs), a, static_cast<size_t>(len));
        }
      });
    }
    float* a = acc + begin;
    const size_t len = static_cast<size_t>(end - begin);
    if (mean) bin(simd::BinaryF32Op::kDiv, a, 1, &count, 0, a, len);
    if (!f32) {
      uint16_t* h = static_cast<uint16_t*>(y->raw()) + begin;
      (type == simd::ElemType::kF16 ? conv.f32_to_f16 : conv.f32_to_bf16)(a, h, len);
    }
  });
  return true;
}

// Left fold over all inputs (broadcast together, NumPy rules): acc = x0; acc = combine(acc, xk)
// for k = 1..n-1; out = finish(acc, n). The accumulator is the compute type (f32 for halves).
template <uint32_t kSet, typename Combine, typename Finish>
Status FoldInputs(KernelContext& ctx, simd::BinaryF32Op simd_op, bool mean, Combine combine, Finish finish) {
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
  IDEM_ASSIGN_OR_RETURN(const bool done, TrySimdFold(ctx, in, out, simd_op, mean));
  if (done) return Status::Ok();
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
  return FoldInputs<types::kNumeric>(
      ctx, simd::BinaryF32Op::kMax, false, [](auto a, auto v) { return MaxOf(a, v); }, [](auto a, auto) { return a; });
}
Status Min(KernelContext& ctx) {
  return FoldInputs<types::kNumeric>(
      ctx, simd::BinaryF32Op::kMin, false, [](auto a, auto v) { return MinOf(a, v); }, [](auto a, auto) { return a; });
}
Status Sum(KernelContext& ctx) {
  return FoldInputs<types::kNumeric>(
      ctx, simd::BinaryF32Op::kAdd, false, [](auto a, auto v) { return ew::AddOf(a, v); },
      [](auto a, auto) { return a; });
}
// (x0 + x1 + ... + x{n-1}) / n, summed left to right in the compute type.
Status Mean(KernelContext& ctx) {
  return FoldInputs<types::kFloat>(
      ctx, simd::BinaryF32Op::kAdd, true, [](auto a, auto v) { return a + v; }, [](auto a, auto n) { return a / n; });
}

}  // namespace idem::kernels
