// Conv on the SIMD ISAs (kernels/simd/conv.h: im2col + GEMM core, depthwise kernel) against the
// scalar reference kernel of kernels/conv.cc (Isa::kScalar), BITWISE, on ragged shapes (channel
// counts not multiples of 16, odd spatial sizes, strides 1/2/3, dilation 2, symmetric and
// asymmetric pads, groups 1/2/C, depthwise with multiplier 1 and 2, 1-D/2-D/3-D, 1x1), at 1, 2, 3
// and 8 threads, with the weights packed at load (PrepareConv) and packed per call; a sample of a
// batch of 8 == the batch-1 result of that sample (D3); and the reference against an independent
// naive double-precision convolution (tolerance).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/simd/conv.h"
#include "kernels/simd/gemm.h"
#include "isa_test_util.h"
#include "kernels/simd/isa.h"
#include "kernel_test_util.h"

namespace idem::testing {
namespace {

using simd::Isa;

constexpr float kInf = std::numeric_limits<float>::infinity();

struct ConvCase {
  Shape x, w;
  int64_t group;
  std::vector<int64_t> strides, dilations, pads;
  bool bias;
};

int64_t Prod(const Shape& s, size_t from = 0) {
  int64_t p = 1;
  for (size_t i = from; i < s.size(); ++i) p *= s[i];
  return p;
}

Shape OutShape(const ConvCase& c) {
  const size_t S = c.x.size() - 2;
  Shape out = {c.x[0], c.w[0]};
  for (size_t d = 0; d < S; ++d) {
    const int64_t ek = (c.w[d + 2] - 1) * c.dilations[d] + 1;
    out.push_back((c.x[d + 2] + c.pads[d] + c.pads[d + S] - ek) / c.strides[d] + 1);
  }
  return out;
}

// Independent reference: every output as a double sum over the terms that exist (padding
// contributes 0), plus the bias; also the sum of |terms| for the tolerance.
void NaiveConvF64(const ConvCase& c, const std::vector<float>& x, const std::vector<float>& w,
                  const std::vector<float>& b, std::vector<double>* y, std::vector<double>* mag) {
  const size_t S = c.x.size() - 2;
  const Shape out = OutShape(c);
  const int64_t N = c.x[0], C = c.x[1], OC = c.w[0], G = c.group, Cg = C / G, OCg = OC / G;
  const int64_t in_plane = Prod(c.x, 2), out_plane = Prod(out, 2), ks = Prod(c.w, 2);
  y->clear();
  mag->clear();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < OC; ++oc)
      for (int64_t o = 0; o < out_plane; ++o) {
        std::vector<int64_t> oi(S);
        for (size_t d = S, r = static_cast<size_t>(o); d-- > 0;) {
          oi[d] = static_cast<int64_t>(r % static_cast<size_t>(out[d + 2]));
          r /= static_cast<size_t>(out[d + 2]);
        }
        double acc = c.bias ? b[static_cast<size_t>(oc)] : 0.0, m = std::fabs(acc);
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
              const int64_t id = oi[d] * c.strides[d] + kd[d] * c.dilations[d] - c.pads[d];
              ok = ok && id >= 0 && id < c.x[d + 2];
              off = off * c.x[d + 2] + id;
            }
            if (!ok) continue;
            const int64_t ic = (oc / OCg) * Cg + icl;
            const double t = static_cast<double>(w[static_cast<size_t>((oc * Cg + icl) * ks + kp)]) *
                             x[static_cast<size_t>((n * C + ic) * in_plane + off)];
            acc += t;
            m += std::fabs(t);
          }
        y->push_back(acc);
        mag->push_back(m);
      }
}

Op MakeConv(const ConvCase& c, Tensor x, Tensor w, Tensor b, bool prepared) {
  Op op("Conv", 11);
  op.In(std::move(x)).In(std::move(w));
  if (c.bias) op.In(std::move(b));
  op.Attr("group", IntAttr(c.group)).Attr("strides", IntsAttr(c.strides)).Attr("dilations", IntsAttr(c.dilations));
  op.Attr("pads", IntsAttr(c.pads));
  if (prepared) op.ConstantInputs({1, 2});
  return op;
}

