// The fast data-movement paths (merged-dimension strided copies, blocked 2-D transposes, run copies
// of index maps, range-parallel Concat/Split) against independent naive references written here:
// every reference maps each output element to the source element it must hold (or to the fill
// value), by the ONNX definitions, one element at a time. Random shapes of rank 1..6 with 0- and
// 1-sized and odd dimensions, every element size (bool, u8, f16, f32, i64, string), and thread
// counts 1/2/3/8; the outputs must be equal element for element (bitwise for numbers).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernel_test_util.h"

namespace idem {
namespace {

using testing::I64;
using testing::IntAttr;
using testing::IntsAttr;
using testing::Op;
using testing::StringAttr;

const DType kTypes[] = {DType::kBool, DType::kU8, DType::kF16, DType::kF32, DType::kI64, DType::kString};
const int kThreads[] = {1, 2, 3, 8};

int64_t Numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// Row-major multi-index of linear position i.
std::vector<int64_t> Unravel(int64_t i, const Shape& s) {
  std::vector<int64_t> idx(s.size());
  for (size_t d = s.size(); d-- > 0;) {
    idx[d] = i % s[d];
    i /= s[d];
  }
  return idx;
}

int64_t Ravel(const std::vector<int64_t>& idx, const Shape& s) {
  int64_t i = 0;
  for (size_t d = 0; d < s.size(); ++d) i = i * s[d] + idx[d];
  return i;
}

// A tensor of random contents (bit patterns for numbers, including NaN payloads; 0/1 for bool;
// distinct short strings).
Tensor RandomTensor(DType dtype, const Shape& shape, std::mt19937_64& rng) {
  Tensor t = Tensor::Make(dtype, shape);
  if (dtype == DType::kString) {
    for (int64_t i = 0; i < t.numel(); ++i) t.data<std::string>()[i] = "s" + std::to_string(rng() % 100000);
  } else if (dtype == DType::kBool) {
    for (int64_t i = 0; i < t.numel(); ++i) t.data<bool>()[i] = (rng() & 1) != 0;
  } else {
    auto* b = static_cast<unsigned char*>(t.raw());
    for (size_t i = 0; i < t.nbytes(); ++i) b[i] = static_cast<unsigned char>(rng());
  }
  return t;
}

// Checks y[i] == x[src[i]] (src[i] >= 0) or y[i] == fill (src[i] < 0), element bytes or strings.
void ExpectMapped(const Tensor& x, const std::vector<int64_t>& src, const Tensor* fill, const Tensor& y,
                  const std::string& what) {
  ASSERT_EQ(y.dtype(), x.dtype()) << what;
  ASSERT_EQ(y.numel(), static_cast<int64_t>(src.size())) << what;
  const size_t es = DTypeSize(x.dtype());
  for (size_t i = 0; i < src.size(); ++i) {
    const Tensor& from = src[i] >= 0 ? x : *fill;
    const int64_t at = src[i] >= 0 ? src[i] : 0;
    if (x.dtype() == DType::kString) {
      ASSERT_EQ(y.data<std::string>()[i], from.data<std::string>()[at]) << what << " element " << i;
    } else {
      ASSERT_EQ(std::memcmp(static_cast<const char*>(y.raw()) + i * es,
                            static_cast<const char*>(from.raw()) + static_cast<size_t>(at) * es, es),
                0)
          << what << " element " << i << " (source " << src[i] << ")";
    }
  }
}

std::string Describe(DType t, const Shape& s, int threads) {
  return std::string(DTypeOnnxName(t)) + " " + ShapeToString(s) + " threads " + std::to_string(threads);
}

// A random shape of rank r, dims mostly small and odd with some 1s and rare 0s, numel <= max_numel.
Shape RandomShape(std::mt19937_64& rng, size_t rank, int64_t max_numel) {
  static const int64_t kDims[] = {1, 2, 3, 5, 7, 9, 13, 17, 31, 67};
  for (;;) {
    Shape s(rank);
    for (size_t d = 0; d < rank; ++d) s[d] = (rng() % 29 == 0) ? 0 : kDims[rng() % std::size(kDims)];
    if (Numel(s) <= max_numel) return s;
  }
}

Status RunOn(Op& op, int threads) {
  std::unique_ptr<ThreadPool> pool = threads > 1 ? std::make_unique<ThreadPool>(threads) : nullptr;
  return op.Run(pool.get());
}

// ---------------------------------------------------------------- Transpose

std::vector<int64_t> RefTranspose(const Shape& in, const std::vector<int64_t>& perm, Shape* out) {
  out->clear();
  for (int64_t p : perm) out->push_back(in[static_cast<size_t>(p)]);
  std::vector<int64_t> src(static_cast<size_t>(Numel(*out)));
  for (size_t i = 0; i < src.size(); ++i) {
    const std::vector<int64_t> o = Unravel(static_cast<int64_t>(i), *out);
    std::vector<int64_t> x(in.size());
    for (size_t d = 0; d < perm.size(); ++d) x[static_cast<size_t>(perm[d])] = o[d];
    src[i] = Ravel(x, in);
  }
  return src;
}

void CheckTranspose(const Tensor& x, const std::vector<int64_t>& perm, int threads) {
  Shape out;
  const std::vector<int64_t> src = RefTranspose(x.shape(), perm, &out);
  Op op("Transpose", 13);
  op.Attr("perm", IntsAttr(perm)).In(x);
  const std::string what = "Transpose " + Describe(x.dtype(), x.shape(), threads) + " perm " + ShapeToString(perm);
  ASSERT_TRUE(RunOn(op, threads).ok()) << what;
  ASSERT_EQ(op.out().shape(), out) << what;
  ExpectMapped(x, src, nullptr, op.out(), what);
}

TEST(TensorMovementFast, TransposeRandomShapesAllTypes) {
  std::mt19937_64 rng(101);
  for (int iter = 0; iter < 60; ++iter) {
    const size_t rank = 1 + rng() % 6;
    const Shape s = RandomShape(rng, rank, 6000);
    std::vector<int64_t> perm(rank);
    for (size_t d = 0; d < rank; ++d) perm[d] = static_cast<int64_t>(d);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (DType t : kTypes) {
      const Tensor x = RandomTensor(t, s, rng);
      for (int threads : kThreads) CheckTranspose(x, perm, threads);
    }
  }
}

// The blocked 2-D path: the two innermost merged dims swapped, sizes around and not multiples of
// the 64-element tile and of the 2/4/8-element register blocks, short sides of 1..3.
TEST(TensorMovementFast, TransposeInnerSwapTiles) {
  std::mt19937_64 rng(202);
  const std::vector<std::pair<Shape, std::vector<int64_t>>> cases = {
      {{67, 130}, {1, 0}},           {{3, 131, 65}, {0, 2, 1}},          {{2, 9, 200}, {0, 2, 1}},
      {{1, 3, 17, 19}, {0, 2, 3, 1}}, {{1, 5, 9, 11}, {0, 3, 1, 2}},      {{2, 3, 64, 64}, {0, 1, 3, 2}},
      {{300, 2}, {1, 0}},            {{2, 300}, {1, 0}},                 {{129, 1, 3}, {2, 1, 0}},
      {{4, 6, 8, 10, 3}, {0, 4, 2, 3, 1}}, {{2, 3, 5, 7, 4, 3}, {5, 1, 3, 0, 2, 4}}, {{0, 70, 70}, {0, 2, 1}},
      {{7, 70, 1, 66}, {0, 3, 2, 1}}};
  for (const auto& [shape, perm] : cases)
    for (DType t : kTypes) {
      const Tensor x = RandomTensor(t, shape, rng);
      for (int threads : kThreads) CheckTranspose(x, perm, threads);
    }
}

// ---------------------------------------------------------------- Slice

// ONNX Slice for one axis: the source indices taken, in order.
std::vector<int64_t> SliceIndices(int64_t n, int64_t start, int64_t end, int64_t step) {
  if (start < 0) start += n;
  if (end < 0) end += n;
  std::vector<int64_t> v;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, n);
    end = std::clamp<int64_t>(end, 0, n);
    for (int64_t i = start; i < end; i += step) v.push_back(i);
  } else {
    start = std::clamp<int64_t>(start, 0, n - 1);
    end = std::clamp<int64_t>(end, -1, n - 1);
    for (int64_t i = start; i > end; i += step) v.push_back(i);
  }
  return v;
}

