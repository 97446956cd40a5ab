// Elementwise family: behaviour the ONNX conformance data does not cover — integer arithmetic
// edge cases (wrap-around, truncating division, Python-style Mod, exact integer Pow, errors on
// division by zero), Cast's defined results (saturation, single rounding to f16/bf16, NumPy-style
// strings, string parsing), old-opset forms (broadcast/axis, Clip attributes, per-channel PRelu),
// NaN propagation, dtypes beyond the test data, and thread-count invariance.
// Expected values are computed by hand (comments show how) or transcribed from NumPy.
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



template <typename T>
Tensor T_(std::vector<T> v, Shape s) {
  return Tensor::FromVector<T>(v, std::move(s));
}
Tensor Bools(std::vector<bool> v, Shape s) {
  Tensor t = Tensor::Make(DType::kBool, std::move(s));
  for (size_t i = 0; i < v.size(); ++i) t.data<bool>()[i] = v[i];
  return t;
}
std::vector<bool> BoolValues(const Tensor& t) { return std::vector<bool>(t.data<bool>(), t.data<bool>() + t.numel()); }
std::vector<uint16_t> HalfBits(const Tensor& t) {
  std::vector<uint16_t> r;
  for (int64_t i = 0; i < t.numel(); ++i)
    r.push_back(t.dtype() == DType::kF16 ? t.data<Float16>()[i].bits : t.data<BFloat16>()[i].bits);
  return r;
}
Tensor Half(std::vector<float> v, Shape s) {
  std::vector<Float16> h;
  for (float f : v) h.push_back(FloatToHalf(f));
  return T_<Float16>(h, std::move(s));
}

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int32_t kI32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kI32Max = std::numeric_limits<int32_t>::max();

// ---------------------------------------------------------------------------------------------
// Integer arithmetic.

// Add/Mul/Neg/Abs wrap modulo 2^bits: int8 100 + 100 = 200 - 256 = -56; uint16 65535^2 = 2^32 -
// 2^17 + 1 = 1 (mod 2^16); -INT32_MIN and |INT32_MIN| wrap to INT32_MIN.
TEST(ElementwiseTest, IntegerArithmeticWraps) {
  Op add("Add", 14);
  add.In(T_<int8_t>({100, -100}, {2})).In(T_<int8_t>({100, -100}, {2}));
  ASSERT_TRUE(add.Run().ok());
  EXPECT_EQ(Values<int8_t>(add.out()), (std::vector<int8_t>{-56, 56}));

  Op mul("Mul", 14);
  mul.In(T_<uint16_t>({65535}, {1})).In(T_<uint16_t>({65535}, {1}));
  ASSERT_TRUE(mul.Run().ok());
  EXPECT_EQ(Values<uint16_t>(mul.out()), (std::vector<uint16_t>{1}));

  Op neg("Neg", 13);
  neg.In(T_<int32_t>({kI32Min, 5}, {2}));
  ASSERT_TRUE(neg.Run().ok());
  EXPECT_EQ(Values<int32_t>(neg.out()), (std::vector<int32_t>{kI32Min, -5}));

  Op abs("Abs", 13);
  abs.In(T_<int32_t>({kI32Min, -5}, {2}));
  ASSERT_TRUE(abs.Run().ok());
  EXPECT_EQ(Values<int32_t>(abs.out()), (std::vector<int32_t>{kI32Min, 5}));
}

