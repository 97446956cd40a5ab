// MatMul, Gemm, MatMulInteger, QLinearMatMul and Det: scalar reference kernels (linalg family).
//
// Canonical order (DESIGN.md R1, canonical.h ChainDot): every output element of a matrix product
// is ONE sequential FMA chain over k = 0..K-1 starting from +0:
//     acc = 0; for k: acc = fma(A[m][k], B[k][n], acc)
// The blocked loops below (rows x column panels, k streamed innermost-but-one) only change which
// elements are in flight together; each element still sees exactly that chain, so the result is a
// function of the shape alone (not of thread count, tiling, batch size or vector width).
// Integer products accumulate exactly (two's-complement wrap-around) in the element type
// (int32 for MatMulInteger/QLinearMatMul), where order does not matter.
// f16/bf16 inputs are converted to f32 (exact), the chain runs in f32, and the result is stored
// with round-to-nearest-even once at the end.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/math.h"
#include "kernels/canonical.h"
#include "kernels/kernel.h"
#include "kernels/simd/gemm.h"
#include "kernels/util.h"

namespace idem::kernels {
namespace {

// acc + a * b: one fused multiply-add for floats; exact wrap-around arithmetic for integers.
template <typename T>
inline T MulAdd(T a, T b, T acc) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::fma(a, b, acc);
  } else {
    using U = std::conditional_t<(sizeof(T) < 4), uint32_t, std::make_unsigned_t<T>>;
    return static_cast<T>(static_cast<U>(static_cast<U>(acc) + static_cast<U>(a) * static_cast<U>(b)));
  }
}

// Y[m*ldy + n] = chain over k of A(m,k) * B[k*ldb + n] for m < M, n < N, where
// A(m,k) = A[m*a_rs + k*a_ks]. Single-threaded; callers tile M and N (never K).
template <typename T>
void ChainGemm(int64_t M, int64_t N, int64_t K, const T* A, int64_t a_rs, int64_t a_ks,
                                  const T* B, int64_t ldb, T* Y, int64_t ldy) {
  constexpr int64_t kRows = 4;
  constexpr int64_t kCols = 128;
  alignas(64) T acc[kRows][kCols];
  for (int64_t n0 = 0; n0 < N; n0 += kCols) {
    const int64_t nb = std::min(kCols, N - n0);
    int64_t m0 = 0;
    for (; m0 + kRows <= M; m0 += kRows) {
      T* acc0 = acc[0];
      T* acc1 = acc[1];
      T* acc2 = acc[2];
      T* acc3 = acc[3];
      for (int64_t n = 0; n < nb; ++n) acc0[n] = acc1[n] = acc2[n] = acc3[n] = T(0);
      const T* a0 = A + m0 * a_rs;
      for (int64_t k = 0; k < K; ++k) {
        const T x0 = a0[k * a_ks];
        const T x1 = a0[a_rs + k * a_ks];
        const T x2 = a0[2 * a_rs + k * a_ks];
        const T x3 = a0[3 * a_rs + k * a_ks];
        const T* b = B + k * ldb + n0;
        for (int64_t n = 0; n < nb; ++n) {
          const T bn = b[n];
          acc0[n] = MulAdd(x0, bn, acc0[n]);
          acc1[n] = MulAdd(x1, bn, acc1[n]);
          acc2[n] = MulAdd(x2, bn, acc2[n]);
          acc3[n] = MulAdd(x3, bn, acc3[n]);
        }
      }
      for (int64_t r = 0; r < kRows; ++r) std::memcpy(Y + (m0 + r) * ldy + n0, acc[r], sizeof(T) * nb);
    }
    for (; m0 < M; ++m0) {
      T* acc0 = acc[0];
      for (int64_t n = 0; n < nb; ++n) acc0[n] = T(0);
      const T* a0 = A + m0 * a_rs;
      for (int64_t k = 0; k < K; ++k) {
        const T x0 = a0[k * a_ks];
        const T* b = B + k * ldb + n0;
        for (int64_t n = 0; n < nb; ++n) acc0[n] = MulAdd(x0, b[n], acc0[n]);
      }
      std::memcpy(Y + m0 * ldy + n0, acc0, sizeof(T) * nb);
    }
  }
}

