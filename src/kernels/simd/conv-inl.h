// Per-target convolution kernels (Highway), included once per target by kernels/simd/conv.cc
// through foreach_target.h:
//  - PackConvTile: the im2col of a column tile into GEMM panels (no arithmetic).
//  - DepthwiseConvF32: the arithmetic of every output is the canonical chain of
//    kernels/simd/conv.h: acc = +0, then fma(w[kh][kw], x or +0, acc) over the kernel positions in
//    row-major order, then acc + bias.
//
// Depthwise structure (one plane = one channel of one sample; threads take planes):
//   every input row is copied once, with its left/right zero padding, and split into `sw` phase
//   rows: phase q, index j = padded row position q + j * sw   (sw = stride of the last dim)
//   so that the input of output column ow at kernel column kw is phase (kw*dw) % sw at index
//   ow + (kw*dw) / sw: contiguous in ow for every stride and dilation. Rows above / below the
//   input read a row of zeros. The output vectors (row by row, ceil(OW / lanes) per row) are
//   computed in blocks of up to kMaxVecs, one independent chain per lane; narrow rows share
//   blocks so that enough chains are in flight.

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

constexpr int kMaxVecs = 8;  // output vectors in flight per block (independent chains)

// The 2-D view of a depthwise convolution (1-D is one row).
struct DwShape {
  int64_t H, W, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW;
  int64_t phase_len;  // floats per phase row
};

// One output vector: lanes [ow0, ow0 + n) of output row oh, whose kernel rows are rows[0..KH).
struct DwSlot {
  const float* const* rows;  // phase rows of the input row of each kernel row (or the zero row)
  int64_t ow0;
  int64_t out_off;  // of lane 0 in the output plane
  int64_t n;        // valid lanes
};

// The end of a depthwise block: acc + bias (when there is one), then each slot's n outputs stored.
template <int NV, class V>
HWY_INLINE void DwStore(V (&acc)[NV], const DwSlot* slots, bool has_bias, float bias, float* y) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  if (has_bias) {
    const V b = hn::Set(d, bias);
    for (int v = 0; v < NV; ++v) acc[v] = hn::Add(acc[v], b);
  }
  for (int v = 0; v < NV; ++v) {
    if (slots[v].n >= L) {
      hn::StoreU(acc[v], d, y + slots[v].out_off);
    } else {
      HWY_ALIGN float tmp[HWY_LANES(float)];
      hn::Store(acc[v], d, tmp);
      std::memcpy(y + slots[v].out_off, tmp, sizeof(float) * static_cast<size_t>(slots[v].n));
    }
  }
}

// NV output vectors (independent chains, possibly of different output rows). kw_off[kw]: the
// offset of kernel column kw within a row's phase rows.
template <int NV>
HWY_INLINE void DwBlock(const DwShape& s, const DwSlot* slots, const int64_t* kw_off, const float* w, bool has_bias,
                        float bias, float* y) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  V acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = hn::Zero(d);
  for (int64_t kh = 0; kh < s.KH; ++kh) {
    const float* row[NV];
    for (int v = 0; v < NV; ++v) row[v] = slots[v].rows[kh] + slots[v].ow0;
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      const V wv = hn::Set(d, w[kh * s.KW + kw]);
      const int64_t off = kw_off[kw];
      for (int v = 0; v < NV; ++v) acc[v] = hn::MulAdd(wv, hn::LoadU(d, row[v] + off), acc[v]);
    }
  }
  DwStore<NV>(acc, slots, has_bias, bias, y);
}

