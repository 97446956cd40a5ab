// SIMD elementwise kernels (kernels/simd/elementwise.h and the SIMD paths of elementwise_*.cc):
//  - f16/bf16 <-> f32 conversions == core/half.h, bitwise, over all 65536 half patterns and a sweep
//    of float patterns (every rounding boundary of f16 and bf16 included);
//  - every unary and binary span op, f32/f16/bf16 storage, == the scalar element formula, bitwise,
//    on ragged lengths 0..67 at misaligned addresses and every operand step;
//  - the ONNX kernels through the Op runner: every ISA at 1, 2, 3 and 8 threads == Isa::kScalar
//    (the kernels' own scalar code), bitwise, with broadcasting shapes, f32/f16/bf16.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/half.h"
#include "core/math.h"
#include "core/thread_pool.h"
#include "kernels/simd/elementwise.h"
#include "isa_test_util.h"
#include "kernels/simd/isa.h"
#include "kernel_test_util.h"

namespace idem::simd {
namespace {

using idem::testing::IsaScope;
using idem::testing::SupportedSimdIsas;

uint32_t BitsOf(float f) { return std::bit_cast<uint32_t>(f); }

// ---------------------------------------------------------------- conversions

TEST(SimdConvert, AllHalfPatternsToF32) {
  std::vector<uint16_t> h(65536);
  for (uint32_t i = 0; i < 65536; ++i) h[i] = static_cast<uint16_t>(i);
  for (Isa isa : SupportedSimdIsas()) {
    const ConvertFns fns = ConvertFor(isa);
    std::vector<float> f(h.size()), b(h.size());
    fns.f16_to_f32(h.data(), f.data(), h.size());
    fns.bf16_to_f32(h.data(), b.data(), h.size());
    for (uint32_t i = 0; i < 65536; ++i) {
      ASSERT_EQ(BitsOf(f[i]), BitsOf(HalfToFloat(Float16::FromBits(h[i]))))
          << IsaName(isa) << " f16 0x" << std::hex << i;
      ASSERT_EQ(BitsOf(b[i]), BitsOf(BFloat16ToFloat(BFloat16::FromBits(h[i]))))
          << IsaName(isa) << " bf16 0x" << std::hex << i;
    }
  }
}

// Float patterns: a stride-509 sweep of all 2^32, plus for every half / bf16 value the floats
// at, next to and exactly between neighbouring representable values (ties), and NaNs.
std::vector<float> FloatPatterns() {
  std::vector<float> v;
  for (uint64_t u = 0; u < (uint64_t{1} << 32); u += 509) v.push_back(std::bit_cast<float>(static_cast<uint32_t>(u)));
  for (uint32_t i = 0; i < 65536; ++i) {
    const float lo = HalfToFloat(Float16::FromBits(static_cast<uint16_t>(i)));
    const float lob = BFloat16ToFloat(BFloat16::FromBits(static_cast<uint16_t>(i)));
    for (float x : {lo, lob}) {
      if (std::isnan(x)) continue;
      v.push_back(x);
      v.push_back(std::nextafter(x, 1e30f));
      v.push_back(std::nextafter(x, -1e30f));
    }
    if ((i & 0x7C00u) != 0x7C00u && (i & 0x7FFFu) != 0x7BFFu) {
      const float hi = HalfToFloat(Float16::FromBits(static_cast<uint16_t>(i + 1)));
      const float mid = static_cast<float>((static_cast<double>(lo) + static_cast<double>(hi)) / 2);
      v.push_back(mid);
      v.push_back(std::nextafter(mid, 1e30f));
      v.push_back(std::nextafter(mid, -1e30f));
    }
    // bf16 ties: the low 16 bits exactly 0x8000 (odd and even kept parts).
    v.push_back(std::bit_cast<float>((i << 16) | 0x8000u));
    v.push_back(std::bit_cast<float>((i << 16) | 0x7FFFu));
    v.push_back(std::bit_cast<float>((i << 16) | 0x8001u));
  }
  for (float x : {65504.0f, 65519.996f, 65520.0f, 0x1p-24f, 0x1p-25f, 0x1.000002p-25f, 0x1p-14f})
    for (float s : {x, -x, std::nextafter(x, 0.0f), std::nextafter(x, 1e30f)}) v.push_back(s);
  for (uint32_t u : {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u, 0x7fa00000u, 0x7f802000u, 0x7f801fffu,
                     0x7fffffffu, 0x7f800000u, 0xff800000u})
    v.push_back(std::bit_cast<float>(u));
  return v;
}

TEST(SimdConvert, FloatPatternsToHalf) {
  const std::vector<float> x = FloatPatterns();
  ASSERT_GT(x.size(), 8000000u);
  for (Isa isa : SupportedSimdIsas()) {
    const ConvertFns fns = ConvertFor(isa);
    std::vector<uint16_t> h(x.size()), b(x.size());
    fns.f32_to_f16(x.data(), h.data(), x.size());
    fns.f32_to_bf16(x.data(), b.data(), x.size());
    size_t bad = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      if (h[i] != FloatToHalf(x[i]).bits || b[i] != FloatToBFloat16(x[i]).bits) {
        if (++bad <= 5)
          ADD_FAILURE() << IsaName(isa) << " 0x" << std::hex << BitsOf(x[i]) << ": f16 0x" << h[i] << " vs 0x"
                        << FloatToHalf(x[i]).bits << ", bf16 0x" << b[i] << " vs 0x" << FloatToBFloat16(x[i]).bits;
      }
    }
    EXPECT_EQ(bad, 0u);
  }
}

TEST(SimdConvert, RaggedMisaligned) {
  const std::vector<float> pool = idem::testing::RandomFloats(100, 3, true);
  for (Isa isa : SupportedSimdIsas()) {
    const ConvertFns fns = ConvertFor(isa);
    for (size_t n = 0; n <= 67; ++n) {
      for (size_t off : {0, 1, 5}) {
        std::vector<uint16_t> h(n + 8, 0xABCD);
        std::vector<float> back(n + 8, -3.0f);
        fns.f32_to_f16(pool.data(), h.data() + off, n);
        fns.f16_to_f32(h.data() + off, back.data() + off, n);
        for (size_t i = 0; i < n; ++i) {
          ASSERT_EQ(h[off + i], FloatToHalf(pool[i]).bits) << n << " " << off << " " << i;
          ASSERT_EQ(BitsOf(back[off + i]), BitsOf(HalfToFloat(Float16::FromBits(h[off + i]))));
        }
        for (size_t i = off + n; i < h.size(); ++i) ASSERT_EQ(h[i], 0xABCD) << "wrote past the span";
        for (size_t i = 0; i < off; ++i) ASSERT_EQ(back[i], -3.0f) << "wrote before the span";
      }
    }
  }
}

// ---------------------------------------------------------------- span ops

// Inputs with every kind of value the ops branch on.
std::vector<float> SpanInputs(size_t n, uint32_t seed) {
  std::vector<float> v = idem::testing::RandomFloats(n, seed, true);
  const float inf = std::numeric_limits<float>::infinity();
  const float specials[] = {0.0f,
                            -0.0f,
                            inf,
                            -inf,
                            std::bit_cast<float>(0x7fc00001u),
                            std::bit_cast<float>(0xff812345u),
                            0x1p-149f,
                            -0x1p-140f,
                            1e30f,
                            -1e30f,
                            0.5f,
                            -0.5f,
                            2.5f,
                            1.0f,
                            -1.0f,
                            3.0f,
                            -3.0f,
                            6.0f};
  for (size_t i = 0; i < v.size(); ++i) {
    if (i % 7 == 3) v[i] = specials[(i / 7) % (sizeof(specials) / sizeof(specials[0]))];
    if (i % 11 == 5) v[i] *= 30.0f;
  }
  return v;
}

UnaryF32Params TestParams(UnaryF32Op op) {
  UnaryF32Params p;
  p.alpha = op == UnaryF32Op::kCelu ? 1.5f : 0.2f;
  p.beta = 0.5f;
  p.gamma = 1.0507f;
  p.lo = -0.75f;
  p.hi = 2.25f;
  return p;
}

// Raw storage of `type` for floats (rounded for halves) and back.
std::vector<uint16_t> ToHalfBits(const std::vector<float>& x, ElemType type) {
  std::vector<uint16_t> h;
  for (float f : x) h.push_back(type == ElemType::kF16 ? FloatToHalf(f).bits : FloatToBFloat16(f).bits);
  return h;
}

TEST(SimdElementwiseSpans, UnaryEveryOpEveryTypeBitwise) {
  const std::vector<float> pool = SpanInputs(4096, 11);
  for (int o = 0; o < kNumUnaryF32Ops; ++o) {
    const auto op = static_cast<UnaryF32Op>(o);
    const UnaryF32Params p = TestParams(op);
    for (ElemType type : {ElemType::kF32, ElemType::kF16, ElemType::kBF16}) {
      const size_t es = type == ElemType::kF32 ? 4 : 2;
      std::vector<char> in(pool.size() * es);
      if (type == ElemType::kF32)
        std::memcpy(in.data(), pool.data(), in.size());
      else
        std::memcpy(in.data(), ToHalfBits(pool, type).data(), in.size());
      std::vector<char> want(in.size());
      UnaryF32For(Isa::kScalar, type)(op, p, in.data(), want.data(), pool.size());
      // The scalar span is the element formula applied to the exact value, rounded once.
      if (type == ElemType::kF32) {
        for (size_t i = 0; i < pool.size(); ++i) {
          float w;
          std::memcpy(&w, want.data() + i * 4, 4);
          ASSERT_EQ(BitsOf(w), BitsOf(UnaryF32Scalar(op, p, pool[i])));
        }
      }
      for (Isa isa : SupportedSimdIsas()) {
        const UnaryF32Fn fn = UnaryF32For(isa, type);
        std::vector<char> got(in.size());
        fn(op, p, in.data(), got.data(), pool.size());
        for (size_t i = 0; i < pool.size(); ++i)
          ASSERT_EQ(std::memcmp(got.data() + i * es, want.data() + i * es, es), 0)
              << IsaName(isa) << " " << UnaryF32OpName(op) << " type " << static_cast<int>(type) << " element " << i
              << " x=" << pool[i];
        // Ragged lengths at misaligned addresses.
        for (size_t n = 0; n <= 67; ++n) {
          for (size_t off : {1, 3}) {
            std::vector<char> src(n * es + 64), dst(n * es + 64, 0x5A);
            std::memcpy(src.data() + off * es, in.data() + n * 13 * es, n * es);
            fn(op, p, src.data() + off * es, dst.data() + off * es, n);
            ASSERT_EQ(std::memcmp(dst.data() + off * es, want.data() + n * 13 * es, n * es), 0)
                << IsaName(isa) << " " << UnaryF32OpName(op) << " n=" << n << " off=" << off;
            for (size_t i = (off + n) * es; i < dst.size(); ++i) ASSERT_EQ(dst[i], 0x5A) << "wrote past the span";
          }
        }
      }
    }
  }
}

TEST(SimdElementwiseSpans, BinaryEveryOpEveryStepBitwise) {
  const std::vector<float> a = SpanInputs(1500, 21);
  const std::vector<float> b = SpanInputs(1500, 22);
  for (int o = 0; o < kNumBinaryF32Ops; ++o) {
    const auto op = static_cast<BinaryF32Op>(o);
    for (ElemType type : {ElemType::kF32, ElemType::kF16, ElemType::kBF16}) {
      const size_t es = type == ElemType::kF32 ? 4 : 2;
      std::vector<char> ra(a.size() * es), rb(b.size() * es);
      if (type == ElemType::kF32) {
        std::memcpy(ra.data(), a.data(), ra.size());
        std::memcpy(rb.data(), b.data(), rb.size());
      } else {
        std::memcpy(ra.data(), ToHalfBits(a, type).data(), ra.size());
        std::memcpy(rb.data(), ToHalfBits(b, type).data(), rb.size());
      }
      for (size_t as : {0, 1}) {
        for (size_t bs : {0, 1}) {
          for (size_t n : {0, 1, 7, 8, 15, 16, 17, 31, 33, 67, 1000}) {
            std::vector<char> want(n * es + 8), got(n * es + 8);
            BinaryF32For(Isa::kScalar, type)(op, ra.data() + es, as, rb.data() + 3 * es, bs, want.data(), n);
            if (type == ElemType::kF32) {
              for (size_t i = 0; i < n; ++i) {
                float w;
                std::memcpy(&w, want.data() + i * 4, 4);
                ASSERT_EQ(BitsOf(w), BitsOf(BinaryF32Scalar(op, a[1 + i * as], b[3 + i * bs])));
              }
            }
            for (Isa isa : SupportedSimdIsas()) {
              BinaryF32For(isa, type)(op, ra.data() + es, as, rb.data() + 3 * es, bs, got.data() + es, n);
              ASSERT_EQ(std::memcmp(got.data() + es, want.data(), n * es), 0)
                  << IsaName(isa) << " " << BinaryF32OpName(op) << " type " << static_cast<int>(type) << " steps " << as
                  << "," << bs << " n=" << n;
            }
          }
        }
      }
    }
  }
}

TEST(SimdElementwiseSpans, MaxMinNanRules) {
  const float nan1 = std::bit_cast<float>(0x7fc00001u);
  const float nan2 = std::bit_cast<float>(0xffc00002u);
  EXPECT_EQ(BitsOf(BinaryF32Scalar(BinaryF32Op::kMax, nan1, nan2)), 0x7fc00001u);
  EXPECT_EQ(BitsOf(BinaryF32Scalar(BinaryF32Op::kMax, 1.0f, nan2)), 0xffc00002u);
  EXPECT_EQ(BitsOf(BinaryF32Scalar(BinaryF32Op::kMin, -0.0f, 0.0f)), BitsOf(-0.0f));  // ties keep the first
  EXPECT_EQ(BinaryF32Scalar(BinaryF32Op::kMin, 2.0f, -1.0f), -1.0f);
}

// ---------------------------------------------------------------- kernels through the Op runner

using idem::testing::BF16;
using idem::testing::F16;
using idem::testing::F32;
using idem::testing::FloatAttr;
using idem::testing::Op;

constexpr int kThreadCounts[] = {1, 2, 3, 8};

std::vector<uint8_t> RawBytes(const Tensor& t) {
  const size_t bytes = static_cast<size_t>(t.numel()) * DTypeSize(t.dtype());
  const auto* p = static_cast<const uint8_t*>(t.raw());
  return std::vector<uint8_t>(p, p + bytes);
}

Tensor Typed(const std::vector<float>& v, const Shape& s, DType dt) {
  if (dt == DType::kF16) return F16(v, s);
  if (dt == DType::kBF16) return BF16(v, s);
  return F32(v, s);
}

using OpFactory = std::function<Op()>;

// Runs the op (inputs already added by make()) on every ISA and thread count; all results must
// have the bytes of the Isa::kScalar single-thread result.
void ExpectSameOnEveryIsa(const OpFactory& make, const std::string& what) {
  IsaScope guard;
  ASSERT_TRUE(SetIsa(Isa::kScalar).ok());
  Op ref = make();
  const Status st = ref.Run(nullptr);
  ASSERT_TRUE(st.ok()) << what << ": " << st.message();
  const std::vector<uint8_t> want = RawBytes(ref.out());
  const Shape want_shape = ref.out().shape();
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaSupported(isa)) continue;
    ASSERT_TRUE(SetIsa(isa).ok());
    for (int threads : kThreadCounts) {
      ThreadPool pool(threads);
      Op op = make();
      const Status s2 = op.Run(&pool);
      ASSERT_TRUE(s2.ok()) << what << ": " << s2.message();
      ASSERT_EQ(op.out().shape(), want_shape) << what;
      ASSERT_EQ(op.out().dtype(), ref.out().dtype()) << what;
      ASSERT_TRUE(RawBytes(op.out()) == want)
          << what << " differs on " << IsaName(isa) << " at " << threads << " threads";
    }
  }
}