TEST(TensorMovementFast, SliceRandomStepsAllTypes) {
  std::mt19937_64 rng(303);
  for (int iter = 0; iter < 60; ++iter) {
    const size_t rank = 1 + rng() % 6;
    const Shape s = RandomShape(rng, rank, 8000);
    std::vector<int64_t> starts, ends, axes, steps;
    std::vector<std::vector<int64_t>> picks(rank);
    for (size_t d = 0; d < rank; ++d) {
      picks[d].resize(static_cast<size_t>(s[d]));
      for (int64_t i = 0; i < s[d]; ++i) picks[d][static_cast<size_t>(i)] = i;
      if (rng() % 3 == 0) continue;  // axis not sliced
      const int64_t n = s[d];
      const int64_t step_choices[] = {1, 1, 2, 3, -1, -2, 5};
      const int64_t step = step_choices[rng() % std::size(step_choices)];
      const int64_t start = static_cast<int64_t>(rng() % (n + 3)) - 1 - (rng() % 2 ? n : 0);
      const int64_t end = rng() % 4 == 0 ? (step > 0 ? INT64_MAX : INT64_MIN) : static_cast<int64_t>(rng() % (n + 3)) - 2;
      axes.push_back(rng() % 2 ? static_cast<int64_t>(d) : static_cast<int64_t>(d) - static_cast<int64_t>(rank));
      starts.push_back(start);
      ends.push_back(end);
      steps.push_back(step);
      picks[d] = SliceIndices(n, start, end, step);
    }
    Shape out;
    for (const auto& p : picks) out.push_back(static_cast<int64_t>(p.size()));
    std::vector<int64_t> src(static_cast<size_t>(Numel(out)));
    for (size_t i = 0; i < src.size(); ++i) {
      const std::vector<int64_t> o = Unravel(static_cast<int64_t>(i), out);
      std::vector<int64_t> xi(rank);
      for (size_t d = 0; d < rank; ++d) xi[d] = picks[d][static_cast<size_t>(o[d])];
      src[i] = Ravel(xi, s);
    }
    const int64_t k = static_cast<int64_t>(starts.size());
    for (DType t : kTypes) {
      const Tensor x = RandomTensor(t, s, rng);
      for (int threads : kThreads) {
        Op op("Slice", 13);
        op.In(x).In(I64(starts, {k})).In(I64(ends, {k})).In(I64(axes, {k})).In(I64(steps, {k}));
        const std::string what = "Slice " + Describe(t, s, threads) + " starts " + ShapeToString(starts) + " ends " +
                                 ShapeToString(ends) + " axes " + ShapeToString(axes) + " steps " +
                                 ShapeToString(steps);
        ASSERT_TRUE(RunOn(op, threads).ok()) << what;
        ASSERT_EQ(op.out().shape(), out) << what;
        ExpectMapped(x, src, nullptr, op.out(), what);
      }
    }
  }
}

