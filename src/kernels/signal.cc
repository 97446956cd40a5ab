// Signal processing (opset 17): DFT, STFT, HannWindow, HammingWindow, BlackmanWindow,
// MelWeightMatrix.
//
// DFT algorithm: a naive O(N^2) transform (no FFT), so the arithmetic order depends only on the
// transform length. For output bin k of a length-N transform,
//   X[k] = sum over m of x[m] * w[(k * m) mod N],  w[j] = cos(2 pi j / N) -/+ i sin(2 pi j / N)
// accumulated in double as ONE sequential FMA chain over m (ChainDot order, canonical.h):
//   re = fma(xr, wr, re); re = fma(-xi, wi, re); im = fma(xr, wi, im); im = fma(xi, wr, im)
// Inputs of any float type are widened to double and results are rounded once to the output type;
// the inverse transform divides by N at the end. Twiddles come from idem::math::cos/sin in double
// with exact values at multiples of a quarter turn (so e.g. sin(pi) is exactly 0).
#include <cmath>
#include <vector>

#include "core/math.h"
#include "kernels/kernel.h"
#include "kernels/util.h"

namespace idem::kernels {
namespace {

// cos(2 pi j / n) and sin(2 pi j / n) for 0 <= j < n, exact at quarter turns.
void UnitCircle(int64_t j, int64_t n, double& c, double& s) {
  if (j == 0) { c = 1.0; s = 0.0; return; }
  if (4 * j == n) { c = 0.0; s = 1.0; return; }
  if (2 * j == n) { c = -1.0; s = 0.0; return; }
  if (4 * j == 3 * n) { c = 0.0; s = -1.0; return; }
  const double angle = 6.283185307179586476925286766559 * static_cast<double>(j) / static_cast<double>(n);
  c = math::cos(angle);
  s = math::sin(angle);
}

struct Twiddles {
  std::vector<double> re, im;  // w[j] = re[j] + i im[j]
};

Twiddles MakeTwiddles(int64_t n, bool inverse) {
  Twiddles t;
  t.re.resize(static_cast<size_t>(n));
  t.im.resize(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    double c, s;
    UnitCircle(j, n, c, s);
    t.re[j] = c;
    t.im[j] = inverse ? s : -s;
  }
  return t;
}

// One transform of length n over `count` (<= n) given samples (the rest are zero), producing the
// first `bins` outputs. sample(m, re, im) reads sample m; store(k, re, im) writes bin k.
template <typename Sample, typename StoreFn>
void DftLine(int64_t n, int64_t count, int64_t bins, bool inverse, const Twiddles& tw, Sample sample, StoreFn store) {
  std::vector<double> xr(static_cast<size_t>(count)), xi(static_cast<size_t>(count));
  for (int64_t m = 0; m < count; ++m) sample(m, xr[m], xi[m]);
  for (int64_t k = 0; k < bins; ++k) {
    double re = 0.0, im = 0.0;
    int64_t j = 0;  // (k * m) mod n
    const int64_t step = k % n;
    for (int64_t m = 0; m < count; ++m) {
      const double wr = tw.re[j], wi = tw.im[j];
      re = std::fma(xr[m], wr, re);
      re = std::fma(-xi[m], wi, re);
      im = std::fma(xr[m], wi, im);
      im = std::fma(xi[m], wr, im);
      j += step;
      if (j >= n) j -= n;
    }
    if (inverse) {
      re /= static_cast<double>(n);
      im /= static_cast<double>(n);
    }
    store(k, re, im);
  }
}

// Reads an integer scalar input (int32/int64).
Result<int64_t> IntScalar(const KernelContext& ctx, size_t index, const char* name) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(index));
  if ((t->dtype() != DType::kI32 && t->dtype() != DType::kI64) || t->numel() != 1)
    return ctx.Error(name, " must be an int32/int64 scalar, got ", DTypeOnnxName(t->dtype()), " ",
                     ShapeToString(t->shape()));
  return t->IntAt(0);
}