struct UnaryCase {
  const char* op;
  int opset;
  std::vector<std::pair<std::string, float>> attrs;
};

TEST(SimdElementwiseKernels, UnaryOpsEveryIsaEveryThreadCount) {
  const UnaryCase cases[] = {
      {"Relu", 14, {}},
      {"Abs", 13, {}},
      {"Neg", 13, {}},
      {"Sqrt", 13, {}},
      {"Reciprocal", 13, {}},
      {"Exp", 13, {}},
      {"Log", 13, {}},
      {"Tanh", 13, {}},
      {"Erf", 13, {}},
      {"Sigmoid", 13, {}},
      {"Softplus", 1, {}},
      {"Sin", 7, {}},
      {"Cos", 7, {}},
      {"Sinh", 9, {}},
      {"Cosh", 9, {}},
      {"Floor", 13, {}},
      {"Ceil", 13, {}},
      {"Round", 11, {}},
      {"Sign", 13, {}},
      {"LeakyRelu", 16, {{"alpha", 0.1f}}},
      {"ThresholdedRelu", 10, {{"alpha", 0.3f}}},
      {"Elu", 6, {{"alpha", 0.7f}}},
      {"Selu", 6, {}},
      {"Celu", 12, {{"alpha", 2.0f}}},
      {"HardSigmoid", 6, {{"alpha", 0.25f}, {"beta", 0.4f}}},
      {"HardSwish", 14, {}},
      {"Softsign", 1, {}},
      {"Clip", 6, {{"min", -0.5f}, {"max", 1.5f}}},
  };
  // 40000 elements: several parallel tiles (kElementwiseGrain = 16384) and a ragged tail.
  const std::vector<float> x = SpanInputs(40000 + 13, 5);
  for (const UnaryCase& c : cases) {
    for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
      const Tensor in = Typed(x, {static_cast<int64_t>(x.size())}, dt);
      ExpectSameOnEveryIsa(
          [&] {
            Op op(c.op, c.opset);
            for (const auto& [name, v] : c.attrs) op.Attr(name, FloatAttr(v));
            op.In(in);
            return op;
          },
          std::string(c.op) + " " + DTypeOnnxName(dt));
    }
  }
}

