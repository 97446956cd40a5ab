// Tensor family, resampling: Resize (opset 10-17), Upsample (opset 1-9 forms), GridSample (16).
//
// Canonical arithmetic (DESIGN.md R1/R2):
//  - Resize: per axis, every output index gets its source coordinate from ONE formula per
//    coordinate_transformation_mode (SourceCoord, in double: it is a per-axis table), then taps
//    (source index, weight): nearest = 1 tap; linear = 2, cubic = 4 taps, or 1 tap with no arithmetic
//    when the coordinate is an exact integer. Weights are computed in double and rounded once to the
//    compute type C (f32 for f32/f16/bf16, f64 for f64 and integers). An output element is the
//    nested sum over axes, innermost axis first, each a sequential FMA chain from 0 over the taps in
//    ascending source order: acc = fma(w_k, v_k, acc). Integers are truncated toward zero and
//    saturated on store (as the ONNX reference's astype); halves are stored with RNE.
//  - GridSample: coordinates and weights in the grid's compute type G, values in C; the same nested
//    innermost-first FMA chains (x taps, then y taps). A NaN grid coordinate samples nothing (0).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/math.h"
#include "kernels/tensor_common.h"
#include "kernels/util.h"

namespace idem::kernels {

namespace {

enum class Mode { kNearest, kLinear, kCubic };
enum class Coord { kHalfPixel, kPytorchHalfPixel, kAlignCorners, kAsymmetric, kTfHalfPixelForNN, kTfCropAndResize };
enum class Nearest { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kLegacy };

// Compute type of interpolation: f32 for f32/f16/bf16, f64 for f64 and integer types.
template <typename T>
using InterpT = std::conditional_t<std::is_same_v<ComputeT<T>, float>, float, double>;

template <typename T>
InterpT<T> LoadValue(T v) {
  return static_cast<InterpT<T>>(Load<T>(v));
}

template <typename T>
T StoreValue(InterpT<T> v) {
  if constexpr (kIsFloat<T>) {
    return Store<T>(static_cast<ComputeT<T>>(v));
  } else if constexpr (std::is_same_v<T, bool>) {
    return v != 0;
  } else {
    if (v != v) return 0;
    if (v <= static_cast<double>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);  // truncation toward zero
  }
}

// floor(v) as an index, clamped to [lo, hi] (v may be huge or NaN; NaN gives lo).
int64_t FloorIndex(double v, int64_t lo, int64_t hi) {
  if (!(v >= static_cast<double>(lo))) return lo;
  if (v >= static_cast<double>(hi)) return hi;
  return static_cast<int64_t>(math::floor(v));
}

// Keys cubic convolution weights for the 4 taps at distances 1+t, t, 1-t, 2-t (t in (0, 1)),
// written as in the ONNX reference.
template <typename F>
void CubicWeights(F t, F A, F w[4]) {
  const F t1 = t + 1, s = 1 - t, s1 = s + 1;
  w[0] = ((A * t1 - 5 * A) * t1 + 8 * A) * t1 - 4 * A;
  w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
  w[2] = ((A + 2) * s - (A + 3)) * s * s + 1;
  w[3] = ((A * s1 - 5 * A) * s1 + 8 * A) * s1 - 4 * A;
}

// ---------------------------------------------------------------- Resize

struct ResizeParams {
  Mode mode = Mode::kNearest;
  Coord coord = Coord::kAsymmetric;
  Nearest nearest = Nearest::kLegacy;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0.0;
};

// Source coordinate of output index x on one axis: the formula of each mode, written once.
// `resized` is scale * input length before flooring (as the ONNX reference defines it).
double SourceCoord(Coord c, int64_t x, double scale, int64_t in_len, double roi_start, double roi_end) {
  const double xr = static_cast<double>(x);
  const double len = static_cast<double>(in_len);
  const double resized = scale * len;
  switch (c) {
    case Coord::kHalfPixel: return (xr + 0.5) / scale - 0.5;
    case Coord::kPytorchHalfPixel: return resized > 1 ? (xr + 0.5) / scale - 0.5 : 0.0;
    case Coord::kAlignCorners: return resized > 1 ? xr * (len - 1) / (resized - 1) : 0.0;
    case Coord::kAsymmetric: return xr / scale;
    case Coord::kTfHalfPixelForNN: return (xr + 0.5) / scale;
    case Coord::kTfCropAndResize: {
      const double base =
          resized > 1 ? xr * (roi_end - roi_start) * (len - 1) / (resized - 1) : (roi_end - roi_start) * (len - 1) / 2;
      return base + roi_start * (len - 1);
    }
  }
  return 0.0;
}

// Taps of every output index of one axis.
struct AxisTaps {
  std::vector<int> count;      // 0 = outside (extrapolate), else 1, 2 or 4
  std::vector<int64_t> index;  // 4 per output index, clamped to [0, n)
  std::vector<double> weight;  // 4 per output index
};

AxisTaps BuildAxisTaps(const ResizeParams& p, int64_t in_len, int64_t out_len, double scale, double roi_start,
                       double roi_end) {
  AxisTaps a;
  a.count.assign(static_cast<size_t>(out_len), 1);
  a.index.assign(static_cast<size_t>(out_len) * 4, 0);
  a.weight.assign(static_cast<size_t>(out_len) * 4, 0.0);
  const int64_t n = in_len;
  for (int64_t o = 0; o < out_len; ++o) {
    const size_t at = static_cast<size_t>(o) * 4;
    const double xo = SourceCoord(p.coord, o, scale, n, roi_start, roi_end);
    if (xo != xo || (p.coord == Coord::kTfCropAndResize && (xo < 0 || xo > static_cast<double>(n - 1)))) {
      a.count[static_cast<size_t>(o)] = 0;
      continue;
    }
    const int64_t f = FloorIndex(xo, -4, n + 4);
    const double fl = math::floor(xo);
    const bool integral = xo == fl;
    const double t = xo - fl;
    int cnt = 1;
    int64_t idx[4] = {f, 0, 0, 0};
    double w[4] = {1, 0, 0, 0};
    if (p.mode == Mode::kNearest) {
      if (!integral) {
        bool up = false;
        switch (p.nearest) {
          case Nearest::kRoundPreferFloor: up = t > 0.5; break;
          case Nearest::kRoundPreferCeil: up = t >= 0.5; break;
          case Nearest::kFloor: up = false; break;
          case Nearest::kCeil: up = true; break;
          case Nearest::kLegacy: up = scale < 1; break;  // opset < 11: ceil when downsampling, else floor
        }
        idx[0] = f + (up ? 1 : 0);
      }
    } else if (!integral) {
      if (p.mode == Mode::kLinear) {
        cnt = 2;
        idx[0] = f;
        idx[1] = f + 1;
        w[0] = 1 - t;
        w[1] = t;
      } else {
        cnt = 4;
        for (int k = 0; k < 4; ++k) idx[k] = f - 1 + k;
        CubicWeights<double>(t, p.cubic_a, w);
      }
      if (p.exclude_outside) {
        double sum = 0;
        for (int k = 0; k < cnt; ++k) {
          if (idx[k] < 0 || idx[k] >= n) w[k] = 0;
          sum += w[k];
        }
        if (sum != 0)
          for (int k = 0; k < cnt; ++k) w[k] /= sum;
      }
    }
    a.count[static_cast<size_t>(o)] = cnt;
    for (int k = 0; k < cnt; ++k) {
      a.index[at + static_cast<size_t>(k)] = std::clamp<int64_t>(idx[k], 0, n - 1);
      a.weight[at + static_cast<size_t>(k)] = w[k];
    }
  }
  return a;
}

// Typed taps of one axis: source offsets (index * stride) and weights in the compute type.
template <typename C>
struct TypedTaps {
  const std::vector<int>* count;
  std::vector<int64_t> offset;
  std::vector<C> weight;
};

template <typename T, typename C>
C InterpAt(const T* src, size_t d, size_t rank, int64_t base, const int64_t* out_idx,
           const std::vector<TypedTaps<C>>& taps) {
  if (d == rank) return LoadValue<T>(src[base]);
  const TypedTaps<C>& a = taps[d];
  const size_t at = static_cast<size_t>(out_idx[d]) * 4;
  const int cnt = (*a.count)[static_cast<size_t>(out_idx[d])];
  if (cnt == 1) return InterpAt<T, C>(src, d + 1, rank, base + a.offset[at], out_idx, taps);
  C acc = 0;
  for (int k = 0; k < cnt; ++k)
    acc = std::fma(a.weight[at + static_cast<size_t>(k)],
                   InterpAt<T, C>(src, d + 1, rank, base + a.offset[at + static_cast<size_t>(k)], out_idx, taps), acc);
  return acc;
}

template <typename T>
Status ResizeInterpolate(const KernelContext& ctx, const Tensor& x, const ResizeParams& p,
                         const std::vector<AxisTaps>& axes, Tensor* y) {
  using C = InterpT<T>;
  const size_t r = static_cast<size_t>(x.rank());
  const std::vector<int64_t> strides = StridesOf(x.shape());
  std::vector<TypedTaps<C>> taps(r);
  for (size_t d = 0; d < r; ++d) {
    taps[d].count = &axes[d].count;
    taps[d].offset.resize(axes[d].index.size());
    taps[d].weight.resize(axes[d].weight.size());
    for (size_t i = 0; i < axes[d].index.size(); ++i) {
      taps[d].offset[i] = axes[d].index[i] * strides[d];
      taps[d].weight[i] = static_cast<C>(axes[d].weight[i]);
    }
  }
  const T fill = StoreValue<T>(static_cast<C>(p.extrapolation));
  const T* src = x.data<T>();
  T* dst = y->data<T>();
  if (y->numel() == 0) return Status::Ok();
  if (r == 0) {
    dst[0] = src[0];
    return Status::Ok();
  }
  const Shape& out = y->shape();
  const int64_t inner = out[r - 1];
  const int64_t rows = y->numel() / inner;
  ctx.ParallelFor(rows, RowGrain(inner * 4), [&](int64_t begin, int64_t end) {
    std::vector<int64_t> idx(r, 0);
    int64_t rem = begin;
    for (size_t d = r - 1; d-- > 0;) {
      idx[d] = rem % out[d];
      rem /= out[d];
    }
    for (int64_t row = begin; row < end; ++row) {
      bool outside = false;
      for (size_t d = 0; d + 1 < r; ++d) outside = outside || axes[d].count[static_cast<size_t>(idx[d])] == 0;
      for (int64_t i = 0; i < inner; ++i) {
        idx[r - 1] = i;
        T& o = dst[row * inner + i];
        if (outside || axes[r - 1].count[static_cast<size_t>(i)] == 0)
          o = fill;
        else
          o = StoreValue<T>(InterpAt<T, C>(src, 0, r, 0, idx.data(), taps));
      }
      for (size_t d = r - 1; d-- > 0;) {
        if (++idx[d] < out[d]) break;
        idx[d] = 0;
      }
    }
  });
  return Status::Ok();
}

Result<Mode> ParseMode(const KernelContext& ctx) {
  const std::string m = ctx.String("mode", "nearest");
  if (m == "nearest") return Mode::kNearest;
  if (m == "linear" || m == "bilinear") return Mode::kLinear;
  if (m == "cubic" && ctx.node().op_type == "Resize" && ctx.opset() >= 11) return Mode::kCubic;
  return ctx.Error("mode '", m, "' is not supported (nearest, linear", ctx.opset() >= 11 ? ", cubic" : "", ")");
}

// Reads a float tensor (any float dtype) as doubles.
std::vector<double> FloatValues(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = t.DoubleAt(i);
  return v;
}

Status ResizeCommon(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const int64_t r = x->rank();
  const bool is_resize = ctx.node().op_type == "Resize";
  ResizeParams p;
  IDEM_ASSIGN_OR_RETURN(p.mode, ParseMode(ctx));
  const bool v11 = is_resize && ctx.opset() >= 11;
  if (v11) {
    const std::string c = ctx.String("coordinate_transformation_mode", "half_pixel");
    if (c == "half_pixel")
      p.coord = Coord::kHalfPixel;
    else if (c == "pytorch_half_pixel")
      p.coord = Coord::kPytorchHalfPixel;
    else if (c == "align_corners")
      p.coord = Coord::kAlignCorners;
    else if (c == "asymmetric")
      p.coord = Coord::kAsymmetric;
    else if (c == "tf_half_pixel_for_nn")
      p.coord = Coord::kTfHalfPixelForNN;
    else if (c == "tf_crop_and_resize")
      p.coord = Coord::kTfCropAndResize;
    else
      return ctx.Error("coordinate_transformation_mode '", c, "' is not supported");
    const std::string nm = ctx.String("nearest_mode", "round_prefer_floor");
    if (nm == "round_prefer_floor")
      p.nearest = Nearest::kRoundPreferFloor;
    else if (nm == "round_prefer_ceil")
      p.nearest = Nearest::kRoundPreferCeil;
    else if (nm == "floor")
      p.nearest = Nearest::kFloor;
    else if (nm == "ceil")
      p.nearest = Nearest::kCeil;
    else
      return ctx.Error("nearest_mode '", nm, "' is not supported");
    p.cubic_a = ctx.Float("cubic_coeff_a", -0.75f);
    p.exclude_outside = ctx.Int("exclude_outside", 0) != 0;
    p.extrapolation = ctx.Float("extrapolation_value", 0.0f);
  }

  // Scales or sizes.
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  std::vector<double> roi;
  if (!is_resize && ctx.opset() < 7) {
    if (r != 4) return ctx.Error("input must be 4-D for Upsample-1, got shape ", ShapeToString(x->shape()));
    if (!ctx.HasAttr("height_scale") || !ctx.HasAttr("width_scale"))
      return ctx.Error("attributes 'height_scale' and 'width_scale' are required");
    scales = {1.0, 1.0, ctx.Float("height_scale", 1.0f), ctx.Float("width_scale", 1.0f)};
  } else if (!is_resize && ctx.opset() < 9) {
    if (!ctx.HasAttr("scales")) return ctx.Error("attribute 'scales' is required");
    for (float f : ctx.Floats("scales")) scales.push_back(f);
  } else if (!v11) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* s, ctx.InputTensor(1));
    if (!IsFloat(s->dtype())) return ctx.Error("scales must be float, got ", DTypeOnnxName(s->dtype()));
    scales = FloatValues(*s);
  } else {
    if (ctx.has_input(3)) {
      IDEM_ASSIGN_OR_RETURN(const Tensor* s, ctx.InputTensor(3));
      IDEM_ASSIGN_OR_RETURN(sizes, ReadInts(ctx, *s, "sizes"));
    }
    if (ctx.has_input(2)) {
      IDEM_ASSIGN_OR_RETURN(const Tensor* s, ctx.InputTensor(2));
      if (!IsFloat(s->dtype())) return ctx.Error("scales must be float, got ", DTypeOnnxName(s->dtype()));
      scales = FloatValues(*s);
    }
    if (!scales.empty() && !sizes.empty()) return ctx.Error("only one of scales and sizes may be given");
    if (scales.empty() && sizes.empty()) return ctx.Error("one of scales and sizes must be given");
    if (p.coord == Coord::kTfCropAndResize) {
      if (!ctx.has_input(1)) return ctx.Error("roi is required for tf_crop_and_resize");
      IDEM_ASSIGN_OR_RETURN(const Tensor* rt, ctx.InputTensor(1));
      if (!IsFloat(rt->dtype())) return ctx.Error("roi must be float, got ", DTypeOnnxName(rt->dtype()));
      roi = FloatValues(*rt);
      if (static_cast<int64_t>(roi.size()) != 2 * r)
        return ctx.Error("roi has ", roi.size(), " elements but the input has rank ", r, " (needs ", 2 * r, ")");
    }
  }
  if (roi.empty()) {
    roi.assign(static_cast<size_t>(r), 0.0);
    roi.resize(static_cast<size_t>(2 * r), 1.0);
  }
  Shape out(static_cast<size_t>(r));
  if (!sizes.empty()) {
    if (static_cast<int64_t>(sizes.size()) != r)
      return ctx.Error("sizes has ", sizes.size(), " elements but the input has rank ", r);
    scales.resize(static_cast<size_t>(r));
    for (size_t d = 0; d < sizes.size(); ++d) {
      if (sizes[d] < 0) return ctx.Error("sizes ", ShapeToString(sizes), " has a negative entry");
      if (x->shape()[d] == 0 && sizes[d] != 0) return ctx.Error("cannot resize the empty axis ", d);
      out[d] = sizes[d];
      scales[d] = x->shape()[d] == 0 ? 1.0 : static_cast<double>(sizes[d]) / static_cast<double>(x->shape()[d]);
    }
  } else {
    if (static_cast<int64_t>(scales.size()) != r)
      return ctx.Error("scales has ", scales.size(), " elements but the input has rank ", r);
    for (size_t d = 0; d < scales.size(); ++d) {
      if (!(scales[d] > 0) || scales[d] > 1e9) return ctx.Error("scale ", scales[d], " must be positive and finite");
      const double o = scales[d] * static_cast<double>(x->shape()[d]);
      if (o > 4.0e15) return ctx.Error("output size along axis ", d, " is too large");
      out[d] = static_cast<int64_t>(o);  // truncation = floor for o >= 0
    }
  }

