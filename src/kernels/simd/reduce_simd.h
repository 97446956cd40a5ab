// f32 SIMD primitives of the reduce family (reductions, normalizations, softmax, pooling).
//
// Every primitive reproduces, bitwise, one canonical order of canonical.h / reduce_internal.h /
// pool.cc (DESIGN.md R1, R7): the 16 virtual lanes of CanonicalSum map to one AVX-512 vector or
// two AVX2 vectors; a ragged last chunk adds only to lanes l < rem (the other lanes stay as they
// are, -0 included); the lanes are then combined by the fixed tree (l, l+8), (l, l+4), (l, l+2),
// (l, l+1). Sequential orders (max, min, product) are vectorized ACROSS independent outputs
// ("cols" primitives: one SIMD lane per output, each lane running the scalar sequence), or, for
// a contiguous max/min, computed lane-wise and confirmed: when the row holds a NaN or its
// maximum is a zero (whose sign depends on the order) the primitive runs the scalar sequence.
//
// The scalar reference code paths (Isa::kScalar) stay in the op files; ReduceKernelsFor gives
// the table of one SIMD ISA. Dispatch once per kernel call. Thread-safe: pure functions.
#pragma once

#include <cstdint>

#include "kernels/simd/isa.h"

namespace idem::simd {

// Column ops: y[j] = reduce over i in [0, n) of x[j + off[i]], j in [0, count), in the order
// of the named scalar reference (n >= 1).
enum class ColsOp {
  kSum,        // CanonicalSum(v)
  kSumAbs,     // CanonicalSum(|v|)
  kSumSquare,  // CanonicalDot(v, v): lane = fma(v, v, lane)
  kMax,        // SequentialMaxMin<true>: first NaN wins
  kMin,        // SequentialMaxMin<false>
  kProd,       // p = 1; p = p * v
};

// What SoftmaxCols computes per column.
enum class SoftmaxKind {
  kSoftmax,     // y_i = e_i / s, e_i = exp(x_i - m), s = CanonicalSum(e), m = sequential max
  kLogSoftmax,  // y_i = (x_i - m) - log(s)
  kLogSumExp,   // y_0 = m + log(s) (m itself when m is +-inf or NaN); one output per column
};

// One line of pooling outputs along the last spatial dim (by default, outputs whose windows lie
// fully inside the input along that dim; see `partial`). Output j (j in [0, count)) walks, in row-major kernel-position order,
// the terms t = r * kw + k (r in [0, rows), k in [0, kw)) at input
//     x[row_off[r] + w0 + j * stride + k * dil]
// with kernel position kpos = row_kpos[r] + k (its canonical lane is kpos % 16).
struct PoolLine {
  const float* x = nullptr;          // input plane
  int64_t x_size = 0;                // floats readable from x (the plane)
  const int64_t* row_off = nullptr;  // per row of the window: offset of input column 0
  const int64_t* row_kpos = nullptr;  // per row: kpos of its first kernel column
  int64_t rows = 0;
  int64_t kw = 1, dil = 1, stride = 1, w0 = 0;
  int64_t count = 0;
  float* y = nullptr;         // count outputs
  float divisor = 1.0f;       // AveragePool: y = sum / divisor
  int32_t* best_term = nullptr;  // MaxPool: the term t of the maximum per output (may be null)
  // Edge outputs (`partial`): windows may overhang the input along the last dim; a term whose
  // column row_off-relative index w0 + j * stride + k * dil is outside [0, in_w) is skipped (its
  // lane unchanged, as in the scalar walk), and AveragePool divides output j by divisors[j].
  // A window without input elements gives +0 (MaxPool: term 0) and 0 / divisor (AveragePool),
  // like the scalar walk.
  bool partial = false;
  int64_t in_w = 0;
  const float* divisors = nullptr;
};

struct ReduceKernels {
  // Contiguous rows x[0..n).
  float (*sum)(const float* x, int64_t n);                        // CanonicalSum(x)
  float (*sum_abs)(const float* x, int64_t n);                    // CanonicalSum(|x|)
  float (*sum_square)(const float* x, int64_t n);                 // CanonicalDot(x, x)
  float (*sum_square_dev)(const float* x, int64_t n, float mean);  // CanonicalDot(x - mean, x - mean)
  float (*max)(const float* x, int64_t n);                        // SequentialMaxMin<true>, n >= 1
  float (*min)(const float* x, int64_t n);                        // SequentialMaxMin<false>, n >= 1
  // Elementwise over a row (y may equal x):
  //   y = fma((x - mean) * inv_std, scale[i], bias[i])   (bias null: ((x - mean) * inv_std) * scale[i])
  void (*normalize_affine)(const float* x, int64_t n, float mean, float inv_std, const float* scale,
                           const float* bias, float* y);
  //   y = fma((x - mean) * inv_std, scale, bias)
  void (*normalize_affine_uniform)(const float* x, int64_t n, float mean, float inv_std, float scale, float bias,
                                   float* y);
  //   y = (x - mean) / denom
  void (*normalize_divide)(const float* x, int64_t n, float mean, float denom, float* y);
  // Softmax family (exp and log are idem::math's, lane by lane: simd/math-inl.h).
  //   CanonicalSum(exp(x_i - m)); e_i = exp(x_i - m) stored when e is not null
  float (*exp_sum)(const float* x, int64_t n, float m, float* e);
  //   y = x / s
  void (*divide)(const float* x, int64_t n, float s, float* y);
  //   y = (x - m) - log_s
  void (*sub_sub)(const float* x, int64_t n, float m, float log_s, float* y);
  // Columns j < count, element i at x[j + i * stride] (y alike; kLogSumExp writes y[j]), n >= 1.
  void (*softmax_cols)(SoftmaxKind kind, const float* x, int64_t n, int64_t stride, int64_t count, float* y);
  // Column reductions (see ColsOp).
  void (*cols)(ColsOp op, const float* x, const int64_t* off, int64_t n, int64_t count, float* y);
  // Pooling lines: each computes the line's outputs and returns how many it computed (all of
  // them; a caller computes any others with the scalar reference).
  int64_t (*avg_pool_line)(const PoolLine& line);  // LaneSum by kpos, then / divisor
  int64_t (*max_pool_line)(const PoolLine& line);  // sequential NaN-propagating max, first wins
  int64_t lanes;  // outputs per vector of the pooling lines
};

// The table of `isa`; nullptr for Isa::kScalar (the scalar reference code paths are the op
// files' own) or an ISA that is not supported.
const ReduceKernels* ReduceKernelsFor(Isa isa);

}  // namespace idem::simd
