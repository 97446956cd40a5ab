// Recurrent layers: RNN, GRU, LSTM (opsets 1–17), scalar reference kernels.
//
// Canonical arithmetic (DESIGN.md R1/R2). For gate g, hidden unit h, one step:
//   xw = ChainDot over i < input_size of x[i] * W[g*H+h][i]      (one sequential FMA chain)
//   hr = ChainDot over j < hidden_size of H_prev[j] * R[g*H+h][j] (one sequential FMA chain)
//   pre = (xw + (Wb + Rb)) + hr
// except for the GRU hidden gate, whose biases cannot be merged:
//   linear_before_reset = 0: pre = ((xw + Wbh) + ChainDot(r[j]*H_prev[j], Rh[h][j])) + Rbh
//   linear_before_reset = 1: pre = fma(r, hr + Rbh, xw + Wbh)
// Peepholes: pre = fma(P, C, pre). LSTM cell: C = fma(f, C_prev, i * c~); H = o * h(C).
// GRU: H = fma(z, H_prev, (1 - z) * h~). `clip` clamps every gate pre-activation (i, o, f, c of
// LSTM; z, r, h of GRU; the RNN gate) to [-clip, clip]; the LSTM cell state itself is not clipped.
// f16 inputs are computed in f32; the recurrent state stays in f32 between steps and outputs are
// rounded once when stored.
//
// Parallelism: every (direction, batch row) pair is an independent recurrence, so tasks are those
// pairs (grain 1); each task writes only its own slices of Y, Y_h and Y_c.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "core/math.h"
#include "kernels/canonical.h"
#include "kernels/kernel.h"

namespace idem::kernels {
namespace {

enum class ActKind {
  kRelu, kTanh, kSigmoid, kAffine, kLeakyRelu, kThresholdedRelu, kScaledTanh, kHardSigmoid, kElu,
  kSoftsign, kSoftplus
};

struct Activation {
  ActKind kind = ActKind::kTanh;
  float alpha = 0.0f;
  float beta = 0.0f;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct ActSpec {
  const char* name;
  ActKind kind;
  bool uses_alpha, uses_beta;
  float default_alpha, default_beta;
};

constexpr ActSpec kActSpecs[] = {
    {"relu", ActKind::kRelu, false, false, 0.0f, 0.0f},
    {"tanh", ActKind::kTanh, false, false, 0.0f, 0.0f},
    {"sigmoid", ActKind::kSigmoid, false, false, 0.0f, 0.0f},
    {"affine", ActKind::kAffine, true, true, 1.0f, 0.0f},
    {"leakyrelu", ActKind::kLeakyRelu, true, false, 0.01f, 0.0f},
    {"thresholdedrelu", ActKind::kThresholdedRelu, true, false, 1.0f, 0.0f},
    {"scaledtanh", ActKind::kScaledTanh, true, true, 1.0f, 1.0f},
    {"hardsigmoid", ActKind::kHardSigmoid, true, true, 0.2f, 0.5f},
    {"elu", ActKind::kElu, true, false, 1.0f, 0.0f},
    {"softsign", ActKind::kSoftsign, false, false, 0.0f, 0.0f},
    {"softplus", ActKind::kSoftplus, false, false, 0.0f, 0.0f},
};

template <typename C>
C ApplyActivation(const Activation& a, C x) {
  const C alpha = static_cast<C>(a.alpha), beta = static_cast<C>(a.beta);
  switch (a.kind) {
    case ActKind::kRelu: return x < C(0) ? C(0) : x;
    case ActKind::kTanh: return math::tanh(x);
    case ActKind::kSigmoid: return math::sigmoid(x);
    case ActKind::kAffine: return std::fma(alpha, x, beta);
    case ActKind::kLeakyRelu: return x >= C(0) ? x : alpha * x;
    case ActKind::kThresholdedRelu: return x < alpha ? C(0) : x;
    case ActKind::kScaledTanh: return alpha * math::tanh(beta * x);
    case ActKind::kHardSigmoid: {
      const C v = std::fma(alpha, x, beta);
      return v < C(0) ? C(0) : (v > C(1) ? C(1) : v);
    }
    case ActKind::kElu: return x >= C(0) ? x : alpha * math::expm1(x);
    case ActKind::kSoftsign: return x / (C(1) + std::fabs(x));
    case ActKind::kSoftplus: return math::softplus(x);
  }
  return x;
}

// Clamps to [-clip, clip] when clipping is enabled; NaN passes through.
template <typename C>
C Clip(C x, bool enabled, C clip) {
  if (!enabled) return x;
  return x < -clip ? -clip : (x > clip ? clip : x);
}

// The layout-independent description of one recurrent node.
struct RnnShape {
  int64_t seq = 0, batch = 0, input = 0, hidden = 0, dirs = 1;
  int64_t layout = 0;
  bool bidirectional = false, reverse = false;
  std::vector<int64_t> seq_lens;  // per batch row, validated to [0, seq]
  bool has_clip = false;
  float clip = 0.0f;
  std::vector<Activation> acts;  // per_dir activations for direction 0, then direction 1

