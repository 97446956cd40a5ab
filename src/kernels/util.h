// Shared helpers for kernels: axis normalization, multidirectional broadcasting, strides.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "kernels/kernel.h"

namespace idem {

// Row-major strides (in elements) of a shape.
std::vector<int64_t> StridesOf(const Shape& shape);

// Maps axis in [-rank, rank) to [0, rank); error naming the node otherwise.
Result<int64_t> NormalizeAxis(const KernelContext& ctx, int64_t axis, int64_t rank);

// NumPy-style multidirectional broadcast of several shapes.
Result<Shape> BroadcastShapes(const KernelContext& ctx, const std::vector<const Shape*>& shapes);

// Strides to read an input of shape `in` as if it had the broadcast shape `out` (0 on broadcast
// dims). `in` is right-aligned against `out`.
std::vector<int64_t> BroadcastStrides(const Shape& in, const Shape& out);

// Walks the output index space of `out_shape` in row-major order and keeps, for each operand, the
// linear offset into that operand given its broadcast strides. Use:
//   BroadcastCursor c(out_shape, {&sa, &sb}); c.Seek(begin);
//   for (i = begin; i < end; ++i, c.Next()) out[i] = f(a[c.offset(0)], b[c.offset(1)]);
class BroadcastCursor {
 public:
  BroadcastCursor(const Shape& out_shape, std::vector<std::vector<int64_t>> operand_strides);
  void Seek(int64_t linear);
  void Next();
  int64_t offset(size_t operand) const { return offsets_[operand]; }

 private:
  Shape shape_;
  std::vector<std::vector<int64_t>> strides_;
  std::vector<int64_t> index_;
  std::vector<int64_t> offsets_;
};

// Elements per parallel tile for cheap elementwise work. A constant: tiles depend on shape only.
inline constexpr int64_t kElementwiseGrain = 16384;

}  // namespace idem
