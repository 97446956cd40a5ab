// Pooling: AveragePool, MaxPool, LpPool, GlobalAveragePool, GlobalMaxPool, GlobalLpPool,
// MaxUnpool, MaxRoiPool, RoiAlign — scalar reference kernels of the linalg family.
//
// Canonical orders (DESIGN.md R1):
//  - A window is walked over kernel positions in row-major order, kpos = 0..prod(kernel)-1.
//    Positions outside the input (padding, ceil_mode overhang) are SKIPPED terms; the walk order
//    and each term's index stay fixed, so the order depends on shapes and attributes only.
//  - AveragePool / LpPool / global pools sum with CanonicalSum's lane layout indexed by kpos
//    (term kpos goes to lane kpos % 16; a skipped term leaves its lane unchanged), then
//    AveragePool divides by the count (count_include_pad: positions inside input + pads; else
//    positions inside the input); LpPool takes the p-th root.
//  - MaxPool is a sequential max in kpos order: the first strictly greater value wins (ties keep
//    the earlier position); a NaN wins over any number and the first NaN is kept, so any NaN in
//    the window propagates. Indices are flattened over the whole input (N, C, spatial), spatial
//    part row-major (storage_order 0) or column-major (storage_order 1).
// f16/bf16 compute in f32 and round once on store.
//
// SIMD (f32; f16/bf16 staged through f32): AveragePool, MaxPool (with Indices), GlobalAveragePool
// and GlobalMaxPool. Pools compute each line of outputs along the last spatial dim as one unit,
// one output per SIMD lane, each lane walking its window in the kpos order above (PoolLine in
// simd/reduce_simd.h): outputs whose window lies inside the input along that dim load their terms
// directly; edge outputs gather with a per-lane mask that skips the terms outside the input, as
// the scalar walk does. Global pools use the canonical row primitives. LpPool, GlobalLpPool,
// MaxRoiPool, RoiAlign and MaxUnpool stay scalar. The scalar code paths are the reference
// (Isa::kScalar).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/math.h"
#include "kernels/canonical.h"
#include "kernels/kernel.h"
#include "kernels/reduce_internal.h"
#include "kernels/simd/isa.h"
#include "kernels/simd/reduce_simd.h"
#include "kernels/util.h"

