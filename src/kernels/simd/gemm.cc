// f32 GEMM: packing, the tile grid, the scalar reference path and the per-ISA dispatch.
// The SIMD kernels are in gemm-inl.h, compiled here once per target of kernels/simd/targets.h.

#include "kernels/simd/targets.h"  // first: decides the targets foreach_target.h compiles

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/gemm.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/simd/gemm-inl.h"

#if HWY_ONCE

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/status.h"
#include "kernels/simd/gemm.h"
#include "kernels/simd/gemm_internal.h"

namespace idem::simd {
namespace {

using GemmFn = void (*)(const GemmF32Args&, const TileEpilogue&, const GemmTileGrid&, ThreadPool*);

// Scalar reference path (Isa::kScalar): the canonical chain, element by element, with std::fma.
void GemmF32TilesScalar(const GemmF32Args& g, const TileEpilogue& tep, const GemmTileGrid& grid, int64_t t0,
                        int64_t t1) {
  GemmEpilogue ep;
  ep.bias_kind = tep.bias_kind;
  ep.bias = tep.bias;
  ep.activation = tep.activation;
  ep.clip_lo = tep.clip_lo;
  ep.clip_hi = tep.clip_hi;
  // The post-store hook runs per stored block (below), not per element.
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t m0 = (t / grid.tiles_n) * grid.tm;
    const int64_t n0 = (t % grid.tiles_n) * grid.tn;
    const int64_t m1 = std::min(g.M, m0 + grid.tm);
    const int64_t n1 = std::min(g.N, n0 + grid.tn);
    for (int64_t m = m0; m < m1; ++m) {
      // A(m, k) = a[k * a_k]
      const float* a = g.a + m * g.a_row_stride;
      int64_t a_k = g.a_k_stride;
      if (g.a_packed) {
        a = g.a + (m / kGemmPackRows) * kGemmPackRows * g.K + m % kGemmPackRows;
        a_k = kGemmPackRows;
      }
      for (int64_t n = n0; n < n1; n += kGemmPanel) {
        const int64_t width = std::min(kGemmPanel, n1 - n);
        const float* b = g.packed_b + (n / kGemmPanel) * g.K * kGemmPanel;
        float acc[kGemmPanel] = {};
        for (int64_t k = 0; k < g.K; ++k) {
          const float x = a[k * a_k];
          for (int64_t j = 0; j < width; ++j) acc[j] = std::fma(x, b[k * kGemmPanel + j], acc[j]);
        }
        for (int64_t j = 0; j < width; ++j) g.c[m * g.ldc + n + j] = GemmEpilogueScalar(ep, acc[j], m, n + j);
        if (tep.post.fn != nullptr) tep.post.fn(tep.post.ctx, g.c + m * g.ldc + n, g.ldc, m, n, 1, width);
      }
    }
  }
}

void GemmF32Scalar(const GemmF32Args& g, const TileEpilogue& ep, const GemmTileGrid& grid, ThreadPool* pool) {
  ParallelForRange(pool, grid.tiles(), 1, [&](int64_t t0, int64_t t1) { GemmF32TilesScalar(g, ep, grid, t0, t1); });
}

GemmFn GemmFor(Isa isa) {
  GemmFn fn = nullptr;
  switch (isa) {
    case Isa::kScalar:
      fn = &GemmF32Scalar;
      break;
    case Isa::kAvx2:
      fn = IDEM_SIMD_AVX2_FN(GemmF32);
      break;
    case Isa::kAvx512:
      fn = IDEM_SIMD_AVX512_FN(GemmF32);
      break;
  }
  IDEM_CHECK(fn != nullptr && IsaSupported(isa), "GEMM called for unsupported ISA ", IsaName(isa));
  return fn;
}

int64_t RoundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
int64_t CeilDiv(int64_t x, int64_t d) { return (x + d - 1) / d; }

// Grid constants (shape-only, R3). Tiles at most kTileM x kTileN; split further along N (not
// below kMinTileN) while there are fewer than kMinTiles tiles of at least kMinTileFmas FMAs.
constexpr int64_t kTileM = 384;
constexpr int64_t kTileN = 512;
constexpr int64_t kMinTileN = 64;
constexpr int64_t kMinTiles = 16;
constexpr int64_t kMinTileFmas = int64_t{1} << 20;

}  // namespace

GemmTileGrid GemmTiles(int64_t M, int64_t N, int64_t K) {
  GemmTileGrid grid;
  if (M <= 0 || N <= 0) return grid;
  grid.tiles_m = CeilDiv(M, kTileM);
  grid.tm = RoundUp(CeilDiv(M, grid.tiles_m), kGemmPackRows);  // tiles start on packed row groups
  grid.tiles_m = CeilDiv(M, grid.tm);
  grid.tiles_n = CeilDiv(N, kTileN);
  grid.tn = RoundUp(CeilDiv(N, grid.tiles_n), kGemmPanel);
  const int64_t k = std::max<int64_t>(K, 1);
  while (grid.tiles() < kMinTiles) {
    const int64_t tn = RoundUp(grid.tn / 2, kGemmPanel);
    if (tn < kMinTileN || grid.tm * tn * k < kMinTileFmas) break;
    grid.tn = tn;
    grid.tiles_n = CeilDiv(N, tn);
  }
  grid.tiles_n = CeilDiv(N, grid.tn);
  return grid;
}