// Tile sizes of the parallel grid (constants: tiles depend on the shape only).
constexpr int64_t kTileRows = 16;
constexpr int64_t kTileCols = 256;

// A batch of products Y_b = A_b (M x K) * B_b (K x N). A_b(m, k) = A[a_off[b] + m*a_rs + k*a_ks];
// B_b is row-major K x N at B + b_off[b]; Y_b is row-major M x N at Y + b*M*N.
template <typename T>
void BatchedChainGemm(const KernelContext& ctx, int64_t batches, int64_t M, int64_t N, int64_t K, const T* A,
                      const std::vector<int64_t>& a_off, int64_t a_rs, int64_t a_ks, const T* B,
                      const std::vector<int64_t>& b_off, T* Y) {
  const int64_t mt = (M + kTileRows - 1) / kTileRows;
  const int64_t nt = (N + kTileCols - 1) / kTileCols;
  const int64_t tiles = batches * mt * nt;
  if (tiles == 0) return;
  const int64_t work = std::min(M, kTileRows) * std::min(N, kTileCols) * std::max<int64_t>(K, 1);
  const int64_t grain = std::max<int64_t>(1, 65536 / work);
  ctx.ParallelFor(tiles, grain, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t b = t / (mt * nt);
      const int64_t mi = (t / nt) % mt;
      const int64_t ni = t % nt;
      const int64_t m0 = mi * kTileRows;
      const int64_t n0 = ni * kTileCols;
      const int64_t mb = std::min(kTileRows, M - m0);
      const int64_t nb = std::min(kTileCols, N - n0);
      ChainGemm<T>(mb, nb, K, A + a_off[b] + m0 * a_rs, a_rs, a_ks, B + b_off[b] + n0, N,
                   Y + b * M * N + m0 * N + n0, N);
    }
  });
}

// BatchedChainGemm, with f32 products on the SIMD GEMM core (kernels/simd/gemm.h) unless the
// scalar ISA is in use. The core computes the same chain per element, so the bits are the same
// (tests/unit/simd_gemm_test.cc); the scalar path above stays the reference.
template <typename T>
void BatchedGemm(const KernelContext& ctx, int64_t batches, int64_t M, int64_t N, int64_t K, const T* A,
                 const std::vector<int64_t>& a_off, int64_t a_rs, int64_t a_ks, const T* B,
                 const std::vector<int64_t>& b_off, T* Y) {
  if constexpr (std::is_same_v<T, float>) {
    const simd::Isa isa = simd::CurrentIsa();
    if (isa != simd::Isa::kScalar) {
      simd::BatchedGemmF32(isa, batches, M, N, K, A, a_off.data(), a_rs, a_ks, B, b_off.data(), Y, ctx.pool());
      return;
    }
  }
  BatchedChainGemm<T>(ctx, batches, M, N, K, A, a_off, a_rs, a_ks, B, b_off, Y);
}

// B packed at load (PrepareMatMul / PrepareGemm): the PackB panels of the constant K x N operand,
// in f32 (f16/bf16 weights are widened exactly). nullptr when the node has none.
const float* PreparedPanels(const KernelContext& ctx, int64_t K, int64_t N) {
  const PreparedState* st = ctx.prepared();
  if (st == nullptr || st->tensors.size() != 1) return nullptr;
  const Tensor& t = st->tensors[0];
  if (t.dtype() != DType::kF32 || t.numel() != simd::PackedBFloats(K, N)) return nullptr;
  return t.data<float>();
}

// Y (M x N, row-major, ldc N) = A (rows m at a + m * a_rs + k * a_ks) times the packed B, on the
// ISA in use. The same chain per element as BatchedChainGemm, so the same bits.
void PackedProduct(const KernelContext& ctx, int64_t M, int64_t N, int64_t K, const float* a, int64_t a_rs,
                   int64_t a_ks, const float* panels, float* y) {
  simd::GemmF32Args g;
  g.M = M;
  g.N = N;
  g.K = K;
  g.a = a;
  g.a_row_stride = a_rs;
  g.a_k_stride = a_ks;
  g.packed_b = panels;
  g.c = y;
  g.ldc = N;
  simd::GemmF32PackedB(simd::CurrentIsa(), g, ctx.pool());
}

