// Shared helpers of the tensor family: the index-mapped N-D copy, element copies, small converters.
#include "kernels/tensor_common.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "kernels/util.h"

namespace idem::kernels {

DimOffsets AffineOffsets(int64_t n, int64_t start, int64_t stride) {
  DimOffsets v(static_cast<size_t>(n));
  for (int64_t o = 0; o < n; ++o) v[static_cast<size_t>(o)] = start + o * stride;
  return v;
}

namespace {

// Element carrier types: elements move as raw words of their size, strings by value.
template <typename E>
void MapCopyTyped(const KernelContext& ctx, const E* src, int64_t base, const std::vector<DimOffsets>& dims,
                  const E& fill, E* dst, int64_t numel) {
  const size_t rank = dims.size();
  if (rank == 0) {
    dst[0] = src[base];
    return;
  }
  const DimOffsets& last = dims.back();
  const int64_t inner = static_cast<int64_t>(last.size());
  const int64_t rows = numel / inner;
  bool inner_contiguous = true;
  for (int64_t i = 0; i < inner; ++i)
    if (last[static_cast<size_t>(i)] == kFillOffset || last[static_cast<size_t>(i)] != last[0] + i)
      inner_contiguous = false;

  ctx.ParallelFor(rows, RowGrain(inner), [&](int64_t begin, int64_t end) {
    // Odometer over the outer dims (0 .. rank-2), seeded at row `begin`.
    std::vector<int64_t> idx(rank - 1, 0);
    int64_t r = begin;
    for (size_t d = rank - 1; d-- > 0;) {
      const int64_t n = static_cast<int64_t>(dims[d].size());
      idx[d] = r % n;
      r /= n;
    }
    for (int64_t row = begin; row < end; ++row) {
      int64_t off = base;
      bool filled = false;
      for (size_t d = 0; d + 1 < rank; ++d) {
        const int64_t o = dims[d][static_cast<size_t>(idx[d])];
        if (o == kFillOffset)
          filled = true;
        else
          off += o;
      }
      E* out = dst + row * inner;
      if (filled) {
        std::fill(out, out + inner, fill);
      } else if (inner_contiguous) {
        std::copy_n(src + off + last[0], inner, out);
      } else {
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t o = last[static_cast<size_t>(i)];
          out[i] = o == kFillOffset ? fill : src[off + o];
        }
      }
      for (size_t d = rank - 1; d-- > 0;) {
        if (++idx[d] < static_cast<int64_t>(dims[d].size())) break;
        idx[d] = 0;
      }
    }
  });
}

template <typename E>
E FillOf(const Tensor* fill) {
  if (fill == nullptr) return E{};
  E v;
  std::memcpy(&v, fill->raw(), sizeof(E));
  return v;
}

}  // namespace

Status MapCopy(const KernelContext& ctx, const Tensor& src, int64_t base, const std::vector<DimOffsets>& dims,
               const Tensor* fill, Tensor* dst) {
  int64_t numel = 1;
  for (const DimOffsets& d : dims) numel *= static_cast<int64_t>(d.size());
  if (dst->dtype() != src.dtype() || dst->numel() != numel)
    return Internal(ctx.node().Describe(), ": MapCopy output does not match the index maps");
  if (fill != nullptr && (fill->dtype() != src.dtype() || fill->numel() != 1))
    return Internal(ctx.node().Describe(), ": MapCopy fill value must be one element of the data type");
  if (numel == 0) return Status::Ok();
  switch (src.dtype()) {
    case DType::kString: {
      const std::string empty;
      MapCopyTyped<std::string>(ctx, src.data<std::string>(), base, dims, fill ? fill->data<std::string>()[0] : empty,
                                dst->data<std::string>(), numel);
      return Status::Ok();
    }
    default: break;
  }
  switch (DTypeSize(src.dtype())) {
    case 1:
      MapCopyTyped<uint8_t>(ctx, src.data<uint8_t>(), base, dims, FillOf<uint8_t>(fill), dst->data<uint8_t>(), numel);
      return Status::Ok();
    case 2:
      MapCopyTyped<uint16_t>(ctx, src.data<uint16_t>(), base, dims, FillOf<uint16_t>(fill), dst->data<uint16_t>(),
                             numel);
      return Status::Ok();
    case 4:
      MapCopyTyped<uint32_t>(ctx, src.data<uint32_t>(), base, dims, FillOf<uint32_t>(fill), dst->data<uint32_t>(),
                             numel);
      return Status::Ok();
    case 8:
      MapCopyTyped<uint64_t>(ctx, src.data<uint64_t>(), base, dims, FillOf<uint64_t>(fill), dst->data<uint64_t>(),
                             numel);
      return Status::Ok();
    default: return ctx.UnsupportedError("element type ", DTypeOnnxName(src.dtype()), " is not supported");
  }
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
