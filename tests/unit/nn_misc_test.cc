// nn_misc family (RNN/GRU/LSTM, random ops, Dropout, training optimizers, strings, signal): the
// behaviour the ONNX conformance data does not cover — reverse/bidirectional directions,
// sequence_lens, layout 1, activation attributes, linear_before_reset, peepholes and input_forget,
// random-op invariants (range, seed handling, thread-count independence), Dropout's old opsets,
// double-precision optimizers, UTF-8 case mapping, TF-IDF weighting with string pools and skips,
// small DFTs, and error paths. Expected values are computed by hand (comments show how).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
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



Tensor BoolScalar(bool b) {
  Tensor t = Tensor::Make(DType::kBool, {});
  t.data<bool>()[0] = b;
  return t;
}

// ---------------------------------------------------------------------------------------------
// Recurrent layers.

// Bidirectional RNN, hidden = input = 1, Relu, sequence_lens = [3, 2]. Forward W=1, R=0.5;
// reverse W=2, R=1; no bias. X (seq-major) batch 0 = [1, 2, 3], batch 1 = [4, -1, 9(padding)].
//  fwd b0: 1, 2 + 0.5*1 = 2.5, 3 + 0.5*2.5 = 4.25      fwd b1: 4, relu(-1 + 2) = 1, (t=2) 0
//  rev b0 (t = 2, 1, 0): 6, 4 + 6 = 10, 2 + 10 = 12     rev b1 (t = 1, 0): relu(-2) = 0, 8 + 0 = 8
TEST(NnMiscRnnTest, BidirectionalRnnWithSequenceLensAndRelu) {
  for (int64_t layout : {0, 1}) {
    Op op("RNN", 14);
    op.Attr("direction", StringAttr("bidirectional")).Attr("hidden_size", IntAttr(1));
    op.Attr("activations", StringsAttr({"Relu", "Relu"})).Attr("layout", IntAttr(layout));
    const std::vector<float> x_seq_major = {1, 4, 2, -1, 3, 9};  // [t][b]
    const std::vector<float> x_batch_major = {1, 2, 3, 4, -1, 9};  // [b][t]
    op.In(layout == 0 ? F32(x_seq_major, {3, 2, 1}) : F32(x_batch_major, {2, 3, 1}));
    op.In(F32({1, 2}, {2, 1, 1})).In(F32({0.5f, 1}, {2, 1, 1})).In(Tensor()).In(I32({3, 2}, {2}));
    op.Outputs(2);
    ASSERT_TRUE(op.Run().ok());
    if (layout == 0) {
      ASSERT_EQ(op.out(0).shape(), (Shape{3, 2, 2, 1}));  // [t][dir][b]
      EXPECT_EQ(Values<float>(op.out(0)), (std::vector<float>{1, 4, 12, 8, 2.5f, 1, 10, 0, 4.25f, 0, 6, 0}));
      ASSERT_EQ(op.out(1).shape(), (Shape{2, 2, 1}));  // [dir][b]
      EXPECT_EQ(Values<float>(op.out(1)), (std::vector<float>{4.25f, 1, 12, 8}));
    } else {
      ASSERT_EQ(op.out(0).shape(), (Shape{2, 3, 2, 1}));  // [b][t][dir]
      EXPECT_EQ(Values<float>(op.out(0)), (std::vector<float>{1, 12, 2.5f, 10, 4.25f, 6, 4, 8, 1, 0, 0, 0}));
      ASSERT_EQ(op.out(1).shape(), (Shape{2, 2, 1}));  // [b][dir]
      EXPECT_EQ(Values<float>(op.out(1)), (std::vector<float>{4.25f, 12, 1, 8}));
    }
  }
}

