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
#include <cstdint>
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
int64_t RoundUp(int64_t a, int64_t m) { return CeilDiv(a, m) * m; }

// ConvGemmBlocks: at least kConvTasks tasks where the shapes allow, each of at least
// kConvMinTaskFmas FMAs. Row blocks (at least kConvSplitRowsFrom rows, no fewer than the columns,
// and at most kPackAllMaxFloats packed columns) are whole kConvRowGroup groups: the row groups of
// the packed weights (gemm.h PackA), one AVX-512 microkernel call or two AVX2 ones.
// Column tiles shrink only for at most kShrinkTilesMaxWeights weights (every tile reads them all).
constexpr int64_t kConvTasks = 8;
constexpr int64_t kConvMinTaskFmas = int64_t{1} << 18;
constexpr int64_t kConvRowGroup = kGemmPackRows;
constexpr int64_t kConvSplitRowsFrom = 4 * kConvRowGroup;
constexpr int64_t kPackAllMaxFloats = int64_t{1} << 20;
constexpr int64_t kShrinkTilesMaxWeights = int64_t{1} << 18;

// Tile constants (shape-only, R5): about 1 MB of packed columns per tile, 128..512 columns (the
// GEMM blocks K itself; fewer columns per tile would re-stream the weights too often).
constexpr int64_t kTileFloats = int64_t{1} << 18;
constexpr int64_t kMinTileColumns = 128;
constexpr int64_t kMaxTileColumns = 512;
// Weight prefetching (PrefetchWeights) for tasks of at most this many weights (more would not
// stay in L2 until the GEMM reaches them); of the column tiles of a (sample, group), the first
// kPrefetchWeightsTiles (the first task of each of two threads) do it.
constexpr int64_t kPrefetchWeightsMaxFloats = int64_t{1} << 18;
constexpr int64_t kPrefetchWeightsTiles = 2;
// Output prefetching (PrefetchOutput) for chains of at most kPrefetchOutMaxK into outputs of at
// least kPrefetchOutMinFloats.
constexpr int64_t kPrefetchOutMaxK = 64;
constexpr int64_t kPrefetchOutMinFloats = int64_t{1} << 19;
// Packing jobs of the pack-all path: about this many floats each.
constexpr int64_t kPackJobFloats = int64_t{1} << 14;

// Depthwise jobs: at least kDwJobFmas FMAs each (one job allocates and pads a scratch), and at
// least kDwMinJobs jobs when there are that many planes.
constexpr int64_t kDwJobFmas = int64_t{1} << 16;
constexpr int64_t kDwMinJobs = 8;

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

int64_t DwPlanesPerJob(int64_t planes, int64_t plane_fmas) {
  const int64_t by_work = CeilDiv(kDwJobFmas, std::max<int64_t>(plane_fmas, 1));
  return std::max<int64_t>(1, std::min(by_work, CeilDiv(planes, kDwMinJobs)));
}

