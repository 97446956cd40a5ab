// Linalg family (MatMul, Gemm, Einsum, Det, Conv*, pools, quantization): behaviour the ONNX
// conformance data does not cover — the canonical per-element FMA chain (checked bitwise against
// straightforward loops written here from the definition in canonical.h), padded terms (fma(w, 0, acc) in Conv),
// dtypes (f16/bf16/f64/integers), attribute forms of old opsets, NaN handling, rounding, thread
// count invariance and error paths. Expected values are computed by hand (comments show how).
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "kernels/canonical.h"
#include "kernels/kernel.h"
#include "kernels/registry.h"
#include "kernel_test_util.h"
#include "kernels/simd/isa.h"

namespace idem {
namespace {

using namespace idem::testing;  // NOLINT(google-build-using-namespace): the shared test harness





constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();


// ---------------------------------------------------------------------------------------------
// MatMul / Gemm: the per-element sequential FMA chain.

// Reference: y[b][m][n] = ChainDot over k (canonical.h), with numpy batch broadcasting of
// 3-D operands [Ba, M, K] x [Bb, K, N] (Ba or Bb may be 1).
std::vector<float> NaiveBatchedMatMul(const std::vector<float>& a, const std::vector<float>& b, int64_t ba,
                                      int64_t bb, int64_t M, int64_t K, int64_t N) {
  const int64_t batches = std::max(ba, bb);
  std::vector<float> y;
  for (int64_t bi = 0; bi < batches; ++bi)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        const float* ap = a.data() + (ba == 1 ? 0 : bi) * M * K;
        const float* bp = b.data() + (bb == 1 ? 0 : bi) * K * N;
        y.push_back(ChainDot<float>(K, [&](int64_t k) { return ap[m * K + k]; },
                                    [&](int64_t k) { return bp[k * N + n]; }));
      }
  return y;
}

TEST(LinalgMatMulTest, IsBitwiseTheSequentialChainAtAnyThreadCount) {
  // Ragged sizes around the 4-row / 128-column / 16x256 tile edges.
  for (auto [M, K, N] : std::vector<std::array<int64_t, 3>>{{37, 300, 301}, {1, 513, 7}, {5, 1, 260}, {17, 33, 1}}) {
    const std::vector<float> a = RandomFloats(static_cast<size_t>(3 * M * K), 1);
    const std::vector<float> b = RandomFloats(static_cast<size_t>(K * N), 2);
    const std::vector<float> expected = NaiveBatchedMatMul(a, b, 3, 1, M, K, N);
    ThreadPool pool(3);
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      Op op("MatMul", 13);
      op.In(F32(a, {3, M, K})).In(F32(b, {K, N}));
      ASSERT_TRUE(op.Run(p).ok());
      EXPECT_EQ(op.out(0).shape(), (Shape{3, M, N}));
      std::vector<uint32_t> want;
      for (float f : expected) want.push_back(std::bit_cast<uint32_t>(f));
      EXPECT_EQ(Bits(op.out(0)), want) << M << "x" << K << "x" << N;
    }
  }
}

// Weights packed at load (PrepareMatMul / PrepareGemm) give the same bits as the chain reference,
// on every ISA and thread count, for f32 and half weights, with and without Gemm's transB.
TEST(LinalgMatMulTest, PreparedConstantWeightsAreBitwiseTheChain) {
  const simd::Isa before = simd::CurrentIsa();
  ThreadPool pool(3);
  for (auto [M, K, N] : std::vector<std::array<int64_t, 3>>{{37, 300, 301}, {1, 513, 7}, {5, 1, 33}, {8, 64, 16}}) {
    const std::vector<float> a = RandomFloats(static_cast<size_t>(2 * M * K), 5);
    const std::vector<float> b = RandomFloats(static_cast<size_t>(K * N), 6);
    std::vector<uint32_t> want;
    for (float f : NaiveBatchedMatMul(a, b, 2, 1, M, K, N)) want.push_back(std::bit_cast<uint32_t>(f));
    // Gemm with transB: B given as N x K.
    std::vector<float> bt(static_cast<size_t>(K * N));
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n) bt[static_cast<size_t>(n * K + k)] = b[static_cast<size_t>(k * N + n)];
    const std::vector<float> a0(a.begin(), a.begin() + M * K);
    std::vector<uint32_t> want_gemm(want.begin(), want.begin() + M * N);
    for (simd::Isa isa : {simd::Isa::kScalar, simd::Isa::kAvx2, simd::Isa::kAvx512}) {
      if (!simd::SetIsa(isa).ok()) continue;
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        Op mm("MatMul", 13);
        mm.In(F32(a, {2, M, K})).In(F32(b, {K, N})).ConstantInputs({1});
        ASSERT_TRUE(mm.Run(p).ok());
        ASSERT_NE(mm.prepared(), nullptr);
        EXPECT_EQ(Bits(mm.out(0)), want) << simd::IsaName(isa) << " " << M << "x" << K << "x" << N;
        Op gemm("Gemm", 13);
        gemm.Attr("transB", IntAttr(1)).In(F32(a0, {M, K})).In(F32(bt, {N, K})).ConstantInputs({1});
        ASSERT_TRUE(gemm.Run(p).ok());
        ASSERT_NE(gemm.prepared(), nullptr);
        EXPECT_EQ(Bits(gemm.out(0)), want_gemm) << simd::IsaName(isa) << " Gemm " << M << "x" << K << "x" << N;
      }
    }
    ASSERT_TRUE(simd::SetIsa(before).ok());
  }
  // Half weights are widened exactly at load: same bits as the run-time path.
  const std::vector<float> a = RandomFloats(6 * 40, 7), b = RandomFloats(40 * 19, 8);
  for (bool bf : {false, true}) {
    Op plain("MatMul", 13), prepared("MatMul", 13);
    plain.In(bf ? BF16(a, {6, 40}) : F16(a, {6, 40})).In(bf ? BF16(b, {40, 19}) : F16(b, {40, 19}));
    prepared.In(bf ? BF16(a, {6, 40}) : F16(a, {6, 40})).In(bf ? BF16(b, {40, 19}) : F16(b, {40, 19}));
    prepared.ConstantInputs({1});
    ASSERT_TRUE(plain.Run().ok());
    ASSERT_TRUE(prepared.Run().ok());
    ASSERT_NE(prepared.prepared(), nullptr);
    EXPECT_EQ(HalfValues(prepared.out(0)), HalfValues(plain.out(0)));
  }
  // A batched (3-D) constant B is not prepared; the kernel still runs from its inputs.
  Op batched("MatMul", 13);
  batched.In(F32(RandomFloats(2 * 3 * 4, 9), {2, 3, 4})).In(F32(RandomFloats(2 * 4 * 5, 10), {2, 4, 5})).ConstantInputs({1});
  ASSERT_TRUE(batched.Run().ok());
  EXPECT_EQ(batched.prepared(), nullptr);
}

