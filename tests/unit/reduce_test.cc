// Reduce family (Reduce*, ArgMax/ArgMin, CumSum, Softmax family, TopK, normalizations, losses):
// behaviour the ONNX conformance data does not cover — the canonical summation order, dtypes,
// empty reductions, NaN handling, old-opset forms, thread-count invariance and error paths.
// Expected values are computed by hand (comments show how).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "kernels/kernel.h"
#include "kernels/registry.h"
#include "kernel_test_util.h"

namespace idem {
namespace {

using namespace idem::testing;  // NOLINT(google-build-using-namespace): the shared test harness





constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// ---------------------------------------------------------------------------------------------
// Canonical order.

// [2^24, 1, 0, 1]: sequential order gives (2^24 + 1) + 0 + 1 = 2^24 (both additions round to even),
// the canonical 16-lane order adds the two ones first (lanes 1 and 3 meet at the w=2 step) and
// gives 2^24 + 2 = 16777218.
TEST(ReduceTest, SumUsesCanonicalLaneOrder) {
  Op op("ReduceSum", 11);
  op.In(F32({16777216.0f, 1.0f, 0.0f, 1.0f}, {4})).Attr("keepdims", IntAttr(0));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out(0).shape(), Shape{});
  EXPECT_EQ(Values<float>(op.out(0)), std::vector<float>{16777218.0f});
}

// The same four values along a strided axis (axis 0 of a [4, 2] tensor) give the same result:
// the order depends on the reduced extent only, not on the memory layout.
TEST(ReduceTest, SumOrderDoesNotDependOnLayout) {
  Op op("ReduceSum", 11);
  op.In(F32({16777216.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f}, {4, 2})).Attr("axes", IntsAttr({0}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out(0).shape(), (Shape{1, 2}));
  EXPECT_EQ(Values<float>(op.out(0)), (std::vector<float>{16777218.0f, 0.0f}));
}

// Several non-adjacent axes: axes {0, 2} of [2, 3, 2]; elements are x[i][j][k] = 100 i + 10 j + k.
TEST(ReduceTest, SumOverNonAdjacentAxes) {
  std::vector<float> x;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 2; ++k) x.push_back(static_cast<float>(100 * i + 10 * j + k));
  Op op("ReduceSum", 13);
  op.In(F32(x, {2, 3, 2})).In(I64({0, -1}, {2})).Attr("keepdims", IntAttr(0));
  ASSERT_TRUE(op.Run().ok());
  // out[j] = sum_i sum_k (100 i + 10 j + k) = 200 + 40 j + 2
  EXPECT_EQ(Values<float>(op.out(0)), (std::vector<float>{202.0f, 242.0f, 282.0f}));
}

// Size-1 axes between reduced axes: [2, 1, 3] with x[i][0][k] = 10 i + k.
TEST(ReduceTest, SizeOneAxesAndKeepdims) {
  const Tensor x = F32({0, 1, 2, 10, 11, 12}, {2, 1, 3});
  Op both("ReduceMax", 13), middle("ReduceMin", 13), sum("ReduceSum", 11);
  both.In(x).Attr("axes", IntsAttr({0, 2}));
  middle.In(x).Attr("axes", IntsAttr({1})).Attr("keepdims", IntAttr(0));
  sum.In(x).Attr("axes", IntsAttr({2, 0}));
  ASSERT_TRUE(both.Run().ok());
  ASSERT_TRUE(middle.Run().ok());
  ASSERT_TRUE(sum.Run().ok());
  EXPECT_EQ(both.out(0).shape(), (Shape{1, 1, 1}));
  EXPECT_EQ(Values<float>(both.out(0)), std::vector<float>{12});
  EXPECT_EQ(middle.out(0).shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(middle.out(0)), (std::vector<float>{0, 1, 2, 10, 11, 12}));
  EXPECT_EQ(Values<float>(sum.out(0)), std::vector<float>{36});
}

TEST(ReduceTest, ResultsDoNotDependOnThreadCount) {
  std::vector<float> x(64 * 300);
  uint32_t s = 12345;
  for (float& v : x) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<float>(static_cast<int32_t>(s >> 8) % 100000) * 1e-3f;
  }
  ThreadPool pool(4);
  for (const char* name : {"ReduceSum", "ReduceL2", "ReduceLogSumExp", "Softmax", "LogSoftmax"}) {
    for (int64_t axis : {0, 1}) {
      Op a(name, 13), b(name, 13);
      for (Op* op : {&a, &b}) {
        op->In(F32(x, {64, 300}));
        if (std::string(name).rfind("Reduce", 0) == 0) op->Attr("axes", IntsAttr({axis}));
        else op->Attr("axis", IntAttr(axis));
      }
      ASSERT_TRUE(a.Run(nullptr).ok());
      ASSERT_TRUE(b.Run(&pool).ok());
      EXPECT_TRUE(a.out(0).Equals(b.out(0))) << name << " axis " << axis;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Dtypes, empty sets, noop.

TEST(ReduceTest, IntegerSumWrapsAndMeanTruncates) {
  Op sum("ReduceSum", 11);
  sum.In(Tensor::FromVector<int8_t>({100, 100, 1}, {3})).Attr("keepdims", IntAttr(0));
  ASSERT_TRUE(sum.Run().ok());
  EXPECT_EQ(Values<int8_t>(sum.out(0)), std::vector<int8_t>{-55});  // 201 mod 256 = -55

  Op mean("ReduceMean", 11);
  mean.In(Tensor::FromVector<int32_t>({1, 2, -7, 0}, {2, 2})).Attr("axes", IntsAttr({1}));
  ASSERT_TRUE(mean.Run().ok());
  EXPECT_EQ(mean.out(0).shape(), (Shape{2, 1}));
  EXPECT_EQ(Values<int32_t>(mean.out(0)), (std::vector<int32_t>{1, -3}));  // 3/2, -7/2 truncated

  Op prod("ReduceProd", 11);
  prod.In(Tensor::FromVector<uint32_t>({65536u, 65536u, 3u, 5u}, {2, 2})).Attr("axes", IntsAttr({1}));
  ASSERT_TRUE(prod.Run().ok());
  EXPECT_EQ(Values<uint32_t>(prod.out(0)), (std::vector<uint32_t>{0u, 15u}));  // 2^32 wraps to 0

  Op l1("ReduceL1", 11);
  l1.In(Tensor::FromVector<int64_t>({-3, 4, -5}, {3}));
  ASSERT_TRUE(l1.Run().ok());
  EXPECT_EQ(Values<int64_t>(l1.out(0)), std::vector<int64_t>{12});

  Op l2("ReduceL2", 11);
  l2.In(Tensor::FromVector<int32_t>({3, -4, 1}, {3}));
  ASSERT_TRUE(l2.Run().ok());
  EXPECT_EQ(Values<int32_t>(l2.out(0)), std::vector<int32_t>{5});  // sqrt(26) = 5.09 truncated
}

TEST(ReduceTest, HalfTypesComputeInFloat) {
  // bf16 has 8 significant bits: 256 + 1 + 1 accumulated in f32 is 258 (representable in bf16),
  // while adding in bf16 would round 257 back to 256 twice.
  Op op("ReduceSum", 13);
  op.In(Tensor::FromVector<BFloat16>({FloatToBFloat16(256.0f), FloatToBFloat16(1.0f), FloatToBFloat16(1.0f)}, {3}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(BFloat16ToFloat(op.out(0).data<BFloat16>()[0]), 258.0f);

  Op mx("ReduceMax", 13);
  mx.In(Tensor::FromVector<Float16>({FloatToHalf(-1.5f), FloatToHalf(2.5f), FloatToHalf(0.0f)}, {3}));
  ASSERT_TRUE(mx.Run().ok());
  EXPECT_EQ(HalfToFloat(mx.out(0).data<Float16>()[0]), 2.5f);
}

TEST(ReduceTest, EmptyReductions) {
  struct Case {
    const char* op;
    float expected;
  };
  for (const Case& c : {Case{"ReduceSum", 0.0f}, Case{"ReduceSumSquare", 0.0f}, Case{"ReduceL1", 0.0f},
                        Case{"ReduceL2", 0.0f}, Case{"ReduceProd", 1.0f}, Case{"ReduceMax", -kInf},
                        Case{"ReduceMin", kInf}, Case{"ReduceLogSum", -kInf}, Case{"ReduceLogSumExp", -kInf}}) {
    Op op(c.op, 11);
    op.In(F32({}, {2, 0})).Attr("axes", IntsAttr({1})).Attr("keepdims", IntAttr(0));
    ASSERT_TRUE(op.Run().ok()) << c.op;
    ASSERT_EQ(op.out(0).numel(), 2) << c.op;
    EXPECT_EQ(op.out(0).data<float>()[0], c.expected) << c.op;
  }
  Op mean("ReduceMean", 13);
  mean.In(F32({}, {0})).Attr("keepdims", IntAttr(0));
  ASSERT_TRUE(mean.Run().ok());
  EXPECT_TRUE(std::isnan(mean.out(0).data<float>()[0]));

  Op imax("ReduceMax", 13);
  imax.In(Tensor::FromVector<int8_t>({}, {0}));
  ASSERT_TRUE(imax.Run().ok());
  EXPECT_EQ(Values<int8_t>(imax.out(0)), std::vector<int8_t>{-128});
}

TEST(ReduceTest, AxesInputAndNoop) {
  // No axes input, noop_with_empty_axes = 1: identity.
  Op noop("ReduceSum", 13);
  noop.In(F32({1, 2, 3, 4}, {2, 2})).Attr("noop_with_empty_axes", IntAttr(1));
  ASSERT_TRUE(noop.Run().ok());
  EXPECT_EQ(noop.out(0).shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<float>(noop.out(0)), (std::vector<float>{1, 2, 3, 4}));
  // Empty axes input without noop: reduce everything (keepdims keeps rank).
  Op all("ReduceSum", 13);
  all.In(F32({1, 2, 3, 4}, {2, 2})).In(I64({}, {0}));
  ASSERT_TRUE(all.Run().ok());
  EXPECT_EQ(all.out(0).shape(), (Shape{1, 1}));
  EXPECT_EQ(Values<float>(all.out(0)), std::vector<float>{10});
  // Opset 18 form of another Reduce*: axes as input.
  Op max18("ReduceMax", 18);
  max18.In(F32({1, 5, 3, 4}, {2, 2})).In(I64({1}, {1})).Attr("keepdims", IntAttr(0));
  ASSERT_TRUE(max18.Run().ok());
  EXPECT_EQ(Values<float>(max18.out(0)), (std::vector<float>{5, 4}));
}

TEST(ReduceTest, MaxMinPropagateNaN) {
  for (const char* name : {"ReduceMax", "ReduceMin"}) {
    Op op(name, 13);
    op.In(F32({1, kNaN, 3, 4, 5, 6}, {2, 3})).Attr("axes", IntsAttr({1})).Attr("keepdims", IntAttr(0));
    ASSERT_TRUE(op.Run().ok());
    EXPECT_TRUE(std::isnan(op.out(0).data<float>()[0])) << name;
    EXPECT_EQ(op.out(0).data<float>()[1], std::string(name) == "ReduceMax" ? 6.0f : 4.0f) << name;
  }
}

TEST(ReduceTest, LogSumExpIsStableForLargeInputs) {
  // log(e^1000 + e^1000) = 1000 + log 2; a naive evaluation overflows to inf.
  Op op("ReduceLogSumExp", 13);
  op.In(F32({1000.0f, 1000.0f}, {2})).Attr("keepdims", IntAttr(0));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_NEAR(op.out(0).data<float>()[0], 1000.6931f, 1e-3f);
}

TEST(ReduceTest, Errors) {
  Op dup("ReduceSum", 11);
  dup.In(F32({1, 2}, {2})).Attr("axes", IntsAttr({0, -1}));
  EXPECT_FALSE(dup.Run().ok());
  Op range("ReduceMean", 11);
  range.In(F32({1, 2}, {2})).Attr("axes", IntsAttr({1}));
  const Status st = range.Run();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("under_test"), std::string::npos) << st.message();
  Op str("ReduceSum", 11);
  str.In(Tensor::FromVector<bool>({true}, {1}));
  EXPECT_FALSE(str.Run().ok());
}

// ---------------------------------------------------------------------------------------------
// ArgMax / ArgMin / CumSum.

TEST(ArgMaxTest, NaNAndTies) {
  const Tensor x = F32({1, kNaN, 3, kNaN, 3}, {5});
  Op first("ArgMax", 13), last("ArgMax", 13), mn("ArgMin", 13), mn_last("ArgMin", 13);
  first.In(x).Attr("keepdims", IntAttr(0));
  last.In(x).Attr("keepdims", IntAttr(0)).Attr("select_last_index", IntAttr(1));
  mn.In(F32({2, 1, 1, 5}, {4}));
  mn_last.In(F32({2, 1, 1, 5}, {4})).Attr("select_last_index", IntAttr(1));
  for (Op* op : {&first, &last, &mn, &mn_last}) ASSERT_TRUE(op->Run().ok());
  EXPECT_EQ(Values<int64_t>(first.out(0)), std::vector<int64_t>{1});  // the first NaN
  EXPECT_EQ(Values<int64_t>(last.out(0)), std::vector<int64_t>{3});   // the last NaN
  EXPECT_EQ(mn.out(0).shape(), Shape{1});
  EXPECT_EQ(Values<int64_t>(mn.out(0)), std::vector<int64_t>{1});
  EXPECT_EQ(Values<int64_t>(mn_last.out(0)), std::vector<int64_t>{2});
}

TEST(ArgMaxTest, IntegerTypesAndEmptyAxis) {
  Op op("ArgMax", 11);
  op.In(Tensor::FromVector<uint8_t>({3, 250, 7, 9, 1, 9}, {2, 3})).Attr("axis", IntAttr(-1));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out(0).shape(), (Shape{2, 1}));
  EXPECT_EQ(Values<int64_t>(op.out(0)), (std::vector<int64_t>{1, 0}));
  Op empty("ArgMin", 11);
  empty.In(F32({}, {2, 0})).Attr("axis", IntAttr(1));
  EXPECT_FALSE(empty.Run().ok());
}

TEST(CumSumTest, IntegersExclusiveReverseAlongAxis0) {
  // x = [[1, 2], [3, 4], [5, 6]]; reverse exclusive along axis 0: row i = sum of rows below i.
  Op op("CumSum", 14);
  op.In(Tensor::FromVector<int32_t>({1, 2, 3, 4, 5, 6}, {3, 2}))
      .In(Tensor::FromVector<int32_t>({0}, {}))
      .Attr("exclusive", IntAttr(1))
      .Attr("reverse", IntAttr(1));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<int32_t>(op.out(0)), (std::vector<int32_t>{8, 10, 5, 6, 0, 0}));
}

TEST(CumSumTest, Float16AccumulatesInFloat) {
  // 2048 + 1 + 1: f16 spacing at 2048 is 2, so each prefix rounds, but the running sum does not:
  // prefixes 2048, 2049 -> 2048 (tie to even), 2050.
  Op op("CumSum", 14);
  op.In(Tensor::FromVector<Float16>({FloatToHalf(2048.0f), FloatToHalf(1.0f), FloatToHalf(1.0f)}, {3}))
      .In(I64({0}, {}));
  ASSERT_TRUE(op.Run().ok());
  const Float16* y = op.out(0).data<Float16>();
  EXPECT_EQ(HalfToFloat(y[0]), 2048.0f);
  EXPECT_EQ(HalfToFloat(y[1]), 2048.0f);
  EXPECT_EQ(HalfToFloat(y[2]), 2050.0f);
}

// ---------------------------------------------------------------------------------------------
// Softmax family, TopK.

TEST(SoftmaxTest, Opset11CoercesTo2DAndOpset13UsesOneAxis) {
  // x = log([1, 2, 3, 4]) as shape [1, 2, 2].
  const Tensor x = F32({0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)}, {1, 2, 2});
  Op old("Softmax", 11), cur("Softmax", 13);
  old.In(x).Attr("axis", IntAttr(1));  // rows of 4: [1, 2, 3, 4] / 10
  cur.In(x).Attr("axis", IntAttr(1));  // columns (1, 3) and (2, 4)
  ASSERT_TRUE(old.Run().ok());
  ASSERT_TRUE(cur.Run().ok());
  const std::vector<float> e_old = {0.1f, 0.2f, 0.3f, 0.4f};
  const std::vector<float> e_cur = {0.25f, 2.0f / 6.0f, 0.75f, 4.0f / 6.0f};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(old.out(0).data<float>()[i], e_old[i], 1e-6f);
    EXPECT_NEAR(cur.out(0).data<float>()[i], e_cur[i], 1e-6f);
  }
  Op log_old("LogSoftmax", 1);
  log_old.In(x);  // default axis 1 at opset 1: one row of 4
  ASSERT_TRUE(log_old.Run().ok());
  EXPECT_NEAR(log_old.out(0).data<float>()[3], std::log(0.4f), 1e-6f);
}