namespace idem::kernels {
namespace {

inline int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

// Canonical sum with skippable terms: lanes indexed by the term's fixed position.
template <typename Acc>
struct LaneSum {
  Acc lane[kReduceLanes] = {};
  void Add(int64_t pos, Acc v) {
    Acc& l = lane[pos % kReduceLanes];
    l = l + v;
  }
  Acc Total() {
    for (int w = kReduceLanes / 2; w >= 1; w /= 2)
      for (int l = 0; l < w; ++l) lane[l] = lane[l] + lane[l + w];
    return lane[0];
  }
};

// Sequential max with NaN propagation (see file comment). Returns true when v replaces best.
template <typename C>
inline bool MaxTakes(C v, C best) {
  if constexpr (std::is_floating_point_v<C>) {
    if (std::isnan(best)) return false;
    return std::isnan(v) || v > best;
  } else {
    return v > best;
  }
}

struct PoolPlan {
  int64_t N = 0, C = 0, S = 0;
  Shape in, out, kernel, strides, dilations, pad_begin, pad_end;
  int64_t in_plane = 1, out_plane = 1, ks = 1;
  // Per spatial dim d and output coordinate o: kernel index range with input inside [0, in) and
  // the number of kernel positions inside the padded input [-pad_begin, in + pad_end).
  std::vector<std::vector<int64_t>> k_lo, k_hi, pad_count;
};

Result<std::vector<int64_t>> SpatialInts(const KernelContext& ctx, const char* name, int64_t n, int64_t def,
                                         int64_t min_value) {
  std::vector<int64_t> v = ctx.Ints(name, std::vector<int64_t>(static_cast<size_t>(n), def));
  if (static_cast<int64_t>(v.size()) != n)
    return ctx.Error("attribute '", name, "' has ", v.size(), " values; expected ", n);
  for (int64_t e : v)
    if (e < min_value) return ctx.Error("attribute '", name, "' value ", e, " must be >= ", min_value);
  return v;
}

// Pool geometry: kernel_shape (required), strides, pads, dilations, auto_pad, ceil_mode.
// ceil_mode: out = ceil((in + pads - ek) / s) + 1, minus one if the last window would start at or
// beyond input + pad_begin (it would cover no input element).
Result<PoolPlan> MakePoolPlan(const KernelContext& ctx, const Shape& x, bool allow_dilations, bool allow_ceil) {
  PoolPlan p;
  if (x.size() < 3)
    return ctx.Error("input X must have shape [N, C, D1, ...] with at least one spatial dim, got ", ShapeToString(x));
  p.N = x[0];
  p.C = x[1];
  p.S = static_cast<int64_t>(x.size()) - 2;
  p.in.assign(x.begin() + 2, x.end());
  IDEM_ASSIGN_OR_RETURN(const Attribute* ka, ctx.RequiredAttr("kernel_shape", Attribute::Kind::kInts));
  p.kernel = ka->ints;
  if (static_cast<int64_t>(p.kernel.size()) != p.S)
    return ctx.Error("kernel_shape has ", p.kernel.size(), " values but the input has ", p.S, " spatial dims");
  for (int64_t k : p.kernel)
    if (k < 1) return ctx.Error("kernel_shape value ", k, " must be >= 1");
  IDEM_ASSIGN_OR_RETURN(p.strides, SpatialInts(ctx, "strides", p.S, 1, 1));
  if (allow_dilations) {
    IDEM_ASSIGN_OR_RETURN(p.dilations, SpatialInts(ctx, "dilations", p.S, 1, 1));
  } else {
    p.dilations.assign(static_cast<size_t>(p.S), 1);
  }
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> pads, SpatialInts(ctx, "pads", 2 * p.S, 0, 0));
  const bool ceil_mode = allow_ceil && ctx.Int("ceil_mode", 0) != 0;
  const std::string auto_pad = ctx.String("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    return ctx.Error("unknown auto_pad '", auto_pad, "'");
  const size_t S = static_cast<size_t>(p.S);
  p.out.resize(S);
  p.pad_begin.resize(S);
  p.pad_end.resize(S);
  for (size_t d = 0; d < S; ++d) {
    const int64_t in = p.in[d], s = p.strides[d];
    const int64_t ek = (p.kernel[d] - 1) * p.dilations[d] + 1;
    int64_t pb = pads[d], pe = pads[d + S];
    int64_t out;
    if (auto_pad == "VALID") {
      pb = pe = 0;
      if (in < ek) return ctx.Error("spatial dim ", d, ": input size ", in, " is smaller than the kernel extent ", ek);
      out = (in - ek) / s + 1;
    } else if (auto_pad != "NOTSET") {
      out = CeilDiv(in, s);
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + ek - in);
      pb = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    } else {
      if (in + pb + pe < ek)
        return ctx.Error("spatial dim ", d, ": padded input size ", in + pb + pe, " is smaller than the kernel extent ", ek);
      if (ceil_mode) {
        out = CeilDiv(in + pb + pe - ek, s) + 1;
        if ((out - 1) * s >= in + pb) --out;
      } else {
        out = (in + pb + pe - ek) / s + 1;
      }
    }
    if (pb >= ek || pe >= ek)
      return ctx.Error("spatial dim ", d, ": pads (", pb, ", ", pe, ") must be smaller than the kernel extent ", ek);
    p.out[d] = out;
    p.pad_begin[d] = pb;
    p.pad_end[d] = pe;
  }
  p.k_lo.resize(S);
  p.k_hi.resize(S);
  p.pad_count.resize(S);
  for (size_t d = 0; d < S; ++d) {
    p.in_plane *= p.in[d];
    p.out_plane *= p.out[d];
    p.ks *= p.kernel[d];
    for (int64_t o = 0; o < p.out[d]; ++o) {
      const int64_t start = o * p.strides[d] - p.pad_begin[d];
      const int64_t dl = p.dilations[d];
      // Kernel index k covers input position start + k * dl.
      const int64_t lo = std::min(p.kernel[d], std::max<int64_t>(0, CeilDiv(-start, dl)));
      const int64_t hi = std::max(lo, std::min(p.kernel[d], FloorDiv(p.in[d] - 1 - start, dl) + 1));
      const int64_t plo = std::min(p.kernel[d], std::max<int64_t>(0, CeilDiv(-p.pad_begin[d] - start, dl)));
      const int64_t phi = std::max(plo, std::min(p.kernel[d], FloorDiv(p.in[d] + p.pad_end[d] - 1 - start, dl) + 1));
      p.k_lo[d].push_back(lo);
      p.k_hi[d].push_back(hi);
      p.pad_count[d].push_back(phi - plo);
    }
  }
  return p;
}

Shape PoolOutputShape(const PoolPlan& p) {
  Shape s = {p.N, p.C};
  s.insert(s.end(), p.out.begin(), p.out.end());
  return s;
}

// Calls visit(kpos, input_offset, spatial_coords) for every in-input kernel position of the window
// of output element `o` (flattened spatial index), in row-major kpos order.
template <typename Visit>
void WalkWindow(const PoolPlan& p, int64_t o, Visit&& visit) {
  const int64_t S = p.S;
  int64_t oc[16], k[16], lo[16], hi[16], start[16];
  int64_t rem = o;
  for (int64_t d = S; d-- > 0;) {
    oc[d] = rem % p.out[static_cast<size_t>(d)];
    rem /= p.out[static_cast<size_t>(d)];
  }
  for (int64_t d = 0; d < S; ++d) {
    const size_t i = static_cast<size_t>(d);
    lo[d] = p.k_lo[i][static_cast<size_t>(oc[d])];
    hi[d] = p.k_hi[i][static_cast<size_t>(oc[d])];
    if (lo[d] >= hi[d]) return;
    start[d] = oc[d] * p.strides[i] - p.pad_begin[i];
    k[d] = lo[d];
  }
  int64_t coord[16];
  while (true) {
    int64_t kpos = 0, off = 0;
    for (int64_t d = 0; d < S; ++d) {
      const size_t i = static_cast<size_t>(d);
      kpos = kpos * p.kernel[i] + k[d];
      coord[d] = start[d] + k[d] * p.dilations[i];
      off = off * p.in[i] + coord[d];
    }
    visit(kpos, off, coord);
    int64_t d = S - 1;
    for (; d >= 0; --d) {
      if (++k[d] < hi[d]) break;
      k[d] = lo[d];
    }
    if (d < 0) return;
  }
}

// Runs fn(plane, o) for every output element in parallel over (plane, output block).
template <typename Fn>
void ForEachOutput(const KernelContext& ctx, const PoolPlan& p, const Fn& fn) {
  const int64_t total = p.N * p.C * p.out_plane;
  if (total <= 0) return;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(p.ks, 1));
  ctx.ParallelFor(total, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) fn(i / p.out_plane, i % p.out_plane, i);
  });
}

Status CheckPoolSpatialRank(const KernelContext& ctx, const Tensor& x) {
  if (x.rank() - 2 > 16) return ctx.UnsupportedError("more than 16 spatial dimensions");
  return Status::Ok();
}

// The p of LpPool / GlobalLpPool: a float attribute in opset 1, an int attribute from opset 2.
Result<double> LpOrder(const KernelContext& ctx) {
  const Attribute* a = ctx.node().FindAttribute("p");
  double p = 2.0;
  if (a) p = a->kind == Attribute::Kind::kFloat ? static_cast<double>(a->f) : static_cast<double>(a->i);
  if (!(p > 0) || !std::isfinite(p)) return ctx.Error("attribute p = ", p, " must be a positive finite number");
  return p;
}

// |x|^p term and the p-th root: p = 1 and p = 2 use exact operations (abs, x*x, sqrt); other p
// use idem::math::pow.
template <typename C>
inline C LpTerm(C v, C p) {
  const C a = std::abs(v);
  if (p == C(1)) return a;
  if (p == C(2)) return a * a;
  return math::pow(a, p);
}
template <typename C>
inline C LpRoot(C s, C p) {
  if (p == C(1)) return s;
  if (p == C(2)) return math::sqrt(s);
  return math::pow(s, C(1) / p);
}

enum class PoolKind { kAverage, kLp };