TEST(SimdElementwiseKernels, ClipWithTensorBoundsAndDefaults) {
  const std::vector<float> x = SpanInputs(1000, 8);
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    const Tensor in = Typed(x, {10, 100}, dt);
    ExpectSameOnEveryIsa(
        [&] {
          Op op("Clip", 13);
          op.In(in).In(Typed({-0.25f}, {}, dt)).In(Typed({0.75f}, {}, dt));
          return op;
        },
        std::string("Clip bounds ") + DTypeOnnxName(dt));
    ExpectSameOnEveryIsa(
        [&] {
          Op op("Clip", 13);
          op.In(in);
          return op;
        },
        std::string("Clip no bounds ") + DTypeOnnxName(dt));
  }
}

struct BroadcastCase {
  Shape a, b;
};

const BroadcastCase kBroadcasts[] = {{{3, 1, 5}, {4, 1}},
                                     {{3, 1, 37}, {4, 1}},
                                     {{}, {100}},
                                     {{1000}, {}},
                                     {{2, 3, 40}, {40}},
                                     {{2, 3, 40}, {2, 1, 40}},
                                     {{7, 33}, {7, 1}},
                                     {{5, 1}, {1, 64}},
                                     {{4, 16, 9}, {16, 1}},
                                     {{2, 300}, {2, 300}},
                                     {{6, 1, 1, 17}, {1, 5, 3, 1}},
                                     {{0, 8}, {8}},
                                     {{20000}, {20000}},
                                     {{3, 9000}, {1, 9000}}};

