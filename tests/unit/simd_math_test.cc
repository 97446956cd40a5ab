// Vectorized math (kernels/simd/math-inl.h, reached through the span kernels of
// kernels/simd/elementwise.h): every SIMD target == the scalar idem::math routine, bitwise, over
// (a) millions of random bit patterns (every exponent, NaN payloads, subnormals) and random values
// in the functions' interesting ranges, (b) every special value and the neighbours of each range
// reduction / overflow / underflow threshold, (c) ragged lengths 0..67 at misaligned addresses.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/math.h"
#include "kernels/simd/elementwise.h"
#include "isa_test_util.h"
#include "kernels/simd/isa.h"

namespace idem::simd {
namespace {

using idem::testing::IsaScope;
using idem::testing::SupportedSimdIsas;

// The scalar routine each math op must reproduce (independent of elementwise.cc's reference).
float Reference(UnaryF32Op op, float x) {
  switch (op) {
    case UnaryF32Op::kExp:
      return math::exp(x);
    case UnaryF32Op::kExpm1:
      return math::expm1(x);
    case UnaryF32Op::kLog:
      return math::log(x);
    case UnaryF32Op::kLog1p:
      return math::log1p(x);
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
    case UnaryF32Op::kGelu:
      return math::gelu(x);
    case UnaryF32Op::kGeluTanh:
      return math::gelu_tanh(x);
    case UnaryF32Op::kSilu:
      return math::silu(x);
    case UnaryF32Op::kSinh:
      return math::sinh(x);
    case UnaryF32Op::kCosh:
      return math::cosh(x);
    default:
      break;
  }
  ADD_FAILURE() << "no reference for " << UnaryF32OpName(op);
  return 0.0f;
}

constexpr UnaryF32Op kMathOps[] = {UnaryF32Op::kExp,   UnaryF32Op::kLog,  UnaryF32Op::kExpm1,    UnaryF32Op::kLog1p,
                                   UnaryF32Op::kTanh,  UnaryF32Op::kErf,  UnaryF32Op::kSigmoid,  UnaryF32Op::kSoftplus,
                                   UnaryF32Op::kSin,   UnaryF32Op::kCos,  UnaryF32Op::kFloor,    UnaryF32Op::kCeil,
                                   UnaryF32Op::kRound, UnaryF32Op::kGelu, UnaryF32Op::kGeluTanh, UnaryF32Op::kSilu,
                                   UnaryF32Op::kSinh,  UnaryF32Op::kCosh};

uint32_t BitsOf(float f) { return std::bit_cast<uint32_t>(f); }
float FromBits(uint32_t u) { return std::bit_cast<float>(u); }

// Every special value and threshold of the float routines, each with its two neighbours and both
// signs.
std::vector<float> SpecialValues() {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> base = {0.0f, 1.0f, 0.5f, 2.0f, 0x1p-149f, 0x1p-127f, 0x1.fffffcp-127f, 0x1p-126f, 0x1p-125f,
                             std::numeric_limits<float>::max(), inf,
                             // exp / expm1 / sigmoid / softplus: clamps, overflow, underflow, subnormal results.
                             90.0f, 88.72283f, 88.7228394f, 89.0f, 105.0f, 103.972076f, 87.33654f, 86.0f, 100.0f,
                             104.0f, 20.0f, 0.34657359f, 0.6931472f, 1.0397208f, 17.0f, 16.635532f, 15.942385f, 1e-7f,
                             1e-20f, 1e-30f,
                             // log / log1p: reduction boundaries.
                             0x1.6a09e6p-1f, 0x1.6a09e6p+0f, 0.41421356f, -0.29289323f, 1e-3f, 0.9999999f, 1.0000001f,
                             // tanh / erf.
                             0.55f, 10.0f, 9.0f, 4.0f, 3.9f, 0.999f, 1.001f, 0.875f,
                             // sin / cos: Cody-Waite limit, multiples of pi/4 and pi/2, Payne-Hanek arguments.
                             0x1p17f, 131071.99f, 0.78539819f, 1.5707964f, 3.1415927f, 4.712389f, 6.2831855f, 100000.0f,
                             1e6f, 1e10f, 1e20f, 1e38f, 0x1.921fb6p+10f, 102943.71f, 205887.42f,
                             // rounding: half-integers, 2^23 boundary.
                             0x1p23f, 0x1.fffffep22f, 2.5f, 3.5f, -0.5f, 1.5f, 0.49999997f, 8388607.5f, 4194303.5f};
  std::vector<float> v;
  for (float b : base) {
    for (float s : {b, -b}) {
      v.push_back(s);
      if (std::isfinite(s)) {
        v.push_back(std::nextafter(s, inf));
        v.push_back(std::nextafter(s, -inf));
      }
    }
  }
  // NaNs: quiet and signalling, both signs, several payloads.
  for (uint32_t u : {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u, 0x7fa00000u, 0x7fbfffffu, 0x7fffffffu,
                     0xffffffffu, 0x7fc12345u, 0xff812345u})
    v.push_back(FromBits(u));
  return v;
}

// Random bit patterns (every exponent, sign and NaN payload) and values in [-range, range].
std::vector<float> RandomInputs(size_t n_bits, size_t n_range, float range, uint32_t seed) {
  std::vector<float> v;
  v.reserve(n_bits + n_range);
  uint64_t s = 0x9E3779B97F4A7C15ull ^ seed;
  auto next = [&s]() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  for (size_t i = 0; i < n_bits; ++i) v.push_back(FromBits(static_cast<uint32_t>(next() >> 16)));
  for (size_t i = 0; i < n_range; ++i) {
    const float u = static_cast<float>(next() >> 40) * 0x1p-24f;  // [0, 1)
    v.push_back((2.0f * u - 1.0f) * range);
  }
  return v;
}

// Runs `op` on `isa` over x and compares every element with Reference; reports the first few.
void ExpectBitwise(Isa isa, UnaryF32Op op, const std::vector<float>& x) {
  std::vector<float> y(x.size());
  UnaryF32For(isa, ElemType::kF32)(op, UnaryF32Params{}, x.data(), y.data(), x.size());
  size_t bad = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const float want = Reference(op, x[i]);
    if (BitsOf(y[i]) != BitsOf(want)) {
      if (++bad <= 5)
        ADD_FAILURE() << IsaName(isa) << " " << UnaryF32OpName(op) << "(0x" << std::hex << BitsOf(x[i]) << " = " << x[i]
                      << "): got 0x" << BitsOf(y[i]) << ", scalar 0x" << BitsOf(want) << std::dec;
    }
  }
  EXPECT_EQ(bad, 0u) << IsaName(isa) << " " << UnaryF32OpName(op) << ": " << bad << " of " << x.size()
                     << " elements differ";
}

float RangeOf(UnaryF32Op op) {
  switch (op) {
    case UnaryF32Op::kExp:
    case UnaryF32Op::kExpm1:
    case UnaryF32Op::kSinh:
    case UnaryF32Op::kCosh:
      return 110.0f;
    case UnaryF32Op::kLog:
    case UnaryF32Op::kLog1p:
      return 4.0f;
    case UnaryF32Op::kSin:
    case UnaryF32Op::kCos:
      return 200.0f;
    case UnaryF32Op::kFloor:
    case UnaryF32Op::kCeil:
    case UnaryF32Op::kRound:
      return 40.0f;
    default:
      return 12.0f;
  }
}

TEST(SimdMath, EveryIsaHasRequestedTargetsCompiled) {
  // On this project's x86 build both SIMD targets are compiled; the CPU decides what runs.
  EXPECT_TRUE(IsaSupported(Isa::kScalar));
  if (SupportedSimdIsas().empty()) GTEST_SKIP() << "no SIMD ISA supported on this CPU";
}

TEST(SimdMath, SpecialValuesBitwise) {
  const std::vector<float> x = SpecialValues();
  for (Isa isa : SupportedSimdIsas())
    for (UnaryF32Op op : kMathOps) ExpectBitwise(isa, op, x);
}

TEST(SimdMath, RandomBitPatternsAndRangesBitwise) {
  uint32_t seed = 1;
  for (UnaryF32Op op : kMathOps) {
    const std::vector<float> x = RandomInputs(1 << 20, 1 << 20, RangeOf(op), seed++);
    for (Isa isa : SupportedSimdIsas()) ExpectBitwise(isa, op, x);
  }
}

TEST(SimdMath, SubnormalInputsAndNeighboursOfOneBitwise) {
  // Every 97th subnormal and every float in [1 - 2^-10, 1 + 2^-10] (log/log1p cancellation).
  std::vector<float> x;
  for (uint32_t u = 1; u < 0x00800000u; u += 97) {
    x.push_back(FromBits(u));
    x.push_back(FromBits(u | 0x80000000u));
  }
  for (float f = 1.0f - 0x1p-10f; f <= 1.0f + 0x1p-10f; f = std::nextafter(f, 2.0f)) x.push_back(f);
  for (Isa isa : SupportedSimdIsas())
    for (UnaryF32Op op : kMathOps) ExpectBitwise(isa, op, x);
}

TEST(SimdMath, RaggedLengthsAndMisalignedPointers) {
  const std::vector<float> pool = RandomInputs(256, 256, 8.0f, 77);
  for (Isa isa : SupportedSimdIsas()) {
    for (UnaryF32Op op : kMathOps) {
      const UnaryF32Fn fn = UnaryF32For(isa, ElemType::kF32);
      for (size_t n = 0; n <= 67; ++n) {
        for (size_t offset : {0, 1, 3, 7}) {
          std::vector<float> in(n + 16), out(n + 16, -7.0f);
          std::memcpy(in.data() + offset, pool.data() + n * 5 % 300, n * sizeof(float));
          fn(op, UnaryF32Params{}, in.data() + offset, out.data() + offset, n);
          for (size_t i = 0; i < n; ++i)
            ASSERT_EQ(BitsOf(out[offset + i]), BitsOf(Reference(op, in[offset + i])))
                << IsaName(isa) << " " << UnaryF32OpName(op) << " n=" << n << " offset=" << offset << " i=" << i;
          for (size_t i = 0; i < offset; ++i) ASSERT_EQ(out[i], -7.0f) << "wrote before the span";
          for (size_t i = offset + n; i < out.size(); ++i) ASSERT_EQ(out[i], -7.0f) << "wrote past the span";
        }
      }
    }
  }
}

TEST(SimdMath, InPlaceSpan) {
  std::vector<float> x = RandomInputs(100, 100, 5.0f, 5);
  std::vector<float> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = math::tanh(x[i]);
  for (Isa isa : SupportedSimdIsas()) {
    std::vector<float> y = x;
    UnaryF32For(isa, ElemType::kF32)(UnaryF32Op::kTanh, UnaryF32Params{}, y.data(), y.data(), y.size());
    for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(BitsOf(y[i]), BitsOf(want[i])) << i;
  }
}

// pow: every pair of special values (Annex F cases: zero, infinite and negative bases, integral,
// odd, huge and NaN exponents) and random pairs over every exponent and in a moderate range.
void ExpectPowBitwise(Isa isa, const std::vector<float>& x, const std::vector<float>& y) {
  std::vector<float> r(x.size());
  BinaryF32For(isa, ElemType::kF32)(BinaryF32Op::kPow, x.data(), 1, y.data(), 1, r.data(), x.size());
  size_t bad = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const float want = math::pow(x[i], y[i]);
    if (BitsOf(r[i]) != BitsOf(want) && ++bad <= 5)
      ADD_FAILURE() << IsaName(isa) << " pow(0x" << std::hex << BitsOf(x[i]) << ", 0x" << BitsOf(y[i]) << "): got 0x"
                    << BitsOf(r[i]) << ", scalar 0x" << BitsOf(want) << std::dec << " (" << x[i] << "^" << y[i] << ")";
  }
  EXPECT_EQ(bad, 0u) << IsaName(isa) << " pow: " << bad << " of " << x.size() << " pairs differ";
}

