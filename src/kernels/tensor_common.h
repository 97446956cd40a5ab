// Shared helpers of the tensor family (shape manipulation, indexing, data movement, resize).
// Internal to src/kernels/tensor*.cc, gather*.cc, scatter*.cc, resize*.cc, shape*.cc, nms*.cc.
//
// Everything here only moves elements (no arithmetic), so results are trivially independent of the
// thread count: tiles write disjoint output ranges.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "kernels/kernel.h"

namespace idem::kernels {

// ---- The one N-D copy primitive of the family: an index-mapped gather.
//
// For an output of rank r, dims[d][o] is the element offset into the source contributed by output
// index o along dimension d (already multiplied by the source stride), or kFillOffset to write the
// fill value instead. Then, for every output index (o_0, ..., o_{r-1}) in row-major order:
//   dst[o] = (any dims[d][o_d] == kFillOffset) ? fill : src[base + sum_d dims[d][o_d]].
// This one helper covers Transpose (permuted strides), Slice (start + step * stride), Expand
// (stride 0), Tile (o mod n), Pad (clamped / reflected / filled), DepthToSpace, Split and
// Resize/Upsample nearest. Contiguous inner runs are copied with memmove.
// Offsets may be negative (negative steps relative to `base`); kFillOffset is the marker.
inline constexpr int64_t kFillOffset = std::numeric_limits<int64_t>::min();
using DimOffsets = std::vector<int64_t>;

// Offsets start + o * stride for o in [0, n).
DimOffsets AffineOffsets(int64_t n, int64_t start, int64_t stride);

// `dst` must be allocated with dtype == src.dtype() and numel == product of dims[d].size()
// (its shape may differ, e.g. a 6-D view written into a 4-D output). `fill` is a one-element
// tensor of the same dtype, or nullptr for zero / the empty string. Offsets must have been
// validated by the caller so that base + sum of offsets lies in [0, src.numel()).
// Size-1 dimensions are folded into `base`; when every map is affine (start + o * stride, no fill)
// the copy is done by StridedCopy. Otherwise rows of the last dimension are copied as runs
// (contiguous source ranges and fill ranges) when the runs are long, element by element if not.
Status MapCopy(const KernelContext& ctx, const Tensor& src, int64_t base, const std::vector<DimOffsets>& dims,
               const Tensor* fill, Tensor* dst);

// The affine special case of MapCopy: for every output index (o_0, ..., o_{r-1}) of `shape` in
// row-major order, dst[o] = src[base + sum_d o_d * strides[d]] (strides may be 0 or negative).
// Dimensions that stay adjacent in the source are merged first; then
//  - innermost source stride 1: one contiguous copy per row,
//  - innermost source stride 0: one broadcast fill per row,
//  - another dimension with source stride 1 (a transpose): cache-blocked 2-D tiles of that
//    dimension and the innermost one (reads and writes both contiguous within a tile),
//  - otherwise: a strided read per row.
// Parallel over rows or tiles with grains derived from the shape only. `dst` must be allocated with
// dtype == src.dtype() and numel == product of `shape`; offsets must lie inside src (caller checks).
Status StridedCopy(const KernelContext& ctx, const Tensor& src, int64_t base, const Shape& shape,
                   const std::vector<int64_t>& strides, Tensor* dst);

// Calls f(TypeTag<E>{}) with the element carrier type of `dtype`: std::string for strings, else the
// unsigned integer of the element's size (elements that are only moved, never computed on).
template <typename F>
Status VisitCarrier(DType dtype, F&& f) {
  if (dtype == DType::kString) return f(TypeTag<std::string>{});
  switch (DTypeSize(dtype)) {
    case 1: return f(TypeTag<uint8_t>{});
    case 2: return f(TypeTag<uint16_t>{});
    case 4: return f(TypeTag<uint32_t>{});
    case 8: return f(TypeTag<uint64_t>{});
    default: return Unsupported("element type ", DTypeOnnxName(dtype), " is not supported");
  }
}

// Sets `count` elements from dst[off] to zero bits (0, +0.0, false) or the empty string.
void ZeroElements(Tensor* dst, int64_t off, int64_t count);

// Index values of an index-like tensor of any numeric dtype as int64. Floating values are truncated
// toward zero; NaN and values beyond +-2^62 become INT64_MIN (out of range for every check).
std::vector<int64_t> IndexValues(const Tensor& t);

// Copies `count` consecutive elements src[src_off..] to dst[dst_off..] (same dtype; strings by value).
void CopyElements(const Tensor& src, int64_t src_off, Tensor* dst, int64_t dst_off, int64_t count);

// A one-element tensor of `dtype` holding `v` (float value converted like a Cast: halves by RNE,
// integers truncated toward zero and saturated, bool = v != 0). Strings get "".
Tensor ScalarOfDType(DType dtype, double v);

// All elements of an integer tensor (int8..uint64) as int64 (uint64 above INT64_MAX saturates).
// Error naming `what` for other dtypes.
Result<std::vector<int64_t>> ReadInts(const KernelContext& ctx, const Tensor& t, const char* what);

// Validates that an index from data lies in [-n, n) and returns it in [0, n).
inline bool NormalizeIndex(int64_t idx, int64_t n, int64_t* out) {
  if (idx < -n || idx >= n) return false;
  *out = idx < 0 ? idx + n : idx;
  return true;
}

// Axes from an attribute or input, normalized to [0, rank) and checked for duplicates.
Result<std::vector<int64_t>> NormalizeAxes(const KernelContext& ctx, const std::vector<int64_t>& axes, int64_t rank);

// Tile grain (rows) for copy loops whose rows have `inner` elements: a constant amount of work
// per tile, derived from the shape only.
inline int64_t RowGrain(int64_t inner) {
  const int64_t g = 16384 / (inner > 0 ? inner : 1);
  return g > 0 ? g : 1;
}

}  // namespace idem::kernels