TEST(SoftmaxTest, HardmaxFirstMaxAndHalf) {
  Op op("Hardmax", 13);
  op.In(Tensor::FromVector<Float16>({FloatToHalf(1), FloatToHalf(3), FloatToHalf(3), FloatToHalf(-1)}, {2, 2}));
  ASSERT_TRUE(op.Run().ok());
  const Float16* y = op.out(0).data<Float16>();
  EXPECT_EQ(HalfToFloat(y[0]), 0.0f);
  EXPECT_EQ(HalfToFloat(y[1]), 1.0f);
  EXPECT_EQ(HalfToFloat(y[2]), 1.0f);
  EXPECT_EQ(HalfToFloat(y[3]), 0.0f);
}

TEST(TopKTest, TiesLowerIndexFirstLargestAndSmallest) {
  const Tensor x = F32({1, 3, 3, 2, 3}, {5});
  Op big("TopK", 11), small("TopK", 11);
  big.In(x).In(I64({3}, {1})).Outputs({true, true});
  small.In(x).In(I64({2}, {1})).Attr("largest", IntAttr(0)).Outputs({true, true});
  ASSERT_TRUE(big.Run().ok());
  ASSERT_TRUE(small.Run().ok());
  EXPECT_EQ(Values<float>(big.out(0)), (std::vector<float>{3, 3, 3}));
  EXPECT_EQ(Values<int64_t>(big.out(1)), (std::vector<int64_t>{1, 2, 4}));
  EXPECT_EQ(Values<float>(small.out(0)), (std::vector<float>{1, 2}));
  EXPECT_EQ(Values<int64_t>(small.out(1)), (std::vector<int64_t>{0, 3}));
}