// GRU with constant gates: f = HardSigmoid(alpha 0, beta 0.5) gives z = r = 0.5, g = Affine(1, 0)
// is the identity. W = [0, 0, 1], R = [0, 0, 2], Wbh = 0.5, Rbh = 1, H0 = 1, x = 2.
//  linear_before_reset = 0: h~ = x + Rh*(r*H) + Rbh + Wbh = 2 + 1 + 1 + 0.5 = 4.5; H = 0.5*4.5 + 0.5 = 2.75
//  linear_before_reset = 1: h~ = x + r*(Rh*H + Rbh) + Wbh = 2 + 1.5 + 0.5 = 4;     H = 0.5*4 + 0.5 = 2.5
TEST(NnMiscRnnTest, GruLinearBeforeResetAndActivationParameters) {
  for (int64_t lbr : {0, 1}) {
    Op op("GRU", 7);
    op.Attr("hidden_size", IntAttr(1)).Attr("linear_before_reset", IntAttr(lbr));
    op.Attr("activations", StringsAttr({"HardSigmoid", "Affine"}));
    op.Attr("activation_alpha", FloatsAttr({0.0f, 1.0f})).Attr("activation_beta", FloatsAttr({0.5f, 0.0f}));
    op.In(F32({2}, {1, 1, 1})).In(F32({0, 0, 1}, {1, 3, 1})).In(F32({0, 0, 2}, {1, 3, 1}));
    op.In(F32({0, 0, 0.5f, 0, 0, 1}, {1, 6})).In(Tensor()).In(F32({1}, {1, 1, 1}));
    op.Outputs(2);
    ASSERT_TRUE(op.Run().ok());
    EXPECT_EQ(Values<float>(op.out(1)), (std::vector<float>{lbr ? 2.5f : 2.75f}));
  }
}

// LSTM, hidden = input = 1, f(x) = Affine(0.5, 0) = x/2, g = h = identity, W = [1, 1, 1, 1]
// (gates i, o, f, c), R = 0, P = [Pi, Po, Pf] = [2, 4, 1], x = 1, H0 = 0, C0 = 1:
//  i = (1 + 2*1)/2 = 1.5, f = (1 + 1*1)/2 = 1, c~ = 1, C = 1*1 + 1.5*1 = 2.5,
//  o = (1 + 4*2.5)/2 = 5.5, H = 5.5 * 2.5 = 13.75.
// input_forget = 1: f = 1 - i = -0.5, C = -0.5 + 1.5 = 1, o = (1 + 4)/2 = 2.5, H = 2.5.
TEST(NnMiscRnnTest, LstmPeepholesInputForgetAndCellOutput) {
  for (int64_t input_forget : {0, 1}) {
    Op op("LSTM", 14);
    op.Attr("hidden_size", IntAttr(1)).Attr("input_forget", IntAttr(input_forget));
    op.Attr("activations", StringsAttr({"Affine", "Affine", "Affine"}));
    op.Attr("activation_alpha", FloatsAttr({0.5f, 1.0f, 1.0f})).Attr("activation_beta", FloatsAttr({0, 0, 0}));
    op.In(F32({1}, {1, 1, 1})).In(F32({1, 1, 1, 1}, {1, 4, 1})).In(F32({0, 0, 0, 0}, {1, 4, 1}));
    op.In(Tensor()).In(Tensor()).In(F32({0}, {1, 1, 1})).In(F32({1}, {1, 1, 1})).In(F32({2, 4, 1}, {1, 3}));
    op.Outputs(3);
    ASSERT_TRUE(op.Run().ok());
    EXPECT_EQ(Values<float>(op.out(0)), (std::vector<float>{input_forget ? 2.5f : 13.75f}));
    EXPECT_EQ(Values<float>(op.out(1)), (std::vector<float>{input_forget ? 2.5f : 13.75f}));
    EXPECT_EQ(Values<float>(op.out(2)), (std::vector<float>{input_forget ? 1.0f : 2.5f}));
  }
}

// RNN in f64 with clip 0.5 and Relu: pre-activations 10 and -10 become 0.5 and -0.5 -> [0.5, 0].
TEST(NnMiscRnnTest, ClipBoundsTheGatePreActivation) {
  Op op("RNN", 7);
  op.Attr("hidden_size", IntAttr(1)).Attr("clip", FloatAttr(0.5f)).Attr("activations", StringsAttr({"Relu"}));
  op.In(F64({10, -10}, {2, 1, 1})).In(F64({1}, {1, 1, 1})).In(F64({0}, {1, 1, 1}));
  op.Outputs(2);
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out(0).dtype(), DType::kF64);
  EXPECT_EQ(Values<double>(op.out(0)), (std::vector<double>{0.5, 0.0}));
}

