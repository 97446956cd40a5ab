// Per-target convolution kernels (Highway), included once per target by kernels/simd/conv.cc
// through foreach_target.h:
//  - PackConvTile: the im2col of a column tile into GEMM panels (no arithmetic).
//  - DepthwiseConvF32: the arithmetic of every output is the canonical chain of
//    kernels/simd/conv.h: acc = +0, then fma(w[kh][kw], x or +0, acc) over the kernel positions in
//    row-major order, then acc + bias. Every path below computes exactly that chain per output
//    lane (a padded term multiplies a +0 lane); they differ only in where the lanes come from.
//
// Depthwise structure (one plane = one channel of one sample; threads take runs of planes,
// DwPlanesPerJob). The path is chosen from the shapes (and the vector width: only speed differs):
//  - direct (AVX-512; stride 1, OW == W <= 16): the output plane is cut into vectors of 16
//    consecutive outputs (rows included: no lane is wasted on padding columns); each term of a
//    vector is one masked load from the input plane in place (a mask per vector and kernel
//    position, lanes whose input is padding load +0).
//  - rows (AVX-512; 3x3, stride 1, OW == W, 33..128): row by row in place; the middle vectors of
//    a row use plain loads, its first and last masked ones.
//  - stride 2 (AVX-512; 3x3 / 2, pads 1, rows of one vector or large planes): row by row in
//    place; two 32-float loads per kernel row are split into even / odd columns by shuffles.
//  - grid (everything else, and AVX2): every input row is copied once into zeroed scratch "phase
//    planes": plane (a, b) holds padded rows a, a + SH, ... and columns b, b + SW, ... so that the
//    input of output (oh, ow) at kernel position (kh, kw) is at grid position q = oh * Wq + ow
//    plus a constant per kernel position, for every stride and dilation. The grid positions are
//    computed in vectors (padding columns included) and the outputs among them stored compacted.
//  Vectors are computed in blocks of up to kDwVecs independent chains.
#if defined(IDEM_KERNELS_SIMD_CONV_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef IDEM_KERNELS_SIMD_CONV_INL_H_
#undef IDEM_KERNELS_SIMD_CONV_INL_H_
#else
#define IDEM_KERNELS_SIMD_CONV_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include <hwy/aligned_allocator.h>
#include <hwy/highway.h>

#include "kernels/simd/conv.h"
#include "kernels/simd/fused_act.h"
#include "kernels/simd/gemm.h"

HWY_BEFORE_NAMESPACE();
namespace idem::simd {
namespace HWY_NAMESPACE {
#if IDEM_SIMD_TARGET

namespace hn = hwy::HWY_NAMESPACE;

namespace conv_detail {

// Output vectors in flight per depthwise block (independent chains): enough to hide the FMA
// latency; AVX2 has half the registers (the 3x3 weights stay in registers too).
#if HWY_TARGET == HWY_AVX3
constexpr int kDwVecs = 8;
#else
constexpr int kDwVecs = 4;
#endif

// The depthwise geometry (2-D view; 1-D is one row), its phase planes and its output grid
// (see the file comment). The same for every plane of a call.
struct DwGrid {
  int64_t H, W, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW;
  int64_t Hq, Wq;       // each phase plane: Hq rows of Wq floats
  int64_t phase;        // Hq * Wq
  int64_t nvec;         // output vectors per plane: ceil(((OH - 1) * Wq + OW) / lanes)
  int64_t buf_floats;   // scratch floats per thread: the phase planes + what the last vector reads
  std::vector<int64_t> tap_off;     // per kernel position (row-major): its offset in the scratch
  std::vector<uint32_t> lane_bits;  // per output vector: the lanes that are outputs (ow < OW)
};

inline void DwGridSetup(DwGrid& s) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  // Padded extent: the input with its begin pad, or what the last window reaches if more.
  const int64_t Hp = std::max(s.H + s.PH, (s.OH - 1) * s.SH + (s.KH - 1) * s.DH + 1);
  const int64_t Wp = std::max(s.W + s.PW, (s.OW - 1) * s.SW + (s.KW - 1) * s.DW + 1);
  s.Hq = (Hp + s.SH - 1) / s.SH;
  s.Wq = (Wp + s.SW - 1) / s.SW;
  s.phase = s.Hq * s.Wq;
  const int64_t nq = (s.OH - 1) * s.Wq + s.OW;
  s.nvec = (nq + L - 1) / L;
  s.tap_off.clear();
  int64_t max_off = 0;
  for (int64_t kh = 0; kh < s.KH; ++kh)
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      const int64_t th = kh * s.DH, tw = kw * s.DW;
      const int64_t off = ((th % s.SH) * s.SW + tw % s.SW) * s.phase + (th / s.SH) * s.Wq + tw / s.SW;
      s.tap_off.push_back(off);
      max_off = std::max(max_off, off);
    }
  s.buf_floats = std::max(s.SH * s.SW * s.phase, max_off + s.nvec * L);
  s.lane_bits.assign(static_cast<size_t>(s.nvec), 0u);
  for (int64_t oh = 0; oh < s.OH; ++oh)
    for (int64_t q = oh * s.Wq; q < oh * s.Wq + s.OW; ++q) s.lane_bits[static_cast<size_t>(q / L)] |= 1u << (q % L);
}

// Zeroes every scratch position that no input element is copied to: the padding of the phase
// planes and the tail. DwCopyPlane rewrites exactly the other positions for every plane.
inline void DwZeroPads(const DwGrid& s, float* buf) {
  for (int64_t r = 0; r < s.SH * s.Hq; ++r) {
    const int64_t a = r % s.SH, i = r / s.SH;
    for (int64_t b = 0; b < s.SW; ++b) {
      float* row = buf + (a * s.SW + b) * s.phase + i * s.Wq;
      if (r < s.PH || r >= s.PH + s.H) {
        std::fill(row, row + s.Wq, 0.0f);
        continue;
      }
      // Columns j of phase b hold padded column j * SW + b: input column j * SW + b - PW.
      const int64_t lo = std::clamp<int64_t>((s.PW - b + s.SW - 1) / s.SW, 0, s.Wq);
      const int64_t hi = std::clamp<int64_t>((s.PW + s.W - b + s.SW - 1) / s.SW, lo, s.Wq);
      std::fill(row, row + lo, 0.0f);
      std::fill(row + hi, row + s.Wq, 0.0f);
    }
  }
  std::fill(buf + s.SH * s.SW * s.phase, buf + s.buf_floats, 0.0f);
}

// dst[i] = src[i] for i < n (no access past either end).
HWY_INLINE void DwCopyRow(const float* src, int64_t n, float* dst) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  int64_t c = 0;
  for (; c + L <= n; c += L) hn::StoreU(hn::LoadU(d, src + c), d, dst + c);
  if (c < n) {
    const auto m = hn::FirstN(d, static_cast<size_t>(n - c));
    hn::BlendedStore(hn::MaskedLoad(m, d, src + c), m, d, dst + c);
  }
}