// ---------------------------------------------------------------- Expand and Tile

TEST(TensorMovementFast, ExpandRandomBroadcastsAllTypes) {
  std::mt19937_64 rng(404);
  for (int iter = 0; iter < 50; ++iter) {
    const size_t rank = 1 + rng() % 6;
    const Shape target = RandomShape(rng, rank, 8000);
    // Input: a suffix of the target's rank with some dims set to 1.
    const size_t in_rank = 1 + rng() % rank;
    Shape in(target.end() - static_cast<std::ptrdiff_t>(in_rank), target.end());
    for (int64_t& d : in)
      if (rng() % 2) d = 1;
    std::vector<int64_t> src(static_cast<size_t>(Numel(target)));
    for (size_t i = 0; i < src.size(); ++i) {
      const std::vector<int64_t> o = Unravel(static_cast<int64_t>(i), target);
      std::vector<int64_t> xi(in_rank);
      for (size_t d = 0; d < in_rank; ++d) xi[d] = in[d] == 1 ? 0 : o[rank - in_rank + d];
      src[i] = Ravel(xi, in);
    }
    for (DType t : kTypes) {
      const Tensor x = RandomTensor(t, in, rng);
      for (int threads : kThreads) {
        Op op("Expand", 13);
        op.In(x).In(I64(target, {static_cast<int64_t>(rank)}));
        const std::string what = "Expand " + Describe(t, in, threads) + " to " + ShapeToString(target);
        ASSERT_TRUE(RunOn(op, threads).ok()) << what;
        ASSERT_EQ(op.out().shape(), target) << what;
        ExpectMapped(x, src, nullptr, op.out(), what);
      }
    }
  }
}

