// Graph passes (src/passes): each pass on small hand-built graphs, checking the rewritten graph
// (op counts, connections, output names, provenance) and its numerical result against the graph
// before the pass, run through the Executor: bitwise where the pass must not change bits, within a
// tolerance where it changes rounding (Conv+BN folding, LayerNormalization).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "kernel_test_util.h"
#include "onnx/import.h"
#include "passes/dump.h"
#include "passes/graph_util.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "runtime/executor.h"

namespace idem::passes {
namespace {

using testing::Bits;
using testing::F32;
using testing::FloatAttr;
using testing::I64;
using testing::IntAttr;
using testing::IntsAttr;
using testing::RandomFloats;
using testing::StringAttr;

// Builds a graph node by node; every value gets a static f32 type unless told otherwise.
class Builder {
 public:
  Builder() { g_.opsets[""] = 17; }
  int Input(const std::string& name, Shape shape, DType dt = DType::kF32) {
    Value v;
    v.name = name;
    v.is_graph_input = true;
    v.type = Type(dt, shape);
    const int id = g_.AddValue(std::move(v));
    g_.inputs.push_back(id);
    return id;
  }
  int Const(const std::string& name, Tensor t) {
    Value v;
    v.name = name;
    v.type = Type(t.dtype(), t.shape());
    v.has_initializer = true;
    v.initializer = std::move(t);
    return g_.AddValue(std::move(v));
  }
  // Adds a node with `outputs` outputs named <name>_out<i>; returns the first output's index.
  int Op(const std::string& op, const std::string& name, std::vector<int> inputs, Shape out_shape,
         std::map<std::string, Attribute> attrs = {}, int outputs = 1, DType out_type = DType::kF32, int opset = 17) {
    Node n;
    n.op_type = op;
    n.name = name;
    n.opset = opset;
    n.inputs = std::move(inputs);
    n.attributes = std::move(attrs);
    n.provenance = {name};
    const int node_index = static_cast<int>(g_.nodes.size());
    int first = -1;
    for (int i = 0; i < outputs; ++i) {
      Value v;
      v.name = StrCat(name, "_out", i);
      v.type = Type(out_type, out_shape);
      v.producer = node_index;
      const int id = g_.AddValue(std::move(v));
      n.outputs.push_back(id);
      if (i == 0) first = id;
    }
    g_.AddNode(std::move(n));
    return first;
  }
  void Output(int v) { g_.outputs.push_back(v); }
  Graph& graph() { return g_; }

 private:
  static ValueType Type(DType dt, const Shape& s) {
    ValueType t;
    t.kind = ValueType::Kind::kTensor;
    t.elem = dt;
    t.has_shape = true;
    for (int64_t d : s) t.dims.push_back(Dim{d, ""});
    return t;
  }
  Graph g_;
};

std::vector<Tensor> RunGraph(const Graph& g, const std::vector<Tensor>& inputs) {
  auto exec = Executor::Create(std::make_shared<Graph>(g));
  EXPECT_TRUE(exec.ok()) << exec.status().message();
  if (!exec.ok()) return {};
  std::vector<RtValue> in(inputs.begin(), inputs.end());
  auto out = exec.value()->Run(std::move(in), RunOptions{});
  EXPECT_TRUE(out.ok()) << out.status().message();
  if (!out.ok()) return {};
  std::vector<Tensor> result;
  for (const RtValue& v : out.value()) result.push_back(std::get<Tensor>(v));
  return result;
}

int64_t Count(const Graph& g, const std::string& op) {
  auto counts = CountOps(g);
  auto it = counts.find(op);
  return it == counts.end() ? 0 : it->second;
}

std::vector<std::string> OutputNames(const Graph& g) {
  std::vector<std::string> names;
  for (int o : g.outputs) names.push_back(g.values[static_cast<size_t>(o)].name);
  return names;
}

// Runs `pass` on a copy of g; expects `changes`, the same output names and bitwise-equal outputs.
template <typename Pass>
Graph ApplyBitwise(const Graph& g, Pass pass, const std::vector<Tensor>& inputs, int64_t changes) {
  Graph opt = g;
  auto r = pass(&opt);
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (r.ok()) {
    EXPECT_EQ(r.value(), changes);
  }
  EXPECT_EQ(OutputNames(opt), OutputNames(g));
  const auto before = RunGraph(g, inputs);
  const auto after = RunGraph(opt, inputs);
  EXPECT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size() && i < after.size(); ++i) {
    EXPECT_EQ(before[i].shape(), after[i].shape());
    EXPECT_EQ(before[i].dtype(), after[i].dtype());
    if (before[i].dtype() == DType::kF32) EXPECT_EQ(Bits(before[i]), Bits(after[i])) << "output " << i;
    else EXPECT_TRUE(before[i].Equals(after[i])) << "output " << i;
  }
  return opt;
}

float MaxAbsDiff(const Tensor& a, const Tensor& b) {
  float m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(a.data<float>()[i] - b.data<float>()[i]));
  return m;
}

Tensor Rand(Shape s, uint32_t seed, float scale = 1.0f) {
  std::vector<float> v = RandomFloats(static_cast<size_t>(NumElements(s)), seed, true);
  for (float& f : v) f *= scale;
  return F32(v, std::move(s));
}

// ---------------------------------------------------------------- constant folding

