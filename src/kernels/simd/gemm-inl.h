// Per-target f32 GEMM kernels (Highway). Included once per target by gemm.cc through
// foreach_target.h; the order of every output's arithmetic is the one gemm.h states.
//
// Structure of GemmF32 (one call):
//   pack A once into gemm.h's PackA layout (groups of 12 rows, [k][r] within a group; 8x8
//     register transposes), unless the caller packed it (a_packed: constant weights) or it is
//     already in microkernel order (one row, or stored transposed)
//   for each tile of GemmTiles (threads take tiles):
//     for each K block [k0, k0 + kb) (GemmKBlocks: near-equal blocks <= 256, from K only):
//       for each group of `mr` rows (mr <= kMaxRows):       A micro-panel (mr x kb) stays in L1
//         for each run of `np` panels (np <= NpFor(mr)):     B block (kb x tn) streams from L2
//           microkernel: mr x np*16 accumulators in registers, one sequential FMA chain per output
//           over the block's k, starting from 0 (first block) or from the partial stored in C;
//           it prefetches B 16 k ahead into L1 and a slice of the next K block's B into L2.
//   The last K block applies the epilogue (bias, activation) in registers before storing, then
//   the post-store hook (if any) on the block just stored (mr x width, still in L1); a ragged
//   right edge runs on a scratch tile (hook included) and copies the valid columns.
//
// Register blocking (measured on this Xeon; see docs/performance.md): AVX-512 (32 zmm) 12 rows x
// 2 panels = 24 accumulators (14 x 2 measured the same with operands in L1; 12 rows make the
// packed layout's groups whole for AVX2 too); AVX2 (16 ymm) 6 rows x 1 panel (2 vectors) = 12
// accumulators (3 x 2 panels and 4 x 1 measured slower), two calls per packed group. Fewer rows
// take more panels so that enough independent chains stay in flight (1 row x 8 panels on AVX-512).

#if defined(IDEM_KERNELS_SIMD_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef IDEM_KERNELS_SIMD_GEMM_INL_H_
#undef IDEM_KERNELS_SIMD_GEMM_INL_H_
#else
#define IDEM_KERNELS_SIMD_GEMM_INL_H_
#endif

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include <hwy/aligned_allocator.h>
#include <hwy/cache_control.h>
#include <hwy/highway.h>

#include "core/status.h"
#include "core/tensor.h"
#include "kernels/simd/gemm.h"
#include "kernels/simd/gemm_internal.h"
#include "kernels/simd/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace idem::simd {
namespace HWY_NAMESPACE {
#if IDEM_SIMD_TARGET

namespace hn = hwy::HWY_NAMESPACE;

namespace gemm_detail {

constexpr int kLanes = static_cast<int>(HWY_LANES(float));  // 16 (AVX-512) or 8 (AVX2)
constexpr int kVecsPerPanel = static_cast<int>(kGemmPanel) / kLanes;
#if HWY_TARGET == HWY_AVX3
constexpr int kRegs = 32;
constexpr int kMaxRows = 12;
constexpr int kMaxPanels = 8;
#else
constexpr int kRegs = 16;
constexpr int kMaxRows = 6;
constexpr int kMaxPanels = 6;
#endif

// How many k steps ahead the microkernels prefetch B into L1.
constexpr size_t kPrefetchK = 16;

// Panels per microkernel for `mr` rows: the most (up to kMaxPanels) whose accumulators, plus the
// B vectors or A broadcasts live at once, plus one, fit the register file.
constexpr int NpFor(int mr) {
  int best = 1;
  for (int np = 1; np <= kMaxPanels; ++np) {
    const int acc = mr * np * kVecsPerPanel;
    const int live = std::min(mr, np * kVecsPerPanel);
    if (acc + live + 1 <= kRegs) best = np;
  }
  return best;
}

struct MicroArgs {
  size_t kb;           // k steps of this block
  const float* a;      // A micro-panel at the block's first k: A(r, k) = a[k * a_step + r]
  size_t a_step;
  const float* b;      // first panel at the block's first k; panel j at b + j * b_panel_stride
  size_t b_panel_stride;
  float* c;            // C(row r, col j) = c[r * ldc + j]
  size_t ldc;
  bool load_c;         // continue the chains from the partials in C (not the first K block)
  const TileEpilogue* ep;  // non-null on the last K block
  size_t m, n;         // matrix coordinates of c[0] (row bias, column bias)
  // Rows of the next K block's B to bring into L2 meanwhile: rows [0, l2_rows) of each panel at
  // l2_next (same panel stride), one row per k step.
  const float* l2_next;
  size_t l2_rows;
};

template <int MR, int NP>
HWY_NOINLINE void Micro(const MicroArgs& args) {
  constexpr int NV = NP * kVecsPerPanel;
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t kb = args.kb;
  const float* HWY_RESTRICT a = args.a;
  const size_t a_step = args.a_step;
  const float* HWY_RESTRICT b = args.b;
  const size_t bs = args.b_panel_stride;
  float* HWY_RESTRICT c = args.c;
  const size_t ldc = args.ldc;

  V acc[MR][NV];
  if (args.load_c) {
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NV; ++j) acc[r][j] = hn::LoadU(d, c + r * ldc + j * kLanes);
  } else {
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NV; ++j) acc[r][j] = hn::Zero(d);
  }