  std::vector<AxisTaps> axes;
  for (size_t d = 0; d < static_cast<size_t>(r); ++d)
    axes.push_back(BuildAxisTaps(p, x->shape()[d], out[d], scales[d], roi[d], roi[d + static_cast<size_t>(r)]));
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out));
  if (p.mode == Mode::kNearest) {
    // Pure index selection: one MapCopy for every dtype (strings and bools included).
    const std::vector<int64_t> strides = StridesOf(x->shape());
    std::vector<DimOffsets> dims(static_cast<size_t>(r));
    for (size_t d = 0; d < dims.size(); ++d) {
      dims[d].resize(static_cast<size_t>(out[d]));
      for (size_t o = 0; o < dims[d].size(); ++o)
        dims[d][o] = axes[d].count[o] == 0 ? kFillOffset : axes[d].index[o * 4] * strides[d];
    }
    const Tensor fill = ScalarOfDType(x->dtype(), p.extrapolation);
    return MapCopy(ctx, *x, 0, dims, &fill, y);
  }
  return VisitDType<types::kNumeric>(x->dtype(), "Resize (linear/cubic)", [&](auto tag) {
    using T = typename decltype(tag)::type;
    return ResizeInterpolate<T>(ctx, *x, p, axes, y);
  });
}

// ---------------------------------------------------------------- GridSample