TEST(NnMiscRnnTest, BadShapesAndAttributesAreErrors) {
  auto rnn = [] {
    Op op("RNN", 14);
    op.Attr("hidden_size", IntAttr(2));
    return op;
  };
  {  // W has the wrong number of rows for hidden_size 2
    Op op = rnn();
    op.In(F32({1, 2}, {1, 1, 2})).In(F32({1, 2, 3}, {1, 3, 1})).In(F32({0, 0, 0, 0}, {1, 2, 2}));
    EXPECT_FALSE(op.Run().ok());
  }
  {  // sequence_lens beyond seq_length
    Op op = rnn();
    op.In(F32({1, 2}, {1, 1, 2})).In(F32({1, 2, 3, 4}, {1, 2, 2})).In(F32({0, 0, 0, 0}, {1, 2, 2}));
    op.In(Tensor()).In(I32({2}, {1}));
    const Status st = op.Run();
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("sequence_lens"), std::string::npos);
  }
  {  // unknown activation
    Op op = rnn();
    op.Attr("activations", StringsAttr({"Swish"}));
    op.In(F32({1, 2}, {1, 1, 2})).In(F32({1, 2, 3, 4}, {1, 2, 2})).In(F32({0, 0, 0, 0}, {1, 2, 2}));
    EXPECT_FALSE(op.Run().ok());
  }
  {  // bad direction
    Op op = rnn();
    op.Attr("direction", StringAttr("sideways"));
    op.In(F32({1, 2}, {1, 1, 2})).In(F32({1, 2, 3, 4}, {1, 2, 2})).In(F32({0, 0, 0, 0}, {1, 2, 2}));
    EXPECT_FALSE(op.Run().ok());
  }
}

// ---------------------------------------------------------------------------------------------
// Random ops and Dropout.

TEST(NnMiscRandomTest, UniformIsInRangeAndIndependentOfThreads) {
  ThreadPool pool(4);
  Op one("RandomUniform", 1), four("RandomUniform", 1);
  for (Op* op : {&one, &four})
    op->Attr("shape", IntsAttr({3, 50000})).Attr("low", FloatAttr(-2.0f)).Attr("high", FloatAttr(3.0f));
  ASSERT_TRUE(one.Run(nullptr, 42).ok());
  ASSERT_TRUE(four.Run(&pool, 42).ok());
  EXPECT_TRUE(one.out().Equals(four.out()));
  ASSERT_EQ(one.out().shape(), (Shape{3, 50000}));
  double sum = 0;
  for (float v : Values<float>(one.out())) {
    ASSERT_GE(v, -2.0f);
    ASSERT_LT(v, 3.0f);
    sum += v;
  }
  // Mean of U(-2, 3) is 0.5; the standard error over 150000 draws is 5/sqrt(12*150000) ~ 0.0037.
  EXPECT_NEAR(sum / 150000.0, 0.5, 0.03);
}

TEST(NnMiscRandomTest, NormalMomentsAndSeedAttribute) {
  Op a("RandomNormal", 1), b("RandomNormal", 1), c("RandomNormal", 1);
  for (Op* op : {&a, &b, &c})
    op->Attr("shape", IntsAttr({100000})).Attr("mean", FloatAttr(1.0f)).Attr("scale", FloatAttr(2.0f))
        .Attr("dtype", IntAttr(11));
  a.Attr("seed", FloatAttr(5.0f));
  b.Attr("seed", FloatAttr(5.0f));
  ASSERT_TRUE(a.Run(nullptr, 1).ok());
  ASSERT_TRUE(b.Run(nullptr, 2).ok());  // the seed attribute wins over the run seed
  ASSERT_TRUE(c.Run(nullptr, 1).ok());
  EXPECT_EQ(a.out().dtype(), DType::kF64);
  EXPECT_TRUE(a.out().Equals(b.out()));
  EXPECT_FALSE(a.out().Equals(c.out()));
  double sum = 0, sq = 0;
  for (double v : Values<double>(a.out())) {
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
    sq += v * v;
  }
  const double mean = sum / 100000.0, var = sq / 100000.0 - mean * mean;
  EXPECT_NEAR(mean, 1.0, 0.05);  // standard error 2/sqrt(1e5) ~ 0.0063
  EXPECT_NEAR(var, 4.0, 0.2);
}

