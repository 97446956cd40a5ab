// Softmax, LogSoftmax, Hardmax and TopK: row-wise ops along one axis. Scalar reference kernels in
// the canonical orders of reduce_internal.h (softmax: max-subtract, idem::math::exp, CanonicalSum,
// then one division per element; log-softmax: (x - m) - log(sum)).
//
// Opset < 13 Softmax/LogSoftmax/Hardmax coerce the input to 2-D [prod(shape[:axis]),
// prod(shape[axis:])] and work on the rows of that matrix; opset >= 13 works along `axis` only.
// A rank-0 input is treated as one row of one element.
//
// SIMD (f32; f16/bf16 staged through f32): Softmax and LogSoftmax run the same formulas with
// simd/reduce_simd.h — contiguous rows (axis innermost) with the row primitives, other axes
// across rows (one SIMD lane per row); exp and log are idem::math's, lane by lane. The scalar
// code path is the reference (Isa::kScalar).
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/math.h"
#include "kernels/kernel.h"
#include "kernels/reduce_internal.h"
#include "kernels/simd/isa.h"
#include "kernels/simd/reduce_simd.h"
#include "kernels/util.h"

namespace idem::kernels {
namespace {

using reduce_internal::ArgBest;
using reduce_internal::AxisRows;
using reduce_internal::IsNan;

// The rows a Softmax-family node works on (see the file comment).
Result<AxisRows> SoftmaxFamilyRows(const KernelContext& ctx, const Shape& shape) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  if (rank == 0) return AxisRows{};
  if (ctx.opset() >= 13) {
    IDEM_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, ctx.Int("axis", -1), rank));
    return reduce_internal::MakeAxisRows(shape, axis);
  }
  int64_t axis = ctx.Int("axis", 1);
  if (axis < -rank || axis > rank)
    return ctx.Error("axis ", axis, " is out of range for rank ", rank, " (opset < 13 accepts [-rank, rank])");
  if (axis < 0) axis += rank;
  return reduce_internal::MakeCoerced2DRows(shape, axis);
}

enum class RowOp { kSoftmax, kLogSoftmax, kHardmax };

// Rows per parallel task of the across-rows form (a multiple of every vector width).
constexpr int64_t kColsBlock = 64;

// Softmax / LogSoftmax of f32 rows with the SIMD primitives.
void SoftmaxF32Simd(const KernelContext& ctx, const simd::ReduceKernels& k, const AxisRows& rows, bool log,
                    const float* x, float* y) {
  const int64_t n = rows.n;
  if (rows.inner == 1) {
    ctx.ParallelFor(rows.rows(), rows.Grain(), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const float* xr = x + r * n;
        float* yr = y + r * n;
        const float m = k.max(xr, n);
        if (log) {
          k.sub_sub(xr, n, m, math::log(k.exp_sum(xr, n, m, nullptr)), yr);
        } else {
          k.divide(yr, n, k.exp_sum(xr, n, m, yr), yr);
        }
      }
    });
    return;
  }
  const int64_t blocks = (rows.inner + kColsBlock - 1) / kColsBlock;
  const simd::SoftmaxKind kind = log ? simd::SoftmaxKind::kLogSoftmax : simd::SoftmaxKind::kSoftmax;
  ctx.ParallelFor(rows.outer * blocks, std::max<int64_t>(1, kElementwiseGrain / (kColsBlock * n)),
                  [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t j = (t % blocks) * kColsBlock;
      const int64_t start = (t / blocks) * n * rows.inner + j;
      k.softmax_cols(kind, x + start, n, rows.inner, std::min(kColsBlock, rows.inner - j), y + start);
    }
  });
}

Status RunSoftmaxFamily(KernelContext& ctx, RowOp op) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const AxisRows rows, SoftmaxFamilyRows(ctx, x->shape()));
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutputUninitialized(0, x->dtype(), x->shape()));
  const std::string what = ctx.node().Describe() + " input";
  return VisitDType<types::kFloat>(x->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    const T* xd = x->data<T>();
    T* yd = y->data<T>();
    if constexpr (std::is_same_v<C, float>) {
      const simd::ReduceKernels* k = simd::ReduceKernelsFor(simd::CurrentIsa());
      if (k && op != RowOp::kHardmax && rows.n > 0 && rows.rows() > 0) {
        std::vector<float> xbuf, ybuf;
        const float* xf = reduce_internal::StageF32(ctx, xd, x->numel(), xbuf);
        float* yf = reduce_internal::StageF32Out(yd, y->numel(), ybuf);
        SoftmaxF32Simd(ctx, *k, rows, op == RowOp::kLogSoftmax, xf, yf);
        reduce_internal::UnstageF32(ctx, yf, y->numel(), yd);
        return Status::Ok();
      }
    }
    ctx.ParallelFor(rows.rows(), rows.Grain(), [&](int64_t begin, int64_t end) {
      std::vector<C> scratch(static_cast<size_t>(op == RowOp::kSoftmax ? rows.n : 0));
      for (int64_t r = begin; r < end; ++r) {
        const T* xr = xd + rows.Start(r);
        T* yr = yd + rows.Start(r);
        const int64_t step = rows.inner;
        if (op == RowOp::kHardmax) {
          if (rows.n == 0) continue;
          const int64_t best = ArgBest<true, T>(rows.n, false, [&](int64_t i) -> const T& { return xr[i * step]; });
          for (int64_t i = 0; i < rows.n; ++i) yr[i * step] = Store<T>(i == best ? C{1} : C{0});
          continue;
        }
        reduce_internal::SoftmaxRow<C>(
            rows.n, op == RowOp::kLogSoftmax, [&](int64_t i) { return Load<T>(xr[i * step]); },
            [&](int64_t i, C v) { yr[i * step] = Store<T>(v); }, scratch.data());
      }
    });
    return Status::Ok();
  });
}