  bool Reverse(int64_t dir) const { return reverse || (bidirectional && dir == 1); }
  int64_t XIndex(int64_t t, int64_t b) const {
    return (layout == 0 ? t * batch + b : b * seq + t) * input;
  }
  int64_t YIndex(int64_t t, int64_t d, int64_t b) const {
    return (layout == 0 ? (t * dirs + d) * batch + b : (b * seq + t) * dirs + d) * hidden;
  }
  int64_t StateIndex(int64_t d, int64_t b) const {  // initial_h / Y_h / initial_c / Y_c
    return (layout == 0 ? d * batch + b : b * dirs + d) * hidden;
  }
  Shape YShape() const {
    return layout == 0 ? Shape{seq, dirs, batch, hidden} : Shape{batch, seq, dirs, hidden};
  }
  Shape StateShape() const { return layout == 0 ? Shape{dirs, batch, hidden} : Shape{batch, dirs, hidden}; }
};

Status ParseActivations(const KernelContext& ctx, const std::vector<std::string>& defaults, RnnShape& s) {
  const size_t per_dir = defaults.size();
  std::vector<std::string> names = ctx.Strings("activations");
  if (names.empty()) {
    for (int64_t d = 0; d < s.dirs; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  } else if (names.size() == per_dir && s.dirs == 2) {
    // One direction's list for a bidirectional node: parsed once (with its alphas and betas) and
    // used for both directions, below.
  } else if (names.size() == 2 * per_dir && s.dirs == 1) {
    names.resize(per_dir);  // e.g. RNN-1's schema default ["Tanh", "Tanh"] on a forward RNN
  } else if (names.size() != per_dir * static_cast<size_t>(s.dirs)) {
    return ctx.Error("activations has ", names.size(), " entries; expected ", per_dir * s.dirs,
                     " (", per_dir, " per direction, ", s.dirs, " direction(s))");
  }
  const std::vector<float> alphas = ctx.Floats("activation_alpha");
  const std::vector<float> betas = ctx.Floats("activation_beta");
  size_t next_alpha = 0, next_beta = 0;
  for (const std::string& name : names) {
    const std::string lower = Lower(name);
    const ActSpec* spec = nullptr;
    for (const ActSpec& sp : kActSpecs)
      if (lower == sp.name) spec = &sp;
    if (!spec)
      return ctx.Error("activation '", name, "' is not one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ",
                       "ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus");
    Activation a;
    a.kind = spec->kind;
    a.alpha = spec->default_alpha;
    a.beta = spec->default_beta;
    // activation_alpha/beta are consumed in order by the activations that take them.
    if (spec->uses_alpha && next_alpha < alphas.size()) a.alpha = alphas[next_alpha++];
    if (spec->uses_beta && next_beta < betas.size()) a.beta = betas[next_beta++];
    s.acts.push_back(a);
  }
  if (s.acts.size() < per_dir * static_cast<size_t>(s.dirs)) {
    const std::vector<Activation> first = s.acts;
    s.acts.insert(s.acts.end(), first.begin(), first.end());
  }
  return Status::Ok();
}

// Validates X, W, R, sequence_lens, attributes and fills `s`. `gates` is 1 (RNN), 3 (GRU), 4 (LSTM).
Status ParseCommon(const KernelContext& ctx, int64_t gates, const std::vector<std::string>& default_acts,
                   RnnShape& s) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* w, ctx.InputTensor(1));
  IDEM_ASSIGN_OR_RETURN(const Tensor* r, ctx.InputTensor(2));
  if (!IsFloat(x->dtype())) return ctx.Error("X must be a floating-point tensor, got ", DTypeOnnxName(x->dtype()));
  if (w->dtype() != x->dtype() || r->dtype() != x->dtype())
    return ctx.Error("W and R must have X's element type ", DTypeOnnxName(x->dtype()));
  if (x->rank() != 3) return ctx.Error("X must have rank 3, got shape ", ShapeToString(x->shape()));
  s.layout = ctx.opset() >= 14 ? ctx.Int("layout", 0) : 0;
  if (s.layout != 0 && s.layout != 1) return ctx.Error("layout must be 0 or 1, got ", s.layout);
  s.seq = s.layout == 0 ? x->dim(0) : x->dim(1);
  s.batch = s.layout == 0 ? x->dim(1) : x->dim(0);
  s.input = x->dim(2);

