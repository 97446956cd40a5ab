// Kernels of idem's own domain "idem" (opset 1), the ops the fusion passes (src/passes) create.
// Each one performs EXACTLY the arithmetic of the ONNX ops it replaces, in the same order, so a
// fused graph gives the same bits as the unfused one (tests/unit/passes_test.cc checks bitwise):
//  - FusedMatMul(A, B, bias?) {trans_b, activation, activation_params}: the MatMul/Gemm chain per
//    element (simd/gemm.h), then `+ bias[n]` (one f32 add, as Add or Gemm with alpha = beta = 1
//    do), then the activation with the formula of the ONNX op's kernel. f32 only. Relu and Clip
//    run in the GEMM epilogue's registers, the others as its post-store hook on each block of C
//    right after it is stored (simd/fused_act.h), so C is never re-read from memory.
//  - FusedConv(X, W, B?, sum?) {Conv's attributes, activation, activation_params}: the Conv
//    kernel, then `+ sum` (a residual of the output's shape, one f32 add: Conv + Add) and the
//    activation, applied inside the convolution to each tile of outputs (kernels/conv.cc,
//    simd/conv.h ConvOutputOp).
//  - Gelu(X) {approximate, ...}: the decomposed GELU sub-graph torch exports, op by op (see
//    simd::GeluForm for the attributes that record the order of the multiplications).
//  - Attention(Q, Kt, V, mask?) {scale, scale_div, mask_kind, fill}: S = Q·Kt (MatMul chain),
//    S / scale or S * scale, + mask or Where(mask, S, fill), Softmax over the last axis
//    (reduce_internal::SoftmaxRow's order; the SIMD row primitives of simd/reduce_simd.h on a
//    SIMD ISA), then S·V (MatMul chain).
// Activations (the ONNX kernels' formulas, simd/fused_act.h FusedActivationScalar): Relu,
// LeakyRelu(alpha), Clip(lo, hi), Sigmoid, Tanh, HardSigmoid(alpha, beta), SiLU (Sigmoid then
// Mul), and Gelu (an idem.Gelu node fused into FusedMatMul) whose activation_params are
// {approximate (0 none, 1 tanh), inner_scale, inner_div, coef, cube_pow, half_mode} — the
// attributes of the Gelu op below, as floats. Every ISA computes them through one span function
// chosen once per kernel call (simd::FusedActSpanFor), bitwise equal to the scalar formula.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/reduce_internal.h"
#include "kernels/registry.h"
#include "kernels/simd/fused_act.h"
#include "kernels/simd/gemm.h"
#include "kernels/simd/reduce_simd.h"
#include "kernels/util.h"

