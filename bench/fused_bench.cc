// Fused-kernel microbenchmarks: FusedMatMul + GELU for the BERT-base FFN up-projection
// (M = 128 tokens, K = 768, N = 3072) against the unfused MatMul (+ bias) followed by a separate
// Gelu pass, on every ISA this CPU supports; and the GELU span alone (elements per second).
//
//   fused/<isa>            GEMM with bias; GELU (erf form, x / sqrt(2), as torch exports it)
//                          applied by the post-store hook on each block of C while it is in L1
//   unfused_simd/<isa>     GEMM with bias, then one vectorized GELU pass over C (the Gelu kernel)
//   unfused_scalar/<isa>   GEMM with bias, then a scalar idem::math GELU loop (the kernels before
//                          vectorization)
//   gelu_span/<isa>        the GELU span function alone on 128 x 3072 floats
// Single-threaded (CPU time of the benchmark thread). Counter GFLOPS = 2*M*N*K / time.
//
//   build-fused/bench/idem_fused_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/simd/fused_act.h"
#include "kernels/simd/gemm.h"
#include "kernels/simd/isa.h"

namespace {

using idem::simd::FusedActivation;
using idem::simd::FusedActKind;
using idem::simd::Isa;

constexpr int64_t kM = 128, kK = 768, kN = 3072;

std::vector<float> RandomVector(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

FusedActivation TorchGelu() {
  FusedActivation act;
  act.kind = FusedActKind::kGelu;
  act.gelu.tanh_form = false;
  act.gelu.inner_div = true;
  act.gelu.inner_scale = 1.4142135381698608f;
  act.gelu.half_mode = 0;
  return act;
}

struct Ffn {
  std::vector<float> a, packed, bias, c;
  Ffn() {
    a = RandomVector(static_cast<size_t>(kM * kK), 1, 1.0f);
    const std::vector<float> b = RandomVector(static_cast<size_t>(kK * kN), 2, 0.05f);
    packed.resize(static_cast<size_t>(idem::simd::PackedBFloats(kK, kN)));
    idem::simd::PackB(b.data(), kK, kN, kN, 1, packed.data());
    bias = RandomVector(static_cast<size_t>(kN), 3, 0.5f);
    c.resize(static_cast<size_t>(kM * kN));
  }
  idem::simd::GemmF32Args Args() {
    idem::simd::GemmF32Args g;
    g.M = kM;
    g.N = kN;
    g.K = kK;
    g.a = a.data();
    g.a_row_stride = kK;
    g.a_k_stride = 1;
    g.packed_b = packed.data();
    g.c = c.data();
    g.ldc = kN;
    g.epilogue.bias_kind = idem::simd::GemmBias::kPerColumn;
    g.epilogue.bias = bias.data();
    return g;
  }
};

void SetCounters(benchmark::State& state) {
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * static_cast<double>(kM * kN * kK) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

enum class Mode { kFused, kUnfusedSimd, kUnfusedScalar };

void BM_FfnGelu(benchmark::State& state, Isa isa, Mode mode) {
  Ffn f;
  idem::simd::GemmF32Args g = f.Args();
  idem::simd::FusedActHook hook;
  hook.span = idem::simd::FusedActSpanFor(mode == Mode::kUnfusedScalar ? Isa::kScalar : isa);
  hook.act = TorchGelu();
  if (mode == Mode::kFused) {
    g.epilogue.post.fn = &idem::simd::FusedActPostStore;
    g.epilogue.post.ctx = &hook;
  }
  for (auto _ : state) {
    idem::simd::GemmF32PackedB(isa, g, nullptr);
    if (mode != Mode::kFused) hook.span(hook.act, f.c.data(), nullptr, f.c.data(), f.c.size());
    benchmark::DoNotOptimize(f.c.data());
    benchmark::ClobberMemory();
  }
  SetCounters(state);
}

void BM_GeluSpan(benchmark::State& state, Isa isa) {
  std::vector<float> x = RandomVector(static_cast<size_t>(kM * kN), 4, 4.0f);
  std::vector<float> y(x.size());
  const idem::simd::FusedActSpanFn span = idem::simd::FusedActSpanFor(isa);
  const FusedActivation act = TorchGelu();
  for (auto _ : state) {
    span(act, x.data(), nullptr, y.data(), x.size());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(x.size()));
}

int Register() {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!idem::simd::IsaSupported(isa)) continue;
    const std::string name = idem::simd::IsaName(isa);
    benchmark::RegisterBenchmark(("fused/" + name).c_str(), BM_FfnGelu, isa, Mode::kFused)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("unfused_simd/" + name).c_str(), BM_FfnGelu, isa, Mode::kUnfusedSimd)
        ->Unit(benchmark::kMillisecond);
    if (isa != Isa::kScalar)
      benchmark::RegisterBenchmark(("unfused_scalar/" + name).c_str(), BM_FfnGelu, isa, Mode::kUnfusedScalar)
          ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("gelu_span/" + name).c_str(), BM_GeluSpan, isa)->Unit(benchmark::kMicrosecond);
  }
  return 0;
}

const int kRegistered = Register();

}  // namespace

BENCHMARK_MAIN();