TEST(ConstantFolding, FoldsConstantChainsShapeAndConstantNodes) {
  Builder b;
  const int x = b.Input("x", {2, 3});
  const int c1 = b.Const("c1", Rand({2, 3}, 1));
  const int c2 = b.Const("c2", Rand({2, 3}, 2));
  const int e = b.Op("Exp", "exp", {c1}, {2, 3});
  const int s = b.Op("Add", "add", {e, c2}, {2, 3});
  const int k = b.Op("Constant", "k", {}, {}, {{"value", testing::TensorAttr(F32({0.25f}, {}))}});
  const int y = b.Op("Mul", "mul", {x, s}, {2, 3});
  const int z = b.Op("Mul", "mulk", {y, k}, {2, 3});
  const int shp = b.Op("Shape", "shape", {x}, {2}, {}, 1, DType::kI64);
  const int rs = b.Op("Reshape", "reshape", {z, shp}, {2, 3});
  b.Output(rs);
  const Graph& g = b.graph();
  Graph opt = ApplyBitwise(g, FoldConstants, {Rand({2, 3}, 3)}, 4);  // exp, add, k, shape
  EXPECT_EQ(opt.nodes.size(), 3u);
  EXPECT_EQ(Count(opt, "Exp"), 0);
  EXPECT_EQ(Count(opt, "Shape"), 0);
  EXPECT_EQ(Count(opt, "Constant"), 0);
  // The folded Add holds exactly the kernel's bits.
  const Value& folded = opt.values[static_cast<size_t>(opt.FindValue("add_out0"))];
  ASSERT_TRUE(folded.has_initializer);
  EXPECT_EQ(folded.initializer.shape(), (Shape{2, 3}));
}

TEST(ConstantFolding, NeverFoldsRandomOpsOrGraphInputsWithDefaults) {
  Builder b;
  const int shape = b.Const("shape", I64({2, 2}, {2}));
  const int r = b.Op("RandomUniform", "rand", {}, {2, 2}, {{"shape", IntsAttr({2, 2})}});
  (void)shape;
  const int d = b.Input("d", {2, 2});
  b.graph().values[static_cast<size_t>(d)].has_initializer = true;  // an input with a default
  b.graph().values[static_cast<size_t>(d)].initializer = Rand({2, 2}, 4);
  const int y = b.Op("Add", "add", {r, d}, {2, 2});
  const int n = b.Op("Neg", "neg", {d}, {2, 2});
  b.Output(y);
  b.Output(n);
  Graph opt = b.graph();
  auto r2 = FoldConstants(&opt);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2.value(), 0);
  EXPECT_EQ(opt.nodes.size(), 3u);
}

// ---------------------------------------------------------------- dead code

TEST(DeadCode, RemovesUnusedNodesAndInitializersKeepsOutputs) {
  Builder b;
  const int x = b.Input("x", {4});
  b.Const("unused_w", Rand({4}, 5));
  const int w = b.Const("w", Rand({4}, 6));
  const int dead1 = b.Op("Exp", "dead1", {x}, {4});
  b.Op("Neg", "dead2", {dead1}, {4});
  const int y = b.Op("Add", "add", {x, w}, {4});
  b.Output(y);
  Graph opt = ApplyBitwise(b.graph(), EliminateDeadCode, {Rand({4}, 7)}, 3);
  EXPECT_EQ(opt.nodes.size(), 1u);
  EXPECT_LT(opt.FindValue("unused_w"), 0);
  EXPECT_GE(opt.FindValue("w"), 0);
}

// ---------------------------------------------------------------- CSE

TEST(Cse, MergesEqualNodesKeepsFirstNeverRandom) {
  Builder b;
  const int x = b.Input("x", {3, 4});
  const int a1 = b.Op("Softmax", "sm1", {x}, {3, 4}, {{"axis", IntAttr(1)}});
  const int a2 = b.Op("Softmax", "sm2", {x}, {3, 4}, {{"axis", IntAttr(1)}});
  const int a3 = b.Op("Softmax", "sm3", {x}, {3, 4}, {{"axis", IntAttr(0)}});  // other attribute
  const int c1 = b.Const("c1", F32({2.0f}, {}));
  const int c2 = b.Const("c2", F32({2.0f}, {}));  // same constant, other name
  const int m1 = b.Op("Mul", "m1", {a1, c1}, {3, 4});
  const int m2 = b.Op("Mul", "m2", {a2, c2}, {3, 4});
  const int s = b.Op("Sub", "sub", {m1, m2}, {3, 4});
  const int s3 = b.Op("Add", "add", {s, a3}, {3, 4});
  const int r1 = b.Op("RandomUniformLike", "r1", {x}, {3, 4});
  const int r2 = b.Op("RandomUniformLike", "r2", {x}, {3, 4});
  const int rs = b.Op("Sub", "rsub", {r1, r2}, {3, 4});
  b.Output(s3);
  b.Output(rs);
  Graph opt = ApplyBitwise(b.graph(), EliminateCommonSubexpressions, {Rand({3, 4}, 8)}, 3);  // c2, sm2, m2
  EXPECT_EQ(Count(opt, "Softmax"), 2);
  EXPECT_EQ(Count(opt, "Mul"), 1);
  EXPECT_EQ(Count(opt, "RandomUniformLike"), 2);
  EXPECT_GE(opt.FindValue("sm1_out0"), 0);  // the first one stays
  EXPECT_LT(opt.FindValue("sm2_out0"), 0);
}

// ---------------------------------------------------------------- identities

