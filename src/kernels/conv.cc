// Conv, ConvTranspose, ConvInteger and QLinearConv: the scalar reference kernels of the linalg
// family (direct N-D convolution), and the dispatch of f32 Conv to the SIMD kernels.
//
// Canonical order (DESIGN.md R1, canonical.h ChainDot): each output element y[n][oc][o] is ONE
// sequential FMA chain, starting from +0, over k = (input channel of the group, then kernel position
// in row-major order), ascending:
//     acc = 0; for ic in group: for kpos (row-major over kernel dims): acc = fma(w, x, acc)
// Conv: a term whose input position lies in the padding is fma(w, 0, acc) — the padding is +0
// input, exactly as im2col sees it (this differs from skipping the term only for signed zeros
// and Inf/NaN weights: fma(Inf, 0, acc) is NaN). ConvTranspose: the source position of output o
// and kernel position k is (o + pad - k * dilation) / stride per spatial dim; a term whose source
// position is non-integral in some dim (a "stride hole") is SKIPPED (acc unchanged); a term whose
// source position is integral in every dim but outside the input is fma(w, 0, acc), like Conv's
// padding (so every output of one phase, o mod stride, has the same chain of kernel positions:
// the SIMD kernel's sub-pixel GEMMs; again this differs from skipping only for signed zeros and
// Inf/NaN weights).
// The iteration order is the fixed (ic, kpos) order, a function of the shapes and attributes only.
// The bias is added after the chain: y = acc + b[oc]. f16/bf16 compute in f32 and round once on
// store. ConvInteger/QLinearConv accumulate (x - x_zp) * (w - w_zp) exactly in int32 (a padded
// term adds 0, which equals padding with x_zp); QLinearConv then requantizes (see Requantize below).
//
// Kernels: on the scalar ISA (simd::Isa::kScalar) every op runs the reference below. On a SIMD ISA
// f32 Conv (and f16/bf16 Conv, computed in f32) runs kernels/simd/conv.h — im2col + the GEMM core,
// or the depthwise kernel — which computes the same chain per element, so the same bits
// (tests/unit/simd_conv_test.cc). Constant weights are packed once at load (PrepareConv).
// f32/f16/bf16 ConvTranspose with 1-3 spatial dims (and at most kConvTransposeMaxPhases phases)
// runs kernels/simd/conv_transpose.h on a SIMD ISA — one GEMM per phase — with the same chains
// (tests/unit/simd_conv_transpose_test.cc), weights packed at load by PrepareConvTranspose; other
// ranks run the reference.
//
// Reference loop structure (does not affect results): a tile is (batch, group, block of 8 output
// channels, one output row = all spatial dims but the last, a segment of up to 128 positions of
// the last dim). It keeps 8 x 128 accumulators and streams k in order, so every element's chain is
// intact. 1x1 kernels with unit strides and no padding are treated as 1-D over the flattened
// spatial plane.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/math.h"
#include "kernels/kernel.h"
#include "kernels/simd/conv.h"
#include "kernels/simd/conv_transpose.h"
#include "kernels/simd/fused_act.h"
#include "kernels/simd/isa.h"
#include "kernels/util.h"

namespace idem::kernels {
namespace {

template <typename T>
inline T MulAdd(T a, T b, T acc) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::fma(a, b, acc);
  } else {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(acc) + static_cast<U>(a) * static_cast<U>(b)));
  }
}

inline int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

// Shapes and attributes of one convolution, after auto_pad / output_shape resolution.
struct ConvPlan {
  bool transpose = false;
  int64_t N = 0, G = 1, Cg = 0, OCg = 0;  // batch, groups, input / output channels per group
  int64_t S = 0;                          // spatial rank
  Shape in, out, kernel, strides, dilations, pads;  // pads: begin pads only (ends are implied)
  int64_t in_plane = 1, out_plane = 1, ks = 1;      // element counts of one channel / kernel
};

constexpr int64_t kOcBlock = 8;
constexpr int64_t kSegment = 128;