// Packs the constant operand B(k, n) = b[k * k_stride + n * n_stride] of a float type into f32
// panels, as a prepared state.
Result<std::shared_ptr<const PreparedState>> PackConstantB(const PrepareContext& pc, const Tensor& B, int64_t K,
                                                           int64_t N, int64_t k_stride, int64_t n_stride) {
  std::vector<float> widened;
  const float* b = nullptr;
  if (B.dtype() == DType::kF32) {
    b = B.data<float>();
  } else {
    widened.resize(static_cast<size_t>(B.numel()));
    Status st = VisitDType<types::Bit(DType::kF16) | types::Bit(DType::kBF16)>(B.dtype(), "B", [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* d = B.data<T>();
      for (int64_t i = 0; i < B.numel(); ++i) widened[static_cast<size_t>(i)] = Load<T>(d[i]);
      return Status::Ok();
    });
    IDEM_RETURN_IF_ERROR(st);
    b = widened.data();
  }
  IDEM_ASSIGN_OR_RETURN(Tensor packed, Tensor::CreateLongLived(DType::kF32, Shape{simd::PackedBFloats(K, N)}));
  simd::PackB(b, K, N, k_stride, n_stride, packed.data<float>(), pc.pool());
  auto state = std::make_shared<PreparedState>();
  state->tensors.push_back(std::move(packed));
  return std::shared_ptr<const PreparedState>(std::move(state));
}

bool IsFloatWeight(DType d) { return d == DType::kF32 || d == DType::kF16 || d == DType::kBF16; }

// Converts a tensor's elements to the compute type (f16/bf16 -> f32; others unchanged).
template <typename T>
std::vector<ComputeT<T>> ToCompute(const Tensor& t) {
  std::vector<ComputeT<T>> out(static_cast<size_t>(t.numel()));
  const T* d = t.data<T>();
  for (int64_t i = 0; i < t.numel(); ++i) out[static_cast<size_t>(i)] = Load<T>(d[i]);
  return out;
}

// Per-batch element offsets of an operand with batch shape `in` broadcast to `out`, given the
// operand's matrix size (elements per batch).
std::vector<int64_t> BatchOffsets(const Shape& in, const Shape& out, int64_t matrix_elems) {
  const int64_t batches = NumElements(out);
  std::vector<int64_t> off(static_cast<size_t>(std::max<int64_t>(batches, 0)));
  if (batches <= 0) return off;
  BroadcastCursor c(out, {BroadcastStrides(in, out)});
  for (int64_t b = 0; b < batches; ++b, c.Next()) off[static_cast<size_t>(b)] = c.offset(0) * matrix_elems;
  return off;
}

struct MatMulShape {
  int64_t M = 0, N = 0, K = 0;
  Shape a_batch, b_batch, batch, out;
};

// numpy.matmul shape rules: 1-D operands are promoted (A: [1,K], B: [K,1]) and the promoted
// dimension is removed from the output; batch dimensions broadcast.
Result<MatMulShape> InferMatMulShape(const KernelContext& ctx, const Shape& a, const Shape& b) {
  if (a.empty() || b.empty())
    return ctx.Error("MatMul operands must have rank >= 1, got shapes ", ShapeToString(a), " and ",
                     ShapeToString(b));
  MatMulShape s;
  Shape a2 = a.size() == 1 ? Shape{1, a[0]} : a;
  Shape b2 = b.size() == 1 ? Shape{b[0], 1} : b;
  s.M = a2[a2.size() - 2];
  s.K = a2[a2.size() - 1];
  s.N = b2[b2.size() - 1];
  if (b2[b2.size() - 2] != s.K)
    return ctx.Error("inner dimensions differ: A has shape ", ShapeToString(a), " and B has shape ",
                     ShapeToString(b), " (A's last dim must equal B's second-to-last dim)");
  s.a_batch.assign(a2.begin(), a2.end() - 2);
  s.b_batch.assign(b2.begin(), b2.end() - 2);
  IDEM_ASSIGN_OR_RETURN(s.batch, BroadcastShapes(ctx, {&s.a_batch, &s.b_batch}));
  s.out = s.batch;
  if (a.size() != 1) s.out.push_back(s.M);
  if (b.size() != 1) s.out.push_back(s.N);
  return s;
}