TEST(TopKTest, Opset1AttributeIntegerInputAndErrors) {
  Op v1("TopK", 1);
  v1.In(F32({5, 1, 4, 2, 8, 0}, {2, 3})).Attr("k", IntAttr(1)).Attr("axis", IntAttr(0)).Outputs({true, true});
  ASSERT_TRUE(v1.Run().ok());
  EXPECT_EQ(v1.out(0).shape(), (Shape{1, 3}));
  EXPECT_EQ(Values<float>(v1.out(0)), (std::vector<float>{5, 8, 4}));
  EXPECT_EQ(Values<int64_t>(v1.out(1)), (std::vector<int64_t>{0, 1, 0}));

  Op ints("TopK", 11);
  ints.In(Tensor::FromVector<int64_t>({-5, 7, 0}, {3})).In(I64({2}, {1})).Outputs({true, true});
  ASSERT_TRUE(ints.Run().ok());
  EXPECT_EQ(Values<int64_t>(ints.out(0)), (std::vector<int64_t>{7, 0}));

  Op too_big("TopK", 11);
  too_big.In(F32({1, 2}, {2})).In(I64({3}, {1})).Outputs({true, true});
  EXPECT_FALSE(too_big.Run().ok());
}

// ---------------------------------------------------------------------------------------------
// Normalizations.