// Accumulates one tile: acc[r][i] (r < ocb, i < seg) for output row `row`, positions
// [ow0, ow0 + seg) of the last spatial dim and output channels oc0 + r of one group.
// x: the group's first input channel of batch n. w: Conv: weight of output channel oc0 (layout
// [oc][Cg][ks]); ConvTranspose: weight of group input channel 0, output channel oc0 (layout
// [Cg][OCg][ks]). `scratch` holds prod(outer kernel dims) * 2 entries.
template <typename T>
void ConvTile(const ConvPlan& p, const T* x, const T* w, int64_t ocb, int64_t row, int64_t ow0, int64_t seg, T* acc,
              int64_t* scratch) {
  const int64_t S = p.S;
  const int64_t last = S - 1;
  const int64_t W = p.in[last];
  const int64_t kl = p.kernel[last];
  const int64_t sl = p.strides[last];
  const int64_t dl = p.dilations[last];
  const int64_t pl = p.pads[last];
  for (int64_t i = 0; i < ocb * seg; ++i) acc[i] = T(0);
  // Outer kernel positions: for each, whether the term exists for this row and the input offset.
  int64_t k_outer = 1;
  for (int64_t d = 0; d < last; ++d) k_outer *= p.kernel[d];
  int64_t* valid = scratch;
  int64_t* offset = scratch + k_outer;
  {
    // Output coordinates of the row.
    int64_t o_coord[16];
    int64_t rem = row;
    for (int64_t d = last; d-- > 0;) {
      o_coord[d] = rem % p.out[d];
      rem /= p.out[d];
    }
    // valid[ko]: 1 if the input row exists; 0 if it lies in the padding (Conv) or is integral but
    // outside the input (ConvTranspose): +0 terms; -1 for a ConvTranspose stride hole: no terms.
    for (int64_t ko = 0; ko < k_outer; ++ko) {
      int64_t r2 = ko;
      int64_t off = 0;
      int64_t in_stride = W;
      int64_t state = 1;
      for (int64_t d = last; d-- > 0;) {
        const int64_t kd = r2 % p.kernel[d];
        r2 /= p.kernel[d];
        int64_t id;
        if (!p.transpose) {
          id = o_coord[d] * p.strides[d] + kd * p.dilations[d] - p.pads[d];
        } else {
          const int64_t t = o_coord[d] + p.pads[d] - kd * p.dilations[d];
          if (t % p.strides[d] != 0) {
            state = -1;
            break;
          }
          id = t / p.strides[d];  // exact
        }
        if (id < 0 || id >= p.in[d]) {
          state = 0;
          if (!p.transpose) break;  // (ConvTranspose: a later dim may still make it a hole)
        }
        off += id * in_stride;
        in_stride *= p.in[d];
      }
      valid[ko] = state;
      offset[ko] = off;
    }
  }
  const int64_t ow1 = ow0 + seg;
  for (int64_t ic = 0; ic < p.Cg; ++ic) {
    const T* xc = x + ic * p.in_plane;
    for (int64_t ko = 0; ko < k_outer; ++ko) {
      if (valid[ko] < 0) continue;
      const T* xr = valid[ko] ? xc + offset[ko] : xc;
      for (int64_t kw = 0; kw < kl; ++kw) {
        const int64_t kpos = ko * kl + kw;
        if (!p.transpose) {
          // ix = ow * sl + kw * dl - pl must lie in [0, W) (and the input row must exist);
          // positions outside [lo, hi) read the padding: fma(w, 0, acc).
          const int64_t base = kw * dl - pl;
          int64_t lo = ow0, hi = ow0;
          if (valid[ko]) {
            lo = std::clamp(CeilDiv(-base, sl), ow0, ow1);
            hi = std::clamp(FloorDiv(W - 1 - base, sl) + 1, lo, ow1);
          }
          const int64_t n = hi - lo;
          const T* xs = n > 0 ? xr + lo * sl + base : xr;
          for (int64_t r = 0; r < ocb; ++r) {
            const T wv = w[(r * p.Cg + ic) * p.ks + kpos];
            T* a_row = acc + r * seg;
            for (int64_t i = 0; i < lo - ow0; ++i) a_row[i] = MulAdd(wv, T(0), a_row[i]);
            T* a = a_row + (lo - ow0);
            if (sl == 1) {
              for (int64_t i = 0; i < n; ++i) a[i] = MulAdd(wv, xs[i], a[i]);
            } else {
              for (int64_t i = 0; i < n; ++i) a[i] = MulAdd(wv, xs[i * sl], a[i]);
            }
            for (int64_t i = hi - ow0; i < seg; ++i) a_row[i] = MulAdd(wv, T(0), a_row[i]);
          }
        } else {
          // The terms of this kernel position: ow = iw * sl + base for every integer iw with ow in
          // [ow0, ow1); iw in [lo, hi) (and an existing input row) reads x[iw], the others +0.
          const int64_t base = kw * dl - pl;
          const int64_t ilo = CeilDiv(ow0 - base, sl);
          const int64_t ihi = CeilDiv(ow1 - base, sl);
          if (ilo >= ihi) continue;
          int64_t lo = ihi, hi = ihi;
          if (valid[ko]) {
            lo = std::clamp<int64_t>(0, ilo, ihi);
            hi = std::clamp<int64_t>(W, lo, ihi);
          }
          for (int64_t r = 0; r < ocb; ++r) {
            const T wv = w[(ic * p.OCg + r) * p.ks + kpos];
            T* a = acc + r * seg + (ilo * sl + base - ow0);  // the term of iw = ilo
            for (int64_t i = 0; i < lo - ilo; ++i) a[i * sl] = MulAdd(wv, T(0), a[i * sl]);
            a += (lo - ilo) * sl;
            const int64_t n = hi - lo;
            const T* xs = n > 0 ? xr + lo : xr;
            if (sl == 1) {
              for (int64_t i = 0; i < n; ++i) a[i] = MulAdd(wv, xs[i], a[i]);
            } else {
              for (int64_t i = 0; i < n; ++i) a[i * sl] = MulAdd(wv, xs[i], a[i * sl]);
            }
            a += n * sl;
            for (int64_t i = 0; i < ihi - hi; ++i) a[i * sl] = MulAdd(wv, T(0), a[i * sl]);
          }
        }
      }
    }
  }
}