namespace idem::kernels {

Status Conv(KernelContext& ctx);  // conv.cc
// conv.cc: Conv, then y = act((conv + bias) + residual) per output (residual may be null).
Status ConvWithOutputOp(KernelContext& ctx, const simd::FusedActivation& act, const Tensor* residual);

namespace {

using simd::FusedActivation;
using simd::FusedActKind;
using simd::GeluForm;

// Reads a GELU form from the Gelu op's attributes (defaults: the forms torch exports by default).
Result<GeluForm> GeluFormFromAttributes(const KernelContext& ctx) {
  GeluForm p;
  const std::string approx = ctx.String("approximate", "none");
  if (approx != "none" && approx != "tanh")
    return ctx.Error("approximate must be 'none' or 'tanh', got '", approx, "'");
  p.tanh_form = approx == "tanh";
  p.inner_scale = ctx.Float("inner_scale", p.tanh_form ? 0.7978845834732056f : 1.4142135381698608f);
  p.inner_div = ctx.Int("inner_div", p.tanh_form ? 0 : 1) != 0;
  p.coef = ctx.Float("coef", 0.044715f);
  p.cube_pow = ctx.Int("cube_pow", 0) != 0;
  const int64_t half_mode = ctx.Int("half_mode", 0);
  if (half_mode < 0 || half_mode > 2) return ctx.Error("half_mode must be 0, 1 or 2, got ", half_mode);
  p.half_mode = static_cast<int>(half_mode);
  return p;
}

// A 0/1 flag stored as a float activation parameter.
Result<bool> FlagParam(const KernelContext& ctx, float v, const char* what) {
  if (v != 0.0f && v != 1.0f) return ctx.Error("Gelu activation parameter ", what, " must be 0 or 1, got ", v);
  return v != 0.0f;
}

Result<FusedActivation> ParseActivation(const KernelContext& ctx) {
  const std::string name = ctx.String("activation", "");
  const std::vector<float> p = ctx.Floats("activation_params");
  FusedActivation act;
  struct Known {
    const char* name;
    FusedActKind kind;
    size_t params;
  };
  static constexpr Known kKnown[] = {
      {"Relu", FusedActKind::kRelu, 0},       {"LeakyRelu", FusedActKind::kLeakyRelu, 1},
      {"Clip", FusedActKind::kClip, 2},       {"Sigmoid", FusedActKind::kSigmoid, 0},
      {"Tanh", FusedActKind::kTanh, 0},       {"HardSigmoid", FusedActKind::kHardSigmoid, 2},
      {"SiLU", FusedActKind::kSiLU, 0},       {"Gelu", FusedActKind::kGelu, 6}};
  if (name.empty()) return act;
  for (const Known& k : kKnown) {
    if (name != k.name) continue;
    if (p.size() != k.params)
      return ctx.Error("activation ", name, " takes ", k.params, " activation_params, got ", p.size());
    act.kind = k.kind;
    if (k.kind == FusedActKind::kGelu) {
      IDEM_ASSIGN_OR_RETURN(act.gelu.tanh_form, FlagParam(ctx, p[0], "approximate"));
      act.gelu.inner_scale = p[1];
      IDEM_ASSIGN_OR_RETURN(act.gelu.inner_div, FlagParam(ctx, p[2], "inner_div"));
      act.gelu.coef = p[3];
      IDEM_ASSIGN_OR_RETURN(act.gelu.cube_pow, FlagParam(ctx, p[4], "cube_pow"));
      if (p[5] != 0.0f && p[5] != 1.0f && p[5] != 2.0f)
        return ctx.Error("Gelu activation parameter half_mode must be 0, 1 or 2, got ", p[5]);
      act.gelu.half_mode = static_cast<int>(p[5]);
      return act;
    }
    if (k.params > 0) act.a = p[0];
    if (k.params > 1) act.b = p[1];
    return act;
  }
  return ctx.Error("unknown activation '", name, "'");
}

// y[i] = act(x[i]) for i < n, in parallel spans (x == y allowed).
void ApplyActivation(const KernelContext& ctx, const FusedActivation& act, const float* x, float* y, int64_t n) {
  const simd::FusedActSpanFn span = simd::FusedActSpanFor(simd::CurrentIsa());  // once per call
  ctx.ParallelFor(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    span(act, x + begin, nullptr, y + begin, static_cast<size_t>(end - begin));
  });
}

Result<const Tensor*> F32Input(const KernelContext& ctx, size_t i, const char* what) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(i));
  if (t->dtype() != DType::kF32) return ctx.Error(what, " must be float32, got ", DTypeOnnxName(t->dtype()));
  return t;
}

// B (K x N) of a FusedMatMul as PackB panels: B is [K, N], or [N, K] with trans_b.
Result<Tensor> PackWeights(const Tensor& B, bool trans_b, ThreadPool* pool) {
  const int64_t K = trans_b ? B.dim(1) : B.dim(0);
  const int64_t N = trans_b ? B.dim(0) : B.dim(1);
  IDEM_ASSIGN_OR_RETURN(Tensor packed, Tensor::CreateLongLived(DType::kF32, Shape{simd::PackedBFloats(K, N)}));
  simd::PackB(B.data<float>(), K, N, trans_b ? 1 : N, trans_b ? K : 1, packed.data<float>(), pool);
  return packed;
}

}  // namespace

Result<std::shared_ptr<const PreparedState>> PrepareFusedMatMul(const PrepareContext& pc) {
  const Tensor* B = pc.constant_input(1);
  if (B == nullptr || B->dtype() != DType::kF32 || B->rank() != 2) return std::shared_ptr<const PreparedState>();
  IDEM_ASSIGN_OR_RETURN(Tensor packed, PackWeights(*B, pc.Int("trans_b", 0) != 0, pc.pool()));
  auto state = std::make_shared<PreparedState>();
  state->tensors.push_back(std::move(packed));
  return std::shared_ptr<const PreparedState>(std::move(state));
}

