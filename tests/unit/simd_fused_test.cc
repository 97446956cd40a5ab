// The fused kernels' activations (kernels/simd/fused_act.h) and the fused kernels themselves
// (kernels/fused.cc: FusedMatMul, FusedConv with a residual, Gelu), BITWISE:
//  - every activation and every GELU form on every ISA against the scalar formula written out
//    here with idem::math (ragged lengths, misaligned spans, specials, with and without an addend,
//    in place);
//  - the Gelu kernel at 1, 2, 3 and 8 threads on every ISA against the formula and against the
//    decomposed ONNX sub-graph run op by op;
//  - FusedMatMul with each activation against MatMul + Add + the activation op(s), unfused;
//  - FusedConv with and without the residual input, each activation, against Conv + Add + act;
//  - Attention (SIMD row softmax) against the unfused ops on the scalar ISA;
//  - clear errors for bad activation parameters and a residual of the wrong shape.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/math.h"
#include "core/thread_pool.h"
#include "kernel_test_util.h"
#include "kernels/simd/fused_act.h"
#include "isa_test_util.h"
#include "kernels/simd/isa.h"

namespace idem::testing {
namespace {

using simd::FusedActivation;
using simd::FusedActKind;
using simd::GeluForm;
using simd::Isa;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr int kThreadCounts[] = {1, 2, 3, 8};

uint32_t BitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

// ---------------------------------------------------------------- the scalar formulas

float RefGelu(const GeluForm& g, float x) {
  float e;
  if (g.tanh_form) {
    float cube;
    if (g.cube_pow) {
      cube = math::pow(x, 3.0f);
    } else {
      const float x2 = x * x;
      cube = x * x2;
    }
    const float scaled = g.coef * cube;
    const float s = x + scaled;
    const float u = g.inner_scale * s;
    e = math::tanh(u);
  } else {
    const float u = g.inner_div ? x / g.inner_scale : x * g.inner_scale;
    e = math::erf(u);
  }
  const float t = e + 1.0f;
  if (g.half_mode == 1) {
    const float xh = x * 0.5f;
    return xh * t;
  }
  if (g.half_mode == 2) {
    const float th = t * 0.5f;
    return x * th;
  }
  const float xt = x * t;
  return xt * 0.5f;
}

float RefAct(const FusedActivation& a, float x) {
  switch (a.kind) {
    case FusedActKind::kNone: return x;
    case FusedActKind::kRelu: return x < 0.0f ? 0.0f : x;
    case FusedActKind::kLeakyRelu: return x < 0.0f ? a.a * x : x;
    case FusedActKind::kClip: {
      const float lo = x < a.a ? a.a : x;
      return lo > a.b ? a.b : lo;
    }
    case FusedActKind::kSigmoid: return math::sigmoid(x);
    case FusedActKind::kTanh: return math::tanh(x);
    case FusedActKind::kHardSigmoid: {
      const float v = std::fma(a.a, x, a.b);
      return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
    case FusedActKind::kSiLU: return x * math::sigmoid(x);
    case FusedActKind::kGelu: return RefGelu(a.gelu, x);
  }
  return x;
}

// ---------------------------------------------------------------- the activations under test

FusedActivation Act(FusedActKind kind, float a = 0.0f, float b = 0.0f) {
  FusedActivation act;
  act.kind = kind;
  act.a = a;
  act.b = b;
  return act;
}

FusedActivation GeluAct(bool tanh_form, bool alt, int half_mode) {
  FusedActivation act;
  act.kind = FusedActKind::kGelu;
  act.gelu.tanh_form = tanh_form;
  act.gelu.half_mode = half_mode;
  if (tanh_form) {
    act.gelu.inner_scale = 0.7978845834732056f;
    act.gelu.inner_div = false;
    act.gelu.coef = 0.044714998453855515f;
    act.gelu.cube_pow = alt;
  } else {
    act.gelu.inner_div = alt;
    act.gelu.inner_scale = alt ? 1.4142135381698608f : 0.70710677f;
  }
  return act;
}

std::string Describe(const FusedActivation& a) {
  std::string s = simd::FusedActName(a.kind);
  if (a.kind == FusedActKind::kGelu)
    s += std::string(a.gelu.tanh_form ? "(tanh" : "(erf") + (a.gelu.tanh_form ? (a.gelu.cube_pow ? ", pow" : ", x*x*x")
                                                                            : (a.gelu.inner_div ? ", div" : ", mul")) +
         ", half " + std::to_string(a.gelu.half_mode) + ")";
  return s;
}

std::vector<FusedActivation> AllActivations(bool with_none) {
  std::vector<FusedActivation> acts;
  if (with_none) acts.push_back(Act(FusedActKind::kNone));
  acts.push_back(Act(FusedActKind::kRelu));
  acts.push_back(Act(FusedActKind::kLeakyRelu, 0.1f));
  acts.push_back(Act(FusedActKind::kClip, -0.5f, 0.75f));
  acts.push_back(Act(FusedActKind::kSigmoid));
  acts.push_back(Act(FusedActKind::kTanh));
  acts.push_back(Act(FusedActKind::kHardSigmoid, 0.3f, 0.4f));
  acts.push_back(Act(FusedActKind::kSiLU));
  for (bool tanh_form : {false, true})
    for (bool alt : {false, true})
      for (int half = 0; half < 3; ++half) acts.push_back(GeluAct(tanh_form, alt, half));
  return acts;
}

// Random values with specials: NaN, infinities, zeros of both signs, subnormals, large values
// (where exp / erf / tanh saturate) and values near the GELU's interesting range.
std::vector<float> TestValues(size_t n, uint32_t seed) {
  std::vector<float> v = RandomFloats(n, seed, /*specials=*/true);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), kInf, -kInf, 0.0f, -0.0f, 1e-40f, -3e-39f,
                            88.5f, -88.5f, 3.4e38f, -3.4e38f, 9.5f, -9.5f, 1e-20f, 0.5f, -3.0f};
  for (size_t i = 0; i < n; i += 7) v[i] = specials[(i / 7) % 16];
  return v;
}

// ---------------------------------------------------------------- spans

TEST(FusedActSpans, EveryActivationEveryIsaEqualsTheScalarFormulaBitwise) {
  const size_t sizes[] = {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 257};
  const std::vector<float> values = TestValues(300, 1);
  const std::vector<float> addends = TestValues(300, 2);
  int checked = 0;
  for (const FusedActivation& act : AllActivations(/*with_none=*/true)) {
    SCOPED_TRACE(Describe(act));
    for (Isa isa : SupportedIsas()) {
      const simd::FusedActSpanFn span = simd::FusedActSpanFor(isa);
      for (size_t n : sizes)
        for (size_t offset : {0u, 1u, 5u})
          for (bool with_addend : {false, true})
            for (bool in_place : {false, true}) {
              std::vector<float> x(n + offset + 1), add(n + offset + 1), y(n + offset + 1, -7.0f);
              for (size_t i = 0; i < n; ++i) {
                x[offset + i] = values[offset + i];
                add[offset + i] = addends[i];
              }
              const std::vector<float> x0 = x;
              float* out = in_place ? x.data() + offset : y.data() + offset;
              span(act, x.data() + offset, with_addend ? add.data() + offset : nullptr, out, n);
              for (size_t i = 0; i < n; ++i) {
                const float in = with_addend ? x0[offset + i] + add[offset + i] : x0[offset + i];
                const float want = RefAct(act, in);
                ASSERT_EQ(BitsOf(out[i]), BitsOf(want))
                    << simd::IsaName(isa) << " n=" << n << " offset=" << offset << " addend=" << with_addend
                    << " in_place=" << in_place << " element " << i << " x=" << x0[offset + i] << ": got " << out[i]
                    << ", want " << want;
              }
              // Nothing outside [offset, offset + n) is written.
              if (!in_place) {
                for (size_t i = 0; i < offset; ++i) ASSERT_EQ(y[i], -7.0f);
                ASSERT_EQ(y[offset + n], -7.0f);
              }
              ++checked;
            }
    }
  }
  std::printf("checked %d (activation, isa, length, offset, addend, in-place) spans\n", checked);
}

// ---------------------------------------------------------------- ONNX ops, unfused

Tensor RunOp(Op& op) {
  const Status st = op.Run();
  EXPECT_TRUE(st.ok()) << st.message();
  return st.ok() ? op.out(0) : Tensor();
}

Tensor Unary(const char* type, const Tensor& x, std::map<std::string, Attribute> attrs = {}) {
  Op op(type, 17);
  for (auto& [k, v] : attrs) op.Attr(k, v);
  op.In(x);
  return RunOp(op);
}

Tensor Binary(const char* type, const Tensor& a, const Tensor& b) {
  Op op(type, 17);
  op.In(a).In(b);
  return RunOp(op);
}

Tensor Scalar(float v) { return F32({v}, {}); }

// The decomposed GELU sub-graph of `g`, op by op (as torch exports it).
Tensor UnfusedGelu(const GeluForm& g, const Tensor& x) {
  Tensor e;
  if (g.tanh_form) {
    const Tensor cube = g.cube_pow ? Binary("Pow", x, Scalar(3.0f)) : Binary("Mul", x, Binary("Mul", x, x));
    const Tensor s = Binary("Add", x, Binary("Mul", Scalar(g.coef), cube));
    e = Unary("Tanh", Binary("Mul", Scalar(g.inner_scale), s));
  } else {
    e = Unary("Erf", Binary(g.inner_div ? "Div" : "Mul", x, Scalar(g.inner_scale)));
  }
  const Tensor t = Binary("Add", e, Scalar(1.0f));
  if (g.half_mode == 1) return Binary("Mul", Binary("Mul", x, Scalar(0.5f)), t);
  if (g.half_mode == 2) return Binary("Mul", x, Binary("Mul", t, Scalar(0.5f)));
  return Binary("Mul", Binary("Mul", x, t), Scalar(0.5f));
}

// The ONNX op(s) the activation replaces.
Tensor UnfusedAct(const FusedActivation& a, const Tensor& x) {
  switch (a.kind) {
    case FusedActKind::kNone: return x;
    case FusedActKind::kRelu: return Unary("Relu", x);
    case FusedActKind::kLeakyRelu: return Unary("LeakyRelu", x, {{"alpha", FloatAttr(a.a)}});
    case FusedActKind::kClip: {
      Op op("Clip", 17);
      op.In(x).In(Scalar(a.a)).In(Scalar(a.b));
      return RunOp(op);
    }
    case FusedActKind::kSigmoid: return Unary("Sigmoid", x);
    case FusedActKind::kTanh: return Unary("Tanh", x);
    case FusedActKind::kHardSigmoid:
      return Unary("HardSigmoid", x, {{"alpha", FloatAttr(a.a)}, {"beta", FloatAttr(a.b)}});
    case FusedActKind::kSiLU: return Binary("Mul", x, Unary("Sigmoid", x));
    case FusedActKind::kGelu: return UnfusedGelu(a.gelu, x);
  }
  return x;
}

// The attributes of a fused op for `a` (kernels/fused.cc's encoding).
void SetActivationAttrs(Op& op, const FusedActivation& a) {
  if (a.kind == FusedActKind::kNone) return;
  op.Attr("activation", StringAttr(simd::FusedActName(a.kind)));
  std::vector<float> p;
  switch (a.kind) {
    case FusedActKind::kLeakyRelu: p = {a.a}; break;
    case FusedActKind::kClip:
    case FusedActKind::kHardSigmoid: p = {a.a, a.b}; break;
    case FusedActKind::kGelu:
      p = {a.gelu.tanh_form ? 1.0f : 0.0f, a.gelu.inner_scale, a.gelu.inner_div ? 1.0f : 0.0f, a.gelu.coef,
           a.gelu.cube_pow ? 1.0f : 0.0f, static_cast<float>(a.gelu.half_mode)};
      break;
    default: break;
  }
  if (!p.empty()) op.Attr("activation_params", FloatsAttr(p));
}

// ---------------------------------------------------------------- Gelu kernel

TEST(FusedKernels, GeluEveryFormEveryIsaAndThreadCountBitwise) {
  const Shape shape = {3, 1001};
  const Tensor x = F32(TestValues(3003, 5), shape);
  for (bool tanh_form : {false, true})
    for (bool alt : {false, true})
      for (int half = 0; half < 3; ++half) {
        const FusedActivation act = GeluAct(tanh_form, alt, half);
        SCOPED_TRACE(Describe(act));
        std::vector<uint32_t> want;
        for (float v : Values<float>(x)) want.push_back(BitsOf(RefGelu(act.gelu, v)));
        for (Isa isa : SupportedIsas()) {
          IsaScope scope(isa);
          EXPECT_EQ(Bits(UnfusedGelu(act.gelu, x)), want) << "unfused ONNX ops, " << simd::IsaName(isa);
          for (int threads : kThreadCounts) {
            ThreadPool pool(threads);
            Op op("Gelu", 1, "idem");
            op.Attr("approximate", StringAttr(tanh_form ? "tanh" : "none"))
                .Attr("inner_scale", FloatAttr(act.gelu.inner_scale))
                .Attr("inner_div", IntAttr(act.gelu.inner_div ? 1 : 0))
                .Attr("coef", FloatAttr(act.gelu.coef))
                .Attr("cube_pow", IntAttr(act.gelu.cube_pow ? 1 : 0))
                .Attr("half_mode", IntAttr(half));
            op.In(x);
            const Status st = op.Run(&pool);
            ASSERT_TRUE(st.ok()) << st.message();
            ASSERT_EQ(op.out().shape(), shape);
            EXPECT_EQ(Bits(op.out()), want) << simd::IsaName(isa) << ", " << threads << " threads";
          }
        }
      }
}

// ---------------------------------------------------------------- FusedMatMul

TEST(FusedKernels, FusedMatMulEachActivationEqualsUnfusedBitwise) {
  struct Case {
    int64_t M, K, N;
    bool trans_b;
  };
  // (K = 300: two K blocks; N = 70: a ragged last panel; M = 130: several row groups.)
  const Case cases[] = {{5, 7, 9, false}, {130, 300, 70, false}, {17, 33, 40, true}};
  uint32_t seed = 100;
  for (const Case& c : cases) {
    SCOPED_TRACE("M=" + std::to_string(c.M) + " K=" + std::to_string(c.K) + " N=" + std::to_string(c.N));
    const Tensor a = F32(TestValues(static_cast<size_t>(c.M * c.K), seed++), {c.M, c.K});
    const Shape b_shape = c.trans_b ? Shape{c.N, c.K} : Shape{c.K, c.N};
    const Tensor b = F32(RandomFloats(static_cast<size_t>(c.K * c.N), seed++), b_shape);
    const Tensor bias = F32(RandomFloats(static_cast<size_t>(c.N), seed++), {c.N});
    for (const FusedActivation& act : AllActivations(/*with_none=*/true)) {
      SCOPED_TRACE(Describe(act));
      std::vector<uint32_t> want;
      {
        IsaScope scalar(Isa::kScalar);
        Tensor prod;
        if (c.trans_b) {
          Op gemm("Gemm", 17);
          gemm.Attr("transB", IntAttr(1)).In(a).In(b);
          prod = RunOp(gemm);
        } else {
          prod = Binary("MatMul", a, b);
        }
        want = Bits(UnfusedAct(act, Binary("Add", prod, bias)));
      }
      ASSERT_FALSE(want.empty());
      for (Isa isa : SupportedIsas()) {
        IsaScope scope(isa);
        for (int threads : kThreadCounts) {
          ThreadPool pool(threads);
          for (bool prepared : {false, true}) {
            Op op("FusedMatMul", 1, "idem");
            if (c.trans_b) op.Attr("trans_b", IntAttr(1));
            SetActivationAttrs(op, act);
            op.In(a).In(b).In(bias);
            if (prepared) op.ConstantInputs({1, 2});
            const Status st = op.Run(&pool);
            ASSERT_TRUE(st.ok()) << st.message();
            if (prepared) {
              EXPECT_NE(op.prepared(), nullptr);
            }
            ASSERT_EQ(Bits(op.out()), want) << simd::IsaName(isa) << ", " << threads << " threads, prepared "
                                            << prepared;
          }
        }
      }
    }
  }
}

TEST(FusedKernels, FusedMatMulRejectsBadActivationParameters) {
  const Tensor a = F32(RandomFloats(6, 1), {2, 3});
  const Tensor b = F32(RandomFloats(12, 2), {3, 4});
  struct Bad {
    const char* name;
    std::vector<float> params;
    const char* message;
  };
  const Bad bad[] = {{"Gelu", {0, 1.4f, 1, 0.04f, 0}, "takes 6 activation_params"},
                     {"Gelu", {2, 1.4f, 1, 0.04f, 0, 0}, "approximate must be 0 or 1"},
                     {"Gelu", {0, 1.4f, 1, 0.04f, 0, 3}, "half_mode must be 0, 1 or 2"},
                     {"Swish", {}, "unknown activation 'Swish'"},
                     {"LeakyRelu", {}, "takes 1 activation_params"}};
  for (const Bad& c : bad) {
    Op op("FusedMatMul", 1, "idem");
    op.Attr("activation", StringAttr(c.name));
    if (!c.params.empty()) op.Attr("activation_params", FloatsAttr(c.params));
    op.In(a).In(b);
    const Status st = op.Run();
    ASSERT_FALSE(st.ok()) << c.name;
    EXPECT_NE(st.message().find(c.message), std::string::npos) << st.message();
  }
}

// ---------------------------------------------------------------- FusedConv

struct ConvCase {
  Shape x, w;
  int64_t group;
  std::vector<int64_t> strides, pads;
  Shape y;
};

Op MakeConvOp(const char* type, const char* domain, int opset, const ConvCase& c) {
  Op op(type, opset, domain);
  op.Attr("group", IntAttr(c.group)).Attr("strides", IntsAttr(c.strides)).Attr("pads", IntsAttr(c.pads));
  return op;
}

TEST(FusedKernels, FusedConvWithResidualAndActivationEqualsUnfusedBitwise) {
  const ConvCase cases[] = {
      {{2, 5, 9, 11}, {7, 5, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}, {2, 7, 9, 11}},  // im2col + GEMM, ragged
      {{1, 16, 8, 8}, {20, 16, 1, 1}, 1, {2, 2}, {0, 0, 0, 0}, {1, 20, 4, 4}},  // 1x1, stride 2
      {{1, 6, 10, 9}, {6, 1, 3, 3}, 6, {1, 1}, {1, 1, 1, 1}, {1, 6, 10, 9}},   // depthwise
      {{1, 3, 40, 40}, {33, 3, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}, {1, 33, 40, 40}},  // several column tiles
  };
  const std::vector<FusedActivation> acts = {Act(FusedActKind::kNone),       Act(FusedActKind::kRelu),
                                             Act(FusedActKind::kClip, -0.5f, 0.75f), Act(FusedActKind::kSigmoid),
                                             Act(FusedActKind::kSiLU),       Act(FusedActKind::kLeakyRelu, 0.1f),
                                             GeluAct(false, true, 0)};
  uint32_t seed = 300;
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(ShapeToString(c.x) + " * " + ShapeToString(c.w));
    const Tensor x = F32(RandomFloats(static_cast<size_t>(NumElements(c.x)), seed++, true), c.x);
    const Tensor w = F32(RandomFloats(static_cast<size_t>(NumElements(c.w)), seed++), c.w);
    const Tensor bias = F32(RandomFloats(static_cast<size_t>(c.w[0]), seed++), {c.w[0]});
    const Tensor sum = F32(TestValues(static_cast<size_t>(NumElements(c.y)), seed++), c.y);
    for (bool with_bias : {true, false})
      for (bool with_sum : {true, false})
        for (const FusedActivation& act : acts) {
          if (!with_sum && act.kind == FusedActKind::kNone) continue;
          SCOPED_TRACE(Describe(act) + (with_bias ? " bias" : "") + (with_sum ? " residual" : ""));
          std::vector<uint32_t> want;
          {
            IsaScope scalar(Isa::kScalar);
            Op conv = MakeConvOp("Conv", "", 17, c);
            conv.In(x).In(w);
            if (with_bias) conv.In(bias);
            Tensor y = RunOp(conv);
            ASSERT_EQ(y.shape(), c.y);
            if (with_sum) y = Binary("Add", y, sum);
            want = Bits(UnfusedAct(act, y));
          }
          for (Isa isa : SupportedIsas()) {
            IsaScope scope(isa);
            for (int threads : kThreadCounts) {
              ThreadPool pool(threads);
              for (bool prepared : {false, true}) {
                Op op = MakeConvOp("FusedConv", "idem", 1, c);
                SetActivationAttrs(op, act);
                op.In(x).In(w).In(with_bias ? bias : Tensor());
                if (with_sum) op.In(sum);
                if (prepared) op.ConstantInputs({1, 2});
                const Status st = op.Run(&pool);
                ASSERT_TRUE(st.ok()) << st.message();
                ASSERT_EQ(Bits(op.out()), want) << simd::IsaName(isa) << ", " << threads << " threads, prepared "
                                                << prepared;
              }
            }
          }
        }
  }
}

