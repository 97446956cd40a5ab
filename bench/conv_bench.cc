// Convolution microbenchmarks: ResNet-50 and MobileNetV2 layers, batch 1, f32, on every ISA this
// CPU supports.
//  - avx512 / avx2: kernels/simd/conv.h (im2col into GEMM panels + the GEMM core, or the depthwise
//    kernel) with the weights packed once beforehand, as PrepareConv does at load.
//  - scalar: the Conv kernel through the registry on Isa::kScalar (the reference kernel of
//    kernels/conv.cc; it reads the raw weights).
// Counter GFLOPS = 2 * N * OC * prod(out) * (C/group) * prod(kernel) / time (1e9 FLOP/s), with
// Google Benchmark's default time base: the CPU time of the benchmark thread (meaningful on a
// shared machine), single-threaded; the ".../avx512/t2" cases run on a 2-thread pool and report
// wall time (UseRealTime).
//
//   build-conv/bench/idem_conv_bench --benchmark_min_time=0.2 [--benchmark_filter=mobilenetv2]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "../tests/unit/kernel_test_util.h"
#include "core/thread_pool.h"
#include "kernels/simd/conv.h"
#include "kernels/simd/conv_transpose.h"
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
      // MobileNetV2: the first conv, every distinct depthwise 3x3 and pointwise 1x1 shape.
      {"mobilenetv2_conv1_3x3s2_3to32_224", 3, 32, 224, 224, 3, 2, 1, 1},
      {"mobilenetv2_dw3x3_32_112", 32, 32, 112, 112, 3, 1, 1, 32},
      {"mobilenetv2_dw3x3s2_96_112to56", 96, 96, 112, 112, 3, 2, 1, 96},
      {"mobilenetv2_dw3x3_144_56", 144, 144, 56, 56, 3, 1, 1, 144},
      {"mobilenetv2_dw3x3s2_144_56to28", 144, 144, 56, 56, 3, 2, 1, 144},
      {"mobilenetv2_dw3x3_192_28", 192, 192, 28, 28, 3, 1, 1, 192},
      {"mobilenetv2_dw3x3s2_192_28to14", 192, 192, 28, 28, 3, 2, 1, 192},
      {"mobilenetv2_dw3x3_384_14", 384, 384, 14, 14, 3, 1, 1, 384},
      {"mobilenetv2_dw3x3_576_14", 576, 576, 14, 14, 3, 1, 1, 576},
      {"mobilenetv2_dw3x3s2_576_14to7", 576, 576, 14, 14, 3, 2, 1, 576},
      {"mobilenetv2_dw3x3_960_7", 960, 960, 7, 7, 3, 1, 1, 960},
      {"mobilenetv2_pw1x1_32to16_112", 32, 16, 112, 112, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_16to96_112", 16, 96, 112, 112, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_96to24_56", 96, 24, 56, 56, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_144to24_56", 144, 24, 56, 56, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_24to144_56", 24, 144, 56, 56, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_144to32_28", 144, 32, 28, 28, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_32to192_28", 32, 192, 28, 28, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_64to384_14", 64, 384, 14, 14, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_384to64_14", 384, 64, 14, 14, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_96to576_14", 96, 576, 14, 14, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_576to96_14", 576, 96, 14, 14, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_576to160_7", 576, 160, 7, 7, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_160to960_7", 160, 960, 7, 7, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_960to160_7", 960, 160, 7, 7, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_960to320_7", 960, 320, 7, 7, 1, 1, 0, 1},
      {"mobilenetv2_pw1x1_320to1280_7", 320, 1280, 7, 7, 1, 1, 0, 1},
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

