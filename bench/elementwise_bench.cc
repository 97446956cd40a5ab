// Elementwise throughput per ISA (single thread): math spans (exp, tanh, erf, gelu, sigmoid) on 1M
// floats, Add with broadcasting through the kernel ([1024, 1024] + [1024]), f32 -> f16 conversion.
// Reported as elements per second (items_per_second). Every ISA computes the same bits.
//   build-*/bench/idem_elementwise_bench [--benchmark_filter=Exp]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "kernels/kernel.h"
#include "kernels/registry.h"
#include "kernels/simd/elementwise.h"
#include "kernels/simd/isa.h"
#include "../tests/unit/kernel_test_util.h"

namespace idem::simd {
namespace {

constexpr size_t kN = size_t{1} << 20;

std::vector<float> Inputs(size_t n, float scale) {
  std::vector<float> v = idem::testing::RandomFloats(n, 7);
  for (float& x : v) x *= scale;
  return v;
}

void RunUnary(benchmark::State& state, Isa isa, UnaryF32Op op) {
  if (!IsaSupported(isa)) {
    state.SkipWithError("ISA not supported on this CPU");
    return;
  }
  const std::vector<float> x = Inputs(kN, 6.0f);
  std::vector<float> y(kN);
  const UnaryF32Fn fn = UnaryF32For(isa, ElemType::kF32);
  for (auto _ : state) {
    fn(op, UnaryF32Params{}, x.data(), y.data(), kN);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kN));
}

void RunAddBroadcast(benchmark::State& state, Isa isa) {
  if (!IsaSupported(isa) || !SetIsa(isa).ok()) {
    state.SkipWithError("ISA not supported on this CPU");
    return;
  }
  const Tensor a = idem::testing::F32(Inputs(kN, 1.0f), {1024, 1024});
  const Tensor b = idem::testing::F32(Inputs(1024, 1.0f), {1024});
  for (auto _ : state) {
    idem::testing::Op op("Add", 14);
    op.In(a).In(b);
    if (!op.Run(nullptr).ok()) {
      state.SkipWithError("Add failed");
      return;
    }
    benchmark::DoNotOptimize(op.out().raw());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kN));
}

void RunToF16(benchmark::State& state, Isa isa) {
  if (!IsaSupported(isa)) {
    state.SkipWithError("ISA not supported on this CPU");
    return;
  }
  const std::vector<float> x = Inputs(kN, 100.0f);
  std::vector<uint16_t> y(kN);
  const ConvertFns fns = ConvertFor(isa);
  for (auto _ : state) {
    fns.f32_to_f16(x.data(), y.data(), kN);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kN));
}

#define IDEM_UNARY_BENCH(NAME, OP)                                                            \
  void BM_##NAME##_Scalar(benchmark::State& s) { RunUnary(s, Isa::kScalar, UnaryF32Op::OP); } \
  void BM_##NAME##_Avx2(benchmark::State& s) { RunUnary(s, Isa::kAvx2, UnaryF32Op::OP); }     \
  void BM_##NAME##_Avx512(benchmark::State& s) { RunUnary(s, Isa::kAvx512, UnaryF32Op::OP); } \
  BENCHMARK(BM_##NAME##_Scalar)->Unit(benchmark::kMillisecond);                               \
  BENCHMARK(BM_##NAME##_Avx2)->Unit(benchmark::kMillisecond);                                 \
  BENCHMARK(BM_##NAME##_Avx512)->Unit(benchmark::kMillisecond);

IDEM_UNARY_BENCH(Exp, kExp)
IDEM_UNARY_BENCH(Tanh, kTanh)
IDEM_UNARY_BENCH(Erf, kErf)
IDEM_UNARY_BENCH(Gelu, kGelu)
IDEM_UNARY_BENCH(Sigmoid, kSigmoid)

void BM_AddBroadcast_Scalar(benchmark::State& s) { RunAddBroadcast(s, Isa::kScalar); }
void BM_AddBroadcast_Avx2(benchmark::State& s) { RunAddBroadcast(s, Isa::kAvx2); }
void BM_AddBroadcast_Avx512(benchmark::State& s) { RunAddBroadcast(s, Isa::kAvx512); }
BENCHMARK(BM_AddBroadcast_Scalar)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AddBroadcast_Avx2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AddBroadcast_Avx512)->Unit(benchmark::kMillisecond);

void BM_F32ToF16_Scalar(benchmark::State& s) { RunToF16(s, Isa::kScalar); }
void BM_F32ToF16_Avx2(benchmark::State& s) { RunToF16(s, Isa::kAvx2); }
void BM_F32ToF16_Avx512(benchmark::State& s) { RunToF16(s, Isa::kAvx512); }
BENCHMARK(BM_F32ToF16_Scalar)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_F32ToF16_Avx2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_F32ToF16_Avx512)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace idem::simd

BENCHMARK_MAIN();
