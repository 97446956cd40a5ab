// Shared helpers of the tensor family: the index-mapped N-D copy, element copies, small converters.
#include "kernels/tensor_common.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kernels/util.h"

namespace idem::kernels {

DimOffsets AffineOffsets(int64_t n, int64_t start, int64_t stride) {
  DimOffsets v(static_cast<size_t>(n));
  for (int64_t o = 0; o < n; ++o) v[static_cast<size_t>(o)] = start + o * stride;
  return v;
}

namespace {

// About this many elements per parallel tile (a constant: grains depend on shapes only).
constexpr int64_t kTileElems = 16384;

// ---------------------------------------------------------------- strided copy

// Output dimensions (outermost first) with their source strides, size-1 dimensions dropped and
// neighbours that stay adjacent in the source merged. Empty = a single element.
struct MergedDims {
  std::vector<int64_t> n, s;
};

MergedDims MergeDims(const Shape& shape, const std::vector<int64_t>& strides) {
  MergedDims m;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!m.n.empty() && m.s.back() == strides[d] * shape[d]) {
      m.n.back() *= shape[d];
      m.s.back() = strides[d];
    } else {
      m.n.push_back(shape[d]);
      m.s.push_back(strides[d]);
    }
  }
  return m;
}

// Row-major walk over dims n[0..rank) from linear position `start`, keeping the source offset
// sum_d idx_d * s[d] (and, if t != nullptr, the destination offset sum_d idx_d * t[d]) current.
class Odometer {
 public:
  Odometer(const int64_t* n, const int64_t* s, const int64_t* t, size_t rank, int64_t start)
      : n_(n), s_(s), t_(t), idx_(rank, 0) {
    for (size_t d = rank; d-- > 0;) {
      idx_[d] = start % n[d];
      start /= n[d];
      src_ += idx_[d] * s[d];
      if (t != nullptr) dst_ += idx_[d] * t[d];
    }
  }
  int64_t src() const { return src_; }
  int64_t dst() const { return dst_; }
  void Next() {
    for (size_t d = idx_.size(); d-- > 0;) {
      src_ += s_[d];
      if (t_ != nullptr) dst_ += t_[d];
      if (++idx_[d] < n_[d]) return;
      src_ -= n_[d] * s_[d];
      if (t_ != nullptr) dst_ -= n_[d] * t_[d];
      idx_[d] = 0;
    }
  }

 private:
  const int64_t* n_;
  const int64_t* s_;
  const int64_t* t_;
  std::vector<int64_t> idx_;
  int64_t src_ = 0, dst_ = 0;
};

// One output row of `count` elements read with source step `step`.
template <typename E>
inline void CopyRow(const E* in, int64_t step, int64_t count, E* out) {
  if (step == 1) {
    std::copy_n(in, count, out);
  } else if (step == 0) {
    std::fill_n(out, count, *in);
  } else if (step == 2) {  // the common Slice step, a fixed stride the compiler can vectorize
    for (int64_t i = 0; i < count; ++i) out[i] = in[2 * i];
  } else if (step == -1) {  // reversal
    for (int64_t i = 0; i < count; ++i) out[i] = in[-i];
  } else {
    for (int64_t i = 0; i < count; ++i) out[i] = in[i * step];
  }
}

// Rows of the innermost merged dimension, parallel over rows.
template <typename E>
void StridedRows(const KernelContext& ctx, const E* src, int64_t base, const MergedDims& m, E* dst) {
  const size_t outer_rank = m.n.size() - 1;
  const int64_t inner = m.n.back(), step = m.s.back();
  int64_t rows = 1;
  for (size_t d = 0; d < outer_rank; ++d) rows *= m.n[d];
  ctx.ParallelFor(rows, RowGrain(inner), [&](int64_t begin, int64_t end) {
    Odometer od(m.n.data(), m.s.data(), nullptr, outer_rank, begin);
    for (int64_t row = begin; row < end; ++row, od.Next()) CopyRow(src + (base + od.src()), step, inner, dst + row * inner);
  });
}

// d[a * dk + b] = s[a + b * sb] for a < na, b < nb: a tile of a 2-D transpose whose reads are
// contiguous along a and writes contiguous along b.
template <typename E>
inline void TransposeTileScalar(const E* s, int64_t sb, E* d, int64_t dk, int64_t a0, int64_t na, int64_t nb) {
  for (int64_t a = a0; a < na; ++a) {
    E* row = d + a * dk;
    const E* col = s + a;
    for (int64_t b = 0; b < nb; ++b) row[b] = col[b * sb];
  }
}