enum class Padding { kZeros, kBorder, kReflection };

// Parity of a whole number held in floating point (exact for any magnitude).
template <typename G>
bool IsEvenWhole(G n) {
  const G half = math::floor(n / 2);
  return n - 2 * half == 0;
}

// Reflects x into [lo, hi] (the ONNX / PyTorch grid_sample reflection).
template <typename G>
G ReflectExact(G x, G lo, G hi) {
  const G range = hi - lo;
  if (!(range > 0)) return lo;
  if (x < lo) {
    const G dx = lo - x;
    const G n = math::floor(dx / range);
    const G rem = dx - n * range;
    return IsEvenWhole(n) ? lo + rem : hi - rem;
  }
  if (x > hi) {
    const G dx = x - hi;
    const G n = math::floor(dx / range);
    const G rem = dx - n * range;
    return IsEvenWhole(n) ? hi - rem : lo + rem;
  }
  return x;
}

struct GridParams {
  Mode mode;
  Padding padding;
  bool align_corners;
};

// Sample plan of one output point: ny x nx taps with offsets into one channel plane (-1 = zero).
template <typename C>
struct Plan {
  int ny = 0, nx = 0;
  int64_t off[4][4];
  C wy[4], wx[4];
};

template <typename G, typename C>
void MakePlan(const GridParams& p, G gx, G gy, int64_t H, int64_t W, Plan<C>* plan) {
  const G x_min = p.align_corners ? G(0) : G(-0.5), y_min = x_min;
  const G x_max = p.align_corners ? G(W - 1) : G(W) - G(0.5);
  const G y_max = p.align_corners ? G(H - 1) : G(H) - G(0.5);
  auto denorm = [&](G v, int64_t len) -> G {
    return p.align_corners ? (v + 1) / 2 * G(len - 1) : ((v + 1) * G(len) - 1) / 2;
  };
  if (gx != gx || gy != gy) {  // NaN: sample nothing
    plan->ny = plan->nx = 1;
    plan->off[0][0] = -1;
    return;
  }
  G x = denorm(gx, W), y = denorm(gy, H);
  if (p.mode == Mode::kNearest) {
    x = math::round_half_even(x);
    y = math::round_half_even(y);
  }
  if (x < x_min || x > x_max || y < y_min || y > y_max) {
    if (p.padding == Padding::kBorder) {
      x = std::clamp(x, G(0), G(W - 1));
      y = std::clamp(y, G(0), G(H - 1));
    } else if (p.padding == Padding::kReflection) {
      x = ReflectExact(x, x_min, x_max);
      y = ReflectExact(y, y_min, y_max);
    }
  }
  // Keep far-away coordinates (zeros padding) finite and in integer range: every tap is outside then.
  x = std::clamp(x, G(-8), G(W + 8));
  y = std::clamp(y, G(-8), G(H + 8));
  auto pixel = [&](int64_t r, int64_t c) -> int64_t {
    if (p.padding == Padding::kZeros) {
      if (r < 0 || r >= H || c < 0 || c >= W) return -1;
    } else if (p.padding == Padding::kBorder) {
      r = std::clamp<int64_t>(r, 0, H - 1);
      c = std::clamp<int64_t>(c, 0, W - 1);
    } else {
      c = FloorIndex(static_cast<double>(ReflectExact(G(c), x_min, x_max)), 0, W - 1);
      r = FloorIndex(static_cast<double>(ReflectExact(G(r), y_min, y_max)), 0, H - 1);
    }
    return r * W + c;
  };
  if (p.mode == Mode::kNearest) {
    plan->ny = plan->nx = 1;
    plan->off[0][0] =
        pixel(FloorIndex(static_cast<double>(y), -16, H + 16), FloorIndex(static_cast<double>(x), -16, W + 16));
    return;
  }
  const G fx = math::floor(x), fy = math::floor(y);
  const int64_t x0 = FloorIndex(static_cast<double>(fx), -16, W + 16);
  const int64_t y0 = FloorIndex(static_cast<double>(fy), -16, H + 16);
  const G tx = x - fx, ty = y - fy;
  if (p.mode == Mode::kLinear) {
    plan->ny = plan->nx = 2;
    plan->wx[0] = static_cast<C>(1 - tx);
    plan->wx[1] = static_cast<C>(tx);
    plan->wy[0] = static_cast<C>(1 - ty);
    plan->wy[1] = static_cast<C>(ty);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) plan->off[i][j] = pixel(y0 + i, x0 + j);
    return;
  }
  plan->ny = plan->nx = 4;
  G wx[4], wy[4];
  CubicWeights<G>(tx, G(-0.75), wx);
  CubicWeights<G>(ty, G(-0.75), wy);
  for (int k = 0; k < 4; ++k) {
    plan->wx[k] = static_cast<C>(wx[k]);
    plan->wy[k] = static_cast<C>(wy[k]);
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) plan->off[i][j] = pixel(y0 - 1 + i, x0 - 1 + j);
}

