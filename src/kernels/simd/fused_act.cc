// Fused-kernel activations: the scalar reference (Isa::kScalar), the per-ISA dispatch and the
// GEMM post-store hook. The SIMD spans are in fused_act-inl.h, compiled here once per target of
// kernels/simd/targets.h.

#include "kernels/simd/targets.h"  // first: decides the targets foreach_target.h compiles

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/fused_act.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/simd/fused_act-inl.h"

#if HWY_ONCE

#include <cmath>

#include "core/math.h"
#include "core/status.h"
#include "kernels/simd/fused_act.h"

namespace idem::simd {
namespace {

float GeluScalar(const GeluForm& g, float x) {
  float e;
  if (g.tanh_form) {
    const float c = g.cube_pow ? math::pow(x, 3.0f) : x * (x * x);
    const float s = x + g.coef * c;
    e = math::tanh(g.inner_scale * s);
  } else {
    e = math::erf(g.inner_div ? x / g.inner_scale : x * g.inner_scale);
  }
  const float t = e + 1.0f;
  switch (g.half_mode) {
    case 1:
      return (x * 0.5f) * t;
    case 2:
      return x * (t * 0.5f);
    default:
      return (x * t) * 0.5f;
  }
}

void FusedActSpanScalar(const FusedActivation& act, const float* x, const float* addend, float* y, size_t n) {
  if (addend != nullptr) {
    for (size_t i = 0; i < n; ++i) y[i] = FusedActivationScalar(act, x[i] + addend[i]);
  } else {
    for (size_t i = 0; i < n; ++i) y[i] = FusedActivationScalar(act, x[i]);
  }
}

}  // namespace

const char* FusedActName(FusedActKind kind) {
  switch (kind) {
    case FusedActKind::kNone: return "None";
    case FusedActKind::kRelu: return "Relu";
    case FusedActKind::kLeakyRelu: return "LeakyRelu";
    case FusedActKind::kClip: return "Clip";
    case FusedActKind::kSigmoid: return "Sigmoid";
    case FusedActKind::kTanh: return "Tanh";
    case FusedActKind::kHardSigmoid: return "HardSigmoid";
    case FusedActKind::kSiLU: return "SiLU";
    case FusedActKind::kGelu: return "Gelu";
  }
  return "?";
}

float FusedActivationScalar(const FusedActivation& act, float x) {
  switch (act.kind) {
    case FusedActKind::kNone:
      return x;
    case FusedActKind::kRelu:
      return math::relu(x);
    case FusedActKind::kLeakyRelu:
      return math::leaky_relu(x, act.a);
    case FusedActKind::kClip:
      return math::clip(x, act.a, act.b);
    case FusedActKind::kSigmoid:
      return math::sigmoid(x);
    case FusedActKind::kTanh:
      return math::tanh(x);
    case FusedActKind::kHardSigmoid:
      return math::hard_sigmoid(x, act.a, act.b);
    case FusedActKind::kSiLU:
      return math::silu(x);
    case FusedActKind::kGelu:
      return GeluScalar(act.gelu, x);
  }
  return x;
}

FusedActSpanFn FusedActSpanFor(Isa isa) {
  FusedActSpanFn fn = nullptr;
  switch (isa) {
    case Isa::kScalar:
      fn = &FusedActSpanScalar;
      break;
    case Isa::kAvx2:
      fn = IDEM_SIMD_AVX2_FN(FusedActSpanF32);
      break;
    case Isa::kAvx512:
      fn = IDEM_SIMD_AVX512_FN(FusedActSpanF32);
      break;
  }
  IDEM_CHECK(fn != nullptr && IsaSupported(isa), "fused activation called for unsupported ISA ", IsaName(isa));
  return fn;
}

void FusedActPostStore(const void* hook, float* c, int64_t ldc, int64_t m, int64_t n, int64_t rows, int64_t cols) {
  const auto* h = static_cast<const FusedActHook*>(hook);
  for (int64_t r = 0; r < rows; ++r) {
    const float* addend = h->addend != nullptr ? h->addend + (m + r) * h->addend_ld + n : nullptr;
    h->span(h->act, c + r * ldc, addend, c + r * ldc, static_cast<size_t>(cols));
  }
}

}  // namespace idem::simd

#endif  // HWY_ONCE
