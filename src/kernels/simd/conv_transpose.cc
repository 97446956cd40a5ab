// f32 ConvTranspose on the SIMD targets (see conv_transpose.h): tap classes, weight packing, the
// phase decomposition into GEMMs and the per-ISA dispatch of the column packer
// (conv_transpose-inl.h, compiled here once per target of kernels/simd/targets.h).

#include "kernels/simd/targets.h"  // first: decides the targets foreach_target.h compiles

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/conv_transpose.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/simd/conv_transpose-inl.h"

#if HWY_ONCE

#include <algorithm>
#include <cstring>
#include <vector>

#include <hwy/aligned_allocator.h>

#include "core/status.h"
#include "kernels/simd/conv.h"
#include "kernels/simd/conv_transpose.h"
#include "kernels/simd/gemm.h"

namespace idem::simd {
namespace {

constexpr int kMaxS = kConvTransposeMaxSpatial;
// Floats of zeros before and after the padded input: the packer's unaligned loads of a run of
// columns may touch up to kGemmPanel - 1 floats on either side of what they use.
constexpr int64_t kSlack = kGemmPanel;
// With fewer tasks than this, the tasks run one after the other and each GEMM is parallel
// instead (only speed differs: every output's chain is the same). Row blocks are made smaller to
// reach this many tasks per (sample, group) while each GEMM keeps kMinTaskColumns columns.
constexpr int64_t kMinOuterTasks = 8;
constexpr int64_t kMinTaskColumns = 64;

using PackTileFn = void (*)(const float*, const int64_t*, int64_t, const int64_t*, int64_t, float*);

PackTileFn PackTileFor(Isa isa) {
  PackTileFn fn = nullptr;
  if (isa == Isa::kAvx2) fn = IDEM_SIMD_AVX2_FN(PackConvTransposeTile);
  if (isa == Isa::kAvx512) fn = IDEM_SIMD_AVX512_FN(PackConvTransposeTile);
  IDEM_CHECK(fn != nullptr && IsaSupported(isa), "SIMD ConvTranspose called for ISA ", IsaName(isa));
  return fn;
}

using InterleaveFn = void (*)(const float* const*, const int64_t*, int64_t, int64_t, int64_t, int64_t,
                             const int64_t*, int64_t, int64_t, float*);

InterleaveFn InterleaveFor(Isa isa) {
  InterleaveFn fn = nullptr;
  if (isa == Isa::kAvx2) fn = IDEM_SIMD_AVX2_FN(InterleaveTransposeTile);
  if (isa == Isa::kAvx512) fn = IDEM_SIMD_AVX512_FN(InterleaveTransposeTile);
  IDEM_CHECK(fn != nullptr && IsaSupported(isa), "SIMD ConvTranspose called for ISA ", IsaName(isa));
  return fn;
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The taps of every class: per dim d, taps[d][c] = the k < kernel[d] with (k * dilation) mod
// stride == c, ascending; per class tuple (row-major over the dims), its tap count and the number
// of taps of the tuples before it.
struct TapClasses {
  std::vector<std::vector<int64_t>> taps[kMaxS];
  int64_t classes = 1;
  std::vector<int64_t> count, before;

  // The class tuple's taps, row-major over the dims: dim indices into taps[d][c_d].
  void Decompose(const ConvGeometry& g, int64_t ci, int64_t* c) const {
    for (int d = g.S; d-- > 0;) {
      c[d] = ci % g.strides[d];
      ci /= g.strides[d];
    }
  }
};

TapClasses MakeTapClasses(const ConvGeometry& g) {
  TapClasses tc;
  for (int d = 0; d < g.S; ++d) {
    tc.taps[d].assign(static_cast<size_t>(g.strides[d]), {});
    for (int64_t k = 0; k < g.kernel[d]; ++k)
      tc.taps[d][static_cast<size_t>(k * g.dilations[d] % g.strides[d])].push_back(k);
    tc.classes *= g.strides[d];
  }
  tc.count.resize(static_cast<size_t>(tc.classes));
  tc.before.resize(static_cast<size_t>(tc.classes));
  int64_t total = 0;
  for (int64_t ci = 0; ci < tc.classes; ++ci) {
    int64_t c[kMaxS];
    tc.Decompose(g, ci, c);
    int64_t n = 1;
    for (int d = 0; d < g.S; ++d) n *= static_cast<int64_t>(tc.taps[d][static_cast<size_t>(c[d])].size());
    tc.count[static_cast<size_t>(ci)] = n;
    tc.before[static_cast<size_t>(ci)] = total;
    total += n;
  }
  return tc;
}

// Calls fn(t, idx) for the taps t = 0.. of class tuple c in row-major order, idx[d] being the
// index of the tap in taps[d][c[d]].
template <typename Fn>
void ForEachTap(const ConvGeometry& g, const TapClasses& tc, const int64_t* c, const Fn& fn) {
  int64_t len[kMaxS];
  int64_t total = 1;
  for (int d = 0; d < g.S; ++d) {
    len[d] = static_cast<int64_t>(tc.taps[d][static_cast<size_t>(c[d])].size());
    total *= len[d];
  }
  int64_t idx[kMaxS] = {};
  for (int64_t t = 0; t < total; ++t) {
    fn(t, idx);
    for (int d = g.S; d-- > 0;) {
      if (++idx[d] < len[d]) break;
      idx[d] = 0;
    }
  }
}

// One residue r of one spatial dim: its output count, tap class, and per tap of the class the
// input index of its first output (j = 0), before padding.
struct Residue {
  int64_t n = 0;
  int64_t cls = 0;
  std::vector<int64_t> first;
};

// One phase (a residue per dim): its GEMM's chain length and A operand, and where its taps read.
struct Phase {
  int64_t r[kMaxS] = {};
  int64_t K = 0;          // Cg * taps
  int64_t a_off = 0;      // of the class matrix within a group's packed weights
  std::vector<int64_t> koff;  // per k = (ic, tap): offset in the padded input of the group
};

// One row phase (a residue per outer dim): its phase rows and their blocking into tasks.
struct RowPhase {
  int64_t r[kMaxS] = {}, n[kMaxS] = {};  // outer dims: residue, outputs
  int64_t rows = 0;                      // phase rows (product of n)
  int64_t J = 0, R = 0;                  // positions per last-dim residue, rows per task
  int64_t jblocks = 0, tiles = 0;
};

}  // namespace

bool ConvTransposeSimdSupported(const ConvGeometry& g) {
  if (g.S < 1 || g.S > kConvTransposeMaxSpatial) return false;
  int64_t phases = 1;
  for (int d = 0; d < g.S; ++d) {
    if (g.kernel[d] < 1 || g.strides[d] < 1 || g.dilations[d] < 1) return false;
    if (g.strides[d] > kConvTransposeMaxPhases) return false;
    phases *= g.strides[d];
    if (phases > kConvTransposeMaxPhases) return false;
  }
  return true;
}

namespace {
// Rows of the packed class matrices: OCg rounded up to the GEMM's packed row groups.
int64_t PackedRows(const ConvGeometry& g) { return (g.OCg + kGemmPackRows - 1) / kGemmPackRows * kGemmPackRows; }
}  // namespace

int64_t ConvTransposePackedWeightFloats(const ConvGeometry& g) { return g.G * g.Cg * PackedRows(g) * g.KernelSize(); }

void PackConvTransposeWeights(const ConvGeometry& g, const float* w, float* packed) {
  IDEM_CHECK(ConvTransposeSimdSupported(g), "ConvTranspose weight packing for an unsupported geometry");
  const TapClasses tc = MakeTapClasses(g);
  const int64_t ks = g.KernelSize();
  int64_t kstride[kMaxS];
  for (int64_t d = g.S, s = 1; d-- > 0;) {
    kstride[d] = s;
    s *= g.kernel[d];
  }
  std::vector<int64_t> kpos;
  for (int64_t ci = 0; ci < tc.classes; ++ci) {
    int64_t c[kMaxS];
    tc.Decompose(g, ci, c);
    kpos.clear();
    ForEachTap(g, tc, c, [&](int64_t, const int64_t* idx) {
      int64_t p = 0;
      for (int d = 0; d < g.S; ++d)
        p += tc.taps[d][static_cast<size_t>(c[d])][static_cast<size_t>(idx[d])] * kstride[d];
      kpos.push_back(p);
    });
    const int64_t nt = static_cast<int64_t>(kpos.size());
    const int64_t kc = g.Cg * nt;  // the class matrix: A(m, ic * nt + t), OCg x kc, in gemm.h's PackA layout
    const int64_t rows = PackedRows(g);
    for (int64_t grp = 0; grp < g.G; ++grp) {
      float* dst = packed + grp * g.Cg * rows * ks + g.Cg * rows * tc.before[static_cast<size_t>(ci)];
      for (int64_t m = g.OCg; m < rows; ++m)  // the padding rows of the last group
        for (int64_t k = 0; k < kc; ++k) dst[(m / kGemmPackRows) * kGemmPackRows * kc + k * kGemmPackRows + m % kGemmPackRows] = 0.0f;
      for (int64_t ic = 0; ic < g.Cg; ++ic) {
        const float* src = w + (grp * g.Cg + ic) * g.OCg * ks;
        for (int64_t t = 0; t < nt; ++t)
          for (int64_t m = 0; m < g.OCg; ++m)
            dst[(m / kGemmPackRows) * kGemmPackRows * kc + (ic * nt + t) * kGemmPackRows + m % kGemmPackRows] =
                src[m * ks + kpos[static_cast<size_t>(t)]];
      }
    }
  }
}

void ConvTransposeF32(Isa isa, const ConvGeometry& g, const float* x, const float* packed_w, const float* bias,
                      float* y, ThreadPool* pool) {
  IDEM_CHECK(ConvTransposeSimdSupported(g), "SIMD ConvTranspose for an unsupported geometry (rank ", g.S, ")");
  const int S = g.S;
  const int64_t C = g.G * g.Cg, OC = g.G * g.OCg;
  const int64_t out_plane = g.OutPlane(), in_plane = g.InPlane(), ks = g.KernelSize();
  if (g.N == 0 || OC == 0 || out_plane == 0) return;
  const PackTileFn pack = PackTileFor(isa);  // dispatch once per call
  const InterleaveFn interleave = InterleaveFor(isa);
  const TapClasses tc = MakeTapClasses(g);

  // Per dim: the residues, and the zero-padded input extent every phase-aligned source position
  // of every output falls in: [-pb, extent - pb).
  std::vector<Residue> res[kMaxS];
  int64_t pb[kMaxS], pdim[kMaxS];
  for (int d = 0; d < S; ++d) {
    const int64_t s = g.strides[d];
    int64_t lo = 0, hi = g.in[d];
    res[d].resize(static_cast<size_t>(s));
    for (int64_t r = 0; r < s; ++r) {
      Residue& R = res[d][static_cast<size_t>(r)];
      R.n = r < g.out[d] ? CeilDiv(g.out[d] - r, s) : 0;
      R.cls = (r + g.pads[d]) % s;
      for (int64_t k : tc.taps[d][static_cast<size_t>(R.cls)]) {
        const int64_t first = (r + g.pads[d] - k * g.dilations[d]) / s;  // exact: divisible by s
        R.first.push_back(first);
        if (R.n > 0) {
          lo = std::min(lo, first);
          hi = std::max(hi, first + R.n);
        }
      }
    }
    pb[d] = -lo;
    pdim[d] = hi - lo;
  }
  int64_t pstride[kMaxS], ostride[kMaxS];
  int64_t pplane = 1, oplane = 1;
  for (int d = S; d-- > 0;) {
    pstride[d] = pplane;
    pplane *= pdim[d];
    ostride[d] = oplane;
    oplane *= g.out[d];
  }

  // The phases (row-major over the dims' residues, the last dim fastest) and their GEMMs.
  const int64_t num_phases = tc.classes;
  std::vector<Phase> phases(static_cast<size_t>(num_phases));
  for (int64_t pi = 0; pi < num_phases; ++pi) {
    Phase& ph = phases[static_cast<size_t>(pi)];
    int64_t c[kMaxS];
    tc.Decompose(g, pi, ph.r);
    int64_t ci = 0;
    for (int d = 0; d < S; ++d) {
      const Residue& R = res[d][static_cast<size_t>(ph.r[d])];
      c[d] = R.cls;
      ci = ci * g.strides[d] + R.cls;
    }
    const int64_t nt = tc.count[static_cast<size_t>(ci)];
    ph.K = g.Cg * nt;
    ph.a_off = g.Cg * PackedRows(g) * tc.before[static_cast<size_t>(ci)];
    ph.koff.resize(static_cast<size_t>(ph.K));
    ForEachTap(g, tc, c, [&](int64_t t, const int64_t* idx) {
      int64_t off = 0;
      for (int d = 0; d < S; ++d)
        off += (pb[d] + res[d][static_cast<size_t>(ph.r[d])].first[static_cast<size_t>(idx[d])]) * pstride[d];
      for (int64_t ic = 0; ic < g.Cg; ++ic) ph.koff[static_cast<size_t>(ic * nt + t)] = ic * pplane + off;
    });
  }

  // Row phases: the residues of the outer dims. A row phase has `rows` phase rows (one output
  // row each, all residues of the last dim); a task takes a block of R rows and, of each row,
  // the positions j in [jb, jb + J) of every last-dim residue: s_L GEMMs of up to R x J columns,
  // whose results InterleaveTransposeTile writes as whole output row segments.
  const int L = S - 1;
  const int64_t sL = g.strides[L];
  const int64_t nL_max = res[L][0].n;  // residue 0 has the most outputs
  const int64_t num_rows_phases = num_phases / sL;
  std::vector<RowPhase> rps(static_cast<size_t>(num_rows_phases));
  std::vector<int64_t> tile_before(static_cast<size_t>(num_rows_phases) + 1, 0);
  size_t buf_floats = 1, ctile_floats = 1;
  int64_t max_rows = 1, max_cols = 1;
  bool direct = true;  // all strides 1: the GEMM writes y in place (when it covers whole rows)
  for (int d = 0; d < S; ++d) direct = direct && g.strides[d] == 1;
  for (int64_t q = 0; q < num_rows_phases; ++q) {
    RowPhase& rp = rps[static_cast<size_t>(q)];
    const Phase& first = phases[static_cast<size_t>(q * sL)];
    rp.rows = 1;
    for (int d = 0; d < L; ++d) {
      rp.r[d] = first.r[d];
      rp.n[d] = res[d][static_cast<size_t>(first.r[d])].n;
      rp.rows *= rp.n[d];
    }
    int64_t k_max = 0;
    for (int64_t r = 0; r < sL; ++r) k_max = std::max(k_max, phases[static_cast<size_t>(q * sL + r)].K);
    if (rp.rows == 0 || nL_max == 0) continue;  // no outputs in this row phase
    // Columns per task over all residues: a conv tile per residue for s_L <= 2, two beyond.
    const int64_t budget = ConvTileColumns(k_max) * std::min<int64_t>(sL, 2);
    const int64_t per_residue = std::max<int64_t>(kGemmPanel, budget / sL / kGemmPanel * kGemmPanel);
    rp.J = std::min(nL_max, per_residue);
    rp.R = std::clamp<int64_t>(budget / (rp.J * sL), 1, rp.rows);
    rp.jblocks = CeilDiv(nL_max, rp.J);
    rp.tiles = CeilDiv(rp.rows, rp.R) * rp.jblocks;
  }
  // Fewer than kMinOuterTasks tasks per (sample, group): halve the row blocks while a residue's
  // GEMM keeps at least kMinTaskColumns columns, so that threads can take whole tasks (packing
  // included) rather than share each GEMM.
  for (bool changed = true; changed;) {
    int64_t total = 0;
    for (const RowPhase& rp : rps) total += rp.tiles;
    if (total >= kMinOuterTasks) break;
    changed = false;
    for (RowPhase& rp : rps) {
      if (rp.tiles == 0 || rp.R == 1 || CeilDiv(rp.R, 2) * rp.J < kMinTaskColumns) continue;
      rp.R = CeilDiv(rp.R, 2);
      rp.tiles = CeilDiv(rp.rows, rp.R) * rp.jblocks;
      changed = true;
    }
  }
  for (int64_t q = 0; q < num_rows_phases; ++q) {
    const RowPhase& rp = rps[static_cast<size_t>(q)];
    if (rp.tiles == 0) continue;
    size_t ct = 0;
    for (int64_t r = 0; r < sL; ++r) {
      const Phase& ph = phases[static_cast<size_t>(q * sL + r)];
      const int64_t cols = rp.R * std::min(rp.J, res[L][static_cast<size_t>(r)].n);
      buf_floats = std::max(buf_floats, static_cast<size_t>(PackedBFloats(ph.K, cols)));
      max_cols = std::max(max_cols, cols);
      ct += static_cast<size_t>(g.OCg * cols);
    }
    ctile_floats = std::max(ctile_floats, ct);
    max_rows = std::max(max_rows, rp.R);
  }
  for (size_t q = 0; q < rps.size(); ++q) tile_before[q + 1] = tile_before[q] + rps[q].tiles;
  const int64_t tiles_per_plane = tile_before.back();
  const int64_t tasks = g.N * g.G * tiles_per_plane;
  if (tasks == 0) return;

  // The zero-padded input of every sample and channel, with kSlack zeros before and after.
  hwy::AlignedFreeUniquePtr<float[]> padded =
      hwy::AllocateAligned<float>(static_cast<size_t>(g.N * C * pplane + 2 * kSlack));
  float* xp = padded.get() + kSlack;
  std::fill(padded.get(), xp, 0.0f);
  std::fill(xp + g.N * C * pplane, xp + g.N * C * pplane + kSlack, 0.0f);
  {
    const int64_t W = g.in[L];
    const int64_t in_rows = in_plane / std::max<int64_t>(W, 1);
    const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(pplane, 1));
    ParallelForRange(pool, g.N * C, grain, [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        float* dst = xp + ch * pplane;
        std::fill(dst, dst + pplane, 0.0f);
        for (int64_t row = 0; row < in_rows; ++row) {
          int64_t rem = row, off = pb[L];
          for (int d = L; d-- > 0;) {
            off += (rem % g.in[d] + pb[d]) * pstride[d];
            rem /= g.in[d];
          }
          std::memcpy(dst + off, x + ch * in_plane + row * W, sizeof(float) * static_cast<size_t>(W));
        }
      }
    });
  }