Result<double> FloatScalar(const KernelContext& ctx, size_t index, const char* name) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(index));
  if (!IsFloat(t->dtype()) || t->numel() != 1)
    return ctx.Error(name, " must be a floating-point scalar, got ", DTypeOnnxName(t->dtype()), " ",
                     ShapeToString(t->shape()));
  return t->DoubleAt(0);
}

// Converts a double to any numeric output type (halves with RNE; integers truncate toward zero).
template <typename T>
T FromDouble(double v) {
  if constexpr (std::is_same_v<T, double>) return v;
  else if constexpr (kIsFloat<T>) return Store<T>(static_cast<float>(v));
  else return static_cast<T>(v);
}

Result<DType> OutputDatatype(const KernelContext& ctx) {
  const int64_t d = ctx.Int("output_datatype", 1);
  if (!IsValidDType(static_cast<int32_t>(d)) || !(IsFloat(static_cast<DType>(d)) || IsInt(static_cast<DType>(d))))
    return ctx.Error("output_datatype ", d, " is not a numeric type");
  return static_cast<DType>(d);
}

// Generalized cosine window: a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), N = size (periodic)
// or size - 1 (symmetric). A window of size 1 is [1].
Status CosineWindow(KernelContext& ctx, double a0, double a1, double a2) {
  IDEM_ASSIGN_OR_RETURN(int64_t size, IntScalar(ctx, 0, "size"));
  if (size < 0) return ctx.Error("size must be non-negative, got ", size);
  IDEM_ASSIGN_OR_RETURN(DType dt, OutputDatatype(ctx));
  const bool periodic = ctx.Int("periodic", 1) != 0;
  const int64_t denom = periodic ? size : size - 1;
  std::vector<double> w(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) {
    if (denom <= 0) {
      w[i] = 1.0;
      continue;
    }
    double c1, s1, c2, s2;
    UnitCircle(i % denom, denom, c1, s1);
    UnitCircle((2 * i) % denom, denom, c2, s2);
    w[i] = std::fma(a2, c2, std::fma(-a1, c1, a0));
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, dt, {size}));
  return VisitDType<types::kNumeric>(dt, "window output", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = out->data<T>();
    for (int64_t i = 0; i < size; ++i) o[i] = FromDouble<T>(w[i]);
    return Status::Ok();
  });
}

}  // namespace

Status DFT(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  if (!IsFloat(x->dtype())) return ctx.Error("input must be floating-point, got ", DTypeOnnxName(x->dtype()));
  const int64_t r = x->rank();
  if (r < 3) return ctx.Error("input must have shape [batch, signal dims..., 1 or 2], got ", ShapeToString(x->shape()));
  const int64_t comps = x->dim(r - 1);
  if (comps != 1 && comps != 2)
    return ctx.Error("last input dimension must be 1 (real) or 2 (complex), got ", comps);
  int64_t axis = ctx.Int("axis", 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r - 2) return ctx.Error("axis ", ctx.Int("axis", 1), " must be in [-", r, ", -2] or [0, ", r - 2, "]");
  const int64_t len = x->dim(axis);
  int64_t n = len;
  if (ctx.has_input(1)) {
    IDEM_ASSIGN_OR_RETURN(n, IntScalar(ctx, 1, "dft_length"));
    if (n <= 0) return ctx.Error("dft_length must be positive, got ", n);
  }
  const bool inverse = ctx.Int("inverse", 0) != 0;
  const bool onesided = ctx.Int("onesided", 0) != 0;
  const int64_t bins = onesided ? n / 2 + 1 : n;
  Shape out_shape = x->shape();
  out_shape[axis] = bins;
  out_shape[r - 1] = 2;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x->dim(d);
  for (int64_t d = axis + 1; d < r - 1; ++d) inner *= x->dim(d);
  IDEM_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, x->dtype(), out_shape));
  const Twiddles tw = MakeTwiddles(n, inverse);
  const int64_t count = len < n ? len : n;
  return VisitDType<types::kFloat>(x->dtype(), "DFT", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x->data<T>();
    T* op = out->data<T>();
    ctx.ParallelFor(outer * inner, 1, [&](int64_t begin, int64_t end) {
      for (int64_t line = begin; line < end; ++line) {
        const int64_t o = line / inner, i = line % inner;
        const T* src = xp + (o * len * inner + i) * comps;
        T* dst = op + (o * bins * inner + i) * 2;
        DftLine(
            n, count, bins, inverse, tw,
            [&](int64_t m, double& re, double& im) {
              re = static_cast<double>(Load(src[m * inner * comps]));
              im = comps == 2 ? static_cast<double>(Load(src[m * inner * comps + 1])) : 0.0;
            },
            [&](int64_t k, double re, double im) {
              dst[k * inner * 2] = FromDouble<T>(re);
              dst[k * inner * 2 + 1] = FromDouble<T>(im);
            });
      }
    });
    return Status::Ok();
  });
}