// even[i] = src[2 i], odd[i] = src[2 i + 1] for the elements of src[0, n).
HWY_INLINE void DwDeinterleaveRow(const float* src, int64_t n, float* even, float* odd) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  int64_t c = 0;
  for (; c + 2 * L <= n; c += 2 * L) {
    const auto lo = hn::LoadU(d, src + c);
    const auto hi = hn::LoadU(d, src + c + L);
    hn::StoreU(hn::ConcatEven(d, hi, lo), d, even + c / 2);
    hn::StoreU(hn::ConcatOdd(d, hi, lo), d, odd + c / 2);
  }
  if (c < n) {
    const int64_t rem = n - c;
    const auto lo = hn::MaskedLoad(hn::FirstN(d, static_cast<size_t>(std::min(rem, L))), d, src + c);
    const auto hi = hn::MaskedLoad(hn::FirstN(d, static_cast<size_t>(std::max<int64_t>(rem - L, 0))), d, src + c + L);
    hn::BlendedStore(hn::ConcatEven(d, hi, lo), hn::FirstN(d, static_cast<size_t>((rem + 1) / 2)), d, even + c / 2);
    hn::BlendedStore(hn::ConcatOdd(d, hi, lo), hn::FirstN(d, static_cast<size_t>(rem / 2)), d, odd + c / 2);
  }
}

// Copies one input plane x (H x W) into the body positions of the phase planes.
inline void DwCopyPlane(const DwGrid& s, const float* x, float* buf) {
  for (int64_t ih = 0; ih < s.H; ++ih) {
    const int64_t r = ih + s.PH;
    float* plane_row = buf + (r % s.SH) * s.SW * s.phase + (r / s.SH) * s.Wq;  // phase b = 0
    const float* src = x + ih * s.W;
    if (s.SW == 1) {
      DwCopyRow(src, s.W, plane_row + s.PW);
    } else if (s.SW == 2) {
      // Input column c is padded column c + PW: phase (c + PW) % 2, index (c + PW) / 2.
      const int64_t pe = s.PW % 2, po = 1 - pe;
      DwDeinterleaveRow(src, s.W, plane_row + pe * s.phase + s.PW / 2, plane_row + po * s.phase + (s.PW + 1) / 2);
    } else {
      for (int64_t c = 0; c < s.W; ++c) {
        const int64_t pc = c + s.PW;
        plane_row[(pc % s.SW) * s.phase + pc / s.SW] = src[c];
      }
    }
  }
}

// What the depthwise kernel applies in registers after the bias (the rest runs per plane).
enum class DwAct { kNone, kRelu, kClip };

// The end of one output vector: acc + bias, the activation, then its output lanes stored at
// `out` (consecutive: the grid positions of the vector in order); returns how many.
HWY_INLINE int64_t DwFinish(hn::Vec<hn::ScalableTag<float>> acc, uint32_t bits, bool has_bias, float bias,
                            DwAct act, float lo, float hi, float* out) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  if (has_bias) acc = hn::Add(acc, hn::Set(d, bias));
  if (act == DwAct::kRelu) {
    const auto zero = hn::Zero(d);
    acc = hn::IfThenElse(hn::Lt(acc, zero), zero, acc);  // x < 0 ? 0 : x
  } else if (act == DwAct::kClip) {
    const auto vlo = hn::Set(d, lo), vhi = hn::Set(d, hi);
    acc = hn::IfThenElse(hn::Lt(acc, vlo), vlo, acc);  // x < lo ? lo : x
    acc = hn::IfThenElse(hn::Gt(acc, vhi), vhi, acc);  // then > hi ? hi : that
  }
  if (bits == (L >= 32 ? ~0u : (1u << L) - 1u)) {
    hn::StoreU(acc, d, out);
    return L;
  }
  const int64_t count = hwy::PopCount(bits);
  const auto first = hn::FirstN(d, static_cast<size_t>(count));
  if ((bits & (bits + 1)) == 0) {  // lanes [0, count): no gaps
    hn::BlendedStore(acc, first, d, out);
    return count;
  }
  const uint8_t bytes[4] = {static_cast<uint8_t>(bits), static_cast<uint8_t>(bits >> 8),
                            static_cast<uint8_t>(bits >> 16), static_cast<uint8_t>(bits >> 24)};
  hn::BlendedStore(hn::Compress(acc, hn::LoadMaskBits(d, bytes)), first, d, out);
  return count;
}