Status FusedMatMul(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* A, F32Input(ctx, 0, "A"));
  IDEM_ASSIGN_OR_RETURN(const Tensor* B, F32Input(ctx, 1, "B"));
  const bool trans_b = ctx.Int("trans_b", 0) != 0;
  if (B->rank() != 2) return ctx.Error("B must be 2-D, got shape ", ShapeToString(B->shape()));
  if (A->rank() < 1) return ctx.Error("A must have rank >= 1");
  const int64_t K = trans_b ? B->dim(1) : B->dim(0);
  const int64_t N = trans_b ? B->dim(0) : B->dim(1);
  if (A->dim(A->rank() - 1) != K)
    return ctx.Error("inner dimensions differ: A has shape ", ShapeToString(A->shape()), ", B has shape ",
                     ShapeToString(B->shape()), trans_b ? " (transposed)" : "");
  const float* bias = nullptr;
  if (ctx.has_input(2)) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* bt, F32Input(ctx, 2, "bias"));
    if (bt->numel() != N) return ctx.Error("bias has shape ", ShapeToString(bt->shape()), ", expected ", N, " values");
    bias = bt->data<float>();
  }
  IDEM_ASSIGN_OR_RETURN(FusedActivation act, ParseActivation(ctx));
  Shape out_shape(A->shape().begin(), A->shape().end() - 1);
  out_shape.push_back(N);
  IDEM_ASSIGN_OR_RETURN(Tensor* Y, ctx.AllocateOutputUninitialized(0, DType::kF32, out_shape));
  const float* panels = nullptr;
  Tensor packed;
  const PreparedState* st = ctx.prepared();
  if (st != nullptr && st->tensors.size() == 1 && st->tensors[0].numel() == simd::PackedBFloats(K, N)) {
    panels = st->tensors[0].data<float>();
  } else {
    IDEM_ASSIGN_OR_RETURN(packed, PackWeights(*B, trans_b, ctx.pool()));
    panels = packed.data<float>();
  }
  simd::GemmF32Args g;
  g.M = K == 0 ? Y->numel() / std::max<int64_t>(N, 1) : A->numel() / K;
  g.N = N;
  g.K = K;
  g.a = A->data<float>();
  g.a_row_stride = K;
  g.a_k_stride = 1;
  g.packed_b = panels;
  g.c = Y->data<float>();
  g.ldc = N;
  if (bias != nullptr) {
    g.epilogue.bias_kind = simd::GemmBias::kPerColumn;
    g.epilogue.bias = bias;
  }
  const simd::Isa isa = simd::CurrentIsa();
  simd::FusedActHook hook;  // the other activations: on each block of C right after its store
  if (act.kind == FusedActKind::kRelu) {
    g.epilogue.activation = simd::GemmActivation::kRelu;
  } else if (act.kind == FusedActKind::kClip) {
    g.epilogue.activation = simd::GemmActivation::kClip;
    g.epilogue.clip_lo = act.a;
    g.epilogue.clip_hi = act.b;
  } else if (act.kind != FusedActKind::kNone) {
    hook.span = simd::FusedActSpanFor(isa);
    hook.act = act;
    g.epilogue.post.fn = &simd::FusedActPostStore;
    g.epilogue.post.ctx = &hook;
  }
  if (Y->numel() > 0) simd::GemmF32PackedB(isa, g, ctx.pool());
  return Status::Ok();
}

Result<std::shared_ptr<const PreparedState>> PrepareFusedConv(const PrepareContext& pc) {
  // The Conv kernel's own prepared state (packed weights), when conv.cc has a prepare function.
  if (PrepareFn conv_prepare = FindPrepare("", "Conv")) return conv_prepare(pc);
  return std::shared_ptr<const PreparedState>();
}