// Truncation toward zero like C; INT32_MIN / -1 wraps to INT32_MIN instead of trapping.
TEST(ElementwiseTest, IntegerDivTruncatesTowardZero) {
  Op op("Div", 14);
  op.In(T_<int32_t>({7, -7, 7, -7, kI32Min}, {5})).In(T_<int32_t>({2, 2, -2, -2, -1}, {5}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<int32_t>(op.out()), (std::vector<int32_t>{3, -3, -3, 3, kI32Min}));
}

TEST(ElementwiseTest, IntegerDivisionByZeroIsAnError) {
  Op div("Div", 14);
  div.In(T_<uint8_t>({1, 2}, {2})).In(T_<uint8_t>({1, 0}, {2}));
  const Status st = div.Run();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("division by zero"), std::string::npos) << st.message();

  Op mod("Mod", 13);
  mod.In(T_<int64_t>({5}, {1})).In(T_<int64_t>({0}, {1}));
  EXPECT_EQ(mod.Run().code(), StatusCode::kInvalidArgument);

  // Floats follow IEEE: 1 / 0 = inf.
  Op fdiv("Div", 14);
  fdiv.In(F32({1.0f}, {1})).In(F32({0.0f}, {1}));
  ASSERT_TRUE(fdiv.Run().ok());
  EXPECT_EQ(Values<float>(fdiv.out())[0], kInf);
}

// fmod=0: sign of the divisor (Python): -4 mod 3 = 2, 7 mod -3 = -2, -7 mod -3 = -1,
// INT32_MIN mod -1 = 0. fmod=1: sign of the dividend (C): -4 % 3 = -1, 7 % -3 = 1.
TEST(ElementwiseTest, IntegerModFollowsPythonOrC) {
  Op py("Mod", 13);
  py.In(T_<int32_t>({-4, 7, -7, kI32Min, 6}, {5})).In(T_<int32_t>({3, -3, -3, -1, 3}, {5}));
  ASSERT_TRUE(py.Run().ok());
  EXPECT_EQ(Values<int32_t>(py.out()), (std::vector<int32_t>{2, -2, -1, 0, 0}));

  Op c("Mod", 13);
  c.Attr("fmod", IntAttr(1)).In(T_<int32_t>({-4, 7, -7}, {3})).In(T_<int32_t>({3, -3, -3}, {3}));
  ASSERT_TRUE(c.Run().ok());
  EXPECT_EQ(Values<int32_t>(c.out()), (std::vector<int32_t>{-1, 1, -1}));

  // Floats with fmod=0 (outside the spec, defined anyway): -4.5 mod 2 = 1.5 (Python).
  Op f("Mod", 13);
  f.In(F32({-4.5f, 4.5f}, {2})).In(F32({2.0f, -2.0f}, {2}));
  ASSERT_TRUE(f.Run().ok());
  EXPECT_EQ(Values<float>(f.out()), (std::vector<float>{1.5f, -1.5f}));
}