  const std::string direction = ctx.String("direction", "forward");
  if (direction == "forward") {
  } else if (direction == "reverse") {
    s.reverse = true;
  } else if (direction == "bidirectional") {
    s.bidirectional = true;
    s.dirs = 2;
  } else {
    return ctx.Error("direction must be forward, reverse or bidirectional, got '", direction, "'");
  }

  if (r->rank() != 3) return ctx.Error("R must have rank 3, got shape ", ShapeToString(r->shape()));
  s.hidden = ctx.HasAttr("hidden_size") ? ctx.Int("hidden_size", 0) : r->dim(2);
  if (s.hidden <= 0) return ctx.Error("hidden_size must be positive, got ", s.hidden);
  const Shape w_want{s.dirs, gates * s.hidden, s.input};
  const Shape r_want{s.dirs, gates * s.hidden, s.hidden};
  if (w->shape() != w_want)
    return ctx.Error("W has shape ", ShapeToString(w->shape()), "; expected ", ShapeToString(w_want),
                     " [num_directions, ", gates, "*hidden_size, input_size]");
  if (r->shape() != r_want)
    return ctx.Error("R has shape ", ShapeToString(r->shape()), "; expected ", ShapeToString(r_want),
                     " [num_directions, ", gates, "*hidden_size, hidden_size]");
  if (ctx.has_input(3)) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* b, ctx.InputTensor(3));
    const Shape b_want{s.dirs, 2 * gates * s.hidden};
    if (b->dtype() != x->dtype()) return ctx.Error("B must have X's element type");
    if (b->shape() != b_want)
      return ctx.Error("B has shape ", ShapeToString(b->shape()), "; expected ", ShapeToString(b_want));
  }
  s.seq_lens.assign(static_cast<size_t>(s.batch), s.seq);
  if (ctx.has_input(4)) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* sl, ctx.InputTensor(4));
    if (sl->dtype() != DType::kI32 && sl->dtype() != DType::kI64)
      return ctx.Error("sequence_lens must be int32, got ", DTypeOnnxName(sl->dtype()));
    if (sl->rank() != 1 || sl->dim(0) != s.batch)
      return ctx.Error("sequence_lens has shape ", ShapeToString(sl->shape()), "; expected [", s.batch, "]");
    for (int64_t b = 0; b < s.batch; ++b) {
      const int64_t len = sl->IntAt(b);
      if (len < 0 || len > s.seq)
        return ctx.Error("sequence_lens[", b, "] = ", len, " is outside [0, seq_length = ", s.seq, "]");
      s.seq_lens[static_cast<size_t>(b)] = len;
    }
  }
  if (ctx.HasAttr("clip")) {
    s.has_clip = true;
    s.clip = ctx.Float("clip", 0.0f);
    if (!(s.clip >= 0.0f)) return ctx.Error("clip must be non-negative, got ", s.clip);
  }
  return ParseActivations(ctx, default_acts, s);
}

