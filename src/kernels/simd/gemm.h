// f32 GEMM core: C[M,N] = epilogue(A[M,K] · B[K,N]) with B packed once into target-neutral panels.
//
// Canonical order (DESIGN.md R1, canonical.h ChainDot): every output element is ONE sequential
// FMA chain over k = 0..K-1 starting from +0,
//     acc = 0; for k: acc = fma(A(m,k), B(k,n), acc)
// then the epilogue: acc + bias (if any), then the activation (GemmEpilogueScalar below).
// Blocking over K stores the partial chain in C and continues it from there, which changes no
// bit; register and cache blocking over M and N only change which chains are in flight together.
// So every ISA, thread count, tiling and M gives the same bits as the scalar reference, and row m
// of C depends on row m of A only (D3).
//
// Packed B layout (R5: target-neutral, the same bytes on every machine): the columns are cut into
// panels of kGemmPanel = 16 (the last one zero-padded); panel p is stored contiguously, k-major:
//     packed[p * K * 16 + k * 16 + j] = B(k, 16 p + j)   (0 for 16 p + j >= N)
// AVX-512 reads one row of a panel as one vector, AVX2 as two.
#pragma once

#include <cstdint>

#include "core/math.h"
#include "core/thread_pool.h"
#include "kernels/simd/isa.h"