TEST(NormTest, BatchNormNonSpatialOpset6) {
  // X [1, 2, 2], spatial = 0: parameters per (channel, position).
  Op op("BatchNormalization", 6);
  op.In(F32({1, 2, 3, 4}, {1, 2, 2}))
      .In(F32({1, 2, 3, 4}, {2, 2}))       // scale
      .In(F32({0, 0, 1, 1}, {2, 2}))       // B
      .In(F32({1, 1, 1, 1}, {2, 2}))       // mean
      .In(F32({0, 0, 0, 0}, {2, 2}))       // var
      .Attr("spatial", IntAttr(0))
      .Attr("is_test", IntAttr(1))
      .Attr("epsilon", FloatAttr(1.0f));
  ASSERT_TRUE(op.Run().ok());
  // y = (x - 1) / sqrt(0 + 1) * scale + B
  EXPECT_EQ(Values<float>(op.out(0)), (std::vector<float>{0, 2, 7, 13}));
}

TEST(NormTest, BatchNormTrainingOutputsOpset9) {
  // X [2, 1]: batch mean 2, population variance 1; momentum 0.5.
  Op op("BatchNormalization", 9);
  op.In(F32({1, 3}, {2, 1})).In(F32({1}, {1})).In(F32({0}, {1})).In(F32({0}, {1})).In(F32({1}, {1}))
      .Attr("epsilon", FloatAttr(0.0f))
      .Attr("momentum", FloatAttr(0.5f))
      .Outputs({true, true, true, true, true});
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<float>(op.out(0)), (std::vector<float>{-1, 1}));
  EXPECT_EQ(Values<float>(op.out(1)), std::vector<float>{1.0f});  // 0 * 0.5 + 2 * 0.5
  EXPECT_EQ(Values<float>(op.out(2)), std::vector<float>{1.0f});  // 1 * 0.5 + 1 * 0.5
  EXPECT_EQ(Values<float>(op.out(3)), std::vector<float>{2.0f});
  EXPECT_EQ(Values<float>(op.out(4)), std::vector<float>{1.0f});
}