// TopK order: `a` comes before `b`. NaN ranks above every number; equal values keep index order.
template <typename C>
inline bool RanksAbove(C a, C b) { return (IsNan(a) && !IsNan(b)) || a > b; }

}  // namespace

Status Softmax(KernelContext& ctx) { return RunSoftmaxFamily(ctx, RowOp::kSoftmax); }
Status LogSoftmax(KernelContext& ctx) { return RunSoftmaxFamily(ctx, RowOp::kLogSoftmax); }
Status Hardmax(KernelContext& ctx) { return RunSoftmaxFamily(ctx, RowOp::kHardmax); }

// TopK-1 (k attribute), -10 (K input), -11 (largest, sorted). Outputs are always sorted (largest:
// descending, smallest: ascending); equal values are ordered by lower index first; NaN counts as
// larger than every number.
Status TopK(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  int64_t k = 0;
  if (ctx.opset() < 10) {
    IDEM_ASSIGN_OR_RETURN(k, ctx.RequiredInt("k"));
  } else {
    IDEM_ASSIGN_OR_RETURN(const Tensor* kt, ctx.InputTensor(1));
    if (!IsInt(kt->dtype()) || kt->numel() != 1 || kt->rank() > 1)
      return ctx.Error("input 'K' must be a 1-D integer tensor with one element, got ", DTypeOnnxName(kt->dtype()),
                       " of shape ", ShapeToString(kt->shape()));
    k = kt->IntAt(0);
  }
  IDEM_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, ctx.Int("axis", -1), x->rank()));
  const bool largest = ctx.opset() < 11 || ctx.Int("largest", 1) != 0;
  const int64_t n = x->dim(axis);
  if (k < 0 || k > n)
    return ctx.Error("K = ", k, " must be in [0, ", n, "] (the size of axis ", axis, " of input shape ",
                     ShapeToString(x->shape()), ")");
  Shape out_shape = x->shape();
  out_shape[static_cast<size_t>(axis)] = k;
  IDEM_ASSIGN_OR_RETURN(Tensor* values, ctx.AllocateOutputUninitialized(0, x->dtype(), out_shape));
  IDEM_ASSIGN_OR_RETURN(Tensor* indices, ctx.AllocateOutput(1, DType::kI64, out_shape));
  const AxisRows rows = reduce_internal::MakeAxisRows(x->shape(), axis);
  const std::string what = ctx.node().Describe() + " input 'X'";
  return VisitDType<types::kNumeric>(x->dtype(), what.c_str(), [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    const T* xd = x->data<T>();
    T* vd = values->data<T>();
    int64_t* id = indices->data<int64_t>();
    ctx.ParallelFor(rows.rows(), rows.Grain(), [&](int64_t begin, int64_t end) {
      std::vector<int64_t> order(static_cast<size_t>(n));
      std::vector<C> key(static_cast<size_t>(n));
      for (int64_t r = begin; r < end; ++r) {
        const T* xr = xd + rows.Start(r);
        const int64_t out_start = (r / rows.inner) * k * rows.inner + r % rows.inner;
        for (int64_t i = 0; i < n; ++i) key[static_cast<size_t>(i)] = Load<T>(xr[i * rows.inner]);
        std::iota(order.begin(), order.end(), int64_t{0});
        auto before = [&](int64_t a, int64_t b) {
          const C va = key[static_cast<size_t>(a)], vb = key[static_cast<size_t>(b)];
          const bool a_above = RanksAbove(va, vb), b_above = RanksAbove(vb, va);
          if (a_above != b_above) return largest ? a_above : b_above;
          return a < b;
        };
        std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
        for (int64_t j = 0; j < k; ++j) {
          const int64_t src = order[static_cast<size_t>(j)];
          vd[out_start + j * rows.inner] = xr[src * rows.inner];
          id[out_start + j * rows.inner] = src;
        }
      }
    });
    return Status::Ok();
  });
}

}  // namespace idem::kernels
