// SIMD reduce family (kernels/simd/reduce_simd.h through the Reduce*, normalization, softmax and
// pooling kernels): every compiled ISA gives the scalar reference's bits (DESIGN.md D4, R7) on
// ragged shapes, inner / outer / multiple axes and special values, at 1, 2, 3 and 8 threads (D2);
// a row of a batch-8 run equals the batch-1 run of that row (D3); and the results agree with a
// naive double-precision reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "isa_test_util.h"
#include "kernels/simd/isa.h"
#include "kernels/simd/reduce_simd.h"
#include "kernel_test_util.h"

namespace idem::testing {
namespace {

using simd::Isa;

constexpr int64_t kExtents[] = {0, 1, 15, 16, 17, 31, 33, 100, 257};

// Restores the process-wide ISA when a test ends.
struct IsaRestore {
  Isa saved = simd::CurrentIsa();
  ~IsaRestore() { (void)simd::SetIsa(saved); }
};

struct Pools {
  ThreadPool t2{2}, t3{3}, t8{8};
  std::vector<ThreadPool*> all() { return {nullptr, &t2, &t3, &t8}; }
};
Pools& SharedPools() {
  static Pools* pools = new Pools();
  return *pools;
}

using Outputs = std::vector<std::vector<uint8_t>>;

Outputs Collect(const Op& op, int n) {
  Outputs out;
  for (int i = 0; i < n; ++i) {
    const Tensor& t = op.out(static_cast<size_t>(i));
    std::vector<uint8_t> b(t.nbytes());
    if (!b.empty()) std::memcpy(b.data(), t.raw(), b.size());
    out.push_back(std::move(b));
  }
  return out;
}

// Runs make() on every ISA and thread count; every result must equal the scalar 1-thread bits.
// make() returns a ready Op; `outputs` outputs are compared. Returns the scalar result.
Outputs ExpectBitwiseEverywhere(const std::string& what, const std::function<Op()>& make, int outputs = 1) {
  IsaRestore restore;
  Outputs reference;
  bool have_reference = false;
  for (Isa isa : SupportedIsas()) {
    EXPECT_TRUE(simd::SetIsa(isa).ok());
    for (ThreadPool* pool : SharedPools().all()) {
      if (isa == Isa::kScalar && pool != nullptr && have_reference) continue;  // scalar: 1 thread is enough
      Op op = make();
      const Status st = op.Run(pool);
      EXPECT_TRUE(st.ok()) << what << ": " << st.message();
      if (!st.ok()) return {};
      Outputs got = Collect(op, outputs);
      if (!have_reference) {
        reference = got;
        have_reference = true;
        continue;
      }
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_TRUE(got[i] == reference[i]) << what << ": output " << i << " differs from the scalar reference at "
                                            << simd::IsaName(isa) << ", "
                                            << (pool ? pool->num_threads() : 1) << " threads";
        if (got[i] != reference[i]) return reference;
      }
    }
  }
  return reference;
}

std::string ShapeStr(const Shape& s) { return ShapeToString(s); }

TEST(SimdReduceTest, EverySupportedSimdIsaHasATable) {
  EXPECT_EQ(simd::ReduceKernelsFor(Isa::kScalar), nullptr);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const simd::ReduceKernels* k = simd::ReduceKernelsFor(isa);
    EXPECT_EQ(k != nullptr, simd::IsaSupported(isa)) << simd::IsaName(isa);
    if (k) {
      EXPECT_EQ(k->lanes, isa == Isa::kAvx2 ? 8 : 16);
      std::vector<float> v(37);
      for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
      EXPECT_EQ(k->sum(v.data(), 37), 666.0f);
      EXPECT_EQ(k->max(v.data(), 37), 36.0f);
    }
  }
  std::printf("SIMD ISAs tested:");
  for (Isa isa : SupportedIsas()) std::printf(" %s", simd::IsaName(isa));
  std::printf("\n");
}

// ---------------------------------------------------------------------------------------------
// Reduce*

const char* const kReduceOps[] = {"ReduceSum", "ReduceMean", "ReduceMax",  "ReduceMin",    "ReduceProd",
                                  "ReduceL1",  "ReduceL2",   "ReduceLogSum", "ReduceSumSquare",
                                  "ReduceLogSumExp"};

