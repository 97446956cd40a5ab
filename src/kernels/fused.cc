// Kernels of idem's own domain "idem" (opset 1), the ops the fusion passes (src/passes) create.
// Each one performs EXACTLY the arithmetic of the ONNX ops it replaces, in the same order, so a
// fused graph gives the same bits as the unfused one (tests/unit/passes_test.cc checks bitwise):
//  - FusedMatMul(A, B, bias?) {trans_b, activation, activation_params}: the MatMul/Gemm chain per
//    element (simd/gemm.h), then `+ bias[n]` (one f32 add, as Add or Gemm with alpha = beta = 1
//    do), then the activation with the formula of the ONNX op's kernel. f32 only.
//  - FusedConv(X, W, B?) {Conv's attributes, activation, activation_params}: the Conv kernel,
//    then the activation in place.
//  - Gelu(X) {approximate, ...}: the decomposed GELU sub-graph torch exports, op by op (see
//    GeluParams for the attributes that record the order of the multiplications).
//  - Attention(Q, Kt, V, mask?) {scale, scale_div, mask_kind, fill}: S = Q·Kt (MatMul chain),
//    S / scale or S * scale, + mask or Where(mask, S, fill), Softmax over the last axis
//    (reduce_internal::SoftmaxRow), then S·V (MatMul chain).
// Activations (the ONNX kernels' formulas, elementwise_unary.cc): Relu x < 0 ? 0 : x;
// LeakyRelu(alpha) x < 0 ? alpha * x : x; Clip(lo, hi) min(max(x, lo), hi) written as the Clip
// kernel does; Sigmoid math::sigmoid; Tanh math::tanh; HardSigmoid(alpha, beta)
// clamp01(fma(alpha, x, beta)); SiLU x * math::sigmoid(x) (Sigmoid then Mul).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/math.h"
#include "kernels/kernel.h"
#include "kernels/reduce_internal.h"
#include "kernels/registry.h"
#include "kernels/simd/gemm.h"
#include "kernels/util.h"