// Loads an optional input as compute-type values, checking dtype and shape; empty if absent.
template <typename T>
Status LoadOptional(const KernelContext& ctx, size_t index, const char* name, DType dtype, const Shape& want,
                    std::vector<ComputeT<T>>& out) {
  out.clear();
  if (!ctx.has_input(index)) return Status::Ok();
  IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(index));
  if (t->dtype() != dtype) return ctx.Error(name, " must have X's element type ", DTypeOnnxName(dtype));
  if (t->shape() != want)
    return ctx.Error(name, " has shape ", ShapeToString(t->shape()), "; expected ", ShapeToString(want));
  const T* p = t->data<T>();
  out.resize(static_cast<size_t>(t->numel()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = Load(p[i]);
  return Status::Ok();
}

template <typename T>
std::vector<ComputeT<T>> LoadAll(const Tensor& t) {
  std::vector<ComputeT<T>> out(static_cast<size_t>(t.numel()));
  const T* p = t.data<T>();
  for (size_t i = 0; i < out.size(); ++i) out[i] = Load(p[i]);
  return out;
}

// Output pointers (nullptr when the model omitted the output).
template <typename T>
struct RnnOutputs {
  T* y = nullptr;
  T* y_h = nullptr;
  T* y_c = nullptr;
};

template <typename T>
Status AllocateRnnOutputs(KernelContext& ctx, const RnnShape& s, DType dtype, bool has_cell, RnnOutputs<T>& o) {
  if (ctx.output_wanted(0)) {
    IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, dtype, s.YShape()));
    o.y = y->data<T>();
  }
  if (ctx.output_wanted(1)) {
    IDEM_ASSIGN_OR_RETURN(Tensor * yh, ctx.AllocateOutput(1, dtype, s.StateShape()));
    o.y_h = yh->data<T>();
  }
  if (has_cell && ctx.output_wanted(2)) {
    IDEM_ASSIGN_OR_RETURN(Tensor * yc, ctx.AllocateOutput(2, dtype, s.StateShape()));
    o.y_c = yc->data<T>();
  }
  return Status::Ok();
}

// Gate pre-activation without peepholes: (ChainDot(x, w_row) + bias) + ChainDot(h, r_row).
template <typename C>
C GatePre(const C* x, const C* w_row, int64_t input, C bias, const C* h, const C* r_row, int64_t hidden) {
  const C xw = ChainDot<C>(input, [&](int64_t k) { return x[k]; }, [&](int64_t k) { return w_row[k]; });
  const C hr = ChainDot<C>(hidden, [&](int64_t k) { return h[k]; }, [&](int64_t k) { return r_row[k]; });
  return (xw + bias) + hr;
}

// ---------------------------------------------------------------------------------------------
// RNN: H = f(X W^T + H R^T + Wb + Rb)