TEST(LinalgMatMulTest, BroadcastsBatchDimsAndPromotesVectors) {
  // [2,1,2,3] x [3,3,2] -> [2,3,2,2]: A's batch (2,1) against B's batch (3).
  const std::vector<float> a = RandomFloats(12, 3), b = RandomFloats(18, 4);
  Op op("MatMul", 9);
  op.In(F32(a, {2, 1, 2, 3})).In(F32(b, {3, 3, 2}));
  ASSERT_TRUE(op.Run().ok());
  ASSERT_EQ(op.out(0).shape(), (Shape{2, 3, 2, 2}));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t m = 0; m < 2; ++m)
        for (int64_t n = 0; n < 2; ++n) {
          const float want = ChainDot<float>(3, [&](int64_t k) { return a[static_cast<size_t>(i * 6 + m * 3 + k)]; },
                                             [&](int64_t k) { return b[static_cast<size_t>(j * 6 + k * 2 + n)]; });
          EXPECT_EQ(op.out(0).data<float>()[((i * 3 + j) * 2 + m) * 2 + n], want);
        }
  // 1-D x 1-D -> scalar: 1*4 + 2*5 + 3*6 = 32.
  Op dot("MatMul", 13);
  dot.In(F32({1, 2, 3}, {3})).In(F32({4, 5, 6}, {3}));
  ASSERT_TRUE(dot.Run().ok());
  EXPECT_EQ(dot.out(0).shape(), Shape{});
  EXPECT_EQ(Values<float>(dot.out(0)), std::vector<float>{32});
  // 1-D x [2,3,2] -> [2,2]; [2,2,3] x 1-D -> [2,2].
  Op vm("MatMul", 13);
  vm.In(F32({1, 0, -1}, {3})).In(F32({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 3, 2}));
  ASSERT_TRUE(vm.Run().ok());
  EXPECT_EQ(vm.out(0).shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<float>(vm.out(0)), (std::vector<float>{1 - 5, 2 - 6, 7 - 11, 8 - 12}));
  Op mv("MatMul", 13);
  mv.In(F32({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 2, 3})).In(F32({1, 0, -1}, {3}));
  ASSERT_TRUE(mv.Run().ok());
  EXPECT_EQ(mv.out(0).shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<float>(mv.out(0)), (std::vector<float>{-2, -2, -2, -2}));
}

TEST(LinalgMatMulTest, HalfAccumulatesInF32AndRoundsOnce) {
  // [1, 2^-11, 2^-12] . [1, 1, 1]: in f32 the sum is 1 + 3 * 2^-12 = 1 + 0.75 ulp(f16) -> rounds to
  // 1 + 2^-10 (0x3C01). Rounding to f16 after every step would give 1.0.
  Op op("MatMul", 13);
  op.In(F16({1.0f, std::ldexp(1.0f, -11), std::ldexp(1.0f, -12)}, {1, 3})).In(F16({1, 1, 1}, {3, 1}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out(0).dtype(), DType::kF16);
  EXPECT_EQ(op.out(0).data<Float16>()[0].bits, 0x3C01);
  // [[1,2],[3,4]] x [[0.5,-1],[0.25,2]] = [[1,3],[2.5,5]] in bf16.
  Op bf("MatMul", 13);
  bf.In(BF16({1, 2, 3, 4}, {2, 2})).In(BF16({0.5f, -1, 0.25f, 2}, {2, 2}));
  ASSERT_TRUE(bf.Run().ok());
  std::vector<float> got;
  for (int i = 0; i < 4; ++i) got.push_back(BFloat16ToFloat(bf.out(0).data<BFloat16>()[i]));
  EXPECT_EQ(got, (std::vector<float>{1, 3, 2.5f, 5}));
}

TEST(LinalgMatMulTest, IntegersWrapAround) {
  // int32: 2^30 * 4 + 1 * 5 = 2^32 + 5 wraps to 5.
  Op op("MatMul", 13);
  op.In(I32({1 << 30, 1}, {1, 2})).In(I32({4, 5}, {2, 1}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<int32_t>(op.out(0)), std::vector<int32_t>{5});
  Op u("MatMul", 13);
  u.In(Tensor::FromVector<uint64_t>({3, 4}, {1, 2})).In(Tensor::FromVector<uint64_t>({5, 6}, {2, 1}));
  ASSERT_TRUE(u.Run().ok());
  EXPECT_EQ(Values<uint64_t>(u.out(0)), std::vector<uint64_t>{39});
}

TEST(LinalgMatMulTest, RejectsBadShapes) {
  Op op("MatMul", 13);
  op.In(F32({1, 2, 3, 4, 5, 6}, {2, 3})).In(F32({1, 2, 3, 4}, {2, 2}));
  const Status st = op.Run();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("inner dimensions"), std::string::npos) << st.message();
  Op scalar("MatMul", 13);
  scalar.In(F32({1}, {})).In(F32({1}, {1}));
  EXPECT_FALSE(scalar.Run().ok());
  Op types("MatMul", 13);
  types.In(F32({1}, {1})).In(F64({1}, {1}));
  EXPECT_FALSE(types.Run().ok());
}

TEST(LinalgGemmTest, EpilogueIsFmaOfBetaCAndAlphaAcc) {
  const int64_t M = 7, K = 19, N = 5;
  const std::vector<float> a = RandomFloats(M * K, 5), b = RandomFloats(K * N, 6), c = RandomFloats(N, 7);
  const float alpha = 0.37f, beta = -1.3f;
  Op op("Gemm", 13);
  // A given as K x M (transA), B as N x K (transB), C as a row vector [N].
  std::vector<float> at(static_cast<size_t>(M * K)), bt(static_cast<size_t>(K * N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) at[static_cast<size_t>(k * M + m)] = a[static_cast<size_t>(m * K + k)];
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) bt[static_cast<size_t>(n * K + k)] = b[static_cast<size_t>(k * N + n)];
  op.In(F32(at, {K, M})).In(F32(bt, {N, K})).In(F32(c, {N}));
  op.Attr("transA", IntAttr(1)).Attr("transB", IntAttr(1)).Attr("alpha", FloatAttr(alpha)).Attr("beta", FloatAttr(beta));
  ASSERT_TRUE(op.Run().ok());
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      const float acc = ChainDot<float>(K, [&](int64_t k) { return a[static_cast<size_t>(m * K + k)]; },
                                        [&](int64_t k) { return b[static_cast<size_t>(k * N + n)]; });
      EXPECT_EQ(op.out(0).data<float>()[m * N + n], std::fma(beta, c[static_cast<size_t>(n)], alpha * acc));
    }
}