namespace idem::kernels {

Status Conv(KernelContext& ctx);  // conv.cc

namespace {

enum class Act { kNone, kRelu, kLeakyRelu, kClip, kSigmoid, kTanh, kHardSigmoid, kSiLU };

struct Activation {
  Act kind = Act::kNone;
  float a = 0, b = 0;
};

Result<Activation> ParseActivation(const KernelContext& ctx) {
  const std::string name = ctx.String("activation", "");
  const std::vector<float> p = ctx.Floats("activation_params");
  Activation act;
  struct Known {
    const char* name;
    Act kind;
    size_t params;
  };
  static constexpr Known kKnown[] = {{"Relu", Act::kRelu, 0},        {"LeakyRelu", Act::kLeakyRelu, 1},
                                     {"Clip", Act::kClip, 2},        {"Sigmoid", Act::kSigmoid, 0},
                                     {"Tanh", Act::kTanh, 0},        {"HardSigmoid", Act::kHardSigmoid, 2},
                                     {"SiLU", Act::kSiLU, 0}};
  if (name.empty()) return act;
  for (const Known& k : kKnown) {
    if (name != k.name) continue;
    if (p.size() != k.params)
      return ctx.Error("activation ", name, " takes ", k.params, " activation_params, got ", p.size());
    act.kind = k.kind;
    if (k.params > 0) act.a = p[0];
    if (k.params > 1) act.b = p[1];
    return act;
  }
  return ctx.Error("unknown activation '", name, "'");
}

inline float Activate(const Activation& act, float x) {
  switch (act.kind) {
    case Act::kNone: return x;
    case Act::kRelu: return x < 0.0f ? 0.0f : x;
    case Act::kLeakyRelu: return x < 0.0f ? act.a * x : x;
    case Act::kClip: {
      const float above = x < act.a ? act.a : x;
      return above > act.b ? act.b : above;
    }
    case Act::kSigmoid: return math::sigmoid(x);
    case Act::kTanh: return math::tanh(x);
    case Act::kHardSigmoid: {
      const float v = std::fma(act.a, x, act.b);
      return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
    case Act::kSiLU: return x * math::sigmoid(x);
  }
  return x;
}

void ActivateInPlace(const KernelContext& ctx, const Activation& act, float* y, int64_t n) {
  if (act.kind == Act::kNone) return;
  ctx.ParallelFor(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] = Activate(act, y[i]);
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
  IDEM_ASSIGN_OR_RETURN(Tensor packed, Tensor::Create(DType::kF32, Shape{simd::PackedBFloats(K, N)}));
  simd::PackB(B.data<float>(), K, N, trans_b ? 1 : N, trans_b ? K : 1, packed.data<float>(), pool);
  return packed;
}

// ---------------------------------------------------------------- GELU

struct GeluParams {
  bool tanh_form = false;
  float inner_scale = 0;  // erf: x / inner_scale (inner_div) or x * inner_scale; tanh: the sqrt(2/pi) factor
  bool inner_div = false;
  float coef = 0;         // tanh: 0.044715
  bool cube_pow = false;  // tanh: x^3 as Pow(x, 3) (math::pow) instead of x * (x * x)
  int64_t half_mode = 0;  // 0: (x * t) * 0.5; 1: (x * 0.5) * t; 2: x * (t * 0.5)
};

inline float GeluOf(const GeluParams& p, float x) {
  float u;
  float e;
  if (p.tanh_form) {
    const float x3 = p.cube_pow ? math::pow(x, 3.0f) : x * (x * x);
    const float s = x + p.coef * x3;
    u = p.inner_scale * s;
    e = math::tanh(u);
  } else {
    u = p.inner_div ? x / p.inner_scale : x * p.inner_scale;
    e = math::erf(u);
  }
  const float t = e + 1.0f;
  switch (p.half_mode) {
    case 1: return (x * 0.5f) * t;
    case 2: return x * (t * 0.5f);
    default: return (x * t) * 0.5f;
  }
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
  IDEM_ASSIGN_OR_RETURN(Activation act, ParseActivation(ctx));
  Shape out_shape(A->shape().begin(), A->shape().end() - 1);
  out_shape.push_back(N);
  IDEM_ASSIGN_OR_RETURN(Tensor* Y, ctx.AllocateOutput(0, DType::kF32, out_shape));
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
  Activation rest = act;
  if (act.kind == Act::kRelu) {
    g.epilogue.activation = simd::GemmActivation::kRelu;
    rest.kind = Act::kNone;
  } else if (act.kind == Act::kClip) {
    g.epilogue.activation = simd::GemmActivation::kClip;
    g.epilogue.clip_lo = act.a;
    g.epilogue.clip_hi = act.b;
    rest.kind = Act::kNone;
  }
  if (Y->numel() > 0) simd::GemmF32PackedB(simd::CurrentIsa(), g, ctx.pool());
  ActivateInPlace(ctx, rest, Y->data<float>(), Y->numel());
  return Status::Ok();
}

Result<std::shared_ptr<const PreparedState>> PrepareFusedConv(const PrepareContext& pc) {
  // The Conv kernel's own prepared state (packed weights), when conv.cc has a prepare function.
  if (PrepareFn conv_prepare = FindPrepare("", "Conv")) return conv_prepare(pc);
  return std::shared_ptr<const PreparedState>();
}

Status FusedConv(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(Activation act, ParseActivation(ctx));
  Node conv = ctx.node();
  conv.op_type = "Conv";
  conv.domain.clear();
  conv.opset = static_cast<int>(ctx.Int("conv_opset", 11));
  std::vector<const RtValue*> ins;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) ins.push_back(ctx.has_input(i) ? &ctx.input_value(i) : nullptr);
  std::vector<RtValue> outs(1);
  KernelContext inner(conv, std::move(ins), &outs, ctx.pool(), ctx.seed(), nullptr);
  inner.set_prepared(ctx.prepared());
  Status st = Conv(inner);
  if (!st.ok()) return st;
  if (!IsTensor(outs[0])) return ctx.Error("Conv produced no tensor");
  Tensor y = std::get<Tensor>(outs[0]);
  if (act.kind != Act::kNone) {
    if (y.dtype() != DType::kF32) return ctx.Error("activation needs float32, got ", DTypeOnnxName(y.dtype()));
    ActivateInPlace(ctx, act, y.data<float>(), y.numel());  // a fresh tensor made by Conv
  }
  ctx.SetOutput(0, std::move(y));
  return Status::Ok();
}

Status Gelu(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, F32Input(ctx, 0, "X"));
  GeluParams p;
  const std::string approx = ctx.String("approximate", "none");
  if (approx != "none" && approx != "tanh") return ctx.Error("approximate must be 'none' or 'tanh', got '", approx, "'");
  p.tanh_form = approx == "tanh";
  p.inner_scale = ctx.Float("inner_scale", p.tanh_form ? 0.7978845834732056f : 1.4142135381698608f);
  p.inner_div = ctx.Int("inner_div", p.tanh_form ? 0 : 1) != 0;
  p.coef = ctx.Float("coef", 0.044715f);
  p.cube_pow = ctx.Int("cube_pow", 0) != 0;
  p.half_mode = ctx.Int("half_mode", 0);
  if (p.half_mode < 0 || p.half_mode > 2) return ctx.Error("half_mode must be 0, 1 or 2, got ", p.half_mode);
  IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutput(0, DType::kF32, x->shape()));
  const float* src = x->data<float>();
  float* dst = y->data<float>();
  ctx.ParallelFor(x->numel(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) dst[i] = GeluOf(p, src[i]);
  });
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
  IDEM_ASSIGN_OR_RETURN(Tensor* Y, ctx.AllocateOutput(0, DType::kF32, out_shape));
  if (NumElements(score_shape) == 0 || Y->numel() == 0) return Status::Ok();
  IDEM_ASSIGN_OR_RETURN(Tensor S, Tensor::Create(DType::kF32, score_shape));
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
  ctx.ParallelFor(rows, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(N));
    for (int64_t r = begin; r < end; ++r) {
      float* row = s + r * N;
      for (int64_t n = 0; n < N; ++n) {
        float v = scale_div ? row[n] / scale : row[n] * scale;
        if (mask != nullptr) {
          // Offset of score element (r, n) in the broadcast mask.
          int64_t lin = r * N + n, off = 0;
          for (int64_t d = rank - 1; d >= 0; --d) {
            const int64_t extent = score_shape[static_cast<size_t>(d)];
            off += (lin % extent) * mask_strides[static_cast<size_t>(d)];
            lin /= extent;
          }
          if (mask_kind == 1) v = v + mask->data<float>()[off];
          else v = mask->data<bool>()[off] ? v : fill;
        }
        row[n] = v;
      }
      reduce_internal::SoftmaxRow<float>(
          N, false, [&](int64_t i) { return row[i]; }, [&](int64_t i, float v) { row[i] = v; }, scratch.data());
    }
  });
  simd::BatchedGemmF32(isa, batches, M, D, N, s, s_off.data(), N, 1, V->data<float>(), v_off.data(), Y->data<float>(),
                       ctx.pool());
  return Status::Ok();
}

}  // namespace idem::kernels