template <typename E>
void TransposeTile(const E* s, int64_t sb, E* d, int64_t dk, int64_t na, int64_t nb) {
  int64_t a = 0;
#if defined(__SSE2__)
  // Register transposes of 4x4 (4-byte) and 2x2 (8-byte) blocks; SSE2 is part of x86-64, and
  // these are pure bit moves, so every CPU gives the same bytes.
  if constexpr (sizeof(E) == 4 && std::is_trivially_copyable_v<E>) {
    for (; a + 4 <= na; a += 4) {
      int64_t b = 0;
      for (; b + 4 <= nb; b += 4) {
        const E* p = s + a + b * sb;
        const __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + sb));
        const __m128i r2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * sb));
        const __m128i r3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 3 * sb));
        const __m128i t0 = _mm_unpacklo_epi32(r0, r1), t1 = _mm_unpacklo_epi32(r2, r3);
        const __m128i t2 = _mm_unpackhi_epi32(r0, r1), t3 = _mm_unpackhi_epi32(r2, r3);
        E* q = d + a * dk + b;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm_unpacklo_epi64(t0, t1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q + dk), _mm_unpackhi_epi64(t0, t1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 2 * dk), _mm_unpacklo_epi64(t2, t3));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 3 * dk), _mm_unpackhi_epi64(t2, t3));
      }
      for (; b < nb; ++b)
        for (int64_t i = 0; i < 4; ++i) d[(a + i) * dk + b] = s[a + i + b * sb];
    }
  } else if constexpr (sizeof(E) == 8 && std::is_trivially_copyable_v<E>) {
    for (; a + 2 <= na; a += 2) {
      int64_t b = 0;
      for (; b + 2 <= nb; b += 2) {
        const E* p = s + a + b * sb;
        const __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + sb));
        E* q = d + a * dk + b;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm_unpacklo_epi64(r0, r1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q + dk), _mm_unpackhi_epi64(r0, r1));
      }
      for (; b < nb; ++b)
        for (int64_t i = 0; i < 2; ++i) d[(a + i) * dk + b] = s[a + i + b * sb];
    }
  } else if constexpr (sizeof(E) == 2 && std::is_trivially_copyable_v<E>) {
    for (; a + 8 <= na; a += 8) {
      int64_t b = 0;
      for (; b + 8 <= nb; b += 8) {
        const E* p = s + a + b * sb;
        __m128i r[8];
        for (int j = 0; j < 8; ++j) r[j] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j * sb));
        // Three unpack stages transpose the 8x8 block of 16-bit lanes.
        __m128i u[8], v[8];
        for (int j = 0; j < 4; ++j) {
          u[2 * j] = _mm_unpacklo_epi16(r[2 * j], r[2 * j + 1]);
          u[2 * j + 1] = _mm_unpackhi_epi16(r[2 * j], r[2 * j + 1]);
        }
        for (int j = 0; j < 2; ++j) {
          v[4 * j] = _mm_unpacklo_epi32(u[4 * j], u[4 * j + 2]);
          v[4 * j + 1] = _mm_unpackhi_epi32(u[4 * j], u[4 * j + 2]);
          v[4 * j + 2] = _mm_unpacklo_epi32(u[4 * j + 1], u[4 * j + 3]);
          v[4 * j + 3] = _mm_unpackhi_epi32(u[4 * j + 1], u[4 * j + 3]);
        }
        E* q = d + a * dk + b;
        for (int j = 0; j < 4; ++j) {
          _mm_storeu_si128(reinterpret_cast<__m128i*>(q + (2 * j) * dk), _mm_unpacklo_epi64(v[j], v[4 + j]));
          _mm_storeu_si128(reinterpret_cast<__m128i*>(q + (2 * j + 1) * dk), _mm_unpackhi_epi64(v[j], v[4 + j]));
        }
      }
      for (; b < nb; ++b)
        for (int64_t i = 0; i < 8; ++i) d[(a + i) * dk + b] = s[a + i + b * sb];
    }
  }
#endif
  TransposeTileScalar(s, sb, d, dk, a, na, nb);
}