TEST(NormTest, LayerNormWithoutBiasAndStatistics) {
  // Rows [1, 3] and [0, 4]: means 2, 2; variances 1, 4; epsilon 0 -> inv_std 1, 0.5.
  Op op("LayerNormalization", 17);
  op.In(F32({1, 3, 0, 4}, {2, 2})).In(F32({2, 3}, {2})).Attr("epsilon", FloatAttr(0.0f)).Outputs({true, true, true});
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<float>(op.out(0)), (std::vector<float>{-2, 3, -2, 3}));
  EXPECT_EQ(op.out(1).shape(), (Shape{2, 1}));
  EXPECT_EQ(Values<float>(op.out(1)), (std::vector<float>{2, 2}));
  EXPECT_EQ(Values<float>(op.out(2)), (std::vector<float>{1, 0.5f}));
}

TEST(NormTest, InstanceNormAndMvn) {
  Op in("InstanceNormalization", 6);
  in.In(F32({1, 3, 5, 5}, {1, 2, 2})).In(F32({1, 2}, {2})).In(F32({0, 1}, {2})).Attr("epsilon", FloatAttr(0.0f));
  ASSERT_TRUE(in.Run().ok());
  // channel 0: mean 2, var 1 -> [-1, 1]; channel 1: var 0 -> (0 * inf) = NaN.
  EXPECT_EQ(in.out(0).data<float>()[0], -1.0f);
  EXPECT_EQ(in.out(0).data<float>()[1], 1.0f);

  Op mvn("MeanVarianceNormalization", 13);
  mvn.In(F32({1, 3, 10, 20}, {2, 2})).Attr("axes", IntsAttr({1}));
  ASSERT_TRUE(mvn.Run().ok());
  // row 0: mean 2, std 1 -> [-1, 1]; row 1: mean 15, std 5 -> [-1, 1] (up to the 1e-9 epsilon).
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(mvn.out(0).data<float>()[i], i % 2 ? 1.0f : -1.0f, 1e-6f);
}