TEST(Identity, RemovesNoOpsAndKeepsGraphOutputNames) {
  Builder b;
  const int x = b.Input("x", {2, 3});
  const int e = b.Op("Exp", "exp", {x}, {2, 3});
  const int i1 = b.Op("Identity", "id", {e}, {2, 3});
  const int c = b.Op("Cast", "cast", {i1}, {2, 3}, {{"to", IntAttr(static_cast<int64_t>(DType::kF32))}});
  const int t = b.Op("Transpose", "tr", {c}, {2, 3}, {{"perm", IntsAttr({0, 1})}});
  const int shp = b.Const("shape", I64({2, 3}, {2}));
  const int r = b.Op("Reshape", "rs", {t, shp}, {2, 3});
  const int d = b.Op("Dropout", "drop", {r}, {2, 3}, {}, 2);  // mask unused
  const int n = b.Op("Neg", "neg", {d}, {2, 3});
  const int out = b.Op("Identity", "out", {n}, {2, 3});  // a graph output: its name must stay
  const int t2 = b.Op("Transpose", "tr2", {x}, {3, 2}, {{"perm", IntsAttr({1, 0})}});  // not a no-op
  b.Output(out);
  b.Output(t2);
  Graph opt = ApplyBitwise(b.graph(), RemoveIdentities, {Rand({2, 3}, 9)}, 6);
  EXPECT_EQ(opt.nodes.size(), 3u);  // Exp, Neg (now writing "out_out0"), Transpose
  EXPECT_EQ(Count(opt, "Neg"), 1);
  const Node& neg = opt.nodes[static_cast<size_t>(opt.values[static_cast<size_t>(opt.outputs[0])].producer)];
  EXPECT_EQ(neg.op_type, "Neg");
  EXPECT_EQ(opt.values[static_cast<size_t>(neg.inputs[0])].name, "exp_out0");
}

TEST(Identity, KeepsCastToOtherTypeAndTrainingDropout) {
  Builder b;
  const int x = b.Input("x", {4});
  const int c = b.Op("Cast", "cast", {x}, {4}, {{"to", IntAttr(static_cast<int64_t>(DType::kF16))}}, 1, DType::kF16);
  const int mode = b.Const("mode", Tensor::FromVector<bool>({true}, {}));
  const int ratio = b.Const("ratio", F32({0.5f}, {}));
  const int d = b.Op("Dropout", "drop", {x, ratio, mode}, {4});
  b.Output(c);
  b.Output(d);
  Graph opt = b.graph();
  auto r = RemoveIdentities(&opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 0);
}

// ---------------------------------------------------------------- transpose / reshape

TEST(TransposeReshape, CancelsAndMerges) {
  Builder b;
  const int x = b.Input("x", {2, 3, 4});
  const int t1 = b.Op("Transpose", "t1", {x}, {2, 4, 3}, {{"perm", IntsAttr({0, 2, 1})}});
  const int t2 = b.Op("Transpose", "t2", {t1}, {2, 3, 4}, {{"perm", IntsAttr({0, 2, 1})}});  // cancels
  const int t3 = b.Op("Transpose", "t3", {t2}, {3, 2, 4}, {{"perm", IntsAttr({1, 0, 2})}});
  const int t4 = b.Op("Transpose", "t4", {t3}, {4, 2, 3}, {{"perm", IntsAttr({2, 1, 0})}});  // merges
  const int s1 = b.Const("s1", I64({6, 4}, {2}));
  const int s2 = b.Const("s2", I64({-1}, {1}));
  const int r1 = b.Op("Reshape", "r1", {t4, s1}, {6, 4});
  const int r2 = b.Op("Reshape", "r2", {r1, s2}, {24});
  const int ax = b.Const("ax", I64({0}, {1}));
  const int u = b.Op("Unsqueeze", "u", {r2, ax}, {1, 24});
  const int sq = b.Op("Squeeze", "sq", {u, ax}, {24});
  const int y = b.Op("Neg", "neg", {sq}, {24});
  b.Output(y);
  // t2 cancels t1 (t3 then reads x), t4 merges with t3, r2 with r1, sq with u.
  Graph opt = ApplyBitwise(b.graph(), CancelTransposeReshape, {Rand({2, 3, 4}, 10)}, 4);
  ASSERT_TRUE(EliminateDeadCode(&opt).ok());
  EXPECT_EQ(Count(opt, "Reshape"), 1);
  EXPECT_EQ(Count(opt, "Squeeze") + Count(opt, "Unsqueeze"), 0);
  ASSERT_EQ(Count(opt, "Transpose"), 1);
  for (const Node& n : opt.nodes)
    if (n.op_type == "Transpose") {
      EXPECT_EQ(n.inputs[0], opt.FindValue("x"));
      EXPECT_EQ(n.FindAttribute("perm")->ints, (std::vector<int64_t>{2, 0, 1}));
      EXPECT_EQ(n.provenance, (std::vector<std::string>{"t3", "t4"}));
    }
  EXPECT_EQ(opt.nodes.size(), 3u);  // Transpose, Reshape, Neg
  // Nothing left to do: a second run changes nothing.
  ApplyBitwise(opt, CancelTransposeReshape, {Rand({2, 3, 4}, 10)}, 0);
}

// ---------------------------------------------------------------- Conv + BN