ConvGemmGrid ConvGemmBlocks(int64_t ng, int64_t M, int64_t P, int64_t K) {
  ConvGemmGrid grid;
  const int64_t k = std::max<int64_t>(K, 1);
  grid.rows = std::max<int64_t>(M, 1);
  grid.cols = ConvTileColumns(K);
  if (ng * CeilDiv(P, grid.cols) >= kConvTasks) return grid;
  const int64_t want = CeilDiv(kConvTasks, std::max<int64_t>(ng, 1));  // blocks per (sample, group)
  if (M >= kConvSplitRowsFrom && M >= P && ng * PackedBFloats(K, P) <= kPackAllMaxFloats) {
    // More output channels than positions: all columns packed first, then row blocks (each task
    // reads only its rows of the weights), balanced, in whole row groups.
    grid.pack_all = true;
    grid.cols = std::max<int64_t>(P, 1);
    const int64_t min_rows = CeilDiv(kConvMinTaskFmas, grid.cols * k);
    const int64_t nr = std::max<int64_t>(1, std::min(want, M / std::max(min_rows, kConvRowGroup)));
    const int64_t per = CeilDiv(M, nr);
    grid.rows = RoundUp(per, kConvRowGroup);
    return grid;
  }
  // Otherwise smaller column tiles (each task packs its own) of whole pairs of panels, when the
  // weights every tile reads again are few.
  if (M * k <= kShrinkTilesMaxWeights) {
    const int64_t min_cols = CeilDiv(kConvMinTaskFmas, std::max<int64_t>(M, 1) * k);
    grid.cols = std::min(grid.cols, RoundUp(std::max(CeilDiv(P, want), min_cols), 2 * kGemmPanel));
  }
  return grid;
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

// Copies `channels` input planes into padded planes (zeros around): each padded row is written
// once (pads zeroed, body copied).
void PadPlanes(const ConvGeometry& g, const PaddedInput& pi, const float* x, int64_t channels, float* dst) {
  const int last = g.S - 1;
  const int64_t W = g.in[last], Wp = pi.dims[last];
  const int64_t in_plane = g.InPlane();
  const int64_t rows = pi.plane / std::max<int64_t>(Wp, 1);  // padded rows per plane
  const int64_t head = g.pads[last], tail = Wp - head - W;
  for (int64_t c = 0; c < channels; ++c) {
    float* out = dst + c * pi.plane;
    for (int64_t r = 0; r < rows; ++r) {
      float* row = out + r * Wp;
      // The input row of padded row r (coordinates of the outer dims), if it is not padding.
      int64_t rem = r, src = 0, stride = 1;
      bool body = true;
      for (int d = last; d-- > 0;) {
        const int64_t i = rem % pi.dims[d] - g.pads[d];
        rem /= pi.dims[d];
        body = body && i >= 0 && i < g.in[d];
        src += i * stride;
        stride *= g.in[d];
      }
      if (!body) {
        std::fill(row, row + Wp, 0.0f);
        continue;
      }
      std::fill(row, row + head, 0.0f);
      std::memcpy(row + head, x + c * in_plane + src * W, sizeof(float) * static_cast<size_t>(W));
      std::fill(row + head + W, row + head + W + tail, 0.0f);
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

// colbase[c] for output positions p0 + c: the offset of the window's first element. Walks the
// positions in order: along the last dim by its stride, recomputed at each row start.
void ColumnBases(const ConvGeometry& g, const PaddedInput& pi, int64_t p0, int64_t count, int64_t* colbase) {
  const int last = g.S - 1;
  const int64_t OW = g.out[last], sl = g.strides[last];
  int64_t row = p0 / OW, ow = p0 % OW;  // row: index over the outer output dims
  for (int64_t c = 0; c < count;) {
    int64_t rem = row, off = 0, stride = pi.dims[last];
    for (int d = last; d-- > 0;) {
      off += (rem % g.out[d]) * g.strides[d] * stride;
      rem /= g.out[d];
      stride *= pi.dims[d];
    }
    const int64_t n = std::min(count - c, OW - ow);
    for (int64_t j = 0; j < n; ++j) colbase[c + j] = off + (ow + j) * sl;
    c += n;
    ow = 0;
    ++row;
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

// Brings `floats` contiguous weights towards L2 before a GEMM reads them: cold weights otherwise
// arrive one demand miss per micro-panel start (the hardware prefetchers stop at page ends).
void PrefetchWeights(const float* a, int64_t floats) {
  const uintptr_t lo = reinterpret_cast<uintptr_t>(a) & ~uintptr_t{63};
  const uintptr_t hi = reinterpret_cast<uintptr_t>(a + floats);
  for (uintptr_t q = lo; q < hi; q += 64) __builtin_prefetch(reinterpret_cast<const void*>(q), 0, 2);
}

// Requests the output rows [0, rows) x [0, cols) (row r at c + r * ldc) for writing. For short
// chains into a large output the GEMM is bound by its store misses (one per output line, a
// handful of FMAs apart); requested together they overlap.
void PrefetchOutput(float* c, int64_t ldc, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const uintptr_t lo = reinterpret_cast<uintptr_t>(c + r * ldc) & ~uintptr_t{63};
    const uintptr_t hi = reinterpret_cast<uintptr_t>(c + r * ldc + cols - 1);
    for (uintptr_t q = lo; q <= hi; q += 64) __builtin_prefetch(reinterpret_cast<const void*>(q), 1, 2);
  }
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
  const int64_t ng = g.N * g.G;
  // Tasks: column tiles (each packs its tile and runs all rows), or with few columns and many
  // rows, all columns packed first and row blocks (ConvGemmBlocks: shapes only).
  const ConvGemmGrid grid = ConvGemmBlocks(ng, g.OCg, P, K);
  const int64_t tile_cols = grid.cols;
  const bool pack_all = grid.pack_all;
  const int64_t tiles_p = CeilDiv(P, tile_cols);
  const int64_t tiles = ng * tiles_p;
  // Short chains into an output larger than L2: request each task's output lines up front.
  const bool prefetch_out = K <= kPrefetchOutMaxK && g.N * OC * P >= kPrefetchOutMinFloats;
  // Packs columns [p0, p0 + count) of (sample n, group grp) into `dst` (panel layout).
  auto pack_columns = [&](int64_t n, int64_t grp, int64_t p0, int64_t count, int64_t* colbase, float* dst) {
    const int64_t first = (n * C + grp * g.Cg) * plane;
    ColumnBases(g, pi, p0, count, colbase);
    pack(xp_all + first, xp_total - first, koff.data(), K, colbase, count, sl, dst);
  };
  // Output rows [m0, m0 + rows) x columns [p0, p0 + count) of (n, grp) from their packed columns
  // (prefetch_a: prefetch the weights first).
  auto gemm = [&](int64_t n, int64_t grp, int64_t m0, int64_t rows, int64_t p0, int64_t count,
                  const float* packed_b, bool prefetch_a = true) {
    GemmF32Args a;
    a.M = rows;
    a.N = count;
    a.K = K;
    // W_g in the GEMM's packed-A layout; m0 is a multiple of its 12-row groups.
    a.a = packed_w + grp * PackedAFloats(g.OCg, K) + m0 * K;
    a.a_packed = true;
    a.packed_b = packed_b;
    const int64_t first_out = (n * OC + grp * g.OCg + m0) * P + p0;
    a.c = y + first_out;
    a.ldc = P;
    if (bias != nullptr) {
      a.epilogue.bias_kind = GemmBias::kPerRow;
      a.epilogue.bias = bias + grp * g.OCg + m0;
    }
    a.epilogue.activation = gemm_act;
    if (gemm_act == GemmActivation::kClip) {
      a.epilogue.clip_lo = op->act.a;
      a.epilogue.clip_hi = op->act.b;
    }
    FusedActHook hook;  // C(m, n) of this GEMM is y[first_out + m * P + n]; the residual alike
    if (use_hook) {
      hook.span = span;
      hook.act = op->act;
      hook.addend = op->residual != nullptr ? op->residual + first_out : nullptr;
      hook.addend_ld = P;
      a.epilogue.post.fn = &FusedActPostStore;
      a.epilogue.post.ctx = &hook;
    }
    if (prefetch_a && rows * K <= kPrefetchWeightsMaxFloats) PrefetchWeights(a.a, PackedAFloats(rows, K));
    if (prefetch_out) PrefetchOutput(a.c, P, rows, count);
    GemmF32PackedB(isa, a, nullptr);
  };
  if (!pack_all) {
    // Each task packs one column tile (cache-resident) and runs all its rows.
    const size_t buf_floats = static_cast<size_t>(std::max<int64_t>(PackedBFloats(K, tile_cols), 1));
    ParallelForRange(pool, tiles, 1, [&](int64_t t0, int64_t t1) {
      auto buf = hwy::AllocateAligned<float>(buf_floats);
      std::vector<int64_t> colbase(static_cast<size_t>(tile_cols));
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t p0 = (t % tiles_p) * tile_cols;
        const int64_t count = std::min(tile_cols, P - p0);
        const int64_t grp = (t / tiles_p) % g.G, n = t / tiles_p / g.G;
        pack_columns(n, grp, p0, count, colbase.data(), buf.get());
        // The weights stay in L2 (or L3) for the later tiles: only the first ones prefetch them.
        gemm(n, grp, 0, g.OCg, p0, count, buf.get(), t % tiles_p < kPrefetchWeightsTiles);
      }
    });
    return;
  }
  // All columns of every (sample, group) packed first, in parallel runs of panels; then row blocks.
  const int64_t panels = CeilDiv(P, kGemmPanel);
  const int64_t ng_floats = PackedBFloats(K, P);
  auto packed = hwy::AllocateAligned<float>(static_cast<size_t>(std::max<int64_t>(ng * ng_floats, 1)));
  const int64_t pack_panels = std::max<int64_t>(1, kPackJobFloats / std::max<int64_t>(K * kGemmPanel, 1));
  const int64_t pack_jobs_ng = CeilDiv(panels, pack_panels);
  ParallelForRange(pool, ng * pack_jobs_ng, 1, [&](int64_t j0, int64_t j1) {
    std::vector<int64_t> colbase(static_cast<size_t>(pack_panels * kGemmPanel));
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t i = j / pack_jobs_ng;
      const int64_t p0 = (j % pack_jobs_ng) * pack_panels * kGemmPanel;
      const int64_t count = std::min(pack_panels * kGemmPanel, P - p0);
      pack_columns(i / g.G, i % g.G, p0, count, colbase.data(), packed.get() + i * ng_floats + p0 * K);
    }
  });
  const int64_t row_blocks = CeilDiv(g.OCg, grid.rows);
  ParallelForRange(pool, ng * row_blocks, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t i = t / row_blocks, m0 = (t % row_blocks) * grid.rows;
      gemm(i / g.G, i % g.G, m0, std::min(grid.rows, g.OCg - m0), 0, P, packed.get() + i * ng_floats);
    }
  });
}

}  // namespace idem::simd

#endif  // HWY_ONCE