Status FusedConv(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(FusedActivation act, ParseActivation(ctx));
  const Tensor* residual = nullptr;
  if (ctx.num_inputs() > 3 && ctx.has_input(3)) {
    IDEM_ASSIGN_OR_RETURN(residual, ctx.InputTensor(3));
  }
  if (ctx.num_inputs() > 4) return ctx.Error("expects at most 4 inputs (X, W, B, sum), got ", ctx.num_inputs());
  Node conv = ctx.node();
  conv.op_type = "Conv";
  conv.domain.clear();
  conv.opset = static_cast<int>(ctx.Int("conv_opset", 11));
  if (conv.inputs.size() > 3) conv.inputs.resize(3);
  std::vector<const RtValue*> ins;
  for (size_t i = 0; i < std::min<size_t>(ctx.num_inputs(), 3); ++i)
    ins.push_back(ctx.has_input(i) ? &ctx.input_value(i) : nullptr);
  std::vector<RtValue> outs(1);
  KernelContext inner(conv, std::move(ins), &outs, ctx.pool(), ctx.seed(), nullptr);
  inner.set_prepared(ctx.prepared());
  Status st = act.kind == FusedActKind::kNone && residual == nullptr ? Conv(inner)
                                                                      : ConvWithOutputOp(inner, act, residual);
  if (!st.ok()) return st;
  if (!IsTensor(outs[0])) return ctx.Error("Conv produced no tensor");
  ctx.SetOutput(0, std::move(std::get<Tensor>(outs[0])));
  return Status::Ok();
}

Status Gelu(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, F32Input(ctx, 0, "X"));
  FusedActivation act;
  act.kind = FusedActKind::kGelu;
  IDEM_ASSIGN_OR_RETURN(act.gelu, GeluFormFromAttributes(ctx));
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutputUninitialized(0, DType::kF32, x->shape()));
  ApplyActivation(ctx, act, x->data<float>(), y->data<float>(), x->numel());
  return Status::Ok();
}