TEST(NormTest, LrnWindowAtEdges) {
  // C = 3, size = 2: window of c is [c, c + 1] (floor(1/2) = 0 before, ceil(1/2) = 1 after).
  // alpha = 2, beta = 1, bias = 1: y = x / (1 + (2/2) * sum of squares).
  Op op("LRN", 13);
  op.In(F32({1, 2, 3}, {1, 3, 1, 1}))
      .Attr("size", IntAttr(2))
      .Attr("alpha", FloatAttr(2.0f))
      .Attr("beta", FloatAttr(1.0f))
      .Attr("bias", FloatAttr(1.0f));
  ASSERT_TRUE(op.Run().ok());
  const std::vector<float> y = Values<float>(op.out(0));
  EXPECT_NEAR(y[0], 1.0f / 6.0f, 1e-6f);   // 1 / (1 + 1 + 4)
  EXPECT_NEAR(y[1], 2.0f / 14.0f, 1e-6f);  // 2 / (1 + 4 + 9)
  EXPECT_NEAR(y[2], 3.0f / 10.0f, 1e-6f);  // 3 / (1 + 9)
}

// ---------------------------------------------------------------------------------------------
// Losses.

TEST(LossTest, NllMeanWithIgnoreIndexAndWeights) {
  // input [3, 2]; target [0, 1, 1] with ignore_index 1 -> only sample 0 counts.
  const Tensor input = F32({-1, -2, -3, -4, -5, -6}, {3, 2});
  Op op("NegativeLogLikelihoodLoss", 13);
  op.In(input).In(I64({0, 1, 1}, {3})).In(F32({0.5f, 2.0f}, {2})).Attr("ignore_index", IntAttr(1));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out(0).shape(), Shape{});
  EXPECT_EQ(Values<float>(op.out(0)), std::vector<float>{1.0f});  // (1 * 0.5) / 0.5

  Op none("NegativeLogLikelihoodLoss", 13);
  none.In(input).In(I64({0, 1, 0}, {3})).Attr("reduction", StringAttr("none"));
  ASSERT_TRUE(none.Run().ok());
  EXPECT_EQ(Values<float>(none.out(0)), (std::vector<float>{1, 4, 5}));

  Op bad("NegativeLogLikelihoodLoss", 13);
  bad.In(input).In(I64({0, 2, 0}, {3}));
  EXPECT_FALSE(bad.Run().ok());
  Op bad_shape("NegativeLogLikelihoodLoss", 13);
  bad_shape.In(input).In(I64({0, 1}, {2}));
  EXPECT_FALSE(bad_shape.Run().ok());
}

TEST(LossTest, SoftmaxCrossEntropySumAndLogProb) {
  // Two equal scores: log_prob = -log 2 everywhere; sum over 2 samples = 2 log 2.
  Op op("SoftmaxCrossEntropyLoss", 13);
  op.In(F32({5, 5, -1, -1}, {2, 2})).In(Tensor::FromVector<int32_t>({1, 0}, {2}))
      .Attr("reduction", StringAttr("sum")).Outputs({true, true});
  ASSERT_TRUE(op.Run().ok());
  EXPECT_NEAR(op.out(0).data<float>()[0], 2.0f * std::log(2.0f), 1e-6f);
  ASSERT_EQ(op.out(1).shape(), (Shape{2, 2}));
  for (float v : Values<float>(op.out(1))) EXPECT_NEAR(v, -std::log(2.0f), 1e-6f);
}

}  // namespace
}  // namespace idem