// The scalar reference of one AveragePool / LpPool output `o` (flattened spatial) of plane xp.
template <typename T>
ComputeT<T> SumPoolOne(const PoolPlan& p, PoolKind kind, bool include_pad, ComputeT<T> pc, const T* xp, int64_t o) {
  using C = ComputeT<T>;
  LaneSum<C> sum;
  int64_t valid = 0;
  WalkWindow(p, o, [&](int64_t kpos, int64_t off, const int64_t*) {
    const C v = Load<T>(xp[off]);
    sum.Add(kpos, kind == PoolKind::kLp ? LpTerm<C>(v, pc) : v);
    ++valid;
  });
  C r = sum.Total();
  if (kind == PoolKind::kLp) return LpRoot<C>(r, pc);
  int64_t count = valid;
  if (include_pad) {
    count = 1;
    int64_t rem = o;
    for (int64_t d = p.S; d-- > 0;) {
      const size_t i = static_cast<size_t>(d);
      count *= p.pad_count[i][static_cast<size_t>(rem % p.out[i])];
      rem /= p.out[i];
    }
  }
  return r / static_cast<C>(count);
}

// The scalar reference of one MaxPool output: the maximum and its input offset in the plane.
template <typename T>
ComputeT<T> MaxPoolOne(const PoolPlan& p, const T* xp, int64_t o, int64_t* best_off) {
  using C = ComputeT<T>;
  bool any = false;
  C best{};
  WalkWindow(p, o, [&](int64_t, int64_t off, const int64_t*) {
    const C v = Load<T>(xp[off]);
    if (!any || MaxTakes(v, best)) {
      any = true;
      best = v;
      *best_off = off;
    }
  });
  // A window can hold no input element (a dilated kernel over padding): then +0 at offset 0.
  return best;
}

// Column-major (storage_order 1) index of the plane offset `off`.
int64_t ColumnMajorIndex(const PoolPlan& p, int64_t off) {
  int64_t col = 0, stride = 1;
  std::vector<int64_t> coord(static_cast<size_t>(p.S));
  for (int64_t d = p.S; d-- > 0;) {
    coord[static_cast<size_t>(d)] = off % p.in[static_cast<size_t>(d)];
    off /= p.in[static_cast<size_t>(d)];
  }
  for (int64_t d = 0; d < p.S; ++d) {
    col += coord[static_cast<size_t>(d)] * stride;
    stride *= p.in[static_cast<size_t>(d)];
  }
  return col;
}

// The window rows of one output line (all spatial dims but the last fixed), and the range
// [first, last) of its outputs whose window is complete along the last dim (the others are
// edge outputs).
struct LineWindow {
  std::vector<int64_t> row_off, row_kpos;
  int64_t pad_count = 1;  // product of pad_count over the dims but the last
  int64_t first = 0, last = 0;
  bool simd = false;  // has a SIMD part (MakeLineWindow returned true)
};

// False when the line has no SIMD form (a window empty along another dim).
bool MakeLineWindow(const PoolPlan& p, int64_t line, LineWindow* w) {
  const int64_t L = p.S - 1;
  const size_t Ls = static_cast<size_t>(L);
  int64_t oc[16], lo[16], hi[16], start[16], in_stride[16];
  int64_t rem = line;
  for (int64_t d = L; d-- > 0;) {
    oc[d] = rem % p.out[static_cast<size_t>(d)];
    rem /= p.out[static_cast<size_t>(d)];
  }
  in_stride[L] = 1;
  for (int64_t d = L; d-- > 0;) in_stride[d] = in_stride[d + 1] * p.in[static_cast<size_t>(d + 1)];
  w->pad_count = 1;
  for (int64_t d = 0; d < L; ++d) {
    const size_t i = static_cast<size_t>(d);
    lo[d] = p.k_lo[i][static_cast<size_t>(oc[d])];
    hi[d] = p.k_hi[i][static_cast<size_t>(oc[d])];
    if (lo[d] >= hi[d]) return false;
    start[d] = oc[d] * p.strides[i] - p.pad_begin[i];
    w->pad_count *= p.pad_count[i][static_cast<size_t>(oc[d])];
  }
  const int64_t kl = p.kernel[Ls];
  w->first = 0;
  while (w->first < p.out[Ls] && !(p.k_lo[Ls][static_cast<size_t>(w->first)] == 0 &&
                                   p.k_hi[Ls][static_cast<size_t>(w->first)] == kl))
    ++w->first;
  w->last = w->first;
  while (w->last < p.out[Ls] && p.k_lo[Ls][static_cast<size_t>(w->last)] == 0 &&
         p.k_hi[Ls][static_cast<size_t>(w->last)] == kl)
    ++w->last;
  if (w->first == w->last) w->first = w->last = p.out[Ls];  // no complete output: all edge
  // Rows in row-major order of the kernel indices of dims 0..L-1.
  w->row_off.clear();
  w->row_kpos.clear();
  int64_t k[16];
  for (int64_t d = 0; d < L; ++d) k[d] = lo[d];
  while (true) {
    int64_t kpos = 0, off = 0;
    for (int64_t d = 0; d < L; ++d) {
      kpos = kpos * p.kernel[static_cast<size_t>(d)] + k[d];
      off += (start[d] + k[d] * p.dilations[static_cast<size_t>(d)]) * in_stride[d];
    }
    w->row_off.push_back(off);
    w->row_kpos.push_back(kpos * kl);
    int64_t d = L - 1;
    for (; d >= 0; --d) {
      if (++k[d] < hi[d]) break;
      k[d] = lo[d];
    }
    if (d < 0) break;
  }
  return true;
}

// Runs fn(plane, line_index, window) over every output line of every plane, in parallel. The
// windows depend on the line only, so they are made once for all planes.
template <typename Fn>
void ForEachLine(const KernelContext& ctx, const PoolPlan& p, const Fn& fn) {
  const int64_t width = p.out[static_cast<size_t>(p.S - 1)];
  const int64_t lines = width > 0 ? p.out_plane / width : 0;
  const int64_t total = p.N * p.C * lines;
  if (total <= 0) return;
  std::vector<LineWindow> windows(static_cast<size_t>(lines));
  for (int64_t l = 0; l < lines; ++l) {
    LineWindow& w = windows[static_cast<size_t>(l)];
    w.simd = MakeLineWindow(p, l, &w);
  }
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(width * p.ks, 1));
  ctx.ParallelFor(total, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) fn(i / lines, i % lines, windows[static_cast<size_t>(i % lines)]);
  });
}

