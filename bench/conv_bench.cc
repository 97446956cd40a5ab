// Convolution microbenchmarks: ResNet-50 and MobileNetV2 layers, batch 1, f32, on every ISA this
// CPU supports.
//  - avx512 / avx2: kernels/simd/conv.h (im2col into GEMM panels + the GEMM core, or the depthwise
//    kernel) with the weights packed once beforehand, as PrepareConv does at load.
//  - scalar: the Conv kernel through the registry on Isa::kScalar (the reference kernel of
//    kernels/conv.cc; it reads the raw weights).
// Counter GFLOPS = 2 * N * OC * prod(out) * (C/group) * prod(kernel) / time (1e9 FLOP/s), with
// Google Benchmark's default time base: the CPU time of the benchmark thread (meaningful on a
// shared machine). Single-threaded.
//
//   build-conv/bench/idem_conv_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "../tests/unit/kernel_test_util.h"
#include "kernels/simd/conv.h"
#include "kernels/simd/isa.h"

namespace {

using idem::simd::Isa;

struct Layer {
  std::string name;
  int64_t C, OC, H, W, k, stride, pad, group;
};

std::vector<Layer> Layers() {
  return {
      // ResNet-50 (v1.5: the stride of a bottleneck is in its 3x3).
      {"resnet50_conv1_7x7s2_3to64_224", 3, 64, 224, 224, 7, 2, 3, 1},
      {"resnet50_3x3_64to64_56", 64, 64, 56, 56, 3, 1, 1, 1},
      {"resnet50_1x1_256to64_56", 256, 64, 56, 56, 1, 1, 0, 1},
      {"resnet50_1x1_64to256_56", 64, 256, 56, 56, 1, 1, 0, 1},
      {"resnet50_3x3s2_128to128_56to28", 128, 128, 56, 56, 3, 2, 1, 1},
      {"resnet50_3x3_256to256_14", 256, 256, 14, 14, 3, 1, 1, 1},
      {"resnet50_1x1_2048to512_7", 2048, 512, 7, 7, 1, 1, 0, 1},
      {"resnet50_3x3_512to512_7", 512, 512, 7, 7, 3, 1, 1, 1},
      // MobileNetV2: depthwise 3x3 and pointwise 1x1.
      {"mobilenetv2_dw3x3_32_112", 32, 32, 112, 112, 3, 1, 1, 32},
      {"mobilenetv2_dw3x3_144_56", 144, 144, 56, 56, 3, 1, 1, 144},
      {"mobilenetv2_dw3x3s2_144_56to28", 144, 144, 56, 56, 3, 2, 1, 144},
      {"mobilenetv2_dw3x3_576_14", 576, 576, 14, 14, 3, 1, 1, 576},
      {"mobilenetv2_pw1x1_32to16_112", 32, 16, 112, 112, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_144to24_56", 144, 24, 56, 56, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_96to576_14", 96, 576, 14, 14, 1, 1, 0, 1},
  };
}

idem::simd::ConvGeometry GeometryOf(const Layer& l) {
  idem::simd::ConvGeometry g;
  g.N = 1;
  g.G = l.group;
  g.Cg = l.C / l.group;
  g.OCg = l.OC / l.group;
  g.S = 2;
  const int64_t in[] = {l.H, l.W};
  for (int d = 0; d < 2; ++d) {
    g.in[d] = in[d];
    g.kernel[d] = l.k;
    g.strides[d] = l.stride;
    g.dilations[d] = 1;
    g.pads[d] = l.pad;
    g.out[d] = (in[d] + 2 * l.pad - l.k) / l.stride + 1;
  }
  return g;
}

std::vector<float> Random(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = u(rng);
  return v;
}

void BM_Conv(benchmark::State& state, Layer l, Isa isa) {
  const idem::simd::ConvGeometry g = GeometryOf(l);
  const std::vector<float> x = Random(l.C * l.H * l.W, 1);
  const std::vector<float> w = Random(l.OC * g.K(), 2);
  const std::vector<float> b = Random(l.OC, 3);
  const int64_t P = g.OutPlane();
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * static_cast<double>(l.OC * P * g.K()) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
  if (isa != Isa::kScalar) {
    std::vector<float> packed(static_cast<size_t>(idem::simd::ConvPackedWeightFloats(g)));
    idem::simd::PackConvWeights(g, w.data(), packed.data());  // once, like PrepareConv at load
    std::vector<float> y(static_cast<size_t>(l.OC * P));
    for (auto _ : state) {
      idem::simd::ConvF32(isa, g, x.data(), packed.data(), b.data(), y.data(), nullptr);
      benchmark::DoNotOptimize(y.data());
      benchmark::ClobberMemory();
    }
    return;
  }
  using namespace idem::testing;
  const Isa saved = idem::simd::CurrentIsa();
  if (!idem::simd::SetIsa(Isa::kScalar).ok()) {
    state.SkipWithError("cannot select the scalar ISA");
    return;
  }
  Op op("Conv", 11);
  op.In(F32(x, {1, l.C, l.H, l.W})).In(F32(w, {l.OC, g.Cg, l.k, l.k})).In(F32(b, {l.OC}));
  op.Attr("group", IntAttr(l.group)).Attr("strides", IntsAttr({l.stride, l.stride}));
  op.Attr("pads", IntsAttr({l.pad, l.pad, l.pad, l.pad}));
  for (auto _ : state) {
    const idem::Status st = op.Run();
    if (!st.ok()) {
      state.SkipWithError(st.message().c_str());
      break;
    }
    benchmark::DoNotOptimize(op.out(0).data<float>());
  }
  (void)idem::simd::SetIsa(saved);
}

void RegisterAll() {
  for (const Layer& l : Layers())
    for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kScalar}) {
      if (!idem::simd::IsaSupported(isa)) continue;
      benchmark::RegisterBenchmark((l.name + "/" + idem::simd::IsaName(isa)).c_str(), BM_Conv, l, isa)
          ->Unit(benchmark::kMillisecond);
    }
}

}  // namespace

int main(int argc, char** argv) {
  RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
