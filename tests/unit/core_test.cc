// Core: half conversions, Philox known answers, NPY round trips, thread pool tiling.
#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/half.h"
#include "core/npy.h"
#include "core/philox.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace idem {
namespace {

// Create zero-fills; CreateUninitialized leaves the bytes to the caller, and in poison mode fills
// them with 0xFF (NaN / -1) so that an unwritten element is visible; strings are always empty.
TEST(TensorTest, UninitializedAllocationIsPoisonedInPoisonMode) {
  const bool before = PoisonUninitialized();
  SetPoisonUninitialized(true);
  Tensor f = Tensor::CreateUninitialized(DType::kF32, {3, 5}).value();
  for (int64_t i = 0; i < f.numel(); ++i) EXPECT_TRUE(std::isnan(f.data<float>()[i]));
  Tensor n = Tensor::CreateUninitialized(DType::kI64, {7}).value();
  for (int64_t i = 0; i < n.numel(); ++i) EXPECT_EQ(n.data<int64_t>()[i], -1);
  Tensor z = Tensor::Create(DType::kF32, {4}).value();
  for (int64_t i = 0; i < z.numel(); ++i) EXPECT_EQ(std::bit_cast<uint32_t>(z.data<float>()[i]), 0u);
  Tensor s = Tensor::CreateUninitialized(DType::kString, {2}).value();
  EXPECT_TRUE(s.data<std::string>()[0].empty() && s.data<std::string>()[1].empty());
  EXPECT_EQ(Tensor::CreateUninitialized(DType::kF32, {0}).value().numel(), 0);
  EXPECT_FALSE(Tensor::CreateUninitialized(DType::kF32, {-2}).ok());
  SetPoisonUninitialized(before);
}

TEST(HalfTest, FloatToHalfRoundsToNearestEven) {
  EXPECT_EQ(FloatToHalf(1.0f).bits, 0x3C00);
  EXPECT_EQ(FloatToHalf(-2.0f).bits, 0xC000);
  EXPECT_EQ(FloatToHalf(65504.0f).bits, 0x7BFF);
  EXPECT_EQ(FloatToHalf(65519.99f).bits, 0x7BFF);
  EXPECT_EQ(FloatToHalf(65520.0f).bits, 0x7C00);                 // ties up to infinity
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)).bits, 0x0001);    // smallest subnormal
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -25)).bits, 0x0000);    // tie -> even (zero)
  EXPECT_EQ(FloatToHalf(std::ldexp(3.0f, -26)).bits, 0x0001);    // 1.5 * 2^-25 -> 2^-24
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11)).bits, 0x3C00);       // tie -> even
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(3.0f, -11)).bits, 0x3C02);       // tie -> even (up)
  EXPECT_EQ(FloatToHalf(-0.0f).bits, 0x8000);
  EXPECT_EQ(FloatToHalf(std::numeric_limits<float>::infinity()).bits, 0x7C00);
  const uint16_t nan = FloatToHalf(std::numeric_limits<float>::quiet_NaN()).bits;
  EXPECT_EQ(nan & 0x7C00, 0x7C00);
  EXPECT_NE(nan & 0x03FF, 0);
}

TEST(HalfTest, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const Float16 h = Float16::FromBits(static_cast<uint16_t>(b));
    const float f = HalfToFloat(h);
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToHalf(f).bits, b) << "bits " << b;
  }
  EXPECT_EQ(HalfToFloat(Float16::FromBits(0x0001)), std::ldexp(1.0f, -24));
  EXPECT_EQ(HalfToFloat(Float16::FromBits(0x3555)), 0.333251953125f);
}

TEST(HalfTest, BFloat16RoundsToNearestEven) {
  EXPECT_EQ(FloatToBFloat16(1.0f).bits, 0x3F80);
  EXPECT_EQ(FloatToBFloat16(1.0f + std::ldexp(1.0f, -8)).bits, 0x3F80);
  EXPECT_EQ(FloatToBFloat16(1.0f + std::ldexp(3.0f, -8)).bits, 0x3F82);
  EXPECT_EQ(BFloat16ToFloat(BFloat16::FromBits(0xC040)), -3.0f);
  EXPECT_TRUE(std::isnan(BFloat16ToFloat(FloatToBFloat16(std::numeric_limits<float>::quiet_NaN()))));
}

// Known-answer vectors of Random123's kat_vectors for philox4x32-10.
TEST(PhiloxTest, KnownAnswers) {
  EXPECT_EQ(Philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (std::array<uint32_t, 4>{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(Philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}),
            (std::array<uint32_t, 4>{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(Philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u}),
            (std::array<uint32_t, 4>{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(PhiloxTest, StreamDependsOnlyOnSeedNodeAndIndex) {
  PhiloxStream a(42, 7), b(42, 7), c(43, 7), d(42, 8);
  EXPECT_EQ(a.Bits(12345), b.Bits(12345));
  EXPECT_NE(a.Bits(12345), c.Bits(12345));
  EXPECT_NE(a.Bits(12345), d.Bits(12345));
  for (uint64_t i = 0; i < 1000; ++i) {
    const float u = a.UniformFloat(i);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
  }
}

TEST(NpyTest, RoundTripsEveryDType) {
  for (DType dt : {DType::kF32, DType::kF64, DType::kF16, DType::kI8, DType::kI16, DType::kI32, DType::kI64,
                   DType::kU8, DType::kU16, DType::kU32, DType::kU64, DType::kBool}) {
    Tensor t = Tensor::Make(dt, {2, 3});
    auto* bytes = static_cast<unsigned char*>(t.raw());
    for (size_t i = 0; i < t.nbytes(); ++i) bytes[i] = dt == DType::kBool ? (i % 2) : static_cast<unsigned char>(i * 37 + 1);
    auto back = ParseNpy(SerializeNpy(t), "test");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_TRUE(back->Equals(t)) << DTypeName(dt);
  }
}

TEST(NpyTest, RoundTripsStringsAndScalars) {
  Tensor s = Tensor::Make(DType::kString, {3});
  s.data<std::string>()[0] = "hello";
  s.data<std::string>()[1] = "";
  s.data<std::string>()[2] = "\xc3\xa9t\xc3\xa9";  // "été" in UTF-8
  auto back = ParseNpy(SerializeNpy(s), "test");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->Equals(s));
  Tensor scalar = Tensor::Scalar<double>(2.5);
  auto sb = ParseNpy(SerializeNpy(scalar), "test");
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->rank(), 0);
  EXPECT_EQ(sb->data<double>()[0], 2.5);
}

TEST(NpyTest, RejectsMalformedFiles) {
  EXPECT_FALSE(ParseNpy("", "x").ok());
  EXPECT_FALSE(ParseNpy("garbage garbage garbage", "x").ok());
  std::string good = SerializeNpy(Tensor::Make(DType::kF32, {4, 4}));
  EXPECT_FALSE(ParseNpy(good.substr(0, good.size() - 5), "x").ok());  // truncated data
  EXPECT_FALSE(ParseNpy(good.substr(0, 20), "x").ok());               // truncated header
}

TEST(ThreadPoolTest, EveryTileRunsExactlyOnceAtAnyThreadCount) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 7, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      ParallelForRange(&pool, n, 3, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    }
  }
}

}  // namespace
}  // namespace idem