TEST(SimdMath, PowSpecialPairsBitwise) {
  std::vector<float> vals = SpecialValues();
  for (float v : {3.0f, 5.0f, 0.25f, 1e10f, 16777215.0f, 16777216.0f, 0.3333333f, 7.5f, 127.0f, 128.0f, 149.0f})
    for (float s : {v, -v}) vals.push_back(s);
  std::vector<float> x, y;
  for (float a : vals)
    for (float b : vals) {
      x.push_back(a);
      y.push_back(b);
    }
  for (Isa isa : SupportedSimdIsas()) ExpectPowBitwise(isa, x, y);
}

TEST(SimdMath, PowRandomPairsBitwise) {
  std::vector<float> x = RandomInputs(1 << 19, 1 << 19, 30.0f, 101);
  std::vector<float> y = RandomInputs(1 << 19, 1 << 19, 12.0f, 102);
  // Random bases with small integral exponents (odd/even sign rules).
  for (size_t i = 0; i < y.size(); i += 5) y[i] = std::nearbyint(y[i]);
  for (Isa isa : SupportedSimdIsas()) ExpectPowBitwise(isa, x, y);
}

// The compound activations are exactly their documented formulas (scalar side).
TEST(SimdMath, CompoundActivationFormulas) {
  for (float x : {-3.0f, -0.5f, 0.0f, 0.25f, 1.0f, 2.5f, 7.0f}) {
    const float g = (0.5f * x) * (1.0f + math::erf(x * 0.70710677f));
    EXPECT_EQ(BitsOf(math::gelu(x)), BitsOf(g)) << x;
    const float inner = 0.7978846f * std::fma(0.044715f * (x * x), x, x);
    EXPECT_EQ(BitsOf(math::gelu_tanh(x)), BitsOf((0.5f * x) * (1.0f + math::tanh(inner)))) << x;
    EXPECT_EQ(BitsOf(math::silu(x)), BitsOf(x * math::sigmoid(x))) << x;
  }
  // Against the mathematical definitions (double precision references).
  for (double x : {-2.0, -0.7, 0.3, 1.2, 3.0}) {
    const float xf = static_cast<float>(x);
    EXPECT_NEAR(math::gelu(xf), 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))), 1e-6);
    EXPECT_NEAR(math::gelu_tanh(xf), 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))),
                1e-6);
  }
}

}  // namespace
}  // namespace idem::simd