  // One k step: prefetch B into L1, then the FMAs.
  const auto step = [&](size_t k) HWY_ATTR {
    const float* HWY_RESTRICT bk = b + k * kGemmPanel;
    const float* HWY_RESTRICT ak = a + k * a_step;
    // B streams from L2 (one 64-byte line per panel and k): fetch it kPrefetchK steps ahead.
    // (Prefetching past the end of a panel is harmless: prefetches never fault.)
    for (int p = 0; p < NP; ++p) hwy::Prefetch(bk + p * bs + kPrefetchK * kGemmPanel);
    if constexpr (MR <= NV) {
      // Few rows: keep the A broadcasts, stream the B vectors.
      V av[MR];
      for (int r = 0; r < MR; ++r) av[r] = hn::Set(d, ak[r]);
      for (int j = 0; j < NV; ++j) {
        const V bv = hn::LoadU(d, bk + (j / kVecsPerPanel) * bs + (j % kVecsPerPanel) * kLanes);
        for (int r = 0; r < MR; ++r) acc[r][j] = hn::MulAdd(av[r], bv, acc[r][j]);
      }
    } else {
      // Many rows: keep the B vectors, stream the A broadcasts.
      V bv[NV];
      for (int j = 0; j < NV; ++j)
        bv[j] = hn::LoadU(d, bk + (j / kVecsPerPanel) * bs + (j % kVecsPerPanel) * kLanes);
      for (int r = 0; r < MR; ++r) {
        const V av = hn::Set(d, ak[r]);
        for (int j = 0; j < NV; ++j) acc[r][j] = hn::MulAdd(av, bv[j], acc[r][j]);
      }
    }
  };
  // The first l2_rows steps also bring one row of the next K block's B into L2 each; the
  // rest run without that branch.
  const size_t l2_rows = std::min(args.l2_rows, kb);
  size_t k = 0;
  for (; k < l2_rows; ++k) {
    const float* next = args.l2_next + k * kGemmPanel;
    for (int p = 0; p < NP; ++p) __builtin_prefetch(next + p * bs, 0, 2);
    step(k);
  }
  for (; k < kb; ++k) step(k);

