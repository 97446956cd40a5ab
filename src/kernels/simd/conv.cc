// f32 convolution on the SIMD targets (see conv.h): weight packing, im2col straight into the
// GEMM's panels, the GEMM-based driver, and the per-ISA dispatch of the depthwise kernel
// (conv-inl.h, compiled here once per target of kernels/simd/targets.h).

#include "kernels/simd/targets.h"  // first: decides the targets foreach_target.h compiles

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/conv.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/simd/conv-inl.h"

#if HWY_ONCE

#include <algorithm>
#include <cstring>
#include <vector>

#include <hwy/aligned_allocator.h>

#include "core/status.h"
#include "kernels/simd/conv.h"
#include "kernels/simd/fused_act.h"
#include "kernels/simd/gemm.h"

namespace idem::simd {
namespace {

using DepthwiseFn = void (*)(const ConvGeometry&, const float*, const float*, const float*, float*, ThreadPool*,
                             const ConvOutputOp*, FusedActSpanFn);

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Tile constants (shape-only, R5): about 1 MB of packed columns per tile, 128..512 columns (the
// GEMM blocks K itself; fewer columns per tile would re-stream the weights too often).
constexpr int64_t kTileFloats = int64_t{1} << 18;
constexpr int64_t kMinTileColumns = 128;
constexpr int64_t kMaxTileColumns = 512;
// With fewer (sample, group, column tile) tasks than this, the tasks run one after the other and
// each GEMM is parallel instead (only speed differs: every output's chain is the same).
constexpr int64_t kMinOuterTasks = 8;

DepthwiseFn DepthwiseFor(Isa isa) {
  DepthwiseFn fn = nullptr;
  if (isa == Isa::kAvx2) fn = IDEM_SIMD_AVX2_FN(DepthwiseConvF32);
  if (isa == Isa::kAvx512) fn = IDEM_SIMD_AVX512_FN(DepthwiseConvF32);
  IDEM_CHECK(fn != nullptr && IsaSupported(isa), "SIMD convolution called for ISA ", IsaName(isa));
  return fn;
}

}  // namespace

int64_t ConvGeometry::InPlane() const {
  int64_t p = 1;
  for (int d = 0; d < S; ++d) p *= in[d];
  return p;
}

int64_t ConvGeometry::OutPlane() const {
  int64_t p = 1;
  for (int d = 0; d < S; ++d) p *= out[d];
  return p;
}

int64_t ConvGeometry::KernelSize() const {
  int64_t p = 1;
  for (int d = 0; d < S; ++d) p *= kernel[d];
  return p;
}

ConvAlgorithm ConvAlgorithmFor(const ConvGeometry& g) {
  if (g.Cg == 1 && g.OCg == 1 && g.S <= 2) return ConvAlgorithm::kDepthwise;
  return ConvAlgorithm::kGemm;
}

int64_t ConvTileColumns(int64_t K) {
  const int64_t cols = kTileFloats / std::max<int64_t>(K, 1) / kGemmPanel * kGemmPanel;
  return std::clamp<int64_t>(cols, kMinTileColumns, kMaxTileColumns);
}

int64_t ConvPackedWeightFloats(const ConvGeometry& g) {
  if (ConvAlgorithmFor(g) == ConvAlgorithm::kDepthwise) return g.G * g.OCg * g.K();
  return g.G * PackedAFloats(g.OCg, g.K());
}

void PackConvWeights(const ConvGeometry& g, const float* w, float* packed) {
  const int64_t K = g.K();
  if (ConvAlgorithmFor(g) == ConvAlgorithm::kDepthwise) {
    std::memcpy(packed, w, sizeof(float) * static_cast<size_t>(g.G * g.OCg * K));
    return;
  }
  for (int64_t grp = 0; grp < g.G; ++grp)
    PackA(w + grp * g.OCg * K, g.OCg, K, K, 1, packed + grp * PackedAFloats(g.OCg, K));
}

namespace {

// The zero-padded input the im2col reads: each channel of each sample padded to `dims` (begin pads
// of the geometry, end pads up to what the last window reaches). When no dim needs padding the
// input is read in place.
struct PaddedInput {
  bool copy = false;
  int64_t dims[kConvMaxSpatial] = {};
  int64_t plane = 1;
};

PaddedInput MakePaddedInput(const ConvGeometry& g) {
  PaddedInput pi;
  for (int d = 0; d < g.S; ++d) {
    const int64_t reach = (g.out[d] - 1) * g.strides[d] + (g.kernel[d] - 1) * g.dilations[d] + 1;
    pi.dims[d] = std::max(g.in[d] + g.pads[d], reach);
    pi.copy = pi.copy || pi.dims[d] != g.in[d];  // a begin pad or an end pad
  }
  for (int d = 0; d < g.S; ++d) pi.plane *= pi.dims[d];
  return pi;
}

// Copies `channels` input planes into padded planes (zeros around).
void PadPlanes(const ConvGeometry& g, const PaddedInput& pi, const float* x, int64_t channels, float* dst) {
  const int last = g.S - 1;
  const int64_t W = g.in[last];
  const int64_t in_plane = g.InPlane();
  const int64_t rows = in_plane / std::max<int64_t>(W, 1);
  for (int64_t c = 0; c < channels; ++c) {
    float* out = dst + c * pi.plane;
    std::fill(out, out + pi.plane, 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t rem = r, off = g.pads[last], stride = pi.dims[last];
      for (int d = last; d-- > 0;) {
        off += (rem % g.in[d] + g.pads[d]) * stride;
        rem /= g.in[d];
        stride *= pi.dims[d];
      }
      std::memcpy(out + off, x + c * in_plane + r * W, sizeof(float) * static_cast<size_t>(W));
    }
  }
}

// koff[k] for k = (ic, kernel position): the offset of the term in the padded input.
std::vector<int64_t> KernelOffsets(const ConvGeometry& g, const PaddedInput& pi) {
  const int64_t ks = g.KernelSize();
  std::vector<int64_t> koff(static_cast<size_t>(g.K()));
  for (int64_t kp = 0; kp < ks; ++kp) {
    int64_t rem = kp, off = 0, stride = 1;
    for (int d = g.S; d-- > 0;) {
      off += (rem % g.kernel[d]) * g.dilations[d] * stride;
      rem /= g.kernel[d];
      stride *= pi.dims[d];
    }
    for (int64_t ic = 0; ic < g.Cg; ++ic) koff[static_cast<size_t>(ic * ks + kp)] = ic * pi.plane + off;
  }
  return koff;
}

// colbase[c] for output positions p0 + c: the offset of the window's first element.
void ColumnBases(const ConvGeometry& g, const PaddedInput& pi, int64_t p0, int64_t count, int64_t* colbase) {
  int64_t coord[kConvMaxSpatial];
  int64_t rem = p0;
  for (int d = g.S; d-- > 0;) {
    coord[d] = rem % g.out[d];
    rem /= g.out[d];
  }
  for (int64_t c = 0; c < count; ++c) {
    int64_t off = 0, stride = 1;
    for (int d = g.S; d-- > 0;) {
      off += coord[d] * g.strides[d] * stride;
      stride *= pi.dims[d];
    }
    colbase[c] = off;
    for (int d = g.S; d-- > 0;) {  // next position, row-major
      if (++coord[d] < g.out[d]) break;
      coord[d] = 0;
    }
  }
}

using PackTileFn = void (*)(const float*, int64_t, const int64_t*, int64_t, const int64_t*, int64_t, int64_t, float*);

PackTileFn PackTileFor(Isa isa) {
  PackTileFn fn = nullptr;
  if (isa == Isa::kAvx2) fn = IDEM_SIMD_AVX2_FN(PackConvTile);
  if (isa == Isa::kAvx512) fn = IDEM_SIMD_AVX512_FN(PackConvTile);
  IDEM_CHECK(fn != nullptr && IsaSupported(isa), "SIMD convolution called for ISA ", IsaName(isa));
  return fn;
}

// Slack after a padded input, so that vector loads of the stride-2 path may read past its end.
constexpr int64_t kPadSlack = 2 * kGemmPanel;

}  // namespace

void PackConvColumns(Isa isa, const ConvGeometry& g, const float* x, int64_t p0, int64_t count, float* tile) {
  const PaddedInput pi = MakePaddedInput(g);
  std::vector<float> padded;
  const float* xp = x;
  int64_t xp_len = g.Cg * g.InPlane();
  if (pi.copy) {
    padded.assign(static_cast<size_t>(g.Cg * pi.plane + kPadSlack), 0.0f);
    PadPlanes(g, pi, x, g.Cg, padded.data());
    xp = padded.data();
    xp_len = g.Cg * pi.plane + kPadSlack;
  }
  const std::vector<int64_t> koff = KernelOffsets(g, pi);
  std::vector<int64_t> colbase(static_cast<size_t>(count));
  ColumnBases(g, pi, p0, count, colbase.data());
  PackTileFor(isa)(xp, xp_len, koff.data(), g.K(), colbase.data(), count, g.strides[g.S - 1], tile);
}

void ConvF32(Isa isa, const ConvGeometry& g, const float* x, const float* packed_w, const float* bias, float* y,
             ThreadPool* pool, const ConvOutputOp* op) {
  IDEM_CHECK(g.S >= 1 && g.S <= kConvMaxSpatial, "convolution spatial rank ", g.S);
  if (op != nullptr && op->act.kind == FusedActKind::kNone && op->residual == nullptr) op = nullptr;
  const FusedActSpanFn span = op != nullptr ? FusedActSpanFor(isa) : nullptr;  // dispatch once per call
  if (ConvAlgorithmFor(g) == ConvAlgorithm::kDepthwise) {
    const DepthwiseFn fn = DepthwiseFor(isa);  // dispatch once per call
    fn(g, x, packed_w, bias, y, pool, op, span);
    return;
  }
  // Relu / Clip without a residual: in the GEMM epilogue's registers; anything else: the hook.
  GemmActivation gemm_act = GemmActivation::kNone;
  bool use_hook = op != nullptr;
  if (op != nullptr && op->residual == nullptr && op->act.kind == FusedActKind::kRelu) {
    gemm_act = GemmActivation::kRelu;
    use_hook = false;
  } else if (op != nullptr && op->residual == nullptr && op->act.kind == FusedActKind::kClip) {
    gemm_act = GemmActivation::kClip;
    use_hook = false;
  }
  const PackTileFn pack = PackTileFor(isa);
  const int64_t K = g.K(), P = g.OutPlane(), in_plane = g.InPlane();
  const int64_t C = g.G * g.Cg, OC = g.G * g.OCg;
  if (P == 0 || g.OCg == 0 || g.N == 0) return;
  // The padded input of every sample and channel (in place when nothing is padded).
  const PaddedInput pi = MakePaddedInput(g);
  hwy::AlignedFreeUniquePtr<float[]> padded;
  const float* xp_all = x;
  const int64_t plane = pi.copy ? pi.plane : in_plane;
  if (pi.copy) {
    padded = hwy::AllocateAligned<float>(static_cast<size_t>(g.N * C * pi.plane + kPadSlack));
    std::fill(padded.get() + g.N * C * pi.plane, padded.get() + g.N * C * pi.plane + kPadSlack, 0.0f);
    const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(pi.plane, 1));
    ParallelForRange(pool, g.N * C, grain, [&](int64_t c0, int64_t c1) {
      PadPlanes(g, pi, x + c0 * in_plane, c1 - c0, padded.get() + c0 * pi.plane);
    });
    xp_all = padded.get();
  }
  // Readable floats from the start of the input (the padded copy has kPadSlack more).
  const int64_t xp_total = g.N * C * plane + (pi.copy ? kPadSlack : 0);
  const std::vector<int64_t> koff = KernelOffsets(g, pi);
  const int64_t sl = g.strides[g.S - 1];
  const int64_t tile_cols = ConvTileColumns(K);
  const int64_t tiles_p = CeilDiv(P, tile_cols);
  const int64_t tasks = g.N * g.G * tiles_p;
  const size_t buf_floats = static_cast<size_t>(std::max<int64_t>(PackedBFloats(K, tile_cols), 1));
  auto run = [&](int64_t t, float* buf, int64_t* colbase, ThreadPool* inner) {
    const int64_t pi_t = t % tiles_p;
    const int64_t grp = (t / tiles_p) % g.G;
    const int64_t n = t / tiles_p / g.G;
    const int64_t p0 = pi_t * tile_cols;
    const int64_t count = std::min(tile_cols, P - p0);
    const int64_t first = (n * C + grp * g.Cg) * plane;
    ColumnBases(g, pi, p0, count, colbase);
    pack(xp_all + first, xp_total - first, koff.data(), K, colbase, count, sl, buf);
    GemmF32Args a;
    a.M = g.OCg;
    a.N = count;
    a.K = K;
    a.a = packed_w + grp * PackedAFloats(g.OCg, K);  // W_g in the GEMM's packed-A layout
    a.a_packed = true;
    a.packed_b = buf;
    a.c = y + (n * OC + grp * g.OCg) * P + p0;
    a.ldc = P;
    if (bias != nullptr) {
      a.epilogue.bias_kind = GemmBias::kPerRow;
      a.epilogue.bias = bias + grp * g.OCg;
    }
    a.epilogue.activation = gemm_act;
    if (gemm_act == GemmActivation::kClip) {
      a.epilogue.clip_lo = op->act.a;
      a.epilogue.clip_hi = op->act.b;
    }
    FusedActHook hook;  // C(m, n) of this GEMM is y[first_out + m * P + n]; the residual alike
    if (use_hook) {
      const int64_t first_out = (n * OC + grp * g.OCg) * P + p0;
      hook.span = span;
      hook.act = op->act;
      hook.addend = op->residual != nullptr ? op->residual + first_out : nullptr;
      hook.addend_ld = P;
      a.epilogue.post.fn = &FusedActPostStore;
      a.epilogue.post.ctx = &hook;
    }
    GemmF32PackedB(isa, a, inner);
  };
  if (tasks >= kMinOuterTasks || pool == nullptr) {
    ParallelForRange(pool, tasks, 1, [&](int64_t t0, int64_t t1) {
      auto buf = hwy::AllocateAligned<float>(buf_floats);
      std::vector<int64_t> colbase(static_cast<size_t>(tile_cols));
      for (int64_t t = t0; t < t1; ++t) run(t, buf.get(), colbase.data(), nullptr);
    });
  } else {
    auto buf = hwy::AllocateAligned<float>(buf_floats);
    std::vector<int64_t> colbase(static_cast<size_t>(tile_cols));
    for (int64_t t = 0; t < tasks; ++t) run(t, buf.get(), colbase.data(), pool);
  }
}

}  // namespace idem::simd

#endif  // HWY_ONCE