TEST(NnMiscRandomTest, LikeOpsTakeShapeAndTypeFromInput) {
  Op op("RandomUniformLike", 1);
  op.In(F64({0, 0, 0, 0, 0, 0}, {2, 3}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(op.out().dtype(), DType::kF64);
  EXPECT_EQ(op.out().shape(), (Shape{2, 3}));
  Op bad("RandomNormalLike", 1);
  bad.In(I32({1, 2}, {2}));  // integer input and no dtype attribute
  EXPECT_FALSE(bad.Run().ok());
  Op ok("RandomNormalLike", 1);
  ok.Attr("dtype", IntAttr(10)).In(I32({1, 2}, {2}));
  ASSERT_TRUE(ok.Run().ok());
  EXPECT_EQ(ok.out().dtype(), DType::kF16);
}

TEST(NnMiscRandomTest, BernoulliCertainProbabilitiesAndOutputType) {
  Op op("Bernoulli", 15);
  op.Attr("dtype", IntAttr(9));  // bool
  op.In(F32({0, 1, 0, 1, 1, 0}, {2, 3}));
  ASSERT_TRUE(op.Run(nullptr, 3).ok());
  ASSERT_EQ(op.out().dtype(), DType::kBool);
  EXPECT_EQ(Values<bool>(op.out()), (std::vector<bool>{false, true, false, true, true, false}));
  Op bad("Bernoulli", 15);
  bad.In(F32({0.5f, 1.5f}, {2}));
  EXPECT_FALSE(bad.Run().ok());
}

TEST(NnMiscRandomTest, MultinomialSamplesOnlyPossibleClasses) {
  const float ninf = -std::numeric_limits<float>::infinity();
  Op op("Multinomial", 7);
  op.Attr("sample_size", IntAttr(50)).Attr("dtype", IntAttr(7));
  op.In(F32({ninf, 0.0f, ninf, 3.0f, ninf, ninf}, {2, 3}));  // row 0 only class 1, row 1 only class 0
  ASSERT_TRUE(op.Run(nullptr, 11).ok());
  ASSERT_EQ(op.out().shape(), (Shape{2, 50}));
  const std::vector<int64_t> v = Values<int64_t>(op.out());
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(v[i], 1);
    EXPECT_EQ(v[50 + i], 0);
  }
}

TEST(NnMiscRandomTest, DropoutInferenceTrainingAndOldOpsets) {
  const Tensor x = F32({1, -2, 3, -4, 5, -6, 7, -8}, {2, 4});
  {  // opset 13 without training_mode: identity, mask all true
    Op op("Dropout", 13);
    op.In(x).In(F32({0.5f}, {})).Outputs(2);
    ASSERT_TRUE(op.Run().ok());
    EXPECT_TRUE(op.out(0).Equals(x));
    EXPECT_EQ(Values<bool>(op.out(1)), std::vector<bool>(8, true));
  }
  {  // training: kept values scaled by 1 / (1 - 0.75) = 4, dropped are 0
    Op op("Dropout", 13);
    op.In(x).In(F32({0.75f}, {})).In(BoolScalar(true)).Outputs(2);
    ASSERT_TRUE(op.Run(nullptr, 9).ok());
    const std::vector<float> y = Values<float>(op.out(0)), xv = Values<float>(x);
    const std::vector<bool> m = Values<bool>(op.out(1));
    for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], m[i] ? 4 * xv[i] : 0.0f);
  }
  {  // training ratio outside [0, 1)
    Op op("Dropout", 13);
    op.In(x).In(F32({1.0f}, {})).In(BoolScalar(true));
    EXPECT_FALSE(op.Run().ok());
  }
  {  // opset 6 with is_test = 1: identity; the mask has the data type (all ones)
    Op op("Dropout", 6);
    op.Attr("is_test", IntAttr(1)).In(x).Outputs(2);
    ASSERT_TRUE(op.Run().ok());
    EXPECT_TRUE(op.out(0).Equals(x));
    EXPECT_EQ(op.out(1).dtype(), DType::kF32);
    EXPECT_EQ(Values<float>(op.out(1)), std::vector<float>(8, 1.0f));
  }
  {  // opset 6 with is_test = 0 trains: every output is 0 or 2x (ratio 0.5)
    Op op("Dropout", 6);
    op.In(x).Outputs(2);
    ASSERT_TRUE(op.Run(nullptr, 4).ok());
    const std::vector<float> y = Values<float>(op.out(0)), xv = Values<float>(x), m = Values<float>(op.out(1));
    for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], m[i] == 1.0f ? 2 * xv[i] : 0.0f);
  }
  {  // opset 10 has no training switch: identity
    Op op("Dropout", 10);
    op.Attr("ratio", FloatAttr(0.9f)).In(x);
    ASSERT_TRUE(op.Run().ok());
    EXPECT_TRUE(op.out(0).Equals(x));
  }
}