// NV output vectors of the phase path from `base` (the scratch at the first vector): every
// vector's chain over the kernel positions in order (weights wv[t] when KS > 0, else w[t]), then
// DwFinish at `out`; returns the outputs stored.
template <int NV, int KS>
HWY_INLINE int64_t DwGridBlock(const float* base, const int64_t* off, int64_t ks,
                               const hn::Vec<hn::ScalableTag<float>>* wv, const float* w, const uint32_t* bits,
                               bool has_bias, float bias, DwAct act, float lo, float hi, float* out) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  V acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = hn::Zero(d);
#pragma GCC unroll 9
  for (int64_t t = 0; t < (KS > 0 ? KS : ks); ++t) {
    const float* src = base + off[t];
    const V wt = KS > 0 ? wv[t] : hn::Set(d, w[t]);
    for (int v = 0; v < NV; ++v) acc[v] = hn::MulAdd(wt, hn::LoadU(d, src + v * L), acc[v]);
  }
  int64_t stored = 0;
  for (int v = 0; v < NV; ++v) stored += DwFinish(acc[v], bits[v], has_bias, bias, act, lo, hi, out + stored);
  return stored;
}

// One plane from its phase planes in `buf` (KS: the kernel positions when fixed at compile time,
// else 0), in blocks of kDwVecs vectors and one block of the rest (independent chains in flight).
template <int KS>
HWY_INLINE void DwGridPlane(const DwGrid& s, const float* buf, const float* w, bool has_bias, float bias, DwAct act,
                            float lo, float hi, float* y) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const int64_t ks = static_cast<int64_t>(s.tap_off.size());
  const int64_t* off = s.tap_off.data();
  const uint32_t* bits = s.lane_bits.data();
  V wv[KS > 0 ? KS : 1];
  for (int t = 0; t < KS; ++t) wv[t] = hn::Set(d, w[t]);
  float* out = y;
  int64_t vi = 0;
  for (; vi + kDwVecs <= s.nvec; vi += kDwVecs)
    out += DwGridBlock<kDwVecs, KS>(buf + vi * L, off, ks, wv, w, bits + vi, has_bias, bias, act, lo, hi, out);
  const int64_t* o = off;
  const uint32_t* b = bits + vi;
  const float* base = buf + vi * L;
  switch (s.nvec - vi) {
    case 1: DwGridBlock<1, KS>(base, o, ks, wv, w, b, has_bias, bias, act, lo, hi, out); break;
    case 2: DwGridBlock<2, KS>(base, o, ks, wv, w, b, has_bias, bias, act, lo, hi, out); break;
    case 3: DwGridBlock<3, KS>(base, o, ks, wv, w, b, has_bias, bias, act, lo, hi, out); break;
    case 4: DwGridBlock<4, KS>(base, o, ks, wv, w, b, has_bias, bias, act, lo, hi, out); break;
    case 5: DwGridBlock<5, KS>(base, o, ks, wv, w, b, has_bias, bias, act, lo, hi, out); break;
    case 6: DwGridBlock<6, KS>(base, o, ks, wv, w, b, has_bias, bias, act, lo, hi, out); break;
    case 7: DwGridBlock<7, KS>(base, o, ks, wv, w, b, has_bias, bias, act, lo, hi, out); break;
    default: break;
  }
  static_assert(kDwVecs <= 8, "the switch above covers remainders up to 7");
}

#if HWY_TARGET == HWY_AVX3
// The direct path (AVX-512; stride 1 and OW == W): output position q = oh * W + ow reads input
// position q + th * W + tw for the kernel position (th, tw) = (kh * DH - PH, kw * DW - PW). So
// the output vectors are runs of the output plane and every term one load from the input plane,
// in place; the lanes whose input lies in the padding (or past the plane) are masked off and
// load +0 (fma(w, +0, acc), as the canonical chain has it). No copy, no compaction.
struct DwDirect {
  int64_t out_plane, nvec;
  std::vector<int64_t> tap_off;   // per kernel position (row-major)
  std::vector<uint16_t> masks;    // [vector * taps + tap]: the lanes whose input exists
};

