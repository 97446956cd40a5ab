// GEMM core (kernels/simd/gemm.h): every ISA == the scalar ChainDot reference, bitwise (memcmp),
// on ragged shapes, misaligned pointers, strided A, every epilogue (post-store hook included), at
// 1, 2, 3 and 8 threads; a row of a batch-8 product == the batch-1 product of that row (D3); ISA
// selection.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/canonical.h"
#include "kernels/simd/gemm.h"
#include "isa_test_util.h"
#include "kernels/simd/isa.h"

namespace idem::simd {
namespace {

using idem::testing::IsaScope;
using idem::testing::SupportedIsas;

constexpr int64_t kDims[] = {0, 1, 2, 3, 5, 15, 16, 17, 31, 33, 64, 100, 257};
constexpr int kThreadCounts[] = {1, 2, 3, 8};

// A float buffer whose data() is deliberately misaligned by `offset` floats from 64 bytes.
class Buffer {
 public:
  Buffer(size_t n, size_t offset) : storage_(n + offset + 16) {
    auto base = reinterpret_cast<uintptr_t>(storage_.data());
    const size_t skip = ((64 - base % 64) % 64) / sizeof(float) + offset;
    data_ = storage_.data() + skip;
  }
  float* data() { return data_; }
  float& operator[](size_t i) { return data_[i]; }

 private:
  std::vector<float> storage_;
  float* data_;
};

// Random floats with full mantissas and mixed exponents (so that rounding differences show).
void FillRandom(std::mt19937& rng, float* p, size_t n) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::uniform_int_distribution<int> e(-6, 6);
  for (size_t i = 0; i < n; ++i) p[i] = std::ldexp(u(rng), e(rng));
}

struct Problem {
  int64_t M = 0, N = 0, K = 0;
  bool transposed_a = false;  // A stored K x M (a_row_stride 1, a_k_stride M)
  bool prepacked_a = false;   // A handed to the GEMM in the PackA layout (a_packed)
  int64_t ldc_pad = 0;
  GemmEpilogue ep;
  std::vector<float> a, b, bias;  // a as stored; b row-major K x N
};

Problem MakeProblem(std::mt19937& rng, int64_t M, int64_t N, int64_t K) {
  Problem p;
  p.M = M;
  p.N = N;
  p.K = K;
  p.a.resize(static_cast<size_t>(M * K));
  p.b.resize(static_cast<size_t>(K * N));
  FillRandom(rng, p.a.data(), p.a.size());
  FillRandom(rng, p.b.data(), p.b.size());
  return p;
}

float AElem(const Problem& p, int64_t m, int64_t k) {
  return p.transposed_a ? p.a[static_cast<size_t>(k * p.M + m)] : p.a[static_cast<size_t>(m * p.K + k)];
}

// The canonical order, straight from canonical.h on the unpacked operands.
std::vector<float> Reference(const Problem& p) {
  std::vector<float> c(static_cast<size_t>(p.M * p.N));
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t n = 0; n < p.N; ++n) {
      const float acc = ChainDot<float>(
          p.K, [&](int64_t k) { return AElem(p, m, k); }, [&](int64_t k) { return p.b[static_cast<size_t>(k * p.N + n)]; });
      c[static_cast<size_t>(m * p.N + n)] = GemmEpilogueScalar(p.ep, acc, m, n);
    }
  return c;
}

constexpr float kSentinel = -12345.5f;

