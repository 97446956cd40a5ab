// f32 convolution (NCHW, N-D, groups, strides, dilations, padding) on the SIMD targets.
//
// Canonical order (the one kernels/conv.cc states and its scalar reference computes): every
// output element y[n][oc][o] is ONE sequential FMA chain starting from +0 over
// k = (input channel of the group, kernel position in row-major order), ascending, where a term
// whose input position lies in the padding is fma(w, 0, acc) (it is not skipped); then
// y = acc + bias[oc] when there is a bias.
//
// Algorithms (chosen from the shapes only, R5 — ConvAlgorithmFor; every one computes the order
// above, so the choice never changes a bit):
//  - kGemm: per (sample, group), Y_g (OCg x P) = W_g (OCg x K) · col (K x P), K = Cg * prod(kernel),
//    P = prod(out). The input is copied once into zero-padded planes (read in place when nothing
//    is padded, e.g. 1x1 / stride 1). The im2col is written straight into the GEMM's 16-column
//    panel layout (kernels/simd/gemm.h; vector copies for runs of columns at stride 1 or 2,
//    gathers otherwise), and the GEMM core (bias per row) runs on it. Threads take the tasks of
//    ConvGemmBlocks: column tiles that pack themselves, or row blocks over all columns packed
//    first (few columns, many output channels: the 7x7 and 14x14 layers of mobile networks).
//    Each task prefetches its weights (when cold, they would arrive one demand miss per
//    micro-panel) and, for short chains into large outputs, its output.
//  - kDepthwise: one input and one output channel per group (C == G == OC), 1-D or 2-D:
//    vectorized over output positions, the chain over the kernel positions (conv-inl.h).
//
// Weights (PackConvWeights; target-neutral, R5): kGemm: per group, W_g (OCg x K) in the GEMM's
// packed-A layout (gemm.h PackA: groups of 12 output channels, k-major), at g * PackedAFloats(OCg, K)
// — the GEMM reads it in place as its A operand, each 12-row micro-panel contiguous; kDepthwise:
// the raw weight layout. Thread-safe.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/simd/fused_act.h"
#include "kernels/simd/isa.h"

namespace idem::simd {

inline constexpr int kConvMaxSpatial = 16;

// One convolution's shapes after auto_pad resolution. X: [N, G * Cg, in...], Y: [N, G * OCg, out...].
struct ConvGeometry {
  int64_t N = 0, G = 1, Cg = 0, OCg = 0;
  int S = 0;  // spatial rank, 1..kConvMaxSpatial
  int64_t in[kConvMaxSpatial] = {}, out[kConvMaxSpatial] = {}, kernel[kConvMaxSpatial] = {};
  int64_t strides[kConvMaxSpatial] = {}, dilations[kConvMaxSpatial] = {};
  int64_t pads[kConvMaxSpatial] = {};  // begin pads (end pads are implied by `out`)

  int64_t InPlane() const;
  int64_t OutPlane() const;
  int64_t KernelSize() const;
  int64_t K() const { return Cg * KernelSize(); }  // length of every output's chain
};

enum class ConvAlgorithm { kGemm, kDepthwise };

// The algorithm for these shapes: a function of the geometry only (never of the CPU or threads).
ConvAlgorithm ConvAlgorithmFor(const ConvGeometry& g);

// Output positions per GEMM column tile (a multiple of 16, 128..512) for chain length K: the
// packed tile (K x tile floats) stays cache-resident. A function of K only.
int64_t ConvTileColumns(int64_t K);

// Depthwise: the (sample, channel) planes one parallel job takes, from the plane count and the
// FMAs per plane (a function of the shapes only; every plane's arithmetic is the same anyway).
int64_t DwPlanesPerJob(int64_t planes, int64_t plane_fmas);

// The GEMM tasks of a convolution (a function of samples x groups `ng`, OCg, P and K only):
// column tiles of `cols` positions with all `rows` (= OCg) output channels, each task packing its
// own tile; or (pack_all) all P columns of every (sample, group) packed first, then tasks of `rows`
// output channels over all columns. Normally cols = ConvTileColumns(K); with fewer than 8 tiles,
// the rows are split when there are many (>= 48, and >= P), else the tiles shrink (multiples of
// 32) when the weights are few. Only the speed depends on it: every output's chain is the same.
struct ConvGemmGrid {
  int64_t cols = 0, rows = 0;
  bool pack_all = false;
};
ConvGemmGrid ConvGemmBlocks(int64_t ng, int64_t M, int64_t P, int64_t K);

// Floats of the packed weights: G * PackedAFloats(OCg, K) (kGemm), G * OCg * K (kDepthwise).
int64_t ConvPackedWeightFloats(const ConvGeometry& g);

// Packs raw weights w ([G * OCg, Cg, kernel...]) into the layout above.
void PackConvWeights(const ConvGeometry& g, const float* w, float* packed);

// Writes the im2col of columns [p0, p0 + count) of one group of one sample into `tile`
// (PackedBFloats(K, count) floats, the GEMM's panel layout; padded positions and the columns past
// `count` in the last panel are +0) with `isa`'s packer (kAvx2 / kAvx512). x: the group's first
// input channel. ConvF32's im2col, exposed for tests.
void PackConvColumns(Isa isa, const ConvGeometry& g, const float* x, int64_t p0, int64_t count, float* tile);

// What ConvF32 applies to every output after its bias (idem.FusedConv, kernels/fused.cc):
//     y = act((acc + bias) + residual)      (residual optional; act: FusedActivationScalar)
// i.e. Conv's f32 output, then an Add of the residual tensor (one f32 add), then the activation:
// the unfused graph's roundings. The residual has y's layout [N, G*OCg, out...] and must not
// overlap y. Relu and Clip without a residual run in the GEMM epilogue's registers; everything
// else runs as the GEMM post-store hook (fused_act.h FusedActPostStore) on each block of outputs
// right after it is stored, and per output plane in the depthwise kernel: no second pass.
struct ConvOutputOp {
  FusedActivation act;
  const float* residual = nullptr;
};

// y = conv(x, w) (+ bias), then `op` if not null: x [N, G*Cg, in...], packed_w from
// PackConvWeights, bias G*OCg values or null, y [N, G*OCg, out...] (fully written). `isa` must be
// a supported SIMD ISA (kAvx2 / kAvx512); the scalar reference is kernels/conv.cc's. Parallel on
// `pool` (may be null) over independent outputs; the bits do not depend on the pool.
void ConvF32(Isa isa, const ConvGeometry& g, const float* x, const float* packed_w, const float* bias, float* y,
             ThreadPool* pool, const ConvOutputOp* op = nullptr);

}  // namespace idem::simd