inline void DwDirectSetup(const DwGrid& g, DwDirect& s) {
  constexpr int64_t L = 16;  // AVX-512 f32 lanes (uint16_t masks)
  const int64_t ks = g.KH * g.KW;
  s.out_plane = g.OH * g.OW;
  s.nvec = (s.out_plane + L - 1) / L;
  s.tap_off.clear();
  for (int64_t kh = 0; kh < g.KH; ++kh)
    for (int64_t kw = 0; kw < g.KW; ++kw) s.tap_off.push_back((kh * g.DH - g.PH) * g.W + kw * g.DW - g.PW);
  s.masks.assign(static_cast<size_t>(s.nvec * ks), 0);
  for (int64_t oh = 0, q = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ++ow, ++q) {
      uint16_t* m = s.masks.data() + (q / L) * ks;
      const uint16_t lane = static_cast<uint16_t>(1u << (q % L));
      for (int64_t kh = 0, t = 0; kh < g.KH; ++kh) {
        const int64_t ih = oh + kh * g.DH - g.PH;
        for (int64_t kw = 0; kw < g.KW; ++kw, ++t) {
          const int64_t iw = ow + kw * g.DW - g.PW;
          if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) m[t] = static_cast<uint16_t>(m[t] | lane);
        }
      }
    }
}

// NV output vectors of the direct path: x and y at the first vector's position.
template <int NV, int KS>
HWY_INLINE void DwDirectBlock(const float* x, const int64_t* off, int64_t ks, const uint16_t* masks,
                              const hn::Vec<hn::ScalableTag<float>>* wv, const float* w, int64_t valid, bool has_bias,
                              float bias, DwAct act, float lo, float hi, float* y) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  constexpr int64_t L = 16;
  V acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = hn::Zero(d);
#pragma GCC unroll 9
  for (int64_t t = 0; t < (KS > 0 ? KS : ks); ++t) {
    const float* src = x + off[t];
    const V wt = KS > 0 ? wv[t] : hn::Set(d, w[t]);
    for (int v = 0; v < NV; ++v) {
      // kmovw from memory (a load, not a port-5 uop beside the FMAs), then a zero-masked load.
      const __mmask16 m = _load_mask16(const_cast<__mmask16*>(masks + v * ks + t));
      acc[v] = hn::MulAdd(wt, V{_mm512_maskz_loadu_ps(m, src + v * L)}, acc[v]);
    }
  }
  for (int v = 0; v < NV; ++v) {
    const int64_t n = std::min<int64_t>(L, valid - v * L);
    DwFinish(acc[v], n >= L ? 0xFFFFu : (1u << n) - 1u, has_bias, bias, act, lo, hi, y + v * L);
  }
}

// One plane x -> y on the direct path.
template <int KS>
HWY_INLINE void DwDirectPlane(const DwDirect& s, const float* x, const float* w, bool has_bias, float bias, DwAct act,
                              float lo, float hi, float* y) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  constexpr int64_t L = 16;
  const int64_t ks = static_cast<int64_t>(s.tap_off.size());
  const int64_t* off = s.tap_off.data();
  V wv[KS > 0 ? KS : 1];
  for (int t = 0; t < KS; ++t) wv[t] = hn::Set(d, w[t]);
  int64_t vi = 0;
  for (; vi + kDwVecs <= s.nvec; vi += kDwVecs)
    DwDirectBlock<kDwVecs, KS>(x + vi * L, off, ks, s.masks.data() + vi * ks, wv, w, s.out_plane - vi * L, has_bias,
                               bias, act, lo, hi, y + vi * L);
  const float* xv = x + vi * L;
  const uint16_t* m = s.masks.data() + vi * ks;
  const int64_t valid = s.out_plane - vi * L;
  float* yv = y + vi * L;
  switch (s.nvec - vi) {
    case 1: DwDirectBlock<1, KS>(xv, off, ks, m, wv, w, valid, has_bias, bias, act, lo, hi, yv); break;
    case 2: DwDirectBlock<2, KS>(xv, off, ks, m, wv, w, valid, has_bias, bias, act, lo, hi, yv); break;
    case 3: DwDirectBlock<3, KS>(xv, off, ks, m, wv, w, valid, has_bias, bias, act, lo, hi, yv); break;
    case 4: DwDirectBlock<4, KS>(xv, off, ks, m, wv, w, valid, has_bias, bias, act, lo, hi, yv); break;
    case 5: DwDirectBlock<5, KS>(xv, off, ks, m, wv, w, valid, has_bias, bias, act, lo, hi, yv); break;
    case 6: DwDirectBlock<6, KS>(xv, off, ks, m, wv, w, valid, has_bias, bias, act, lo, hi, yv); break;
    case 7: DwDirectBlock<7, KS>(xv, off, ks, m, wv, w, valid, has_bias, bias, act, lo, hi, yv); break;
    default: break;
  }
}

// 3x3, stride 2, pads 1 (AVX-512): output (oh, ow) reads input rows 2 oh - 1 + kh and columns
// 2 ow - 1 + kw. A vector of 16 outputs of one row [ow0, ow0 + 16) takes, per kernel row, the
// input columns from 2 ow0 - 1 (32 of them, two masked loads: columns outside the row load +0)
// and from 2 ow0 (two more): kw = 0 is the even lanes of the first pair, kw = 1 its odd lanes,
// kw = 2 the odd lanes of the second. A kernel row above or below the input is +0. No copy.
struct DwS2 {
  int64_t H, W, OH, OW;
  int64_t vecs_per_row;
  std::vector<uint16_t> col_masks;  // per vector of a row: masks of its four column loads
};