template <typename T>
Status RunRnn(KernelContext& ctx, const RnnShape& s) {
  using C = ComputeT<T>;
  const DType dt = ctx.input(0).dtype();
  const std::vector<C> x = LoadAll<T>(ctx.input(0)), w = LoadAll<T>(ctx.input(1)), r = LoadAll<T>(ctx.input(2));
  const int64_t H = s.hidden, I = s.input;
  std::vector<C> bias, h0;
  IDEM_RETURN_IF_ERROR(LoadOptional<T>(ctx, 3, "B", dt, {s.dirs, 2 * H}, bias));
  IDEM_RETURN_IF_ERROR(LoadOptional<T>(ctx, 5, "initial_h", dt, s.StateShape(), h0));
  RnnOutputs<T> out;
  IDEM_RETURN_IF_ERROR(AllocateRnnOutputs<T>(ctx, s, dt, false, out));
  const C clip = static_cast<C>(s.clip);

  ctx.ParallelFor(s.dirs * s.batch, 1, [&](int64_t begin, int64_t end) {
    std::vector<C> h(static_cast<size_t>(H)), next(static_cast<size_t>(H)), b(static_cast<size_t>(H), C(0));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t d = task / s.batch, bi = task % s.batch;
      const Activation& f = s.acts[static_cast<size_t>(d)];
      for (int64_t k = 0; k < H; ++k) {
        if (!bias.empty()) b[k] = bias[d * 2 * H + k] + bias[d * 2 * H + H + k];
        h[k] = h0.empty() ? C(0) : h0[s.StateIndex(d, bi) + k];
      }
      const C* wd = w.data() + d * H * I;
      const C* rd = r.data() + d * H * H;
      const int64_t len = s.seq_lens[static_cast<size_t>(bi)];
      for (int64_t step = 0; step < len; ++step) {
        const int64_t t = s.Reverse(d) ? len - 1 - step : step;
        const C* xt = x.data() + s.XIndex(t, bi);
        for (int64_t k = 0; k < H; ++k)
          next[k] = ApplyActivation(f, Clip(GatePre(xt, wd + k * I, I, b[k], h.data(), rd + k * H, H), s.has_clip, clip));
        h.swap(next);
        if (out.y)
          for (int64_t k = 0; k < H; ++k) out.y[s.YIndex(t, d, bi) + k] = Store<T>(h[k]);
      }
      if (out.y_h)
        for (int64_t k = 0; k < H; ++k) out.y_h[s.StateIndex(d, bi) + k] = Store<T>(h[k]);
    }
  });
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// GRU (gate order z, r, h)