TEST(TensorMovementFast, TileRandomRepeatsAllTypes) {
  std::mt19937_64 rng(505);
  for (int iter = 0; iter < 40; ++iter) {
    const size_t rank = 1 + rng() % 5;
    const Shape s = RandomShape(rng, rank, 600);
    std::vector<int64_t> reps(rank);
    Shape out(rank);
    for (size_t d = 0; d < rank; ++d) {
      reps[d] = static_cast<int64_t>(rng() % 4);
      if (rng() % 4 == 0) reps[d] = 1;
      out[d] = s[d] * reps[d];
    }
    if (Numel(out) > 20000) continue;
    std::vector<int64_t> src(static_cast<size_t>(Numel(out)));
    for (size_t i = 0; i < src.size(); ++i) {
      std::vector<int64_t> o = Unravel(static_cast<int64_t>(i), out);
      for (size_t d = 0; d < rank; ++d) o[d] %= s[d];
      src[i] = Ravel(o, s);
    }
    for (DType t : kTypes) {
      const Tensor x = RandomTensor(t, s, rng);
      for (int threads : kThreads) {
        Op op("Tile", 13);
        op.In(x).In(I64(reps, {static_cast<int64_t>(rank)}));
        const std::string what = "Tile " + Describe(t, s, threads) + " repeats " + ShapeToString(reps);
        ASSERT_TRUE(RunOn(op, threads).ok()) << what;
        ASSERT_EQ(op.out().shape(), out) << what;
        ExpectMapped(x, src, nullptr, op.out(), what);
      }
    }
  }
}

// ---------------------------------------------------------------- Pad

TEST(TensorMovementFast, PadRandomModesAllTypes) {
  std::mt19937_64 rng(606);
  for (int iter = 0; iter < 60; ++iter) {
    const size_t rank = 1 + rng() % 5;
    Shape s = RandomShape(rng, rank, 3000);
    const std::string mode = std::vector<std::string>{"constant", "edge", "reflect"}[rng() % 3];
    if (mode != "constant")
      for (int64_t& d : s)
        if (d == 0) d = 2;
    std::vector<int64_t> pads(2 * rank);
    Shape out(rank);
    for (size_t d = 0; d < rank; ++d) {
      for (int side = 0; side < 2; ++side) {
        int64_t p = static_cast<int64_t>(rng() % 12) - 2;
        if (mode != "constant") p = std::max<int64_t>(p, 0);
        if (mode == "reflect") p = std::min<int64_t>(p, s[d] - 1);
        if (mode == "constant") p = std::max<int64_t>(p, -s[d] / 2);
        pads[d + side * rank] = p;
      }
      out[d] = s[d] + pads[d] + pads[d + rank];
    }
    if (Numel(out) > 30000) continue;
    std::vector<int64_t> src(static_cast<size_t>(Numel(out)));
    for (size_t i = 0; i < src.size(); ++i) {
      const std::vector<int64_t> o = Unravel(static_cast<int64_t>(i), out);
      std::vector<int64_t> xi(rank);
      bool fill = false;
      for (size_t d = 0; d < rank; ++d) {
        int64_t v = o[d] - pads[d];
        const int64_t n = s[d];
        if (v < 0 || v >= n) {
          if (mode == "constant") {
            fill = true;
          } else if (mode == "edge") {
            v = v < 0 ? 0 : n - 1;
          } else {
            while (v < 0 || v >= n) v = v < 0 ? -v : 2 * (n - 1) - v;  // mirror without the edge
          }
        }
        xi[d] = v;
      }
      src[i] = fill ? -1 : Ravel(xi, s);
    }
    for (DType t : kTypes) {
      const Tensor x = RandomTensor(t, s, rng);
      const Tensor value = RandomTensor(t, {}, rng);
      for (int threads : kThreads) {
        Op op("Pad", 13);
        op.Attr("mode", StringAttr(mode)).In(x).In(I64(pads, {static_cast<int64_t>(2 * rank)}));
        if (mode == "constant") op.In(value);
        const std::string what = "Pad " + mode + " " + Describe(t, s, threads) + " pads " + ShapeToString(pads);
        ASSERT_TRUE(RunOn(op, threads).ok()) << what;
        ASSERT_EQ(op.out().shape(), out) << what;
        ExpectMapped(x, src, &value, op.out(), what);
      }
    }
  }
}