// Runs the batched product for element type T (any float or integer type with MulAdd).
template <typename T>
Status RunMatMul(KernelContext& ctx, const Tensor& A, const Tensor& B, const MatMulShape& s, Tensor* Y) {
  using C = ComputeT<T>;
  const int64_t batches = NumElements(s.batch);
  if constexpr (std::is_same_v<C, float>) {
    // B constant and 2-D, packed at load: A's batches are contiguous rows of one product.
    if (const float* panels = s.b_batch.empty() ? PreparedPanels(ctx, s.K, s.N) : nullptr) {
      const int64_t rows = batches * s.M;
      if constexpr (kIsHalf<T>) {
        const std::vector<float> a = ToCompute<T>(A);
        std::vector<float> y(static_cast<size_t>(Y->numel()));
        PackedProduct(ctx, rows, s.N, s.K, a.data(), s.K, 1, panels, y.data());
        T* out = Y->data<T>();
        for (size_t i = 0; i < y.size(); ++i) out[i] = Store<T>(y[i]);
      } else {
        PackedProduct(ctx, rows, s.N, s.K, A.data<T>(), s.K, 1, panels, Y->data<T>());
      }
      return Status::Ok();
    }
  }
  const std::vector<int64_t> a_off = BatchOffsets(s.a_batch, s.batch, s.M * s.K);
  const std::vector<int64_t> b_off = BatchOffsets(s.b_batch, s.batch, s.K * s.N);
  if constexpr (kIsHalf<T>) {
    const std::vector<float> a = ToCompute<T>(A);
    const std::vector<float> b = ToCompute<T>(B);
    std::vector<float> y(static_cast<size_t>(Y->numel()));
    BatchedGemm<float>(ctx, batches, s.M, s.N, s.K, a.data(), a_off, s.K, 1, b.data(), b_off, y.data());
    T* out = Y->data<T>();
    for (size_t i = 0; i < y.size(); ++i) out[i] = Store<T>(y[i]);
  } else {
    BatchedGemm<C>(ctx, batches, s.M, s.N, s.K, A.data<T>(), a_off, s.K, 1, B.data<T>(), b_off, Y->data<T>());
  }
  return Status::Ok();
}

constexpr uint32_t kMatMulTypes = types::kFloat | types::Bit(DType::kI32) | types::Bit(DType::kI64) |
                                  types::Bit(DType::kU32) | types::Bit(DType::kU64);

// Converts an int8/uint8 tensor minus a zero point to int32 (exact).
template <typename T>
void SubtractZeroPoint(const T* src, int64_t n, const int32_t* zp, int64_t zp_period, int64_t zp_stride,
                       int32_t* dst) {
  // zp index for element i: (i / zp_stride) % zp_period.
  for (int64_t i = 0; i < n; ++i)
    dst[i] = static_cast<int32_t>(src[i]) - zp[(i / zp_stride) % zp_period];
}

// Zero point of a quantized matmul operand: a scalar, or one value per row of A (period M, stride
// K) / per column of B (period N, stride 1).
Result<std::vector<int32_t>> ReadZeroPoint(const KernelContext& ctx, size_t index, DType operand_type,
                                           int64_t per_count, const char* what) {
  if (!ctx.has_input(index)) return std::vector<int32_t>{0};
  IDEM_ASSIGN_OR_RETURN(const Tensor* zp, ctx.InputTensor(index));
  if (zp->dtype() != operand_type)
    return ctx.Error(what, " zero point has type ", DTypeOnnxName(zp->dtype()), " but its operand has type ",
                     DTypeOnnxName(operand_type));
  if (zp->numel() != 1 && zp->numel() != per_count)
    return ctx.Error(what, " zero point has shape ", ShapeToString(zp->shape()), "; expected a scalar or ",
                     per_count, " values");
  std::vector<int32_t> out(static_cast<size_t>(zp->numel()));
  for (int64_t i = 0; i < zp->numel(); ++i) out[static_cast<size_t>(i)] = static_cast<int32_t>(zp->IntAt(i));
  return out;
}