// Runs all tiles; emit(n, oc, pos, count, acc_row) stores `count` accumulators of output channel
// oc (global) at spatial position pos of batch n.
template <typename T, typename Emit>
void RunConvTiles(const KernelContext& ctx, const ConvPlan& p, const T* x, const T* w, const Emit& emit) {
  const int64_t last = p.S - 1;
  const int64_t OW = p.out[last];
  const int64_t rows = p.out_plane / std::max<int64_t>(OW, 1);
  const int64_t segs = (OW + kSegment - 1) / kSegment;
  const int64_t ocbs = (p.OCg + kOcBlock - 1) / kOcBlock;
  const int64_t tiles = p.N * p.G * ocbs * rows * segs;
  if (tiles <= 0 || p.out_plane == 0) return;
  int64_t k_outer = 1;
  for (int64_t d = 0; d < last; ++d) k_outer *= p.kernel[d];
  const int64_t work = std::min(kOcBlock, p.OCg) * std::min(kSegment, OW) * std::max<int64_t>(p.Cg * p.ks, 1);
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(work, 1));
  const int64_t C = p.Cg * p.G;
  ctx.ParallelFor(tiles, grain, [&](int64_t t0, int64_t t1) {
    std::vector<T> acc(static_cast<size_t>(kOcBlock * kSegment));
    std::vector<int64_t> scratch(static_cast<size_t>(2 * k_outer));
    for (int64_t t = t0; t < t1; ++t) {
      int64_t rem = t;
      const int64_t seg_i = rem % segs;
      rem /= segs;
      const int64_t row = rem % rows;
      rem /= rows;
      const int64_t ocb_i = rem % ocbs;
      rem /= ocbs;
      const int64_t g = rem % p.G;
      const int64_t n = rem / p.G;
      const int64_t oc0 = ocb_i * kOcBlock;
      const int64_t ocb = std::min(kOcBlock, p.OCg - oc0);
      const int64_t ow0 = seg_i * kSegment;
      const int64_t seg = std::min(kSegment, OW - ow0);
      const T* xg = x + (n * C + g * p.Cg) * p.in_plane;
      const T* wg = p.transpose ? w + (g * p.Cg * p.OCg + oc0) * p.ks : w + (g * p.OCg + oc0) * p.Cg * p.ks;
      ConvTile<T>(p, xg, wg, ocb, row, ow0, seg, acc.data(), scratch.data());
      for (int64_t r = 0; r < ocb; ++r)
        emit(n, g * p.OCg + oc0 + r, row * OW + ow0, seg, acc.data() + r * seg);
    }
  });
}

Result<std::vector<int64_t>> SpatialAttr(const KernelContext& ctx, const char* name, int64_t S, int64_t def,
                                         int64_t min_value) {
  std::vector<int64_t> v = ctx.Ints(name, std::vector<int64_t>(static_cast<size_t>(S), def));
  if (static_cast<int64_t>(v.size()) != S)
    return ctx.Error("attribute '", name, "' has ", v.size(), " values but the input has ", S, " spatial dims");
  for (int64_t e : v)
    if (e < min_value) return ctx.Error("attribute '", name, "' value ", e, " must be >= ", min_value);
  return v;
}

