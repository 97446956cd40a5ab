// Internal to the GEMM implementation (gemm.cc and gemm-inl.h): not for kernels' use.
#pragma once

#include <cstdint>

#include "kernels/simd/gemm.h"

namespace idem::simd {

// The epilogue as the tile kernels read it: per-column bias padded with zeros to a whole number
// of panels (so a ragged last panel can be read as full vectors).
struct TileEpilogue {
  GemmBias bias_kind = GemmBias::kNone;
  const float* bias = nullptr;
  GemmActivation activation = GemmActivation::kNone;
  float clip_lo = 0.0f;
  float clip_hi = 0.0f;
  GemmPostStore post;  // run on each block right after its final store
};

// Largest K block; blocks are near-equal and depend on K only. (The block boundaries change no
// bit — the chain continues from the stored partial — they only bound the A and B working set.)
inline constexpr int64_t kGemmKBlock = 256;

struct KBlocks {
  int64_t count = 1;  // >= 1: K == 0 is one empty block (the epilogue of 0 is still written)
  int64_t kc = 0;     // block length; the last block may be shorter
};

inline KBlocks GemmKBlocks(int64_t K) {
  KBlocks b;
  if (K <= 0) return b;
  const int64_t n = (K + kGemmKBlock - 1) / kGemmKBlock;
  b.kc = (K + n - 1) / n;
  b.count = (K + b.kc - 1) / b.kc;  // every block non-empty
  return b;
}

}  // namespace idem::simd