// Runs the case with f32 tensors on the current ISA; returns the output bits.
std::vector<uint32_t> RunF32(const ConvCase& c, const std::vector<float>& x, const std::vector<float>& w,
                             const std::vector<float>& b, Shape x_shape, bool prepared, ThreadPool* pool) {
  Op op = MakeConv(c, F32(x, x_shape), F32(w, c.w), F32(b, {c.w[0]}), prepared);
  const Status st = op.Run(pool);
  EXPECT_TRUE(st.ok()) << st.message();
  if (!st.ok()) return {};
  if (prepared) {
    EXPECT_NE(op.prepared(), nullptr);
  }
  Shape want = OutShape(c);
  want[0] = x_shape[0];
  EXPECT_EQ(op.out(0).shape(), want);
  return Bits(op.out(0));
}

std::string Describe(const ConvCase& c) {
  return ShapeToString(c.x) + " * " + ShapeToString(c.w) + " group " + std::to_string(c.group);
}

void CheckCase(const ConvCase& c, uint32_t seed) {
  SCOPED_TRACE(Describe(c));
  const std::vector<float> x = RandomFloats(static_cast<size_t>(Prod(c.x)), seed);
  const std::vector<float> w = RandomFloats(static_cast<size_t>(Prod(c.w)), seed + 1);
  const std::vector<float> b = RandomFloats(static_cast<size_t>(c.w[0]), seed + 2);

  std::vector<uint32_t> ref;
  {
    IsaScope scalar(Isa::kScalar);
    ref = RunF32(c, x, w, b, c.x, false, nullptr);
    EXPECT_EQ(RunF32(c, x, w, b, c.x, true, nullptr), ref) << "scalar, prepared";
  }
  ASSERT_FALSE(ref.empty());

  // The reference against the naive double-precision convolution.
  std::vector<double> want, mag;
  NaiveConvF64(c, x, w, b, &want, &mag);
  ASSERT_EQ(want.size(), ref.size());
  const double eps = std::numeric_limits<float>::epsilon();
  const double terms = static_cast<double>(Prod(c.w, 1) + 1);
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

// Batch invariance (D3): sample i of a batch of 8 == the batch-1 run on sample i, on every ISA.
void CheckBatch(const ConvCase& c, uint32_t seed) {
  SCOPED_TRACE(Describe(c));
  ConvCase one = c;
  one.x[0] = 1;
  Shape x8 = one.x;
  x8[0] = 8;
  const int64_t per_in = Prod(one.x), per_out = Prod(OutShape(one));
  const std::vector<float> x = RandomFloats(static_cast<size_t>(8 * per_in), seed, /*specials=*/true);
  const std::vector<float> w = RandomFloats(static_cast<size_t>(Prod(c.w)), seed + 1);
  const std::vector<float> b = RandomFloats(static_cast<size_t>(c.w[0]), seed + 2);
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

const std::vector<ConvCase>& Cases() {
  static const std::vector<ConvCase> cases = {
      // 3x3, pad 1, channels not multiples of 16, odd sizes.
      {{1, 19, 13, 11}, {21, 19, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      // Stride 2, asymmetric pads, many output channels (more than one GEMM row group).
      {{2, 5, 17, 15}, {33, 5, 3, 3}, 1, {2, 2}, {1, 1}, {0, 1, 2, 0}, true},
      // Dilation 2, two groups, a pad wider than the dilated reach on one side.
      {{1, 6, 12, 9}, {10, 3, 3, 3}, 2, {1, 1}, {2, 2}, {2, 3, 2, 1}, false},
      // Stride 2 with wide output rows (panels within one row at input stride 2), unpadded end.
      {{1, 3, 9, 70}, {8, 3, 3, 3}, 1, {2, 2}, {1, 1}, {1, 1, 0, 0}, true},
      // Mixed stride/dilation per dim, a kernel wider than tall.
      {{1, 4, 9, 40}, {6, 2, 3, 2}, 2, {2, 1}, {1, 2}, {1, 0, 2, 1}, true},
      // K > 256 (several GEMM K blocks) and P over several column tiles.
      {{1, 70, 24, 25}, {20, 70, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      // 1x1 stride 1 (flattened), and 1x1 stride 2.
      {{1, 40, 9, 11}, {35, 40, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, false},
      {{1, 9, 10, 11}, {17, 9, 1, 1}, 1, {2, 2}, {1, 1}, {0, 0, 0, 0}, true},
      // Depthwise (group == C == OC): 3x3 pad 1; stride 2 + dilation + asymmetric pads; wide rows.
      {{1, 24, 19, 23}, {24, 1, 3, 3}, 24, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      {{1, 17, 15, 40}, {17, 1, 3, 5}, 17, {2, 2}, {2, 1}, {1, 2, 0, 3}, false},
      {{1, 3, 7, 300}, {3, 1, 3, 3}, 3, {1, 3}, {1, 2}, {1, 4, 1, 0}, true},
      // Depthwise with wide rows (blocks within a row), stride 1 and 2, several planes.
      {{2, 4, 5, 70}, {4, 1, 3, 3}, 4, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      {{1, 5, 6, 151}, {5, 1, 3, 3}, 5, {2, 2}, {1, 1}, {1, 0, 1, 2}, false},
      // Depthwise with multiplier 2 (GEMM path), and 1-D depthwise, stride 3.
      {{1, 6, 9, 9}, {12, 1, 3, 3}, 6, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      {{1, 10, 37}, {10, 1, 5}, 10, {3}, {1}, {2, 1}, true},
      // 1-D: stride 2, dilation 2, asymmetric pads.
      {{1, 7, 50}, {18, 7, 4}, 1, {2}, {2}, {3, 1}, true},
      // 3-D, and 3-D depthwise.
      {{1, 3, 6, 7, 9}, {5, 3, 3, 2, 3}, 1, {1, 2, 1}, {1, 1, 2}, {1, 0, 1, 1, 1, 0}, true},
      {{1, 4, 5, 6, 7}, {4, 1, 3, 3, 3}, 4, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 1, 1, 1}, false},
      // A kernel larger than the input: some outputs read only padding.
      {{1, 2, 3, 3}, {3, 2, 5, 5}, 1, {1, 1}, {1, 1}, {2, 2, 2, 2}, true},
      // Depthwise, narrow planes (rows of at most 16, stride 1, OW == W: the AVX-512 direct path):
      // MobileNetV2's 7x7 and 14x14, a row of exactly 16, 5x5 (kernel size not 9), dilation 2,
      // 1-D, and more planes than jobs.
      {{2, 20, 7, 7}, {20, 1, 3, 3}, 20, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      {{1, 18, 14, 14}, {18, 1, 3, 3}, 18, {1, 1}, {1, 1}, {1, 1, 1, 1}, false},
      {{1, 5, 16, 16}, {5, 1, 3, 3}, 5, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      {{1, 7, 11, 13}, {7, 1, 5, 5}, 7, {1, 1}, {1, 1}, {2, 2, 2, 2}, true},
      {{1, 6, 9, 9}, {6, 1, 3, 3}, 6, {1, 1}, {2, 2}, {2, 2, 2, 2}, false},
      {{1, 10, 15}, {10, 1, 3}, 10, {1}, {1}, {1, 1}, true},
      {{1, 150, 7, 7}, {150, 1, 3, 3}, 150, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      // Depthwise 3x3, stride 1, OW == W, rows of 3..8 vectors (in place row by row on AVX-512): a
      // full last vector, a last vector of one lane and an odd row count, 8 vectors, dilation 2,
      // pads only below.
      {{1, 6, 9, 56}, {6, 1, 3, 3}, 6, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      {{1, 5, 7, 33}, {5, 1, 3, 3}, 5, {1, 1}, {1, 1}, {1, 1, 1, 1}, false},
      {{1, 3, 5, 128}, {3, 1, 3, 3}, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      {{1, 4, 8, 40}, {4, 1, 3, 3}, 4, {1, 1}, {2, 2}, {2, 2, 2, 2}, true},
      {{1, 3, 9, 40}, {3, 1, 3, 3}, 3, {1, 1}, {1, 1}, {0, 1, 2, 1}, false},
      // Depthwise 3x3 / 2, pads 1, in place on AVX-512 (rows of one vector, or large planes: odd
      // sizes, ragged row ends, a last kernel row below the input).
      {{1, 9, 14, 14}, {9, 1, 3, 3}, 9, {2, 2}, {1, 1}, {1, 1, 1, 1}, true},
      {{1, 12, 7, 7}, {12, 1, 3, 3}, 12, {2, 2}, {1, 1}, {1, 1, 1, 1}, false},
      {{1, 3, 91, 95}, {3, 1, 3, 3}, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}, true},
      // Depthwise through the scratch rows: 3x3 / 2 of mid size, a row of 17, OW != W
      // (asymmetric pads, pads beyond the kernel's reach).
      {{1, 5, 28, 30}, {5, 1, 3, 3}, 5, {2, 2}, {1, 1}, {1, 1, 1, 1}, false},
      {{1, 4, 16, 17}, {4, 1, 3, 3}, 4, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      {{1, 5, 10, 12}, {5, 1, 3, 3}, 5, {1, 1}, {1, 1}, {1, 0, 1, 0}, true},
      {{1, 3, 5, 5}, {3, 1, 3, 3}, 3, {1, 1}, {1, 1}, {2, 2, 2, 2}, false},
      // GEMM with few columns (all packed first): row blocks (OCg >= 48) in whole 12-row groups, two
      // samples; and 1x1 with a short chain into a large output (output prefetch).
      {{1, 256, 7, 7}, {300, 256, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true},
      {{2, 160, 7, 7}, {960, 160, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true},
      {{1, 16, 96, 96}, {64, 16, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true},
  };
  return cases;
}

TEST(SimdConvTest, EveryIsaAndThreadCountIsBitwiseTheScalarReference) {
  uint32_t seed = 100;
  for (const ConvCase& c : Cases()) CheckCase(c, seed += 10);
}

TEST(SimdConvTest, SampleOfABatchIsBitwiseItsBatchOfOne) {
  CheckBatch({{1, 19, 13, 11}, {21, 19, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, true}, 7);
  CheckBatch({{1, 24, 19, 23}, {24, 1, 3, 3}, 24, {2, 2}, {1, 1}, {1, 0, 1, 0}, true}, 8);
  CheckBatch({{1, 40, 9, 11}, {35, 40, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, false}, 9);
  CheckBatch({{1, 20, 7, 7}, {20, 1, 3, 3}, 20, {1, 1}, {1, 1}, {1, 1, 1, 1}, true}, 10);    // direct depthwise
  CheckBatch({{1, 12, 14, 14}, {12, 1, 3, 3}, 12, {2, 2}, {1, 1}, {1, 1, 1, 1}, true}, 11);  // stride 2
  CheckBatch({{1, 5, 7, 33}, {5, 1, 3, 3}, 5, {1, 1}, {1, 1}, {1, 1, 1, 1}, true}, 13);      // rows in place
  CheckBatch({{1, 256, 7, 7}, {300, 256, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true}, 12);  // row blocks
}

// A padded term is fma(w, 0, acc) on every ISA: with +Inf weights and finite input, the outputs
// whose window touches the padding are NaN (Inf * 0), the others +Inf.
TEST(SimdConvTest, PaddedTermsAreMultipliedByZeroOnEveryIsa) {
  std::vector<Isa> isas = SupportedSimdIsas();
  isas.push_back(Isa::kScalar);
  for (const auto& [w_shape, group] : std::vector<std::pair<Shape, int64_t>>{{{1, 1, 3, 3}, 1}, {{2, 1, 3, 3}, 2}}) {
    const int64_t C = w_shape[0];
    for (Isa isa : isas) {
      IsaScope scope(isa);
      Op op("Conv", 11);
      op.In(F32(std::vector<float>(static_cast<size_t>(C * 16), 1.0f), {1, C, 4, 4}));
      op.In(F32(std::vector<float>(static_cast<size_t>(Prod(w_shape)), kInf), w_shape));
      op.Attr("pads", IntsAttr({1, 1, 1, 1})).Attr("group", IntAttr(group));
      ASSERT_TRUE(op.Run().ok());
      const std::vector<float> y = Values<float>(op.out(0));
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < 4; ++i)
          for (int64_t j = 0; j < 4; ++j) {
            const float v = y[static_cast<size_t>(c * 16 + i * 4 + j)];
            const bool border = i == 0 || i == 3 || j == 0 || j == 3;
            if (border) {
              EXPECT_TRUE(std::isnan(v)) << simd::IsaName(isa) << " " << i << "," << j;
            } else {
              EXPECT_EQ(v, kInf) << simd::IsaName(isa) << " " << i << "," << j;
            }
          }
    }
  }
}

// f16 / bf16 compute in f32 on every ISA: the same bits as the scalar reference, prepared or not.
TEST(SimdConvTest, HalfTypesAreBitwiseTheScalarReference) {
  const ConvCase cases[] = {{{1, 5, 9, 8}, {7, 5, 3, 3}, 1, {1, 2}, {1, 1}, {1, 1, 0, 2}, true},
                            {{1, 6, 8, 19}, {6, 1, 3, 3}, 6, {1, 1}, {1, 1}, {1, 1, 1, 1}, true}};
  for (const ConvCase& c : cases) {
    const std::vector<float> x = RandomFloats(static_cast<size_t>(Prod(c.x)), 3);
    const std::vector<float> w = RandomFloats(static_cast<size_t>(Prod(c.w)), 4);
    const std::vector<float> b = RandomFloats(static_cast<size_t>(c.w[0]), 5);
    for (bool bf16 : {false, true}) {
      auto make = [&](const std::vector<float>& v, Shape s) { return bf16 ? BF16(v, std::move(s)) : F16(v, std::move(s)); };
      auto run = [&](bool prepared, ThreadPool* pool) {
        Op op = MakeConv(c, make(x, c.x), make(w, c.w), make(b, {c.w[0]}), prepared);
        const Status st = op.Run(pool);
        EXPECT_TRUE(st.ok()) << st.message();
        return st.ok() ? HalfValues(op.out(0)) : std::vector<float>{};
      };
      ExpectSimdEqualsScalar(run, bf16 ? "bf16" : "f16");
    }
  }
}

// The im2col tile is the GEMM's panel layout: column p of the tile, row k = (ic, kernel position).
TEST(SimdConvTest, PackedColumnsAreTheIm2colInPanelLayout) {
  simd::ConvGeometry g;
  g.N = 1;
  g.G = 1;
  g.Cg = 2;
  g.OCg = 1;
  g.S = 2;
  const int64_t in[] = {3, 5}, k[] = {2, 3}, s[] = {1, 2}, pads[] = {1, 1};
  for (int d = 0; d < 2; ++d) {
    g.in[d] = in[d];
    g.kernel[d] = k[d];
    g.strides[d] = s[d];
    g.dilations[d] = 1;
    g.pads[d] = pads[d];
    g.out[d] = (in[d] + 2 * pads[d] - k[d]) / s[d] + 1;  // symmetric pads: 4 x 3
  }
  std::vector<float> x(30);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i + 1);
  const int64_t K = g.K(), P = g.OutPlane();
  ASSERT_EQ(K, 12);
  ASSERT_EQ(P, 12);
  for (Isa isa : SupportedSimdIsas()) {
    std::vector<float> tile(static_cast<size_t>(simd::PackedBFloats(K, P)), -1.0f);
    simd::PackConvColumns(isa, g, x.data(), 0, P, tile.data());
    for (int64_t kk = 0; kk < K; ++kk)
      for (int64_t p = 0; p < 16; ++p) {
        const int64_t ic = kk / 6, kh = kk % 6 / 3, kw = kk % 3, oh = p / 3, ow = p % 3;
        const int64_t ih = oh + kh - 1, iw = ow * 2 + kw - 1;
        float want = 0.0f;
        if (p < P && ih >= 0 && ih < 3 && iw >= 0 && iw < 5) want = x[static_cast<size_t>(ic * 15 + ih * 5 + iw)];
        EXPECT_EQ(tile[static_cast<size_t>(kk * 16 + p)], want) << simd::IsaName(isa) << " k " << kk << " p " << p;
      }
  }
}

TEST(SimdConvTest, AlgorithmDependsOnShapesOnly) {
  simd::ConvGeometry g;
  g.Cg = 1;
  g.OCg = 1;
  g.S = 2;
  EXPECT_EQ(simd::ConvAlgorithmFor(g), simd::ConvAlgorithm::kDepthwise);
  g.S = 3;
  EXPECT_EQ(simd::ConvAlgorithmFor(g), simd::ConvAlgorithm::kGemm);
  g.S = 2;
  g.OCg = 2;
  EXPECT_EQ(simd::ConvAlgorithmFor(g), simd::ConvAlgorithm::kGemm);
  for (int64_t K : {1, 27, 576, 4608, 100000}) {
    const int64_t t = simd::ConvTileColumns(K);
    EXPECT_EQ(t % simd::kGemmPanel, 0);
    EXPECT_GE(t, simd::kGemmPanel);
    EXPECT_LE(t, 512);
  }
  // The GEMM blocks of few-column convolutions: whole row groups or all rows, pairs of panels or
  // all columns, and the same answer however often asked.
  for (const auto& [ng, M, P, K] : std::vector<std::array<int64_t, 4>>{
           {1, 960, 49, 160}, {1, 160, 49, 960}, {1, 1280, 49, 320}, {1, 96, 196, 576}, {1, 24, 3136, 96},
           {2, 300, 49, 256}, {8, 64, 49, 64}, {1, 1, 1, 1}}) {
    const simd::ConvGemmGrid grid = simd::ConvGemmBlocks(ng, M, P, K);
    EXPECT_TRUE(grid.rows == M || (grid.pack_all && grid.rows % simd::kGemmPackRows == 0)) << M << " rows " << grid.rows;
    if (grid.pack_all) {
      EXPECT_EQ(grid.cols, P);
    } else {
      EXPECT_EQ(grid.cols % 16, 0) << P << " cols " << grid.cols;
      EXPECT_LE(grid.cols, simd::ConvTileColumns(K));
    }
    EXPECT_GE(grid.rows, 1);
    EXPECT_GE(grid.cols, 1);
    const simd::ConvGemmGrid again = simd::ConvGemmBlocks(ng, M, P, K);
    EXPECT_EQ(again.rows, grid.rows);
    EXPECT_EQ(again.cols, grid.cols);
    EXPECT_EQ(again.pack_all, grid.pack_all);
  }
  for (const auto& [planes, fmas] : std::vector<std::array<int64_t, 2>>{{960, 441}, {32, 112896}, {1, 9}, {7, 100}}) {
    const int64_t per_job = simd::DwPlanesPerJob(planes, fmas);
    EXPECT_GE(per_job, 1);
    EXPECT_LE(per_job, std::max<int64_t>(planes, 1));
  }
}

// Bad input with a prepare function in play: a clear error, no crash.
TEST(SimdConvTest, PreparedWeightsWithBadShapesGiveErrors) {
  for (Isa isa : SupportedSimdIsas()) {
    IsaScope scope(isa);
    Op group("Conv", 11);
    group.In(F32(std::vector<float>(12), {1, 4, 3})).In(F32(std::vector<float>(3), {3, 1, 1}));
    group.Attr("group", IntAttr(3)).ConstantInputs({1});
    EXPECT_FALSE(group.Run().ok());
    Op channels("Conv", 11);
    channels.In(F32(std::vector<float>(8), {1, 2, 4})).In(F32(std::vector<float>(3), {1, 3, 1})).ConstantInputs({1});
    const Status st = channels.Run();
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("C/group"), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace idem::testing