TEST(ConvBatchNorm, FoldsWithinTolerance) {
  Builder b;
  const int x = b.Input("x", {1, 3, 6, 6});
  const int w = b.Const("w", Rand({4, 3, 3, 3}, 11));
  const int bias = b.Const("b", Rand({4}, 12));
  const int conv = b.Op("Conv", "conv", {x, w, bias}, {1, 4, 4, 4});
  std::vector<float> var = RandomFloats(4, 13);
  for (float& v : var) v = std::fabs(v) + 0.1f;
  const int bn = b.Op("BatchNormalization", "bn",
                      {conv, b.Const("scale", Rand({4}, 14)), b.Const("beta", Rand({4}, 15)),
                       b.Const("mean", Rand({4}, 16)), b.Const("var", F32(var, {4}))},
                      {1, 4, 4, 4}, {{"epsilon", FloatAttr(1e-3f)}});
  b.Output(bn);
  Graph opt = b.graph();
  auto r = FoldConvBatchNorm(&opt);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value(), 1);
  EXPECT_EQ(Count(opt, "BatchNormalization"), 0);
  ASSERT_EQ(Count(opt, "Conv"), 1);
  EXPECT_EQ(opt.nodes[0].provenance, (std::vector<std::string>{"conv", "bn"}));
  const Tensor in = Rand({1, 3, 6, 6}, 17);
  const auto before = RunGraph(b.graph(), {in});
  const auto after = RunGraph(opt, {in});
  ASSERT_EQ(after.size(), 1u);
  // Inputs include values up to 1e4 in magnitude: compare relative to the largest output.
  float largest = 0;
  for (float v : testing::Values<float>(before[0])) largest = std::max(largest, std::fabs(v));
  EXPECT_LT(MaxAbsDiff(before[0], after[0]), 1e-6f * largest);
  EXPECT_GT(MaxAbsDiff(before[0], after[0]), 0.0f);  // folding does change rounding here
  EXPECT_EQ(OutputNames(opt), OutputNames(b.graph()));
}

// ---------------------------------------------------------------- bias + activation

struct ActCase {
  const char* op;
  std::map<std::string, Attribute> attrs;
};

TEST(BiasActivation, MatMulBiasActivationBitwise) {
  const std::vector<ActCase> cases = {{"Relu", {}},
                                      {"Sigmoid", {}},
                                      {"Tanh", {}},
                                      {"LeakyRelu", {{"alpha", FloatAttr(0.1f)}}},
                                      {"HardSigmoid", {{"alpha", FloatAttr(0.3f)}, {"beta", FloatAttr(0.4f)}}},
                                      {"", {}}};
  for (const ActCase& c : cases) {
    SCOPED_TRACE(c.op);
    Builder b;
    const int x = b.Input("x", {2, 5, 7});
    const int w = b.Const("w", Rand({7, 9}, 20));
    const int bias = b.Const("bias", Rand({9}, 21));
    const int mm = b.Op("MatMul", "mm", {x, w}, {2, 5, 9});
    const int add = b.Op("Add", "add", {bias, mm}, {2, 5, 9});
    const int y = std::string(c.op).empty() ? add : b.Op(c.op, "act", {add}, {2, 5, 9}, c.attrs);
    b.Output(y);
    Graph opt = ApplyBitwise(b.graph(), FuseBiasActivation, {Rand({2, 5, 7}, 22, 4.0f)}, 1);
    ASSERT_EQ(opt.nodes.size(), 1u);
    EXPECT_EQ(opt.nodes[0].op_type, "FusedMatMul");
    EXPECT_EQ(opt.nodes[0].domain, "idem");
    EXPECT_EQ(opt.nodes[0].inputs.size(), 3u);
    EXPECT_EQ(opt.nodes[0].provenance.size(), std::string(c.op).empty() ? 2u : 3u);
  }
}

TEST(BiasActivation, ClipOnMatMulAndGemmSiLUAndConvRelu) {
  Builder b;
  const int x = b.Input("x", {3, 6});
  const int mm = b.Op("MatMul", "mm", {x, b.Const("w", Rand({6, 8}, 30))}, {3, 8});
  const int lo = b.Const("lo", F32({-0.2f}, {}));
  const int hi = b.Const("hi", F32({0.3f}, {}));
  const int clip = b.Op("Clip", "clip", {mm, lo, hi}, {3, 8});
  const int gemm = b.Op("Gemm", "gemm", {clip, b.Const("gw", Rand({5, 8}, 31)), b.Const("gb", Rand({5}, 32))},
                        {3, 5}, {{"transB", IntAttr(1)}});
  const int sig = b.Op("Sigmoid", "sig", {gemm}, {3, 5});
  const int silu = b.Op("Mul", "silu", {gemm, sig}, {3, 5});
  b.Output(silu);
  const int img = b.Input("img", {1, 2, 5, 5});
  const int conv = b.Op("Conv", "conv", {img, b.Const("cw", Rand({3, 2, 3, 3}, 33)), b.Const("cb", Rand({3}, 34))},
                        {1, 3, 5, 5}, {{"pads", IntsAttr({1, 1, 1, 1})}});
  const int relu = b.Op("Relu", "relu", {conv}, {1, 3, 5, 5});
  b.Output(relu);
  Graph opt = ApplyBitwise(b.graph(), FuseBiasActivation, {Rand({3, 6}, 35, 2.0f), Rand({1, 2, 5, 5}, 36)}, 3);
  EXPECT_EQ(Count(opt, "idem.FusedMatMul"), 2);
  EXPECT_EQ(Count(opt, "idem.FusedConv"), 1);
  EXPECT_EQ(opt.nodes.size(), 3u);
}

TEST(BiasActivation, LeavesSharedIntermediatesAlone) {
  Builder b;
  const int x = b.Input("x", {2, 4});
  const int mm = b.Op("MatMul", "mm", {x, b.Const("w", Rand({4, 4}, 40))}, {2, 4});
  const int relu = b.Op("Relu", "relu", {mm}, {2, 4});
  b.Output(relu);
  b.Output(mm);  // the product itself is an output: no fusion
  Graph opt = b.graph();
  auto r = FuseBiasActivation(&opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 0);
}