// Runs the GEMM with misaligned A, packed B and C, and returns C (M x N, dense); checks that the
// padding columns of C (ldc > N) were not written.
std::vector<float> RunGemm(const Problem& p, Isa isa, ThreadPool* pool, size_t misalign) {
  Buffer a(p.prepacked_a ? static_cast<size_t>(PackedAFloats(p.M, p.K)) : p.a.size(), misalign);
  if (p.prepacked_a) {
    PackA(p.a.data(), p.M, p.K, p.transposed_a ? 1 : p.K, p.transposed_a ? p.M : 1, a.data(), pool);
  } else if (!p.a.empty()) {
    std::memcpy(a.data(), p.a.data(), sizeof(float) * p.a.size());
  }
  Buffer packed(static_cast<size_t>(PackedBFloats(p.K, p.N)), (misalign + 1) % 16);
  PackB(p.b.data(), p.K, p.N, p.N, 1, packed.data(), pool);
  const int64_t ldc = p.N + p.ldc_pad;
  Buffer c(static_cast<size_t>(p.M * ldc), (misalign + 2) % 16);
  for (int64_t i = 0; i < p.M * ldc; ++i) c[static_cast<size_t>(i)] = kSentinel;
  GemmF32Args args;
  args.M = p.M;
  args.N = p.N;
  args.K = p.K;
  args.a = a.data();
  args.a_row_stride = p.transposed_a ? 1 : p.K;
  args.a_k_stride = p.transposed_a ? p.M : 1;
  args.a_packed = p.prepacked_a;
  args.packed_b = packed.data();
  args.c = c.data();
  args.ldc = ldc;
  args.epilogue = p.ep;
  GemmF32PackedB(isa, args, pool);
  std::vector<float> out(static_cast<size_t>(p.M * p.N));
  for (int64_t m = 0; m < p.M; ++m) {
    if (p.N > 0) std::memcpy(out.data() + m * p.N, c.data() + m * ldc, sizeof(float) * static_cast<size_t>(p.N));
    for (int64_t j = p.N; j < ldc; ++j) EXPECT_EQ(c[static_cast<size_t>(m * ldc + j)], kSentinel) << "row " << m;
  }
  return out;
}

std::string Describe(const Problem& p, Isa isa, int threads) {
  return "M=" + std::to_string(p.M) + " N=" + std::to_string(p.N) + " K=" + std::to_string(p.K) +
         " isa=" + IsaName(isa) + " threads=" + std::to_string(threads) + (p.transposed_a ? " transA" : "") +
         (p.prepacked_a ? " prepackedA" : "") +
         " bias=" + std::to_string(static_cast<int>(p.ep.bias_kind)) +
         " act=" + std::to_string(static_cast<int>(p.ep.activation));
}

// Index of the first differing element, or -1.
int64_t FirstDifference(const std::vector<float>& x, const std::vector<float>& y) {
  if (x.size() != y.size()) return 0;
  for (size_t i = 0; i < x.size(); ++i)
    if (std::memcmp(&x[i], &y[i], sizeof(float)) != 0) return static_cast<int64_t>(i);
  return -1;
}

class SimdGemmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int t : kThreadCounts) pools_.push_back(std::make_unique<ThreadPool>(t));
  }

  // Every ISA at every thread count equals the reference bitwise.
  void CheckAll(const Problem& p, size_t misalign) {
    const std::vector<float> ref = Reference(p);
    for (Isa isa : SupportedIsas())
      for (auto& pool : pools_) {
        const std::vector<float> got = RunGemm(p, isa, pool.get(), misalign);
        ASSERT_EQ(got.size(), ref.size());
        const int64_t at = FirstDifference(got, ref);
        ASSERT_EQ(at, -1) << Describe(p, isa, pool->num_threads()) << ": element " << at << " is "
                          << got[static_cast<size_t>(at)] << ", reference " << ref[static_cast<size_t>(at)];
        ++checked_;
      }
  }

  std::vector<std::unique_ptr<ThreadPool>> pools_;
  int checked_ = 0;
};

TEST_F(SimdGemmTest, AllIsasCompiledForThisCpuAreTested) {
  std::string names;
  for (Isa isa : SupportedIsas()) names += std::string(" ") + IsaName(isa);
  std::printf("ISAs under test:%s\n", names.c_str());
  EXPECT_TRUE(IsaSupported(Isa::kScalar));
}