// ---------------------------------------------------------------- Concat and Split

TEST(TensorMovementFast, ConcatRandomAllTypes) {
  std::mt19937_64 rng(707);
  for (int iter = 0; iter < 40; ++iter) {
    const size_t rank = 1 + rng() % 5;
    const Shape base = RandomShape(rng, rank, 4000);
    const size_t axis = rng() % rank;
    const size_t count = 1 + rng() % 4;
    std::vector<Shape> shapes(count, base);
    for (Shape& sh : shapes) sh[axis] = static_cast<int64_t>(rng() % 5 == 0 ? 0 : rng() % 40);
    Shape out = base;
    out[axis] = 0;
    for (const Shape& sh : shapes) out[axis] += sh[axis];
    if (Numel(out) > 30000) continue;
    // Reference over one flat source: the inputs laid end to end.
    std::vector<int64_t> first(count + 1, 0);
    for (size_t k = 0; k < count; ++k) first[k + 1] = first[k] + Numel(shapes[k]);
    std::vector<int64_t> src(static_cast<size_t>(Numel(out)));
    for (size_t i = 0; i < src.size(); ++i) {
      std::vector<int64_t> o = Unravel(static_cast<int64_t>(i), out);
      size_t k = 0;
      while (o[axis] >= shapes[k][axis]) o[axis] -= shapes[k++][axis];
      src[i] = first[k] + Ravel(o, shapes[k]);
    }
    for (DType t : kTypes) {
      const Tensor flat = RandomTensor(t, {first[count]}, rng);
      Op op("Concat", 13);
      op.Attr("axis", IntAttr(rng() % 2 ? static_cast<int64_t>(axis) : static_cast<int64_t>(axis) - static_cast<int64_t>(rank)));
      for (size_t k = 0; k < count; ++k) {
        Tensor part = Tensor::Make(t, shapes[k]);
        for (int64_t j = 0; j < part.numel(); ++j) {
          if (t == DType::kString)
            part.data<std::string>()[j] = flat.data<std::string>()[first[k] + j];
          else
            std::memcpy(static_cast<char*>(part.raw()) + j * DTypeSize(t),
                        static_cast<const char*>(flat.raw()) + (first[k] + j) * DTypeSize(t), DTypeSize(t));
        }
        op.In(part);
      }
      for (int threads : kThreads) {
        const std::string what = "Concat " + Describe(t, out, threads) + " axis " + std::to_string(axis);
        ASSERT_TRUE(RunOn(op, threads).ok()) << what;
        ASSERT_EQ(op.out().shape(), out) << what;
        ExpectMapped(flat, src, nullptr, op.out(), what);
      }
    }
  }
}

TEST(TensorMovementFast, SplitRandomAllTypes) {
  std::mt19937_64 rng(808);
  for (int iter = 0; iter < 40; ++iter) {
    const size_t rank = 1 + rng() % 5;
    Shape s = RandomShape(rng, rank, 4000);
    const size_t axis = rng() % rank;
    s[axis] = static_cast<int64_t>(rng() % 60);
    const size_t count = 1 + rng() % 4;
    std::vector<int64_t> split(count, 0);
    for (int64_t i = 0; i < s[axis]; ++i) ++split[rng() % count];
    for (DType t : kTypes) {
      const Tensor x = RandomTensor(t, s, rng);
      for (int threads : kThreads) {
        Op op("Split", 13);
        op.Attr("axis", IntAttr(static_cast<int64_t>(axis))).In(x).In(I64(split, {static_cast<int64_t>(count)}));
        op.Outputs(static_cast<int>(count));
        const std::string what = "Split " + Describe(t, s, threads) + " axis " + std::to_string(axis) + " split " +
                                 ShapeToString(split);
        ASSERT_TRUE(RunOn(op, threads).ok()) << what;
        int64_t start = 0;
        for (size_t k = 0; k < count; ++k) {
          Shape out = s;
          out[axis] = split[k];
          std::vector<int64_t> src(static_cast<size_t>(Numel(out)));
          for (size_t i = 0; i < src.size(); ++i) {
            std::vector<int64_t> o = Unravel(static_cast<int64_t>(i), out);
            o[axis] += start;
            src[i] = Ravel(o, s);
          }
          ASSERT_EQ(op.out(k).shape(), out) << what;
          ExpectMapped(x, src, nullptr, op.out(k), what + " output " + std::to_string(k));
          start += split[k];
        }
      }
    }
  }
}