// Validates shapes and resolves output sizes and padding. x: [N, C, D...]. w: Conv [OC, C/G, k...],
// ConvTranspose [C, OC/G, k...].
Result<ConvPlan> MakeConvPlan(const KernelContext& ctx, const Shape& x, const Shape& w, bool transpose) {
  ConvPlan p;
  p.transpose = transpose;
  if (x.size() < 3)
    return ctx.Error("input X must have shape [N, C, D1, ...] with at least one spatial dim, got ", ShapeToString(x));
  if (w.size() != x.size())
    return ctx.Error("weight W has shape ", ShapeToString(w), " but X has shape ", ShapeToString(x),
                     " (ranks must be equal)");
  p.S = static_cast<int64_t>(x.size()) - 2;
  if (p.S > 16) return ctx.UnsupportedError("more than 16 spatial dimensions");
  p.N = x[0];
  const int64_t C = x[1];
  p.G = ctx.Int("group", 1);
  if (p.G < 1 || C % p.G != 0)
    return ctx.Error("group ", p.G, " must be >= 1 and divide the input channel count ", C);
  p.Cg = C / p.G;
  if (!transpose) {
    if (w[1] != p.Cg)
      return ctx.Error("W has shape ", ShapeToString(w), " but X has ", C, " channels and group ", p.G,
                       " (W's dim 1 must be C/group = ", p.Cg, ")");
    if (w[0] % p.G != 0) return ctx.Error("W's output channel count ", w[0], " is not divisible by group ", p.G);
    p.OCg = w[0] / p.G;
  } else {
    if (w[0] != C)
      return ctx.Error("W has shape ", ShapeToString(w), " but X has ", C, " channels (W's dim 0 must be C)");
    p.OCg = w[1];
  }
  p.kernel.assign(w.begin() + 2, w.end());
  if (ctx.HasAttr("kernel_shape")) {
    const std::vector<int64_t> ks = ctx.Ints("kernel_shape");
    if (ks != p.kernel)
      return ctx.Error("kernel_shape attribute does not match W's spatial shape ", ShapeToString(p.kernel));
  }
  const int64_t S = p.S;
  IDEM_ASSIGN_OR_RETURN(p.strides, SpatialAttr(ctx, "strides", S, 1, 1));
  IDEM_ASSIGN_OR_RETURN(p.dilations, SpatialAttr(ctx, "dilations", S, 1, 1));
  std::vector<int64_t> pads = ctx.Ints("pads", std::vector<int64_t>(static_cast<size_t>(2 * S), 0));
  if (static_cast<int64_t>(pads.size()) != 2 * S)
    return ctx.Error("attribute 'pads' has ", pads.size(), " values; expected ", 2 * S);
  for (int64_t v : pads)
    if (v < 0) return ctx.Error("attribute 'pads' has negative value ", v);
  const std::string auto_pad = ctx.String("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    return ctx.Error("unknown auto_pad '", auto_pad, "'");
  p.in.assign(x.begin() + 2, x.end());
  p.out.resize(static_cast<size_t>(S));
  p.pads.resize(static_cast<size_t>(S));
  std::vector<int64_t> output_padding, output_shape;
  if (transpose) {
    IDEM_ASSIGN_OR_RETURN(output_padding, SpatialAttr(ctx, "output_padding", S, 0, 0));
    output_shape = ctx.Ints("output_shape");
    if (static_cast<int64_t>(output_shape.size()) == S + 2) output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
    if (!output_shape.empty() && static_cast<int64_t>(output_shape.size()) != S)
      return ctx.Error("attribute 'output_shape' has ", output_shape.size(), " values; expected ", S);
  }
  for (int64_t d = 0; d < S; ++d) {
    const size_t i = static_cast<size_t>(d);
    const int64_t in = p.in[i];
    const int64_t s = p.strides[i];
    const int64_t ek = (p.kernel[i] - 1) * p.dilations[i] + 1;  // effective kernel extent
    if (p.kernel[i] < 1) return ctx.Error("kernel dimension ", d, " is ", p.kernel[i], "; must be >= 1");
    if (!transpose) {
      int64_t pb = pads[i], pe = pads[i + static_cast<size_t>(S)];
      if (auto_pad == "VALID") {
        pb = pe = 0;
      } else if (auto_pad != "NOTSET") {
        const int64_t out = CeilDiv(in, s);
        const int64_t total = std::max<int64_t>(0, (out - 1) * s + ek - in);
        pb = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        pe = total - pb;
      }
      if (in + pb + pe < ek)
        return ctx.Error("spatial dim ", d, ": padded input size ", in + pb + pe, " is smaller than the dilated kernel size ", ek);
      p.out[i] = (in + pb + pe - ek) / s + 1;
      p.pads[i] = pb;
    } else {
      const int64_t natural = s * (in - 1) + output_padding[i] + ek;
      int64_t pb = pads[i], pe = pads[i + static_cast<size_t>(S)];
      int64_t out;
      if (!output_shape.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        out = !output_shape.empty() ? output_shape[i] : in * s;
        const int64_t total = std::max<int64_t>(0, natural - out);
        pb = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        pe = total - pb;
      } else {
        if (auto_pad == "VALID") pb = pe = 0;
        out = natural - pb - pe;
      }
      if (out < 0) return ctx.Error("spatial dim ", d, ": output size ", out, " is negative");
      p.out[i] = out;
      p.pads[i] = pb;
    }
  }
  for (int64_t d = 0; d < S; ++d) {
    p.in_plane *= p.in[static_cast<size_t>(d)];
    p.out_plane *= p.out[static_cast<size_t>(d)];
    p.ks *= p.kernel[static_cast<size_t>(d)];
  }
  // 1x1 kernel, unit strides, no padding: one flattened spatial dim (same terms, same order).
  bool pointwise = S > 1;
  for (int64_t d = 0; d < S; ++d) {
    const size_t i = static_cast<size_t>(d);
    pointwise = pointwise && p.kernel[i] == 1 && p.strides[i] == 1 && p.pads[i] == 0 && p.out[i] == p.in[i];
  }
  if (pointwise) {
    p.S = 1;
    p.in = {p.in_plane};
    p.out = {p.out_plane};
    p.kernel = {1};
    p.strides = {1};
    p.dilations = {1};
    p.pads = {0};
  }
  return p;
}

// Output shape [N, OC, spatial...]; a flattened (pointwise) plan keeps X's spatial shape.
Shape ConvOutputShape(const ConvPlan& p, const Tensor& X) {
  Shape out_shape = {p.N, p.OCg * p.G};
  if (p.S == 1 && X.rank() > 3) {
    out_shape.insert(out_shape.end(), X.shape().begin() + 2, X.shape().end());
  } else {
    out_shape.insert(out_shape.end(), p.out.begin(), p.out.end());
  }
  return out_shape;
}

bool IsFloatWeight(DType d) { return d == DType::kF32 || d == DType::kF16 || d == DType::kBF16; }

// The elements of a f32 / f16 / bf16 tensor as f32 (exact). `storage` holds them unless the
// tensor already is f32.
template <typename T>
const float* AsF32(const Tensor& t, std::vector<float>* storage) {
  if constexpr (std::is_same_v<T, float>) {
    return t.data<float>();
  } else {
    storage->resize(static_cast<size_t>(t.numel()));
    for (int64_t i = 0; i < t.numel(); ++i) (*storage)[static_cast<size_t>(i)] = Load<T>(t.data<T>()[i]);
    return storage->data();
  }
}

// The SIMD kernels' geometry of a (non-transposed) plan.
simd::ConvGeometry Geometry(const ConvPlan& p) {
  simd::ConvGeometry g;
  g.N = p.N;
  g.G = p.G;
  g.Cg = p.Cg;
  g.OCg = p.OCg;
  g.S = static_cast<int>(p.S);
  for (int64_t d = 0; d < p.S; ++d) {
    const size_t i = static_cast<size_t>(d);
    g.in[d] = p.in[i];
    g.out[d] = p.out[i];
    g.kernel[d] = p.kernel[i];
    g.strides[d] = p.strides[i];
    g.dilations[d] = p.dilations[i];
    g.pads[d] = p.pads[i];
  }
  return g;
}

// Weights packed at load (PrepareConv / PrepareConvTranspose): the prepared state's one f32
// tensor, or nullptr if the node has none of `floats` floats.
const float* PreparedWeights(const KernelContext& ctx, int64_t floats) {
  const PreparedState* st = ctx.prepared();
  if (st == nullptr || st->tensors.size() != 1) return nullptr;
  const Tensor& t = st->tensors[0];
  if (t.dtype() != DType::kF32 || t.numel() != floats) return nullptr;
  return t.data<float>();
}

// The f32 output buffer of a SIMD convolution into Y: Y itself for f32, else `storage`, which
// StoreOutput then rounds into Y (f16/bf16 compute in f32 and round once on store).
template <typename T>
float* OutputF32(Tensor* Y, std::vector<float>* storage) {
  if constexpr (std::is_same_v<T, float>) {
    return Y->data<float>();
  } else {
    storage->resize(static_cast<size_t>(Y->numel()));
    return storage->data();
  }
}

template <typename T>
void StoreOutput(const std::vector<float>& storage, Tensor* Y) {
  if constexpr (!std::is_same_v<T, float>) {
    T* dst = Y->data<T>();
    for (int64_t i = 0; i < Y->numel(); ++i) dst[i] = Store<T>(storage[static_cast<size_t>(i)]);
  }
}

// Conv on a SIMD ISA (kernels/simd/conv.h): the same chain per element as the reference.
template <typename T>
Status SimdConv(KernelContext& ctx, simd::Isa isa, const ConvPlan& p, const Tensor& X, const Tensor& W,
                const float* bias, Tensor* Y, const simd::ConvOutputOp* op) {
  const simd::ConvGeometry g = Geometry(p);
  std::vector<float> x_storage, w_storage, packed, y_storage;
  const float* x = AsF32<T>(X, &x_storage);
  const float* w = PreparedWeights(ctx, simd::ConvPackedWeightFloats(g));
  if (w == nullptr) {
    const float* raw = AsF32<T>(W, &w_storage);
    if (simd::ConvAlgorithmFor(g) == simd::ConvAlgorithm::kDepthwise) {
      w = raw;  // depthwise: the packed layout is the raw one
    } else {
      packed.resize(static_cast<size_t>(simd::ConvPackedWeightFloats(g)));
      simd::PackConvWeights(g, raw, packed.data());
      w = packed.data();
    }
  }
  float* y = OutputF32<T>(Y, &y_storage);
  simd::ConvF32(isa, g, x, w, bias, y, ctx.pool(), op);
  StoreOutput<T>(y_storage, Y);
  return Status::Ok();
}

// ConvTranspose on a SIMD ISA (kernels/simd/conv_transpose.h): the same chain per element as the
// reference. Requires simd::ConvTransposeSimdSupported(Geometry(p)).
template <typename T>
Status SimdConvTranspose(KernelContext& ctx, simd::Isa isa, const ConvPlan& p, const Tensor& X, const Tensor& W,
                         const float* bias, Tensor* Y) {
  const simd::ConvGeometry g = Geometry(p);
  std::vector<float> x_storage, w_storage, packed, y_storage;
  const float* x = AsF32<T>(X, &x_storage);
  const float* w = PreparedWeights(ctx, simd::ConvTransposePackedWeightFloats(g));
  if (w == nullptr) {
    packed.resize(static_cast<size_t>(simd::ConvTransposePackedWeightFloats(g)));
    simd::PackConvTransposeWeights(g, AsF32<T>(W, &w_storage), packed.data());
    w = packed.data();
  }
  float* y = OutputF32<T>(Y, &y_storage);
  simd::ConvTransposeF32(isa, g, x, w, bias, y, ctx.pool());
  StoreOutput<T>(y_storage, Y);
  return Status::Ok();
}

// Float convolution (Conv / ConvTranspose) for element type T.
// `op` (FusedConv's residual add and activation, f32 only) is applied to each output after its
// bias: y = act((acc + b) + residual), on the tile just computed.
template <typename T>
Status RunFloatConv(KernelContext& ctx, const ConvPlan& p, const Tensor& X, const Tensor& W, const Tensor* B,
                    Tensor* Y, const simd::ConvOutputOp* op) {
  using C = ComputeT<T>;
  const int64_t OC = p.OCg * p.G;
  std::vector<C> bias;
  if (B) {
    if (B->rank() != 1 || B->dim(0) != OC)
      return ctx.Error("bias B has shape ", ShapeToString(B->shape()), "; expected [", OC, "]");
    bias.resize(static_cast<size_t>(OC));
    for (int64_t i = 0; i < OC; ++i) bias[static_cast<size_t>(i)] = Load<T>(B->data<T>()[i]);
  }
  if constexpr (std::is_same_v<C, float>) {
    const simd::Isa isa = simd::CurrentIsa();
    if (!p.transpose && isa != simd::Isa::kScalar)
      return SimdConv<T>(ctx, isa, p, X, W, B ? bias.data() : nullptr, Y, op);
    if (p.transpose && op == nullptr && isa != simd::Isa::kScalar && simd::ConvTransposeSimdSupported(Geometry(p)))
      return SimdConvTranspose<T>(ctx, isa, p, X, W, B ? bias.data() : nullptr, Y);
  }
  T* y = Y->data<T>();
  const int64_t plane = p.out_plane;
  auto emit = [&](int64_t n, int64_t oc, int64_t pos, int64_t count, const C* acc) {
    T* dst = y + (n * OC + oc) * plane + pos;
    if constexpr (std::is_same_v<T, float>) {
      if (op != nullptr) {
        const float b = B ? bias[static_cast<size_t>(oc)] : 0.0f;
        const float* r = op->residual != nullptr ? op->residual + (n * OC + oc) * plane + pos : nullptr;
        for (int64_t i = 0; i < count; ++i) {
          float v = B ? acc[i] + b : acc[i];
          if (r != nullptr) v = v + r[i];
          dst[i] = simd::FusedActivationScalar(op->act, v);
        }
        return;
      }
    }
    if (B) {
      const C b = bias[static_cast<size_t>(oc)];
      for (int64_t i = 0; i < count; ++i) dst[i] = Store<T>(acc[i] + b);
    } else {
      for (int64_t i = 0; i < count; ++i) dst[i] = Store<T>(acc[i]);
    }
  };
  if constexpr (kIsHalf<T>) {
    std::vector<float> x(static_cast<size_t>(X.numel())), w(static_cast<size_t>(W.numel()));
    for (int64_t i = 0; i < X.numel(); ++i) x[static_cast<size_t>(i)] = Load<T>(X.data<T>()[i]);
    for (int64_t i = 0; i < W.numel(); ++i) w[static_cast<size_t>(i)] = Load<T>(W.data<T>()[i]);
    RunConvTiles<float>(ctx, p, x.data(), w.data(), emit);
  } else {
    RunConvTiles<T>(ctx, p, X.data<T>(), W.data<T>(), emit);
  }
  return Status::Ok();
}

Status FloatConv(KernelContext& ctx, bool transpose, const simd::FusedActivation* act = nullptr,
                 const Tensor* residual = nullptr) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* X, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* W, ctx.InputTensor(1));
  const Tensor* B = nullptr;
  if (ctx.has_input(2)) {
    IDEM_ASSIGN_OR_RETURN(B, ctx.InputTensor(2));
  }
  if (W->dtype() != X->dtype() || (B && B->dtype() != X->dtype()))
    return ctx.Error("X, W and B must have the same type, got ", DTypeOnnxName(X->dtype()), " and ",
                     DTypeOnnxName(W->dtype()));
  IDEM_ASSIGN_OR_RETURN(ConvPlan p, MakeConvPlan(ctx, X->shape(), W->shape(), transpose));
  const Shape y_shape = ConvOutputShape(p, *X);
  simd::ConvOutputOp op;
  const bool has_op = act != nullptr || residual != nullptr;
  if (has_op) {
    if (X->dtype() != DType::kF32)
      return ctx.Error("a fused activation or residual needs float32, got ", DTypeOnnxName(X->dtype()));
    if (act != nullptr) op.act = *act;
    if (residual != nullptr) {
      if (residual->dtype() != DType::kF32 || residual->shape() != y_shape)
        return ctx.Error("residual input 'sum' has shape ", ShapeToString(residual->shape()), " and type ",
                         DTypeOnnxName(residual->dtype()), "; expected the Conv output's shape ",
                         ShapeToString(y_shape), " and type float");
      op.residual = residual->data<float>();
    }
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutputUninitialized(0, X->dtype(), y_shape));
  if (Y->numel() == 0) return Status::Ok();
  std::vector<float> residual_copy;  // the kernels read the residual after writing y: no overlap
  if (op.residual != nullptr) {
    const auto* r0 = reinterpret_cast<const char*>(op.residual);
    const auto* y0 = reinterpret_cast<const char*>(Y->data<float>());
    const size_t bytes = sizeof(float) * static_cast<size_t>(Y->numel());
    if (std::less<const char*>()(r0, y0 + bytes) && std::less<const char*>()(y0, r0 + bytes)) {
      residual_copy.assign(op.residual, op.residual + Y->numel());
      op.residual = residual_copy.data();
    }
  }
  return VisitDType<types::kFloat>(X->dtype(), transpose ? "ConvTranspose" : "Conv", [&](auto tag) {
    return RunFloatConv<typename decltype(tag)::type>(ctx, p, *X, *W, B, Y, has_op ? &op : nullptr);
  });
}