// The SIMD table when the pool runs the SIMD form: a float type and a SIMD ISA.
template <typename T>
const simd::ReduceKernels* PoolSimd(const PoolPlan& p) {
  if constexpr (!std::is_same_v<ComputeT<T>, float>) {
    return nullptr;
  } else {
    // Term indices and gather offsets are int32.
    if (p.ks >= (int64_t{1} << 24) || p.S > 16 || p.in_plane >= (int64_t{1} << 30)) return nullptr;
    return simd::ReduceKernelsFor(simd::CurrentIsa());
  }
}

// The PoolLine of outputs [first, first + count) of a line (not yet `partial`).
simd::PoolLine MakePoolLine(const PoolPlan& p, const LineWindow& w, const float* xp, int64_t first, int64_t count) {
  const size_t Ls = static_cast<size_t>(p.S - 1);
  simd::PoolLine pl;
  pl.x = xp;
  pl.x_size = p.in_plane;
  pl.row_off = w.row_off.data();
  pl.row_kpos = w.row_kpos.data();
  pl.rows = static_cast<int64_t>(w.row_off.size());
  pl.kw = p.kernel[Ls];
  pl.dil = p.dilations[Ls];
  pl.stride = p.strides[Ls];
  pl.w0 = first * p.strides[Ls] - p.pad_begin[Ls];
  pl.count = count;
  pl.in_w = p.in[Ls];
  return pl;
}

// Calls fn(first, count, partial) over a line's outputs in chunks of at most kPoolChunk: the
// edge outputs before and after the complete ones are `partial`.
constexpr int64_t kPoolChunk = 64;
template <typename Fn>
void ForEachLineChunk(const LineWindow& w, int64_t width, const Fn& fn) {
  auto run = [&](int64_t a, int64_t b, bool partial) {
    for (int64_t c = a; c < b; c += kPoolChunk) fn(c, std::min(kPoolChunk, b - c), partial);
  };
  run(0, w.first, true);
  run(w.first, w.last, false);
  run(w.last, width, true);
}

// AveragePool on f32 planes with the SIMD lines.
void AveragePoolSimd(const KernelContext& ctx, const simd::ReduceKernels& k, const PoolPlan& p, bool include_pad,
                     const float* x, float* y) {
  const size_t Ls = static_cast<size_t>(p.S - 1);
  const int64_t width = p.out[Ls];
  ForEachLine(ctx, p, [&](int64_t plane, int64_t line, const LineWindow& w) {
    const float* xp = x + plane * p.in_plane;
    float* yl = y + plane * p.out_plane + line * width;
    if (!w.simd) {
      for (int64_t ow = 0; ow < width; ++ow)
        yl[ow] = SumPoolOne<float>(p, PoolKind::kAverage, include_pad, 0.0f, xp, line * width + ow);
      return;
    }
    const int64_t rows = static_cast<int64_t>(w.row_off.size());
    ForEachLineChunk(w, width, [&](int64_t first, int64_t count, bool partial) {
      simd::PoolLine pl = MakePoolLine(p, w, xp, first, count);
      pl.y = yl + first;
      float divisors[kPoolChunk];
      if (partial) {
        // The scalar count: positions inside the padded input, or inside the input.
        for (int64_t j = 0; j < count; ++j) {
          const size_t ow = static_cast<size_t>(first + j);
          divisors[j] = static_cast<float>(include_pad ? w.pad_count * p.pad_count[Ls][ow]
                                                       : rows * (p.k_hi[Ls][ow] - p.k_lo[Ls][ow]));
        }
        pl.partial = true;
        pl.divisors = divisors;
      } else {
        pl.divisor = static_cast<float>(include_pad ? w.pad_count * p.kernel[Ls] : rows * p.kernel[Ls]);
      }
      k.avg_pool_line(pl);
    });
  });
}

Status SumPool(KernelContext& ctx, PoolKind kind) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* X, ctx.InputTensor(0));
  IDEM_RETURN_IF_ERROR(CheckPoolSpatialRank(ctx, *X));
  IDEM_ASSIGN_OR_RETURN(PoolPlan p, MakePoolPlan(ctx, X->shape(), /*allow_dilations=*/false,
                                                 /*allow_ceil=*/kind == PoolKind::kAverage && ctx.opset() >= 10));
  double lp = 2.0;
  if (kind == PoolKind::kLp) {
    IDEM_ASSIGN_OR_RETURN(lp, LpOrder(ctx));
  }
  const bool include_pad = kind == PoolKind::kAverage && ctx.opset() >= 7 && ctx.Int("count_include_pad", 0) != 0;
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, X->dtype(), PoolOutputShape(p)));
  return VisitDType<types::kFloat>(X->dtype(), kind == PoolKind::kAverage ? "AveragePool" : "LpPool", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    const T* x = X->data<T>();
    T* y = Y->data<T>();
    if (kind == PoolKind::kAverage) {
      if (const simd::ReduceKernels* k = PoolSimd<T>(p)) {
        std::vector<float> xbuf, ybuf;
        const float* xf = reduce_internal::StageF32(ctx, x, X->numel(), xbuf);
        float* yf = reduce_internal::StageF32Out(y, Y->numel(), ybuf);
        AveragePoolSimd(ctx, *k, p, include_pad, xf, yf);
        reduce_internal::UnstageF32(ctx, yf, Y->numel(), y);
        return Status::Ok();
      }
    }
    const C pc = static_cast<C>(lp);
    ForEachOutput(ctx, p, [&](int64_t plane, int64_t o, int64_t out_index) {
      y[out_index] = Store<T>(SumPoolOne<T>(p, kind, include_pad, pc, x + plane * p.in_plane, o));
    });
    return Status::Ok();
  });
}

// Global pools: one window = the whole plane, kpos = flattened spatial index.
enum class GlobalKind { kAverage, kMax, kLp };