  struct Scratch {
    hwy::AlignedFreeUniquePtr<float[]> buf, ctile;
    std::vector<int64_t> colbase, rowo, rowp;
  };
  auto make_scratch = [&]() {
    Scratch sc;
    sc.buf = hwy::AllocateAligned<float>(buf_floats);
    sc.ctile = hwy::AllocateAligned<float>(ctile_floats);
    sc.colbase.resize(static_cast<size_t>(max_cols));
    sc.rowo.resize(static_cast<size_t>(max_rows));
    sc.rowp.resize(static_cast<size_t>(max_rows));
    return sc;
  };
  auto run = [&](int64_t t, Scratch& sc, ThreadPool* inner) {
    const int64_t plane_task = t % tiles_per_plane;
    const int64_t grp = (t / tiles_per_plane) % g.G;
    const int64_t n = t / tiles_per_plane / g.G;
    const int64_t q = std::upper_bound(tile_before.begin(), tile_before.end(), plane_task) - tile_before.begin() - 1;
    const RowPhase& rp = rps[static_cast<size_t>(q)];
    const int64_t tile = plane_task - tile_before[static_cast<size_t>(q)];
    const int64_t q0 = tile / rp.jblocks * rp.R;
    const int64_t jb = tile % rp.jblocks * rp.J;
    const int64_t rows = std::min(rp.R, rp.rows - q0);
    // Per phase row: the output offset of its first position, the padded input offset of j = 0.
    {
      int64_t jo[kMaxS];
      int64_t rem = q0;
      for (int d = L; d-- > 0;) {
        jo[d] = rem % rp.n[d];
        rem /= rp.n[d];
      }
      for (int64_t row = 0; row < rows; ++row) {
        int64_t o = 0, pofs = 0;
        for (int d = 0; d < L; ++d) {
          o += (rp.r[d] + jo[d] * g.strides[d]) * ostride[d];
          pofs += jo[d] * pstride[d];
        }
        sc.rowo[static_cast<size_t>(row)] = o;
        sc.rowp[static_cast<size_t>(row)] = pofs;
        for (int d = L; d-- > 0;) {
          if (++jo[d] < rp.n[d]) break;
          jo[d] = 0;
        }
      }
    }
    float* yg = y + (n * OC + grp * g.OCg) * out_plane;
    const float* xg = xp + (n * C + grp * g.Cg) * pplane;
    const bool in_place = direct && rp.J == nL_max;  // whole consecutive output rows
    constexpr int kMaxInline = 8;
    const float* c_inline[kMaxInline];
    int64_t j_inline[kMaxInline];
    std::vector<const float*> c_heap;
    std::vector<int64_t> j_heap;
    const float** cr = c_inline;
    int64_t* jr = j_inline;
    if (sL > kMaxInline) {
      c_heap.resize(static_cast<size_t>(sL));
      j_heap.resize(static_cast<size_t>(sL));
      cr = c_heap.data();
      jr = j_heap.data();
    }
    float* ctile = sc.ctile.get();
    for (int64_t r = 0; r < sL; ++r) {
      const int64_t J = std::clamp<int64_t>(res[L][static_cast<size_t>(r)].n - jb, 0, rp.J);
      const int64_t cnt = rows * J;
      jr[r] = J;
      cr[r] = ctile;
      if (cnt == 0) continue;
      const Phase& ph = phases[static_cast<size_t>(q * sL + r)];
      float* c = ctile;
      int64_t ldc = cnt;
      if (in_place) {
        c = yg + sc.rowo[0];
        ldc = out_plane;
      } else {
        ctile += g.OCg * cnt;
      }
      if (ph.K == 0) {  // no tap reaches these outputs: the empty chain, +0, then the bias
        for (int64_t m = 0; m < g.OCg; ++m)
          std::fill(c + m * ldc, c + m * ldc + cnt, bias != nullptr ? 0.0f + bias[grp * g.OCg + m] : 0.0f);
        continue;
      }
      int64_t* colbase = sc.colbase.data();
      for (int64_t row = 0; row < rows; ++row) {
        const int64_t base = sc.rowp[static_cast<size_t>(row)] + jb;
        for (int64_t jj = 0; jj < J; ++jj) colbase[row * J + jj] = base + jj;
      }
      pack(xg, ph.koff.data(), ph.K, colbase, cnt, sc.buf.get());
      GemmF32Args a;
      a.M = g.OCg;
      a.N = cnt;
      a.K = ph.K;
      a.a = packed_w + grp * g.Cg * PackedRows(g) * ks + ph.a_off;  // the class matrix, PackA layout
      a.a_packed = true;
      a.packed_b = sc.buf.get();
      a.c = c;
      a.ldc = ldc;
      if (bias != nullptr) {
        a.epilogue.bias_kind = GemmBias::kPerRow;
        a.epilogue.bias = bias + grp * g.OCg;
      }
      GemmF32PackedB(isa, a, inner);
    }
    if (in_place) return;
    const int64_t o0 = jb * sL;
    if (inner == nullptr) {
      interleave(cr, jr, sL, rows, 0, g.OCg, sc.rowo.data(), o0, out_plane, yg);
    } else {
      ParallelForRange(inner, g.OCg, std::max<int64_t>(1, 16384 / std::max<int64_t>(rows * rp.J * sL, 1)),
                       [&](int64_t m0, int64_t m1) {
                         interleave(cr, jr, sL, rows, m0, m1, sc.rowo.data(), o0, out_plane, yg);
                       });
    }
  };
  if (tasks >= kMinOuterTasks || pool == nullptr) {
    ParallelForRange(pool, tasks, 1, [&](int64_t t0, int64_t t1) {
      Scratch sc = make_scratch();
      for (int64_t t = t0; t < t1; ++t) run(t, sc, nullptr);
    });
  } else {
    Scratch sc = make_scratch();
    for (int64_t t = 0; t < tasks; ++t) run(t, sc, pool);
  }
}

}  // namespace idem::simd

#endif  // HWY_ONCE