// Zero point of a quantized conv operand: scalar (x) or scalar / one per output channel (w).
Result<std::vector<int32_t>> ConvZeroPoint(const KernelContext& ctx, size_t index, DType operand_type,
                                           int64_t per_count, const char* what, bool required) {
  if (!ctx.has_input(index)) {
    if (required) return ctx.Error("input ", what, " is required");
    return std::vector<int32_t>{0};
  }
  IDEM_ASSIGN_OR_RETURN(const Tensor* zp, ctx.InputTensor(index));
  if (zp->dtype() != operand_type)
    return ctx.Error(what, " has type ", DTypeOnnxName(zp->dtype()), " but its operand has type ",
                     DTypeOnnxName(operand_type));
  if (zp->numel() != 1 && zp->numel() != per_count)
    return ctx.Error(what, " has shape ", ShapeToString(zp->shape()), "; expected a scalar",
                     per_count > 1 ? " or one value per output channel" : "");
  std::vector<int32_t> out(static_cast<size_t>(zp->numel()));
  for (int64_t i = 0; i < zp->numel(); ++i) out[static_cast<size_t>(i)] = static_cast<int32_t>(zp->IntAt(i));
  return out;
}

// int8/uint8 tensor minus zero point(s) as int32; zp index = (i / stride) % zp.size().
Result<std::vector<int32_t>> Centered(const KernelContext& ctx, const Tensor& t, const std::vector<int32_t>& zp,
                                      int64_t stride, const char* what) {
  std::vector<int32_t> out(static_cast<size_t>(t.numel()));
  const int64_t period = static_cast<int64_t>(zp.size());
  Status st = VisitDType<types::Bit(DType::kI8) | types::Bit(DType::kU8)>(t.dtype(), what, [&](auto tag) {
    using Q = typename decltype(tag)::type;
    const Q* d = t.data<Q>();
    for (int64_t i = 0; i < t.numel(); ++i)
      out[static_cast<size_t>(i)] = static_cast<int32_t>(d[i]) - zp[static_cast<size_t>((i / stride) % period)];
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext(ctx.node().Describe());
  return out;
}

// Shared part of ConvInteger and QLinearConv: emits int32 accumulators.
template <typename Emit>
Status IntegerConv(KernelContext& ctx, const Tensor& X, const Tensor& W, const std::vector<int32_t>& x_zp,
                   const std::vector<int32_t>& w_zp, const ConvPlan& p, const Emit& emit) {
  if (x_zp.size() != 1) return ctx.Error("x_zero_point must be a scalar");
  IDEM_ASSIGN_OR_RETURN(std::vector<int32_t> x, Centered(ctx, X, x_zp, 1, "x"));
  IDEM_ASSIGN_OR_RETURN(std::vector<int32_t> w, Centered(ctx, W, w_zp, std::max<int64_t>(p.Cg * p.ks, 1), "w"));
  RunConvTiles<int32_t>(ctx, p, x.data(), w.data(), emit);
  return Status::Ok();
}

Result<std::vector<float>> ConvScale(const KernelContext& ctx, size_t index, int64_t per_count, const char* what) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(index));
  if (t->dtype() != DType::kF32) return ctx.Error(what, " must be a float tensor, got ", DTypeOnnxName(t->dtype()));
  if (t->numel() != 1 && t->numel() != per_count)
    return ctx.Error(what, " has shape ", ShapeToString(t->shape()), "; expected a scalar",
                     per_count > 1 ? " or one value per output channel" : "");
  return std::vector<float>(t->data<float>(), t->data<float>() + t->numel());
}

