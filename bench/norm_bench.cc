// Reduce-family microbenchmarks: Softmax, LayerNormalization, ReduceMean, MaxPool and
// GlobalAveragePool through the kernel registry (one node, run-time inputs), on every ISA this
// CPU supports (scalar reference, AVX2, AVX-512). Every ISA computes the same bits; only the time
// differs.
//
// Counters: GB/s = (input + output bytes) / time; Gelem/s = input elements / time. Google
// Benchmark's default time base (CPU time of the benchmark thread) keeps the figures meaningful
// on a machine shared with other jobs. Single-threaded.
//
//   build-reduce/bench/idem_norm_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "../tests/unit/kernel_test_util.h"  // the shared one-kernel runner (Op)
#include "kernels/simd/isa.h"

namespace {

using idem::Shape;
using idem::Tensor;
using idem::simd::Isa;
using idem::testing::Op;

struct Case {
  std::string name;
  std::function<Op()> make;  // a ready node with its inputs
  double bytes;              // input + output bytes per run
  double elements;           // input elements per run
};

Tensor RandomF32(const Shape& s, uint32_t seed) {
  return idem::testing::F32(idem::testing::RandomFloats(static_cast<size_t>(idem::NumElements(s)), seed), s);
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  auto softmax = [&](const char* op, int64_t rows, int64_t n) {
    const Tensor x = RandomF32({rows, n}, 1);
    const double e = static_cast<double>(rows * n);
    cases.push_back({std::string(op) + "/" + std::to_string(rows) + "x" + std::to_string(n),
                     [x, op] {
                       Op o(op, 13);
                       o.In(x).Attr("axis", idem::testing::IntAttr(-1));
                       return o;
                     },
                     8 * e, e});
  };
  softmax("Softmax", 128 * 12, 128);
  softmax("Softmax", 1, 50257);
  softmax("LogSoftmax", 128 * 12, 128);
  {
    const Tensor x = RandomF32({128, 768}, 2), s = RandomF32({768}, 3), b = RandomF32({768}, 4);
    cases.push_back({"LayerNormalization/128x768",
                     [x, s, b] {
                       Op o("LayerNormalization", 17);
                       o.In(x).In(s).In(b);
                       return o;
                     },
                     8.0 * 128 * 768, 128.0 * 768});
  }
  for (int64_t axis : {1, 0}) {
    const Tensor x = RandomF32({128, 768}, 5);
    const int64_t out = axis == 1 ? 128 : 768;
    cases.push_back({"ReduceMean/128x768/axis" + std::to_string(axis),
                     [x, axis] {
                       Op o("ReduceMean", 18);
                       o.In(x).In(idem::testing::I64({axis}, {1}));
                       return o;
                     },
                     4.0 * (128 * 768 + out), 128.0 * 768});
  }
  {
    const Tensor x = RandomF32({1, 64, 112, 112}, 6);
    cases.push_back({"MaxPool3x3s2/1x64x112x112",
                     [x] {
                       Op o("MaxPool", 12);
                       o.In(x)
                           .Attr("kernel_shape", idem::testing::IntsAttr({3, 3}))
                           .Attr("strides", idem::testing::IntsAttr({2, 2}))
                           .Attr("pads", idem::testing::IntsAttr({1, 1, 1, 1}));
                       return o;
                     },
                     4.0 * (64 * 112 * 112 + 64 * 56 * 56), 64.0 * 112 * 112});
    cases.push_back({"AveragePool3x3s2/1x64x112x112",
                     [x] {
                       Op o("AveragePool", 11);
                       o.In(x)
                           .Attr("kernel_shape", idem::testing::IntsAttr({3, 3}))
                           .Attr("strides", idem::testing::IntsAttr({2, 2}))
                           .Attr("pads", idem::testing::IntsAttr({1, 1, 1, 1}));
                       return o;
                     },
                     4.0 * (64 * 112 * 112 + 64 * 56 * 56), 64.0 * 112 * 112});
  }
  {
    const Tensor x = RandomF32({1, 2048, 7, 7}, 7);
    cases.push_back({"GlobalAveragePool/1x2048x7x7",
                     [x] {
                       Op o("GlobalAveragePool", 1);
                       o.In(x);
                       return o;
                     },
                     4.0 * (2048 * 49 + 2048), 2048.0 * 49});
  }
  return cases;
}

void Run(benchmark::State& state, const Case& c, Isa isa) {
  if (!idem::simd::SetIsa(isa).ok()) {
    state.SkipWithError("ISA not supported");
    return;
  }
  Op op = c.make();
  for (auto _ : state) {
    const idem::Status st = op.Run();
    if (!st.ok()) {
      state.SkipWithError(st.message().c_str());
      return;
    }
    benchmark::DoNotOptimize(op.out().raw());
  }
  state.counters["GB/s"] = benchmark::Counter(c.bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["Gelem/s"] = benchmark::Counter(c.elements * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
  static const std::vector<Case> cases = Cases();
  for (const Case& c : cases)
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512})
      if (idem::simd::IsaSupported(isa))
        benchmark::RegisterBenchmark((c.name + "/" + idem::simd::IsaName(isa)).c_str(),
                                     [&c, isa](benchmark::State& s) { Run(s, c, isa); });
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