// BERT's FFN: MatMul + bias Add + the decomposed GELU -> FuseGelu -> FuseBiasActivation gives one
// FusedMatMul with activation "Gelu", bitwise equal to the unfused graph (each GELU form).
TEST(BiasActivation, MatMulBiasGeluFusesIntoFusedMatMulBitwise) {
  for (int form = 0; form < 3; ++form) {
    SCOPED_TRACE(form);
    Builder b;
    const int x = b.Input("x", {2, 6, 10});
    const int mm = b.Op("MatMul", "mm", {x, b.Const("w", Rand({10, 33}, 70))}, {2, 6, 33});
    const int h = b.Op("Add", "bias", {mm, b.Const("bias", Rand({33}, 71))}, {2, 6, 33});
    const Shape s = {2, 6, 33};
    int y;
    if (form < 2) {  // erf form, x / sqrt(2) (half last) or x * (1/sqrt(2)) (half first)
      const int u = form == 0 ? b.Op("Div", "div", {h, b.Const("c", F32({1.4142135381698608f}, {}))}, s)
                              : b.Op("Mul", "div", {h, b.Const("c", F32({0.70710677f}, {}))}, s);
      const int e = b.Op("Erf", "erf", {u}, s);
      const int t = b.Op("Add", "add1", {e, b.Const("one", F32({1.0f}, {}))}, s);
      if (form == 0) {
        y = b.Op("Mul", "half", {b.Op("Mul", "xt", {h, t}, s), b.Const("half", F32({0.5f}, {}))}, s);
      } else {
        y = b.Op("Mul", "y", {b.Op("Mul", "xh", {h, b.Const("half", F32({0.5f}, {}))}, s), t}, s);
      }
    } else {  // tanh form with Pow(x, 3)
      const int c = b.Op("Pow", "pow", {h, b.Const("three", F32({3.0f}, {}))}, s);
      const int a = b.Op("Mul", "a", {b.Const("c1", F32({0.044714998453855515f}, {})), c}, s);
      const int sum = b.Op("Add", "s", {h, a}, s);
      const int u = b.Op("Mul", "u", {b.Const("c2", F32({0.7978845834732056f}, {})), sum}, s);
      const int th = b.Op("Tanh", "tanh", {u}, s);
      const int t = b.Op("Add", "t", {b.Const("one", F32({1.0f}, {})), th}, s);
      y = b.Op("Mul", "y", {b.Op("Mul", "m", {h, t}, s), b.Const("half", F32({0.5f}, {}))}, s);
    }
    b.Output(y);
    auto both = [](Graph* g) -> Result<int64_t> {
      IDEM_ASSIGN_OR_RETURN(int64_t gelus, FuseGelu(g));
      IDEM_ASSIGN_OR_RETURN(int64_t fused, FuseBiasActivation(g));
      return gelus * 10 + fused;
    };
    Graph opt = ApplyBitwise(b.graph(), both, {Rand({2, 6, 10}, 72, 3.0f)}, 11);
    ASSERT_EQ(opt.nodes.size(), 1u);
    EXPECT_EQ(opt.nodes[0].op_type, "FusedMatMul");
    const Attribute* act = opt.nodes[0].FindAttribute("activation");
    ASSERT_NE(act, nullptr);
    EXPECT_EQ(act->s, "Gelu");
    const Attribute* params = opt.nodes[0].FindAttribute("activation_params");
    ASSERT_NE(params, nullptr);
    ASSERT_EQ(params->floats.size(), 6u);
    EXPECT_EQ(params->floats[0], form == 2 ? 1.0f : 0.0f);   // approximate
    EXPECT_EQ(params->floats[4], form == 2 ? 1.0f : 0.0f);   // cube_pow
    EXPECT_EQ(params->floats[5], form == 1 ? 1.0f : 0.0f);   // half_mode
  }
}

// ResNet's residual: Conv + Add(shortcut) [+ Relu] -> FusedConv(X, W, B, sum), either Add operand
// order, with and without a bias and the Relu; the shortcut may itself be a Conv (downsample).
TEST(BiasActivation, ConvResidualAddReluFusesBitwise) {
  for (int variant = 0; variant < 4; ++variant) {
    SCOPED_TRACE(variant);
    const bool relu = variant % 2 == 0, bias = variant < 2;
    Builder b;
    const int x = b.Input("x", {1, 4, 6, 6});
    const int r = b.Input("r", {1, 5, 6, 6});
    std::vector<int> conv_in = {x, b.Const("w", Rand({5, 4, 3, 3}, 80))};
    if (bias) conv_in.push_back(b.Const("b", Rand({5}, 81)));
    const int conv = b.Op("Conv", "conv", conv_in, {1, 5, 6, 6}, {{"pads", IntsAttr({1, 1, 1, 1})}});
    const int add = variant == 1 ? b.Op("Add", "add", {r, conv}, {1, 5, 6, 6})
                                 : b.Op("Add", "add", {conv, r}, {1, 5, 6, 6});
    b.Output(relu ? b.Op("Relu", "relu", {add}, {1, 5, 6, 6}) : add);
    Graph opt = ApplyBitwise(b.graph(), FuseBiasActivation, {Rand({1, 4, 6, 6}, 82, 2.0f), Rand({1, 5, 6, 6}, 83)}, 1);
    ASSERT_EQ(opt.nodes.size(), 1u);
    const Node& f = opt.nodes[0];
    EXPECT_EQ(f.op_type, "FusedConv");
    ASSERT_EQ(f.inputs.size(), 4u);
    EXPECT_EQ(f.inputs[2] >= 0, bias);
    EXPECT_EQ(f.inputs[3], r);
    EXPECT_EQ(f.provenance.size(), relu ? 3u : 2u);
    EXPECT_EQ(f.FindAttribute("activation") != nullptr, relu);
  }
  // Downsampling block: Add(conv2(relu(conv1(x))), conv_d(x)) + Relu; every conv fuses.
  Builder b;
  const int x = b.Input("x", {1, 4, 8, 8});
  const int c1 = b.Op("Conv", "c1", {x, b.Const("w1", Rand({6, 4, 3, 3}, 84))}, {1, 6, 4, 4},
                      {{"pads", IntsAttr({1, 1, 1, 1})}, {"strides", IntsAttr({2, 2})}});
  const int r1 = b.Op("Relu", "r1", {c1}, {1, 6, 4, 4});
  const int c2 = b.Op("Conv", "c2", {r1, b.Const("w2", Rand({6, 6, 3, 3}, 85))}, {1, 6, 4, 4},
                      {{"pads", IntsAttr({1, 1, 1, 1})}});
  const int cd = b.Op("Conv", "cd", {x, b.Const("wd", Rand({6, 4, 1, 1}, 86))}, {1, 6, 4, 4},
                      {{"strides", IntsAttr({2, 2})}});
  const int add = b.Op("Add", "add", {c2, cd}, {1, 6, 4, 4});
  b.Output(b.Op("Relu", "relu", {add}, {1, 6, 4, 4}));
  Graph opt = ApplyBitwise(b.graph(), FuseBiasActivation, {Rand({1, 4, 8, 8}, 87, 2.0f)}, 2);
  EXPECT_EQ(Count(opt, "idem.FusedConv"), 2);  // c1 + relu, c2 + add(cd) + relu
  EXPECT_EQ(Count(opt, "Conv"), 1);            // cd, the shortcut
  EXPECT_EQ(opt.nodes.size(), 3u);
}