// Value type used for planning/interpolation; strings and bools only move (nearest mode).
template <typename T>
struct GridValue {
  using type = InterpT<T>;
};
template <>
struct GridValue<std::string> {
  using type = float;
};
template <>
struct GridValue<bool> {
  using type = float;
};

template <typename T, typename G>
Status GridSampleTyped(const KernelContext& ctx, const GridParams& p, const Tensor& x, const Tensor& grid, Tensor* y) {
  using C = typename GridValue<T>::type;
  const int64_t N = x.dim(0), Cn = x.dim(1), H = x.dim(2), W = x.dim(3);
  const int64_t Ho = grid.dim(1), Wo = grid.dim(2);
  const int64_t points = Ho * Wo;
  const T* src = x.data<T>();
  const G* gd = grid.data<G>();
  T* dst = y->data<T>();
  ctx.ParallelFor(N * points, RowGrain(Cn * 16), [&](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) {
      const int64_t n = q / points, pt = q % points;
      Plan<C> plan;
      MakePlan<ComputeT<G>, C>(p, Load<G>(gd[q * 2]), Load<G>(gd[q * 2 + 1]), H, W, &plan);
      for (int64_t c = 0; c < Cn; ++c) {
        const T* img = src + (n * Cn + c) * H * W;
        if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool>) {
          dst[(n * Cn + c) * points + pt] = plan.off[0][0] < 0 ? T{} : img[plan.off[0][0]];
        } else {
          auto value = [&](int i, int j) -> C { return plan.off[i][j] < 0 ? C(0) : LoadValue<T>(img[plan.off[i][j]]); };
          C v;
          if (plan.ny == 1) {
            v = value(0, 0);
          } else {
            v = 0;
            for (int i = 0; i < plan.ny; ++i) {
              C row = 0;
              for (int j = 0; j < plan.nx; ++j) row = std::fma(plan.wx[j], value(i, j), row);
              v = std::fma(plan.wy[i], row, v);
            }
          }
          dst[(n * Cn + c) * points + pt] = StoreValue<T>(v);
        }
      }
    }
  });
  return Status::Ok();
}

}  // namespace