Op ReduceOp(const char* name, const Tensor& x, const std::vector<int64_t>& axes, int keepdims) {
  Op op(name, 18);
  op.In(x).In(I64(axes, {static_cast<int64_t>(axes.size())})).Attr("keepdims", IntAttr(keepdims));
  return op;
}

struct ReduceCase {
  Shape shape;
  std::vector<int64_t> axes;
};

std::vector<ReduceCase> ReduceCases() {
  std::vector<ReduceCase> cases;
  for (int64_t e : kExtents) {
    for (int64_t r : {int64_t{1}, int64_t{3}, int64_t{17}}) {
      cases.push_back({{r, e}, {1}});     // inner axis: contiguous rows
      cases.push_back({{e, r}, {0}});     // outer axis: across outputs
      cases.push_back({{r, e}, {0, 1}});  // everything
    }
    cases.push_back({{3, e, 5}, {1}});     // middle axis: across outputs, several runs of outputs
    cases.push_back({{3, e, 5}, {0, 2}});  // rows made of several runs
    cases.push_back({{2, 3, e}, {0, 2}});
    cases.push_back({{e, 2, 33}, {0}});    // across outputs with a ragged block of 66 columns
  }
  return cases;
}

TEST(SimdReduceTest, ReduceOpsMatchScalarOnEveryIsaAndThreadCount) {
  uint32_t seed = 1;
  for (const ReduceCase& c : ReduceCases()) {
    const std::vector<float> v = RandomFloats(static_cast<size_t>(NumElements(c.shape)), seed++, true);
    for (const char* name : kReduceOps) {
      for (int keepdims : {0, 1}) {
        const Tensor x = F32(v, c.shape);
        const std::string what = std::string(name) + " " + ShapeStr(c.shape) + " axes " + ShapeStr(c.axes) +
                                 " keepdims " + std::to_string(keepdims);
        ExpectBitwiseEverywhere(what, [&] { return ReduceOp(name, x, c.axes, keepdims); });
      }
    }
  }
}

TEST(SimdReduceTest, ArgMaxArgMinMatchScalar) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  uint32_t seed = 50;
  for (int64_t e : kExtents) {
    if (e == 0) continue;  // an empty arg-reduction is an error
    for (const Shape& shape : {Shape{3, e}, Shape{e, 3}, Shape{2, e, 17}}) {
      std::vector<float> v = RandomFloats(static_cast<size_t>(NumElements(shape)), seed++, true);
      for (size_t i = 0; i < v.size(); i += 5) v[i] = std::round(v[i] * 2.0f);  // ties
      if (v.size() > 30) {
        v[v.size() / 3] = nan;
        v[v.size() / 2] = nan;
      }
      for (const char* name : {"ArgMax", "ArgMin"})
        for (int64_t axis = 0; axis < static_cast<int64_t>(shape.size()); ++axis)
          for (int last : {0, 1})
            for (int half = 0; half < 2; ++half) {
              const Tensor x = half ? BF16(v, shape) : F32(v, shape);
              ExpectBitwiseEverywhere(std::string(name) + " " + ShapeStr(shape) + " axis " + std::to_string(axis) +
                                          " last " + std::to_string(last),
                                      [&] {
                                        Op op(name, 13);
                                        op.In(x).Attr("axis", IntAttr(axis)).Attr("select_last_index", IntAttr(last));
                                        return op;
                                      });
            }
    }
  }
}

TEST(SimdReduceTest, HalfTypesMatchScalar) {
  uint32_t seed = 100;
  for (const ReduceCase& c : ReduceCases()) {
    const std::vector<float> v = RandomFloats(static_cast<size_t>(NumElements(c.shape)), seed++, true);
    for (const char* name : {"ReduceSum", "ReduceMax", "ReduceL2", "ReduceMean"}) {
      for (bool bf : {false, true}) {
        const Tensor x = bf ? BF16(v, c.shape) : F16(v, c.shape);
        const std::string what = std::string(name) + (bf ? " bf16 " : " f16 ") + ShapeStr(c.shape);
        ExpectBitwiseEverywhere(what, [&] { return ReduceOp(name, x, c.axes, 1); });
      }
    }
  }
}