// Every (M, N, K) in kDims^3: ragged edges in every dimension, K == 0 (C = 0), K > the K block.
TEST_F(SimdGemmTest, RaggedShapesEqualReferenceBitwise) {
  std::mt19937 rng(42);
  size_t misalign = 0;
  for (int64_t M : kDims)
    for (int64_t N : kDims)
      for (int64_t K : kDims) {
        Problem p = MakeProblem(rng, M, N, K);
        CheckAll(p, misalign);
        misalign = (misalign + 1) % 16;
        if (HasFatalFailure()) return;
      }
  std::printf("checked %d (shape, isa, threads) combinations\n", checked_);
}

// Larger K (several K blocks, continuing chains from C), larger M (several tile row blocks),
// transposed A, A prepacked by the caller, padded ldc, epilogues.
TEST_F(SimdGemmTest, EpiloguesStridesAndLongKEqualReferenceBitwise) {
  std::mt19937 rng(7);
  struct Case {
    int64_t M, N, K;
  };
  // (M > 384 spans several tile row blocks, each packed separately.)
  const Case cases[] = {{1, 768, 768}, {8, 200, 1000}, {29, 47, 513}, {130, 97, 300},
                        {3, 1, 2049},  {64, 33, 0},    {777, 21, 40}, {390, 70, 300}};
  size_t misalign = 3;
  for (const Case& cs : cases)
    for (int variant = 0; variant < 12; ++variant) {
      Problem p = MakeProblem(rng, cs.M, cs.N, cs.K);
      p.transposed_a = variant % 2 == 1;
      p.prepacked_a = variant >= 6;
      p.ldc_pad = variant % 3;
      p.bias.resize(static_cast<size_t>(std::max(cs.M, cs.N)));
      FillRandom(rng, p.bias.data(), p.bias.size());
      p.ep.bias = p.bias.data();
      p.ep.bias_kind = variant % 6 < 2   ? GemmBias::kNone
                       : variant % 6 < 4 ? GemmBias::kPerColumn
                                         : GemmBias::kPerRow;
      p.ep.activation = variant % 3 == 0 ? GemmActivation::kNone
                        : variant % 3 == 1 ? GemmActivation::kRelu
                                           : GemmActivation::kClip;
      p.ep.clip_lo = -0.25f;
      p.ep.clip_hi = 0.5f;
      CheckAll(p, misalign);
      misalign = (misalign + 5) % 16;
      if (HasFatalFailure()) return;
    }
}

// A post-store hook for the tests: C(m, n) = fma(C, 0.75, m * 0.001 - n * 0.01) — a function of
// the stored value and the coordinates — counting the visits of every element when `visits` is set.
struct TestHook {
  std::vector<int>* visits = nullptr;
  int64_t n_cols = 0;
};
void TestPostStore(const void* ctx, float* c, int64_t ldc, int64_t m, int64_t n, int64_t rows, int64_t cols) {
  const auto* h = static_cast<const TestHook*>(ctx);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      float& x = c[r * ldc + j];
      x = std::fma(x, 0.75f, static_cast<float>(m + r) * 0.001f - static_cast<float>(n + j) * 0.01f);
      if (h->visits != nullptr) ++(*h->visits)[static_cast<size_t>((m + r) * h->n_cols + n + j)];
    }
}