void BM_Conv(benchmark::State& state, Layer l, Isa isa, int threads) {
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
    idem::ThreadPool pool(threads);
    idem::ThreadPool* p = threads > 1 ? &pool : nullptr;
    for (auto _ : state) {
      idem::simd::ConvF32(isa, g, x.data(), packed.data(), b.data(), y.data(), p);
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

// ConvTranspose (UNet-style 2x upsampling layers), batch 1, single-threaded: avx512 / avx2 run
// kernels/simd/conv_transpose.h with the weights packed once beforehand (as PrepareConvTranspose
// does at load); scalar runs the ConvTranspose kernel through the registry on Isa::kScalar.
// GFLOPS = 2 * C * OC * prod(in) * prod(kernel) / time: every input element times every tap.
struct TransposeLayer {
  std::string name;
  int64_t C, OC, H, W, k, stride, pad;
};

std::vector<TransposeLayer> TransposeLayers() {
  return {
      // UNet decoder 2x upsampling, k4 s2 p1 (out = 2 * in).
      {"convT_k4s2p1_256to128_16to32", 256, 128, 16, 16, 4, 2, 1},
      {"convT_k4s2p1_128to64_32to64", 128, 64, 32, 32, 4, 2, 1},
      {"convT_k4s2p1_64to32_64to128", 64, 32, 64, 64, 4, 2, 1},
      // k2 s2 (every output has exactly one tap per dim).
      {"convT_k2s2_512to256_8to16", 512, 256, 8, 8, 2, 2, 0},
      {"convT_k2s2_256to128_16to32", 256, 128, 16, 16, 2, 2, 0},
      {"convT_k2s2_128to64_32to64", 128, 64, 32, 32, 2, 2, 0},
      // k3 s1 p1 (one phase: a convolution with flipped taps).
      {"convT_k3s1p1_64to64_56", 64, 64, 56, 56, 3, 1, 1},
  };
}

idem::simd::ConvGeometry GeometryOf(const TransposeLayer& l) {
  idem::simd::ConvGeometry g;
  g.N = 1;
  g.G = 1;
  g.Cg = l.C;
  g.OCg = l.OC;
  g.S = 2;
  const int64_t in[] = {l.H, l.W};
  for (int d = 0; d < 2; ++d) {
    g.in[d] = in[d];
    g.kernel[d] = l.k;
    g.strides[d] = l.stride;
    g.dilations[d] = 1;
    g.pads[d] = l.pad;
    g.out[d] = l.stride * (in[d] - 1) + l.k - 2 * l.pad;
  }
  return g;
}

void BM_ConvTranspose(benchmark::State& state, TransposeLayer l, Isa isa) {
  const idem::simd::ConvGeometry g = GeometryOf(l);
  const int64_t ks = l.k * l.k;
  const std::vector<float> x = Random(l.C * l.H * l.W, 1);
  const std::vector<float> w = Random(l.C * l.OC * ks, 2);
  const std::vector<float> b = Random(l.OC, 3);
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * static_cast<double>(l.C * l.OC * l.H * l.W * ks) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
  if (isa != Isa::kScalar) {
    std::vector<float> packed(static_cast<size_t>(idem::simd::ConvTransposePackedWeightFloats(g)));
    idem::simd::PackConvTransposeWeights(g, w.data(), packed.data());  // once, like PrepareConvTranspose
    std::vector<float> y(static_cast<size_t>(l.OC * g.OutPlane()));
    for (auto _ : state) {
      idem::simd::ConvTransposeF32(isa, g, x.data(), packed.data(), b.data(), y.data(), nullptr);
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
  Op op("ConvTranspose", 11);
  op.In(F32(x, {1, l.C, l.H, l.W})).In(F32(w, {l.C, l.OC, l.k, l.k})).In(F32(b, {l.OC}));
  op.Attr("strides", IntsAttr({l.stride, l.stride})).Attr("pads", IntsAttr({l.pad, l.pad, l.pad, l.pad}));
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
      benchmark::RegisterBenchmark((l.name + "/" + idem::simd::IsaName(isa)).c_str(), BM_Conv, l, isa, 1)
          ->Unit(benchmark::kMicrosecond);
      if (isa == Isa::kAvx512)
        benchmark::RegisterBenchmark((l.name + "/" + idem::simd::IsaName(isa) + "/t2").c_str(), BM_Conv, l, isa, 2)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
    }
  for (const TransposeLayer& l : TransposeLayers())
    for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kScalar}) {
      if (!idem::simd::IsaSupported(isa)) continue;
      benchmark::RegisterBenchmark((l.name + "/" + idem::simd::IsaName(isa)).c_str(), BM_ConvTranspose, l, isa)
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