// Integer product of int8/uint8 operands minus zero points, accumulated exactly in int32.
// a_zp: scalar or per row of A (M values); b_zp: scalar or per column of B (N values).
Result<std::vector<int32_t>> QuantizedProduct(KernelContext& ctx, const Tensor& A, const Tensor& B,
                                              const MatMulShape& s, const std::vector<int32_t>& a_zp,
                                              const std::vector<int32_t>& b_zp) {
  std::vector<int32_t> a(static_cast<size_t>(A.numel()));
  std::vector<int32_t> b(static_cast<size_t>(B.numel()));
  Status st = VisitDType<types::Bit(DType::kI8) | types::Bit(DType::kU8)>(A.dtype(), "A", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t period = static_cast<int64_t>(a_zp.size());
    SubtractZeroPoint<T>(A.data<T>(), A.numel(), a_zp.data(), period, period == 1 ? 1 : s.K, a.data());
    return Status::Ok();
  });
  IDEM_RETURN_IF_ERROR(st);
  st = VisitDType<types::Bit(DType::kI8) | types::Bit(DType::kU8)>(B.dtype(), "B", [&](auto tag) {
    using T = typename decltype(tag)::type;
    SubtractZeroPoint<T>(B.data<T>(), B.numel(), b_zp.data(), static_cast<int64_t>(b_zp.size()), 1, b.data());
    return Status::Ok();
  });
  IDEM_RETURN_IF_ERROR(st);
  std::vector<int32_t> y(static_cast<size_t>(std::max<int64_t>(NumElements(s.out), 0)));
  const int64_t batches = NumElements(s.batch);
  BatchedChainGemm<int32_t>(ctx, batches, s.M, s.N, s.K, a.data(), BatchOffsets(s.a_batch, s.batch, s.M * s.K),
                            s.K, 1, b.data(), BatchOffsets(s.b_batch, s.batch, s.K * s.N), y.data());
  return y;
}

// Scale input that must hold one float (QLinear* per-tensor parameters) or `per_count` floats.
Result<std::vector<float>> ReadScale(const KernelContext& ctx, size_t index, int64_t per_count, const char* what) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(index));
  if (t->dtype() != DType::kF32) return ctx.Error(what, " must be a float tensor, got ", DTypeOnnxName(t->dtype()));
  if (t->numel() != 1 && t->numel() != per_count)
    return ctx.Error(what, " has shape ", ShapeToString(t->shape()), "; expected a scalar or ", per_count, " values");
  return std::vector<float>(t->data<float>(), t->data<float>() + t->numel());
}

// Gemm epilogue for floats: y = fma(beta, c, alpha * acc) — one formula for every alpha and beta
// (with alpha == 1 and beta == 1 it is exactly acc + c). Without C: y = alpha * acc.
template <typename C>
inline C GemmEpilogue(C alpha, C beta, C acc, const C* c) {
  if constexpr (std::is_floating_point_v<C>) {
    return c ? std::fma(beta, *c, alpha * acc) : alpha * acc;
  } else {
    return c ? MulAdd(beta, *c, static_cast<C>(MulAdd(alpha, acc, C(0)))) : MulAdd(alpha, acc, C(0));
  }
}

