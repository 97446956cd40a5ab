// GEMM microbenchmarks: idem's f32 GEMM core (B packed once, as for constant weights) on every
// ISA this CPU supports, and OpenBLAS's cblas_sgemm in the same binary as a yardstick.
//
// Also the core's FMA peak per ISA (fma_peak_*), for "% of peak".
// Shapes: square 256..2048, and the inference shapes M in {1, 8, 128} x (N, K) in
// {(768, 768), (3072, 768), (768, 3072), (2304, 768)} (BERT-base / GPT-2-small layers).
// Counter GFLOPS = 2*M*N*K / time (1e9 FLOP/s), with Google Benchmark's default time base: the
// CPU time of the benchmark thread, which stays meaningful on a machine shared with other jobs.
// Single-threaded unless --threads=N says otherwise (then compare real time, on an idle machine).
//
//   OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 build-simd/bench/idem_gemm_bench
//       --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>


#include "core/tensor.h"
#include "core/thread_pool.h"
#include "kernels/simd/gemm.h"
#include "kernels/simd/isa.h"

#ifdef IDEM_HAVE_OPENBLAS
#include <cblas.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

using idem::simd::Isa;

struct Shape {
  int64_t M, N, K;
};

std::vector<Shape> Shapes() {
  std::vector<Shape> s;
  for (int64_t n : {256, 512, 1024, 2048}) s.push_back({n, n, n});
  for (int64_t m : {1, 8, 128})
    for (auto [n, k] : {std::pair<int64_t, int64_t>{768, 768}, {3072, 768}, {768, 3072}, {2304, 768}})
      s.push_back({m, n, k});
  return s;
}

// Allocated as idem's tensors are (idem::AllocateAlignedBytes: 64-byte aligned; a std::vector of
// this size is only 16-byte aligned, which splits every vector load across two cache lines). idem's
// packed B is a prepared weight, long-lived: huge pages like CreateLongLived. OpenBLAS gets plain
// 64-byte aligned A, B and C.
using Buffer = idem::AlignedArray<float>;

Buffer Zeros(int64_t n, bool huge_pages = false) {
  Buffer v = idem::AllocateAlignedArray<float>(static_cast<size_t>(std::max<int64_t>(n, 1)), huge_pages);
  std::memset(v.get(), 0, sizeof(float) * static_cast<size_t>(n));
  return v;
}

Buffer RandomMatrix(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Buffer v = Zeros(rows * cols);
  for (int64_t i = 0; i < rows * cols; ++i) v[static_cast<size_t>(i)] = u(rng);
  return v;
}

void SetCounters(benchmark::State& state, const Shape& s) {
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * static_cast<double>(s.M * s.N * s.K) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

int g_threads = 1;

void BM_IdemGemm(benchmark::State& state, Shape s, Isa isa) {
  const Buffer a = RandomMatrix(s.M, s.K, 1);
  const Buffer b = RandomMatrix(s.K, s.N, 2);
  Buffer packed = Zeros(idem::simd::PackedBFloats(s.K, s.N), /*huge_pages=*/true);
  idem::simd::PackB(b.get(), s.K, s.N, s.N, 1, packed.get());  // once, like constant weights
  Buffer c = Zeros(s.M * s.N);
  std::unique_ptr<idem::ThreadPool> pool;
  if (g_threads > 1) pool = std::make_unique<idem::ThreadPool>(g_threads);
  idem::simd::GemmF32Args args;
  args.M = s.M;
  args.N = s.N;
  args.K = s.K;
  args.a = a.get();
  args.a_row_stride = s.K;
  args.a_k_stride = 1;
  args.packed_b = packed.get();
  args.c = c.get();
  args.ldc = s.N;
  for (auto _ : state) {
    idem::simd::GemmF32PackedB(isa, args, pool.get());
    benchmark::DoNotOptimize(c.get());
    benchmark::ClobberMemory();
  }
  SetCounters(state, s);
}

#ifdef IDEM_HAVE_OPENBLAS
void BM_OpenBlasSgemm(benchmark::State& state, Shape s) {
  const Buffer a = RandomMatrix(s.M, s.K, 1);
  const Buffer b = RandomMatrix(s.K, s.N, 2);
  Buffer c = Zeros(s.M * s.N);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(s.M), static_cast<int>(s.N),
                static_cast<int>(s.K), 1.0f, a.get(), static_cast<int>(s.K), b.get(), static_cast<int>(s.N), 0.0f,
                c.get(), static_cast<int>(s.N));
    benchmark::DoNotOptimize(c.get());
    benchmark::ClobberMemory();
  }
  SetCounters(state, s);
}
#endif

#if defined(__x86_64__)
// The core's FMA peak: independent chains of vector FMAs (24 x 512-bit or 12 x 256-bit
// accumulators, enough to cover latency x throughput), nothing else. `iters` and the operands come
// from outside so that the compiler cannot fold the loop.
__attribute__((target("avx512f"), noinline)) float FmaChains512(int64_t iters, float x, float y) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps(x + static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(x), b = _mm512_set1_ps(y);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < 24; ++i) sum = _mm512_add_ps(sum, acc[i]);
  float out[16];
  _mm512_storeu_ps(out, sum);
  return out[0];
}

__attribute__((target("avx2,fma"), noinline)) float FmaChains256(int64_t iters, float x, float y) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(x + static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(x), b = _mm256_set1_ps(y);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm256_add_ps(sum, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, sum);
  return out[0];
}

volatile int64_t g_peak_iters = 100000;
volatile float g_peak_x = 0.999f, g_peak_y = 0.001f;

void BM_FmaPeak(benchmark::State& state, Isa isa) {
  const int64_t iters = g_peak_iters;
  for (auto _ : state)
    benchmark::DoNotOptimize(isa == Isa::kAvx512 ? FmaChains512(iters, g_peak_x, g_peak_y)
                                                 : FmaChains256(iters, g_peak_x, g_peak_y));
  const double flops_per_iter = isa == Isa::kAvx512 ? 24.0 * 16 * 2 : 12.0 * 8 * 2;
  state.counters["GFLOPS"] = benchmark::Counter(static_cast<double>(iters) * flops_per_iter * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

#endif

std::string ShapeName(const Shape& s) {
  return std::to_string(s.M) + "x" + std::to_string(s.N) + "x" + std::to_string(s.K);
}

}  // namespace

int main(int argc, char** argv) {
  // Our own flag (--threads=N), removed before Google Benchmark parses the rest.
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      g_threads = std::max(1, std::atoi(argv[i] + 10));
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 1;
  benchmark::AddCustomContext("idem_threads", std::to_string(g_threads));

#if defined(__x86_64__)
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2})
    if (idem::simd::IsaSupported(isa))
      benchmark::RegisterBenchmark(("fma_peak_" + std::string(idem::simd::IsaName(isa))).c_str(), BM_FmaPeak, isa)
          ->Unit(benchmark::kMicrosecond);
#endif
  for (const Shape& s : Shapes()) {
    for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
      if (!idem::simd::IsaSupported(isa)) continue;
      benchmark::RegisterBenchmark(("idem_" + std::string(idem::simd::IsaName(isa)) + "/" + ShapeName(s)).c_str(),
                                   BM_IdemGemm, s, isa)
          ->Unit(benchmark::kMicrosecond);
    }
#ifdef IDEM_HAVE_OPENBLAS
    benchmark::RegisterBenchmark(("openblas/" + ShapeName(s)).c_str(), BM_OpenBlasSgemm, s)
        ->Unit(benchmark::kMicrosecond);
#endif
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