// Outputs larger than one parallel copy range, so that ranges start and end inside rows and
// inside one input's chunk.
TEST(TensorMovementFast, ConcatSplitAcrossRanges) {
  std::mt19937_64 rng(888);
  const Shape s = {2, 90, 40, 11};
  const std::vector<int64_t> split = {30, 53, 0, 7};
  for (DType t : {DType::kU8, DType::kF32, DType::kString}) {
    const Tensor x = RandomTensor(t, s, rng);
    for (int threads : kThreads) {
      Op sp("Split", 13);
      sp.Attr("axis", IntAttr(1)).In(x).In(I64(split, {4})).Outputs(4);
      const std::string what = "Split/Concat " + Describe(t, s, threads);
      ASSERT_TRUE(RunOn(sp, threads).ok()) << what;
      int64_t start = 0;
      Op cat("Concat", 13);
      cat.Attr("axis", IntAttr(1));
      for (size_t k = 0; k < split.size(); ++k) {
        Shape out = s;
        out[1] = split[k];
        std::vector<int64_t> src(static_cast<size_t>(Numel(out)));
        for (size_t i = 0; i < src.size(); ++i) {
          std::vector<int64_t> o = Unravel(static_cast<int64_t>(i), out);
          o[1] += start;
          src[i] = Ravel(o, s);
        }
        ExpectMapped(x, src, nullptr, sp.out(k), what + " output " + std::to_string(k));
        start += split[k];
        cat.In(sp.out(k));
      }
      // Concatenating the parts again gives the input back.
      ASSERT_TRUE(RunOn(cat, threads).ok()) << what;
      std::vector<int64_t> identity(static_cast<size_t>(x.numel()));
      for (size_t i = 0; i < identity.size(); ++i) identity[i] = static_cast<int64_t>(i);
      ExpectMapped(x, identity, nullptr, cat.out(), what + " concat");
    }
  }
}

// ---------------------------------------------------------------- Gather

TEST(TensorMovementFast, GatherRandomAxesAllTypes) {
  std::mt19937_64 rng(909);
  for (int iter = 0; iter < 50; ++iter) {
    const size_t rank = 1 + rng() % 4;
    Shape s = RandomShape(rng, rank, 5000);
    const size_t axis = rng() % rank;
    if (s[axis] == 0) s[axis] = 3;
    const Shape ishape = RandomShape(rng, rng() % 3, 40);
    std::vector<int64_t> idx(static_cast<size_t>(Numel(ishape)));
    for (int64_t& v : idx) v = static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * s[axis])) - s[axis];
    Shape out(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(axis));
    out.insert(out.end(), ishape.begin(), ishape.end());
    out.insert(out.end(), s.begin() + static_cast<std::ptrdiff_t>(axis) + 1, s.end());
    std::vector<int64_t> src(static_cast<size_t>(Numel(out)));
    for (size_t i = 0; i < src.size(); ++i) {
      const std::vector<int64_t> o = Unravel(static_cast<int64_t>(i), out);
      std::vector<int64_t> xi(o.begin(), o.begin() + static_cast<std::ptrdiff_t>(axis));
      const std::vector<int64_t> j(o.begin() + static_cast<std::ptrdiff_t>(axis),
                                   o.begin() + static_cast<std::ptrdiff_t>(axis + ishape.size()));
      int64_t v = idx[static_cast<size_t>(Ravel(j, ishape))];
      xi.push_back(v < 0 ? v + s[axis] : v);
      xi.insert(xi.end(), o.begin() + static_cast<std::ptrdiff_t>(axis + ishape.size()), o.end());
      src[i] = Ravel(xi, s);
    }
    for (DType t : kTypes) {
      const Tensor x = RandomTensor(t, s, rng);
      for (int threads : kThreads) {
        Op op("Gather", 13);
        op.Attr("axis", IntAttr(static_cast<int64_t>(axis))).In(x).In(I64(idx, ishape));
        const std::string what = "Gather " + Describe(t, s, threads) + " axis " + std::to_string(axis) +
                                 " indices " + ShapeToString(idx);
        ASSERT_TRUE(RunOn(op, threads).ok()) << what;
        ASSERT_EQ(op.out().shape(), out) << what;
        ExpectMapped(x, src, nullptr, op.out(), what);
      }
    }
  }
}