Status GlobalPool(KernelContext& ctx, GlobalKind kind) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* X, ctx.InputTensor(0));
  if (X->rank() < 2) return ctx.Error("input must have shape [N, C, ...], got ", ShapeToString(X->shape()));
  double lp = 2.0;
  if (kind == GlobalKind::kLp) {
    IDEM_ASSIGN_OR_RETURN(lp, LpOrder(ctx));
  }
  Shape out_shape = X->shape();
  for (size_t d = 2; d < out_shape.size(); ++d) out_shape[d] = 1;
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, X->dtype(), out_shape));
  const int64_t planes = X->dim(0) * X->dim(1);
  const int64_t plane = planes > 0 ? X->numel() / planes : 0;
  if (planes == 0) return Status::Ok();
  constexpr uint32_t kMaxTypes = types::kFloat | types::Bit(DType::kI8) | types::Bit(DType::kU8);
  return VisitDType<kMaxTypes>(X->dtype(), "global pool", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    if constexpr (!kIsFloat<T>) {
      if (kind != GlobalKind::kMax) return ctx.UnsupportedError("element type ", DTypeOnnxName(X->dtype()));
    }
    const T* x = X->data<T>();
    T* y = Y->data<T>();
    const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(plane, 1));
    if constexpr (std::is_same_v<C, float>) {
      const simd::ReduceKernels* k = simd::ReduceKernelsFor(simd::CurrentIsa());
      if (k && kind != GlobalKind::kLp && plane > 0) {
        ctx.ParallelFor(planes, grain, [&](int64_t b, int64_t e) {
          std::vector<float> scratch;
          for (int64_t pl = b; pl < e; ++pl) {
            const float* xp;
            if constexpr (std::is_same_v<T, float>) {
              xp = x + pl * plane;
            } else {
              scratch.resize(static_cast<size_t>(plane));
              for (int64_t i = 0; i < plane; ++i) scratch[static_cast<size_t>(i)] = Load<T>(x[pl * plane + i]);
              xp = scratch.data();
            }
            y[pl] = Store<T>(kind == GlobalKind::kMax ? k->max(xp, plane) : k->sum(xp, plane) / static_cast<float>(plane));
          }
        });
        return Status::Ok();
      }
    }
    ctx.ParallelFor(planes, grain, [&](int64_t b, int64_t e) {
      for (int64_t pl = b; pl < e; ++pl) {
        const T* xp = x + pl * plane;
        if (kind == GlobalKind::kMax) {
          if (plane == 0) {
            y[pl] = T{};
            continue;
          }
          C best = Load<T>(xp[0]);
          for (int64_t i = 1; i < plane; ++i) {
            const C v = Load<T>(xp[i]);
            if (MaxTakes(v, best)) best = v;
          }
          y[pl] = Store<T>(best);
        } else if constexpr (kIsFloat<T>) {
          const C pc = static_cast<C>(lp);
          C s = kind == GlobalKind::kLp ? CanonicalSum<C>(plane, [&](int64_t i) { return LpTerm<C>(Load<T>(xp[i]), pc); })
                                        : CanonicalSum<C>(plane, [&](int64_t i) { return Load<T>(xp[i]); });
          y[pl] = Store<T>(kind == GlobalKind::kLp ? LpRoot<C>(s, pc) : s / static_cast<C>(plane));
        }
      }
    });
    return Status::Ok();
  });
}

// Rounds half away from zero (Caffe's round in MaxRoiPool) with exact operations.
template <typename C>
inline C RoundHalfAway(C v) {
  const C t = math::trunc(v);
  const C frac = v - t;
  if (frac >= C(0.5)) return t + C(1);
  if (frac <= C(-0.5)) return t - C(1);
  return t;
}

}  // namespace

Status AveragePool(KernelContext& ctx) { return SumPool(ctx, PoolKind::kAverage); }

Status LpPool(KernelContext& ctx) { return SumPool(ctx, PoolKind::kLp); }

Status GlobalAveragePool(KernelContext& ctx) { return GlobalPool(ctx, GlobalKind::kAverage); }

Status GlobalMaxPool(KernelContext& ctx) { return GlobalPool(ctx, GlobalKind::kMax); }

Status GlobalLpPool(KernelContext& ctx) { return GlobalPool(ctx, GlobalKind::kLp); }

Status MaxPool(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* X, ctx.InputTensor(0));
  IDEM_RETURN_IF_ERROR(CheckPoolSpatialRank(ctx, *X));
  IDEM_ASSIGN_OR_RETURN(PoolPlan p, MakePoolPlan(ctx, X->shape(), ctx.opset() >= 10, ctx.opset() >= 10));
  const int64_t storage_order = ctx.opset() >= 8 ? ctx.Int("storage_order", 0) : 0;
  if (storage_order != 0 && storage_order != 1) return ctx.Error("storage_order ", storage_order, " must be 0 or 1");
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, X->dtype(), PoolOutputShape(p)));
  int64_t* indices = nullptr;
  if (ctx.num_outputs() > 1 && ctx.output_wanted(1)) {
    IDEM_ASSIGN_OR_RETURN(Tensor * I, ctx.AllocateOutput(1, DType::kI64, PoolOutputShape(p)));
    indices = I->data<int64_t>();
  }
  constexpr uint32_t kTypes = types::kFloat | types::Bit(DType::kI8) | types::Bit(DType::kU8);
  return VisitDType<kTypes>(X->dtype(), "MaxPool", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = X->data<T>();
    T* y = Y->data<T>();
    auto index_of = [&](int64_t plane, int64_t off) {
      return plane * p.in_plane + (storage_order == 1 ? ColumnMajorIndex(p, off) : off);
    };
    if (const simd::ReduceKernels* k = PoolSimd<T>(p)) {
      std::vector<float> xbuf, ybuf;
      const float* xf = reduce_internal::StageF32(ctx, x, X->numel(), xbuf);
      float* yf = reduce_internal::StageF32Out(y, Y->numel(), ybuf);
      const size_t Ls = static_cast<size_t>(p.S - 1);
      const int64_t width = p.out[Ls];
      ForEachLine(ctx, p, [&](int64_t plane, int64_t line, const LineWindow& w) {
        const float* xp = xf + plane * p.in_plane;
        const int64_t out0 = plane * p.out_plane + line * width;
        if (!w.simd) {
          for (int64_t ow = 0; ow < width; ++ow) {
            int64_t off = 0;
            yf[out0 + ow] = MaxPoolOne<float>(p, xp, line * width + ow, &off);
            if (indices) indices[out0 + ow] = index_of(plane, off);
          }
          return;
        }
        ForEachLineChunk(w, width, [&](int64_t first, int64_t count, bool partial) {
          simd::PoolLine pl = MakePoolLine(p, w, xp, first, count);
          pl.y = yf + out0 + first;
          pl.partial = partial;
          int32_t terms[kPoolChunk];
          pl.best_term = indices ? terms : nullptr;
          k->max_pool_line(pl);
          for (int64_t j = 0; indices && j < count; ++j) {
            const int64_t t = terms[j];
            const size_t ow = static_cast<size_t>(first + j);
            // A window without input elements (dilated kernel over padding) keeps offset 0.
            const int64_t off = p.k_lo[Ls][ow] >= p.k_hi[Ls][ow]
                                    ? 0
                                    : w.row_off[static_cast<size_t>(t / pl.kw)] + pl.w0 + j * pl.stride +
                                          (t % pl.kw) * pl.dil;
            indices[out0 + first + j] = index_of(plane, off);
          }
        });
      });
      reduce_internal::UnstageF32(ctx, yf, Y->numel(), y);
      return Status::Ok();
    }
    ForEachOutput(ctx, p, [&](int64_t plane, int64_t o, int64_t out_index) {
      int64_t off = 0;
      y[out_index] = Store<T>(MaxPoolOne<T>(p, x + plane * p.in_plane, o, &off));
      if (indices) indices[out_index] = index_of(plane, off);
    });
    return Status::Ok();
  });
}