Status STFT(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  if (!IsFloat(x->dtype())) return ctx.Error("signal must be floating-point, got ", DTypeOnnxName(x->dtype()));
  if (x->rank() != 3 || (x->dim(2) != 1 && x->dim(2) != 2))
    return ctx.Error("signal must have shape [batch, signal_length, 1 or 2], got ", ShapeToString(x->shape()));
  const int64_t batch = x->dim(0), length = x->dim(1), comps = x->dim(2);
  IDEM_ASSIGN_OR_RETURN(int64_t step, IntScalar(ctx, 1, "frame_step"));
  if (step <= 0) return ctx.Error("frame_step must be positive, got ", step);
  const Tensor* window = nullptr;
  if (ctx.has_input(2)) {
    IDEM_ASSIGN_OR_RETURN(window, ctx.InputTensor(2));
    if (window->dtype() != x->dtype() || window->rank() != 1)
      return ctx.Error("window must be a rank-1 tensor of the signal's type, got ", DTypeOnnxName(window->dtype()), " ",
                       ShapeToString(window->shape()));
  }
  int64_t n = 0;
  if (ctx.has_input(3)) {
    IDEM_ASSIGN_OR_RETURN(n, IntScalar(ctx, 3, "frame_length"));
    if (n <= 0) return ctx.Error("frame_length must be positive, got ", n);
    if (window && window->dim(0) != n)
      return ctx.Error("window has length ", window->dim(0), " but frame_length is ", n);
  } else if (window) {
    n = window->dim(0);
    if (n <= 0) return ctx.Error("window must not be empty");
  } else {
    return ctx.Error("one of window and frame_length must be given");
  }
  if (length < n) return ctx.Error("signal length ", length, " is shorter than the frame length ", n);
  const int64_t frames = 1 + (length - n) / step;
  const bool onesided = ctx.Int("onesided", 1) != 0;
  const int64_t bins = onesided ? n / 2 + 1 : n;
  IDEM_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, x->dtype(), {batch, frames, bins, 2}));
  const Twiddles tw = MakeTwiddles(n, false);
  return VisitDType<types::kFloat>(x->dtype(), "STFT", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x->data<T>();
    const T* wp = window ? window->data<T>() : nullptr;
    T* op = out->data<T>();
    ctx.ParallelFor(batch * frames, 1, [&](int64_t begin, int64_t end) {
      for (int64_t task = begin; task < end; ++task) {
        const int64_t b = task / frames, f = task % frames;
        const T* src = xp + (b * length + f * step) * comps;
        T* dst = op + task * bins * 2;
        DftLine(
            n, n, bins, false, tw,
            [&](int64_t m, double& re, double& im) {
              const double w = wp ? static_cast<double>(Load(wp[m])) : 1.0;
              re = static_cast<double>(Load(src[m * comps])) * w;
              im = comps == 2 ? static_cast<double>(Load(src[m * comps + 1])) * w : 0.0;
            },
            [&](int64_t k, double re, double im) {
              dst[2 * k] = FromDouble<T>(re);
              dst[2 * k + 1] = FromDouble<T>(im);
            });
      }
    });
    return Status::Ok();
  });
}

Status HannWindow(KernelContext& ctx) { return CosineWindow(ctx, 0.5, 0.5, 0.0); }
Status HammingWindow(KernelContext& ctx) { return CosineWindow(ctx, 25.0 / 46.0, 21.0 / 46.0, 0.0); }
Status BlackmanWindow(KernelContext& ctx) { return CosineWindow(ctx, 0.42, 0.5, 0.08); }

