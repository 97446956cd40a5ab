// Elementwise span kernels: the scalar reference (Isa::kScalar) and the per-ISA dispatch. The
// SIMD spans are in elementwise-inl.h, compiled here once per target of kernels/simd/targets.h.

#include "kernels/simd/targets.h"  // first: decides the targets foreach_target.h compiles

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/elementwise.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/simd/elementwise-inl.h"

#if HWY_ONCE

#include <cmath>
#include <type_traits>

#include "core/half.h"
#include "core/math.h"
#include "core/status.h"
#include "kernels/simd/elementwise.h"

namespace idem::simd {
namespace {


template <ElemType kT>
using Raw = std::conditional_t<kT == ElemType::kF32, float, uint16_t>;

template <ElemType kT>
float LoadOne(Raw<kT> v) {
  if constexpr (kT == ElemType::kF32)
    return v;
  else if constexpr (kT == ElemType::kF16)
    return HalfToFloat(Float16::FromBits(v));
  else
    return BFloat16ToFloat(BFloat16::FromBits(v));
}
template <ElemType kT>
Raw<kT> StoreOne(float v) {
  if constexpr (kT == ElemType::kF32)
    return v;
  else if constexpr (kT == ElemType::kF16)
    return FloatToHalf(v).bits;
  else
    return FloatToBFloat16(v).bits;
}

template <ElemType kT>
void UnaryScalarSpan(UnaryF32Op op, const UnaryF32Params& p, const void* xv, void* yv, size_t n) {
  const auto* x = static_cast<const Raw<kT>*>(xv);
  auto* y = static_cast<Raw<kT>*>(yv);
  for (size_t i = 0; i < n; ++i) y[i] = StoreOne<kT>(UnaryF32Scalar(op, p, LoadOne<kT>(x[i])));
}

template <ElemType kT>
void BinaryScalarSpan(BinaryF32Op op, const void* av, size_t as, const void* bv, size_t bs, void* ov, size_t n) {
  const auto* a = static_cast<const Raw<kT>*>(av);
  const auto* b = static_cast<const Raw<kT>*>(bv);
  auto* out = static_cast<Raw<kT>*>(ov);
  for (size_t i = 0; i < n; ++i)
    out[i] = StoreOne<kT>(BinaryF32Scalar(op, LoadOne<kT>(a[i * as]), LoadOne<kT>(b[i * bs])));
}

void F32ToF16Scalar(const float* x, uint16_t* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = FloatToHalf(x[i]).bits;
}
void F16ToF32Scalar(const uint16_t* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = HalfToFloat(Float16::FromBits(x[i]));
}
void F32ToBF16Scalar(const float* x, uint16_t* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = FloatToBFloat16(x[i]).bits;
}
void BF16ToF32Scalar(const uint16_t* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = BFloat16ToFloat(BFloat16::FromBits(x[i]));
}

void CheckIsa(Isa isa, bool compiled) {
  IDEM_CHECK(compiled && IsaSupported(isa), "elementwise kernels called for unsupported ISA ", IsaName(isa));
}

}  // namespace

const char* UnaryF32OpName(UnaryF32Op op) {
  static constexpr const char* kNames[] = {"Relu",
                                           "Abs",
                                           "Neg",
                                           "Sqrt",
                                           "Reciprocal",
                                           "Exp",
                                           "Log",
                                           "Tanh",
                                           "Erf",
                                           "Sigmoid",
                                           "Softplus",
                                           "Sin",
                                           "Cos",
                                           "Floor",
                                           "Ceil",
                                           "Round",
                                           "Sign",
                                           "LeakyRelu",
                                           "ThresholdedRelu",
                                           "Elu",
                                           "Selu",
                                           "Celu",
                                           "HardSigmoid",
                                           "HardSwish",
                                           "Softsign",
                                           "Clip",
                                           "Gelu",
                                           "GeluTanh",
                                           "Silu",
                                           "Expm1",
                                           "Log1p",
                                           "Sinh",
                                           "Cosh"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == kNumUnaryF32Ops);
  return kNames[static_cast<int>(op)];
}

const char* BinaryF32OpName(BinaryF32Op op) {
  static constexpr const char* kNames[] = {"Add", "Sub", "Mul", "Div", "Max", "Min", "PRelu", "Pow"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == kNumBinaryF32Ops);
  return kNames[static_cast<int>(op)];
}

float UnaryF32Scalar(UnaryF32Op op, const UnaryF32Params& p, float x) {
  switch (op) {
    case UnaryF32Op::kRelu:
      return math::relu(x);
    case UnaryF32Op::kAbs:
      return math::abs(x);
    case UnaryF32Op::kNeg:
      return -x;
    case UnaryF32Op::kSqrt:
      return std::sqrt(x);
    case UnaryF32Op::kReciprocal:
      return 1.0f / x;
    case UnaryF32Op::kExp:
      return math::exp(x);
    case UnaryF32Op::kLog:
      return math::log(x);
    case UnaryF32Op::kTanh:
      return math::tanh(x);
    case UnaryF32Op::kErf:
      return math::erf(x);
    case UnaryF32Op::kSigmoid:
      return math::sigmoid(x);
    case UnaryF32Op::kSoftplus:
      return math::softplus(x);
    case UnaryF32Op::kSin:
      return math::sin(x);
    case UnaryF32Op::kCos:
      return math::cos(x);
    case UnaryF32Op::kFloor:
      return math::floor(x);
    case UnaryF32Op::kCeil:
      return math::ceil(x);
    case UnaryF32Op::kRound:
      return math::round_half_even(x);
    case UnaryF32Op::kSign:
      return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x;
    case UnaryF32Op::kLeakyRelu:
      return math::leaky_relu(x, p.alpha);
    case UnaryF32Op::kThresholdedRelu:
      return x > p.alpha ? x : 0.0f;
    case UnaryF32Op::kElu:
      return x < 0.0f ? p.alpha * math::expm1(x) : x;
    case UnaryF32Op::kSelu:
      return x > 0.0f ? p.gamma * x : p.gamma * (p.alpha * math::expm1(x));
    case UnaryF32Op::kCelu:
      return x > 0.0f ? x : p.alpha * math::expm1(x / p.alpha);
    case UnaryF32Op::kHardSigmoid:
      return math::hard_sigmoid(x, p.alpha, p.beta);
    case UnaryF32Op::kHardSwish:
      return x * math::saturate01(std::fma(1.0f / 6.0f, x, 0.5f));
    case UnaryF32Op::kSoftsign:
      return x / (1.0f + math::abs(x));
    case UnaryF32Op::kClip:
      return math::clip(x, p.lo, p.hi);
    case UnaryF32Op::kGelu:
      return math::gelu(x);
    case UnaryF32Op::kGeluTanh:
      return math::gelu_tanh(x);
    case UnaryF32Op::kSilu:
      return math::silu(x);
    case UnaryF32Op::kExpm1:
      return math::expm1(x);
    case UnaryF32Op::kLog1p:
      return math::log1p(x);
    case UnaryF32Op::kSinh:
      return math::sinh(x);
    case UnaryF32Op::kCosh:
      return math::cosh(x);
  }
  return x;
}

float BinaryF32Scalar(BinaryF32Op op, float a, float b) {
  switch (op) {
    case BinaryF32Op::kAdd:
      return a + b;
    case BinaryF32Op::kSub:
      return a - b;
    case BinaryF32Op::kMul:
      return a * b;
    case BinaryF32Op::kDiv:
      return a / b;
    case BinaryF32Op::kMax:
      if (a != a) return a;
      if (b != b) return b;
      return b > a ? b : a;
    case BinaryF32Op::kMin:
      if (a != a) return a;
      if (b != b) return b;
      return b < a ? b : a;
    case BinaryF32Op::kPRelu:
      return a < 0.0f ? b * a : a;
    case BinaryF32Op::kPow:
      return math::pow(a, b);
  }
  return a;
}

UnaryF32Fn UnaryF32For(Isa isa, ElemType type) {
  switch (isa) {
    case Isa::kScalar:
      if (type == ElemType::kF32) return &UnaryScalarSpan<ElemType::kF32>;
      if (type == ElemType::kF16) return &UnaryScalarSpan<ElemType::kF16>;
      return &UnaryScalarSpan<ElemType::kBF16>;
    case Isa::kAvx2: {
      UnaryF32Fn fns[] = {IDEM_SIMD_AVX2_FN(UnaryF32SpanF32), IDEM_SIMD_AVX2_FN(UnaryF32SpanF16),
                          IDEM_SIMD_AVX2_FN(UnaryF32SpanBF16)};
      CheckIsa(isa, fns[0] != nullptr);
      return fns[static_cast<int>(type)];
    }
    case Isa::kAvx512: {
      UnaryF32Fn fns[] = {IDEM_SIMD_AVX512_FN(UnaryF32SpanF32), IDEM_SIMD_AVX512_FN(UnaryF32SpanF16),
                          IDEM_SIMD_AVX512_FN(UnaryF32SpanBF16)};
      CheckIsa(isa, fns[0] != nullptr);
      return fns[static_cast<int>(type)];
    }
  }
  return nullptr;
}

BinaryF32Fn BinaryF32For(Isa isa, ElemType type) {
  switch (isa) {
    case Isa::kScalar:
      if (type == ElemType::kF32) return &BinaryScalarSpan<ElemType::kF32>;
      if (type == ElemType::kF16) return &BinaryScalarSpan<ElemType::kF16>;
      return &BinaryScalarSpan<ElemType::kBF16>;
    case Isa::kAvx2: {
      BinaryF32Fn fns[] = {IDEM_SIMD_AVX2_FN(BinaryF32SpanF32), IDEM_SIMD_AVX2_FN(BinaryF32SpanF16),
                           IDEM_SIMD_AVX2_FN(BinaryF32SpanBF16)};
      CheckIsa(isa, fns[0] != nullptr);
      return fns[static_cast<int>(type)];
    }
    case Isa::kAvx512: {
      BinaryF32Fn fns[] = {IDEM_SIMD_AVX512_FN(BinaryF32SpanF32), IDEM_SIMD_AVX512_FN(BinaryF32SpanF16),
                           IDEM_SIMD_AVX512_FN(BinaryF32SpanBF16)};
      CheckIsa(isa, fns[0] != nullptr);
      return fns[static_cast<int>(type)];
    }
  }
  return nullptr;
}

ConvertFns ConvertFor(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return {&F32ToF16Scalar, &F16ToF32Scalar, &F32ToBF16Scalar, &BF16ToF32Scalar};
    case Isa::kAvx2: {
      const ConvertFns fns{IDEM_SIMD_AVX2_FN(ConvertF32ToF16), IDEM_SIMD_AVX2_FN(ConvertF16ToF32),
                           IDEM_SIMD_AVX2_FN(ConvertF32ToBF16), IDEM_SIMD_AVX2_FN(ConvertBF16ToF32)};
      CheckIsa(isa, fns.f32_to_f16 != nullptr);
      return fns;
    }
    case Isa::kAvx512: {
      const ConvertFns fns{IDEM_SIMD_AVX512_FN(ConvertF32ToF16), IDEM_SIMD_AVX512_FN(ConvertF16ToF32),
                           IDEM_SIMD_AVX512_FN(ConvertF32ToBF16), IDEM_SIMD_AVX512_FN(ConvertBF16ToF32)};
      CheckIsa(isa, fns.f32_to_f16 != nullptr);
      return fns;
    }
  }
  return {};
}

}  // namespace idem::simd

#endif  // HWY_ONCE