  if (const TileEpilogue* ep = args.ep) {
    if (ep->bias_kind == GemmBias::kPerColumn) {
      for (int j = 0; j < NV; ++j) {
        const V bias = hn::LoadU(d, ep->bias + args.n + j * kLanes);
        for (int r = 0; r < MR; ++r) acc[r][j] = hn::Add(acc[r][j], bias);
      }
    } else if (ep->bias_kind == GemmBias::kPerRow) {
      for (int r = 0; r < MR; ++r) {
        const V bias = hn::Set(d, ep->bias[args.m + r]);
        for (int j = 0; j < NV; ++j) acc[r][j] = hn::Add(acc[r][j], bias);
      }
    }
    // The activations' one definition (math-inl.h), as the unfused Relu / Clip ops compute them.
    if (ep->activation == GemmActivation::kRelu) {
      for (int r = 0; r < MR; ++r)
        for (int j = 0; j < NV; ++j) acc[r][j] = ReluF32(d, acc[r][j]);
    } else if (ep->activation == GemmActivation::kClip) {
      for (int r = 0; r < MR; ++r)
        for (int j = 0; j < NV; ++j) acc[r][j] = ClipF32(d, acc[r][j], ep->clip_lo, ep->clip_hi);
    }
  }

  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NV; ++j) hn::StoreU(acc[r][j], d, c + r * ldc + j * kLanes);
}

using MicroFn = void (*)(const MicroArgs&);

template <int MR, int NP>
constexpr MicroFn MicroOrNull() {
  if constexpr (NP <= NpFor(MR)) {
    return &Micro<MR, NP>;
  } else {
    return nullptr;
  }
}

template <int MR, size_t... I>
constexpr std::array<MicroFn, kMaxPanels + 1> MicroRow(std::index_sequence<I...>) {
  return {nullptr, MicroOrNull<MR, static_cast<int>(I) + 1>()...};
}

template <size_t... R>
constexpr std::array<std::array<MicroFn, kMaxPanels + 1>, kMaxRows + 1> MicroTable(std::index_sequence<R...>) {
  return {std::array<MicroFn, kMaxPanels + 1>{},
          MicroRow<static_cast<int>(R) + 1>(std::make_index_sequence<kMaxPanels>())...};
}

// kMicro[mr][np]: the microkernel for mr rows and np panels (null where np > NpFor(mr)).
constexpr auto kMicro = MicroTable(std::make_index_sequence<kMaxRows>());

constexpr std::array<int, kMaxRows + 1> NpTable() {
  std::array<int, kMaxRows + 1> t{};
  for (int mr = 1; mr <= kMaxRows; ++mr) t[static_cast<size_t>(mr)] = NpFor(mr);
  return t;
}
constexpr auto kNp = NpTable();

// Microkernel calls take kMaxRows rows, which divides kGemmPackRows: a call never straddles two
// packed row groups (tiles start on group boundaries, GemmTiles).
static_assert(kGemmPackRows % kMaxRows == 0, "row groups of the packed A layout must split into calls");

// A as the microkernels read it. Packed: gemm.h's PackA layout, A(m, k) at
// base[(m / 12) * 12 * K + k * 12 + m % 12]. Unpacked: A(m, k) = base[m * row_step + k * k_step]
// where row_step == 1 (A stored transposed) or there is one row.
struct AView {
  const float* base = nullptr;
  int64_t row_step = 0, k_step = 0;
  bool packed = false;
  int64_t K = 0;
  // The micro-panel of the rows [m, m + mr) at k0 (within one packed group), and its k step.
  const float* Panel(int64_t m, int mr, int64_t k0, size_t* step) const {
    (void)mr;
    if (packed) {
      *step = static_cast<size_t>(kGemmPackRows);
      return base + (m / kGemmPackRows) * kGemmPackRows * K + k0 * kGemmPackRows + m % kGemmPackRows;
    }
    *step = static_cast<size_t>(k_step);
    return base + m * row_step + k0 * k_step;
  }
};

