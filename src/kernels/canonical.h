// Canonical reduction orders (DESIGN.md R1). Every floating-point reduction in idem uses one of
// these orders, which depend only on the reduced extent and the constants below — never on thread
// count, batch size, vector width or alignment. SIMD kernels reproduce them bitwise (simd/reduce_simd.h):
// 16 virtual lanes map to one AVX-512 vector or two AVX2 vectors.
#pragma once

#include <cmath>
#include <cstdint>

namespace idem {

// Number of virtual accumulator lanes of a canonical sum.
inline constexpr int kReduceLanes = 16;

// Sum over i in [0, n) of term(i): element i goes to lane i % 16 (sequential adds per lane), then
// lanes are combined by the fixed tree (l, l+8), (l, l+4), (l, l+2), (l, l+1).
template <typename Acc, typename Term>
inline Acc CanonicalSum(int64_t n, Term term) {
  Acc lane[kReduceLanes] = {};
  int64_t i = 0;
  for (; i + kReduceLanes <= n; i += kReduceLanes)
    for (int l = 0; l < kReduceLanes; ++l) lane[l] = lane[l] + term(i + l);
  for (int l = 0; i + l < n; ++l) lane[l] = lane[l] + term(i + l);
  for (int w = kReduceLanes / 2; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) lane[l] = lane[l] + lane[l + w];
  return lane[0];
}

// Sum over i of a(i) * b(i) with an explicit fused multiply-add per element, in the lane layout
// of CanonicalSum: lane[i % 16] = fma(a(i), b(i), lane[i % 16]).
template <typename Acc, typename A, typename B>
inline Acc CanonicalDot(int64_t n, A a, B b) {
  Acc lane[kReduceLanes] = {};
  int64_t i = 0;
  for (; i + kReduceLanes <= n; i += kReduceLanes)
    for (int l = 0; l < kReduceLanes; ++l) lane[l] = std::fma(a(i + l), b(i + l), lane[l]);
  for (int l = 0; i + l < n; ++l) lane[l] = std::fma(a(i + l), b(i + l), lane[l]);
  for (int w = kReduceLanes / 2; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) lane[l] = lane[l] + lane[l + w];
  return lane[0];
}

// GEMM / convolution order: each output element is ONE sequential FMA chain over k = 0..K-1,
// starting from 0 (acc = fma(a_k, b_k, acc)); bias and activation are applied after the chain.
// For convolution, k runs over (input channel, kernel position in row-major order); a Conv term
// whose input position lies in the padding is fma(w, 0, acc), as im2col computes it.
template <typename Acc, typename A, typename B>
inline Acc ChainDot(int64_t n, A a, B b) {
  Acc acc = 0;
  for (int64_t k = 0; k < n; ++k) acc = std::fma(a(k), b(k), acc);
  return acc;
}

}  // namespace idem