Status MaxUnpool(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* X, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* I, ctx.InputTensor(1));
  if (X->rank() < 3) return ctx.Error("input X must have shape [N, C, D1, ...], got ", ShapeToString(X->shape()));
  if (I->dtype() != DType::kI64 || I->shape() != X->shape())
    return ctx.Error("indices I must be int64 with X's shape ", ShapeToString(X->shape()), ", got ",
                     DTypeOnnxName(I->dtype()), " ", ShapeToString(I->shape()));
  const int64_t S = X->rank() - 2;
  IDEM_ASSIGN_OR_RETURN(const Attribute* ka, ctx.RequiredAttr("kernel_shape", Attribute::Kind::kInts));
  const std::vector<int64_t> kernel = ka->ints;
  if (static_cast<int64_t>(kernel.size()) != S)
    return ctx.Error("kernel_shape has ", kernel.size(), " values but the input has ", S, " spatial dims");
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> strides, SpatialInts(ctx, "strides", S, 1, 1));
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> pads, SpatialInts(ctx, "pads", 2 * S, 0, 0));
  Shape out_shape = {X->dim(0), X->dim(1)};
  for (int64_t d = 0; d < S; ++d) {
    const size_t i = static_cast<size_t>(d);
    const int64_t o = (X->dim(d + 2) - 1) * strides[i] + kernel[i] - pads[i] - pads[i + static_cast<size_t>(S)];
    if (o < 0) return ctx.Error("spatial dim ", d, ": output size ", o, " is negative");
    out_shape.push_back(o);
  }
  // Indices address the inferred output (flattened over N, C and spatial). An output_shape input
  // larger than the inferred shape pads it at the end of each spatial dim with zeros (the element
  // at inferred coordinates (n, c, i...) lands at the same coordinates of the larger output).
  const Shape inferred = out_shape;
  if (ctx.has_input(2)) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* os, ctx.InputTensor(2));
    if (!IsInt(os->dtype())) return ctx.Error("output_shape must be an integer tensor");
    const std::vector<int64_t> v = os->ToInt64Vector();
    if (static_cast<int64_t>(v.size()) != X->rank() || v[0] != X->dim(0) || v[1] != X->dim(1))
      return ctx.Error("output_shape ", ShapeToString(v), " must have X's rank and X's N and C ",
                       ShapeToString(X->shape()));
    for (size_t d = 2; d < v.size(); ++d)
      if (v[d] < inferred[d])
        return ctx.Error("output_shape ", ShapeToString(v), " is smaller than the shape ", ShapeToString(inferred),
                         " implied by kernel_shape, strides and pads");
    out_shape = v;
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, X->dtype(), out_shape));
  const int64_t* idx = I->data<int64_t>();
  const int64_t limit = NumElements(inferred);
  for (int64_t i = 0; i < I->numel(); ++i)
    if (idx[i] < 0 || idx[i] >= limit)
      return ctx.Error("index ", idx[i], " at position ", i, " is out of range for the unpooled shape ",
                       ShapeToString(inferred));
  const std::vector<int64_t> out_strides = StridesOf(out_shape);
  auto target = [&](int64_t flat) {
    int64_t off = 0;
    for (size_t d = inferred.size(); d-- > 0;) {
      off += (flat % inferred[d]) * out_strides[d];
      flat /= inferred[d];
    }
    return off;
  };
  // Scatter in input order (a later element wins on duplicate indices).
  return VisitDType<types::kFloat>(X->dtype(), "MaxUnpool", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = X->data<T>();
    T* y = Y->data<T>();
    for (int64_t i = 0; i < X->numel(); ++i) y[target(idx[i])] = x[i];
    return Status::Ok();
  });
}

