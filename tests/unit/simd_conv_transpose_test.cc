// ConvTranspose on the SIMD ISAs (kernels/simd/conv_transpose.h: one GEMM per output phase)
// against the scalar reference kernel of kernels/conv.cc (Isa::kScalar), BITWISE, on ragged
// shapes (channel counts not multiples of 16, odd spatial sizes, strides 1/2/3, dilations,
// symmetric and asymmetric pads, output_padding, output_shape, auto_pad, groups, phases without
// any tap, 1-D/2-D/3-D, and a 4-D case that falls back to the reference), at 1, 2, 3 and 8
// threads, with the weights packed at load (PrepareConvTranspose) and packed per call; a sample
// of a batch of 8 == the batch-1 result of that sample (D3); the reference against an
// independent naive double-precision transposed convolution (tolerance); and the canonical
// definition's special values: a phase-aligned term outside the input is fma(w, 0, acc) (NaN for
// an Inf weight), a stride hole is skipped.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "isa_test_util.h"
#include "kernel_test_util.h"
#include "kernels/simd/conv.h"
#include "kernels/simd/conv_transpose.h"
#include "kernels/simd/isa.h"

namespace idem::testing {
namespace {

using simd::Isa;

constexpr float kInf = std::numeric_limits<float>::infinity();

struct CtCase {
  Shape x, w;  // x [N, C, in...], w [C, OC/group, k...]
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pads;  // pads: empty = attribute absent
  std::vector<int64_t> output_padding;            // empty = absent
  std::vector<int64_t> output_shape;              // empty = absent
  std::string auto_pad;                           // empty = absent
  bool bias = true;
};

CtCase Ct(Shape x, Shape w, int64_t group, std::vector<int64_t> strides, std::vector<int64_t> dilations,
          std::vector<int64_t> pads, std::vector<int64_t> output_padding = {}, std::vector<int64_t> output_shape = {},
          std::string auto_pad = "", bool bias = true) {
  CtCase c;
  c.x = std::move(x);
  c.w = std::move(w);
  c.group = group;
  c.strides = std::move(strides);
  c.dilations = std::move(dilations);
  c.pads = std::move(pads);
  c.output_padding = std::move(output_padding);
  c.output_shape = std::move(output_shape);
  c.auto_pad = std::move(auto_pad);
  c.bias = bias;
  return c;
}

int64_t Prod(const Shape& s, size_t from = 0) {
  int64_t p = 1;
  for (size_t i = from; i < s.size(); ++i) p *= s[i];
  return p;
}

// The ONNX shape rules of ConvTranspose: output sizes and begin pads per spatial dim.
void Resolve(const CtCase& c, std::vector<int64_t>* out, std::vector<int64_t>* pb) {
  const size_t S = c.x.size() - 2;
  out->assign(S, 0);
  pb->assign(S, 0);
  for (size_t d = 0; d < S; ++d) {
    const int64_t op = c.output_padding.empty() ? 0 : c.output_padding[d];
    const int64_t natural = c.strides[d] * (c.x[d + 2] - 1) + op + (c.w[d + 2] - 1) * c.dilations[d] + 1;
    if (!c.output_shape.empty() || c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
      (*out)[d] = !c.output_shape.empty() ? c.output_shape[d] : c.x[d + 2] * c.strides[d];
      const int64_t total = std::max<int64_t>(0, natural - (*out)[d]);
      (*pb)[d] = c.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else {
      const int64_t b = c.pads.empty() ? 0 : c.pads[d], e = c.pads.empty() ? 0 : c.pads[d + S];
      (*out)[d] = natural - b - e;
      (*pb)[d] = b;
    }
  }
}

Shape OutShape(const CtCase& c) {
  std::vector<int64_t> out, pb;
  Resolve(c, &out, &pb);
  Shape s = {c.x[0], c.w[1] * c.group};
  s.insert(s.end(), out.begin(), out.end());
  return s;
}

// Independent reference: every output as a double sum over the terms whose source position is
// integral and inside the input, plus the bias; also the sum of |terms| for the tolerance.
void NaiveConvTransposeF64(const CtCase& c, const std::vector<float>& x, const std::vector<float>& w,
                           const std::vector<float>& b, std::vector<double>* y, std::vector<double>* mag) {
  const size_t S = c.x.size() - 2;
  std::vector<int64_t> out, pb;
  Resolve(c, &out, &pb);
  const int64_t N = c.x[0], C = c.x[1], G = c.group, Cg = C / G, OCg = c.w[1], OC = OCg * G;
  const int64_t in_plane = Prod(c.x, 2), ks = Prod(c.w, 2);
  int64_t out_plane = 1;
  for (int64_t o : out) out_plane *= o;
  y->clear();
  mag->clear();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < OC; ++oc)
      for (int64_t o = 0; o < out_plane; ++o) {
        std::vector<int64_t> oi(S);
        for (size_t d = S, r = static_cast<size_t>(o); d-- > 0;) {
          oi[d] = static_cast<int64_t>(r % static_cast<size_t>(out[d]));
          r /= static_cast<size_t>(out[d]);
        }
        double acc = c.bias ? b[static_cast<size_t>(oc)] : 0.0, m = std::fabs(acc);
        const int64_t g = oc / OCg;
        for (int64_t icl = 0; icl < Cg; ++icl)
          for (int64_t kp = 0; kp < ks; ++kp) {
            int64_t rem = kp, off = 0;
            bool ok = true;
            std::vector<int64_t> kd(S);
            for (size_t d = S; d-- > 0;) {
              kd[d] = rem % c.w[d + 2];
              rem /= c.w[d + 2];
            }
            for (size_t d = 0; d < S; ++d) {
              const int64_t t = oi[d] + pb[d] - kd[d] * c.dilations[d];
              ok = ok && t % c.strides[d] == 0 && t >= 0 && t / c.strides[d] < c.x[d + 2];
              off = off * c.x[d + 2] + (ok ? t / c.strides[d] : 0);
            }
            if (!ok) continue;
            const int64_t ic = g * Cg + icl;
            const double term = static_cast<double>(w[static_cast<size_t>((ic * OCg + oc % OCg) * ks + kp)]) *
                                x[static_cast<size_t>((n * C + ic) * in_plane + off)];
            acc += term;
            m += std::fabs(term);
          }
        y->push_back(acc);
        mag->push_back(m);
      }
}

Op MakeConvTranspose(const CtCase& c, Tensor x, Tensor w, Tensor b, bool prepared) {
  Op op("ConvTranspose", 11);
  op.In(std::move(x)).In(std::move(w));
  if (c.bias) op.In(std::move(b));
  op.Attr("group", IntAttr(c.group)).Attr("strides", IntsAttr(c.strides)).Attr("dilations", IntsAttr(c.dilations));
  if (!c.pads.empty()) op.Attr("pads", IntsAttr(c.pads));
  if (!c.output_padding.empty()) op.Attr("output_padding", IntsAttr(c.output_padding));
  if (!c.output_shape.empty()) op.Attr("output_shape", IntsAttr(c.output_shape));
  if (!c.auto_pad.empty()) op.Attr("auto_pad", StringAttr(c.auto_pad));
  if (prepared) op.ConstantInputs({1, 2});
  return op;
}

// Runs the case with f32 tensors on the current ISA; returns the output bits.
std::vector<uint32_t> RunF32(const CtCase& c, const std::vector<float>& x, const std::vector<float>& w,
                             const std::vector<float>& b, Shape x_shape, bool prepared, ThreadPool* pool) {
  Op op = MakeConvTranspose(c, F32(x, x_shape), F32(w, c.w), F32(b, {c.w[1] * c.group}), prepared);
  const Status st = op.Run(pool);
  EXPECT_TRUE(st.ok()) << st.message();
  if (!st.ok()) return {};
  const bool packable = c.x.size() - 2 <= static_cast<size_t>(simd::kConvTransposeMaxSpatial);
  if (prepared && packable) {
    EXPECT_NE(op.prepared(), nullptr);
  }
  Shape want = OutShape(c);
  want[0] = x_shape[0];
  EXPECT_EQ(op.out(0).shape(), want);
  return Bits(op.out(0));
}

std::string Describe(const CtCase& c) {
  auto ints = [](const std::vector<int64_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + "]";
  };
  return ShapeToString(c.x) + " * " + ShapeToString(c.w) + " group " + std::to_string(c.group) + " strides " +
         ints(c.strides) + " dilations " + ints(c.dilations) + " pads " + ints(c.pads) + " output_padding " +
         ints(c.output_padding) + " output_shape " + ints(c.output_shape) + " auto_pad " + c.auto_pad;
}

void CheckCase(const CtCase& c, uint32_t seed) {
  SCOPED_TRACE(Describe(c));
  const int64_t OC = c.w[1] * c.group;
  const std::vector<float> x = RandomFloats(static_cast<size_t>(Prod(c.x)), seed);
  const std::vector<float> w = RandomFloats(static_cast<size_t>(Prod(c.w)), seed + 1);
  const std::vector<float> b = RandomFloats(static_cast<size_t>(OC), seed + 2);

  std::vector<uint32_t> ref;
  {
    IsaScope scalar(Isa::kScalar);
    ref = RunF32(c, x, w, b, c.x, false, nullptr);
    EXPECT_EQ(RunF32(c, x, w, b, c.x, true, nullptr), ref) << "scalar, prepared";
  }
  ASSERT_FALSE(ref.empty());

  // The reference against the naive double-precision transposed convolution.
  std::vector<double> want, mag;
  NaiveConvTransposeF64(c, x, w, b, &want, &mag);
  ASSERT_EQ(want.size(), ref.size());
  const double eps = std::numeric_limits<float>::epsilon();
  const double terms = static_cast<double>(c.x[1] / c.group * Prod(c.w, 2) + 1);
  for (size_t i = 0; i < ref.size(); ++i) {
    float got;
    std::memcpy(&got, &ref[i], sizeof(got));
    ASSERT_NEAR(got, want[i], 2 * terms * eps * mag[i] + 1e-30) << "output " << i;
  }

  // Every SIMD ISA, thread count, prepared or not: the reference's bits.
  for (Isa isa : SupportedSimdIsas()) {
    IsaScope scope(isa);
    for (int threads : {1, 2, 3, 8}) {
      ThreadPool pool(threads);
      for (bool prepared : {false, true})
        EXPECT_EQ(RunF32(c, x, w, b, c.x, prepared, &pool), ref)
            << simd::IsaName(isa) << ", " << threads << " threads, prepared " << prepared;
    }
  }
}

const std::vector<CtCase>& Cases() {
  static const std::vector<CtCase> cases = {
      // UNet-like 2x upsampling: k4 s2 p1, channels not multiples of 16, odd sizes.
      Ct({1, 19, 7, 9}, {19, 21, 4, 4}, 1, {2, 2}, {1, 1}, {1, 1, 1, 1}),
      // k2 s2 (every output has exactly one tap per dim), two samples.
      Ct({2, 5, 6, 11}, {5, 33, 2, 2}, 1, {2, 2}, {1, 1}, {0, 0, 0, 0}),
      // Stride 1 (one phase), pad 1.
      Ct({1, 13, 9, 12}, {13, 18, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, {}, {}, "", false),
      // Stride 3 with output_padding, asymmetric pads.
      Ct({1, 6, 5, 7}, {6, 9, 3, 4}, 1, {3, 3}, {1, 1}, {1, 0, 2, 1}, {2, 1}),
      // Two groups, dilation 2, stride 2, asymmetric pads, output_padding.
      Ct({1, 8, 6, 9}, {8, 5, 3, 3}, 2, {2, 2}, {2, 2}, {2, 1, 0, 3}, {1, 1}),
      // Mixed stride / dilation per dim, a kernel wider than tall, three groups.
      Ct({1, 9, 5, 8}, {9, 4, 2, 3}, 3, {1, 2}, {2, 1}, {0, 1, 1, 0}, {0, 1}),
      // K > 256 per phase (several GEMM K blocks) and phases of several column tiles.
      Ct({1, 70, 24, 25}, {70, 20, 4, 4}, 1, {2, 2}, {1, 1}, {1, 1, 1, 1}),
      // Small phase rows (many rows per vector: blends and gathers), 3x3 input.
      Ct({1, 7, 3, 3}, {7, 17, 4, 4}, 1, {2, 2}, {1, 1}, {1, 1, 1, 1}),
      Ct({1, 4, 2, 5}, {4, 6, 3, 3}, 1, {3, 2}, {1, 1}, {0, 0, 0, 0}),
      // Kernel 1, stride 2: phases without any tap (the outputs are the bias).
      Ct({1, 5, 4, 6}, {5, 7, 1, 1}, 1, {2, 2}, {1, 1}, {0, 0, 0, 0}, {1, 1}),
      // Stride 2, dilation 2: every tap in one class, three phases of four without taps.
      Ct({1, 3, 5, 6}, {3, 4, 3, 3}, 1, {2, 2}, {2, 2}, {1, 1, 1, 1}),
      // output_shape larger than the natural size (phase-aligned terms outside the input).
      Ct({1, 4, 4, 5}, {4, 6, 3, 3}, 1, {2, 2}, {1, 1}, {}, {}, {11, 13}),
      // auto_pad SAME_UPPER / SAME_LOWER (pads from the output size).
      Ct({1, 5, 5, 7}, {5, 6, 3, 3}, 1, {2, 2}, {1, 1}, {}, {}, {}, "SAME_UPPER"),
      Ct({1, 5, 5, 7}, {5, 6, 4, 3}, 1, {2, 3}, {1, 1}, {}, {}, {}, "SAME_LOWER", false),
      // Pads wider than the kernel reach (smaller output).
      Ct({1, 3, 6, 6}, {3, 5, 3, 3}, 1, {2, 2}, {1, 1}, {3, 4, 3, 2}),
      // Depthwise-like: one input channel per group, multiplier 1 and 2.
      Ct({1, 6, 7, 8}, {6, 1, 4, 4}, 6, {2, 2}, {1, 1}, {1, 1, 1, 1}),
      Ct({1, 4, 5, 5}, {4, 2, 3, 3}, 4, {2, 2}, {1, 1}, {1, 1, 1, 1}),
      // 1x1 stride 1 (the reference's flattened pointwise plan).
      Ct({1, 10, 5, 7}, {10, 12, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}),
      // Rows wider than a task's column budget (split along the last dim): stride 1 and 2.
      Ct({1, 2, 3, 700}, {2, 3, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}),
      Ct({1, 2, 1100}, {2, 3, 4}, 1, {2}, {1}, {1, 1}),
      Ct({1, 3, 2, 600}, {3, 2, 2, 3}, 1, {2, 1}, {1, 1}, {0, 0, 0, 0}, {1, 0}),
      // 1-D: stride 3, dilation 2, asymmetric pads, output_padding; and a wide 1-D stride 2.
      Ct({1, 7, 20}, {7, 18, 5}, 1, {3}, {2}, {3, 1}, {1}),
      Ct({2, 3, 70}, {3, 5, 4}, 1, {2}, {1}, {1, 1}),
      // 3-D, strides 2/1/2, dilations, asymmetric pads, output_padding.
      Ct({1, 3, 4, 5, 6}, {3, 5, 3, 2, 3}, 1, {2, 1, 2}, {1, 2, 1}, {1, 0, 1, 0, 1, 1}, {1, 0, 1}),
      Ct({1, 4, 3, 4, 4}, {4, 3, 2, 2, 2}, 2, {2, 2, 2}, {1, 1, 1}, {0, 0, 0, 0, 0, 0}),
      // 4-D: not vectorized (the reference runs on every ISA).
      Ct({1, 2, 3, 2, 3, 2}, {2, 3, 2, 2, 1, 2}, 1, {2, 1, 2, 1}, {1, 1, 1, 1}, {0, 0, 1, 0, 0, 0, 0, 1}),
  };
  return cases;
}

TEST(SimdConvTransposeTest, EveryIsaAndThreadCountIsBitwiseTheScalarReference) {
  uint32_t seed = 300;
  for (const CtCase& c : Cases()) CheckCase(c, seed += 10);
}

// Batch invariance (D3): sample i of a batch of 8 == the batch-1 run on sample i, on every ISA.
void CheckBatch(const CtCase& c, uint32_t seed) {
  SCOPED_TRACE(Describe(c));
  CtCase one = c;
  one.x[0] = 1;
  Shape x8 = one.x;
  x8[0] = 8;
  const int64_t per_in = Prod(one.x), per_out = Prod(OutShape(one));
  const int64_t OC = c.w[1] * c.group;
  const std::vector<float> x = RandomFloats(static_cast<size_t>(8 * per_in), seed, /*specials=*/true);
  const std::vector<float> w = RandomFloats(static_cast<size_t>(Prod(c.w)), seed + 1);
  const std::vector<float> b = RandomFloats(static_cast<size_t>(OC), seed + 2);
  ThreadPool pool(3);
  std::vector<Isa> isas = SupportedSimdIsas();
  isas.push_back(Isa::kScalar);
  std::vector<uint32_t> first_isa;
  for (Isa isa : isas) {
    IsaScope scope(isa);
    const std::vector<uint32_t> all = RunF32(one, x, w, b, x8, true, &pool);
    ASSERT_EQ(static_cast<int64_t>(all.size()), 8 * per_out);
    if (first_isa.empty()) first_isa = all;
    EXPECT_EQ(all, first_isa) << simd::IsaName(isa);
    for (int64_t i = 0; i < 8; ++i) {
      const std::vector<float> xi(x.begin() + i * per_in, x.begin() + (i + 1) * per_in);
      const std::vector<uint32_t> single = RunF32(one, xi, w, b, one.x, false, nullptr);
      EXPECT_TRUE(std::equal(single.begin(), single.end(), all.begin() + i * per_out))
          << simd::IsaName(isa) << ", sample " << i;
    }
  }
}

TEST(SimdConvTransposeTest, SampleOfABatchIsBitwiseItsBatchOfOne) {
  CheckBatch(Ct({1, 19, 7, 9}, {19, 21, 4, 4}, 1, {2, 2}, {1, 1}, {1, 1, 1, 1}), 7);
  CheckBatch(Ct({1, 6, 5, 7}, {6, 4, 2, 2}, 2, {2, 2}, {1, 1}, {0, 0, 0, 0}, {}, {}, "", false), 8);
  CheckBatch(Ct({1, 7, 20}, {7, 18, 5}, 1, {3}, {2}, {3, 1}, {1}), 9);
}

// The canonical definition's special values, on every ISA. Stride 2, kernel 3, no pads,
// output_padding 1, +Inf weights, input of ones: 3 -> 8 outputs per dim. Along one dim, output o
// has the taps k of its phase ((o - k) even); the source (o - k) / 2 lies outside [0, 3) for
// o = 0 (k = 2), o = 6 (k = 0) and o = 7 (k = 1): those outputs have an fma(Inf, 0, acc) term,
// so they are NaN, and so is every output with such a coordinate in either dim (the term is
// phase-aligned in both dims). All other outputs are +Inf: their stride holes (e.g. o = 1, k = 0)
// are skipped, not multiplied by zero.
TEST(SimdConvTransposeTest, OutOfRangeTermsAreMultipliedByZeroAndHolesAreSkipped) {
  std::vector<Isa> isas = SupportedSimdIsas();
  isas.push_back(Isa::kScalar);
  auto nan_coord = [](int64_t o) { return o == 0 || o == 6 || o == 7; };
  for (const auto& [w_shape, group] : std::vector<std::pair<Shape, int64_t>>{{{1, 1, 3, 3}, 1}, {{2, 1, 3, 3}, 2},
                                                                             {{1, 20, 3, 3}, 1}}) {
    const int64_t C = w_shape[0], OC = w_shape[1] * group;
    for (Isa isa : isas) {
      IsaScope scope(isa);
      for (bool prepared : {false, true}) {
        Op op("ConvTranspose", 11);
        op.In(F32(std::vector<float>(static_cast<size_t>(C * 9), 1.0f), {1, C, 3, 3}));
        op.In(F32(std::vector<float>(static_cast<size_t>(Prod(w_shape)), kInf), w_shape));
        op.Attr("strides", IntsAttr({2, 2})).Attr("output_padding", IntsAttr({1, 1})).Attr("group", IntAttr(group));
        if (prepared) op.ConstantInputs({1});
        ASSERT_TRUE(op.Run().ok());
        ASSERT_EQ(op.out(0).shape(), (Shape{1, OC, 8, 8}));
        const std::vector<float> y = Values<float>(op.out(0));
        for (int64_t c = 0; c < OC; ++c)
          for (int64_t i = 0; i < 8; ++i)
            for (int64_t j = 0; j < 8; ++j) {
              const float v = y[static_cast<size_t>(c * 64 + i * 8 + j)];
              if (nan_coord(i) || nan_coord(j)) {
                EXPECT_TRUE(std::isnan(v)) << simd::IsaName(isa) << " " << c << ": " << i << "," << j;
              } else {
                EXPECT_EQ(v, kInf) << simd::IsaName(isa) << " " << c << ": " << i << "," << j;
              }
            }
      }
    }
  }
}

// A NaN weight at one kernel position reaches exactly the outputs whose phase has that tap
// (whether its source lies inside the input or not), on every ISA: 1-D, stride 2, kernel 4,
// pad 1, NaN at k = 3: output o has tap 3 iff (o + 1 - 3) is even, i.e. o even.
TEST(SimdConvTransposeTest, NaNWeightReachesExactlyItsPhase) {
  std::vector<Isa> isas = SupportedSimdIsas();
  isas.push_back(Isa::kScalar);
  for (Isa isa : isas) {
    IsaScope scope(isa);
    Op op("ConvTranspose", 11);
    op.In(F32(RandomFloats(5, 1), {1, 1, 5}));
    op.In(F32({0.5f, -1.0f, 2.0f, std::numeric_limits<float>::quiet_NaN()}, {1, 1, 4}));
    op.Attr("strides", IntsAttr({2})).Attr("pads", IntsAttr({1, 1}));
    ASSERT_TRUE(op.Run().ok());
    const std::vector<float> y = Values<float>(op.out(0));
    ASSERT_EQ(y.size(), 10u);
    for (size_t o = 0; o < y.size(); ++o) EXPECT_EQ(std::isnan(y[o]), o % 2 == 0) << simd::IsaName(isa) << " " << o;
  }
}

// f16 / bf16 compute in f32 on every ISA: the same bits as the scalar reference, prepared or not.
TEST(SimdConvTransposeTest, HalfTypesAreBitwiseTheScalarReference) {
  const CtCase c = Ct({1, 5, 6, 7}, {5, 7, 4, 4}, 1, {2, 2}, {1, 1}, {1, 1, 1, 1});
  const std::vector<float> x = RandomFloats(static_cast<size_t>(Prod(c.x)), 3);
  const std::vector<float> w = RandomFloats(static_cast<size_t>(Prod(c.w)), 4);
  const std::vector<float> b = RandomFloats(7, 5);
  for (bool bf16 : {false, true}) {
    auto make = [&](const std::vector<float>& v, Shape s) {
      return bf16 ? BF16(v, std::move(s)) : F16(v, std::move(s));
    };
    auto run = [&](bool prepared, ThreadPool* pool) {
      Op op = MakeConvTranspose(c, make(x, c.x), make(w, c.w), make(b, {7}), prepared);
      const Status st = op.Run(pool);
      EXPECT_TRUE(st.ok()) << st.message();
      return st.ok() ? HalfValues(op.out(0)) : std::vector<float>{};
    };
    ExpectSimdEqualsScalar(run, bf16 ? "bf16" : "f16");
  }
}

// The packed weight layout is a permutation of W given by the tap classes (target-neutral), each
// class matrix A_c (OCg x Cg * taps) in the GEMM's packed-A layout (12-row groups, k-major, zero
// rows up to 12): 1-D, kernel 5, stride 2, dilation 1: class 0 = taps {0, 2, 4}, class 1 = taps
// {1, 3}; OCg = 3, so each class has one group of 12 rows of which rows 3..11 are zero.
TEST(SimdConvTransposeTest, PackedWeightsAreTheClassMatricesInPackedALayout) {
  simd::ConvGeometry g;
  g.G = 1;
  g.Cg = 2;
  g.OCg = 3;
  g.S = 1;
  g.kernel[0] = 5;
  g.strides[0] = 2;
  g.dilations[0] = 1;
  ASSERT_TRUE(simd::ConvTransposeSimdSupported(g));
  ASSERT_EQ(simd::ConvTransposePackedWeightFloats(g), 12 * 2 * 5);
  std::vector<float> w(30);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i) + 1.0f;  // w[(ic * 3 + m) * 5 + k]
  std::vector<float> packed(120, -1.0f);
  simd::PackConvTransposeWeights(g, w.data(), packed.data());
  const int64_t taps0[] = {0, 2, 4}, taps1[] = {1, 3};
  // Class 0: K_0 = 2 * 3 = 6 columns at offset 0; class 1: K_1 = 4 columns at 12 * 6 = 72.
  for (int64_t r = 0; r < 12; ++r)
    for (int64_t ic = 0; ic < 2; ++ic) {
      for (int64_t t = 0; t < 3; ++t)
        EXPECT_EQ(packed[static_cast<size_t>((ic * 3 + t) * 12 + r)],
                  r < 3 ? w[static_cast<size_t>((ic * 3 + r) * 5 + taps0[t])] : 0.0f)
            << "class 0 row " << r << " ic " << ic << " tap " << t;
      for (int64_t t = 0; t < 2; ++t)
        EXPECT_EQ(packed[static_cast<size_t>(72 + (ic * 2 + t) * 12 + r)],
                  r < 3 ? w[static_cast<size_t>((ic * 3 + r) * 5 + taps1[t])] : 0.0f)
            << "class 1 row " << r << " ic " << ic << " tap " << t;
    }
  g.S = 4;
  EXPECT_FALSE(simd::ConvTransposeSimdSupported(g));
}

// Bad input with a prepare function in play: a clear error, no crash.
TEST(SimdConvTransposeTest, PreparedWeightsWithBadShapesGiveErrors) {
  for (Isa isa : SupportedIsas()) {
    IsaScope scope(isa);
    Op group("ConvTranspose", 11);
    group.In(F32(std::vector<float>(12), {1, 4, 3})).In(F32(std::vector<float>(3), {3, 1, 1}));
    group.Attr("group", IntAttr(3)).ConstantInputs({1});
    EXPECT_FALSE(group.Run().ok());
    Op channels("ConvTranspose", 11);
    channels.In(F32(std::vector<float>(8), {1, 2, 4})).In(F32(std::vector<float>(3), {3, 1, 1})).ConstantInputs({1});
    const Status st = channels.Run();
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("dim 0 must be C"), std::string::npos) << st.message();
    Op strides("ConvTranspose", 11);
    strides.In(F32(std::vector<float>(8), {1, 2, 4})).In(F32(std::vector<float>(6), {2, 1, 3}));
    strides.Attr("strides", IntsAttr({2, 2})).ConstantInputs({1});
    EXPECT_FALSE(strides.Run().ok());
  }
}

}  // namespace
}  // namespace idem::testing