template <typename T>
Status RunGemm(KernelContext& ctx, const Tensor& A, const Tensor& B, const Tensor* Cm, bool trans_a,
               bool trans_b, int64_t M, int64_t N, int64_t K, Tensor* Y) {
  using C = ComputeT<T>;
  const float alpha_f = ctx.Float("alpha", 1.0f);
  const float beta_f = ctx.Float("beta", 1.0f);
  if constexpr (!std::is_floating_point_v<C>) {
    if (alpha_f != std::trunc(alpha_f) || beta_f != std::trunc(beta_f))
      return ctx.UnsupportedError("integer Gemm needs integral alpha and beta, got alpha=", alpha_f,
                                  " beta=", beta_f);
  }
  const C alpha = static_cast<C>(alpha_f);
  const C beta = static_cast<C>(beta_f);
  // A in the compute type.
  std::vector<C> a_conv;
  const C* a = nullptr;
  if constexpr (kIsHalf<T>) {
    a_conv = ToCompute<T>(A);
    a = a_conv.data();
  } else {
    a = A.data<T>();
  }
  std::vector<C> acc(static_cast<size_t>(M * N));
  const int64_t a_rs = trans_a ? 1 : K;
  const int64_t a_ks = trans_a ? M : 1;
  const float* panels = nullptr;
  if constexpr (std::is_same_v<C, float>) panels = PreparedPanels(ctx, K, N);
  if (panels != nullptr) {
    if constexpr (std::is_same_v<C, float>) PackedProduct(ctx, M, N, K, a, a_rs, a_ks, panels, acc.data());
  } else {
    // B as row-major K x N in the compute type.
    std::vector<C> b_pack;
    const C* b = nullptr;
    if (!kIsHalf<T> && !trans_b) {
      if constexpr (!kIsHalf<T>) b = B.data<T>();
    } else {
      b_pack.resize(static_cast<size_t>(K * N));
      const T* src = B.data<T>();
      for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n)
          b_pack[static_cast<size_t>(k * N + n)] = Load<T>(trans_b ? src[n * K + k] : src[k * N + n]);
      b = b_pack.data();
    }
    BatchedGemm<C>(ctx, 1, M, N, K, a, {0}, a_rs, a_ks, b, {0}, acc.data());
  }
  // Epilogue with C broadcast unidirectionally to (M, N).
  std::vector<int64_t> c_strides = {0, 0};
  std::vector<C> c_vals;
  if (Cm) {
    c_strides = BroadcastStrides(Cm->shape(), Shape{M, N});
    c_vals = ToCompute<T>(*Cm);
  }
  T* y = Y->data<T>();
  ctx.ParallelFor(M, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(N, 1)), [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m)
      for (int64_t n = 0; n < N; ++n) {
        const C* c = Cm ? &c_vals[static_cast<size_t>(m * c_strides[0] + n * c_strides[1])] : nullptr;
        y[m * N + n] = Store<T>(GemmEpilogue<C>(alpha, beta, acc[static_cast<size_t>(m * N + n)], c));
      }
  });
  return Status::Ok();
}

// Requantizes an int32 accumulator: q = saturate(round_half_even(float(acc) * multiplier) + zp),
// computed as in the reference: the product is clamped to [qmin - zp, qmax - zp] in float, rounded
// half to even, then the zero point is added. NaN (from a NaN scale) maps to the zero point.
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

// Load time: a constant 2-D float B is packed into GEMM panels once (kernels/simd/gemm.h).
Result<std::shared_ptr<const PreparedState>> PrepareMatMul(const PrepareContext& pc) {
  const Tensor* B = pc.constant_input(1);
  if (B == nullptr || B->rank() != 2 || !IsFloatWeight(B->dtype())) return std::shared_ptr<const PreparedState>();
  return PackConstantB(pc, *B, B->dim(0), B->dim(1), B->dim(1), 1);
}

Result<std::shared_ptr<const PreparedState>> PrepareGemm(const PrepareContext& pc) {
  const Tensor* B = pc.constant_input(1);
  if (B == nullptr || B->rank() != 2 || !IsFloatWeight(B->dtype())) return std::shared_ptr<const PreparedState>();
  const bool trans_b = pc.Int("transB", 0) != 0;
  const int64_t K = trans_b ? B->dim(1) : B->dim(0);
  const int64_t N = trans_b ? B->dim(0) : B->dim(1);
  return PackConstantB(pc, *B, K, N, trans_b ? 1 : N, trans_b ? K : 1);
}

Status MatMul(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* A, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* B, ctx.InputTensor(1));
  if (A->dtype() != B->dtype())
    return ctx.Error("A has type ", DTypeOnnxName(A->dtype()), " but B has type ", DTypeOnnxName(B->dtype()));
  IDEM_ASSIGN_OR_RETURN(MatMulShape s, InferMatMulShape(ctx, A->shape(), B->shape()));
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutputUninitialized(0, A->dtype(), s.out));
  return VisitDType<kMatMulTypes>(A->dtype(), "MatMul", [&](auto tag) {
    return RunMatMul<typename decltype(tag)::type>(ctx, *A, *B, s, Y);
  });
}

