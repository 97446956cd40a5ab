// Tensor family (shape manipulation, indexing, data movement, resize): behaviour the ONNX
// conformance data does not cover — old-opset forms, string/bool/f16 dtypes, zero-copy views,
// clamping and negative steps, pad modes with large and negative pads, reductions of scatters,
// error paths for indices from data, and thread-count invariance. Expected values are worked out
// by hand (comments show how) or copied from NumPy where noted.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "kernels/kernel.h"
#include "kernels/registry.h"
#include "kernel_test_util.h"

namespace idem {
namespace {

using namespace idem::testing;  // NOLINT(google-build-using-namespace): the shared test harness



std::vector<std::string> Strings(const Tensor& t) { return Values<std::string>(t); }

Tensor Str(std::vector<std::string> v, Shape s) { return Tensor::FromVector<std::string>(v, std::move(s)); }
Tensor Iota(Shape s) {
  std::vector<float> v(static_cast<size_t>(NumElements(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return F32(v, std::move(s));
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

void ExpectInvalid(Op& op, const std::string& fragment) {
  const Status st = op.Run();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.message();
  EXPECT_NE(st.message().find(fragment), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("under_test"), std::string::npos) << st.message();
}

// ---------------------------------------------------------------------------------------------
// Views: Reshape / Squeeze / Unsqueeze / Flatten / Identity.

// Reshape-1 reads `shape` from an attribute: 0 copies the dimension, -1 is inferred (24 / 2 = 12).
// The output shares the input's buffer.
TEST(TensorTest, ReshapeOpset1AttributeAndZeroCopy) {
  const Tensor x = Iota({2, 3, 4});
  Op op("Reshape", 1);
  op.In(x).Attr("shape", IntsAttr({0, -1}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out().shape(), (Shape{2, 12}));
  EXPECT_EQ(op.out().raw(), x.raw());
}

// allowzero=1 (opset 14): 0 is a real zero dimension; [0, 3] -> [3, 0] is valid.
TEST(TensorTest, ReshapeAllowZero) {
  Op op("Reshape", 14);
  op.In(Tensor::Make(DType::kF32, {0, 3})).In(I64({3, 0}, {2})).Attr("allowzero", IntAttr(1));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out().shape(), (Shape{3, 0}));
}

TEST(TensorTest, ReshapeErrors) {
  Op bad_count("Reshape", 13);
  bad_count.In(Iota({2, 3})).In(I64({4}, {1}));
  ExpectInvalid(bad_count, "cannot reshape");
  Op two_infer("Reshape", 13);
  two_infer.In(Iota({2, 3})).In(I64({-1, -1}, {2}));
  ExpectInvalid(two_infer, "more than one -1");
  Op zero_and_infer("Reshape", 14);
  zero_and_infer.In(Tensor::Make(DType::kF32, {0, 3})).In(I64({0, -1}, {2})).Attr("allowzero", IntAttr(1));
  ExpectInvalid(zero_and_infer, "cannot infer");
}

TEST(TensorTest, SqueezeUnsqueezeOpset1Attributes) {
  Op sq("Squeeze", 1);
  sq.In(Iota({1, 3, 1})).Attr("axes", IntsAttr({0}));
  ASSERT_TRUE(sq.Run().ok());
  EXPECT_EQ(sq.out().shape(), (Shape{3, 1}));

  Op sq_all("Squeeze", 13);  // no axes: every size-1 dimension goes
  sq_all.In(Iota({1, 3, 1}));
  ASSERT_TRUE(sq_all.Run().ok());
  EXPECT_EQ(sq_all.out().shape(), (Shape{3}));

  Op sq_bad("Squeeze", 11);
  sq_bad.In(Iota({1, 3})).Attr("axes", IntsAttr({1}));
  ExpectInvalid(sq_bad, "not 1");

  Op un("Unsqueeze", 1);  // axes index the output: [2, 3] -> [1, 2, 3, 1]
  un.In(Iota({2, 3})).Attr("axes", IntsAttr({0, 3}));
  ASSERT_TRUE(un.Run().ok());
  EXPECT_EQ(un.out().shape(), (Shape{1, 2, 3, 1}));

  Op un_dup("Unsqueeze", 13);
  un_dup.In(Iota({2})).In(I64({0, -3}, {2}));  // output rank 3: -3 is 0 again
  ExpectInvalid(un_dup, "more than once");
}

TEST(TensorTest, FlattenAxisZeroAndRank) {
  Op a0("Flatten", 1);
  a0.In(Iota({2, 3})).Attr("axis", IntAttr(0));
  ASSERT_TRUE(a0.Run().ok());
  EXPECT_EQ(a0.out().shape(), (Shape{1, 6}));
  Op ar("Flatten", 13);
  ar.In(Iota({2, 3})).Attr("axis", IntAttr(2));
  ASSERT_TRUE(ar.Run().ok());
  EXPECT_EQ(ar.out().shape(), (Shape{6, 1}));
}

TEST(TensorTest, IdentityPassesSequencesAndEmptyOptionals) {
  TensorSequence seq;
  seq.elem = DType::kF32;
  seq.items = {Iota({2}), Iota({3})};
  Op op("Identity", 16);
  op.InValue(seq);
  ASSERT_TRUE(op.Run().ok());
  ASSERT_TRUE(IsSequence(op.out_value()));
  EXPECT_EQ(std::get<TensorSequence>(op.out_value()).items.size(), 2u);

  Op none("Identity", 16);
  none.InValue(RtValue());
  ASSERT_TRUE(none.Run().ok());
  EXPECT_TRUE(IsNone(none.out_value()));
}

TEST(TensorTest, ShapeStartEndClamp) {
  Op op("Shape", 15);
  op.In(Iota({2, 3, 4, 5})).Attr("start", IntAttr(-3)).Attr("end", IntAttr(100));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<int64_t>(op.out()), (std::vector<int64_t>{3, 4, 5}));
}

// ---------------------------------------------------------------------------------------------
// Constants.

TEST(TensorTest, ConstantValueAttributes) {
  Op floats("Constant", 13);
  floats.Attr("value_floats", FloatsAttr({1.5f, -2.0f}));
  ASSERT_TRUE(floats.Run().ok());
  EXPECT_EQ(floats.out().shape(), (Shape{2}));
  EXPECT_EQ(Values<float>(floats.out()), (std::vector<float>{1.5f, -2.0f}));

  Op i("Constant", 13);
  i.Attr("value_int", IntAttr(7));
  ASSERT_TRUE(i.Run().ok());
  EXPECT_EQ(i.out().dtype(), DType::kI64);
  EXPECT_EQ(i.out().shape(), Shape{});

  Op s("Constant", 13);
  s.Attr("value_strings", StringsAttr({"a", "bc"}));
  ASSERT_TRUE(s.Run().ok());
  EXPECT_EQ(Strings(s.out()), (std::vector<std::string>{"a", "bc"}));

  Op two("Constant", 13);
  two.Attr("value_int", IntAttr(1)).Attr("value_float", FloatAttr(1));
  ExpectInvalid(two, "exactly one");
}

TEST(TensorTest, ConstantOfShapeDtypeAndScalar) {
  Op op("ConstantOfShape", 9);
  op.In(I64({2, 2}, {2})).Attr("value", TensorAttr(Tensor::FromVector<int32_t>({-3}, {1})));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out().dtype(), DType::kI32);
  EXPECT_EQ(Values<int32_t>(op.out()), (std::vector<int32_t>{-3, -3, -3, -3}));

  Op scalar("ConstantOfShape", 9);  // empty shape -> a scalar, default value float 0
  scalar.In(I64({}, {0}));
  ASSERT_TRUE(scalar.Run().ok());
  EXPECT_EQ(scalar.out().shape(), Shape{});
  EXPECT_EQ(scalar.out().dtype(), DType::kF32);
  EXPECT_EQ(Values<float>(scalar.out()), (std::vector<float>{0.0f}));
}

TEST(TensorTest, EyeLikeBoolWithOffset) {
  Op op("EyeLike", 9);
  op.In(Iota({2, 3})).Attr("dtype", IntAttr(static_cast<int64_t>(DType::kBool))).Attr("k", IntAttr(1));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out().dtype(), DType::kBool);
  EXPECT_EQ(Values<bool>(op.out()), (std::vector<bool>{false, true, false, false, false, true}));
}

// ---------------------------------------------------------------------------------------------
// Data movement.

TEST(TensorTest, TransposeStrings) {
  Op op("Transpose", 13);
  op.In(Str({"a", "b", "c", "d", "e", "f"}, {2, 3}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out().shape(), (Shape{3, 2}));
  EXPECT_EQ(Strings(op.out()), (std::vector<std::string>{"a", "d", "b", "e", "c", "f"}));
}

TEST(TensorTest, TransposeRejectsNonPermutation) {
  Op op("Transpose", 13);
  op.In(Iota({2, 3})).Attr("perm", IntsAttr({0, 0}));
  ExpectInvalid(op, "not a permutation");
}

// Slice-1: attributes; ends beyond the dimension clamp to it.
TEST(TensorTest, SliceOpset1Attributes) {
  Op op("Slice", 1);
  op.In(Iota({10})).Attr("starts", IntsAttr({2})).Attr("ends", IntsAttr({1000})).Attr("axes", IntsAttr({0}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<float>(op.out()), (std::vector<float>{2, 3, 4, 5, 6, 7, 8, 9}));
}

// Negative step from the end to "before the beginning": start -1 -> 9, end -100 clamps to -1,
// step -3 gives 9, 6, 3, 0. INT64 extremes clamp without overflow.
TEST(TensorTest, SliceNegativeStepAndExtremes) {
  Op op("Slice", 13);
  op.In(Iota({10})).In(I64({-1}, {1})).In(I64({-100}, {1})).In(I64({0}, {1})).In(I64({-3}, {1}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<float>(op.out()), (std::vector<float>{9, 6, 3, 0}));

  Op ext("Slice", 13);  // rows kMin..kMax step kMax: just row 0; columns reversed entirely
  ext.In(Iota({2, 3}))
      .In(I64({kMin, kMax}, {2}))
      .In(I64({kMax, kMin}, {2}))
      .In(I64({0, 1}, {2}))
      .In(I64({kMax, -1}, {2}));
  ASSERT_TRUE(ext.Run().ok());
  EXPECT_EQ(ext.out().shape(), (Shape{1, 3}));
  EXPECT_EQ(Values<float>(ext.out()), (std::vector<float>{2, 1, 0}));

  Op zero_step("Slice", 13);
  zero_step.In(Iota({4})).In(I64({0}, {1})).In(I64({4}, {1})).In(I64({0}, {1})).In(I64({0}, {1}));
  ExpectInvalid(zero_step, "steps[0] is 0");
}

TEST(TensorTest, SplitForms) {
  Op attr("Split", 2);  // split attribute
  attr.In(Iota({3})).Attr("split", IntsAttr({1, 2})).NumOutputs(2);
  ASSERT_TRUE(attr.Run().ok());
  EXPECT_EQ(Values<float>(attr.out(0)), (std::vector<float>{0}));
  EXPECT_EQ(Values<float>(attr.out(1)), (std::vector<float>{1, 2}));

  Op equal_bad("Split", 13);
  equal_bad.In(Iota({5})).NumOutputs(2);
  ExpectInvalid(equal_bad, "equal parts");

  Op sum_bad("Split", 13);
  sum_bad.In(Iota({5})).In(I64({2, 2}, {2})).NumOutputs(2);
  ExpectInvalid(sum_bad, "sums to 4");
}

TEST(TensorTest, ConcatStringsAndShapeMismatch) {
  Op op("Concat", 13);
  op.In(Str({"a", "b"}, {2, 1})).In(Str({"c", "d", "e", "f"}, {2, 2})).Attr("axis", IntAttr(-1));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Strings(op.out()), (std::vector<std::string>{"a", "c", "d", "b", "e", "f"}));

  Op bad("Concat", 13);
  bad.In(Iota({2, 1})).In(Iota({3, 1})).Attr("axis", IntAttr(1));
  ExpectInvalid(bad, "does not match");
}

// Pad-2 (attribute `pads`, `value`) in reflect mode with pads larger than the dimension: the
// reflection repeats with period 2 (n - 1) = 4, as numpy.pad([1, 2, 3], 4, 'reflect') gives
// [1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3].
TEST(TensorTest, PadReflectLargePads) {
  Op op("Pad", 2);
  op.In(F32({1, 2, 3}, {3})).Attr("pads", IntsAttr({4, 4})).Attr("mode", StringAttr("reflect"));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<float>(op.out()), (std::vector<float>{1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3}));
}

TEST(TensorTest, PadNegativeCropsAndEdge) {
  Op crop("Pad", 11);  // begin -1 crops the first element, end +2 appends the constant 9
  crop.In(I32({1, 2, 3, 4, 5}, {5})).In(I64({-1, 2}, {2})).In(I32({9}, {}));
  ASSERT_TRUE(crop.Run().ok());
  EXPECT_EQ(Values<int32_t>(crop.out()), (std::vector<int32_t>{2, 3, 4, 5, 9, 9}));

  Op edge("Pad", 13);
  edge.In(Str({"x", "y"}, {2})).In(I64({2, 1}, {2})).Attr("mode", StringAttr("edge"));
  ASSERT_TRUE(edge.Run().ok());
  EXPECT_EQ(Strings(edge.out()), (std::vector<std::string>{"x", "x", "x", "y", "y"}));

  Op pad1("Pad", 1);  // Pad-1 calls the attribute `paddings`
  pad1.In(F32({1}, {1})).Attr("paddings", IntsAttr({1, 0})).Attr("value", FloatAttr(-0.5f));
  ASSERT_TRUE(pad1.Run().ok());
  EXPECT_EQ(Values<float>(pad1.out()), (std::vector<float>{-0.5f, 1}));

  Op too_negative("Pad", 11);
  too_negative.In(Iota({2})).In(I64({-2, -1}, {2}));
  ExpectInvalid(too_negative, "negative size");
}

// Tile-1: inputs (tiles, axis) repeat along one axis.
TEST(TensorTest, TileOpset1) {
  Op op("Tile", 1);
  op.In(F32({1, 2}, {1, 2})).In(F32({3}, {})).In(F32({0}, {}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out().shape(), (Shape{3, 2}));
  EXPECT_EQ(Values<float>(op.out()), (std::vector<float>{1, 2, 1, 2, 1, 2}));
}

TEST(TensorTest, ExpandBool) {
  Op op("Expand", 13);
  op.In(Tensor::FromVector<bool>({true, false}, {2, 1})).In(I64({2, 3}, {2}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<bool>(op.out()), (std::vector<bool>{true, true, true, false, false, false}));
}

TEST(TensorTest, TriluStringsAndHugeK) {
  Op op("Trilu", 14);
  op.In(Str({"a", "b", "c", "d"}, {2, 2})).In(I64({kMax}, {})).Attr("upper", IntAttr(0));
  ASSERT_TRUE(op.Run().ok());  // lower with k = +inf keeps everything
  EXPECT_EQ(Strings(op.out()), (std::vector<std::string>{"a", "b", "c", "d"}));
  Op up("Trilu", 14);
  up.In(Iota({2, 3})).In(I64({kMin}, {}));
  ASSERT_TRUE(up.Run().ok());  // upper with k = -inf keeps everything too
  EXPECT_EQ(Values<float>(up.out()), (std::vector<float>{0, 1, 2, 3, 4, 5}));
}

TEST(TensorTest, ReverseSequenceRejectsLongSequence) {
  Op op("ReverseSequence", 10);
  op.In(Iota({3, 2})).In(I64({4, 1}, {2}));
  ExpectInvalid(op, "out of range");
}

// ---------------------------------------------------------------------------------------------
// Indexing.

TEST(TensorTest, GatherStringsNegativeAndOutOfRange) {
  Op op("Gather", 13);
  op.In(Str({"a", "b", "c"}, {3})).In(I64({-1, 0}, {2}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Strings(op.out()), (std::vector<std::string>{"c", "a"}));

  Op bad("Gather", 13);
  bad.In(Iota({3})).In(I32({3}, {1}));
  ExpectInvalid(bad, "out of range");
  Op bad_neg("Gather", 13);
  bad_neg.In(Iota({3})).In(I64({-4}, {1}));
  ExpectInvalid(bad_neg, "out of range");
}

TEST(TensorTest, GatherElementsAndNDOutOfRange) {
  Op ge("GatherElements", 13);
  ge.In(Iota({2, 2})).In(I64({0, 2}, {1, 2})).Attr("axis", IntAttr(1));
  ExpectInvalid(ge, "out of range");
  Op gnd("GatherND", 13);
  gnd.In(Iota({2, 2})).In(I64({1, -3}, {1, 2}));
  ExpectInvalid(gnd, "out of range");
}

// Duplicate indices: updates apply in row-major order of `updates`.
// add: 1 + 10 + 20 = 31; mul: 2 * 3 * 4 = 24.
TEST(TensorTest, ScatterElementsReductions) {
  Op add("ScatterElements", 16);
  add.In(F32({1, 2}, {2})).In(I64({0, 0}, {2})).In(F32({10, 20}, {2})).Attr("reduction", StringAttr("add"));
  ASSERT_TRUE(add.Run().ok());
  EXPECT_EQ(Values<float>(add.out()), (std::vector<float>{31, 2}));

  Op mul("ScatterElements", 16);
  mul.In(I32({2, 5}, {2})).In(I64({0, -2}, {2})).In(I32({3, 4}, {2})).Attr("reduction", StringAttr("mul"));
  ASSERT_TRUE(mul.Run().ok());
  EXPECT_EQ(Values<int32_t>(mul.out()), (std::vector<int32_t>{24, 5}));

  Op none("ScatterElements", 13);  // duplicates without reduction: the last update wins
  none.In(Str({"a", "b"}, {2})).In(I64({1, 1}, {2})).In(Str({"x", "y"}, {2}));
  ASSERT_TRUE(none.Run().ok());
  EXPECT_EQ(Strings(none.out()), (std::vector<std::string>{"a", "y"}));

  Op bad("Scatter", 9);
  bad.In(Iota({2})).In(I64({2}, {1})).In(F32({1}, {1}));
  ExpectInvalid(bad, "out of range");
}

// f16 add rounds at every step (RNE): 2048 + 1 = 2049 is not a half (ties to even: 2048), twice.
TEST(TensorTest, ScatterNDAddHalfRoundsPerUpdate) {
  const Float16 big = FloatToHalf(2048.0f), one = FloatToHalf(1.0f);
  Op op("ScatterND", 16);
  op.In(Tensor::FromVector<Float16>({big}, {1}))
      .In(I64({0, 0}, {2, 1}))
      .In(Tensor::FromVector<Float16>({one, one}, {2}))
      .Attr("reduction", StringAttr("add"));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out().data<Float16>()[0].bits, big.bits);

  Op bad("ScatterND", 13);
  bad.In(Iota({2, 2})).In(I64({0, 5}, {1, 2})).In(F32({1}, {1}));
  ExpectInvalid(bad, "out of range");
}

// Indices outside [-depth, depth) give an all-"off" vector; floating indices truncate.
TEST(TensorTest, OneHotOutOfRangeAndStrings) {
  Op op("OneHot", 11);
  op.In(F32({1.7f, 5.0f, -1.0f}, {3})).In(F32({3}, {})).In(Str({"off", "on"}, {2}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out().shape(), (Shape{3, 3}));
  EXPECT_EQ(Strings(op.out()),
            (std::vector<std::string>{"off", "on", "off", "off", "off", "off", "off", "off", "on"}));
}

TEST(TensorTest, CompressStringsWithoutAxisAndLongCondition) {
  Op op("Compress", 11);
  op.In(Str({"a", "b", "c", "d"}, {2, 2})).In(Tensor::FromVector<bool>({false, true, true}, {3}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Strings(op.out()), (std::vector<std::string>{"b", "c"}));

  Op bad("Compress", 11);
  bad.In(Iota({2})).In(Tensor::FromVector<bool>({false, false, true}, {3}));
  ExpectInvalid(bad, "selects index 2");
}

TEST(TensorTest, NonZeroScalarAndStrings) {
  Op op("NonZero", 13);
  op.In(F32({-0.0f}, {}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out().shape(), (Shape{1, 0}));
  Op s("NonZero", 13);
  s.In(Str({"", "x", "y", ""}, {2, 2}));
  ASSERT_TRUE(s.Run().ok());
  EXPECT_EQ(s.out().shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<int64_t>(s.out()), (std::vector<int64_t>{0, 1, 1, 0}));  // rows [0, 1], cols [1, 0]
}

// Unique of ["b", "a", "b", "c"]: sorted Y [a, b, c], first indices [1, 0, 3], inverse
// [1, 0, 1, 2], counts [1, 2, 1]; unsorted keeps first-occurrence order [b, a, c].
TEST(TensorTest, UniqueStringsSortedAndUnsorted) {
  Op op("Unique", 11);
  op.In(Str({"b", "a", "b", "c"}, {4})).NumOutputs(4);
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Strings(op.out(0)), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Values<int64_t>(op.out(1)), (std::vector<int64_t>{1, 0, 3}));
  EXPECT_EQ(Values<int64_t>(op.out(2)), (std::vector<int64_t>{1, 0, 1, 2}));
  EXPECT_EQ(Values<int64_t>(op.out(3)), (std::vector<int64_t>{1, 2, 1}));

  Op un("Unique", 11);
  un.In(Str({"b", "a", "b", "c"}, {4})).Attr("sorted", IntAttr(0)).NumOutputs(4);
  ASSERT_TRUE(un.Run().ok());
  EXPECT_EQ(Strings(un.out(0)), (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ(Values<int64_t>(un.out(1)), (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(Values<int64_t>(un.out(2)), (std::vector<int64_t>{0, 1, 0, 2}));
  EXPECT_EQ(Values<int64_t>(un.out(3)), (std::vector<int64_t>{2, 1, 1}));
}

// NaNs sort last and are one group (as numpy.unique with equal_nan).
TEST(TensorTest, UniqueNaN) {
  Op op("Unique", 11);
  op.In(F32({kNaN, 1.0f, kNaN}, {3})).NumOutputs(4);
  ASSERT_TRUE(op.Run().ok());
  const std::vector<float> y = Values<float>(op.out(0));
  ASSERT_EQ(y.size(), 2u);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_TRUE(std::isnan(y[1]));
  EXPECT_EQ(Values<int64_t>(op.out(3)), (std::vector<int64_t>{1, 2}));
}

TEST(TensorTest, RangeZeroDeltaAndEmpty) {
  Op zero("Range", 11);
  zero.In(F32({0}, {})).In(F32({1}, {})).In(F32({0}, {}));
  ExpectInvalid(zero, "delta");
  Op empty("Range", 11);  // limit below start with a positive delta: no elements
  empty.In(I64({5}, {})).In(I64({1}, {})).In(I64({2}, {}));
  ASSERT_TRUE(empty.Run().ok());
  EXPECT_EQ(empty.out().shape(), (Shape{0}));
}

// ---------------------------------------------------------------------------------------------
// Resize / Upsample / GridSample.

// Resize-10 (and Upsample) nearest: asymmetric coordinates, floor when upsampling and ceil when
// downsampling. Scale 0.6 on 5 elements: out 3, x = o / 0.6 = 0, 1.67, 3.33 -> 0, 2, 4.
TEST(TensorTest, ResizeOpset10NearestDownsampleUsesCeil) {
  Op op("Resize", 10);
  op.In(F32({10, 11, 12, 13, 14}, {1, 5})).In(F32({1.0f, 0.6f}, {2}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<float>(op.out()), (std::vector<float>{10, 12, 14}));
}

// Upsample-7 (attribute scales) and Upsample-1 (height_scale/width_scale) nearest: x / 2 floored.
TEST(TensorTest, UpsampleOldForms) {
  Op op7("Upsample", 7);
  op7.In(F32({1, 2}, {1, 2})).Attr("scales", FloatsAttr({1.0f, 2.0f}));
  ASSERT_TRUE(op7.Run().ok());
  EXPECT_EQ(Values<float>(op7.out()), (std::vector<float>{1, 1, 2, 2}));

  Op op1("Upsample", 1);
  op1.In(F32({1, 2}, {1, 1, 1, 2})).Attr("height_scale", FloatAttr(2)).Attr("width_scale", FloatAttr(1));
  ASSERT_TRUE(op1.Run().ok());
  EXPECT_EQ(op1.out().shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(Values<float>(op1.out()), (std::vector<float>{1, 2, 1, 2}));
}

// Linear half_pixel, scale 2 on [1, 2]: x = (o + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25;
// neighbours clamp to the edge: 1, 0.75*1 + 0.25*2 = 1.25, 1.75, 2 (exact in f16).
TEST(TensorTest, ResizeLinearHalf) {
  Op op("Resize", 13);
  op.In(Tensor::FromVector<Float16>({FloatToHalf(1), FloatToHalf(2)}, {2}))
      .In(Tensor())
      .In(F32({2.0f}, {1}))
      .Attr("mode", StringAttr("linear"));
  ASSERT_TRUE(op.Run().ok());
  std::vector<float> got;
  for (const Float16 h : Values<Float16>(op.out())) got.push_back(HalfToFloat(h));
  EXPECT_EQ(got, (std::vector<float>{1, 1.25f, 1.75f, 2}));
}

TEST(TensorTest, ResizeNearestStringsAndErrors) {
  Op op("Resize", 13);
  op.In(Str({"a", "b"}, {2})).In(Tensor()).In(Tensor()).In(I64({4}, {1}));
  ASSERT_TRUE(op.Run().ok());  // half_pixel, round_prefer_floor: x = -0.25, 0.25, 0.75, 1.25
  EXPECT_EQ(Strings(op.out()), (std::vector<std::string>{"a", "a", "b", "b"}));

  Op both("Resize", 13);
  both.In(Iota({2})).In(Tensor()).In(F32({2}, {1})).In(I64({4}, {1}));
  ExpectInvalid(both, "only one of scales and sizes");
  Op linear_str("Resize", 13);
  linear_str.In(Str({"a", "b"}, {2})).In(Tensor()).In(F32({2}, {1})).Attr("mode", StringAttr("linear"));
  EXPECT_FALSE(linear_str.Run().ok());
}

// tf_crop_and_resize: roi [0.5, 1.5] on 3 elements, 2 outputs: x = 0.5*2 + o*1*2/1 = 1, 3; 3 is
// outside [0, 2] and takes the extrapolation value.
TEST(TensorTest, ResizeTfCropAndResizeExtrapolates) {
  Op op("Resize", 13);
  op.In(F32({0, 10, 20}, {3}))
      .In(F32({0.5f, 1.5f}, {2}))
      .In(Tensor())
      .In(I64({2}, {1}))
      .Attr("mode", StringAttr("linear"))
      .Attr("coordinate_transformation_mode", StringAttr("tf_crop_and_resize"))
      .Attr("extrapolation_value", FloatAttr(-1));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<float>(op.out()), (std::vector<float>{10, -1}));
}

// A NaN grid coordinate samples nothing; nearest mode works on strings (zeros padding -> "").
TEST(TensorTest, GridSampleNaNAndStrings) {
  Op op("GridSample", 16);
  op.In(F32({1, 2, 3, 4}, {1, 1, 2, 2})).In(F32({kNaN, 0, 0, 0}, {1, 1, 2, 2}));
  ASSERT_TRUE(op.Run().ok());
  // Second point (0, 0) is the image centre: the average of the four pixels.
  EXPECT_EQ(Values<float>(op.out()), (std::vector<float>{0, 2.5f}));

  Op s("GridSample", 16);
  s.In(Str({"a", "b", "c", "d"}, {1, 1, 2, 2}))
      .In(F32({-1, -1, 1, 1, 5, 5}, {1, 1, 3, 2}))
      .Attr("mode", StringAttr("nearest"))
      .Attr("align_corners", IntAttr(1));
  ASSERT_TRUE(s.Run().ok());
  EXPECT_EQ(Strings(s.out()), (std::vector<std::string>{"a", "d", ""}));
}

// ---------------------------------------------------------------------------------------------
// Empty tensors: every op accepts zero-size dimensions and produces the right (empty) shapes.

TEST(TensorTest, ZeroSizeTensors) {
  const Tensor e = Tensor::Make(DType::kF32, {0, 3});
  struct Case {
    Op op;
    Shape expect;
  };
  std::vector<Case> cases;
  cases.push_back({Op("Transpose", 13), {3, 0}});
  cases.back().op.In(e);
  cases.push_back({Op("Gather", 13), {0, 0}});
  cases.back().op.In(e).In(I64({}, {0})).Attr("axis", IntAttr(1));
  cases.push_back({Op("Concat", 13), {2, 3}});
  cases.back().op.In(e).In(Iota({2, 3})).Attr("axis", IntAttr(0));
  cases.push_back({Op("Pad", 13), {2, 3}});
  cases.back().op.In(e).In(I64({1, 0, 1, 0}, {4}));
  cases.push_back({Op("Tile", 13), {0, 0}});
  cases.back().op.In(Iota({2, 3})).In(I64({0, 0}, {2}));
  cases.push_back({Op("Slice", 13), {0, 3}});
  cases.back().op.In(Iota({2, 3})).In(I64({1}, {1})).In(I64({1}, {1}));
  cases.push_back({Op("Expand", 13), {0, 3}});
  cases.back().op.In(Iota({1, 3})).In(I64({0, 1}, {2}));
  cases.push_back({Op("Trilu", 14), {0, 3}});
  cases.back().op.In(e);
  cases.push_back({Op("Resize", 13), {0, 6}});
  cases.back().op.In(e).In(Tensor()).In(F32({1, 2}, {2})).Attr("mode", StringAttr("cubic"));
  cases.push_back({Op("NonZero", 13), {2, 0}});
  cases.back().op.In(e);
  cases.push_back({Op("OneHot", 11), {0, 4}});
  cases.back().op.In(I64({}, {0})).In(I64({4}, {})).In(F32({0, 1}, {2}));
  cases.push_back({Op("Unique", 11), {0}});
  cases.back().op.In(e);
  cases.push_back({Op("GridSample", 16), {0, 3, 2, 2}});
  cases.back().op.In(Tensor::Make(DType::kF32, {0, 3, 4, 4})).In(Tensor::Make(DType::kF32, {0, 2, 2, 2}));
  cases.push_back({Op("NonMaxSuppression", 11), {0, 3}});
  cases.back().op.In(Tensor::Make(DType::kF32, {1, 0, 4})).In(Tensor::Make(DType::kF32, {1, 2, 0})).In(I64({5}, {}));
  cases.push_back({Op("ScatterND", 16), {0, 3}});
  cases.back().op.In(e).In(I64({}, {0, 1})).In(Tensor::Make(DType::kF32, {0, 3}));
  cases.push_back({Op("DepthToSpace", 13), {0, 1, 2, 2}});
  cases.back().op.In(Tensor::Make(DType::kF32, {0, 4, 1, 1})).Attr("blocksize", IntAttr(2));
  for (Case& c : cases) {
    const Status st = c.op.Run();
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(c.op.out().shape(), c.expect);
  }
}

// ---------------------------------------------------------------------------------------------
// Thread-count invariance: outputs are bitwise identical with no pool and with 4 threads.

TEST(TensorTest, ResultsDoNotDependOnThreadCount) {
  ThreadPool pool(4);
  std::vector<float> v(3 * 5 * 37 * 41);
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(static_cast<float>(i) * 0.37f) * 3.0f;
  const Tensor x = F32(v, {3, 5, 37, 41});
  auto run_both = [&](auto configure) {
    Op a("Resize", 13), b("Resize", 13);
    configure(a);
    configure(b);
    ASSERT_TRUE(a.Run(nullptr).ok());
    ASSERT_TRUE(b.Run(&pool).ok());
    EXPECT_TRUE(a.out().Equals(b.out()));
  };
  run_both([&](Op& op) {
    op.In(x).In(Tensor()).In(F32({1, 1, 2.3f, 0.7f}, {4})).Attr("mode", StringAttr("cubic"));
  });
  run_both([&](Op& op) {
    op.In(x).In(Tensor()).In(Tensor()).In(I64({3, 5, 90, 17}, {4})).Attr("mode", StringAttr("linear"));
  });
  Op t1("Transpose", 13), t4("Transpose", 13);
  t1.In(x).Attr("perm", IntsAttr({3, 1, 0, 2}));
  t4.In(x).Attr("perm", IntsAttr({3, 1, 0, 2}));
  ASSERT_TRUE(t1.Run(nullptr).ok());
  ASSERT_TRUE(t4.Run(&pool).ok());
  EXPECT_TRUE(t1.out().Equals(t4.out()));
}

}  // namespace
}  // namespace idem