// ---------------------------------------------------------------------------------------------
// Training optimizers (double precision; float is covered by the ONNX data).

// R = 0.1, T = 1, X = 1, G = 2, V = 3, alpha = 0.5, beta = 0.25, norm = 0:
//  V' = 0.5*3 + 0.25*2 = 2; standard X' = 1 - 0.1*2 = 0.8; nesterov X' = 1 - 0.1*(2 + 0.5*2) = 0.7.
TEST(NnMiscTrainingTest, MomentumInDouble) {
  for (const char* mode : {"standard", "nesterov"}) {
    Op op("Momentum", 1, "ai.onnx.preview.training");
    op.Attr("alpha", FloatAttr(0.5f)).Attr("beta", FloatAttr(0.25f)).Attr("norm_coefficient", FloatAttr(0.0f));
    op.Attr("mode", StringAttr(mode));
    op.In(F64({0.1}, {})).In(I64({1}, {})).In(F64({1}, {1})).In(F64({2}, {1})).In(F64({3}, {1})).Outputs(2);
    ASSERT_TRUE(op.Run().ok());
    EXPECT_DOUBLE_EQ(Values<double>(op.out(0))[0], std::string(mode) == "standard" ? 0.8 : 0.7);
    EXPECT_EQ(Values<double>(op.out(1)), (std::vector<double>{2.0}));
  }
}

// Adagrad: R = 1, T = 0, X = 1, G = 3, H = 7, eps = 0: H' = 7 + 9 = 16, X' = 1 - 3/4 = 0.25.
TEST(NnMiscTrainingTest, AdagradInDoubleAndShapeMismatch) {
  Op op("Adagrad", 1, "ai.onnx.preview.training");
  op.Attr("epsilon", FloatAttr(0.0f));
  op.In(F64({1}, {})).In(I64({0}, {})).In(F64({1}, {1})).In(F64({3}, {1})).In(F64({7}, {1})).Outputs(2);
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<double>(op.out(0)), (std::vector<double>{0.25}));
  EXPECT_EQ(Values<double>(op.out(1)), (std::vector<double>{16.0}));

  Op bad("Adagrad", 1, "ai.onnx.preview.training");
  bad.In(F64({1}, {})).In(I64({0}, {})).In(F64({1, 2}, {2})).In(F64({3}, {1})).In(F64({7, 8}, {2})).Outputs(2);
  EXPECT_FALSE(bad.Run().ok());
}

// ---------------------------------------------------------------------------------------------
// Strings.