namespace idem::simd {

inline constexpr int64_t kGemmPanel = 16;

// Packed A layout (R5: target-neutral; conv weights are stored in it): the rows are cut into
// groups of kGemmPackRows = 12 from row 0 (the last one zero-padded); group g is stored
// contiguously, k-major:
//     packed[g * 12 * K + k * 12 + r] = A(12 g + r, k)   (0 for 12 g + r >= M)
// The microkernels read 12 rows (AVX-512) or 6 rows (AVX2) of a group per k step from one or two
// cache lines, the whole micro-panel staying in L1. The GEMM packs a non-constant A into this
// layout itself; constant operands (conv weights) are packed once at load with PackA.
inline constexpr int64_t kGemmPackRows = 12;

// Number of floats of the packed form of a K x N matrix.
inline int64_t PackedBFloats(int64_t K, int64_t N) { return (N + kGemmPanel - 1) / kGemmPanel * kGemmPanel * K; }

// Packs B(k, n) = b[k * k_stride + n * n_stride] (k < K, n < N) into `packed`
// (PackedBFloats(K, N) floats, any alignment). Row-major B: (k_stride, n_stride) = (N, 1);
// B given transposed as an N x K row-major matrix (Gemm transB, conv weights): (1, K).
// Parallel over panels on `pool` (may be null). Thread-safe.
void PackB(const float* b, int64_t K, int64_t N, int64_t k_stride, int64_t n_stride, float* packed,
           ThreadPool* pool = nullptr);

// Number of floats of the packed form of an M x K matrix A.
inline int64_t PackedAFloats(int64_t M, int64_t K) { return (M + kGemmPackRows - 1) / kGemmPackRows * kGemmPackRows * K; }

// Packs A(m, k) = a[m * row_stride + k * k_stride] (m < M, k < K) into `packed` (PackedAFloats(M, K)
// floats, any alignment). Parallel over row groups on `pool` (may be null). Thread-safe.
void PackA(const float* a, int64_t M, int64_t K, int64_t row_stride, int64_t k_stride, float* packed,
           ThreadPool* pool = nullptr);

enum class GemmBias { kNone, kPerColumn, kPerRow };
enum class GemmActivation { kNone, kRelu, kClip };

// An optional elementwise operation on C after the epilogue, run on each block of outputs right
// after the kernel stored its final values (while the block is in L1): fn(ctx, c, ldc, m, n,
// rows, cols) may rewrite C(m + i, n + j) = c[i * ldc + j] for i < rows, j < cols. The blocks
// partition C (rows x columns of one microkernel call: up to 14 x 128 on AVX-512, one row of up
// to 16 columns on the scalar path). Contract: the new value of an element is a function of its
// stored value and its coordinates only (not of the block's shape or position), so the result
// is the same on every ISA, tiling and thread count. fn is called concurrently for disjoint
// blocks. kernels/simd/fused_act.h's FusedActPostStore is one (the fused kernels' activations).
struct GemmPostStore {
  void (*fn)(const void* ctx, float* c, int64_t ldc, int64_t m, int64_t n, int64_t rows, int64_t cols) = nullptr;
  const void* ctx = nullptr;
};

struct GemmEpilogue {
  GemmBias bias_kind = GemmBias::kNone;
  const float* bias = nullptr;  // N values (kPerColumn) or M values (kPerRow)
  GemmActivation activation = GemmActivation::kNone;
  float clip_lo = 0.0f;  // kClip bounds
  float clip_hi = 0.0f;
  GemmPostStore post;  // optional, after the activation
};

// The epilogue of one output element, the definition every target follows:
//   x = acc (+ bias[n] or bias[m]);  relu: x < 0 ? 0 : x;  clip: y = x < lo ? lo : x; y > hi ? hi : y
// (the same formulas as idem's Relu and Clip ops, so fusing them changes no bit; NaN and -0 pass);
// then, with a post-store hook, x = post(x) (the hook applied to this one element as a 1 x 1
// block; its own definition, e.g. FusedActivationScalar of kernels/simd/fused_act.h for the
// fused kernels' Sigmoid, Tanh, GELU forms, SiLU, LeakyRelu, HardSigmoid and residual adds).
inline float GemmEpilogueScalar(const GemmEpilogue& e, float acc, int64_t m, int64_t n) {
  float x = acc;
  if (e.bias_kind == GemmBias::kPerColumn) x = x + e.bias[n];
  if (e.bias_kind == GemmBias::kPerRow) x = x + e.bias[m];
  switch (e.activation) {
    case GemmActivation::kNone:
      break;
    case GemmActivation::kRelu:
      x = math::relu(x);
      break;
    case GemmActivation::kClip:
      x = math::clip(x, e.clip_lo, e.clip_hi);
      break;
  }
  if (e.post.fn != nullptr) e.post.fn(e.post.ctx, &x, 1, m, n, 1, 1);
  return x;
}

struct GemmF32Args {
  int64_t M = 0, N = 0, K = 0;
  // A(m, k) = a[m * a_row_stride + k * a_k_stride]: row-major A is (K, 1), A stored transposed
  // (Gemm transA) is (1, M). Any alignment.
  const float* a = nullptr;
  int64_t a_row_stride = 0;
  int64_t a_k_stride = 1;
  bool a_packed = false;  // `a` is in the PackA layout (the strides above are then unused)
  const float* packed_b = nullptr;  // PackB layout of B (K x N)
  // C(m, n) = c[m * ldc + n], ldc >= N, any alignment; must not overlap A or B. Rows [0, M) and
  // columns [0, N) are written, nothing else.
  float* c = nullptr;
  int64_t ldc = 0;
  GemmEpilogue epilogue;
};

// The tiles of independent outputs threads take (R3): a function of (M, N, K) only. Tile t covers
// rows [tm * (t / tiles_n), +tm) and columns [tn * (t % tiles_n), +tn), clipped to the matrix.
struct GemmTileGrid {
  int64_t tm = 0, tn = 0;  // tm is a multiple of kGemmPackRows, tn of kGemmPanel
  int64_t tiles_m = 0, tiles_n = 0;
  int64_t tiles() const { return tiles_m * tiles_n; }
};
GemmTileGrid GemmTiles(int64_t M, int64_t N, int64_t K);

// C = epilogue(A · B) on the ISA in use (CurrentIsa()), or on `isa` (which must be supported).
// Parallel over GemmTiles() on `pool` (may be null). Thread-safe.
void GemmF32PackedB(const GemmF32Args& args, ThreadPool* pool);
void GemmF32PackedB(Isa isa, const GemmF32Args& args, ThreadPool* pool);

// A batch of products Y_b = A_b · B_b (b < batches), no epilogue, for MatMul/Gemm:
// A_b(m, k) = a[a_off[b] + m * a_row_stride + k * a_k_stride]; B_b is row-major K x N at
// b + b_off[b]; Y_b is row-major M x N at y + b * M * N. Each distinct B_b is packed once.
// Parallel on `pool` over batches or over each product's tiles (never changes a bit).
void BatchedGemmF32(Isa isa, int64_t batches, int64_t M, int64_t N, int64_t K, const float* a, const int64_t* a_off,
                    int64_t a_row_stride, int64_t a_k_stride, const float* b, const int64_t* b_off, float* y,
                    ThreadPool* pool);

}  // namespace idem::simd