// MaxRoiPool (Caffe/Fast R-CNN): ROI corners are scaled and rounded half away from zero; bin
// (ph, pw) covers rows [floor(ph * bin_h), ceil((ph + 1) * bin_h)) offset by the ROI start and
// clipped to the input; the output is the sequential max (NaN-propagating) over the bin in
// row-major order, or 0 for an empty bin.
Status MaxRoiPool(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* X, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* R, ctx.InputTensor(1));
  if (X->rank() != 4) return ctx.Error("input X must be 4-D [N, C, H, W], got ", ShapeToString(X->shape()));
  if (R->rank() != 2 || R->dim(1) != 5 || R->dtype() != X->dtype())
    return ctx.Error("rois must be [num_rois, 5] of X's type, got ", DTypeOnnxName(R->dtype()), " ",
                     ShapeToString(R->shape()));
  IDEM_ASSIGN_OR_RETURN(const Attribute* ps, ctx.RequiredAttr("pooled_shape", Attribute::Kind::kInts));
  if (ps->ints.size() != 2 || ps->ints[0] < 1 || ps->ints[1] < 1)
    return ctx.Error("pooled_shape must hold two positive values");
  const int64_t PH = ps->ints[0], PW = ps->ints[1];
  const float scale_f = ctx.Float("spatial_scale", 1.0f);
  const int64_t N = X->dim(0), C = X->dim(1), H = X->dim(2), W = X->dim(3);
  const int64_t num_rois = R->dim(0);
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, X->dtype(), Shape{num_rois, C, PH, PW}));
  return VisitDType<types::kFloat>(X->dtype(), "MaxRoiPool", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using Cm = ComputeT<T>;
    const T* x = X->data<T>();
    const T* rois = R->data<T>();
    T* y = Y->data<T>();
    const Cm scale = static_cast<Cm>(scale_f);
    std::vector<int64_t> bounds(static_cast<size_t>(num_rois * 5));
    for (int64_t r = 0; r < num_rois; ++r) {
      Cm v[5];
      for (int j = 0; j < 5; ++j) {
        v[j] = Load<T>(rois[r * 5 + j]);
        if (!std::isfinite(v[j]) || std::abs(v[j]) > Cm(1e15))
          return ctx.Error("roi ", r, " has a non-finite or huge coordinate");
      }
      const int64_t b = static_cast<int64_t>(v[0]);
      if (b < 0 || b >= N || static_cast<Cm>(b) != v[0])
        return ctx.Error("roi ", r, " has batch index ", v[0], " outside [0, ", N, ")");
      bounds[static_cast<size_t>(r * 5)] = b;
      for (int j = 1; j < 5; ++j) {
        const Cm s = RoundHalfAway(v[j] * scale);
        if (!(std::abs(s) < Cm(1e15))) return ctx.Error("roi ", r, " coordinate ", v[j], " overflows after scaling");
        bounds[static_cast<size_t>(r * 5 + j)] = static_cast<int64_t>(s);
      }
    }
    ctx.ParallelFor(num_rois * C, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t r = t / C, c = t % C;
        const int64_t* bd = &bounds[static_cast<size_t>(r * 5)];
        const int64_t x1 = bd[1], y1 = bd[2], x2 = bd[3], y2 = bd[4];
        const int64_t roi_h = std::max<int64_t>(y2 - y1 + 1, 1);
        const int64_t roi_w = std::max<int64_t>(x2 - x1 + 1, 1);
        const Cm bin_h = static_cast<Cm>(roi_h) / static_cast<Cm>(PH);
        const Cm bin_w = static_cast<Cm>(roi_w) / static_cast<Cm>(PW);
        const T* xp = x + (bd[0] * C + c) * H * W;
        T* yp = y + t * PH * PW;
        for (int64_t ph = 0; ph < PH; ++ph) {
          int64_t hs = static_cast<int64_t>(math::floor(static_cast<Cm>(ph) * bin_h));
          int64_t he = static_cast<int64_t>(math::ceil(static_cast<Cm>(ph + 1) * bin_h));
          hs = std::min(std::max<int64_t>(hs + y1, 0), H);
          he = std::min(std::max<int64_t>(he + y1, 0), H);
          for (int64_t pw = 0; pw < PW; ++pw) {
            int64_t ws = static_cast<int64_t>(math::floor(static_cast<Cm>(pw) * bin_w));
            int64_t we = static_cast<int64_t>(math::ceil(static_cast<Cm>(pw + 1) * bin_w));
            ws = std::min(std::max<int64_t>(ws + x1, 0), W);
            we = std::min(std::max<int64_t>(we + x1, 0), W);
            Cm best = 0;
            bool any = false;
            for (int64_t h = hs; h < he; ++h)
              for (int64_t w = ws; w < we; ++w) {
                const Cm v = Load<T>(xp[h * W + w]);
                if (!any || MaxTakes(v, best)) best = v;
                any = true;
              }
            yp[ph * PW + pw] = Store<T>(best);
          }
        }
      }
    });
    return Status::Ok();
  });
}