// The ONNX/ONNX Runtime construction: num_mel_bins + 2 points equally spaced on the mel scale
// mel(f) = 2595 log10(1 + f / 700) between the edges, mapped to spectrogram bins
// floor((dft_length + 1) * hz / sample_rate), and a triangle of peak 1 per mel band. Computed in
// double with mel(f) = (2595 / ln 10) log1p(f / 700) and its inverse 700 expm1(m ln 10 / 2595).
Status MelWeightMatrix(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(int64_t mel_bins, IntScalar(ctx, 0, "num_mel_bins"));
  IDEM_ASSIGN_OR_RETURN(int64_t dft_length, IntScalar(ctx, 1, "dft_length"));
  IDEM_ASSIGN_OR_RETURN(int64_t sample_rate, IntScalar(ctx, 2, "sample_rate"));
  IDEM_ASSIGN_OR_RETURN(double lower, FloatScalar(ctx, 3, "lower_edge_hertz"));
  IDEM_ASSIGN_OR_RETURN(double upper, FloatScalar(ctx, 4, "upper_edge_hertz"));
  IDEM_ASSIGN_OR_RETURN(DType dt, OutputDatatype(ctx));
  if (mel_bins <= 0) return ctx.Error("num_mel_bins must be positive, got ", mel_bins);
  if (dft_length <= 0) return ctx.Error("dft_length must be positive, got ", dft_length);
  if (sample_rate <= 0) return ctx.Error("sample_rate must be positive, got ", sample_rate);
  if (!(lower >= 0.0 && lower <= upper))
    return ctx.Error("need 0 <= lower_edge_hertz <= upper_edge_hertz, got ", lower, " and ", upper);
  const int64_t spec_bins = dft_length / 2 + 1;
  constexpr double kLn10 = 2.302585092994045684017991454684;
  const auto hz_to_mel = [&](double hz) { return 2595.0 / kLn10 * math::log1p(hz / 700.0); };
  const auto mel_to_hz = [&](double mel) { return 700.0 * math::expm1(mel * kLn10 / 2595.0); };
  const double low_mel = hz_to_mel(lower), high_mel = hz_to_mel(upper);
  const double mel_step = (high_mel - low_mel) / static_cast<double>(mel_bins + 2);
  std::vector<int64_t> fb(static_cast<size_t>(mel_bins + 2));
  for (int64_t i = 0; i < mel_bins + 2; ++i) {
    const double hz = mel_to_hz(std::fma(static_cast<double>(i), mel_step, low_mel));
    double bin = math::floor(static_cast<double>(dft_length + 1) * hz / static_cast<double>(sample_rate));
    if (!(bin < 0x1p53)) bin = 0x1p53;  // far past Nyquist (or inf): only its position matters
    fb[i] = static_cast<int64_t>(bin);
  }
  std::vector<double> w(static_cast<size_t>(spec_bins * mel_bins), 0.0);
  const auto set = [&](int64_t row, int64_t col, double v) {
    if (row >= 0 && row < spec_bins) w[row * mel_bins + col] = v;  // bins past Nyquist are dropped
  };
  for (int64_t i = 0; i < mel_bins; ++i) {
    const int64_t left = fb[i], center = fb[i + 1], right = fb[i + 2];
    const int64_t rise = center - left, fall = right - center;
    if (rise == 0) {
      set(center, i, 1.0);
    } else {
      for (int64_t j = left; j <= center && j < spec_bins; ++j)
        set(j, i, static_cast<double>(j - left) / static_cast<double>(rise));
    }
    if (fall > 0)
      for (int64_t j = center; j < right && j < spec_bins; ++j)
        set(j, i, static_cast<double>(right - j) / static_cast<double>(fall));
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, dt, {spec_bins, mel_bins}));
  return VisitDType<types::kNumeric>(dt, "MelWeightMatrix output", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = out->data<T>();
    for (size_t i = 0; i < w.size(); ++i) o[i] = FromDouble<T>(w[i]);
    return Status::Ok();
  });
}

}  // namespace idem::kernels