inline void DwS2Setup(const DwGrid& g, DwS2& s) {
  constexpr int64_t L = 16;
  s.H = g.H;
  s.W = g.W;
  s.OH = g.OH;
  s.OW = g.OW;
  s.vecs_per_row = (g.OW + L - 1) / L;
  s.col_masks.assign(static_cast<size_t>(4 * s.vecs_per_row), 0);
  for (int64_t r = 0; r < s.vecs_per_row; ++r)
    for (int64_t part = 0; part < 4; ++part) {
      // part 0/1: columns 2 ow0 - 1 + [0, 16) / + [16, 32); part 2/3: from 2 ow0.
      const int64_t first = 2 * r * L - (part < 2 ? 1 : 0) + (part % 2) * L;
      uint16_t m = 0;
      for (int64_t j = 0; j < L; ++j)
        if (first + j >= 0 && first + j < g.W) m = static_cast<uint16_t>(m | (1u << j));
      s.col_masks[static_cast<size_t>(4 * r + part)] = m;
    }
}

// NV output vectors (vector v: output row oh[v], its vector r[v] of the row) of one plane.
template <int NV>
HWY_INLINE void DwS2Block(const DwS2& s, const float* x, const hn::Vec<hn::ScalableTag<float>>* wv,
                          const int64_t* oh, const int64_t* r, bool has_bias, float bias, DwAct act, float lo,
                          float hi, float* y) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  constexpr int64_t L = 16;
  V acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = hn::Zero(d);
  for (int kh = 0; kh < 3; ++kh)
    for (int v = 0; v < NV; ++v) {
      const int64_t ih = 2 * oh[v] - 1 + kh;
      V t0 = hn::Zero(d), t1 = hn::Zero(d), t2 = hn::Zero(d);
      if (ih >= 0 && ih < s.H) {
        const float* row = x + ih * s.W + 2 * r[v] * L;
        const uint16_t* m = s.col_masks.data() + 4 * r[v];
        const V a0{_mm512_maskz_loadu_ps(m[0], row - 1)};
        const V a1{_mm512_maskz_loadu_ps(m[1], row - 1 + L)};
        const V b0{_mm512_maskz_loadu_ps(m[2], row)};
        const V b1{_mm512_maskz_loadu_ps(m[3], row + L)};
        t0 = hn::ConcatEven(d, a1, a0);
        t1 = hn::ConcatOdd(d, a1, a0);
        t2 = hn::ConcatOdd(d, b1, b0);
      }
      acc[v] = hn::MulAdd(wv[3 * kh], t0, acc[v]);
      acc[v] = hn::MulAdd(wv[3 * kh + 1], t1, acc[v]);
      acc[v] = hn::MulAdd(wv[3 * kh + 2], t2, acc[v]);
    }
  for (int v = 0; v < NV; ++v) {
    const int64_t ow0 = r[v] * L;
    const int64_t n = std::min<int64_t>(L, s.OW - ow0);
    DwFinish(acc[v], n >= L ? 0xFFFFu : (1u << n) - 1u, has_bias, bias, act, lo, hi, y + oh[v] * s.OW + ow0);
  }
}

inline void DwS2Plane(const DwS2& s, const float* x, const float* w, bool has_bias, float bias, DwAct act, float lo,
                      float hi, float* y) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  V wv[9];
  for (int t = 0; t < 9; ++t) wv[t] = hn::Set(d, w[t]);
  const int64_t total = s.OH * s.vecs_per_row;
  int64_t oh[kDwVecs], r[kDwVecs];
  int64_t done = 0;
  int64_t cur_oh = 0, cur_r = 0;
  while (done < total) {
    const int64_t nv = std::min<int64_t>(kDwVecs, total - done);
    for (int64_t v = 0; v < nv; ++v) {
      oh[v] = cur_oh;
      r[v] = cur_r;
      if (++cur_r == s.vecs_per_row) {
        cur_r = 0;
        ++cur_oh;
      }
    }
    switch (nv) {
      case 1: DwS2Block<1>(s, x, wv, oh, r, has_bias, bias, act, lo, hi, y); break;
      case 2: DwS2Block<2>(s, x, wv, oh, r, has_bias, bias, act, lo, hi, y); break;
      case 3: DwS2Block<3>(s, x, wv, oh, r, has_bias, bias, act, lo, hi, y); break;
      case 4: DwS2Block<4>(s, x, wv, oh, r, has_bias, bias, act, lo, hi, y); break;
      case 5: DwS2Block<5>(s, x, wv, oh, r, has_bias, bias, act, lo, hi, y); break;
      case 6: DwS2Block<6>(s, x, wv, oh, r, has_bias, bias, act, lo, hi, y); break;
      case 7: DwS2Block<7>(s, x, wv, oh, r, has_bias, bias, act, lo, hi, y); break;
      default: DwS2Block<kDwVecs>(s, x, wv, oh, r, has_bias, bias, act, lo, hi, y); break;
    }
    done += nv;
  }
}

// 3x3, stride 1, OW == W, rows of 3..8 vectors (AVX-512): in place, row by row. A vector of 16
// outputs [ow0, ow0 + 16) of row oh takes, per kernel position, the 16 input floats of row
// oh + kh * DH - PH from column ow0 + kw * DW - PW: plain loads for the middle vectors of a row
// (every column exists), masked loads for its first and last vector (columns outside the row
// load +0); a kernel row above or below the input is +0. No copy, no compaction.
struct DwRows {
  int64_t H, W, OH, OW, KH, KW, DH, DW, PH, PW;
  int64_t vpr;                     // vectors per row
  int64_t row_off[3], col_off[3];  // kh * DH - PH, kw * DW - PW
  uint16_t first[3], last[3];      // masks of the first / last vector of a row per kw
};