// Merged dimension k < rank - 1 has source stride 1 and the innermost one does not: transpose
// tiles of the (k, innermost) plane, every other dimension walked outside the tiles.
template <typename E>
void StridedTranspose(const KernelContext& ctx, const E* src, int64_t base, const MergedDims& m, size_t k, E* dst) {
  const size_t rank = m.n.size();
  std::vector<int64_t> t(rank);  // destination (row-major) strides
  int64_t acc = 1;
  for (size_t d = rank; d-- > 0;) {
    t[d] = acc;
    acc *= m.n[d];
  }
  std::vector<int64_t> on, os, ot;  // the dimensions outside the plane
  for (size_t d = 0; d + 1 < rank; ++d) {
    if (d == k) continue;
    on.push_back(m.n[d]);
    os.push_back(m.s[d]);
    ot.push_back(t[d]);
  }
  const int64_t A = m.n[k], B = m.n[rank - 1], sb = m.s[rank - 1], dk = t[k];
  // Tiles of 64 (contiguous reads) x 32 (source rows, i.e. pages touched per tile) elements,
  // measured best of 32..256 x 16..64 on NCHW<->NHWC; a short side lengthens the other one.
  // Shape-only choices (and tiles only decide the order of element moves, never a value).
  constexpr int64_t kSideA = 64, kSideB = 32, kArea = kSideA * kSideB;
  int64_t ta = std::min(A, kSideA), tb = std::min(B, kSideB);
  if (tb < kSideB) ta = std::min(A, std::max(kSideA, kArea / tb));
  if (ta < kSideA) tb = std::min(B, std::max(kSideB, kArea / ta));
  const int64_t tiles_a = (A + ta - 1) / ta, tiles_b = (B + tb - 1) / tb;
  int64_t outer = 1;
  for (int64_t n : on) outer *= n;
  const int64_t grain = std::max<int64_t>(1, kTileElems / (ta * tb));
  ctx.ParallelFor(outer * tiles_a * tiles_b, grain, [&](int64_t begin, int64_t end) {
    for (int64_t tile = begin; tile < end; ++tile) {
      const int64_t ib = tile % tiles_b, ia = (tile / tiles_b) % tiles_a;
      int64_t o = tile / (tiles_b * tiles_a), so = 0, dof = 0;
      for (size_t d = on.size(); d-- > 0;) {
        const int64_t i = o % on[d];
        o /= on[d];
        so += i * os[d];
        dof += i * ot[d];
      }
      const int64_t a0 = ia * ta, b0 = ib * tb;
      TransposeTile(src + (base + so + a0 + b0 * sb), sb, dst + (dof + a0 * dk + b0), dk, std::min(ta, A - a0),
                    std::min(tb, B - b0));
    }
  });
}

template <typename E>
void StridedCopyTyped(const KernelContext& ctx, const E* src, int64_t base, const MergedDims& m, E* dst) {
  if (m.n.empty()) {
    dst[0] = src[base];
    return;
  }
  const size_t rank = m.n.size();
  const int64_t inner_step = m.s.back();
  if (inner_step != 1 && inner_step != 0) {
    for (size_t k = rank - 1; k-- > 0;) {
      if (m.s[k] == 1) {
        StridedTranspose(ctx, src, base, m, k, dst);
        return;
      }
    }
  }
  StridedRows(ctx, src, base, m, dst);
}

// ---------------------------------------------------------------- index-mapped copy

// A stretch of one row of the last dimension: `len` outputs from `begin` read from consecutive
// source offsets starting at `off`, or the fill value when off == kFillOffset.
struct Run {
  int64_t begin, len, off;
};

std::vector<Run> RunsOf(const DimOffsets& last) {
  std::vector<Run> runs;
  for (size_t i = 0; i < last.size(); ++i) {
    const int64_t o = last[i];
    const int64_t at = static_cast<int64_t>(i);
    if (!runs.empty()) {
      Run& r = runs.back();
      const bool extends = o == kFillOffset ? r.off == kFillOffset : (r.off != kFillOffset && o == r.off + r.len);
      if (extends) {
        ++r.len;
        continue;
      }
    }
    runs.push_back({at, 1, o});
  }
  return runs;
}