Status Resize(KernelContext& ctx) { return ResizeCommon(ctx); }
Status Upsample(KernelContext& ctx) { return ResizeCommon(ctx); }

Status GridSample(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* grid, ctx.InputTensor(1));
  if (x->rank() != 4) return ctx.Error("X must be 4-D (N, C, H, W), got shape ", ShapeToString(x->shape()));
  if (grid->rank() != 4 || grid->dim(0) != x->dim(0) || grid->dim(3) != 2)
    return ctx.Error("grid must have shape [N, H_out, W_out, 2] with N = ", x->dim(0), ", got ",
                     ShapeToString(grid->shape()));
  if (!IsFloat(grid->dtype())) return ctx.Error("grid must be float, got ", DTypeOnnxName(grid->dtype()));
  GridParams p;
  const std::string mode = ctx.String("mode", "bilinear");
  if (mode == "bilinear")
    p.mode = Mode::kLinear;
  else if (mode == "nearest")
    p.mode = Mode::kNearest;
  else if (mode == "bicubic")
    p.mode = Mode::kCubic;
  else
    return ctx.Error("mode '", mode, "' is not one of bilinear, nearest, bicubic");
  const std::string pad = ctx.String("padding_mode", "zeros");
  if (pad == "zeros")
    p.padding = Padding::kZeros;
  else if (pad == "border")
    p.padding = Padding::kBorder;
  else if (pad == "reflection")
    p.padding = Padding::kReflection;
  else
    return ctx.Error("padding_mode '", pad, "' is not one of zeros, border, reflection");
  p.align_corners = ctx.Int("align_corners", 0) != 0;
  IDEM_ASSIGN_OR_RETURN(Tensor * y,
                        ctx.AllocateOutput(0, x->dtype(), {x->dim(0), x->dim(1), grid->dim(1), grid->dim(2)}));
  if (y->numel() == 0) return Status::Ok();
  if (x->dim(2) == 0 || x->dim(3) == 0) return ctx.Error("X has an empty spatial dimension");
  return VisitDType<types::kFloat>(grid->dtype(), "GridSample grid", [&](auto gtag) {
    using G = typename decltype(gtag)::type;
    return VisitDType<types::kAll>(x->dtype(), "GridSample", [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool>) {
        if (p.mode != Mode::kNearest)
          return ctx.Error("mode '", mode, "' needs numeric data, got ", DTypeOnnxName(x->dtype()));
      }
      return GridSampleTyped<T, G>(ctx, p, *x, *grid, y);
    });
  });
}

}  // namespace idem::kernels