// No residual fusion when the Add broadcasts (a bias-like operand) or the Conv output is read twice.
TEST(BiasActivation, ConvAddNotFusedWhenShapesDifferOrOutputShared) {
  {
    Builder b;
    const int x = b.Input("x", {1, 2, 5, 5});
    const int conv = b.Op("Conv", "conv", {x, b.Const("w", Rand({3, 2, 3, 3}, 90))}, {1, 3, 5, 5},
                          {{"pads", IntsAttr({1, 1, 1, 1})}});
    const int add = b.Op("Add", "add", {conv, b.Input("r", {1, 3, 1, 1})}, {1, 3, 5, 5});
    b.Output(add);
    Graph opt = b.graph();
    auto r = FuseBiasActivation(&opt);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), 0);
  }
  {
    Builder b;
    const int x = b.Input("x", {1, 2, 5, 5});
    const int conv = b.Op("Conv", "conv", {x, b.Const("w", Rand({3, 2, 3, 3}, 91))}, {1, 3, 5, 5},
                          {{"pads", IntsAttr({1, 1, 1, 1})}});
    const int sig = b.Op("Sigmoid", "sig", {conv}, {1, 3, 5, 5});
    b.Output(b.Op("Add", "add", {conv, sig}, {1, 3, 5, 5}));  // the "residual" is computed from conv
    Graph opt = b.graph();
    auto r = FuseBiasActivation(&opt);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), 0);
  }
}

// ---------------------------------------------------------------- GELU

TEST(Gelu, ErfFormAsTorchExportsItBitwise) {
  Builder b;
  const int x = b.Input("x", {4, 33});
  const int d = b.Op("Div", "div", {x, b.Const("sqrt2", F32({1.4142135381698608f}, {}))}, {4, 33});
  const int e = b.Op("Erf", "erf", {d}, {4, 33});
  const int a = b.Op("Add", "add", {e, b.Const("one", F32({1.0f}, {}))}, {4, 33});
  const int m = b.Op("Mul", "mul", {x, a}, {4, 33});
  const int y = b.Op("Mul", "mul1", {m, b.Const("half", F32({0.5f}, {}))}, {4, 33});
  b.Output(y);
  Graph opt = ApplyBitwise(b.graph(), FuseGelu, {Rand({4, 33}, 50, 6.0f)}, 1);
  ASSERT_EQ(opt.nodes.size(), 1u);
  EXPECT_EQ(opt.nodes[0].op_type, "Gelu");
  EXPECT_EQ(opt.nodes[0].provenance.size(), 5u);
}

TEST(Gelu, OtherOperandOrdersBitwise) {
  for (int mode = 1; mode <= 2; ++mode) {
    Builder b;
    const int x = b.Input("x", {70});
    const int d = b.Op("Mul", "scale", {b.Const("inv", F32({0.70710677f}, {})), x}, {70});
    const int e = b.Op("Erf", "erf", {d}, {70});
    const int t = b.Op("Add", "add", {b.Const("one", F32({1.0f}, {})), e}, {70});
    const int half = b.Const("half", F32({0.5f}, {}));
    int y;
    if (mode == 1) {
      const int xh = b.Op("Mul", "xh", {half, x}, {70});
      y = b.Op("Mul", "y", {t, xh}, {70});
    } else {
      const int th = b.Op("Mul", "th", {t, half}, {70});
      y = b.Op("Mul", "y", {x, th}, {70});
    }
    b.Output(y);
    Graph opt = ApplyBitwise(b.graph(), FuseGelu, {Rand({70}, 51, 5.0f)}, 1);
    ASSERT_EQ(opt.nodes.size(), 1u);
    EXPECT_EQ(opt.nodes[0].FindAttribute("half_mode")->i, mode);
  }
}