TEST(LinalgGemmTest, OptionalCAndLegacyBroadcastAttribute) {
  // Opset 11: C omitted -> y = alpha * A.B = 2 * [[1*3 + 2*4]] = 22.
  Op no_c("Gemm", 11);
  no_c.In(F32({1, 2}, {1, 2})).In(F32({3, 4}, {2, 1})).Attr("alpha", FloatAttr(2.0f));
  ASSERT_TRUE(no_c.Run().ok());
  EXPECT_EQ(Values<float>(no_c.out(0)), std::vector<float>{22});
  // Opset 9 requires C.
  Op need_c("Gemm", 9);
  need_c.In(F32({1, 2}, {1, 2})).In(F32({3, 4}, {2, 1}));
  EXPECT_FALSE(need_c.Run().ok());
  // Opset 6: a vector C needs broadcast=1.
  const auto make = [](int64_t broadcast) {
    Op op("Gemm", 6);
    op.In(F32({1, 0, 0, 1}, {2, 2})).In(F32({1, 2, 3, 4}, {2, 2})).In(F32({10, 20}, {2}));
    op.Attr("broadcast", IntAttr(broadcast));
    return op;
  };
  Op strict = make(0);
  EXPECT_FALSE(strict.Run().ok());
  Op bcast = make(1);
  ASSERT_TRUE(bcast.Run().ok());
  EXPECT_EQ(Values<float>(bcast.out(0)), (std::vector<float>{11, 22, 13, 24}));
}

TEST(LinalgGemmTest, IntegerGemmAndBetaZeroStillReadsC) {
  // int32: 2 * (1*3 + 2*4) + 3 * 5 = 37.
  Op op("Gemm", 13);
  op.In(I32({1, 2}, {1, 2})).In(I32({3, 4}, {2, 1})).In(I32({5}, {1}));
  op.Attr("alpha", FloatAttr(2.0f)).Attr("beta", FloatAttr(3.0f));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<int32_t>(op.out(0)), std::vector<int32_t>{37});
  Op frac("Gemm", 13);
  frac.In(I32({1}, {1, 1})).In(I32({1}, {1, 1})).Attr("alpha", FloatAttr(0.5f));
  EXPECT_FALSE(frac.Run().ok());
  // One formula for every beta: fma(0, inf, acc) is NaN.
  Op beta0("Gemm", 13);
  beta0.In(F32({1}, {1, 1})).In(F32({1}, {1, 1})).In(F32({kInf}, {1, 1})).Attr("beta", FloatAttr(0.0f));
  ASSERT_TRUE(beta0.Run().ok());
  EXPECT_TRUE(std::isnan(beta0.out(0).data<float>()[0]));
}

// ---------------------------------------------------------------------------------------------
// Quantized matrix products.