void PackB(const float* b, int64_t K, int64_t N, int64_t k_stride, int64_t n_stride, float* packed, ThreadPool* pool) {
  const int64_t panels = CeilDiv(N, kGemmPanel);
  // About 64K floats per parallel task.
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(K * kGemmPanel, 1));
  ParallelForRange(pool, panels, grain, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float* dst = packed + p * K * kGemmPanel;
      const int64_t n0 = p * kGemmPanel;
      const int64_t width = std::min(kGemmPanel, N - n0);
      for (int64_t k = 0; k < K; ++k) {
        const float* src = b + k * k_stride + n0 * n_stride;
        float* row = dst + k * kGemmPanel;
        if (n_stride == 1) {
          std::memcpy(row, src, sizeof(float) * static_cast<size_t>(width));
        } else {
          for (int64_t j = 0; j < width; ++j) row[j] = src[j * n_stride];
        }
        for (int64_t j = width; j < kGemmPanel; ++j) row[j] = 0.0f;
      }
    }
  });
}

void PackA(const float* a, int64_t M, int64_t K, int64_t row_stride, int64_t k_stride, float* packed,
           ThreadPool* pool) {
  const int64_t groups = CeilDiv(M, kGemmPackRows);
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(K * kGemmPackRows, 1));
  ParallelForRange(pool, groups, grain, [&](int64_t g0, int64_t g1) {
    for (int64_t gi = g0; gi < g1; ++gi) {
      float* dst = packed + gi * kGemmPackRows * K;
      const int64_t m0 = gi * kGemmPackRows;
      const int64_t rows = std::min(kGemmPackRows, M - m0);
      for (int64_t k = 0; k < K; ++k) {
        float* out = dst + k * kGemmPackRows;
        for (int64_t r = 0; r < rows; ++r) out[r] = a[(m0 + r) * row_stride + k * k_stride];
        for (int64_t r = rows; r < kGemmPackRows; ++r) out[r] = 0.0f;
      }
    }
  });
}

void GemmF32PackedB(const GemmF32Args& args, ThreadPool* pool) { GemmF32PackedB(CurrentIsa(), args, pool); }

void GemmF32PackedB(Isa isa, const GemmF32Args& args, ThreadPool* pool) {
  const GemmTileGrid grid = GemmTiles(args.M, args.N, args.K);
  if (grid.tiles() == 0) return;
  const GemmFn fn = GemmFor(isa);  // dispatch once per call
  TileEpilogue ep;
  ep.bias_kind = args.epilogue.bias_kind;
  ep.bias = args.epilogue.bias;
  ep.activation = args.epilogue.activation;
  ep.clip_lo = args.epilogue.clip_lo;
  ep.clip_hi = args.epilogue.clip_hi;
  ep.post = args.epilogue.post;
  std::vector<float> padded_bias;
  if (ep.bias_kind == GemmBias::kPerColumn && args.N % kGemmPanel != 0) {
    padded_bias.assign(static_cast<size_t>(RoundUp(args.N, kGemmPanel)), 0.0f);
    std::memcpy(padded_bias.data(), ep.bias, sizeof(float) * static_cast<size_t>(args.N));
    ep.bias = padded_bias.data();
  }
  fn(args, ep, grid, pool);
}

void BatchedGemmF32(Isa isa, int64_t batches, int64_t M, int64_t N, int64_t K, const float* a, const int64_t* a_off,
                    int64_t a_row_stride, int64_t a_k_stride, const float* b, const int64_t* b_off, float* y,
                    ThreadPool* pool) {
  if (batches <= 0 || M <= 0 || N <= 0) return;
  const size_t packed_floats = static_cast<size_t>(PackedBFloats(K, N));
  bool shared_b = true;
  for (int64_t i = 1; i < batches && shared_b; ++i) shared_b = b_off[i] == b_off[0];
  std::vector<float> shared;
  if (shared_b) {
    shared.resize(packed_floats);
    PackB(b + b_off[0], K, N, N, 1, shared.data(), pool);
  }
  auto product = [&](int64_t i, std::vector<float>& scratch, ThreadPool* inner) {
    const float* packed = shared.data();
    if (!shared_b) {
      scratch.resize(packed_floats);
      PackB(b + b_off[i], K, N, N, 1, scratch.data(), inner);
      packed = scratch.data();
    }
    GemmF32Args args;
    args.M = M;
    args.N = N;
    args.K = K;
    args.a = a + a_off[i];
    args.a_row_stride = a_row_stride;
    args.a_k_stride = a_k_stride;
    args.packed_b = packed;
    args.c = y + i * M * N;
    args.ldc = N;
    GemmF32PackedB(isa, args, inner);
  };
  // Products with few tiles are spread over threads whole; larger ones one by one, tiled.
  if (batches == 1 || GemmTiles(M, N, K).tiles() >= 4) {
    std::vector<float> scratch;
    for (int64_t i = 0; i < batches; ++i) product(i, scratch, pool);
  } else {
    ParallelForRange(pool, batches, 1, [&](int64_t i0, int64_t i1) {
      std::vector<float> scratch;
      for (int64_t i = i0; i < i1; ++i) product(i, scratch, nullptr);
    });
  }
}

}  // namespace idem::simd

#endif  // HWY_ONCE