// Whether the in-place row path applies (and the middle vectors need no masks).
inline bool DwRowsSetup(const DwGrid& g, DwRows& s) {
  constexpr int64_t L = 16;
  // Rows of 3..8 vectors: with 2 both are edge vectors (masked) and a row of 17..32 fills fewer
  // lanes than the scratch grid does.
  if (g.KH != 3 || g.KW != 3 || g.SH != 1 || g.SW != 1 || g.OW != g.W || g.W <= 2 * L || g.W > 8 * L) return false;
  s.H = g.H, s.W = g.W, s.OH = g.OH, s.OW = g.OW, s.KH = 3, s.KW = 3, s.DH = g.DH, s.DW = g.DW, s.PH = g.PH, s.PW = g.PW;
  s.vpr = (g.OW + L - 1) / L;
  for (int k = 0; k < 3; ++k) {
    s.row_off[k] = k * g.DH - g.PH;
    s.col_off[k] = k * g.DW - g.PW;
    // Middle vectors (columns [L, L * (vpr - 1))) must read inside the row.
    if (L + s.col_off[k] < 0 || L * (s.vpr - 1) + s.col_off[k] > g.W) return false;
    uint16_t f = 0, l = 0;
    for (int64_t j = 0; j < L; ++j) {
      const int64_t c0 = j + s.col_off[k], c1 = (s.vpr - 1) * L + j;
      if (c0 >= 0 && c0 < g.W) f = static_cast<uint16_t>(f | (1u << j));
      if (c1 < g.OW && c1 + s.col_off[k] >= 0 && c1 + s.col_off[k] < g.W) l = static_cast<uint16_t>(l | (1u << j));
    }
    s.first[k] = f;
    s.last[k] = l;
  }
  return true;
}

// R output rows [oh0, oh0 + R) of VPR vectors each (R * VPR independent chains).
template <int R, int VPR>
HWY_INLINE void DwRowsBlock(const DwRows& s, const float* x, const hn::Vec<hn::ScalableTag<float>>* wv,
                            int64_t oh0, bool has_bias, float bias, DwAct act, float lo, float hi, float* y) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  constexpr int64_t L = 16;
  V acc[R][VPR];
  for (int j = 0; j < R; ++j)
    for (int r = 0; r < VPR; ++r) acc[j][r] = hn::Zero(d);
  for (int kh = 0; kh < 3; ++kh)
    for (int j = 0; j < R; ++j) {
      const int64_t ih = oh0 + j + s.row_off[kh];
      if (ih < 0 || ih >= s.H) {
        for (int kw = 0; kw < 3; ++kw)
          for (int r = 0; r < VPR; ++r) acc[j][r] = hn::MulAdd(wv[3 * kh + kw], hn::Zero(d), acc[j][r]);
        continue;
      }
      const float* row = x + ih * s.W;
      for (int kw = 0; kw < 3; ++kw) {
        const float* src = row + s.col_off[kw];
        const V wt = wv[3 * kh + kw];
        for (int r = 0; r < VPR; ++r) {
          V in;
          if (r == 0) {
            in = V{_mm512_maskz_loadu_ps(s.first[kw], src)};
          } else if (r == VPR - 1) {
            in = V{_mm512_maskz_loadu_ps(s.last[kw], src + r * L)};
          } else {
            in = hn::LoadU(d, src + r * L);
          }
          acc[j][r] = hn::MulAdd(wt, in, acc[j][r]);
        }
      }
    }
  for (int j = 0; j < R; ++j)
    for (int r = 0; r < VPR; ++r) {
      const int64_t n = std::min<int64_t>(L, s.OW - r * L);
      DwFinish(acc[j][r], n >= L ? 0xFFFFu : (1u << n) - 1u, has_bias, bias, act, lo, hi, y + (oh0 + j) * s.OW + r * L);
    }
}

template <int VPR>
HWY_INLINE void DwRowsPlaneT(const DwRows& s, const float* x, const hn::Vec<hn::ScalableTag<float>>* wv, bool has_bias,
                             float bias, DwAct act, float lo, float hi, float* y) {
  constexpr int R = VPR >= 4 ? 1 : 2;  // 4..8 chains per block
  int64_t oh = 0;
  for (; oh + R <= s.OH; oh += R) DwRowsBlock<R, VPR>(s, x, wv, oh, has_bias, bias, act, lo, hi, y);
  for (; oh < s.OH; ++oh) DwRowsBlock<1, VPR>(s, x, wv, oh, has_bias, bias, act, lo, hi, y);
}

inline void DwRowsPlane(const DwRows& s, const float* x, const float* w, bool has_bias, float bias, DwAct act, float lo,
                        float hi, float* y) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  V wv[9];
  for (int t = 0; t < 9; ++t) wv[t] = hn::Set(d, w[t]);
  switch (s.vpr) {
    case 3: DwRowsPlaneT<3>(s, x, wv, has_bias, bias, act, lo, hi, y); break;
    case 4: DwRowsPlaneT<4>(s, x, wv, has_bias, bias, act, lo, hi, y); break;
    case 5: DwRowsPlaneT<5>(s, x, wv, has_bias, bias, act, lo, hi, y); break;
    case 6: DwRowsPlaneT<6>(s, x, wv, has_bias, bias, act, lo, hi, y); break;
    case 7: DwRowsPlaneT<7>(s, x, wv, has_bias, bias, act, lo, hi, y); break;
    default: DwRowsPlaneT<8>(s, x, wv, has_bias, bias, act, lo, hi, y); break;
  }
}
#endif  // HWY_TARGET == HWY_AVX3

}  // namespace conv_detail