Status Gemm(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* A, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* B, ctx.InputTensor(1));
  const Tensor* Cm = nullptr;
  if (ctx.has_input(2)) {
    IDEM_ASSIGN_OR_RETURN(Cm, ctx.InputTensor(2));
  } else if (ctx.opset() < 11) {
    return ctx.Error("input C is required before opset 11");
  }
  if (A->dtype() != B->dtype() || (Cm && Cm->dtype() != A->dtype()))
    return ctx.Error("A, B and C must have the same type, got ", DTypeOnnxName(A->dtype()), ", ",
                     DTypeOnnxName(B->dtype()), (Cm ? ", " : ""), (Cm ? DTypeOnnxName(Cm->dtype()) : ""));
  if (A->rank() != 2 || B->rank() != 2)
    return ctx.Error("A and B must be 2-D, got shapes ", ShapeToString(A->shape()), " and ",
                     ShapeToString(B->shape()));
  const bool trans_a = ctx.Int("transA", 0) != 0;
  const bool trans_b = ctx.Int("transB", 0) != 0;
  const int64_t M = trans_a ? A->dim(1) : A->dim(0);
  const int64_t K = trans_a ? A->dim(0) : A->dim(1);
  const int64_t Kb = trans_b ? B->dim(1) : B->dim(0);
  const int64_t N = trans_b ? B->dim(0) : B->dim(1);
  if (K != Kb)
    return ctx.Error("inner dimensions differ: A' is ", M, "x", K, " and B' is ", Kb, "x", N,
                     " (transA=", trans_a, ", transB=", trans_b, ")");
  if (Cm) {
    // Opset >= 7: C broadcasts unidirectionally to (M, N). Opsets 1-6 with broadcast=0 require C
    // to be (M, N) exactly; with broadcast=1 the legacy (suffix) rule equals the one above.
    const Shape& cs = Cm->shape();
    const bool legacy_exact = ctx.opset() < 7 && ctx.Int("broadcast", 0) == 0;
    bool ok = cs.size() <= 2;
    for (size_t i = 0; ok && i < cs.size(); ++i) {
      const int64_t target = i + 2 - cs.size() == 0 ? M : N;
      ok = cs[i] == target || (!legacy_exact && cs[i] == 1);
    }
    if (legacy_exact && cs.size() != 2) ok = false;
    if (!ok)
      return ctx.Error("C has shape ", ShapeToString(cs), " which is not ",
                       legacy_exact ? "equal to" : "unidirectionally broadcastable to", " [", M, ",", N, "]");
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutputUninitialized(0, A->dtype(), Shape{M, N}));
  return VisitDType<kMatMulTypes>(A->dtype(), "Gemm", [&](auto tag) {
    return RunGemm<typename decltype(tag)::type>(ctx, *A, *B, Cm, trans_a, trans_b, M, N, K, Y);
  });
}

Status MatMulInteger(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* A, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* B, ctx.InputTensor(1));
  IDEM_ASSIGN_OR_RETURN(MatMulShape s, InferMatMulShape(ctx, A->shape(), B->shape()));
  IDEM_ASSIGN_OR_RETURN(std::vector<int32_t> a_zp, ReadZeroPoint(ctx, 2, A->dtype(), s.M, "a"));
  IDEM_ASSIGN_OR_RETURN(std::vector<int32_t> b_zp, ReadZeroPoint(ctx, 3, B->dtype(), s.N, "b"));
  IDEM_ASSIGN_OR_RETURN(std::vector<int32_t> y, QuantizedProduct(ctx, *A, *B, s, a_zp, b_zp));
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, DType::kI32, s.out));
  std::copy(y.begin(), y.end(), Y->data<int32_t>());
  return Status::Ok();
}