TEST(Gelu, TanhFormAsGpt2ExportsItBitwise) {
  Builder b;
  const int x = b.Input("x", {3, 40});
  const int x2 = b.Op("Mul", "x2", {x, x}, {3, 40});
  const int x3 = b.Op("Mul", "x3", {x, x2}, {3, 40});
  const int a = b.Op("Mul", "a", {b.Const("c1", F32({0.044714998453855515f}, {})), x3}, {3, 40});
  const int s = b.Op("Add", "s", {x, a}, {3, 40});
  const int u = b.Op("Mul", "u", {b.Const("c2", F32({0.7978845834732056f}, {})), s}, {3, 40});
  const int th = b.Op("Tanh", "tanh", {u}, {3, 40});
  const int t = b.Op("Add", "t", {b.Const("one", F32({1.0f}, {})), th}, {3, 40});
  const int m = b.Op("Mul", "m", {x, t}, {3, 40});
  const int y = b.Op("Mul", "y", {b.Const("half", F32({0.5f}, {})), m}, {3, 40});
  b.Output(y);
  Graph opt = ApplyBitwise(b.graph(), FuseGelu, {Rand({3, 40}, 52, 5.0f)}, 1);
  ASSERT_EQ(opt.nodes.size(), 1u);
  EXPECT_EQ(opt.nodes[0].FindAttribute("approximate")->s, "tanh");
}

// ---------------------------------------------------------------- attention

Graph AttentionGraph(int mask_kind, bool mul_scale) {
  Builder b;
  const int q = b.Input("q", {2, 3, 5, 8});
  const int kt = b.Input("kt", {2, 3, 8, 6});
  const int v = b.Input("v", {2, 3, 6, 4});
  const int r = b.Op("MatMul", "qk", {q, kt}, {2, 3, 5, 6});
  const int s = mul_scale ? b.Op("Mul", "scale", {b.Const("c", F32({0.35355339f}, {})), r}, {2, 3, 5, 6})
                          : b.Op("Div", "scale", {r, b.Const("c", F32({2.828427f}, {}))}, {2, 3, 5, 6});
  int z = s;
  if (mask_kind == 1) {
    z = b.Op("Add", "mask", {s, b.Const("m", Rand({2, 1, 1, 6}, 60, 3.0f))}, {2, 3, 5, 6});
  } else if (mask_kind == 2) {
    std::vector<bool> cond;
    for (int i = 0; i < 30; ++i) cond.push_back(i % 6 <= i / 6);
    auto ct = Tensor::Make(DType::kBool, {1, 1, 5, 6});
    for (int i = 0; i < 30; ++i) ct.data<bool>()[i] = cond[static_cast<size_t>(i)];
    z = b.Op("Where", "where", {b.Const("cond", ct), s, b.Const("fill", F32({-3.4028234663852886e+38f}, {}))},
             {2, 3, 5, 6});
  }
  const int p = b.Op("Softmax", "softmax", {z}, {2, 3, 5, 6}, {{"axis", IntAttr(-1)}});
  const int y = b.Op("MatMul", "pv", {p, v}, {2, 3, 5, 4});
  b.Output(y);
  return b.graph();
}

TEST(Attention, FusesAllMaskKindsBitwise) {
  for (int mask_kind = 0; mask_kind < 3; ++mask_kind) {
    SCOPED_TRACE(mask_kind);
    const Graph g = AttentionGraph(mask_kind, mask_kind == 1);
    Graph opt = ApplyBitwise(g, FuseAttention,
                             {Rand({2, 3, 5, 8}, 61, 2.0f), Rand({2, 3, 8, 6}, 62, 2.0f), Rand({2, 3, 6, 4}, 63)}, 1);
    ASSERT_EQ(opt.nodes.size(), 1u);
    EXPECT_EQ(opt.nodes[0].op_type, "Attention");
    EXPECT_EQ(opt.nodes[0].provenance.size(), mask_kind == 0 ? 4u : 5u);
  }
}

// ---------------------------------------------------------------- layer norm

TEST(LayerNorm, FusesDecomposedFormWithinTolerance) {
  Builder b;
  const int x = b.Input("x", {3, 16});
  const int mean = b.Op("ReduceMean", "mean", {x}, {3, 1}, {{"axes", IntsAttr({-1})}});
  const int d = b.Op("Sub", "sub", {x, mean}, {3, 16});
  const int p = b.Op("Pow", "pow", {d, b.Const("two", F32({2.0f}, {}))}, {3, 16});
  const int var = b.Op("ReduceMean", "var", {p}, {3, 1}, {{"axes", IntsAttr({-1})}});
  const int ve = b.Op("Add", "eps", {var, b.Const("e", F32({1e-5f}, {}))}, {3, 1});
  const int sd = b.Op("Sqrt", "sqrt", {ve}, {3, 1});
  const int n = b.Op("Div", "div", {d, sd}, {3, 16});
  const int m = b.Op("Mul", "gamma", {n, b.Const("g", Rand({16}, 70))}, {3, 16});
  const int y = b.Op("Add", "beta", {m, b.Const("bb", Rand({16}, 71))}, {3, 16});
  b.Output(y);
  Graph opt = b.graph();
  auto r = FuseLayerNorm(&opt);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value(), 1);
  ASSERT_EQ(opt.nodes.size(), 1u);
  EXPECT_EQ(opt.nodes[0].op_type, "LayerNormalization");
  EXPECT_EQ(opt.nodes[0].provenance.size(), 9u);
  const Tensor in = Rand({3, 16}, 72, 3.0f);
  const auto before = RunGraph(b.graph(), {in});
  const auto after = RunGraph(opt, {in});
  ASSERT_EQ(after.size(), 1u);
  EXPECT_LT(MaxAbsDiff(before[0], after[0]), 1e-4f);
}