TEST(SimdElementwiseKernels, BinaryOpsWithBroadcastingEveryIsa) {
  for (const char* name : {"Add", "Sub", "Mul", "Div"}) {
    for (const BroadcastCase& c : kBroadcasts) {
      for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
        const std::vector<float> va = SpanInputs(static_cast<size_t>(NumElements(c.a)), 31);
        const std::vector<float> vb = SpanInputs(static_cast<size_t>(NumElements(c.b)), 32);
        const Tensor ta = Typed(va, c.a, dt), tb = Typed(vb, c.b, dt);
        ExpectSameOnEveryIsa(
            [&] {
              Op op(name, 14);
              op.In(ta).In(tb);
              return op;
            },
            std::string(name) + " " + ShapeToString(c.a) + " " + ShapeToString(c.b) + " " + DTypeOnnxName(dt));
      }
    }
  }
}

TEST(SimdElementwiseKernels, BroadcastResultMatchesElementFormula) {
  // [3,1,5] + [4,1] -> [3,4,5]: each output is a[i,0,k] + b[j,0] (independent check of the walk).
  const std::vector<float> va = SpanInputs(15, 41), vb = SpanInputs(4, 42);
  IsaScope guard;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaSupported(isa)) continue;
    ASSERT_TRUE(SetIsa(isa).ok());
    Op op("Add", 14);
    op.In(F32(va, {3, 1, 5})).In(F32(vb, {4, 1}));
    ASSERT_TRUE(op.Run().ok());
    ASSERT_EQ(op.out().shape(), (Shape{3, 4, 5}));
    const auto y = idem::testing::Values<float>(op.out());
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j)
        for (int k = 0; k < 5; ++k)
          ASSERT_EQ(BitsOf(y[static_cast<size_t>((i * 4 + j) * 5 + k)]),
                    BitsOf(va[static_cast<size_t>(i * 5 + k)] + vb[static_cast<size_t>(j)]));
  }
}