// ---------------------------------------------------------------- DepthToSpace / SpaceToDepth

TEST(TensorMovementFast, DepthToSpaceAndBackAllTypes) {
  std::mt19937_64 rng(1010);
  const std::vector<std::pair<Shape, int64_t>> cases = {
      {{1, 8, 3, 5}, 2}, {{2, 18, 4, 3}, 3}, {{1, 4, 1, 1}, 2}, {{1, 12, 7, 9}, 2}, {{0, 4, 2, 2}, 2}, {{2, 2, 3, 3}, 1}};
  for (const auto& [s, b] : cases) {
    const int64_t N = s[0], C = s[1], H = s[2], W = s[3], c = C / (b * b);
    const Shape out = {N, c, H * b, W * b};
    for (const std::string mode : {"DCR", "CRD"}) {
      std::vector<int64_t> src(static_cast<size_t>(Numel(out)));
      for (size_t i = 0; i < src.size(); ++i) {
        const std::vector<int64_t> o = Unravel(static_cast<int64_t>(i), out);
        const int64_t h = o[2] / b, b1 = o[2] % b, w = o[3] / b, b2 = o[3] % b;
        const int64_t ch = mode == "DCR" ? (b1 * b + b2) * c + o[1] : (o[1] * b + b1) * b + b2;
        src[i] = Ravel({o[0], ch, h, w}, s);
      }
      for (DType t : kTypes) {
        const Tensor x = RandomTensor(t, s, rng);
        for (int threads : kThreads) {
          Op op("DepthToSpace", 13);
          op.Attr("blocksize", IntAttr(b)).Attr("mode", StringAttr(mode)).In(x);
          const std::string what = "DepthToSpace " + mode + " " + Describe(t, s, threads);
          ASSERT_TRUE(RunOn(op, threads).ok()) << what;
          ASSERT_EQ(op.out().shape(), out) << what;
          ExpectMapped(x, src, nullptr, op.out(), what);
        }
      }
    }
    // SpaceToDepth of the DCR output's shape: output channel (b1 * b + b2) * c + ch.
    std::vector<int64_t> src(static_cast<size_t>(Numel(s)));
    for (size_t i = 0; i < src.size(); ++i) {
      const std::vector<int64_t> o = Unravel(static_cast<int64_t>(i), s);
      const int64_t blk = o[1] / c, ch = o[1] % c, b1 = blk / b, b2 = blk % b;
      src[i] = Ravel({o[0], ch, o[2] * b + b1, o[3] * b + b2}, out);
    }
    for (DType t : kTypes) {
      const Tensor x = RandomTensor(t, out, rng);
      for (int threads : kThreads) {
        Op op("SpaceToDepth", 13);
        op.Attr("blocksize", IntAttr(b)).In(x);
        const std::string what = "SpaceToDepth " + Describe(t, out, threads);
        ASSERT_TRUE(RunOn(op, threads).ok()) << what;
        ASSERT_EQ(op.out().shape(), s) << what;
        ExpectMapped(x, src, nullptr, op.out(), what);
      }
    }
  }
}

// ---------------------------------------------------------------- views

// Reshape, Squeeze, Unsqueeze, Flatten and Identity share the input buffer (no copy).
TEST(TensorMovementFast, ShapeOpsAreViews) {
  std::mt19937_64 rng(1111);
  const Tensor x = RandomTensor(DType::kF32, {2, 1, 3, 4}, rng);
  std::vector<Op> ops;
  ops.emplace_back("Reshape", 14);
  ops.back().In(x).In(I64({6, 4}, {2}));
  ops.emplace_back("Squeeze", 13);
  ops.back().In(x).In(I64({1}, {1}));
  ops.emplace_back("Unsqueeze", 13);
  ops.back().In(x).In(I64({0}, {1}));
  ops.emplace_back("Flatten", 13);
  ops.back().Attr("axis", IntAttr(2)).In(x);
  ops.emplace_back("Identity", 16);
  ops.back().In(x);
  for (Op& op : ops) {
    ASSERT_TRUE(op.Run().ok());
    EXPECT_EQ(op.out().raw(), x.raw());
    EXPECT_EQ(op.out().numel(), x.numel());
  }
}

}  // namespace
}  // namespace idem
