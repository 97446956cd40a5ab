// Per-target ConvTranspose code (Highway), included once per target by
// kernels/simd/conv_transpose.cc through foreach_target.h:
//  - PackConvTransposeTile: the stride-1 im2col of one phase's column tile into the GEMM's
//    16-column panels;
//  - InterleaveTransposeTile: the GEMM results of the last dim's phases, interleaved into whole
//    output row segments.
// Neither does arithmetic: the FMA chains are the GEMM's.

#if defined(IDEM_KERNELS_SIMD_CONV_TRANSPOSE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef IDEM_KERNELS_SIMD_CONV_TRANSPOSE_INL_H_
#undef IDEM_KERNELS_SIMD_CONV_TRANSPOSE_INL_H_
#else
#define IDEM_KERNELS_SIMD_CONV_TRANSPOSE_INL_H_
#endif

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include <hwy/highway.h>

#include "kernels/simd/gemm.h"

HWY_BEFORE_NAMESPACE();
namespace idem::simd {
namespace HWY_NAMESPACE {
#if IDEM_SIMD_TARGET

namespace hn = hwy::HWY_NAMESPACE;

namespace conv_transpose_detail {
// A vector whose lanes come from at most this many contiguous runs of the input is assembled
// from one unaligned load per run and blends; more runs are gathered.
constexpr int kMaxRuns = 4;
}  // namespace conv_transpose_detail

// Packs `count` columns into GEMM panels (layout of gemm.h PackB): column c, row k is
// xp[colbase[c] + koff[k]]; columns past `count` in the last panel are +0. Lanes whose columns
// are consecutive in the input (one row of the phase) are read with one unaligned vector load
// per run of consecutive columns, so up to kGemmPanel - 1 floats before the first and after the
// last element read may be touched: the caller's buffer must have that much slack on both ends.
void PackConvTransposeTile(const float* xp, const int64_t* koff, int64_t K, const int64_t* colbase, int64_t count,
                           float* tile) {
  using conv_transpose_detail::kMaxRuns;
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  using V = hn::Vec<decltype(d)>;
  using M = hn::Mask<decltype(d)>;
  constexpr int64_t kPanel = kGemmPanel;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const int64_t nv = kPanel / L;
  for (int64_t c0 = 0; c0 < count; c0 += kPanel) {
    float* panel = tile + (c0 / kPanel) * K * kPanel;
    const int64_t n = std::min(kPanel, count - c0);
    const int64_t* cb = colbase + c0;
    for (int64_t v = 0; v < nv; ++v) {
      float* dst = panel + v * L;
      const int64_t l0 = v * L;
      const int64_t valid = std::clamp<int64_t>(n - l0, 0, L);
      if (valid == 0) {
        const V zero = hn::Zero(d);
        for (int64_t k = 0; k < K; ++k) hn::StoreU(zero, d, dst + k * kPanel);
        continue;
      }
      // Runs: lane i reads xp[base + l0 + i + koff[k]] with base = cb[l] - l, constant along a run.
      int64_t base[kMaxRuns];
      int runs = 0;
      HWY_ALIGN int32_t run_of[HWY_LANES(float)];
      bool gather = false;
      for (int64_t i = 0; i < L; ++i) {
        run_of[i] = -1;
        if (i >= valid) continue;
        const int64_t b = cb[l0 + i] - (l0 + i);
        if (runs > 0 && base[runs - 1] == b) {
          run_of[i] = runs - 1;
        } else if (runs < kMaxRuns) {
          base[runs] = b;
          run_of[i] = runs++;
        } else {
          gather = true;
        }
      }
      if (!gather) {
        if (runs == 1 && valid == L) {  // within one row of the phase: a copy
          const float* src = xp + base[0] + l0;
          for (int64_t k = 0; k < K; ++k) hn::StoreU(hn::LoadU(d, src + koff[k]), d, dst + k * kPanel);
          continue;
        }
        const auto ri = hn::Load(di, run_of);
        M mask[kMaxRuns];
        const float* src[kMaxRuns];
        for (int r = 0; r < runs; ++r) {
          mask[r] = hn::RebindMask(d, hn::Eq(ri, hn::Set(di, r)));
          src[r] = xp + base[r] + l0;
        }
        for (int64_t k = 0; k < K; ++k) {
          const int64_t o = koff[k];
          V acc = hn::IfThenElseZero(mask[0], hn::LoadU(d, src[0] + o));
          for (int r = 1; r < runs; ++r) acc = hn::IfThenElse(mask[r], hn::LoadU(d, src[r] + o), acc);
          hn::StoreU(acc, d, dst + k * kPanel);
        }
        continue;
      }
      if (cb[l0 + valid - 1] - cb[l0] > std::numeric_limits<int32_t>::max()) {  // beyond 32-bit gather indices
        for (int64_t k = 0; k < K; ++k)
          for (int64_t i = 0; i < L; ++i) dst[k * kPanel + i] = i < valid ? xp[cb[l0 + i] + koff[k]] : 0.0f;
        continue;
      }
      HWY_ALIGN int32_t idx[HWY_LANES(float)];
      for (int64_t i = 0; i < L; ++i) idx[i] = i < valid ? static_cast<int32_t>(cb[l0 + i] - cb[l0]) : 0;
      const auto iv = hn::Load(di, idx);
      const M m = hn::FirstN(d, static_cast<size_t>(valid));
      for (int64_t k = 0; k < K; ++k)
        hn::StoreU(hn::IfThenElseZero(m, hn::GatherIndex(d, xp + cb[l0] + koff[k], iv)), d, dst + k * kPanel);
    }
  }
}

// Writes the GEMM tiles of the `s` phases of the last dim (residues r < s) of `rows` phase rows
// into the output: for every output channel m in [m0, m1), row and jj < J[r],
//     y[m * plane + rowo[row] + o0 + r + jj * s] = c[r][m * rows * J[r] + row * J[r] + jj]
// (c[r] is the tile of residue r, rows x J[r] columns per channel; J[r] is J[0] or J[0] - 1 for
// s = 2). So each output row segment is written whole, with vector stores for s <= 2.
void InterleaveTransposeTile(const float* const* c, const int64_t* J, int64_t s, int64_t rows, int64_t m0, int64_t m1,
                             const int64_t* rowo, int64_t o0, int64_t plane, float* y) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  for (int64_t m = m0; m < m1; ++m) {
    float* ym = y + m * plane + o0;
    for (int64_t row = 0; row < rows; ++row) {
      float* out = ym + rowo[row];
      if (s == 1) {
        std::memcpy(out, c[0] + (m * rows + row) * J[0], sizeof(float) * static_cast<size_t>(J[0]));
      } else if (s == 2) {
        const float* a = c[0] + (m * rows + row) * J[0];
        const float* b = c[1] + (m * rows + row) * J[1];
        int64_t i = 0;
        for (; i + L <= J[1]; i += L) hn::StoreInterleaved2(hn::LoadU(d, a + i), hn::LoadU(d, b + i), d, out + 2 * i);
        for (; i < J[1]; ++i) {
          out[2 * i] = a[i];
          out[2 * i + 1] = b[i];
        }
        if (J[0] > J[1]) out[2 * J[1]] = a[J[1]];
      } else {
        for (int64_t r = 0; r < s; ++r) {
          const float* a = c[r] + (m * rows + row) * J[r];
          for (int64_t i = 0; i < J[r]; ++i) out[r + i * s] = a[i];
        }
      }
    }
  }
}

#endif  // IDEM_SIMD_TARGET
}  // namespace HWY_NAMESPACE
}  // namespace idem::simd
HWY_AFTER_NAMESPACE();

#endif  // include guard