TEST(SimdReduceTest, SpecialValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  // Rows with NaN at several places, signed zeros only, infinities, a maximum that is a zero.
  std::vector<std::vector<float>> rows;
  for (int64_t n : {1, 15, 16, 17, 33, 100}) {
    for (int64_t at : {int64_t{0}, n / 2, n - 1}) {
      std::vector<float> r = RandomFloats(static_cast<size_t>(n), static_cast<uint32_t>(n * 7 + at));
      r[static_cast<size_t>(at)] = nan;
      rows.push_back(r);
      std::vector<float> z(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) z[static_cast<size_t>(i)] = ((i * 7 + at) % 3 == 0) ? -0.0f : 0.0f;
      rows.push_back(z);
      std::vector<float> neg = RandomFloats(static_cast<size_t>(n), static_cast<uint32_t>(n + at));
      for (float& f : neg) f = -std::abs(f) - 1.0f;
      neg[static_cast<size_t>(at)] = -0.0f;
      if (n > 2) neg[static_cast<size_t>((at + 1) % n)] = 0.0f;
      rows.push_back(neg);  // the maximum is a zero; its sign is the first zero's
      std::vector<float> infs = RandomFloats(static_cast<size_t>(n), static_cast<uint32_t>(n + 3 * at));
      infs[static_cast<size_t>(at)] = (at % 2) ? inf : -inf;
      rows.push_back(infs);
    }
  }
  for (const std::vector<float>& r : rows) {
    const int64_t n = static_cast<int64_t>(r.size());
    // As one row (inner axis) and as one column of a 2-column matrix (outer axis).
    std::vector<float> two;
    for (float f : r) {
      two.push_back(f);
      two.push_back(-f);
    }
    for (const char* name : kReduceOps) {
      ExpectBitwiseEverywhere(std::string(name) + " special row of " + std::to_string(n),
                              [&] { return ReduceOp(name, F32(r, {1, n}), {1}, 0); });
      ExpectBitwiseEverywhere(std::string(name) + " special column of " + std::to_string(n),
                              [&] { return ReduceOp(name, F32(two, {n, 2}), {0}, 0); });
    }
  }
  // NaN propagation (also against expectations, not only the scalar path).
  for (Isa isa : SupportedIsas()) {
    IsaRestore restore;
    ASSERT_TRUE(simd::SetIsa(isa).ok());
    std::vector<float> v(40, 1.0f);
    v[21] = nan;
    for (const char* name : {"ReduceMax", "ReduceMin"}) {
      Op op = ReduceOp(name, F32(v, {40}), {0}, 0);
      ASSERT_TRUE(op.Run().ok());
      EXPECT_TRUE(std::isnan(Values<float>(op.out())[0])) << name << " at " << simd::IsaName(isa);
    }
    std::vector<float> z = {-0.0f, 0.0f, -0.0f};
    for (int i = 0; i < 30; ++i) z.push_back(-1.0f);
    Op op = ReduceOp("ReduceMax", F32(z, {static_cast<int64_t>(z.size())}), {0}, 0);
    ASSERT_TRUE(op.Run().ok());
    EXPECT_TRUE(std::signbit(Values<float>(op.out())[0])) << "max of (-0, +0, ...) is the first zero, -0";
  }
}