// Element carrier types: elements move as raw words of their size, strings by value. `dims` are
// the maps of size >= 2 (rank >= 1); size-1 maps were folded into `base`.
template <typename E>
void MapCopyTyped(const KernelContext& ctx, const E* src, int64_t base, const std::vector<const DimOffsets*>& dims,
                  const E& fill, E* dst, int64_t numel) {
  const size_t rank = dims.size();
  const DimOffsets& last = *dims.back();
  const int64_t inner = static_cast<int64_t>(last.size());
  const int64_t rows = numel / inner;
  const std::vector<Run> runs = RunsOf(last);
  // Runs pay off when they are long on average; short ones go element by element.
  const bool by_runs = static_cast<int64_t>(runs.size()) * 8 <= inner || runs.size() == 1;

  ctx.ParallelFor(rows, RowGrain(inner), [&](int64_t begin, int64_t end) {
    // Odometer over the outer dims (0 .. rank-2), seeded at row `begin`.
    std::vector<int64_t> idx(rank - 1, 0);
    int64_t r = begin;
    for (size_t d = rank - 1; d-- > 0;) {
      const int64_t n = static_cast<int64_t>(dims[d]->size());
      idx[d] = r % n;
      r /= n;
    }
    for (int64_t row = begin; row < end; ++row) {
      int64_t off = base;
      bool filled = false;
      for (size_t d = 0; d + 1 < rank; ++d) {
        const int64_t o = (*dims[d])[static_cast<size_t>(idx[d])];
        if (o == kFillOffset)
          filled = true;
        else
          off += o;
      }
      E* out = dst + row * inner;
      if (filled) {
        std::fill(out, out + inner, fill);
      } else if (by_runs) {
        for (const Run& run : runs) {
          if (run.off == kFillOffset)
            std::fill_n(out + run.begin, run.len, fill);
          else
            std::copy_n(src + (off + run.off), run.len, out + run.begin);
        }
      } else {
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t o = last[static_cast<size_t>(i)];
          out[i] = o == kFillOffset ? fill : src[off + o];
        }
      }
      for (size_t d = rank - 1; d-- > 0;) {
        if (++idx[d] < static_cast<int64_t>(dims[d]->size())) break;
        idx[d] = 0;
      }
    }
  });
}

template <typename E>
E FillOf(const Tensor* fill) {
  if constexpr (std::is_same_v<E, std::string>) {
    return fill == nullptr ? std::string() : fill->data<std::string>()[0];
  } else {
    if (fill == nullptr) return E{};
    E v;
    std::memcpy(&v, fill->raw(), sizeof(E));
    return v;
  }
}

}  // namespace

Status StridedCopy(const KernelContext& ctx, const Tensor& src, int64_t base, const Shape& shape,
                   const std::vector<int64_t>& strides, Tensor* dst) {
  if (strides.size() != shape.size() || dst->dtype() != src.dtype() || dst->numel() != NumElements(shape))
    return Internal(ctx.node().Describe(), ": StridedCopy output does not match the shape");
  if (dst->numel() == 0) return Status::Ok();
  const MergedDims m = MergeDims(shape, strides);
  return VisitCarrier(src.dtype(), [&](auto tag) -> Status {
    using E = typename decltype(tag)::type;
    StridedCopyTyped<E>(ctx, src.data<E>(), base, m, dst->data<E>());
    return Status::Ok();
  });
}

Status MapCopy(const KernelContext& ctx, const Tensor& src, int64_t base, const std::vector<DimOffsets>& dims,
               const Tensor* fill, Tensor* dst) {
  int64_t numel = 1;
  for (const DimOffsets& d : dims) numel *= static_cast<int64_t>(d.size());
  if (dst->dtype() != src.dtype() || dst->numel() != numel)
    return Internal(ctx.node().Describe(), ": MapCopy output does not match the index maps");
  if (fill != nullptr && (fill->dtype() != src.dtype() || fill->numel() != 1))
    return Internal(ctx.node().Describe(), ": MapCopy fill value must be one element of the data type");
  if (numel == 0) return Status::Ok();
  // Fold size-1 maps into the base (a fill there fills everything) and look for affine maps.
  std::vector<const DimOffsets*> kept;
  bool all_fill = false, affine = true;
  int64_t affine_base = 0;
  Shape shape;
  std::vector<int64_t> strides;
  for (const DimOffsets& d : dims) {
    if (d.size() == 1) {
      if (d[0] == kFillOffset)
        all_fill = true;
      else
        base += d[0];
      continue;
    }
    kept.push_back(&d);
    if (!affine) continue;
    for (size_t i = 0; affine && i < d.size(); ++i) affine = d[i] != kFillOffset && (i < 2 || d[i] - d[i - 1] == d[1] - d[0]);
    if (affine) {
      shape.push_back(static_cast<int64_t>(d.size()));
      strides.push_back(d[1] - d[0]);
      affine_base += d[0];
    }
  }
  return VisitCarrier(src.dtype(), [&](auto tag) -> Status {
    using E = typename decltype(tag)::type;
    E* out = dst->data<E>();
    const E fill_value = FillOf<E>(fill);
    if (all_fill) {
      std::fill_n(out, numel, fill_value);
    } else if (kept.empty()) {
      out[0] = src.data<E>()[base];
    } else if (affine) {
      StridedCopyTyped<E>(ctx, src.data<E>(), base + affine_base, MergeDims(shape, strides), out);
    } else {
      MapCopyTyped<E>(ctx, src.data<E>(), base, kept, fill_value, out, numel);
    }
    return Status::Ok();
  });
}