// Packs `count` im2col columns into GEMM panels (layout of gemm.h PackB): column c, row k is
// xp[colbase[c] + koff[k]] (xp: the zero-padded input of one group; every such index is inside
// [0, xp_len)); columns past `count` in the last panel are +0. A panel whose 16 columns lie in
// one output row at input stride sl (1 or 2) is copied with vector loads, others are gathered.
void PackConvTile(const float* xp, int64_t xp_len, const int64_t* koff, int64_t K, const int64_t* colbase,
                  int64_t count, int64_t sl, float* tile) {
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  using V = hn::Vec<decltype(d)>;
  using VI = hn::Vec<decltype(di)>;
  constexpr int64_t kPanel = kGemmPanel;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const int64_t nv = kPanel / L;
  const float* end = xp + xp_len;
  // All columns one run at input stride 1 (1x1 convolutions, single rows): row by row, so that
  // the input is read in order (k-major: each panel's row k is the next 16 floats of row k).
  bool run = sl == 1 && count > 0;
  for (int64_t c = 1; c < count && run; ++c) run = colbase[c] == colbase[0] + c;
  if (run) {
    const int64_t full = count / kPanel, rest = count % kPanel;
    for (int64_t k = 0; k < K; ++k) {
      const float* src = xp + colbase[0] + koff[k];
      float* dst = tile + k * kPanel;
      for (int64_t p = 0; p < full; ++p)
        for (int64_t v = 0; v < nv; ++v)
          hn::StoreU(hn::LoadU(d, src + p * kPanel + v * L), d, dst + p * K * kPanel + v * L);
      if (rest > 0)
        for (int64_t v = 0; v < nv; ++v) {
          const auto m = hn::FirstN(d, static_cast<size_t>(std::clamp<int64_t>(rest - v * L, 0, L)));
          hn::StoreU(hn::MaskedLoad(m, d, src + full * kPanel + v * L), d, dst + full * K * kPanel + v * L);
        }
    }
    return;
  }
  for (int64_t c0 = 0; c0 < count; c0 += kPanel) {
    float* dst = tile + (c0 / kPanel) * K * kPanel;
    const int64_t n = std::min(kPanel, count - c0);
    const int64_t* cb = colbase + c0;
    bool regular = n == kPanel && (sl == 1 || sl == 2);
    for (int64_t l = 1; l < n && regular; ++l) regular = cb[l] == cb[0] + l * sl;
    if (regular && sl == 1) {
      for (int64_t k = 0; k < K; ++k) {
        const float* src = xp + cb[0] + koff[k];
        for (int64_t v = 0; v < nv; ++v) hn::StoreU(hn::LoadU(d, src + v * L), d, dst + k * kPanel + v * L);
      }
      continue;
    }
    if (regular) {  // stride 2: the even lanes of 2 * 16 floats
      for (int64_t k = 0; k < K; ++k) {
        const float* src = xp + cb[0] + koff[k];
        if (src + 2 * kPanel <= end) {
          for (int64_t v = 0; v < nv; ++v) {
            V even, odd;
            hn::LoadInterleaved2(d, src + 2 * v * L, even, odd);
            hn::StoreU(even, d, dst + k * kPanel + v * L);
          }
        } else {
          for (int64_t l = 0; l < kPanel; ++l) dst[k * kPanel + l] = src[2 * l];
        }
      }
      continue;
    }
    if (cb[n - 1] - cb[0] > std::numeric_limits<int32_t>::max()) {  // too far apart for 32-bit gather indices
      for (int64_t k = 0; k < K; ++k)
        for (int64_t l = 0; l < kPanel; ++l) dst[k * kPanel + l] = l < n ? xp[cb[l] + koff[k]] : 0.0f;
      continue;
    }
    // Columns of several rows (or a ragged end): gather, relative to the panel's first column.
    HWY_ALIGN int32_t idx[kPanel];
    for (int64_t l = 0; l < kPanel; ++l) idx[l] = l < n ? static_cast<int32_t>(cb[l] - cb[0]) : 0;
    for (int64_t v = 0; v < nv; ++v) {
      const VI iv = hn::Load(di, idx + v * L);
      const auto mask = hn::FirstN(d, static_cast<size_t>(std::clamp<int64_t>(n - v * L, 0, L)));
      for (int64_t k = 0; k < K; ++k) {
        const V g = hn::GatherIndex(d, xp + cb[0] + koff[k], iv);
        hn::StoreU(hn::IfThenElseZero(mask, g), d, dst + k * kPanel + v * L);
      }
    }
  }
}