template <typename T>
Status RunGru(KernelContext& ctx, const RnnShape& s) {
  using C = ComputeT<T>;
  const DType dt = ctx.input(0).dtype();
  const std::vector<C> x = LoadAll<T>(ctx.input(0)), w = LoadAll<T>(ctx.input(1)), r = LoadAll<T>(ctx.input(2));
  const int64_t H = s.hidden, I = s.input;
  std::vector<C> bias, h0;
  IDEM_RETURN_IF_ERROR(LoadOptional<T>(ctx, 3, "B", dt, {s.dirs, 6 * H}, bias));
  IDEM_RETURN_IF_ERROR(LoadOptional<T>(ctx, 5, "initial_h", dt, s.StateShape(), h0));
  RnnOutputs<T> out;
  IDEM_RETURN_IF_ERROR(AllocateRnnOutputs<T>(ctx, s, dt, false, out));
  const bool linear_before_reset = ctx.opset() >= 3 && ctx.Int("linear_before_reset", 0) != 0;
  const C clip = static_cast<C>(s.clip);

  ctx.ParallelFor(s.dirs * s.batch, 1, [&](int64_t begin, int64_t end) {
    const size_t n = static_cast<size_t>(H);
    std::vector<C> h(n), z(n), rg(n), rh(n), next(n);
    std::vector<C> bz(n, C(0)), br(n, C(0)), wbh(n, C(0)), rbh(n, C(0));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t d = task / s.batch, bi = task % s.batch;
      const Activation& f = s.acts[static_cast<size_t>(2 * d)];
      const Activation& g = s.acts[static_cast<size_t>(2 * d + 1)];
      for (int64_t k = 0; k < H; ++k) {
        if (!bias.empty()) {
          const C* bd = bias.data() + d * 6 * H;
          bz[k] = bd[k] + bd[3 * H + k];
          br[k] = bd[H + k] + bd[4 * H + k];
          wbh[k] = bd[2 * H + k];
          rbh[k] = bd[5 * H + k];
        }
        h[k] = h0.empty() ? C(0) : h0[s.StateIndex(d, bi) + k];
      }
      const C* wd = w.data() + d * 3 * H * I;
      const C* rd = r.data() + d * 3 * H * H;
      const int64_t len = s.seq_lens[static_cast<size_t>(bi)];
      for (int64_t step = 0; step < len; ++step) {
        const int64_t t = s.Reverse(d) ? len - 1 - step : step;
        const C* xt = x.data() + s.XIndex(t, bi);
        for (int64_t k = 0; k < H; ++k) {
          z[k] = ApplyActivation(f, Clip(GatePre(xt, wd + k * I, I, bz[k], h.data(), rd + k * H, H), s.has_clip, clip));
          rg[k] = ApplyActivation(
              f, Clip(GatePre(xt, wd + (H + k) * I, I, br[k], h.data(), rd + (H + k) * H, H), s.has_clip, clip));
          rh[k] = rg[k] * h[k];
        }
        for (int64_t k = 0; k < H; ++k) {
          const C* wrow = wd + (2 * H + k) * I;
          const C* rrow = rd + (2 * H + k) * H;
          const C xw = ChainDot<C>(I, [&](int64_t i) { return xt[i]; }, [&](int64_t i) { return wrow[i]; }) + wbh[k];
          C pre;
          if (linear_before_reset) {
            const C hr = ChainDot<C>(H, [&](int64_t j) { return h[j]; }, [&](int64_t j) { return rrow[j]; });
            pre = std::fma(rg[k], hr + rbh[k], xw);
          } else {
            const C hr = ChainDot<C>(H, [&](int64_t j) { return rh[j]; }, [&](int64_t j) { return rrow[j]; });
            pre = (xw + hr) + rbh[k];
          }
          const C ht = ApplyActivation(g, Clip(pre, s.has_clip, clip));
          next[k] = std::fma(z[k], h[k], (C(1) - z[k]) * ht);
        }
        h.swap(next);
        if (out.y)
          for (int64_t k = 0; k < H; ++k) out.y[s.YIndex(t, d, bi) + k] = Store<T>(h[k]);
      }
      if (out.y_h)
        for (int64_t k = 0; k < H; ++k) out.y_h[s.StateIndex(d, bi) + k] = Store<T>(h[k]);
    }
  });
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// LSTM (gate order i, o, f, c; peepholes i, o, f)