TEST(FusedKernels, FusedConvRejectsAResidualOfTheWrongShape) {
  const ConvCase c = {{1, 2, 5, 5}, {3, 2, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}, {1, 3, 5, 5}};
  for (Isa isa : SupportedIsas()) {
    IsaScope scope(isa);
    Op op = MakeConvOp("FusedConv", "idem", 1, c);
    op.Attr("activation", StringAttr("Relu"));
    op.In(F32(RandomFloats(50, 1), c.x)).In(F32(RandomFloats(54, 2), c.w)).In(Tensor());
    op.In(F32(RandomFloats(25, 3), {1, 1, 5, 5}));  // broadcastable, but not the output's shape
    const Status st = op.Run();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("residual input 'sum' has shape [1,1,5,5] and type float; expected the Conv "
                                "output's shape [1,3,5,5]"),
              std::string::npos)
        << st.message();
  }
}

// ---------------------------------------------------------------- Attention

// Attention (SIMD row softmax on the SIMD ISAs) == MatMul, Mul, Add / Where, Softmax, MatMul run
// op by op on the scalar ISA, on every ISA and thread count; rows of 37 scores (ragged vectors).
// Masks: none; additive [2,1,1,37] (per sample and score column); Where [1,1,5,37] (per row and
// column); additive [1,3,5,1] (per head and row, the same for every score column: stride 0).
TEST(FusedKernels, AttentionEveryIsaAndThreadCountEqualsUnfusedBitwise) {
  const Tensor q = F32(RandomFloats(2 * 3 * 5 * 8, 400), {2, 3, 5, 8});
  const Tensor kt = F32(RandomFloats(2 * 3 * 8 * 37, 401), {2, 3, 8, 37});
  const Tensor v = F32(RandomFloats(2 * 3 * 37 * 4, 402), {2, 3, 37, 4});
  const Tensor add_mask = F32(RandomFloats(2 * 37, 403, true), {2, 1, 1, 37});
  const Tensor row_mask = F32(RandomFloats(3 * 5, 404, true), {1, 3, 5, 1});
  Tensor where_mask = Tensor::Make(DType::kBool, {1, 1, 5, 37});
  for (int i = 0; i < 5 * 37; ++i) where_mask.data<bool>()[i] = i % 37 <= (i / 37) * 7;
  const float scale = 0.35355339f, fill = -3.4028234663852886e+38f;
  for (int variant = 0; variant < 4; ++variant) {
    SCOPED_TRACE(variant);
    const int mask_kind = variant == 3 ? 1 : variant;
    const Tensor& additive = variant == 3 ? row_mask : add_mask;
    std::vector<uint32_t> want;
    {
      IsaScope scalar(Isa::kScalar);
      Tensor s = Binary("Mul", Binary("MatMul", q, kt), Scalar(scale));
      if (mask_kind == 1) s = Binary("Add", s, additive);
      if (mask_kind == 2) {
        Op where("Where", 17);
        where.In(where_mask).In(s).In(Scalar(fill));
        s = RunOp(where);
      }
      want = Bits(Binary("MatMul", Unary("Softmax", s, {{"axis", IntAttr(-1)}}), v));
    }
    for (Isa isa : SupportedIsas()) {
      IsaScope scope(isa);
      for (int threads : kThreadCounts) {
        ThreadPool pool(threads);
        Op op("Attention", 1, "idem");
        op.Attr("scale", FloatAttr(scale)).Attr("mask_kind", IntAttr(mask_kind)).Attr("fill", FloatAttr(fill));
        op.In(q).In(kt).In(v);
        if (mask_kind == 1) op.In(additive);
        if (mask_kind == 2) op.In(where_mask);
        const Status st = op.Run(&pool);
        ASSERT_TRUE(st.ok()) << st.message();
        ASSERT_EQ(Bits(op.out()), want) << simd::IsaName(isa) << ", " << threads << " threads";
      }
    }
  }
}

}  // namespace
}  // namespace idem::testing