TEST(SimdElementwiseKernels, PowF32EveryIsa) {
  for (const BroadcastCase& c : kBroadcasts) {
    std::vector<float> va = SpanInputs(static_cast<size_t>(NumElements(c.a)), 33);
    std::vector<float> vb = SpanInputs(static_cast<size_t>(NumElements(c.b)), 34);
    for (size_t i = 0; i < vb.size(); i += 3) vb[i] = std::nearbyint(vb[i] * 4.0f);
    const Tensor ta = F32(va, c.a), tb = F32(vb, c.b);
    ExpectSameOnEveryIsa(
        [&] {
          Op op("Pow", 15);
          op.In(ta).In(tb);
          return op;
        },
        std::string("Pow ") + ShapeToString(c.a) + " " + ShapeToString(c.b));
  }
}

TEST(SimdElementwiseKernels, VariadicFoldsEveryIsa) {
  const Shape shapes[][3] = {
      {{4, 50}, {50}, {4, 1}}, {{1000}, {1000}, {}}, {{2, 3, 40}, {3, 40}, {2, 1, 40}}, {{30000}, {30000}, {30000}}};
  for (const char* name : {"Sum", "Mean", "Max", "Min"}) {
    for (const auto& s : shapes) {
      for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
        std::vector<Tensor> ins;
        for (int k = 0; k < 3; ++k)
          ins.push_back(
              Typed(SpanInputs(static_cast<size_t>(NumElements(s[k])), 50 + static_cast<uint32_t>(k)), s[k], dt));
        ExpectSameOnEveryIsa(
            [&] {
              Op op(name, 13);
              for (const Tensor& t : ins) op.In(t);
              return op;
            },
            std::string(name) + " " + ShapeToString(s[0]) + " " + DTypeOnnxName(dt));
      }
    }
  }
}