// q = saturate(round_half_even(float(acc) * multiplier) + zp); the product is clamped to
// [qmin - zp, qmax - zp] in float before rounding; NaN maps to the zero point.
template <typename Q>
inline Q Requantize(int32_t acc, float multiplier, int32_t zp) {
  constexpr float kMin = static_cast<float>(std::numeric_limits<Q>::min());
  constexpr float kMax = static_cast<float>(std::numeric_limits<Q>::max());
  float v = static_cast<float>(acc) * multiplier;
  if (std::isnan(v)) return static_cast<Q>(zp);
  v = std::min(std::max(v, kMin - static_cast<float>(zp)), kMax - static_cast<float>(zp));
  return static_cast<Q>(static_cast<int32_t>(math::round_half_even(v)) + zp);
}

}  // namespace

namespace {

// The prepared state of a constant f32/f16/bf16 weight W: W widened to f32, then pack(w, packed)
// writes the `floats` floats of its packed form.
template <typename PackFn>
Result<std::shared_ptr<const PreparedState>> PackedWeightState(const Tensor& W, int64_t floats, PackFn pack) {
  std::vector<float> storage;
  const float* w = nullptr;
  Status st = VisitDType<types::Bit(DType::kF32) | types::Bit(DType::kF16) | types::Bit(DType::kBF16)>(
      W.dtype(), "W", [&](auto tag) {
        w = AsF32<typename decltype(tag)::type>(W, &storage);
        return Status::Ok();
      });
  IDEM_RETURN_IF_ERROR(st);
  IDEM_ASSIGN_OR_RETURN(Tensor packed, Tensor::CreateLongLived(DType::kF32, Shape{floats}));
  pack(w, packed.data<float>());
  auto state = std::make_shared<PreparedState>();
  state->tensors.push_back(std::move(packed));
  return std::shared_ptr<const PreparedState>(std::move(state));
}

}  // namespace

