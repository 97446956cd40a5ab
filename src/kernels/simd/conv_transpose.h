// f32 ConvTranspose (NCHW, 1-D/2-D/3-D, groups, strides, dilations, pads, output_padding /
// output_shape / auto_pad as resolved by kernels/conv.cc's plan) on the SIMD targets.
//
// Canonical order (the one kernels/conv.cc states and its scalar reference computes): every
// output element y[n][oc][o] is ONE sequential FMA chain starting from +0 over
// k = (input channel of the group, kernel position in row-major order), ascending, over the terms
// whose source position (o + pad - kpos * dilation) / stride is integral in every spatial dim; a
// term whose source position is integral but outside the input is fma(w, 0, acc); a
// non-integral one (a "stride hole") is skipped. Then y = acc + bias[oc] when there is a bias.
//
// Algorithm (sub-pixel / phase decomposition; shape-only choices, R5): per spatial dim, the
// outputs o with the same residue r = o mod stride see the same kernel taps k, those with
// (r + pad - k * dilation) mod stride == 0, and read input index j + (r + pad - k * dilation) /
// stride for the j-th output of the residue. So every phase (a tuple of residues) is a GEMM:
//     Y_phase[oc, j] = W_phase[oc, (ic, tap)] · col_phase[(ic, tap), j]
// whose chain over (ic, tap) ascending is exactly the canonical chain (the skipped terms are the
// taps not in the phase). col_phase is a stride-1 im2col of the input zero-padded so that every
// phase-aligned source position exists; it is written straight into the GEMM's 16-column panels
// (kernels/simd/gemm.h; vector copies within one output row of the phase, gathers otherwise).
// The phases of the last dim are done together: a task takes (sample, group, outer-dims phase,
// a block of its phase rows, a range of positions along the last dim), runs the GEMM (bias per
// row) of each last-dim phase into scratch and then writes whole output row segments,
// interleaving the phases with vector stores (all strides 1: the GEMM writes y in place). Threads
// take whole tasks, or, with fewer than 8 tasks, each GEMM is parallel; every output's chain is
// the same whatever runs where.
//
// Weights (PackConvTransposeWeights; target-neutral, R5: the same bytes on every machine, so they
// may be stored in .idem artifacts). Raw W is [G * Cg, OCg, kernel...]. Per spatial dim d, tap
// class c in [0, stride_d) holds the taps k with (k * dilation_d) mod stride_d == c, ascending; a
// class tuple (row-major over dims) holds the row-major product of its dims' taps. Per group, then
// per class tuple, the class's matrix A_c (OCg x K_c, K_c = Cg * taps(c)),
//     A_c(m, ic * taps(c) + t) = w[((g * Cg + ic) * OCg + m) * ks + kpos(c, t)],
// is stored in the GEMM's packed-A layout (gemm.h PackA: groups of 12 rows, k-major; OCg rounded
// up to 12 with zero rows) at off(g, c) = (g * ks + before(c)) * Cg * roundup(OCg, 12)
// — the GEMM reads it in place as its A operand. The class a phase uses is
// (r_d + pad_d) mod stride_d, so the layout does not depend on pads (which auto_pad /
// output_shape resolve per input shape). Thread-safe.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/simd/conv.h"
#include "kernels/simd/isa.h"

namespace idem::simd {

// Spatial ranks the SIMD kernel handles (1-D, 2-D, 3-D); others run the scalar reference.
inline constexpr int kConvTransposeMaxSpatial = 3;
// At most this many phases (product of the strides); more run the scalar reference.
inline constexpr int64_t kConvTransposeMaxPhases = 256;

// ConvTranspose geometry in ConvGeometry's fields: X [N, G * Cg, in...], Y [N, G * OCg, out...],
// `pads` the begin pads of the output (after auto_pad / output_shape resolution).

// True if ConvTransposeF32 and PackConvTransposeWeights handle this geometry: S in
// 1..kConvTransposeMaxSpatial, kernel dims, strides and dilations >= 1, product of the strides
// <= kConvTransposeMaxPhases. Reads S, kernel, strides and dilations only (so a prepare function
// can ask before the input shape is known); a function of the shapes only.
bool ConvTransposeSimdSupported(const ConvGeometry& g);

// Floats of the packed weights: G * Cg * OCg * prod(kernel) (a permutation of W).
int64_t ConvTransposePackedWeightFloats(const ConvGeometry& g);

// Packs raw weights w ([G * Cg, OCg, kernel...]) into the layout above. Uses G, Cg, OCg, S,
// kernel, strides and dilations of `g` only. Requires ConvTransposeSimdSupported(g).
void PackConvTransposeWeights(const ConvGeometry& g, const float* w, float* packed);

// y = conv_transpose(x, w) (+ bias): x [N, G*Cg, in...], packed_w from PackConvTransposeWeights,
// bias G*OCg values or null, y [N, G*OCg, out...] (every element written). `isa` must be a
// supported SIMD ISA (kAvx2 / kAvx512) and ConvTransposeSimdSupported(g) true; the scalar
// reference is kernels/conv.cc's. Parallel on `pool` (may be null) over independent outputs; the
// bits do not depend on the pool.
void ConvTransposeF32(Isa isa, const ConvGeometry& g, const float* x, const float* packed_w, const float* bias,
                      float* y, ThreadPool* pool);

}  // namespace idem::simd