// out[k] = (r0[k], ..., r7[k]) for k < 8: an 8 x 8 transpose of 256-bit vectors.
inline void Transpose8x8(hn::Vec<hn::Full256<float>> (&v)[8]) {
  const hn::Full256<float> d;
  const hn::Repartition<uint64_t, decltype(d)> d64;
  using V = hn::Vec<decltype(d)>;
  auto lo64 = [&](V a, V b) { return hn::BitCast(d, hn::InterleaveLower(d64, hn::BitCast(d64, a), hn::BitCast(d64, b))); };
  auto hi64 = [&](V a, V b) { return hn::BitCast(d, hn::InterleaveUpper(d64, hn::BitCast(d64, a), hn::BitCast(d64, b))); };
  // Per 128-bit block: pairs of rows, then quads of rows.
  const V t0 = hn::InterleaveLower(d, v[0], v[1]), t1 = hn::InterleaveUpper(d, v[0], v[1]);
  const V t2 = hn::InterleaveLower(d, v[2], v[3]), t3 = hn::InterleaveUpper(d, v[2], v[3]);
  const V t4 = hn::InterleaveLower(d, v[4], v[5]), t5 = hn::InterleaveUpper(d, v[4], v[5]);
  const V t6 = hn::InterleaveLower(d, v[6], v[7]), t7 = hn::InterleaveUpper(d, v[6], v[7]);
  const V u0 = lo64(t0, t2), u1 = hi64(t0, t2), u2 = lo64(t1, t3), u3 = hi64(t1, t3);  // rows 0-3: k | k+4
  const V u4 = lo64(t4, t6), u5 = hi64(t4, t6), u6 = lo64(t5, t7), u7 = hi64(t5, t7);  // rows 4-7
  v[0] = hn::ConcatLowerLower(d, u4, u0);
  v[1] = hn::ConcatLowerLower(d, u5, u1);
  v[2] = hn::ConcatLowerLower(d, u6, u2);
  v[3] = hn::ConcatLowerLower(d, u7, u3);
  v[4] = hn::ConcatUpperUpper(d, u4, u0);
  v[5] = hn::ConcatUpperUpper(d, u5, u1);
  v[6] = hn::ConcatUpperUpper(d, u6, u2);
  v[7] = hn::ConcatUpperUpper(d, u7, u3);
}

// Packs the rows [s, s + mr) (mr <= 12) of a row-major A (unit k stride) as one group of the
// PackA layout: dst[k * 12 + r] (rows mr..11 of the group are left unwritten; no call reads them).
// Blocks of 8 rows x 8 k are transposed in registers and stored as 8 floats at dst + k*12 + 8b.
// A block with fewer than 8 valid rows also writes floats of later k; stores go to ascending
// addresses and every float is written again later, so only stores that would pass the end of
// the group (dst + K * 12) are shortened.
inline void PackAGroupRowMajor(const GemmF32Args& g, int64_t s, int mr, float* HWY_RESTRICT dst) {
  constexpr int64_t kStep = kGemmPackRows;
  const hn::Full256<float> d;
  using V = hn::Vec<decltype(d)>;
  const int64_t K = g.K;
  const int64_t k8 = K - K % 8;
  const int blocks = (mr + 7) / 8;
  for (int64_t k0 = 0; k0 < k8; k0 += 8) {
    V v[2][8];
    for (int b = 0; b < blocks; ++b) {
      for (int r = 0; r < 8; ++r) {
        const int row = b * 8 + r;
        v[b][r] = row < mr ? hn::LoadU(d, g.a + (s + row) * g.a_row_stride + k0) : hn::Zero(d);
      }
      Transpose8x8(v[b]);
    }
    for (int k = 0; k < 8; ++k)
      for (int b = 0; b < blocks; ++b) {
        float* out = dst + (k0 + k) * kStep + b * 8;
        const int valid = std::min(8, mr - b * 8);
        if (out + 8 <= dst + K * kStep) {
          hn::StoreU(v[b][k], d, out);
        } else {
          alignas(32) float last[8];
          hn::Store(v[b][k], d, last);
          std::memcpy(out, last, sizeof(float) * static_cast<size_t>(valid));
        }
      }
  }
  for (int64_t k = k8; k < K; ++k)
    for (int r = 0; r < mr; ++r) dst[k * kStep + r] = g.a[(s + r) * g.a_row_stride + k];
}