Status QLinearMatMul(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* A, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* B, ctx.InputTensor(3));
  IDEM_ASSIGN_OR_RETURN(const Tensor* y_zp_t, ctx.InputTensor(7));
  IDEM_ASSIGN_OR_RETURN(MatMulShape s, InferMatMulShape(ctx, A->shape(), B->shape()));
  IDEM_ASSIGN_OR_RETURN(std::vector<float> a_scale, ReadScale(ctx, 1, s.M, "a_scale"));
  IDEM_ASSIGN_OR_RETURN(std::vector<float> b_scale, ReadScale(ctx, 4, s.N, "b_scale"));
  IDEM_ASSIGN_OR_RETURN(std::vector<float> y_scale, ReadScale(ctx, 6, 1, "y_scale"));
  IDEM_ASSIGN_OR_RETURN(std::vector<int32_t> a_zp, ReadZeroPoint(ctx, 2, A->dtype(), s.M, "a"));
  IDEM_ASSIGN_OR_RETURN(std::vector<int32_t> b_zp, ReadZeroPoint(ctx, 5, B->dtype(), s.N, "b"));
  if (y_zp_t->numel() != 1)
    return ctx.Error("y_zero_point must hold one value, got shape ", ShapeToString(y_zp_t->shape()));
  IDEM_ASSIGN_OR_RETURN(std::vector<int32_t> acc, QuantizedProduct(ctx, *A, *B, s, a_zp, b_zp));
  const int32_t y_zp = static_cast<int32_t>(y_zp_t->IntAt(0));
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, y_zp_t->dtype(), s.out));
  // multiplier(m, n) = (a_scale[m] * b_scale[n]) / y_scale, in f32.
  return VisitDType<types::Bit(DType::kI8) | types::Bit(DType::kU8)>(y_zp_t->dtype(), "y_zero_point", [&](auto tag) {
    using Q = typename decltype(tag)::type;
    Q* y = Y->data<Q>();
    const int64_t MN = s.M * s.N;
    for (size_t i = 0; i < acc.size(); ++i) {
      const int64_t mn = MN ? static_cast<int64_t>(i) % MN : 0;
      const float as = a_scale.size() == 1 ? a_scale[0] : a_scale[static_cast<size_t>(mn / s.N)];
      const float bs = b_scale.size() == 1 ? b_scale[0] : b_scale[static_cast<size_t>(mn % s.N)];
      y[i] = Requantize<Q>(acc[i], (as * bs) / y_scale[0], y_zp);
    }
    return Status::Ok();
  });
}

// Det: LU factorization with partial pivoting in a fixed order. For column j = 0..n-1: the pivot
// is the first row i >= j with the largest |a[i][j]| (NaN never wins a comparison; a NaN column
// keeps row j); rows are swapped (negating the sign); then for rows i > j (ascending) and columns
// c > j (ascending): a[i][c] = fma(-f, a[j][c], a[i][c]) with f = a[i][j] / a[j][j]. A zero pivot
// makes the determinant sign * 0. det = sign * a[0][0] * a[1][1] * ... (left to right).
template <typename C>
C DetLU(C* a, int64_t n) {
  C sign = 1;
  for (int64_t j = 0; j < n; ++j) {
    int64_t p = j;
    C best = std::abs(a[j * n + j]);
    for (int64_t i = j + 1; i < n; ++i) {
      const C v = std::abs(a[i * n + j]);
      if (v > best) { best = v; p = i; }
    }
    if (p != j) {
      for (int64_t c = 0; c < n; ++c) std::swap(a[j * n + c], a[p * n + c]);
      sign = -sign;
    }
    const C pivot = a[j * n + j];
    if (pivot == C(0)) return sign * C(0);
    for (int64_t i = j + 1; i < n; ++i) {
      const C f = a[i * n + j] / pivot;
      for (int64_t c = j + 1; c < n; ++c) a[i * n + c] = std::fma(-f, a[j * n + c], a[i * n + c]);
    }
  }
  C det = sign;
  for (int64_t j = 0; j < n; ++j) det = det * a[j * n + j];
  return det;
}

Status Det(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* X, ctx.InputTensor(0));
  if (X->rank() < 2 || X->dim(X->rank() - 1) != X->dim(X->rank() - 2))
    return ctx.Error("input must have shape [*, M, M], got ", ShapeToString(X->shape()));
  const int64_t n = X->dim(X->rank() - 1);
  Shape out_shape(X->shape().begin(), X->shape().end() - 2);
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, X->dtype(), out_shape));
  return VisitDType<types::kFloat>(X->dtype(), "Det", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeT<T>;
    const T* x = X->data<T>();
    T* y = Y->data<T>();
    ctx.ParallelFor(Y->numel(), 1, [&](int64_t b0, int64_t b1) {
      std::vector<C> a(static_cast<size_t>(n * n));
      for (int64_t b = b0; b < b1; ++b) {
        for (int64_t i = 0; i < n * n; ++i) a[static_cast<size_t>(i)] = Load<T>(x[b * n * n + i]);
        y[b] = Store<T>(DetLU<C>(a.data(), n));
      }
    });
    return Status::Ok();
  });
}

}  // namespace idem::kernels