// Exact integer powers: 2^10 = 1024, 3^3 = 27, (-2)^3 = -8, 1^-5 = 1, (-1)^-3 = -1, 5^-1 -> 0;
// 3^21 = 10460353203 = 2 * 2^32 + 1870418611 wraps to 1870418611 in int32.
TEST(ElementwiseTest, IntegerPowIsExact) {
  Op op("Pow", 15);
  op.In(T_<int64_t>({2, 3, -2, 1, -1, 5}, {6})).In(T_<int64_t>({10, 3, 3, -5, -3, -1}, {6}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<int64_t>(op.out()), (std::vector<int64_t>{1024, 27, -8, 1, -1, 0}));

  Op wrap("Pow", 15);
  wrap.In(T_<int32_t>({3}, {1})).In(T_<int32_t>({21}, {1}));
  ASSERT_TRUE(wrap.Run().ok());
  EXPECT_EQ(Values<int32_t>(wrap.out()), (std::vector<int32_t>{1870418611}));

  Op zero("Pow", 15);
  zero.In(T_<int32_t>({0}, {1})).In(T_<int32_t>({-1}, {1}));
  EXPECT_EQ(zero.Run().code(), StatusCode::kInvalidArgument);
}

// Mixed types (Pow-12+): the output has the base's type. int base with float exponent truncates
// (4^0.5 = 2, 10^0.5 = 3.16 -> 3); float base with integer exponent (2^3 = 8, 2^-2 = 0.25).
TEST(ElementwiseTest, PowMixedTypes) {
  Op a("Pow", 15);
  a.In(T_<int32_t>({4, 10}, {2})).In(F32({0.5f, 0.5f}, {2}));
  ASSERT_TRUE(a.Run().ok());
  EXPECT_EQ(a.out().dtype(), DType::kI32);
  EXPECT_EQ(Values<int32_t>(a.out()), (std::vector<int32_t>{2, 3}));

  Op b("Pow", 15);
  b.In(F32({2.0f, 2.0f}, {2})).In(T_<int64_t>({3, -2}, {2}));
  ASSERT_TRUE(b.Run().ok());
  EXPECT_EQ(b.out().dtype(), DType::kF32);
  EXPECT_EQ(Values<float>(b.out()), (std::vector<float>{8.0f, 0.25f}));
}

// Shifts of at least the bit width give 0; uint32 1 << 31 = 2^31.
TEST(ElementwiseTest, BitShiftBeyondWidthIsZero) {
  Op l("BitShift", 11);
  l.Attr("direction", StringAttr("LEFT")).In(T_<uint8_t>({1, 1, 255}, {3})).In(T_<uint8_t>({7, 8, 1}, {3}));
  ASSERT_TRUE(l.Run().ok());
  EXPECT_EQ(Values<uint8_t>(l.out()), (std::vector<uint8_t>{128, 0, 254}));

  Op r("BitShift", 11);
  r.Attr("direction", StringAttr("RIGHT")).In(T_<uint32_t>({0x80000000u, 5}, {2})).In(T_<uint32_t>({31, 40}, {2}));
  ASSERT_TRUE(r.Run().ok());
  EXPECT_EQ(Values<uint32_t>(r.out()), (std::vector<uint32_t>{1, 0}));

  Op bad("BitShift", 11);
  bad.Attr("direction", StringAttr("UP")).In(T_<uint8_t>({1}, {1})).In(T_<uint8_t>({1}, {1}));
  EXPECT_EQ(bad.Run().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Cast.

// float -> int: truncation toward zero, NaN -> 0, out of range saturates.
TEST(ElementwiseTest, CastFloatToIntSaturates) {
  const std::vector<float> x = {kNaN, kInf, -kInf, 1e10f, -1e10f, 3.9f, -3.9f, 200.5f};
  Op i32("Cast", 13);
  i32.Attr("to", IntAttr(static_cast<int>(DType::kI32))).In(F32(x, {8}));
  ASSERT_TRUE(i32.Run().ok());
  EXPECT_EQ(Values<int32_t>(i32.out()),
            (std::vector<int32_t>{0, kI32Max, kI32Min, kI32Max, kI32Min, 3, -3, 200}));

  Op u8("Cast", 13);
  u8.Attr("to", IntAttr(static_cast<int>(DType::kU8))).In(F32(x, {8}));
  ASSERT_TRUE(u8.Run().ok());
  EXPECT_EQ(Values<uint8_t>(u8.out()), (std::vector<uint8_t>{0, 255, 0, 255, 0, 3, 0, 200}));

  Op i64("Cast", 13);
  i64.Attr("to", IntAttr(static_cast<int>(DType::kI64))).In(T_<double>({9.3e18, -9.3e18, -0.5}, {3}));
  ASSERT_TRUE(i64.Run().ok());
  EXPECT_EQ(Values<int64_t>(i64.out()), (std::vector<int64_t>{std::numeric_limits<int64_t>::max(),
                                                               std::numeric_limits<int64_t>::min(), 0}));
}

// f64 -> f16 rounds once: 1 + 2^-11 + 2^-40 is just above the half tie 1 + 2^-11 and rounds up to
// 1 + 2^-10 (0x3C01); rounding through f32 first would land on the tie and round to even, 1.0.
// Same for bf16 (tie at 1 + 2^-8; 1 + 2^-7 is 0x3F81), and for int64 -> bf16:
// 2^24 + 2^16 + 1 is above the tie 2^24 + 2^16 and rounds to 2^24 + 2^17 = 0x4B81.
TEST(ElementwiseTest, CastToHalfRoundsOnce) {
  const double d16 = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  Op h("Cast", 13);
  h.Attr("to", IntAttr(static_cast<int>(DType::kF16))).In(T_<double>({d16, -d16}, {2}));
  ASSERT_TRUE(h.Run().ok());
  EXPECT_EQ(HalfBits(h.out()), (std::vector<uint16_t>{0x3C01, 0xBC01}));

  const double db = 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40);
  Op b("Cast", 13);
  b.Attr("to", IntAttr(static_cast<int>(DType::kBF16))).In(T_<double>({db}, {1}));
  ASSERT_TRUE(b.Run().ok());
  EXPECT_EQ(HalfBits(b.out()), (std::vector<uint16_t>{0x3F81}));

  Op i("Cast", 13);
  i.Attr("to", IntAttr(static_cast<int>(DType::kBF16))).In(T_<int64_t>({(int64_t{1} << 24) + (1 << 16) + 1}, {1}));
  ASSERT_TRUE(i.Run().ok());
  EXPECT_EQ(HalfBits(i.out()), (std::vector<uint16_t>{0x4B81}));
}

// f32 -> bf16 is round-to-nearest-even (the ONNX test data truncates instead): 1 + 2^-8 is a tie
// and goes to even 1.0 (0x3F80); 1 + 3 * 2^-8 is a tie and goes to even 1 + 2^-6 (0x3F82);
// 1 + 3 * 2^-9 is 0.75 ulp (ulp = 2^-7) above 1 and rounds up to 0x3F81 (truncation gives 0x3F80).
TEST(ElementwiseTest, CastFloatToBFloat16RoundsToNearestEven) {
  Op op("Cast", 13);
  op.Attr("to", IntAttr(static_cast<int>(DType::kBF16)))
      .In(F32({1.0f + std::ldexp(1.0f, -8), 1.0f + std::ldexp(3.0f, -8), 1.0f + std::ldexp(3.0f, -9)}, {3}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(HalfBits(op.out()), (std::vector<uint16_t>{0x3F80, 0x3F82, 0x3F81}));
}

// Strings as NumPy's astype(str) writes them (values transcribed from NumPy 1.24).
TEST(ElementwiseTest, CastFloatsToStringLikeNumpy) {
  Op f("Cast", 13);
  f.Attr("to", IntAttr(static_cast<int>(DType::kString)))
      .In(F32({1e-5f, 1e16f, 123456789.0f, 1.0f, -0.0f, 100.0f, 1e-4f, 1.5e20f, kNaN, kInf, -kInf, 3e-45f}, {12}));
  ASSERT_TRUE(f.Run().ok());
  EXPECT_EQ(Values<std::string>(f.out()),
            (std::vector<std::string>{"1e-05", "1e+16", "123456790.0", "1.0", "-0.0", "100.0", "1e-04", "1.5e+20",
                                      "nan", "inf", "-inf", "3e-45"}));

  Op d("Cast", 13);
  d.Attr("to", IntAttr(static_cast<int>(DType::kString)))
      .In(T_<double>({1e-4, 12345678901234567.0, 0.1, 1e15}, {4}));
  ASSERT_TRUE(d.Run().ok());
  EXPECT_EQ(Values<std::string>(d.out()),
            (std::vector<std::string>{"0.0001", "1.2345678901234568e+16", "0.1", "1000000000000000.0"}));

  Op h("Cast", 13);
  h.Attr("to", IntAttr(static_cast<int>(DType::kString))).In(Half({0.1f, 65504.0f, 1e-5f, 6e-8f}, {4}));
  ASSERT_TRUE(h.Run().ok());
  EXPECT_EQ(Values<std::string>(h.out()), (std::vector<std::string>{"0.1", "65500.0", "1e-05", "6e-08"}));

  Op i("Cast", 13);
  i.Attr("to", IntAttr(static_cast<int>(DType::kString))).In(T_<int8_t>({-5, 127}, {2}));
  ASSERT_TRUE(i.Run().ok());
  EXPECT_EQ(Values<std::string>(i.out()), (std::vector<std::string>{"-5", "127"}));

  Op b("Cast", 13);
  b.Attr("to", IntAttr(static_cast<int>(DType::kString))).In(Bools({true, false}, {2}));
  ASSERT_TRUE(b.Run().ok());
  EXPECT_EQ(Values<std::string>(b.out()), (std::vector<std::string>{"True", "False"}));
}

TEST(ElementwiseTest, CastStringsToNumbers) {
  Op f("Cast", 13);
  f.Attr("to", IntAttr(static_cast<int>(DType::kF32)))
      .In(T_<std::string>({"1e3", " 12 ", "+INF", "-inf", "nAn", "1E-2", "1e999", "-1e-999"}, {8}));
  ASSERT_TRUE(f.Run().ok());
  const std::vector<float> v = Values<float>(f.out());
  EXPECT_EQ(v[0], 1000.0f);
  EXPECT_EQ(v[1], 12.0f);
  EXPECT_EQ(v[2], kInf);
  EXPECT_EQ(v[3], -kInf);
  EXPECT_TRUE(std::isnan(v[4]));
  EXPECT_EQ(v[5], 0.01f);
  EXPECT_EQ(v[6], kInf);
  EXPECT_EQ(v[7], 0.0f);
  EXPECT_TRUE(std::signbit(v[7]));

  Op i("Cast", 13);
  i.Attr("to", IntAttr(static_cast<int>(DType::kI32))).In(T_<std::string>({"42", "-7", "2.718", "1e3", "+5"}, {5}));
  ASSERT_TRUE(i.Run().ok());
  EXPECT_EQ(Values<int32_t>(i.out()), (std::vector<int32_t>{42, -7, 2, 1000, 5}));

  Op b("Cast", 13);
  b.Attr("to", IntAttr(static_cast<int>(DType::kBool))).In(T_<std::string>({"True", "false", "0", "2.5"}, {4}));
  ASSERT_TRUE(b.Run().ok());
  EXPECT_EQ(BoolValues(b.out()), (std::vector<bool>{true, false, false, true}));

  // "0.1" -> nearest half 0.0999755859375 = 0x2E66.
  Op h("Cast", 13);
  h.Attr("to", IntAttr(static_cast<int>(DType::kF16))).In(T_<std::string>({"0.1"}, {1}));
  ASSERT_TRUE(h.Run().ok());
  EXPECT_EQ(HalfBits(h.out()), (std::vector<uint16_t>{0x2E66}));

  Op bad("Cast", 13);
  bad.Attr("to", IntAttr(static_cast<int>(DType::kF32))).In(T_<std::string>({"1.5", "Hello"}, {2}));
  const Status st = bad.Run();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("Hello"), std::string::npos) << st.message();
}

// Cast-1 names the type with a string.
TEST(ElementwiseTest, CastOpset1TakesTypeName) {
  Op op("Cast", 1);
  op.Attr("to", StringAttr("FLOAT")).In(T_<int32_t>({-3, 7}, {2}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out().dtype(), DType::kF32);
  EXPECT_EQ(Values<float>(op.out()), (std::vector<float>{-3.0f, 7.0f}));
}

// ---------------------------------------------------------------------------------------------
// Old opsets and broadcasting.

// Add-6 with broadcast=1, axis=0: B [2] lines up with A's dim 0 of [2, 3].
TEST(ElementwiseTest, LegacyBroadcastWithAxis) {
  Op op("Add", 6);
  op.Attr("broadcast", IntAttr(1)).Attr("axis", IntAttr(0));
  op.In(F32({1, 2, 3, 4, 5, 6}, {2, 3})).In(F32({10, 20}, {2}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out().shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(op.out()), (std::vector<float>{11, 12, 13, 24, 25, 26}));

  // Without axis: suffix matching, B [3] against [2, 3].
  Op suffix("Sub", 6);
  suffix.Attr("broadcast", IntAttr(1)).In(F32({1, 2, 3, 4, 5, 6}, {2, 3})).In(F32({1, 2, 3}, {3}));
  ASSERT_TRUE(suffix.Run().ok());
  EXPECT_EQ(Values<float>(suffix.out()), (std::vector<float>{0, 0, 0, 3, 3, 3}));

  Op bad("Add", 6);
  bad.Attr("broadcast", IntAttr(1)).Attr("axis", IntAttr(1)).In(F32({1, 2, 3, 4, 5, 6}, {2, 3})).In(F32({1, 2}, {2}));
  EXPECT_EQ(bad.Run().code(), StatusCode::kInvalidArgument);
}

// PRelu-6 as exported by PyTorch: slope [C] applies per channel (dim 1). PRelu-9: slope must
// broadcast unidirectionally to X.
TEST(ElementwiseTest, PReluSlopeForms) {
  Op op("PRelu", 6);
  op.In(F32({-1, 2, -3, -4}, {1, 2, 2})).In(F32({0.5f, 0.25f}, {2}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<float>(op.out()), (std::vector<float>{-0.5f, 2.0f, -0.75f, -1.0f}));

  Op ints("PRelu", 16);
  ints.In(T_<int32_t>({-3, 3}, {2})).In(T_<int32_t>({2}, {1}));
  ASSERT_TRUE(ints.Run().ok());
  EXPECT_EQ(Values<int32_t>(ints.out()), (std::vector<int32_t>{-6, 3}));

  Op bad("PRelu", 9);
  bad.In(F32({1, 2}, {2})).In(F32({1, 2, 3, 4}, {2, 2}));
  EXPECT_EQ(bad.Run().code(), StatusCode::kInvalidArgument);
}

// Clip-6 bounds are attributes; Clip-13 bounds are optional inputs, integer types too; a lower
// bound above the upper bound gives the upper bound; NaN passes through.
TEST(ElementwiseTest, ClipForms) {
  Op old("Clip", 6);
  old.Attr("min", FloatAttr(-1)).Attr("max", FloatAttr(1)).In(F32({-2, 0.5f, 2, kNaN}, {4}));
  ASSERT_TRUE(old.Run().ok());
  const std::vector<float> v = Values<float>(old.out());
  EXPECT_EQ(v[0], -1.0f);
  EXPECT_EQ(v[1], 0.5f);
  EXPECT_EQ(v[2], 1.0f);
  EXPECT_TRUE(std::isnan(v[3]));

  Op only_min("Clip", 13);
  only_min.In(T_<int8_t>({-128, 0, 127}, {3})).In(T_<int8_t>({-5}, {}));
  ASSERT_TRUE(only_min.Run().ok());
  EXPECT_EQ(Values<int8_t>(only_min.out()), (std::vector<int8_t>{-5, 0, 127}));

  Op only_max("Clip", 13);
  only_max.In(T_<uint64_t>({1, 100}, {2})).In(Tensor()).In(T_<uint64_t>({10}, {}));
  ASSERT_TRUE(only_max.Run().ok());
  EXPECT_EQ(Values<uint64_t>(only_max.out()), (std::vector<uint64_t>{1, 10}));

  Op crossed("Clip", 13);
  crossed.In(F32({-5, 0, 5}, {3})).In(F32({2}, {})).In(F32({1}, {}));
  ASSERT_TRUE(crossed.Run().ok());
  EXPECT_EQ(Values<float>(crossed.out()), (std::vector<float>{1, 1, 1}));

  Op bad("Clip", 13);
  bad.In(F32({1}, {1})).In(F32({1, 2}, {2}));
  EXPECT_EQ(bad.Run().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Variadic ops.

// Max/Min propagate NaN; inputs broadcast together (NumPy) — [3] with [1] with a scalar.
TEST(ElementwiseTest, VariadicMaxMinPropagateNaN) {
  Op mx("Max", 13);
  mx.In(F32({1, kNaN, 3}, {3})).In(F32({2, 2, kNaN}, {3})).In(F32({2.5f}, {}));
  ASSERT_TRUE(mx.Run().ok());
  const std::vector<float> a = Values<float>(mx.out());
  EXPECT_EQ(a[0], 2.5f);
  EXPECT_TRUE(std::isnan(a[1]));
  EXPECT_TRUE(std::isnan(a[2]));

  Op mn("Min", 13);
  mn.In(T_<uint8_t>({7, 1}, {2})).In(T_<uint8_t>({3}, {1}));
  ASSERT_TRUE(mn.Run().ok());
  EXPECT_EQ(Values<uint8_t>(mn.out()), (std::vector<uint8_t>{3, 1}));
}

// Sum folds left to right: (2^24 + 1) + 1 = 2^24 (each add rounds to even) — not 2^24 + 2.
TEST(ElementwiseTest, VariadicSumAndMean) {
  Op sum("Sum", 13);
  sum.In(F32({16777216.0f}, {1})).In(F32({1.0f}, {1})).In(F32({1.0f}, {1}));
  ASSERT_TRUE(sum.Run().ok());
  EXPECT_EQ(Values<float>(sum.out()), (std::vector<float>{16777216.0f}));

  // [2, 1] + [3] + scalar broadcast to [2, 3].
  Op bsum("Sum", 13);
  bsum.In(F32({10, 20}, {2, 1})).In(F32({1, 2, 3}, {3})).In(F32({100}, {}));
  ASSERT_TRUE(bsum.Run().ok());
  EXPECT_EQ(bsum.out().shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(bsum.out()), (std::vector<float>{111, 112, 113, 121, 122, 123}));

  // f16 inputs sum in f32 and round once: (2048 + 1 + 1) / 3 = 683.33 -> 683.5 (f16 spacing 0.5
  // in [512, 1024)). Rounding each partial sum to f16 would give 2048 + 1 -> 2048 (tie to even),
  // + 1 -> 2048, / 3 -> 682.5.
  Op mean("Mean", 13);
  mean.In(Half({2048}, {1})).In(Half({1}, {1})).In(Half({1}, {1}));
  ASSERT_TRUE(mean.Run().ok());
  EXPECT_EQ(HalfToFloat(mean.out().data<Float16>()[0]), 683.5f);
}

// ---------------------------------------------------------------------------------------------
// Unary ops beyond the test data.

TEST(ElementwiseTest, SignRoundAndTestsOnHalves) {
  Op sign("Sign", 13);
  sign.In(T_<int16_t>({-7, 0, 9}, {3}));
  ASSERT_TRUE(sign.Run().ok());
  EXPECT_EQ(Values<int16_t>(sign.out()), (std::vector<int16_t>{-1, 0, 1}));

  // Ties to even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -2.5 -> -2.
  Op round("Round", 11);
  round.In(Half({0.5f, 1.5f, 2.5f, -2.5f}, {4}));
  ASSERT_TRUE(round.Run().ok());
  EXPECT_EQ(HalfBits(round.out()), (std::vector<uint16_t>{0x0000, 0x4000, 0x4000, 0xC000}));

  Op isinf("IsInf", 10);
  isinf.Attr("detect_positive", IntAttr(0)).In(Half({kInf, -kInf, 1.0f, kNaN}, {4}));
  ASSERT_TRUE(isinf.Run().ok());
  EXPECT_EQ(BoolValues(isinf.out()), (std::vector<bool>{false, true, false, false}));

  Op isnan("IsNaN", 13);
  isnan.In(T_<BFloat16>({FloatToBFloat16(kNaN), FloatToBFloat16(1.0f)}, {2}));
  ASSERT_TRUE(isnan.Run().ok());
  EXPECT_EQ(BoolValues(isnan.out()), (std::vector<bool>{true, false}));
}

// Erf on integers: erf(0) = 0, erf(1) = 0.84 -> 0, erf(10) = 1.0 (in double) -> 1.
// Shrink on integers: lambd 1.5, bias 1: -3 -> -2, 1 -> 0, 3 -> 2.
TEST(ElementwiseTest, IntegerErfAndShrink) {
  Op erf("Erf", 13);
  erf.In(T_<int32_t>({0, 1, 10, -10}, {4}));
  ASSERT_TRUE(erf.Run().ok());
  EXPECT_EQ(Values<int32_t>(erf.out()), (std::vector<int32_t>{0, 0, 1, -1}));

  Op shrink("Shrink", 9);
  shrink.Attr("lambd", FloatAttr(1.5f)).Attr("bias", FloatAttr(1.0f)).In(T_<int32_t>({-3, 1, 3}, {3}));
  ASSERT_TRUE(shrink.Run().ok());
  EXPECT_EQ(Values<int32_t>(shrink.out()), (std::vector<int32_t>{-2, 0, 2}));
}

TEST(ElementwiseTest, WhereOnStringsBroadcasts) {
  Op op("Where", 16);
  op.In(Bools({true, false}, {2, 1})).In(T_<std::string>({"a", "b"}, {2})).In(T_<std::string>({"z"}, {}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out().shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<std::string>(op.out()), (std::vector<std::string>{"a", "b", "z", "z"}));
}

TEST(ElementwiseTest, MismatchedTypesAndShapesAreErrors) {
  Op types("Add", 14);
  types.In(F32({1}, {1})).In(T_<double>({1}, {1}));
  EXPECT_EQ(types.Run().code(), StatusCode::kInvalidArgument);

  Op shapes("Mul", 14);
  shapes.In(F32({1, 2}, {2})).In(F32({1, 2, 3}, {3}));
  EXPECT_EQ(shapes.Run().code(), StatusCode::kInvalidArgument);

  Op dtype("Sqrt", 13);
  dtype.In(T_<int32_t>({4}, {1}));
  EXPECT_EQ(dtype.Run().code(), StatusCode::kUnsupported);
}

// ---------------------------------------------------------------------------------------------
// Determinism: the broadcast walk gives the same bits at any thread count.

TEST(ElementwiseTest, BroadcastResultDoesNotDependOnThreads) {
  // A [3, 1, 20000] and B [5, 1]: output [3, 5, 20000] through the BroadcastCursor, several tiles.
  std::vector<float> a(3 * 20000), b(5);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 977) * 0.37f - 100.0f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = 1.0f / static_cast<float>(i + 3);
  ThreadPool pool(4);
  Op one("Div", 14), four("Div", 14);
  one.In(F32(a, {3, 1, 20000})).In(F32(b, {5, 1}));
  four.In(F32(a, {3, 1, 20000})).In(F32(b, {5, 1}));
  ASSERT_TRUE(one.Run(nullptr).ok());
  ASSERT_TRUE(four.Run(&pool).ok());
  ASSERT_EQ(one.out().shape(), (Shape{3, 5, 20000}));
  EXPECT_TRUE(one.out().Equals(four.out()));
  // Spot check against the formula out[i][j][k] = a[i][k] / b[j].
  const float* o = one.out().data<float>();
  EXPECT_EQ(o[(2 * 5 + 4) * 20000 + 12345], a[2 * 20000 + 12345] / b[4]);
  EXPECT_EQ(o[(1 * 5 + 0) * 20000 + 7], a[1 * 20000 + 7] / b[0]);
}

}  // namespace
}  // namespace idem