// Load time: constant f32/f16/bf16 weights of a Conv, widened to f32 and packed in the layout of
// kernels/simd/conv.h (per group, the GEMM's packed-A layout; depthwise: raw). Depends on W's
// shape and `group` only (R5).
Result<std::shared_ptr<const PreparedState>> PrepareConv(const PrepareContext& pc) {
  const Tensor* W = pc.constant_input(1);
  if (W == nullptr || W->rank() < 3 || W->rank() > 2 + simd::kConvMaxSpatial || !IsFloatWeight(W->dtype()))
    return std::shared_ptr<const PreparedState>();
  simd::ConvGeometry g;
  g.G = pc.Int("group", 1);
  if (g.G < 1 || W->dim(0) % g.G != 0) return std::shared_ptr<const PreparedState>();  // the kernel reports it
  g.OCg = W->dim(0) / g.G;
  g.Cg = W->dim(1);
  g.S = static_cast<int>(W->rank()) - 2;
  for (int d = 0; d < g.S; ++d) g.kernel[d] = W->dim(static_cast<size_t>(d) + 2);
  return PackedWeightState(*W, simd::ConvPackedWeightFloats(g),
                           [&](const float* w, float* packed) { simd::PackConvWeights(g, w, packed); });
}

// Load time: constant f32/f16/bf16 weights of a ConvTranspose, widened to f32 and packed in the
// layout of kernels/simd/conv_transpose.h (per group, per tap class, packed-A layout). Depends on W's
// shape, `group`, `strides` and `dilations` only (R5), not on pads or the input shape.
Result<std::shared_ptr<const PreparedState>> PrepareConvTranspose(const PrepareContext& pc) {
  const Tensor* W = pc.constant_input(1);
  if (W == nullptr || W->rank() < 3 || W->rank() > 2 + simd::kConvTransposeMaxSpatial || !IsFloatWeight(W->dtype()))
    return std::shared_ptr<const PreparedState>();
  simd::ConvGeometry g;
  g.G = pc.Int("group", 1);
  if (g.G < 1 || W->dim(0) % g.G != 0) return std::shared_ptr<const PreparedState>();  // the kernel reports it
  g.Cg = W->dim(0) / g.G;
  g.OCg = W->dim(1);
  g.S = static_cast<int>(W->rank()) - 2;
  for (int d = 0; d < g.S; ++d) g.kernel[d] = W->dim(static_cast<size_t>(d) + 2);
  for (const char* name : {"strides", "dilations"}) {
    const Attribute* a = pc.node().FindAttribute(name);
    const bool given = a != nullptr && a->kind == Attribute::Kind::kInts;
    if (given && static_cast<int>(a->ints.size()) != g.S) return std::shared_ptr<const PreparedState>();
    int64_t* dst = name[0] == 's' ? g.strides : g.dilations;
    for (int d = 0; d < g.S; ++d) dst[d] = given ? a->ints[static_cast<size_t>(d)] : 1;
  }
  if (!simd::ConvTransposeSimdSupported(g)) return std::shared_ptr<const PreparedState>();
  return PackedWeightState(*W, simd::ConvTransposePackedWeightFloats(g),
                           [&](const float* w, float* packed) { simd::PackConvTransposeWeights(g, w, packed); });
}