void CopyElements(const Tensor& src, int64_t src_off, Tensor* dst, int64_t dst_off, int64_t count) {
  if (count <= 0) return;
  if (src.dtype() == DType::kString) {
    std::copy_n(src.data<std::string>() + src_off, count, dst->data<std::string>() + dst_off);
    return;
  }
  const size_t es = DTypeSize(src.dtype());
  std::memmove(static_cast<char*>(dst->raw()) + static_cast<size_t>(dst_off) * es,
               static_cast<const char*>(src.raw()) + static_cast<size_t>(src_off) * es,
               static_cast<size_t>(count) * es);
}

void ZeroElements(Tensor* dst, int64_t off, int64_t count) {
  if (count <= 0) return;
  if (dst->dtype() == DType::kString) {
    std::string* d = dst->data<std::string>() + off;
    for (int64_t i = 0; i < count; ++i) d[i].clear();
    return;
  }
  const size_t es = DTypeSize(dst->dtype());
  std::memset(static_cast<char*>(dst->raw()) + static_cast<size_t>(off) * es, 0, static_cast<size_t>(count) * es);
}

std::vector<int64_t> IndexValues(const Tensor& t) {
  std::vector<int64_t> out(static_cast<size_t>(t.numel()));
  Status st = VisitDType<types::kAllPod>(t.dtype(), "index", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* d = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      int64_t v;
      if constexpr (kIsFloat<T>) {
        const double x = static_cast<double>(Load<T>(d[i]));
        v = (x > -4.6e18 && x < 4.6e18) ? static_cast<int64_t>(x) : std::numeric_limits<int64_t>::min();
      } else if constexpr (std::is_same_v<T, uint64_t>) {
        v = d[i] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                              : static_cast<int64_t>(d[i]);
      } else {
        v = static_cast<int64_t>(d[i]);
      }
      out[static_cast<size_t>(i)] = v;
    }
    return Status::Ok();
  });
  st.IgnoreError();
  return out;
}

namespace {
template <typename I>
I SaturatingFromDouble(double v) {
  if (v != v) return 0;
  if (v <= static_cast<double>(std::numeric_limits<I>::min())) return std::numeric_limits<I>::min();
  if (v >= static_cast<double>(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
  return static_cast<I>(v);  // truncates toward zero; in range here
}
}  // namespace

Tensor ScalarOfDType(DType dtype, double v) {
  Tensor t = Tensor::Make(dtype, {});
  Status st = VisitDType<types::kAll>(dtype, "scalar", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, std::string>) {
      t.data<T>()[0] = std::string();
    } else if constexpr (std::is_same_v<T, bool>) {
      t.data<T>()[0] = v != 0;
    } else if constexpr (kIsFloat<T>) {
      t.data<T>()[0] = Store<T>(static_cast<ComputeT<T>>(v));
    } else {
      t.data<T>()[0] = SaturatingFromDouble<T>(v);
    }
    return Status::Ok();
  });
  st.IgnoreError();
  return t;
}

Result<std::vector<int64_t>> ReadInts(const KernelContext& ctx, const Tensor& t, const char* what) {
  std::vector<int64_t> out(static_cast<size_t>(t.numel()));
  Status st = VisitDType<types::kInt>(t.dtype(), what, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* d = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if constexpr (std::is_same_v<T, uint64_t>) {
        out[static_cast<size_t>(i)] = d[i] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                                          ? std::numeric_limits<int64_t>::max()
                                          : static_cast<int64_t>(d[i]);
      } else {
        out[static_cast<size_t>(i)] = static_cast<int64_t>(d[i]);
      }
    }
    return Status::Ok();
  });
  if (!st.ok()) return ctx.Error(what, " must be an integer tensor, got ", DTypeOnnxName(t.dtype()));
  return out;
}

Result<std::vector<int64_t>> NormalizeAxes(const KernelContext& ctx, const std::vector<int64_t>& axes, int64_t rank) {
  std::vector<int64_t> out;
  std::set<int64_t> seen;
  for (int64_t a : axes) {
    IDEM_ASSIGN_OR_RETURN(int64_t n, NormalizeAxis(ctx, a, rank));
    if (!seen.insert(n).second) return ctx.Error("axis ", a, " is given more than once");
    out.push_back(n);
  }
  return out;
}

}  // namespace idem::kernels