// NV output vectors of one output row (wide rows): the slots share the row's kernel rows.
template <int NV>
HWY_INLINE void DwRowBlock(const DwShape& s, const DwSlot* slots, const int64_t* kw_off, const float* w,
                           bool has_bias, float bias, float* y) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  V acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = hn::Zero(d);
  for (int64_t kh = 0; kh < s.KH; ++kh) {
    const float* row = slots[0].rows[kh] + slots[0].ow0;
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      const V wv = hn::Set(d, w[kh * s.KW + kw]);
      const float* src = row + kw_off[kw];
      for (int v = 0; v < NV; ++v) acc[v] = hn::MulAdd(wv, hn::LoadU(d, src + v * L), acc[v]);
    }
  }
  DwStore<NV>(acc, slots, has_bias, bias, y);
}

using DwBlockFn = void (*)(const DwShape&, const DwSlot*, const int64_t*, const float*, bool, float, float*);
constexpr DwBlockFn kDwRowBlocks[kMaxVecs + 1] = {nullptr,        &DwRowBlock<1>, &DwRowBlock<2>,
                                                  &DwRowBlock<3>, &DwRowBlock<4>, &DwRowBlock<5>,
                                                  &DwRowBlock<6>, &DwRowBlock<7>, &DwRowBlock<8>};
constexpr DwBlockFn kDwBlocks[kMaxVecs + 1] = {nullptr,     &DwBlock<1>, &DwBlock<2>, &DwBlock<3>, &DwBlock<4>,
                                               &DwBlock<5>, &DwBlock<6>, &DwBlock<7>, &DwBlock<8>};

// Per-thread scratch of DwPlane.
struct DwScratch {
  // (H + 2) phase-row sets: input rows, zero row, padded row; zeroed at allocation, after which
  // DwPlane writes the same positions for every plane (so padding positions stay zero).
  hwy::AlignedFreeUniquePtr<float[]> buf;
  std::vector<const float*> rows;          // OH * KH
  std::vector<DwSlot> slots;
  std::vector<int64_t> kw_off;
};

// Prepares `sc` for the planes of one thread: zeroed phase rows, the kernel rows of every output
// row, the output vectors and the kernel column offsets (the same for every plane).
inline void DwSetup(const DwShape& s, DwScratch& sc) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const int64_t row_floats = s.SW * s.phase_len;
  sc.buf = hwy::AllocateAligned<float>(static_cast<size_t>((s.H + 2) * row_floats));
  float* buf = sc.buf.get();
  std::fill(buf, buf + (s.H + 2) * row_floats, 0.0f);
  const float* zero_row = buf + s.H * row_floats;  // kernel rows above / below the input
  sc.kw_off.resize(static_cast<size_t>(s.KW));
  for (int64_t kw = 0; kw < s.KW; ++kw) {
    const int64_t t = kw * s.DW;
    sc.kw_off[static_cast<size_t>(kw)] = (t % s.SW) * s.phase_len + t / s.SW;
  }
  sc.rows.resize(static_cast<size_t>(s.OH * s.KH));
  sc.slots.clear();
  for (int64_t oh = 0; oh < s.OH; ++oh) {
    const float** rows = sc.rows.data() + oh * s.KH;
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      const int64_t ih = oh * s.SH + kh * s.DH - s.PH;
      rows[kh] = ih >= 0 && ih < s.H ? buf + ih * row_floats : zero_row;
    }
    for (int64_t ow0 = 0; ow0 < s.OW; ow0 += L)
      sc.slots.push_back({rows, ow0, oh * s.OW + ow0, std::min(L, s.OW - ow0)});
  }
}