template <typename T>
Status RunLstm(KernelContext& ctx, const RnnShape& s) {
  using C = ComputeT<T>;
  const DType dt = ctx.input(0).dtype();
  const std::vector<C> x = LoadAll<T>(ctx.input(0)), w = LoadAll<T>(ctx.input(1)), r = LoadAll<T>(ctx.input(2));
  const int64_t H = s.hidden, I = s.input;
  std::vector<C> bias, h0, c0, peep;
  IDEM_RETURN_IF_ERROR(LoadOptional<T>(ctx, 3, "B", dt, {s.dirs, 8 * H}, bias));
  IDEM_RETURN_IF_ERROR(LoadOptional<T>(ctx, 5, "initial_h", dt, s.StateShape(), h0));
  IDEM_RETURN_IF_ERROR(LoadOptional<T>(ctx, 6, "initial_c", dt, s.StateShape(), c0));
  IDEM_RETURN_IF_ERROR(LoadOptional<T>(ctx, 7, "P", dt, {s.dirs, 3 * H}, peep));
  RnnOutputs<T> out;
  IDEM_RETURN_IF_ERROR(AllocateRnnOutputs<T>(ctx, s, dt, true, out));
  const bool input_forget = ctx.Int("input_forget", 0) != 0;
  const C clip = static_cast<C>(s.clip);

  ctx.ParallelFor(s.dirs * s.batch, 1, [&](int64_t begin, int64_t end) {
    const size_t n = static_cast<size_t>(H);
    std::vector<C> h(n), c(n), next_h(n), b(4 * n, C(0));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t d = task / s.batch, bi = task % s.batch;
      const Activation& f = s.acts[static_cast<size_t>(3 * d)];
      const Activation& g = s.acts[static_cast<size_t>(3 * d + 1)];
      const Activation& hact = s.acts[static_cast<size_t>(3 * d + 2)];
      for (int64_t k = 0; k < 4 * H; ++k)
        if (!bias.empty()) b[k] = bias[d * 8 * H + k] + bias[d * 8 * H + 4 * H + k];
      for (int64_t k = 0; k < H; ++k) {
        h[k] = h0.empty() ? C(0) : h0[s.StateIndex(d, bi) + k];
        c[k] = c0.empty() ? C(0) : c0[s.StateIndex(d, bi) + k];
      }
      const C* wd = w.data() + d * 4 * H * I;
      const C* rd = r.data() + d * 4 * H * H;
      const C* pd = peep.empty() ? nullptr : peep.data() + d * 3 * H;
      const int64_t len = s.seq_lens[static_cast<size_t>(bi)];
      for (int64_t step = 0; step < len; ++step) {
        const int64_t t = s.Reverse(d) ? len - 1 - step : step;
        const C* xt = x.data() + s.XIndex(t, bi);
        auto pre = [&](int64_t gate, int64_t k) {
          const int64_t row = gate * H + k;
          return GatePre(xt, wd + row * I, I, b[row], h.data(), rd + row * H, H);
        };
        for (int64_t k = 0; k < H; ++k) {
          C pi = pre(0, k), pf = pre(2, k);
          const C pc = pre(3, k);
          if (pd) {
            pi = std::fma(pd[k], c[k], pi);
            pf = std::fma(pd[2 * H + k], c[k], pf);
          }
          const C ig = ApplyActivation(f, Clip(pi, s.has_clip, clip));
          const C fg = input_forget ? C(1) - ig : ApplyActivation(f, Clip(pf, s.has_clip, clip));
          const C cg = ApplyActivation(g, Clip(pc, s.has_clip, clip));
          const C cell = std::fma(fg, c[k], ig * cg);
          C po = pre(1, k);
          if (pd) po = std::fma(pd[H + k], cell, po);
          const C og = ApplyActivation(f, Clip(po, s.has_clip, clip));
          next_h[k] = og * ApplyActivation(hact, cell);
          c[k] = cell;  // c[k] is read only by hidden unit k, so updating in place is safe
        }
        h.swap(next_h);
        if (out.y)
          for (int64_t k = 0; k < H; ++k) out.y[s.YIndex(t, d, bi) + k] = Store<T>(h[k]);
      }
      if (out.y_h)
        for (int64_t k = 0; k < H; ++k) out.y_h[s.StateIndex(d, bi) + k] = Store<T>(h[k]);
      if (out.y_c)
        for (int64_t k = 0; k < H; ++k) out.y_c[s.StateIndex(d, bi) + k] = Store<T>(c[k]);
    }
  });
  return Status::Ok();
}

}  // namespace

Status RNN(KernelContext& ctx) {
  RnnShape s;
  IDEM_RETURN_IF_ERROR(ParseCommon(ctx, 1, {"Tanh"}, s));
  return VisitDType<types::kFloat>(ctx.input(0).dtype(), "RNN",
                                   [&](auto tag) { return RunRnn<typename decltype(tag)::type>(ctx, s); });
}

Status GRU(KernelContext& ctx) {
  RnnShape s;
  IDEM_RETURN_IF_ERROR(ParseCommon(ctx, 3, {"Sigmoid", "Tanh"}, s));
  return VisitDType<types::kFloat>(ctx.input(0).dtype(), "GRU",
                                   [&](auto tag) { return RunGru<typename decltype(tag)::type>(ctx, s); });
}

Status LSTM(KernelContext& ctx) {
  RnnShape s;
  IDEM_RETURN_IF_ERROR(ParseCommon(ctx, 4, {"Sigmoid", "Tanh", "Tanh"}, s));
  return VisitDType<types::kFloat>(ctx.input(0).dtype(), "LSTM",
                                   [&](auto tag) { return RunLstm<typename decltype(tag)::type>(ctx, s); });
}

}  // namespace idem::kernels