TEST(SimdElementwiseKernels, PReluEveryIsa) {
  const std::vector<float> x = SpanInputs(2 * 8 * 40, 61);
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    const Tensor tx = Typed(x, {2, 8, 40}, dt);
    for (const Shape& slope_shape : {Shape{8, 1}, Shape{40}, Shape{1}, Shape{2, 8, 40}}) {
      const Tensor slope = Typed(SpanInputs(static_cast<size_t>(NumElements(slope_shape)), 62), slope_shape, dt);
      ExpectSameOnEveryIsa(
          [&] {
            Op op("PRelu", 16);
            op.In(tx).In(slope);
            return op;
          },
          std::string("PRelu ") + ShapeToString(slope_shape) + " " + DTypeOnnxName(dt));
    }
  }
}

TEST(SimdElementwiseKernels, CastHalfEveryIsa) {
  const std::vector<float> x = SpanInputs(50000, 71);
  for (DType to : {DType::kF16, DType::kBF16}) {
    ExpectSameOnEveryIsa(
        [&] {
          Op op("Cast", 13);
          op.Attr("to", idem::testing::IntAttr(static_cast<int64_t>(to)));
          op.In(F32(x, {50000}));
          return op;
        },
        std::string("Cast f32 -> ") + DTypeOnnxName(to));
    ExpectSameOnEveryIsa(
        [&] {
          Op op("Cast", 13);
          op.Attr("to", idem::testing::IntAttr(static_cast<int64_t>(DType::kF32)));
          op.In(Typed(x, {50000}, to));
          return op;
        },
        std::string("Cast ") + DTypeOnnxName(to) + " -> f32");
  }
}

TEST(SimdElementwiseKernels, ErrorsStayErrors) {
  IsaScope guard;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaSupported(isa)) continue;
    ASSERT_TRUE(SetIsa(isa).ok());
    Op bad("Add", 14);
    bad.In(F32({1, 2, 3}, {3})).In(F32({1, 2}, {2}));
    EXPECT_FALSE(bad.Run().ok());
    Op mixed("Mul", 14);
    mixed.In(F32({1, 2}, {2})).In(F16({1, 2}, {2}));
    EXPECT_FALSE(mixed.Run().ok());
  }
}

}  // namespace
}  // namespace idem::simd