TEST(SimdReduceTest, AgreesWithDoubleReference) {
  IsaRestore restore;
  for (Isa isa : SupportedIsas()) {
    ASSERT_TRUE(simd::SetIsa(isa).ok());
    for (int64_t n : {1, 17, 100, 257, 1000}) {
      const std::vector<float> v = RandomFloats(static_cast<size_t>(3 * n), static_cast<uint32_t>(n));
      for (int axis : {0, 1}) {
        const Shape shape = axis == 1 ? Shape{3, n} : Shape{n, 3};
        Op sum = ReduceOp("ReduceSum", F32(v, shape), {axis}, 0);
        Op mean = ReduceOp("ReduceMean", F32(v, shape), {axis}, 0);
        Op mx = ReduceOp("ReduceMax", F32(v, shape), {axis}, 0);
        ASSERT_TRUE(sum.Run().ok() && mean.Run().ok() && mx.Run().ok());
        for (int64_t o = 0; o < 3; ++o) {
          double s = 0, m = -1e300;
          for (int64_t i = 0; i < n; ++i) {
            const double e = v[static_cast<size_t>(axis == 1 ? o * n + i : i * 3 + o)];
            s += e;
            m = std::max(m, e);
          }
          EXPECT_NEAR(Values<float>(sum.out())[static_cast<size_t>(o)], s, 1e-5 * static_cast<double>(n));
          EXPECT_NEAR(Values<float>(mean.out())[static_cast<size_t>(o)], s / static_cast<double>(n), 1e-5);
          EXPECT_EQ(Values<float>(mx.out())[static_cast<size_t>(o)], static_cast<float>(m));
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Softmax family

Op SoftmaxOp(const char* name, int opset, const Tensor& x, int64_t axis) {
  Op op(name, opset);
  op.In(x).Attr("axis", IntAttr(axis));
  return op;
}

TEST(SimdReduceTest, SoftmaxAndLogSoftmaxMatchScalar) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  uint32_t seed = 200;
  for (int64_t n : kExtents) {
    for (const Shape& shape : {Shape{3, n}, Shape{2, n, 5}, Shape{n, 17}, Shape{1, 2, n}}) {
      std::vector<float> v = RandomFloats(static_cast<size_t>(NumElements(shape)), seed++, true);
      for (float& f : v) f *= 8.0f;  // a wide range of exponents
      if (v.size() > 40) {  // special values in some rows
        v[3] = nan;
        v[20] = inf;
        v[21] = -inf;
        v[v.size() - 2] = -0.0f;
      }
      for (const char* name : {"Softmax", "LogSoftmax"}) {
        for (int opset : {11, 13}) {
          for (int64_t axis = -static_cast<int64_t>(shape.size()); axis < static_cast<int64_t>(shape.size()); ++axis) {
            for (int half = 0; half < 3; ++half) {
              if (half > 0 && axis != -1) continue;
              const Tensor x = half == 0 ? F32(v, shape) : half == 1 ? F16(v, shape) : BF16(v, shape);
              ExpectBitwiseEverywhere(std::string(name) + "-" + std::to_string(opset) + " " + ShapeStr(shape) +
                                          " axis " + std::to_string(axis) + (half ? " half" : ""),
                                      [&] { return SoftmaxOp(name, opset, x, axis); });
            }
          }
        }
      }
    }
  }
  // Rows of -inf only, +inf, and NaN.
  for (float special : {-inf, inf, nan}) {
    const std::vector<float> v(3 * 33, special);
    for (const char* name : {"Softmax", "LogSoftmax"})
      for (int64_t axis : {0, 1})
        ExpectBitwiseEverywhere(std::string(name) + " all special", [&] { return SoftmaxOp(name, 13, F32(v, {3, 33}), axis); });
  }
}

TEST(SimdReduceTest, SoftmaxBatchRowIsBatchOneAndAgreesWithDouble) {
  IsaRestore restore;
  for (int64_t n : {17, 128, 1000}) {
    const std::vector<float> v = RandomFloats(static_cast<size_t>(8 * n), static_cast<uint32_t>(n));
    for (Isa isa : SupportedIsas()) {
      ASSERT_TRUE(simd::SetIsa(isa).ok());
      for (const char* name : {"Softmax", "LogSoftmax"}) {
        Op batch = SoftmaxOp(name, 13, F32(v, {8, n}), -1);
        ASSERT_TRUE(batch.Run(&SharedPools().t3).ok());
        const std::vector<uint32_t> all = Bits(batch.out());
        const std::vector<float> y = Values<float>(batch.out());
        for (int64_t r = 0; r < 8; ++r) {
          Op one = SoftmaxOp(name, 13, F32(std::vector<float>(v.begin() + r * n, v.begin() + (r + 1) * n), {n}), -1);
          ASSERT_TRUE(one.Run().ok());
          EXPECT_EQ(Bits(one.out()), std::vector<uint32_t>(all.begin() + r * n, all.begin() + (r + 1) * n))
              << name << " row " << r << " at " << simd::IsaName(isa);
          double m = -1e300, s = 0;
          for (int64_t i = 0; i < n; ++i) m = std::max(m, static_cast<double>(v[static_cast<size_t>(r * n + i)]));
          for (int64_t i = 0; i < n; ++i) s += std::exp(v[static_cast<size_t>(r * n + i)] - m);
          for (int64_t i = 0; i < n; i += 7) {
            const double xi = v[static_cast<size_t>(r * n + i)] - m;
            const double want = name == std::string("Softmax") ? std::exp(xi) / s : xi - std::log(s);
            EXPECT_NEAR(y[static_cast<size_t>(r * n + i)], want, 1e-5 * (1 + std::abs(want)));
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Normalizations

Op LayerNormOp(const Tensor& x, const Tensor& scale, const Tensor& bias, int64_t axis) {
  Op op("LayerNormalization", 17);
  op.In(x).In(scale).In(bias).Attr("axis", IntAttr(axis)).Attr("epsilon", FloatAttr(1e-3f)).Outputs(3);
  return op;
}

TEST(SimdReduceTest, LayerNormalizationMatchesScalar) {
  uint32_t seed = 300;
  for (int64_t n : kExtents) {
    for (int64_t rows : {int64_t{1}, int64_t{5}}) {
      const Shape shape = {rows, 2, n};
      const std::vector<float> v = RandomFloats(static_cast<size_t>(NumElements(shape)), seed++, true);
      const std::vector<float> s = RandomFloats(static_cast<size_t>(2 * n), seed++);
      const std::vector<float> b = RandomFloats(static_cast<size_t>(2 * n), seed++);
      for (int64_t axis : {-1, 1}) {
        const Shape ps = axis == -1 ? Shape{n} : Shape{2, n};
        const int64_t pn = NumElements(ps);
        const std::vector<float> sv(s.begin(), s.begin() + pn), bv(b.begin(), b.begin() + pn);
        for (bool with_bias : {true, false}) {
          for (int half = 0; half < 3; ++half) {
            const Tensor x = half == 0 ? F32(v, shape) : half == 1 ? F16(v, shape) : BF16(v, shape);
            const Tensor sc = half == 0 ? F32(sv, ps) : half == 1 ? F16(sv, ps) : BF16(sv, ps);
            const Tensor bs = with_bias ? (half == 0 ? F32(bv, ps) : half == 1 ? F16(bv, ps) : BF16(bv, ps)) : Tensor();
            ExpectBitwiseEverywhere("LayerNormalization " + ShapeStr(shape) + " axis " + std::to_string(axis),
                                    [&] { return LayerNormOp(x, sc, bs, axis); }, 3);
          }
        }
        // Broadcast scale (one value) and bias.
        ExpectBitwiseEverywhere("LayerNormalization broadcast scale " + ShapeStr(shape), [&] {
          return LayerNormOp(F32(v, shape), F32({1.5f}, {1}), F32({0.25f}, {1}), axis);
        }, 3);
      }
    }
  }
}

TEST(SimdReduceTest, LayerNormalizationBatchRowIsBatchOne) {
  IsaRestore restore;
  const int64_t n = 257;
  const std::vector<float> v = RandomFloats(static_cast<size_t>(8 * n), 7, true);
  const std::vector<float> s = RandomFloats(static_cast<size_t>(n), 8), b = RandomFloats(static_cast<size_t>(n), 9);
  for (Isa isa : SupportedIsas()) {
    ASSERT_TRUE(simd::SetIsa(isa).ok());
    Op batch = LayerNormOp(F32(v, {8, n}), F32(s, {n}), F32(b, {n}), -1);
    ASSERT_TRUE(batch.Run(&SharedPools().t3).ok());
    const std::vector<uint32_t> all = Bits(batch.out());
    for (int64_t r = 0; r < 8; ++r) {
      Op one = LayerNormOp(F32(std::vector<float>(v.begin() + r * n, v.begin() + (r + 1) * n), {1, n}), F32(s, {n}),
                           F32(b, {n}), -1);
      ASSERT_TRUE(one.Run().ok());
      EXPECT_EQ(Bits(one.out()), std::vector<uint32_t>(all.begin() + r * n, all.begin() + (r + 1) * n))
          << "row " << r << " at " << simd::IsaName(isa);
    }
    // Against a double reference.
    for (int64_t r = 0; r < 8; ++r) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < n; ++i) mean += v[static_cast<size_t>(r * n + i)];
      mean /= static_cast<double>(n);
      for (int64_t i = 0; i < n; ++i) {
        const double dv = v[static_cast<size_t>(r * n + i)] - mean;
        var += dv * dv;
      }
      var /= static_cast<double>(n);
      for (int64_t i = 0; i < n; i += 13) {
        const double want = (v[static_cast<size_t>(r * n + i)] - mean) / std::sqrt(var + 1e-3) * s[static_cast<size_t>(i)] +
                            b[static_cast<size_t>(i)];
        EXPECT_NEAR(Values<float>(batch.out())[static_cast<size_t>(r * n + i)], want, 2e-3 * (1 + std::abs(want)));
      }
    }
  }
}

TEST(SimdReduceTest, InstanceBatchAndMeanVarianceNormalizationMatchScalar) {
  uint32_t seed = 500;
  for (int64_t hw : kExtents) {
    for (int64_t c : {int64_t{1}, int64_t{3}}) {
      const Shape shape = {2, c, hw, 1};
      const std::vector<float> v = RandomFloats(static_cast<size_t>(NumElements(shape)), seed++, true);
      std::vector<float> scale = RandomFloats(static_cast<size_t>(c), seed++);
      std::vector<float> bias = RandomFloats(static_cast<size_t>(c), seed++);
      std::vector<float> var = RandomFloats(static_cast<size_t>(c), seed++);
      for (float& f : var) f = std::abs(f) + 0.1f;
      for (int half = 0; half < 2; ++half) {
        const Tensor x = half ? F16(v, shape) : F32(v, shape);
        auto param = [&](const std::vector<float>& p) { return half ? F16(p, {c}) : F32(p, {c}); };
        ExpectBitwiseEverywhere("InstanceNormalization " + ShapeStr(shape), [&] {
          Op op("InstanceNormalization", 6);
          op.In(x).In(param(scale)).In(param(bias)).Attr("epsilon", FloatAttr(1e-4f));
          return op;
        });
        ExpectBitwiseEverywhere("BatchNormalization " + ShapeStr(shape), [&] {
          Op op("BatchNormalization", 15);
          op.In(x).In(param(scale)).In(param(bias)).In(param(bias)).In(param(var));
          return op;
        });
        ExpectBitwiseEverywhere("MeanVarianceNormalization " + ShapeStr(shape), [&] {
          Op op("MeanVarianceNormalization", 13);
          op.In(x);
          return op;
        });
        ExpectBitwiseEverywhere("MeanVarianceNormalization axes 2,3 " + ShapeStr(shape), [&] {
          Op op("MeanVarianceNormalization", 13);
          op.In(x).Attr("axes", IntsAttr({2, 3}));
          return op;
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Pooling

struct PoolCase {
  Shape shape;
  std::vector<int64_t> kernel, strides, pads, dilations;
  int ceil_mode = 0;
};

std::vector<PoolCase> PoolCases() {
  std::vector<PoolCase> cases;
  for (int64_t w : {1, 7, 16, 17, 33, 40}) {
    for (int64_t h : {1, 5}) {
      cases.push_back({{2, 3, h, w}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}});
      cases.push_back({{2, 3, h, w}, {1, 2}, {1, 1}, {0, 0, 0, 1}, {1, 1}});
      if (h >= 3) {
        cases.push_back({{2, 3, h, w}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}});
        cases.push_back({{1, 2, h, w}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1});
        cases.push_back({{1, 2, h, w}, {2, 3}, {1, 3}, {0, 2, 1, 0}, {1, 1}});
        if (w >= 3) cases.push_back({{1, 2, h, w}, {2, 2}, {2, 1}, {0, 0, 0, 0}, {2, 2}});
      }
      if (w >= 5) cases.push_back({{1, 2, h, w}, {1, 5}, {1, 2}, {0, 2, 0, 2}, {1, 1}, 1});
    }
    cases.push_back({{2, 2, w}, {3}, {2}, {1, 1}, {1}});                           // 1-D
    cases.push_back({{1, 2, 3, 4, w}, {2, 2, 3}, {1, 2, 1}, {1, 0, 1, 1, 0, 1}, {1, 1, 1}});  // 3-D
  }
  // Kernels wider than 16 positions (lanes reused within a window).
  cases.push_back({{1, 2, 9, 40}, {5, 5}, {1, 1}, {2, 2, 2, 2}, {1, 1}});
  cases.push_back({{1, 1, 3, 64}, {1, 20}, {1, 1}, {0, 0, 0, 0}, {1, 1}});
  return cases;
}

Op PoolOp(const char* name, const Tensor& x, const PoolCase& c, int include_pad, int outputs) {
  Op op(name, name == std::string("MaxPool") ? 12 : 11);
  op.In(x).Attr("kernel_shape", IntsAttr(c.kernel)).Attr("strides", IntsAttr(c.strides)).Attr("pads", IntsAttr(c.pads));
  op.Attr("ceil_mode", IntAttr(c.ceil_mode));
  if (name == std::string("MaxPool")) {
    op.Attr("dilations", IntsAttr(c.dilations)).Outputs(outputs);
  } else {
    op.Attr("count_include_pad", IntAttr(include_pad));
    bool unit = true;
    for (int64_t d : c.dilations) unit = unit && d == 1;
    if (!unit) op.Attr("dilations", IntsAttr(c.dilations));
  }
  return op;
}

TEST(SimdReduceTest, PoolsMatchScalar) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  uint32_t seed = 700;
  for (const PoolCase& c : PoolCases()) {
    std::vector<float> v = RandomFloats(static_cast<size_t>(NumElements(c.shape)), seed++, true);
    if (v.size() > 40) {
      v[7] = nan;
      v[v.size() / 2] = -0.0f;
      v[v.size() / 2 + 1] = 0.0f;
    }
    const std::string what = ShapeStr(c.shape) + " kernel " + ShapeStr(c.kernel) + " strides " +
                             ShapeStr(c.strides) + " pads " + ShapeStr(c.pads) + " dil " + ShapeStr(c.dilations) +
                             " ceil " + std::to_string(c.ceil_mode);
    for (int half = 0; half < 2; ++half) {
      const Tensor x = half ? BF16(v, c.shape) : F32(v, c.shape);
      for (int outputs : {1, 2})
        ExpectBitwiseEverywhere("MaxPool " + what, [&] { return PoolOp("MaxPool", x, c, 0, outputs); }, outputs);
      ExpectBitwiseEverywhere("MaxPool storage_order 1 " + what, [&] {
        Op op = PoolOp("MaxPool", x, c, 0, 2);
        op.Attr("storage_order", IntAttr(1));
        return op;
      }, 2);
      for (int include_pad : {0, 1})
        ExpectBitwiseEverywhere("AveragePool " + what, [&] { return PoolOp("AveragePool", x, c, include_pad, 1); });
    }
  }
}

// Random geometries (1-3 spatial dims, kernels, strides, dilations, asymmetric pads, ceil_mode).
TEST(SimdReduceTest, PoolsRandomGeometriesMatchScalar) {
  std::mt19937 rng(12345);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  int max_runs = 0, avg_runs = 0;
  for (int iter = 0; iter < 150; ++iter) {
    const int64_t S = pick(1, 3);
    PoolCase c;
    c.shape = {pick(1, 2), pick(1, 3)};
    c.pads.assign(static_cast<size_t>(2 * S), 0);
    for (int64_t d = 0; d < S; ++d) {
      const int64_t in = d == S - 1 ? pick(1, 70) : pick(1, 9);
      const int64_t k = pick(1, 5), dil = pick(1, 3), ek = (k - 1) * dil + 1;
      int64_t pb = pick(0, ek - 1), pe = pick(0, ek - 1);
      if (in + pb + pe < ek) pe = std::min(ek - 1, ek - in - pb + pe), pb = std::max<int64_t>(0, ek - in - pe);
      if (in + pb + pe < ek) pb = pe = ek - 1;
      c.shape.push_back(in);
      c.kernel.push_back(k);
      c.strides.push_back(pick(1, 3));
      c.dilations.push_back(dil);
      c.pads[static_cast<size_t>(d)] = pb;
      c.pads[static_cast<size_t>(d + S)] = pe;
    }
    c.ceil_mode = static_cast<int>(pick(0, 1));
    bool feasible = true;
    for (int64_t d = 0; d < S; ++d) {
      const size_t i = static_cast<size_t>(d);
      const int64_t ek = (c.kernel[i] - 1) * c.dilations[i] + 1;
      feasible = feasible && c.shape[i + 2] + c.pads[i] + c.pads[i + static_cast<size_t>(S)] >= ek;
    }
    if (!feasible) continue;
    std::vector<float> v = RandomFloats(static_cast<size_t>(NumElements(c.shape)), static_cast<uint32_t>(iter), true);
    const Tensor x = F32(v, c.shape);
    const std::string what = "random pool " + std::to_string(iter) + " " + ShapeStr(c.shape) + " kernel " +
                             ShapeStr(c.kernel) + " strides " + ShapeStr(c.strides) + " pads " + ShapeStr(c.pads) +
                             " dil " + ShapeStr(c.dilations) + " ceil " + std::to_string(c.ceil_mode);
    ExpectBitwiseEverywhere("MaxPool " + what, [&] { return PoolOp("MaxPool", x, c, 0, 2); }, 2);
    ++max_runs;
    PoolCase a = c;  // AveragePool: no dilations, pads below the kernel size
    a.dilations.assign(a.dilations.size(), 1);
    for (size_t i = 0; i < a.pads.size(); ++i)
      a.pads[i] = std::min(a.pads[i], a.kernel[i % a.kernel.size()] - 1);
    bool avg_ok = true;
    for (size_t i = 0; i < a.kernel.size(); ++i)
      avg_ok = avg_ok && a.shape[i + 2] + a.pads[i] + a.pads[i + a.kernel.size()] >= a.kernel[i];
    if (!avg_ok) continue;
    for (int include_pad : {0, 1})
      ExpectBitwiseEverywhere("AveragePool " + what, [&] { return PoolOp("AveragePool", x, a, include_pad, 1); });
    ++avg_runs;
  }
  EXPECT_GT(max_runs, 100);  // the sweep is not vacuous
  EXPECT_GT(avg_runs, 60);
  std::printf("random pool geometries: %d MaxPool, %d AveragePool\n", max_runs, avg_runs);
}

TEST(SimdReduceTest, PoolBatchRowIsBatchOneAndAgreesWithDouble) {
  IsaRestore restore;
  PoolCase c{{8, 4, 13, 37}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0};
  const int64_t plane = 4 * 13 * 37;
  const std::vector<float> v = RandomFloats(static_cast<size_t>(8 * plane), 31);
  for (Isa isa : SupportedIsas()) {
    ASSERT_TRUE(simd::SetIsa(isa).ok());
    for (const char* name : {"MaxPool", "AveragePool"}) {
      Op batch = PoolOp(name, F32(v, c.shape), c, 1, 1);
      ASSERT_TRUE(batch.Run(&SharedPools().t2).ok());
      const std::vector<uint32_t> all = Bits(batch.out());
      const size_t per = all.size() / 8;
      for (int64_t b = 0; b < 8; ++b) {
        PoolCase c1 = c;
        c1.shape[0] = 1;
        Op one = PoolOp(name, F32(std::vector<float>(v.begin() + b * plane, v.begin() + (b + 1) * plane), c1.shape), c1,
                        1, 1);
        ASSERT_TRUE(one.Run().ok());
        EXPECT_EQ(Bits(one.out()), std::vector<uint32_t>(all.begin() + static_cast<int64_t>(b * per),
                                                         all.begin() + static_cast<int64_t>((b + 1) * per)))
            << name << " sample " << b << " at " << simd::IsaName(isa);
      }
      // Double reference: output (n, ch, oh, ow), window rows 2 oh - 1 .. 2 oh + 1, padding counted.
      const std::vector<float> y = Values<float>(batch.out());
      const int64_t OH = 7, OW = 19;
      ASSERT_EQ(y.size(), static_cast<size_t>(8 * 4 * OH * OW));
      for (int64_t i = 0; i < static_cast<int64_t>(y.size()); i += 11) {
        const int64_t ow = i % OW, oh = (i / OW) % OH, pl = i / (OW * OH);
        double s = 0, m = -1e300;
        for (int64_t kh = 0; kh < 3; ++kh)
          for (int64_t kw = 0; kw < 3; ++kw) {
            const int64_t ih = 2 * oh - 1 + kh, iw = 2 * ow - 1 + kw;
            if (ih < 0 || ih >= 13 || iw < 0 || iw >= 37) continue;
            const double e = v[static_cast<size_t>(pl * 13 * 37 + ih * 37 + iw)];
            s += e;
            m = std::max(m, e);
          }
        const double want = name == std::string("MaxPool") ? m : s / 9.0;
        EXPECT_NEAR(y[static_cast<size_t>(i)], want, 1e-6) << name << " output " << i;
      }
    }
  }
}

TEST(SimdReduceTest, GlobalPoolsMatchScalar) {
  uint32_t seed = 900;
  for (int64_t hw : kExtents) {
    const Shape shape = {2, 3, hw, 1};
    std::vector<float> v = RandomFloats(static_cast<size_t>(NumElements(shape)), seed++, true);
    if (hw > 20) v[static_cast<size_t>(hw + 3)] = std::numeric_limits<float>::quiet_NaN();
    for (const char* name : {"GlobalAveragePool", "GlobalMaxPool"}) {
      for (int half = 0; half < 2; ++half) {
        const Tensor x = half ? F16(v, shape) : F32(v, shape);
        ExpectBitwiseEverywhere(std::string(name) + " " + ShapeStr(shape), [&] {
          Op op(name, 1);
          op.In(x);
          return op;
        });
      }
    }
  }
}

}  // namespace
}  // namespace idem::testing