// Packs the rows [m0, m1) of A (m0 a multiple of 12) into `packed` (PackA layout).
inline void PackARows(const GemmF32Args& g, int64_t m0, int64_t m1, float* HWY_RESTRICT packed) {
  const int64_t K = g.K;
  for (int64_t s = m0; s < m1; s += kGemmPackRows) {
    const int mr = static_cast<int>(std::min<int64_t>(kGemmPackRows, m1 - s));
    float* HWY_RESTRICT dst = packed + s * K;
    if (g.a_k_stride == 1) {
      PackAGroupRowMajor(g, s, mr, dst);
      continue;
    }
    for (int64_t k = 0; k < K; ++k)
      for (int r = 0; r < mr; ++r) dst[k * kGemmPackRows + r] = g.a[(s + r) * g.a_row_stride + k * g.a_k_stride];
  }
}

// Rows [m0, m1) x columns [n0, n1) of C, all of K; [m0, m1) is a tile row block.
inline void GemmTile(const GemmF32Args& g, const AView& av, const TileEpilogue& ep, int64_t m0, int64_t m1,
                     int64_t n0, int64_t n1) {
  const int64_t K = g.K;
  KBlocks kblocks = GemmKBlocks(K);
  if (m1 - m0 == 1 && K > 0) {
    // One row (a matrix-vector product): no A micro-panel to keep in L1, so one pass over each
    // panel's whole K, B streaming once (measured +10 % on 1x768x768; the chains are the same).
    kblocks.count = 1;
    kblocks.kc = K;
  }
  const int64_t p0 = n0 / kGemmPanel;
  const int64_t p1 = (n1 + kGemmPanel - 1) / kGemmPanel;
  const size_t b_panel_stride = static_cast<size_t>(K * kGemmPanel);
  alignas(64) float tmp[kMaxRows * kMaxPanels * kGemmPanel];

  for (int64_t blk = 0; blk < kblocks.count; ++blk) {
    const int64_t k0 = blk * kblocks.kc;
    MicroArgs args;
    args.kb = static_cast<size_t>(std::min(kblocks.kc, K - k0));
    args.b_panel_stride = b_panel_stride;
    args.load_c = blk > 0;
    args.ep = blk + 1 == kblocks.count ? &ep : nullptr;
    // While this K block runs, the groups prefetch the next block's B into L2, a slice each.
    const int64_t groups = (m1 - m0 + kMaxRows - 1) / kMaxRows;
    const int64_t next_k0 = k0 + kblocks.kc;
    const int64_t next_kb = blk + 1 < kblocks.count ? std::min(kblocks.kc, K - next_k0) : 0;
    const int64_t slice = (next_kb + groups - 1) / groups;
    auto run = [&](int64_t m, int mr, int64_t p, int np) {
      const MicroFn fn = kMicro[static_cast<size_t>(mr)][static_cast<size_t>(np)];
      const int64_t gi = (m - m0) / kMaxRows;
      const int64_t r0 = std::min(next_kb, gi * slice);
      args.l2_rows = static_cast<size_t>(std::min(next_kb, r0 + slice) - r0);
      args.l2_next = g.packed_b + p * static_cast<int64_t>(b_panel_stride) + (next_k0 + r0) * kGemmPanel;
      args.a = av.Panel(m, mr, k0, &args.a_step);
      args.m = static_cast<size_t>(m);
      const int64_t n = p * kGemmPanel;
      const int64_t width = std::min<int64_t>(np * kGemmPanel, n1 - n);
      args.b = g.packed_b + p * static_cast<int64_t>(b_panel_stride) + k0 * kGemmPanel;
      args.n = static_cast<size_t>(n);
      float* cdst = g.c + m * g.ldc + n;
      if (width == np * kGemmPanel) {
        args.c = cdst;
        args.ldc = static_cast<size_t>(g.ldc);
        fn(args);
        if (args.ep != nullptr && ep.post.fn != nullptr) ep.post.fn(ep.post.ctx, cdst, g.ldc, m, n, mr, width);
      } else {
        // Ragged right edge: run full panels on a scratch tile, copy the valid columns.
        const size_t tld = static_cast<size_t>(np * kGemmPanel);
        if (args.load_c)
          for (int r = 0; r < mr; ++r)
            std::memcpy(tmp + r * tld, cdst + r * g.ldc, sizeof(float) * static_cast<size_t>(width));
        args.c = tmp;
        args.ldc = tld;
        fn(args);
        if (args.ep != nullptr && ep.post.fn != nullptr)
          ep.post.fn(ep.post.ctx, tmp, static_cast<int64_t>(tld), m, n, mr, width);
        for (int r = 0; r < mr; ++r)
          std::memcpy(cdst + r * g.ldc, tmp + r * tld, sizeof(float) * static_cast<size_t>(width));
      }
    };
    // Groups outer, panels inner: the group's A micro-panel stays in L1 while the tile's B
    // block streams from L2 (measured faster here than the transposed order).
    for (int64_t m = m0; m < m1; m += kMaxRows) {
      const int mr = static_cast<int>(std::min<int64_t>(kMaxRows, m1 - m));
      const int np_max = kNp[static_cast<size_t>(mr)];
      for (int64_t p = p0; p < p1; p += np_max) run(m, mr, p, static_cast<int>(std::min<int64_t>(np_max, p1 - p)));
    }
  }
}

}  // namespace gemm_detail