Status Conv(KernelContext& ctx) { return FloatConv(ctx, /*transpose=*/false); }

// idem.FusedConv (kernels/fused.cc): Conv, then y = act((conv + bias) + residual) per output,
// applied while each tile of outputs is cache-hot (simd::ConvOutputOp). `residual` may be null.
Status ConvWithOutputOp(KernelContext& ctx, const simd::FusedActivation& act, const Tensor* residual) {
  return FloatConv(ctx, /*transpose=*/false, &act, residual);
}

Status ConvTranspose(KernelContext& ctx) { return FloatConv(ctx, /*transpose=*/true); }

Status ConvInteger(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* X, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* W, ctx.InputTensor(1));
  IDEM_ASSIGN_OR_RETURN(ConvPlan p, MakeConvPlan(ctx, X->shape(), W->shape(), false));
  const int64_t OC = p.OCg * p.G;
  IDEM_ASSIGN_OR_RETURN(std::vector<int32_t> x_zp, ConvZeroPoint(ctx, 2, X->dtype(), 1, "x_zero_point", false));
  IDEM_ASSIGN_OR_RETURN(std::vector<int32_t> w_zp, ConvZeroPoint(ctx, 3, W->dtype(), OC, "w_zero_point", false));
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, DType::kI32, ConvOutputShape(p, *X)));
  if (Y->numel() == 0) return Status::Ok();
  int32_t* y = Y->data<int32_t>();
  const int64_t plane = p.out_plane;
  return IntegerConv(ctx, *X, *W, x_zp, w_zp, p, [&](int64_t n, int64_t oc, int64_t pos, int64_t count, const int32_t* acc) {
    std::copy(acc, acc + count, y + (n * OC + oc) * plane + pos);
  });
}

Status QLinearConv(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* X, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* W, ctx.InputTensor(3));
  IDEM_ASSIGN_OR_RETURN(ConvPlan p, MakeConvPlan(ctx, X->shape(), W->shape(), false));
  const int64_t OC = p.OCg * p.G;
  IDEM_ASSIGN_OR_RETURN(std::vector<float> x_scale, ConvScale(ctx, 1, 1, "x_scale"));
  IDEM_ASSIGN_OR_RETURN(std::vector<float> w_scale, ConvScale(ctx, 4, OC, "w_scale"));
  IDEM_ASSIGN_OR_RETURN(std::vector<float> y_scale, ConvScale(ctx, 6, 1, "y_scale"));
  IDEM_ASSIGN_OR_RETURN(std::vector<int32_t> x_zp, ConvZeroPoint(ctx, 2, X->dtype(), 1, "x_zero_point", true));
  IDEM_ASSIGN_OR_RETURN(std::vector<int32_t> w_zp, ConvZeroPoint(ctx, 5, W->dtype(), OC, "w_zero_point", true));
  IDEM_ASSIGN_OR_RETURN(const Tensor* y_zp_t, ctx.InputTensor(7));
  if (y_zp_t->numel() != 1) return ctx.Error("y_zero_point must be a scalar, got shape ", ShapeToString(y_zp_t->shape()));
  const int32_t y_zp = static_cast<int32_t>(y_zp_t->IntAt(0));
  std::vector<int32_t> bias(static_cast<size_t>(OC), 0);
  if (ctx.has_input(8)) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* B, ctx.InputTensor(8));
    if (B->dtype() != DType::kI32 || B->numel() != OC)
      return ctx.Error("bias B must be int32 with ", OC, " values, got ", DTypeOnnxName(B->dtype()), " ",
                       ShapeToString(B->shape()));
    std::copy(B->data<int32_t>(), B->data<int32_t>() + OC, bias.begin());
  }
  // Per output channel: multiplier = (x_scale * w_scale[oc]) / y_scale in f32.
  std::vector<float> mult(static_cast<size_t>(OC));
  for (int64_t oc = 0; oc < OC; ++oc)
    mult[static_cast<size_t>(oc)] = (x_scale[0] * w_scale[w_scale.size() == 1 ? 0 : static_cast<size_t>(oc)]) / y_scale[0];
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, y_zp_t->dtype(), ConvOutputShape(p, *X)));
  if (Y->numel() == 0) return Status::Ok();
  const int64_t plane = p.out_plane;
  return VisitDType<types::Bit(DType::kI8) | types::Bit(DType::kU8)>(y_zp_t->dtype(), "y_zero_point", [&](auto tag) {
    using Q = typename decltype(tag)::type;
    Q* y = Y->data<Q>();
    return IntegerConv(ctx, *X, *W, x_zp, w_zp, p, [&](int64_t n, int64_t oc, int64_t pos, int64_t count, const int32_t* acc) {
      Q* dst = y + (n * OC + oc) * plane + pos;
      const int32_t b = bias[static_cast<size_t>(oc)];
      const float m = mult[static_cast<size_t>(oc)];
      for (int64_t i = 0; i < count; ++i)
        dst[i] = Requantize<Q>(static_cast<int32_t>(static_cast<uint32_t>(acc[i]) + static_cast<uint32_t>(b)), m, y_zp);
    });
  });
}

}  // namespace idem::kernels