TEST(NnMiscStringTest, Utf8CaseMappingIsLocaleIndependent) {
  Op up("StringNormalizer", 10);
  up.Attr("case_change_action", StringAttr("UPPER"));
  // ß has no one-character upper case and stays; "\xff" is not UTF-8 and is copied.
  up.In(Strs({"straße", "élan", "αβγ ς", "жук", "abc\xff"}, {5}));
  ASSERT_TRUE(up.Run().ok());
  EXPECT_EQ(Values<std::string>(up.out()),
            (std::vector<std::string>{"STRAßE", "ÉLAN", "ΑΒΓ Σ", "ЖУК", "ABC\xff"}));
  Op low("StringNormalizer", 10);
  low.Attr("case_change_action", StringAttr("LOWER"));
  low.In(Strs({"ÀÖÞ", "ŁÓDŹ", "İI"}, {1, 3}));
  ASSERT_TRUE(low.Run().ok());
  EXPECT_EQ(low.out().shape(), (Shape{1, 3}));
  EXPECT_EQ(Values<std::string>(low.out()), (std::vector<std::string>{"àöþ", "łódź", "ii"}));
}

TEST(NnMiscStringTest, CaseInsensitiveStopwordsKeepOriginalCase) {
  Op op("StringNormalizer", 10);
  op.Attr("stopwords", StringsAttr({"été", "The"}));
  op.In(Strs({"ÉTÉ", "the", "Hiver", "THE"}, {4}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<std::string>(op.out()), (std::vector<std::string>{"Hiver"}));
  Op bad("StringNormalizer", 10);
  bad.In(Strs({"a", "b"}, {2, 1}));
  EXPECT_FALSE(bad.Run().ok());
}

// X = [a, b, a, c, b]; pool: unigrams {a, b}, bigrams {(a, b), (b, a)}; min 1, max 2, max_skip 1.
// Unigrams are counted once: a = 2, b = 2. Bigrams at distance 1: ab, ba, ac, cb; at distance 2:
// (a, a), (b, c), (a, b) -> ab = 2, ba = 1. Weights [1, 2, 3, 4], ngram_indexes [3, 2, 1, 0]:
//  TF [1, 2, 2, 2] (reversed), IDF [4, 3, 2, 1], TFIDF [1*4, 2*3, 2*2, 2*1].
TEST(NnMiscStringTest, TfIdfModesWithStringPoolAndSkips) {
  const std::vector<std::pair<const char*, std::vector<float>>> cases = {
      {"TF", {1, 2, 2, 2}}, {"IDF", {4, 3, 2, 1}}, {"TFIDF", {4, 6, 4, 2}}};
  for (const auto& [mode, expected] : cases) {
    Op op("TfIdfVectorizer", 9);
    op.Attr("mode", StringAttr(mode)).Attr("min_gram_length", IntAttr(1)).Attr("max_gram_length", IntAttr(2));
    op.Attr("max_skip_count", IntAttr(1)).Attr("ngram_counts", IntsAttr({0, 2}));
    op.Attr("ngram_indexes", IntsAttr({3, 2, 1, 0})).Attr("pool_strings", StringsAttr({"a", "b", "a", "b", "b", "a"}));
    op.Attr("weights", FloatsAttr({1, 2, 3, 4}));
    op.In(Strs({"a", "b", "a", "c", "b"}, {5}));
    ASSERT_TRUE(op.Run().ok()) << mode;
    EXPECT_EQ(op.out().shape(), (Shape{4}));
    EXPECT_EQ(Values<float>(op.out()), expected) << mode;
  }
}

TEST(NnMiscStringTest, TfIdfRejectsInconsistentPools) {
  Op op("TfIdfVectorizer", 9);
  op.Attr("mode", StringAttr("TF")).Attr("min_gram_length", IntAttr(2)).Attr("max_gram_length", IntAttr(2));
  op.Attr("max_skip_count", IntAttr(0)).Attr("ngram_counts", IntsAttr({0, 1}));  // 3 items: not pairs
  op.Attr("ngram_indexes", IntsAttr({0})).Attr("pool_int64s", IntsAttr({1, 2, 3}));
  op.In(I64({1, 2, 3}, {3}));
  EXPECT_FALSE(op.Run().ok());
}

// ---------------------------------------------------------------------------------------------
// Signal.

// DFT of [1, 2, 3, 4]: X0 = 10, X1 = -2 + 2i, X2 = -2, X3 = -2 - 2i; onesided keeps 3 bins.
// dft_length 2 uses [1, 2]: [3, -1]. The inverse of [10, -2+2i, -2, -2-2i] is [1, 2, 3, 4].
TEST(NnMiscSignalTest, SmallDftsAreExactEnough) {
  Op one("DFT", 17);
  one.Attr("onesided", IntAttr(1)).In(F32({1, 2, 3, 4}, {1, 4, 1}));
  ASSERT_TRUE(one.Run().ok());
  ASSERT_EQ(one.out().shape(), (Shape{1, 3, 2}));
  const std::vector<float> got = Values<float>(one.out()), want = {10, 0, -2, 2, -2, 0};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << i;

  Op cut("DFT", 17);
  cut.In(F32({1, 2, 3, 4}, {1, 4, 1})).In(I64({2}, {}));
  ASSERT_TRUE(cut.Run().ok());
  ASSERT_EQ(cut.out().shape(), (Shape{1, 2, 2}));
  const std::vector<float> c = Values<float>(cut.out()), cw = {3, 0, -1, 0};
  for (size_t i = 0; i < cw.size(); ++i) EXPECT_NEAR(c[i], cw[i], 1e-6) << i;

  Op inv("DFT", 17);
  inv.Attr("inverse", IntAttr(1)).In(F64({10, 0, -2, 2, -2, 0, -2, -2}, {1, 4, 2}));
  ASSERT_TRUE(inv.Run().ok());
  const std::vector<double> r = Values<double>(inv.out()), rw = {1, 0, 2, 0, 3, 0, 4, 0};
  for (size_t i = 0; i < rw.size(); ++i) EXPECT_NEAR(r[i], rw[i], 1e-12) << i;

  Op bad("DFT", 17);
  bad.Attr("axis", IntAttr(2)).In(F32({1, 2, 3, 4}, {1, 4, 1}));  // axis 2 is the complex dim
  EXPECT_FALSE(bad.Run().ok());
}

// Symmetric Hann of size 5: 0.5 - 0.5 cos(2 pi n / 4) = [0, 0.5, 1, 0.5, 0]; double output.
TEST(NnMiscSignalTest, WindowsInDoubleAndErrors) {
  Op op("HannWindow", 17);
  op.Attr("periodic", IntAttr(0)).Attr("output_datatype", IntAttr(11)).In(I64({5}, {}));
  ASSERT_TRUE(op.Run().ok());
  EXPECT_EQ(Values<double>(op.out()), (std::vector<double>{0, 0.5, 1, 0.5, 0}));
  Op bad("BlackmanWindow", 17);
  bad.In(I64({-1}, {}));
  EXPECT_FALSE(bad.Run().ok());
}

// Every op of the family is registered with a kernel.
TEST(NnMiscRegistryTest, AllOpsHaveKernels) {
  const std::vector<std::pair<std::string, std::string>> ops = {
      {"", "RNN"}, {"", "GRU"}, {"", "LSTM"}, {"", "RandomNormal"}, {"", "RandomUniform"},
      {"", "RandomNormalLike"}, {"", "RandomUniformLike"}, {"", "Bernoulli"}, {"", "Multinomial"},
      {"", "Dropout"}, {"ai.onnx.preview.training", "Adagrad"}, {"ai.onnx.preview.training", "Adam"},
      {"ai.onnx.preview.training", "Momentum"}, {"", "StringNormalizer"}, {"", "TfIdfVectorizer"},
      {"", "DFT"}, {"", "STFT"}, {"", "HannWindow"}, {"", "HammingWindow"}, {"", "BlackmanWindow"},
      {"", "MelWeightMatrix"}};
  for (const auto& [domain, name] : ops) {
    const OpInfo* info = FindOpAnyOpset(domain, name);
    ASSERT_NE(info, nullptr) << name;
    EXPECT_NE(info->kernel, nullptr) << name;
  }
}

}  // namespace
}  // namespace idem