// RoiAlign (opset 10, 16). Per ROI: start/end = roi * spatial_scale - offset (offset 0.5 for
// coordinate_transformation_mode half_pixel, the opset-16 default; 0 for output_half_pixel, the
// only opset-10 behaviour); output_half_pixel clamps the ROI size to >= 1. Each output bin takes
// grid_h x grid_w samples (sampling_ratio, or ceil(roi_size / output_size)); a sample is the
// bilinear interpolation of its four neighbours (0 outside [-1, size]):
//   v = fma(w4, d4, fma(w3, d3, fma(w2, d2, w1 * d1)))
// avg: CanonicalSum of the samples in (iy, ix) row-major order, divided by max(grid_h*grid_w, 1).
// max: sequential max over samples of max(w1*d1, w2*d2, w3*d3, w4*d4) (the reference definition).
Status RoiAlign(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* X, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* R, ctx.InputTensor(1));
  IDEM_ASSIGN_OR_RETURN(const Tensor* B, ctx.InputTensor(2));
  if (X->rank() != 4) return ctx.Error("input X must be 4-D [N, C, H, W], got ", ShapeToString(X->shape()));
  if (R->rank() != 2 || R->dim(1) != 4 || R->dtype() != X->dtype())
    return ctx.Error("rois must be [num_rois, 4] of X's type, got ", DTypeOnnxName(R->dtype()), " ",
                     ShapeToString(R->shape()));
  if (B->rank() != 1 || B->dim(0) != R->dim(0) || !IsInt(B->dtype()))
    return ctx.Error("batch_indices must be an integer tensor of shape [", R->dim(0), "], got ",
                     DTypeOnnxName(B->dtype()), " ", ShapeToString(B->shape()));
  const std::string mode = ctx.String("mode", "avg");
  if (mode != "avg" && mode != "max") return ctx.Error("unknown mode '", mode, "'");
  const std::string ctm = ctx.opset() >= 16 ? ctx.String("coordinate_transformation_mode", "half_pixel")
                                            : std::string("output_half_pixel");
  if (ctm != "half_pixel" && ctm != "output_half_pixel")
    return ctx.Error("unknown coordinate_transformation_mode '", ctm, "'");
  const int64_t OH = ctx.Int("output_height", 1), OW = ctx.Int("output_width", 1);
  const int64_t sampling = ctx.Int("sampling_ratio", 0);
  if (OH < 1 || OW < 1 || sampling < 0)
    return ctx.Error("output_height/output_width must be >= 1 and sampling_ratio >= 0");
  const float scale_f = ctx.Float("spatial_scale", 1.0f);
  const int64_t N = X->dim(0), C = X->dim(1), H = X->dim(2), W = X->dim(3);
  const int64_t num_rois = R->dim(0);
  for (int64_t r = 0; r < num_rois; ++r) {
    const int64_t b = B->IntAt(r);
    if (b < 0 || b >= N) return ctx.Error("batch_indices[", r, "] = ", b, " is outside [0, ", N, ")");
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, X->dtype(), Shape{num_rois, C, OH, OW}));
  const bool half_pixel = ctm == "half_pixel";
  const bool avg = mode == "avg";
  return VisitDType<types::kFloat>(X->dtype(), "RoiAlign", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using Cm = ComputeT<T>;
    const T* x = X->data<T>();
    const T* rois = R->data<T>();
    T* y = Y->data<T>();
    for (int64_t i = 0; i < R->numel(); ++i)
      if (!std::isfinite(Load<T>(rois[i])) || std::abs(Load<T>(rois[i])) > Cm(1e7))
        return ctx.Error("rois holds a non-finite or huge coordinate ", Load<T>(rois[i]));
    const Cm scale = static_cast<Cm>(scale_f);
    const Cm offset = half_pixel ? Cm(0.5) : Cm(0);
    struct Sample {
      int64_t p1, p2, p3, p4;
      Cm w1, w2, w3, w4;
    };
    // Sample grids per ROI (sampling_ratio 0 derives them from the ROI size): bound the work.
    for (int64_t r = 0; r < num_rois && sampling == 0; ++r) {
      const Cm rw = (Load<T>(rois[r * 4 + 2]) - Load<T>(rois[r * 4])) * scale;
      const Cm rh = (Load<T>(rois[r * 4 + 3]) - Load<T>(rois[r * 4 + 1])) * scale;
      const double grid = (std::abs(static_cast<double>(rw)) / static_cast<double>(OW) + 2.0) *
                          (std::abs(static_cast<double>(rh)) / static_cast<double>(OH) + 2.0);
      if (grid * static_cast<double>(OH * OW) > 268435456.0)
        return ctx.Error("roi ", r, " needs more than 2^28 bilinear samples (sampling_ratio 0 with a huge ROI)");
    }
    if (static_cast<double>(sampling) * static_cast<double>(sampling) * static_cast<double>(OH * OW) > 268435456.0)
      return ctx.Error("sampling_ratio ", sampling, " needs more than 2^28 bilinear samples per ROI");
    ctx.ParallelFor(num_rois, 1, [&](int64_t r0, int64_t r1) {
      std::vector<Sample> samples;
      for (int64_t r = r0; r < r1; ++r) {
        const T* roi = rois + r * 4;
        const Cm sw = Load<T>(roi[0]) * scale - offset, sh = Load<T>(roi[1]) * scale - offset;
        const Cm ew = Load<T>(roi[2]) * scale - offset, eh = Load<T>(roi[3]) * scale - offset;
        Cm rw = ew - sw, rh = eh - sh;
        if (!half_pixel) {
          rw = std::max(rw, Cm(1));
          rh = std::max(rh, Cm(1));
        }
        const Cm bin_h = rh / static_cast<Cm>(OH), bin_w = rw / static_cast<Cm>(OW);
        const int64_t gh = sampling > 0 ? sampling : static_cast<int64_t>(math::ceil(rh / static_cast<Cm>(OH)));
        const int64_t gw = sampling > 0 ? sampling : static_cast<int64_t>(math::ceil(rw / static_cast<Cm>(OW)));
        const int64_t gh_pos = std::max<int64_t>(gh, 0), gw_pos = std::max<int64_t>(gw, 0);
        const int64_t count = std::max<int64_t>(gh_pos * gw_pos, 1);
        // Bilinear samples of every bin (shared by all channels).
        samples.clear();
        for (int64_t ph = 0; ph < OH; ++ph)
          for (int64_t pw = 0; pw < OW; ++pw)
            for (int64_t iy = 0; iy < gh_pos; ++iy) {
              const Cm yy = sh + static_cast<Cm>(ph) * bin_h +
                            (static_cast<Cm>(iy) + Cm(0.5)) * bin_h / static_cast<Cm>(gh_pos);
              for (int64_t ix = 0; ix < gw_pos; ++ix) {
                const Cm xx = sw + static_cast<Cm>(pw) * bin_w +
                              (static_cast<Cm>(ix) + Cm(0.5)) * bin_w / static_cast<Cm>(gw_pos);
                Sample s{0, 0, 0, 0, 0, 0, 0, 0};
                if (!(yy < Cm(-1) || yy > static_cast<Cm>(H) || xx < Cm(-1) || xx > static_cast<Cm>(W))) {
                  Cm yv = std::max(yy, Cm(0)), xv = std::max(xx, Cm(0));
                  int64_t yl = static_cast<int64_t>(yv), xl = static_cast<int64_t>(xv), yh, xh;
                  if (yl >= H - 1) { yh = yl = H - 1; yv = static_cast<Cm>(yl); } else { yh = yl + 1; }
                  if (xl >= W - 1) { xh = xl = W - 1; xv = static_cast<Cm>(xl); } else { xh = xl + 1; }
                  const Cm ly = yv - static_cast<Cm>(yl), lx = xv - static_cast<Cm>(xl);
                  const Cm hy = Cm(1) - ly, hx = Cm(1) - lx;
                  s = Sample{yl * W + xl, yl * W + xh, yh * W + xl, yh * W + xh, hy * hx, hy * lx, ly * hx, ly * lx};
                }
                samples.push_back(s);
              }
            }
        const int64_t per_bin = gh_pos * gw_pos;
        const int64_t b = B->IntAt(r);
        for (int64_t c = 0; c < C; ++c) {
          const T* xp = x + (b * C + c) * H * W;
          T* yp = y + (r * C + c) * OH * OW;
          for (int64_t bin = 0; bin < OH * OW; ++bin) {
            const Sample* sb = samples.data() + bin * per_bin;
            Cm out;
            if (avg) {
              out = CanonicalSum<Cm>(per_bin, [&](int64_t i) {
                const Sample& s = sb[i];
                Cm v = s.w1 * Load<T>(xp[s.p1]);
                v = std::fma(s.w2, Load<T>(xp[s.p2]), v);
                v = std::fma(s.w3, Load<T>(xp[s.p3]), v);
                return std::fma(s.w4, Load<T>(xp[s.p4]), v);
              });
              out = out / static_cast<Cm>(count);
            } else {
              out = 0;
              for (int64_t i = 0; i < per_bin; ++i) {
                const Sample& s = sb[i];
                Cm v = s.w1 * Load<T>(xp[s.p1]);
                for (const Cm u : {s.w2 * Load<T>(xp[s.p2]), s.w3 * Load<T>(xp[s.p3]), s.w4 * Load<T>(xp[s.p4])})
                  if (MaxTakes(u, v)) v = u;
                if (i == 0 || MaxTakes(v, out)) out = v;
              }
            }
            yp[bin] = Store<T>(out);
          }
        }
      }
    });
    return Status::Ok();
  });
}

}  // namespace idem::kernels