// One plane: x (H x W), w (KH x KW), y (OH x OW); `sc` from DwSetup.
inline void DwPlane(const DwShape& s, const float* x, const float* w, bool has_bias, float bias, float* y,
                    DwScratch& sc) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const int64_t row_floats = s.SW * s.phase_len;
  float* buf = sc.buf.get();
  float* padded_row = buf + (s.H + 1) * row_floats;  // one input row with its zero padding
  // Phase rows of every input row: phase q, index j = padded row position q + j * SW. (Padded
  // positions past row_floats are never read.)
  for (int64_t ih = 0; ih < s.H; ++ih) {
    const float* src = x + ih * s.W;
    float* dst = buf + ih * row_floats;
    float* padded = s.SW == 1 ? dst : padded_row;  // stride 1: the padded row is the phase row
    // Only the body is written: the padding positions stay zero from the scratch's allocation.
    const int64_t head = std::min(s.PW, row_floats);
    const int64_t body = std::clamp<int64_t>(row_floats - s.PW, 0, s.W);
    std::memcpy(padded + head, src, sizeof(float) * static_cast<size_t>(body));
    if (s.SW == 2) {
      float* ph0 = dst;
      float* ph1 = dst + s.phase_len;
      int64_t j = 0;
      for (; j + L <= s.phase_len; j += L) {
        V v0, v1;
        hn::LoadInterleaved2(d, padded + 2 * j, v0, v1);
        hn::StoreU(v0, d, ph0 + j);
        hn::StoreU(v1, d, ph1 + j);
      }
      for (; j < s.phase_len; ++j) {
        ph0[j] = padded[2 * j];
        ph1[j] = padded[2 * j + 1];
      }
    } else if (s.SW > 2) {
      for (int64_t q = 0; q < s.SW; ++q)
        for (int64_t j = 0; j < s.phase_len; ++j) dst[q * s.phase_len + j] = padded[q + j * s.SW];
    }
  }
  const int64_t count = static_cast<int64_t>(sc.slots.size());
  const int64_t per_row = (s.OW + L - 1) / L;
  // (Grouping vectors into blocks depends on the vector width, but only decides which chains run
  // together: every output's chain is the same.)
  if (per_row >= 4) {
    // Wide rows: blocks within a row, sharing its kernel rows (fewer pointers in flight).
    for (int64_t r = 0; r < count; r += per_row)
      for (int64_t i = r; i < r + per_row; i += kMaxVecs) {
        const int64_t nv = std::min<int64_t>(kMaxVecs, r + per_row - i);
        kDwRowBlocks[nv](s, sc.slots.data() + i, sc.kw_off.data(), w, has_bias, bias, y);
      }
  } else {
    for (int64_t i = 0; i < count; i += kMaxVecs) {
      const int64_t nv = std::min<int64_t>(kMaxVecs, count - i);
      kDwBlocks[nv](s, sc.slots.data() + i, sc.kw_off.data(), w, has_bias, bias, y);
    }
  }
}

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
// (= packed) weight [G, kernel...]. Threads take (sample, channel) planes.
// With `op`, each plane is finished by act(plane + residual plane) with `span` (fused_act.h) right
// after it is computed.
void DepthwiseConvF32(const ConvGeometry& g, const float* x, const float* w, const float* bias, float* y,
                      ThreadPool* pool, const ConvOutputOp* op, FusedActSpanFn span) {
  conv_detail::DwShape s;
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
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  // Phase index reached: ow + (kw*dw)/sw for ow < OW rounded up to whole vectors.
  s.phase_len = (s.OW + L - 1) / L * L + ((s.KW - 1) * s.DW) / s.SW + 1;
  const int64_t planes = g.N * g.G;
  const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW, ks = s.KH * s.KW;
  ParallelForRange(pool, planes, 1, [&](int64_t i0, int64_t i1) {
    conv_detail::DwScratch sc;
    conv_detail::DwSetup(s, sc);
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t c = i % g.G;
      conv_detail::DwPlane(s, x + i * in_plane, w + c * ks, bias != nullptr, bias ? bias[c] : 0.0f,
                           y + i * out_plane, sc);
      if (op != nullptr) {
        float* plane = y + i * out_plane;
        span(op->act, plane, op->residual != nullptr ? op->residual + i * out_plane : nullptr, plane,
             static_cast<size_t>(out_plane));
      }
    }
  });
}

#endif  // IDEM_SIMD_TARGET
}  // namespace HWY_NAMESPACE
}  // namespace idem::simd
HWY_AFTER_NAMESPACE();

#endif  // include guard