// The post-store hook runs after bias and activation, exactly once per element (the blocks
// partition C), on every ISA, thread count, K blocking, ragged edge and A layout.
TEST_F(SimdGemmTest, PostStoreHookRunsOncePerElementAfterTheEpilogue) {
  std::mt19937 rng(17);
  struct Case {
    int64_t M, N, K;
  };
  const Case cases[] = {{1, 1, 1}, {3, 17, 5}, {15, 33, 64}, {29, 47, 513}, {130, 97, 300}, {17, 5, 0}, {390, 70, 40}};
  size_t misalign = 1;
  for (const Case& cs : cases)
    for (int variant = 0; variant < 4; ++variant) {
      Problem p = MakeProblem(rng, cs.M, cs.N, cs.K);
      p.transposed_a = variant % 2 == 1;
      p.ldc_pad = variant;
      p.bias.resize(static_cast<size_t>(std::max(cs.M, cs.N)));
      FillRandom(rng, p.bias.data(), p.bias.size());
      p.ep.bias = p.bias.data();
      p.ep.bias_kind = variant < 2 ? GemmBias::kPerColumn : GemmBias::kPerRow;
      p.ep.activation = variant % 2 == 0 ? GemmActivation::kRelu : GemmActivation::kClip;
      p.ep.clip_lo = -0.25f;
      p.ep.clip_hi = 0.5f;
      TestHook ref_hook;  // the reference calls the hook per element through GemmEpilogueScalar
      p.ep.post.fn = &TestPostStore;
      p.ep.post.ctx = &ref_hook;
      const std::vector<float> ref = Reference(p);
      for (Isa isa : SupportedIsas())
        for (auto& pool : pools_) {
          std::vector<int> visits(static_cast<size_t>(cs.M * cs.N), 0);
          TestHook hook{&visits, cs.N};
          p.ep.post.ctx = &hook;
          const std::vector<float> got = RunGemm(p, isa, pool.get(), misalign);
          const int64_t at = FirstDifference(got, ref);
          ASSERT_EQ(at, -1) << Describe(p, isa, pool->num_threads()) << ": element " << at;
          for (size_t i = 0; i < visits.size(); ++i)
            ASSERT_EQ(visits[i], 1) << Describe(p, isa, pool->num_threads()) << ": element " << i;
        }
      misalign = (misalign + 3) % 16;
    }
}

// Infinities, NaN, signed zeros and denormals go through the same operations on every ISA.
TEST_F(SimdGemmTest, SpecialValuesEqualReferenceBitwise) {
  std::mt19937 rng(99);
  Problem p = MakeProblem(rng, 19, 37, 41);
  const float specials[] = {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(), -0.0f, 0.0f,
                            std::numeric_limits<float>::denorm_min(), 1e-40f, 3e38f};
  for (size_t i = 0; i < p.a.size(); i += 23) p.a[i] = specials[(i / 23) % 8];
  for (size_t i = 5; i < p.b.size(); i += 31) p.b[i] = specials[(i / 31 + 3) % 8];
  for (GemmActivation act : {GemmActivation::kNone, GemmActivation::kRelu}) {
    p.ep.activation = act;
    CheckAll(p, 1);
    if (HasFatalFailure()) return;
  }
}

// D3: row i of an M = 8 product equals the M = 1 product of row i, on every ISA.
TEST_F(SimdGemmTest, BatchRowEqualsSingleRow) {
  std::mt19937 rng(3);
  for (int64_t N : {1, 17, 100, 768})
    for (int64_t K : {1, 33, 300}) {
      Problem batch = MakeProblem(rng, 8, N, K);
      for (Isa isa : SupportedIsas()) {
        ThreadPool* pool = pools_[2].get();
        const std::vector<float> all = RunGemm(batch, isa, pool, 5);
        for (int64_t i = 0; i < 8; ++i) {
          Problem one = batch;
          one.M = 1;
          one.a.assign(batch.a.begin() + i * K, batch.a.begin() + (i + 1) * K);
          const std::vector<float> row = RunGemm(one, isa, pool, static_cast<size_t>(i));
          ASSERT_EQ(std::memcmp(row.data(), all.data() + i * N, sizeof(float) * static_cast<size_t>(N)), 0)
              << "row " << i << " N=" << N << " K=" << K << " isa=" << IsaName(isa);
        }
      }
    }
}