// Depthwise convolution (ConvAlgorithm::kDepthwise): g.Cg == g.OCg == 1, g.S <= 2; w is the raw
// (= packed) weight [G, kernel...]. Threads take runs of (sample, channel) planes (DwPlanesPerJob).
// With `op`, Relu / Clip without a residual run in registers; anything else finishes each plane by
// act(plane + residual plane) with `span` (fused_act.h) right after it is computed.
void DepthwiseConvF32(const ConvGeometry& g, const float* x, const float* w, const float* bias, float* y,
                      ThreadPool* pool, const ConvOutputOp* op, FusedActSpanFn span) {
  conv_detail::DwGrid s;
  const bool two_d = g.S == 2;
  s.H = two_d ? g.in[0] : 1;
  s.OH = two_d ? g.out[0] : 1;
  s.KH = two_d ? g.kernel[0] : 1;
  s.SH = two_d ? g.strides[0] : 1;
  s.DH = two_d ? g.dilations[0] : 1;
  s.PH = two_d ? g.pads[0] : 0;
  const int last = g.S - 1;
  s.W = g.in[last];
  s.OW = g.out[last];
  s.KW = g.kernel[last];
  s.SW = g.strides[last];
  s.DW = g.dilations[last];
  s.PW = g.pads[last];
  const int64_t planes = g.N * g.G;
  const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW, ks = s.KH * s.KW;
  if (planes == 0 || out_plane == 0) return;
  conv_detail::DwAct act = conv_detail::DwAct::kNone;
  float lo = 0.0f, hi = 0.0f;
  if (op != nullptr && op->residual == nullptr && op->act.kind == FusedActKind::kRelu) {
    act = conv_detail::DwAct::kRelu;
    op = nullptr;
  } else if (op != nullptr && op->residual == nullptr && op->act.kind == FusedActKind::kClip) {
    act = conv_detail::DwAct::kClip;
    lo = op->act.a;
    hi = op->act.b;
    op = nullptr;
  }
  // Threads take runs of planes. Per job, job_state() makes the job's state (scratch); per plane
  // i, plane_fn(state, x plane, weights, has_bias, bias, y plane) computes it, then the part of
  // `op` not applied in registers finishes it.
  auto for_planes = [&](auto&& job_state, auto&& plane_fn) {
    ParallelForRange(pool, planes, DwPlanesPerJob(planes, out_plane * ks), [&](int64_t i0, int64_t i1) {
      auto state = job_state();
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t c = i % g.G;
        float* plane = y + i * out_plane;
        plane_fn(state, x + i * in_plane, w + c * ks, bias != nullptr, bias != nullptr ? bias[c] : 0.0f, plane);
        if (op != nullptr)
          span(op->act, plane, op->residual != nullptr ? op->residual + i * out_plane : nullptr, plane,
               static_cast<size_t>(out_plane));
      }
    });
  };
  auto no_state = [] { return 0; };
#if HWY_TARGET == HWY_AVX3
  if (s.SH == 1 && s.SW == 1 && s.OW == s.W && s.W <= 16) {  // rows of at most one vector
    conv_detail::DwDirect dd;
    conv_detail::DwDirectSetup(s, dd);
    for_planes(no_state, [&](int, const float* xp, const float* wp, bool has_bias, float b, float* yp) {
      if (ks == 9) {
        conv_detail::DwDirectPlane<9>(dd, xp, wp, has_bias, b, act, lo, hi, yp);
      } else {
        conv_detail::DwDirectPlane<0>(dd, xp, wp, has_bias, b, act, lo, hi, yp);
      }
    });
    return;
  }
  conv_detail::DwRows dr;
  if (conv_detail::DwRowsSetup(s, dr)) {
    for_planes(no_state, [&](int, const float* xp, const float* wp, bool has_bias, float b, float* yp) {
      conv_detail::DwRowsPlane(dr, xp, wp, has_bias, b, act, lo, hi, yp);
    });
    return;
  }
  // 3x3 / 2 with pads 1 in place when a row is one vector (per-plane costs dominate) or the
  // planes are large (memory-bound: no scratch copy); in between, the scratch rows need fewer
  // shuffles per output.
  if (s.KH == 3 && s.KW == 3 && s.SH == 2 && s.SW == 2 && s.DH == 1 && s.DW == 1 && s.PH == 1 && s.PW == 1 &&
      (s.OW <= 16 || in_plane >= 8192)) {
    conv_detail::DwS2 ds;
    conv_detail::DwS2Setup(s, ds);
    for_planes(no_state, [&](int, const float* xp, const float* wp, bool has_bias, float b, float* yp) {
      conv_detail::DwS2Plane(ds, xp, wp, has_bias, b, act, lo, hi, yp);
    });
    return;
  }
#endif
  conv_detail::DwGridSetup(s);
  auto scratch = [&] {
    auto buf = hwy::AllocateAligned<float>(static_cast<size_t>(s.buf_floats));
    conv_detail::DwZeroPads(s, buf.get());
    return buf;
  };
  for_planes(scratch, [&](hwy::AlignedFreeUniquePtr<float[]>& buf, const float* xp, const float* wp, bool has_bias,
                          float b, float* yp) {
    conv_detail::DwCopyPlane(s, xp, buf.get());
    if (ks == 9) {
      conv_detail::DwGridPlane<9>(s, buf.get(), wp, has_bias, b, act, lo, hi, yp);
    } else {
      conv_detail::DwGridPlane<0>(s, buf.get(), wp, has_bias, b, act, lo, hi, yp);
    }
  });
}

#endif  // IDEM_SIMD_TARGET
}  // namespace HWY_NAMESPACE
}  // namespace idem::simd
HWY_AFTER_NAMESPACE();

#endif  // include guard