// ---------------------------------------------------------------- pipeline, dump, input shapes

TEST(Pipeline, LevelsAreDeterministicAndKeepResults) {
  auto build = [] {
    Builder b;
    const int x = b.Input("x", {4, 8});
    const int w = b.Const("w", Rand({8, 8}, 80));
    const int w2 = b.Op("Identity", "wid", {w}, {8, 8});
    const int mm = b.Op("MatMul", "mm", {x, w2}, {4, 8});
    const int add = b.Op("Add", "add", {mm, b.Const("bias", Rand({8}, 81))}, {4, 8});
    const int relu = b.Op("Relu", "relu", {add}, {4, 8});
    const int dup = b.Op("Relu", "relu2", {add}, {4, 8});
    const int y = b.Op("Sub", "sub", {relu, dup}, {4, 8});
    b.Output(y);
    b.Output(relu);
    return b.graph();
  };
  const Tensor in = Rand({4, 8}, 82, 3.0f);
  const auto ref = RunGraph(build(), {in});
  std::string dumps[2];
  for (int level = 0; level <= 2; ++level) {
    for (int rep = 0; rep < 2; ++rep) {
      Graph g = build();
      OptimizeOptions o;
      o.opt_level = level;
      OptimizeReport rep_out;
      ASSERT_TRUE(Optimize(&g, o, &rep_out).ok());
      const auto out = RunGraph(g, {in});
      ASSERT_EQ(out.size(), 2u);
      EXPECT_EQ(Bits(out[0]), Bits(ref[0]));
      EXPECT_EQ(Bits(out[1]), Bits(ref[1]));
      if (level == 0) {
        EXPECT_EQ(g.nodes.size(), 6u);
      }
      if (level == 1) {
        EXPECT_EQ(g.nodes.size(), 4u);  // Identity folded, one Relu merged
      }
      if (level == 2) {
        EXPECT_EQ(g.nodes.size(), 2u);  // FusedMatMul(+Relu), Sub
        EXPECT_EQ(rep_out.ops_after.at("idem.FusedMatMul"), 1);
        EXPECT_EQ(rep_out.ops_before.at("Relu"), 2);
        dumps[rep] = DumpGraph(g);
      }
    }
  }
  EXPECT_EQ(dumps[0], dumps[1]);
  EXPECT_NE(dumps[0].find("idem.FusedMatMul-1(%x, %w, %bias) {activation=\"Relu\"}"), std::string::npos) << dumps[0];
}

TEST(Pipeline, RejectsBadLevelAndUnknownInputShape) {
  Builder b;
  b.Output(b.Op("Neg", "neg", {b.Input("x", {2})}, {2}));
  OptimizeOptions o;
  o.opt_level = 3;
  EXPECT_FALSE(Optimize(&b.graph(), o, nullptr).ok());
  o.opt_level = 1;
  o.input_shapes["nope"] = {2};
  Status st = Optimize(&b.graph(), o, nullptr);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'nope'"), std::string::npos);
  o.input_shapes = {{"x", {2}}};
  EXPECT_TRUE(Optimize(&b.graph(), o, nullptr).ok());
}

std::string SymbolicModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto* in = g->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("batch");
  tt->mutable_shape()->add_dim()->set_dim_value(3);
  auto* n = g->add_node();
  n->set_op_type("Relu");
  n->add_input("x");
  n->add_output("r");
  auto* n2 = g->add_node();
  n2->set_op_type("Shape");
  n2->add_input("r");
  n2->add_output("y");
  g->add_output()->set_name("y");
  return m.SerializeAsString();
}

TEST(InputShapes, FixSymbolicDimsBeforeShapeInference) {
  ImportOptions opts;
  opts.has_kernel = [](const std::string&, const std::string&, int) { return true; };
  opts.input_shapes["x"] = {5, 3};
  auto m = ImportOnnxBytes(SymbolicModel(), ".", opts);
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Graph& g = *m.value().graph;
  const ValueType& r = g.values[static_cast<size_t>(g.FindValue("r"))].type;
  ASSERT_TRUE(r.has_shape);
  ASSERT_EQ(r.dims.size(), 2u);
  EXPECT_EQ(r.dims[0].value, 5);
  EXPECT_EQ(r.dims[1].value, 3);
  // With static shapes the Shape node folds away.
  Graph opt = g;
  OptimizeOptions o;
  o.input_shapes = opts.input_shapes;
  ASSERT_TRUE(Optimize(&opt, o, nullptr).ok());
  EXPECT_EQ(Count(opt, "Shape"), 0);
  const Value& y = opt.values[static_cast<size_t>(opt.outputs[0])];
  ASSERT_TRUE(y.has_initializer);
  EXPECT_EQ(y.initializer.ToInt64Vector(), (std::vector<int64_t>{5, 3}));

  opts.input_shapes = {{"x", {5, 4}}};  // contradicts the fixed dim 3
  auto bad = ImportOnnxBytes(SymbolicModel(), ".", opts);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("dim 1"), std::string::npos) << bad.status().message();
  opts.input_shapes = {{"x", {5}}};
  EXPECT_FALSE(ImportOnnxBytes(SymbolicModel(), ".", opts).ok());
  opts.input_shapes = {{"z", {5, 3}}};
  auto unknown = ImportOnnxBytes(SymbolicModel(), ".", opts);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'z'"), std::string::npos);
}

}  // namespace
}  // namespace idem::passes