Status Attention(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* Q, F32Input(ctx, 0, "Q"));
  IDEM_ASSIGN_OR_RETURN(const Tensor* Kt, F32Input(ctx, 1, "Kt"));
  IDEM_ASSIGN_OR_RETURN(const Tensor* V, F32Input(ctx, 2, "V"));
  const int64_t rank = Q->rank();
  if (rank < 2 || Kt->rank() != rank || V->rank() != rank)
    return ctx.Error("Q, Kt and V must have the same rank >= 2, got shapes ", ShapeToString(Q->shape()), ", ",
                     ShapeToString(Kt->shape()), ", ", ShapeToString(V->shape()));
  const Shape batch(Q->shape().begin(), Q->shape().end() - 2);
  const int64_t M = Q->dim(rank - 2), K = Q->dim(rank - 1);
  const int64_t N = Kt->dim(rank - 1), D = V->dim(rank - 1);
  if (Shape(Kt->shape().begin(), Kt->shape().end() - 2) != batch ||
      Shape(V->shape().begin(), V->shape().end() - 2) != batch || Kt->dim(rank - 2) != K || V->dim(rank - 2) != N)
    return ctx.Error("shapes do not match: Q ", ShapeToString(Q->shape()), ", Kt ", ShapeToString(Kt->shape()),
                     ", V ", ShapeToString(V->shape()));
  const float scale = ctx.Float("scale", 1.0f);
  const bool scale_div = ctx.Int("scale_div", 0) != 0;
  const int64_t mask_kind = ctx.Int("mask_kind", 0);  // 0 none, 1 add, 2 where (keep scores where true)
  const float fill = ctx.Float("fill", 0.0f);
  if (mask_kind < 0 || mask_kind > 2) return ctx.Error("mask_kind must be 0, 1 or 2, got ", mask_kind);
  Shape score_shape = batch;
  score_shape.push_back(M);
  score_shape.push_back(N);
  const Tensor* mask = nullptr;
  std::vector<int64_t> mask_strides;
  if (mask_kind != 0) {
    IDEM_ASSIGN_OR_RETURN(mask, ctx.InputTensor(3));
    if (mask->dtype() != (mask_kind == 1 ? DType::kF32 : DType::kBool))
      return ctx.Error("mask must be ", mask_kind == 1 ? "float32" : "bool", ", got ", DTypeOnnxName(mask->dtype()));
    if (mask->rank() > rank) return ctx.Error("mask has rank ", mask->rank(), " > ", rank);
    for (int64_t i = 0; i < mask->rank(); ++i) {
      const int64_t md = mask->dim(i), sd = score_shape[static_cast<size_t>(rank - mask->rank() + i)];
      if (md != 1 && md != sd)
        return ctx.Error("mask shape ", ShapeToString(mask->shape()), " does not broadcast to ",
                         ShapeToString(score_shape));
    }
    mask_strides = BroadcastStrides(mask->shape(), score_shape);
  }
  const int64_t batches = NumElements(batch);
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(D);
  IDEM_ASSIGN_OR_RETURN(Tensor* Y, ctx.AllocateOutputUninitialized(0, DType::kF32, out_shape));
  if (NumElements(score_shape) == 0 || Y->numel() == 0) return Status::Ok();
  IDEM_ASSIGN_OR_RETURN(Tensor S, Tensor::CreateUninitialized(DType::kF32, score_shape));  // the GEMM writes all
  const simd::Isa isa = simd::CurrentIsa();
  std::vector<int64_t> q_off(static_cast<size_t>(batches)), k_off(static_cast<size_t>(batches)),
      v_off(static_cast<size_t>(batches)), s_off(static_cast<size_t>(batches));
  for (int64_t b = 0; b < batches; ++b) {
    q_off[static_cast<size_t>(b)] = b * M * K;
    k_off[static_cast<size_t>(b)] = b * K * N;
    v_off[static_cast<size_t>(b)] = b * N * D;
    s_off[static_cast<size_t>(b)] = b * M * N;
  }
  simd::BatchedGemmF32(isa, batches, M, N, K, Q->data<float>(), q_off.data(), K, 1, Kt->data<float>(), k_off.data(),
                       S.data<float>(), ctx.pool());
  // Scale, mask and softmax, row by row (rows are independent).
  float* s = S.data<float>();
  const int64_t rows = batches * M;
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(N, 1));
  // On a SIMD ISA, the softmax of a row is SoftmaxRow's order through the row primitives of
  // simd/reduce_simd.h: m = sequential max, e = exp(x - m) with s = CanonicalSum(e), y = e / s.
  const simd::ReduceKernels* rk = simd::ReduceKernelsFor(isa);
  const int64_t mask_n_stride = mask != nullptr ? mask_strides[static_cast<size_t>(rank - 1)] : 0;
  ctx.ParallelFor(rows, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(N));
    for (int64_t r = begin; r < end; ++r) {
      float* row = s + r * N;
      // Offset in the broadcast mask of score element (r, 0); element (r, n) is n strides on.
      int64_t mask_off = 0;
      if (mask != nullptr) {
        int64_t lin = r;
        for (int64_t d = rank - 2; d >= 0; --d) {
          const int64_t extent = score_shape[static_cast<size_t>(d)];
          mask_off += (lin % extent) * mask_strides[static_cast<size_t>(d)];
          lin /= extent;
        }
      }
      if (mask_kind == 1) {
        const float* add = mask->data<float>() + mask_off;
        for (int64_t n = 0; n < N; ++n) row[n] = (scale_div ? row[n] / scale : row[n] * scale) + add[n * mask_n_stride];
      } else if (mask_kind == 2) {
        const bool* keep = mask->data<bool>() + mask_off;
        for (int64_t n = 0; n < N; ++n) row[n] = keep[n * mask_n_stride] ? (scale_div ? row[n] / scale : row[n] * scale) : fill;
      } else {
        for (int64_t n = 0; n < N; ++n) row[n] = scale_div ? row[n] / scale : row[n] * scale;
      }
      if (rk != nullptr) {
        const float m = rk->max(row, N);
        const float sum = rk->exp_sum(row, N, m, scratch.data());
        rk->divide(scratch.data(), N, sum, row);
      } else {
        reduce_internal::SoftmaxRow<float>(
            N, false, [&](int64_t i) { return row[i]; }, [&](int64_t i, float v) { row[i] = v; }, scratch.data());
      }
    }
  });
  simd::BatchedGemmF32(isa, batches, M, D, N, s, s_off.data(), N, 1, V->data<float>(), v_off.data(), Y->data<float>(),
                       ctx.pool());
  return Status::Ok();
}

}  // namespace idem::kernels