// Batched products (MatMul's path): shared and per-batch B, strided A, every ISA and thread count.
TEST_F(SimdGemmTest, BatchedEqualsReferenceBitwise) {
  std::mt19937 rng(11);
  struct Case {
    int64_t batches, M, N, K;
    bool shared_b, transposed_a;
  };
  const Case cases[] = {{3, 5, 17, 33, false, false}, {4, 1, 64, 100, true, false}, {2, 40, 300, 64, false, true},
                        {6, 16, 16, 16, true, true},   {1, 33, 31, 257, false, false}, {5, 0, 3, 4, false, false}};
  for (const Case& cs : cases) {
    const int64_t nb = cs.shared_b ? 1 : cs.batches;
    std::vector<float> a(static_cast<size_t>(cs.batches * cs.M * cs.K)), b(static_cast<size_t>(nb * cs.K * cs.N));
    FillRandom(rng, a.data(), a.size());
    FillRandom(rng, b.data(), b.size());
    std::vector<int64_t> a_off(static_cast<size_t>(cs.batches)), b_off(static_cast<size_t>(cs.batches));
    std::vector<float> ref(static_cast<size_t>(cs.batches * cs.M * cs.N));
    for (int64_t i = 0; i < cs.batches; ++i) {
      a_off[static_cast<size_t>(i)] = i * cs.M * cs.K;
      b_off[static_cast<size_t>(i)] = cs.shared_b ? 0 : i * cs.K * cs.N;
      Problem p;
      p.M = cs.M;
      p.N = cs.N;
      p.K = cs.K;
      p.transposed_a = cs.transposed_a;
      p.a.assign(a.begin() + a_off[static_cast<size_t>(i)], a.begin() + a_off[static_cast<size_t>(i)] + cs.M * cs.K);
      p.b.assign(b.begin() + b_off[static_cast<size_t>(i)], b.begin() + b_off[static_cast<size_t>(i)] + cs.K * cs.N);
      const std::vector<float> r = Reference(p);
      std::copy(r.begin(), r.end(), ref.begin() + i * cs.M * cs.N);
    }
    for (Isa isa : SupportedIsas())
      for (auto& pool : pools_) {
        std::vector<float> y(ref.size(), kSentinel);
        BatchedGemmF32(isa, cs.batches, cs.M, cs.N, cs.K, a.data(), a_off.data(), cs.transposed_a ? 1 : cs.K,
                       cs.transposed_a ? cs.M : 1, b.data(), b_off.data(), y.data(), pool.get());
        ASSERT_EQ(FirstDifference(y, ref), -1) << "batches=" << cs.batches << " M=" << cs.M << " N=" << cs.N
                                               << " K=" << cs.K << " isa=" << IsaName(isa)
                                               << " threads=" << pool->num_threads();
      }
  }
}

// The packed layout is documented and target-neutral: check it element by element, and that a
// transposed source packs to the same bytes.
TEST(SimdGemmPackTest, PackedLayoutIsThePanelLayout) {
  std::mt19937 rng(5);
  for (int64_t K : {0, 1, 7, 40})
    for (int64_t N : {1, 15, 16, 17, 50}) {
      std::vector<float> b(static_cast<size_t>(K * N)), bt(static_cast<size_t>(K * N));
      FillRandom(rng, b.data(), b.size());
      for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n) bt[static_cast<size_t>(n * K + k)] = b[static_cast<size_t>(k * N + n)];
      std::vector<float> packed(static_cast<size_t>(PackedBFloats(K, N)), 1.0f);
      std::vector<float> packed_t(packed.size(), 2.0f);
      ThreadPool pool(3);
      PackB(b.data(), K, N, N, 1, packed.data(), &pool);
      PackB(bt.data(), K, N, 1, K, packed_t.data(), nullptr);
      ASSERT_EQ(packed.size(), static_cast<size_t>((N + 15) / 16 * 16 * K));
      for (size_t i = 0; i < packed.size(); ++i) {
        const int64_t p = static_cast<int64_t>(i) / (K * 16), k = static_cast<int64_t>(i) / 16 % K,
                      j = static_cast<int64_t>(i) % 16;
        const float want = p * 16 + j < N ? b[static_cast<size_t>(k * N + p * 16 + j)] : 0.0f;
        ASSERT_EQ(std::memcmp(&packed[i], &want, sizeof(float)), 0) << "K=" << K << " N=" << N << " i=" << i;
      }
      if (!packed.empty()) {
        EXPECT_EQ(std::memcmp(packed.data(), packed_t.data(), sizeof(float) * packed.size()), 0);
      }
    }
}