// C = epilogue(A · B) over `grid` (see gemm.h) on `pool`.
void GemmF32(const GemmF32Args& g, const TileEpilogue& ep, const GemmTileGrid& grid, ThreadPool* pool) {
  gemm_detail::AView av;
  av.base = g.a;
  av.row_step = g.a_row_stride;
  av.k_step = g.a_k_stride;
  av.K = g.K;
  // A is read in place when its layout already is the microkernel's: packed by the caller (PackA),
  // one row with unit k stride, or A stored transposed (unit row stride: A(m0 + r, k) =
  // a[k * k_step + m0 + r]).
  AlignedArray<float> packed;
  av.packed = g.a_packed;
  const bool in_place = g.a_packed || (g.M == 1 && g.a_k_stride == 1) || g.a_row_stride == 1;
  if (!in_place && g.K > 0) {
    packed = AllocateAlignedArray<float>(static_cast<size_t>(PackedAFloats(g.M, g.K)));
    IDEM_CHECK(packed != nullptr, "out of memory packing a ", g.M, " x ", g.K, " GEMM operand");
    // Parallel over row groups (the bytes do not depend on the split), about 32K floats per task:
    // with one tile row block (M <= 384, e.g. a transformer's 128 tokens) packing per block would
    // run on one thread while the others wait.
    const int64_t groups = (g.M + kGemmPackRows - 1) / kGemmPackRows;
    const int64_t grain = std::max<int64_t>(1, 32768 / (kGemmPackRows * g.K));
    ParallelForRange(pool, groups, grain, [&](int64_t i0, int64_t i1) {
      gemm_detail::PackARows(g, i0 * kGemmPackRows, std::min(g.M, i1 * kGemmPackRows), packed.get());
    });
    av.base = packed.get();
    av.packed = true;
  }
  ParallelForRange(pool, grid.tiles(), 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t m0 = (t / grid.tiles_n) * grid.tm;
      const int64_t n0 = (t % grid.tiles_n) * grid.tn;
      gemm_detail::GemmTile(g, av, ep, m0, std::min(g.M, m0 + grid.tm), n0, std::min(g.N, n0 + grid.tn));
    }
  });
}

#endif  // IDEM_SIMD_TARGET
}  // namespace HWY_NAMESPACE
}  // namespace idem::simd
HWY_AFTER_NAMESPACE();

#endif  // include guard