TEST(LinalgQuantMatMulTest, MatMulIntegerPerRowAndPerColumnZeroPoints) {
  // A - a_zp(row) = [[2-1, 2-1], [3-3, 5-3]] = [[1,1],[0,2]]; B - b_zp(col) = [[2-1, 1-2], [3-1, 5-2]]
  // = [[1,-1],[2,3]]; product = [[3, 2], [4, 6]].
  Op op("MatMulInteger", 10);
  op.In(U8({2, 2, 3, 5}, {2, 2})).In(U8({2, 1, 3, 5}, {2, 2})).In(U8({1, 3}, {2})).In(U8({1, 2}, {2}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out(0).dtype(), DType::kI32);
  EXPECT_EQ(Values<int32_t>(op.out(0)), (std::vector<int32_t>{3, 2, 4, 6}));
}

TEST(LinalgQuantMatMulTest, QLinearMatMulRequantizes) {
  // (a - 2) = [0, 2], (b - 1) = [0, 2] -> acc 4; multiplier 0.5 * 1 / 0.25 = 2 -> 8; + y_zp (-1) = 7.
  Op op("QLinearMatMul", 10);
  op.In(U8({2, 4}, {1, 2})).In(F32({0.5f}, {})).In(U8({2}, {}));
  op.In(I8({1, 3}, {2, 1})).In(F32({1.0f}, {})).In(I8({1}, {}));
  op.In(F32({0.25f}, {})).In(I8({-1}, {}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out(0).dtype(), DType::kI8);
  EXPECT_EQ(Values<int8_t>(op.out(0)), std::vector<int8_t>{7});
  // Saturation: acc 4 * 2 / 0.0625 = 128 + 0 -> 127.
  Op sat("QLinearMatMul", 10);
  sat.In(U8({2, 4}, {1, 2})).In(F32({0.5f}, {})).In(U8({2}, {}));
  sat.In(I8({1, 3}, {2, 1})).In(F32({1.0f}, {})).In(I8({1}, {}));
  sat.In(F32({0.015625f}, {})).In(I8({0}, {}));
  ASSERT_TRUE(sat.Run().ok());
  EXPECT_EQ(Values<int8_t>(sat.out(0)), std::vector<int8_t>{127});
}

// ---------------------------------------------------------------------------------------------
// Einsum.

TEST(LinalgEinsumTest, DiagonalTraceTransposeAndImplicitOutput) {
  const Tensor x = F32({1, 2, 3, 4}, {2, 2});
  Op diag("Einsum", 12);
  diag.In(x).Attr("equation", StringAttr("ii->i"));
  ASSERT_TRUE(diag.Run().ok());
  EXPECT_EQ(Values<float>(diag.out(0)), (std::vector<float>{1, 4}));
  Op trace("Einsum", 12);
  trace.In(x).Attr("equation", StringAttr("ii"));  // implicit: no label appears once -> scalar
  ASSERT_TRUE(trace.Run().ok());
  EXPECT_EQ(trace.out(0).shape(), Shape{});
  EXPECT_EQ(Values<float>(trace.out(0)), std::vector<float>{5});
  Op tr("Einsum", 12);
  tr.In(F32({1, 2, 3, 4, 5, 6}, {2, 3})).Attr("equation", StringAttr("ba"));  // implicit "ab"
  ASSERT_TRUE(tr.Run().ok());
  EXPECT_EQ(tr.out(0).shape(), (Shape{3, 2}));
  EXPECT_EQ(Values<float>(tr.out(0)), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  Op upper("Einsum", 12);
  upper.In(F32({1, 2, 3, 4, 5, 6}, {2, 3})).Attr("equation", StringAttr("Ba"));  // 'B' < 'a' in ASCII
  ASSERT_TRUE(upper.Run().ok());
  EXPECT_EQ(upper.out(0).shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(upper.out(0)), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  Op mm("Einsum", 12);
  mm.In(x).In(F32({5, 6, 7, 8}, {2, 2})).Attr("equation", StringAttr("ij, jk"));  // implicit "ik"
  ASSERT_TRUE(mm.Run().ok());
  EXPECT_EQ(Values<float>(mm.out(0)), (std::vector<float>{19, 22, 43, 50}));
}

TEST(LinalgEinsumTest, EllipsisBroadcastsAndThreeOperands) {
  // A [2,1,1,2] (batch [2,1]), B [3,2,1] (batch [3]) -> [2,3,1,1]: out[i][j] = A[i] . B[j].
  Op op("Einsum", 12);
  op.In(F32({1, 2, 3, 4}, {2, 1, 1, 2})).In(F32({1, 1, 1, 0, 0, 1}, {3, 2, 1}));
  op.Attr("equation", StringAttr("...ij,...jk->...ik"));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out(0).shape(), (Shape{2, 3, 1, 1}));
  EXPECT_EQ(Values<float>(op.out(0)), (std::vector<float>{3, 1, 2, 7, 3, 4}));
  // 1*4*7 + 2*5*8 + 3*6*9 = 28 + 80 + 162 = 270.
  Op three("Einsum", 12);
  three.In(F32({1, 2, 3}, {3})).In(F32({4, 5, 6}, {3})).In(F32({7, 8, 9}, {3})).Attr("equation", StringAttr("i,i,i->"));
  ASSERT_TRUE(three.Run().ok());
  EXPECT_EQ(Values<float>(three.out(0)), std::vector<float>{270});
  // int8 wraps: 100*2 + 100*1 = 300 -> 44.
  Op i8("Einsum", 12);
  i8.In(I8({100, 100}, {2})).In(I8({2, 1}, {2})).Attr("equation", StringAttr("i,i->"));
  ASSERT_TRUE(i8.Run().ok());
  EXPECT_EQ(Values<int8_t>(i8.out(0)), std::vector<int8_t>{44});
}

TEST(LinalgEinsumTest, TwoOperandContractionIsBitwiseMatMul) {
  const std::vector<float> a = RandomFloats(13 * 50, 8), b = RandomFloats(50 * 7, 9);
  Op e("Einsum", 12);
  e.In(F32(a, {13, 50})).In(F32(b, {50, 7})).Attr("equation", StringAttr("ij,jk->ik"));
  ASSERT_TRUE(e.Run().ok());
  Op m("MatMul", 13);
  m.In(F32(a, {13, 50})).In(F32(b, {50, 7}));
  ASSERT_TRUE(m.Run().ok());
  EXPECT_EQ(Bits(e.out(0)), Bits(m.out(0)));
}

TEST(LinalgEinsumTest, RejectsBadEquations) {
  Op count("Einsum", 12);
  count.In(F32({1, 2}, {2})).Attr("equation", StringAttr("i,i->i"));
  EXPECT_FALSE(count.Run().ok());
  Op ell("Einsum", 12);
  ell.In(F32({1, 2, 3, 4}, {2, 2})).Attr("equation", StringAttr("...i->i"));  // numpy rejects too
  EXPECT_FALSE(ell.Run().ok());
  Op rank("Einsum", 12);
  rank.In(F32({1, 2, 3, 4}, {2, 2})).Attr("equation", StringAttr("ijk->i"));
  EXPECT_FALSE(rank.Run().ok());
  Op label("Einsum", 12);
  label.In(F32({1, 2}, {2})).Attr("equation", StringAttr("i->j"));
  EXPECT_FALSE(label.Run().ok());
}

// ---------------------------------------------------------------------------------------------
// Det.

TEST(LinalgDetTest, PivotingSingularBatchedAndEmpty) {
  Op op("Det", 11);
  // diag(2,3,4) -> 24; [[0,1],[1,0]] needs a row swap -> -1; [[1,2],[2,4]] is singular -> 0.
  op.In(F32({2, 0, 0, 0, 3, 0, 0, 0, 4}, {3, 3}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<float>(op.out(0)), std::vector<float>{24});
  Op batch("Det", 11);
  batch.In(F32({0, 1, 1, 0, 1, 2, 2, 4}, {2, 2, 2}));
  ASSERT_TRUE(batch.Run().ok());
  EXPECT_EQ(batch.out(0).shape(), Shape{2});
  EXPECT_EQ(Values<float>(batch.out(0)), (std::vector<float>{-1, 0}));
  Op empty("Det", 11);  // the determinant of a 0x0 matrix is 1
  empty.In(F32({}, {0, 0}));
  ASSERT_TRUE(empty.Run().ok());
  EXPECT_EQ(Values<float>(empty.out(0)), std::vector<float>{1});
  Op half("Det", 11);  // [[1,2],[3,4]] -> pivot row 1: -(3 * (2 - 4/3)) = -2 (within f32 rounding)
  half.In(F16({1, 2, 3, 4}, {2, 2}));
  ASSERT_TRUE(half.Run().ok());
  EXPECT_EQ(HalfValues(half.out(0)), std::vector<float>{-2});
  Op bad("Det", 11);
  bad.In(F32({1, 2}, {1, 2}));
  EXPECT_FALSE(bad.Run().ok());
}

// ---------------------------------------------------------------------------------------------
// Conv / ConvTranspose: chain over (ic, kernel position); a padded term is fma(w, 0, acc) for Conv
// and skipped for ConvTranspose.

struct ConvCase {
  Shape x, w;
  int64_t group;
  std::vector<int64_t> strides, dilations, pads, output_padding;
  bool bias;
};

int64_t Prod(const std::vector<int64_t>& v, size_t from = 0) {
  int64_t p = 1;
  for (size_t i = from; i < v.size(); ++i) p *= v[i];
  return p;
}

// Straightforward reference: for every output element, acc = 0, then for ic of the group and
// kernel positions in row-major order, acc = fma(w, x, acc) when the term exists; then + bias.
std::vector<float> NaiveConv(const ConvCase& c, const std::vector<float>& x, const std::vector<float>& w,
                             const std::vector<float>& b, bool transpose, Shape* out_shape) {
  const size_t S = c.x.size() - 2;
  const int64_t N = c.x[0], C = c.x[1], G = c.group, Cg = C / G;
  const int64_t OCg = transpose ? c.w[1] : c.w[0] / G, OC = OCg * G;
  std::vector<int64_t> in(c.x.begin() + 2, c.x.end()), k(c.w.begin() + 2, c.w.end()), out(S);
  for (size_t d = 0; d < S; ++d) {
    const int64_t ek = (k[d] - 1) * c.dilations[d] + 1;
    out[d] = transpose ? c.strides[d] * (in[d] - 1) + c.output_padding[d] + ek - c.pads[d] - c.pads[d + S]
                       : (in[d] + c.pads[d] + c.pads[d + S] - ek) / c.strides[d] + 1;
  }
  *out_shape = {N, OC};
  out_shape->insert(out_shape->end(), out.begin(), out.end());
  const int64_t in_plane = Prod(in), out_plane = Prod(out), ks = Prod(k);
  std::vector<float> y;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < OC; ++oc)
      for (int64_t o = 0; o < out_plane; ++o) {
        std::vector<int64_t> oi(S);
        for (size_t d = S, r = static_cast<size_t>(o); d-- > 0;) {
          oi[d] = static_cast<int64_t>(r) % out[d];
          r /= static_cast<size_t>(out[d]);
        }
        const int64_t g = oc / OCg;
        float acc = 0;
        for (int64_t icl = 0; icl < Cg; ++icl)
          for (int64_t kp = 0; kp < ks; ++kp) {
            int64_t rem = kp, off = 0;
            bool ok = true;
            std::vector<int64_t> kd(S);
            for (size_t d = S; d-- > 0;) {
              kd[d] = rem % k[d];
              rem /= k[d];
            }
            for (size_t d = 0; d < S && ok; ++d) {
              int64_t id;
              if (!transpose) {
                id = oi[d] * c.strides[d] + kd[d] * c.dilations[d] - c.pads[d];
              } else {
                const int64_t t = oi[d] + c.pads[d] - kd[d] * c.dilations[d];
                ok = t >= 0 && t % c.strides[d] == 0;
                id = t / c.strides[d];
              }
              ok = ok && id >= 0 && id < in[d];
              off = off * in[d] + id;
            }
            if (!ok) continue;
            const int64_t ic = g * Cg + icl;
            const float wv = transpose ? w[static_cast<size_t>((ic * OCg + oc % OCg) * ks + kp)]
                                       : w[static_cast<size_t>((oc * Cg + icl) * ks + kp)];
            acc = std::fma(wv, x[static_cast<size_t>((n * C + ic) * in_plane + off)], acc);
          }
        y.push_back(c.bias ? acc + b[static_cast<size_t>(oc)] : acc);
      }
  return y;
}

void CheckConvAgainstNaive(const ConvCase& c, bool transpose, uint32_t seed) {
  const std::vector<float> x = RandomFloats(static_cast<size_t>(Prod(c.x)), seed);
  const std::vector<float> w = RandomFloats(static_cast<size_t>(Prod(c.w)), seed + 1);
  const int64_t OC = transpose ? c.w[1] * c.group : c.w[0];
  const std::vector<float> b = RandomFloats(static_cast<size_t>(OC), seed + 2);
  Shape want_shape;
  const std::vector<float> want = NaiveConv(c, x, w, b, transpose, &want_shape);
  std::vector<uint32_t> want_bits;
  for (float f : want) want_bits.push_back(std::bit_cast<uint32_t>(f));
  ThreadPool pool(3);
  for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
    Op op(transpose ? "ConvTranspose" : "Conv", 11);
    op.In(F32(x, c.x)).In(F32(w, c.w));
    if (c.bias) op.In(F32(b, {OC}));
    op.Attr("group", IntAttr(c.group)).Attr("strides", IntsAttr(c.strides)).Attr("dilations", IntsAttr(c.dilations));
    op.Attr("pads", IntsAttr(c.pads));
    if (transpose) op.Attr("output_padding", IntsAttr(c.output_padding));
    const Status st = op.Run(p);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(op.out(0).shape(), want_shape);
    EXPECT_EQ(Bits(op.out(0)), want_bits) << ShapeToString(c.x) << " * " << ShapeToString(c.w);
  }
}

TEST(LinalgConvTest, IsBitwiseTheSkippingChainAtAnyThreadCount) {
  // 2-D with groups, mixed strides/dilations and asymmetric pads; more than 128 output columns.
  CheckConvAgainstNaive({{2, 4, 9, 140}, {6, 2, 3, 2}, 2, {2, 1}, {1, 2}, {1, 0, 2, 1}, {}, true}, false, 10);
  // 1-D, 3-D, depthwise with multiplier, pointwise (flattened) 1x1, no bias.
  CheckConvAgainstNaive({{1, 3, 17}, {5, 3, 4}, 1, {3}, {2}, {2, 3}, {}, true}, false, 20);
  CheckConvAgainstNaive({{1, 2, 5, 6, 7}, {3, 2, 2, 3, 2}, 1, {1, 2, 1}, {2, 1, 1}, {1, 0, 1, 1, 2, 0}, {}, false},
                        false, 30);
  CheckConvAgainstNaive({{1, 4, 7, 7}, {8, 1, 3, 3}, 4, {1, 1}, {1, 1}, {1, 1, 1, 1}, {}, true}, false, 40);
  CheckConvAgainstNaive({{2, 16, 12, 13}, {9, 16, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, {}, false}, false, 50);
}

TEST(LinalgConvTest, ConvTransposeIsBitwiseTheSkippingChain) {
  CheckConvAgainstNaive({{2, 4, 5, 6}, {4, 3, 3, 2}, 2, {2, 3}, {1, 2}, {1, 0, 0, 2}, {1, 2}, true}, true, 60);
  CheckConvAgainstNaive({{1, 3, 70}, {3, 2, 5}, 1, {2}, {1}, {2, 1}, {0}, false}, true, 70);
  CheckConvAgainstNaive({{1, 2, 3, 4, 2}, {2, 1, 2, 2, 3}, 2, {1, 2, 2}, {2, 1, 1}, {0, 1, 0, 0, 0, 1}, {0, 1, 1}, true},
                        true, 80);
}

TEST(LinalgConvTest, PaddedTermsAreMultipliedByZero) {
  // Every weight is +Inf, input all ones: every window touches the padding, and a padded term is
  // fma(Inf, 0, acc) = NaN (the canonical definition, as im2col computes it), on every ISA.
  const simd::Isa before = simd::CurrentIsa();
  for (simd::Isa isa : {simd::Isa::kScalar, simd::Isa::kAvx2, simd::Isa::kAvx512}) {
    if (!simd::SetIsa(isa).ok()) continue;
    Op op("Conv", 11);
    op.In(F32({1, 1, 1, 1}, {1, 1, 2, 2})).In(F32(std::vector<float>(9, kInf), {1, 1, 3, 3}));
    op.Attr("pads", IntsAttr({1, 1, 1, 1}));
    ASSERT_TRUE(op.Run().ok());
    for (float v : Values<float>(op.out(0))) EXPECT_TRUE(std::isnan(v)) << simd::IsaName(isa);
  }
  ASSERT_TRUE(simd::SetIsa(before).ok());
}

TEST(LinalgConvTest, AutoPadSameLowerPutsTheExtraPadFirst) {
  // x = [1,2,3,4,5], w = [1,1,1,1], stride 2: out = ceil(5/2) = 3, total pad = 2*2 + 4 - 5 = 3.
  // SAME_LOWER: pads (2, 1): windows [-2,1], [0,3], [2,5] -> 3, 10, 12.
  // SAME_UPPER: pads (1, 2): windows [-1,2], [1,4], [3,6] -> 6, 14, 9.
  for (auto [mode, want] : std::vector<std::pair<std::string, std::vector<float>>>{
           {"SAME_LOWER", {3, 10, 12}}, {"SAME_UPPER", {6, 14, 9}}}) {
    Op op("Conv", 1);
    op.In(F32({1, 2, 3, 4, 5}, {1, 1, 5})).In(F32({1, 1, 1, 1}, {1, 1, 4}));
    op.Attr("auto_pad", StringAttr(mode)).Attr("strides", IntsAttr({2}));
    ASSERT_TRUE(op.Run().ok());
    EXPECT_EQ(Values<float>(op.out(0)), want) << mode;
  }
}

TEST(LinalgConvTest, HalfAndDoubleAndBias) {
  // x = [1,2,3], w = [0.5, 0.25], bias 1: [1*0.5 + 2*0.25 + 1, 2*0.5 + 3*0.25 + 1] = [2, 2.75].
  Op h("Conv", 11);
  h.In(F16({1, 2, 3}, {1, 1, 3})).In(F16({0.5f, 0.25f}, {1, 1, 2})).In(F16({1}, {1}));
  ASSERT_TRUE(h.Run().ok());
  EXPECT_EQ(HalfValues(h.out(0)), (std::vector<float>{2, 2.75f}));
  Op d("Conv", 11);
  d.In(F64({1, 2, 3}, {1, 1, 3})).In(F64({0.5, 0.25}, {1, 1, 2})).In(F64({1}, {1}));
  ASSERT_TRUE(d.Run().ok());
  EXPECT_EQ(Values<double>(d.out(0)), (std::vector<double>{2, 2.75}));
}

TEST(LinalgConvTest, RejectsInconsistentShapes) {
  Op group("Conv", 11);
  group.In(F32(std::vector<float>(4), {1, 4, 1})).In(F32(std::vector<float>(3), {3, 1, 1})).Attr("group", IntAttr(3));
  EXPECT_FALSE(group.Run().ok());
  Op kernel("Conv", 11);
  kernel.In(F32(std::vector<float>(4), {1, 1, 4})).In(F32(std::vector<float>(2), {1, 1, 2}));
  kernel.Attr("kernel_shape", IntsAttr({3}));
  EXPECT_FALSE(kernel.Run().ok());
  Op channels("Conv", 11);
  channels.In(F32(std::vector<float>(8), {1, 2, 4})).In(F32(std::vector<float>(3), {1, 3, 1}));
  EXPECT_FALSE(channels.Run().ok());
  Op small("Conv", 11);
  small.In(F32(std::vector<float>(2), {1, 1, 2})).In(F32(std::vector<float>(3), {1, 1, 3}));
  EXPECT_FALSE(small.Run().ok());
}

TEST(LinalgConvTest, ConvIntegerPerChannelZeroPointAndQLinearConvBias) {
  // x - 1 = [0,1,2]; w - w_zp(oc) = [[0,1]], [[1,2]]: oc0 = [0*0+1*1, 1*0+2*1] = [1,2];
  // oc1 = [0*1+1*2, 1*1+2*2] = [2,5].
  Op op("ConvInteger", 10);
  op.In(U8({1, 2, 3}, {1, 1, 3})).In(I8({1, 2, 3, 4}, {2, 1, 2})).In(U8({1}, {})).In(I8({1, 2}, {2}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<int32_t>(op.out(0)), (std::vector<int32_t>{1, 2, 2, 5}));
  // Same accumulators + bias [10, -10], unit scales: [11, 12] and [-8, -5] saturated to uint8 0.
  Op q("QLinearConv", 10);
  q.In(U8({1, 2, 3}, {1, 1, 3})).In(F32({1}, {})).In(U8({1}, {}));
  q.In(I8({1, 2, 3, 4}, {2, 1, 2})).In(F32({1, 1}, {2})).In(I8({1, 2}, {2}));
  q.In(F32({1}, {})).In(U8({0}, {})).In(I32({10, -10}, {2}));
  ASSERT_TRUE(q.Run().ok());
  EXPECT_EQ(Values<uint8_t>(q.out(0)), (std::vector<uint8_t>{11, 12, 0, 0}));
}

// ---------------------------------------------------------------------------------------------
// Pools.

TEST(LinalgPoolTest, AveragePoolSumsInCanonicalLaneOrder) {
  // Window [2^24, 1, 0, 1]: lanes 1 and 3 meet first -> 2^24 + 2; / 4 = 4194304.5. A sequential
  // sum would give 2^24 and 4194304.
  Op op("AveragePool", 11);
  op.In(F32({16777216.0f, 1, 0, 1}, {1, 1, 4})).Attr("kernel_shape", IntsAttr({4}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<float>(op.out(0)), std::vector<float>{4194304.5f});
}

TEST(LinalgPoolTest, AveragePoolCeilModeCountIncludePad) {
  // x = [1,2,3,4], kernel 3, stride 2, pads (1,1), ceil_mode: out = ceil(3/2) + 1 = 3 windows
  // starting at -1, 1, 3. Include pad: counts positions in [-1, 5): 3, 3, 2 -> [3/3, 9/3, 4/2].
  // Exclude pad: counts 2, 3, 1 -> [1.5, 3, 4].
  for (int64_t include : {1, 0}) {
    Op op("AveragePool", 11);
    op.In(F32({1, 2, 3, 4}, {1, 1, 4})).Attr("kernel_shape", IntsAttr({3})).Attr("strides", IntsAttr({2}));
    op.Attr("pads", IntsAttr({1, 1})).Attr("ceil_mode", IntAttr(1)).Attr("count_include_pad", IntAttr(include));
    ASSERT_TRUE(op.Run().ok());
    EXPECT_EQ(Values<float>(op.out(0)), include ? (std::vector<float>{1, 3, 2}) : (std::vector<float>{1.5f, 3, 4}));
  }
}

TEST(LinalgPoolTest, MaxPoolNanIndicesStorageOrderAndInt8Padding) {
  Op nan("MaxPool", 12);
  nan.In(F32({1, kNaN, 3, 2}, {1, 1, 4})).Attr("kernel_shape", IntsAttr({2})).Outputs({true, true});
  ASSERT_TRUE(nan.Run().ok());
  const std::vector<float> y = Values<float>(nan.out(0));
  EXPECT_TRUE(std::isnan(y[0]) && std::isnan(y[1]));
  EXPECT_EQ(y[2], 3);
  EXPECT_EQ(Values<int64_t>(nan.out(1)), (std::vector<int64_t>{1, 1, 2}));
  // x = [[1,5,2],[4,3,6]], kernel 2x2: maxima 5 at (0,1) and 6 at (1,2); column-major indices
  // h + w * H = 0 + 1*2 = 2 and 1 + 2*2 = 5; with a second channel add H*W = 6.
  Op col("MaxPool", 12);
  col.In(F32({1, 5, 2, 4, 3, 6, 1, 5, 2, 4, 3, 6}, {1, 2, 2, 3})).Attr("kernel_shape", IntsAttr({2, 2}));
  col.Attr("storage_order", IntAttr(1)).Outputs({true, true});
  ASSERT_TRUE(col.Run().ok());
  EXPECT_EQ(Values<int64_t>(col.out(1)), (std::vector<int64_t>{2, 5, 8, 11}));
  // int8 with padding: padded positions are skipped (not 0): windows [-1,0],[0,1],[1,2],[2,3].
  Op i8("MaxPool", 12);
  i8.In(I8({-5, -3, -7}, {1, 1, 3})).Attr("kernel_shape", IntsAttr({2})).Attr("pads", IntsAttr({1, 1}));
  ASSERT_TRUE(i8.Run().ok());
  EXPECT_EQ(Values<int8_t>(i8.out(0)), (std::vector<int8_t>{-5, -3, -3, -7}));
}

TEST(LinalgPoolTest, LpPoolAndGlobalLpPool) {
  Op p2("LpPool", 11);  // sqrt(3^2 + 4^2) = 5
  p2.In(F32({3, 4}, {1, 1, 2})).Attr("kernel_shape", IntsAttr({2}));
  ASSERT_TRUE(p2.Run().ok());
  EXPECT_EQ(Values<float>(p2.out(0)), std::vector<float>{5});
  Op p1("LpPool", 1);  // opset 1: p is a float attribute; |-1| + |2| = 3
  p1.In(F32({-1, 2}, {1, 1, 2})).Attr("kernel_shape", IntsAttr({2})).Attr("p", FloatAttr(1.0f));
  ASSERT_TRUE(p1.Run().ok());
  EXPECT_EQ(Values<float>(p1.out(0)), std::vector<float>{3});
  Op p3("LpPool", 11);  // (1 + 8 + 8)^(1/3) = 17^(1/3) = 2.5712815906...
  p3.In(F32({1, -2, 2}, {1, 1, 3})).Attr("kernel_shape", IntsAttr({3})).Attr("p", IntAttr(3));
  ASSERT_TRUE(p3.Run().ok());
  EXPECT_NEAR(p3.out(0).data<float>()[0], 2.5712815906f, 1e-5f);
  Op g("GlobalLpPool", 2);  // per channel: sqrt(9 + 16) = 5, sqrt(36 + 64) = 10
  g.In(F32({3, 4, 6, 8}, {1, 2, 2, 1}));
  ASSERT_TRUE(g.Run().ok());
  EXPECT_EQ(g.out(0).shape(), (Shape{1, 2, 1, 1}));
  EXPECT_EQ(Values<float>(g.out(0)), (std::vector<float>{5, 10}));
}

TEST(LinalgPoolTest, MaxRoiPoolAndRoiAlignOnSimpleInputs) {
  // x = 0..15 in a 4x4 plane; ROI (0,0)-(3,3) -> 2x2 bins of 2x2 -> maxima 5, 7, 13, 15.
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i);
  Op op("MaxRoiPool", 1);
  op.In(F32(x, {1, 1, 4, 4})).In(F32({0, 0, 0, 3, 3}, {1, 5})).Attr("pooled_shape", IntsAttr({2, 2}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<float>(op.out(0)), (std::vector<float>{5, 7, 13, 15}));
  Op bad("MaxRoiPool", 1);
  bad.In(F32(x, {1, 1, 4, 4})).In(F32({1, 0, 0, 3, 3}, {1, 5})).Attr("pooled_shape", IntsAttr({2, 2}));
  EXPECT_FALSE(bad.Run().ok());  // batch index 1 of a batch of 1
  // RoiAlign of a constant plane is that constant (bilinear weights sum to 1).
  Op ra("RoiAlign", 16);
  ra.In(F32(std::vector<float>(16, 3.0f), {1, 1, 4, 4})).In(F32({0.5f, 0.5f, 2.5f, 2.5f}, {1, 4})).In(I64({0}, {1}));
  ra.Attr("output_height", IntAttr(2)).Attr("output_width", IntAttr(2)).Attr("sampling_ratio", IntAttr(2));
  ASSERT_TRUE(ra.Run().ok());
  for (float v : Values<float>(ra.out(0))) EXPECT_NEAR(v, 3.0f, 1e-6f);
  Op rb("RoiAlign", 16);
  rb.In(F32(std::vector<float>(16, 3.0f), {1, 1, 4, 4})).In(F32({0, 0, 1, 1}, {1, 4})).In(I64({2}, {1}));
  EXPECT_FALSE(rb.Run().ok());  // batch index out of range
}

TEST(LinalgPoolTest, MaxUnpoolValidatesIndices) {
  Op op("MaxUnpool", 11);
  op.In(F32({1, 2}, {1, 1, 2})).In(I64({0, 4}, {1, 1, 2})).Attr("kernel_shape", IntsAttr({2})).Attr("strides", IntsAttr({2}));
  EXPECT_FALSE(op.Run().ok());  // output has 4 elements
  Op ok("MaxUnpool", 11);
  ok.In(F32({1, 2}, {1, 1, 2})).In(I64({1, 2}, {1, 1, 2})).Attr("kernel_shape", IntsAttr({2})).Attr("strides", IntsAttr({2}));
  ASSERT_TRUE(ok.Run().ok());
  EXPECT_EQ(Values<float>(ok.out(0)), (std::vector<float>{0, 1, 2, 0}));
}

// ---------------------------------------------------------------------------------------------
// Quantization.

TEST(LinalgQuantTest, QuantizePerAxisRoundsHalfToEvenAndSaturates) {
  // axis 1, scales [1, 0.5, 2], zero points [0, 1, -1]:
  //   col 0: 2.5 -> 2, 3.5 -> 4; col 1: 1.25/0.5 = 2.5 -> 2 + 1 = 3, -400 + 1 -> -128;
  //   col 2: -5/2 = -2.5 -> -2 - 1 = -3, 150 - 1 = 149 -> 127.
  Op op("QuantizeLinear", 13);
  op.In(F32({2.5f, 1.25f, -5, 3.5f, -200, 300}, {2, 3})).In(F32({1, 0.5f, 2}, {3})).In(I8({0, 1, -1}, {3}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<int8_t>(op.out(0)), (std::vector<int8_t>{2, 3, -3, 4, -128, 127}));
  // No zero point: uint8 output; NaN quantizes to the zero point; int32 input.
  Op u("QuantizeLinear", 10);
  u.In(F32({kNaN, -3, 254.5f, 255.5f}, {4})).In(F32({1}, {}));
  ASSERT_TRUE(u.Run().ok());
  EXPECT_EQ(u.out(0).dtype(), DType::kU8);
  EXPECT_EQ(Values<uint8_t>(u.out(0)), (std::vector<uint8_t>{0, 0, 254, 255}));
  Op i("QuantizeLinear", 13);
  i.In(I32({5, -5}, {2})).In(F32({2}, {})).In(I8({0}, {}));
  ASSERT_TRUE(i.Run().ok());
  EXPECT_EQ(Values<int8_t>(i.out(0)), (std::vector<int8_t>{2, -2}));  // 2.5 -> 2, -2.5 -> -2
  Op axis10("QuantizeLinear", 10);  // per-axis needs opset 13
  axis10.In(F32({1, 2}, {1, 2})).In(F32({1, 1}, {2}));
  EXPECT_FALSE(axis10.Run().ok());
}

TEST(LinalgQuantTest, DequantizePerAxisAndInt32) {
  // axis 0: row 0 (10 - 10) * 0.5 = 0, (20 - 10) * 0.5 = 5; row 1: 30 * 0.25 = 7.5, 40 * 0.25 = 10.
  Op op("DequantizeLinear", 13);
  op.In(U8({10, 20, 30, 40}, {2, 2})).In(F32({0.5f, 0.25f}, {2})).In(U8({10, 0}, {2})).Attr("axis", IntAttr(0));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<float>(op.out(0)), (std::vector<float>{0, 5, 7.5f, 10}));
  Op i("DequantizeLinear", 10);
  i.In(I32({-3, 7}, {2})).In(F32({0.5f}, {}));
  ASSERT_TRUE(i.Run().ok());
  EXPECT_EQ(Values<float>(i.out(0)), (std::vector<float>{-1.5f, 3.5f}));
}

TEST(LinalgQuantTest, DynamicQuantizeEdgeCases) {
  // All zeros: max == min -> scale 1, zero point 0.
  Op z("DynamicQuantizeLinear", 11);
  z.In(F32({0, 0}, {2})).Outputs({true, true, true});
  ASSERT_TRUE(z.Run().ok());
  EXPECT_EQ(Values<float>(z.out(1)), std::vector<float>{1});
  EXPECT_EQ(Values<uint8_t>(z.out(2)), std::vector<uint8_t>{0});
  // [NaN, -255, 255]: NaN ignored for the range; scale 510/255 = 2; zp = round(127.5) = 128;
  // y = [zp, -127.5 -> -128 + 128 = 0, 127.5 -> 128 + 128 = 256 -> 255].
  Op n("DynamicQuantizeLinear", 11);
  n.In(F32({kNaN, -255, 255}, {3})).Outputs({true, true, true});
  ASSERT_TRUE(n.Run().ok());
  EXPECT_EQ(Values<float>(n.out(1)), std::vector<float>{2});
  EXPECT_EQ(Values<uint8_t>(n.out(2)), std::vector<uint8_t>{128});
  EXPECT_EQ(Values<uint8_t>(n.out(0)), (std::vector<uint8_t>{128, 0, 255}));
}

}  // namespace
}  // namespace idem