// The packed A layout (gemm.h) element by element, from a row-major and a transposed source.
TEST(SimdGemmPackTest, PackedALayoutIsTheRowGroupLayout) {
  std::mt19937 rng(6);
  for (int64_t K : {0, 1, 9, 40})
    for (int64_t M : {1, 5, 11, 12, 13, 30}) {
      std::vector<float> a(static_cast<size_t>(M * K)), at(static_cast<size_t>(M * K));
      FillRandom(rng, a.data(), a.size());
      for (int64_t m = 0; m < M; ++m)
        for (int64_t k = 0; k < K; ++k) at[static_cast<size_t>(k * M + m)] = a[static_cast<size_t>(m * K + k)];
      std::vector<float> packed(static_cast<size_t>(PackedAFloats(M, K)), 1.0f);
      std::vector<float> packed_t(packed.size(), 2.0f);
      ThreadPool pool(3);
      PackA(a.data(), M, K, K, 1, packed.data(), &pool);
      PackA(at.data(), M, K, 1, M, packed_t.data(), nullptr);
      ASSERT_EQ(packed.size(), static_cast<size_t>((M + 11) / 12 * 12 * K));
      for (size_t i = 0; i < packed.size(); ++i) {
        const int64_t g = static_cast<int64_t>(i) / (K * 12), k = static_cast<int64_t>(i) / 12 % K,
                      r = static_cast<int64_t>(i) % 12;
        const float want = g * 12 + r < M ? a[static_cast<size_t>((g * 12 + r) * K + k)] : 0.0f;
        ASSERT_EQ(std::memcmp(&packed[i], &want, sizeof(float)), 0) << "M=" << M << " K=" << K << " i=" << i;
      }
      if (!packed.empty()) {
        EXPECT_EQ(std::memcmp(packed.data(), packed_t.data(), sizeof(float) * packed.size()), 0);
      }
    }
}

TEST(SimdGemmGridTest, TilesCoverTheOutputAndDependOnShapeOnly) {
  for (int64_t M : kDims)
    for (int64_t N : kDims)
      for (int64_t K : {0, 1, 768, 3072}) {
        const GemmTileGrid g = GemmTiles(M, N, K);
        if (M == 0 || N == 0) {
          EXPECT_EQ(g.tiles(), 0);
          continue;
        }
        EXPECT_EQ(g.tn % kGemmPanel, 0);
        EXPECT_EQ(g.tm % kGemmPackRows, 0);
        EXPECT_GE(g.tm * g.tiles_m, M);
        EXPECT_LT(g.tm * (g.tiles_m - 1), M);
        EXPECT_GE(g.tn * g.tiles_n, N);
        EXPECT_LT(g.tn * (g.tiles_n - 1), N);
      }
}

TEST(SimdIsaTest, ParseNameAndSelect) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    auto parsed = ParseIsa(IsaName(isa));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, isa);
  }
  auto bad = ParseIsa("sse2");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sse2"), std::string::npos);

  const Isa before = CurrentIsa();
  EXPECT_TRUE(IsaSupported(before));
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    const Status st = SetIsa(isa);
    EXPECT_EQ(st.ok(), IsaSupported(isa)) << IsaName(isa);
    if (st.ok()) {
      EXPECT_EQ(CurrentIsa(), isa);
      EXPECT_STREQ(CurrentIsaName(), IsaName(isa));
    } else {
      EXPECT_NE(st.message().find("not supported"), std::string::npos) << st.message();
    }
  }
  ASSERT_TRUE(SetIsa(before).ok());
  EXPECT_EQ(CurrentIsa(), before);
}

}  // namespace
}  // namespace idem::simd
