// Control family: If/Loop/Scan/SequenceMap, sequence and optional ops, and the import-time
// Gradient expansion — behaviour the ONNX backend test data does not cover (Loop forms without M or
// cond, zero-trip loops, Scan axes/directions, Scan-8 sequence_lens, split/concat corners, string
// sequences, error paths, gradients through broadcasting, MatMul and unary ops). Graphs are built
// directly in the IR and run through Session; expected values are written down by hand (or are
// closed-form derivatives evaluated with <cmath>).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "onnx/gradient.h"
#include "runtime/session.h"

namespace idem {
namespace {

Attribute AInt(int64_t v) { Attribute a; a.kind = Attribute::Kind::kInt; a.i = v; return a; }
Attribute AInts(std::vector<int64_t> v) { Attribute a; a.kind = Attribute::Kind::kInts; a.ints = std::move(v); return a; }
Attribute AStr(std::string v) { Attribute a; a.kind = Attribute::Kind::kString; a.s = std::move(v); return a; }
Attribute AStrs(std::vector<std::string> v) {
  Attribute a; a.kind = Attribute::Kind::kStrings; a.strings = std::move(v); return a;
}
Attribute AGraph(std::shared_ptr<Graph> g) { Attribute a; a.kind = Attribute::Kind::kGraph; a.g = std::move(g); return a; }
Attribute AType(ValueType t) { Attribute a; a.kind = Attribute::Kind::kType; a.type = std::move(t); return a; }

ValueType TensorType(DType dt, std::vector<int64_t> dims, bool has_shape = true) {
  ValueType t;
  t.kind = ValueType::Kind::kTensor;
  t.elem = dt;
  t.has_shape = has_shape;
  for (int64_t d : dims) t.dims.push_back(Dim{d, ""});  // unknown dims carry no symbol
  return t;
}
ValueType SeqType(DType dt) {
  ValueType t;
  t.kind = ValueType::Kind::kSequence;
  t.elem = dt;
  return t;
}
ValueType OptType(DType dt) {
  ValueType t;
  t.kind = ValueType::Kind::kOptional;
  t.elem = dt;
  t.optional_of = ValueType::Kind::kTensor;
  return t;
}

// A small IR graph builder: values are addressed by name.
class Builder {
 public:
  explicit Builder(int opset, std::string name = "g") : g_(std::make_shared<Graph>()) {
    g_->name = std::move(name);
    g_->opsets[""] = opset;
    g_->opsets["ai.onnx.preview.training"] = 1;
  }
  Builder& Input(const std::string& name, ValueType type) {
    Value v;
    v.name = name;
    v.type = std::move(type);
    v.is_graph_input = true;
    g_->inputs.push_back(g_->AddValue(std::move(v)));
    return *this;
  }
  Builder& Const(const std::string& name, Tensor t) {
    Value v;
    v.name = name;
    v.type = TensorType(t.dtype(), t.shape());
    v.has_initializer = true;
    v.initializer = std::move(t);
    g_->AddValue(std::move(v));
    return *this;
  }
  Builder& Op(const std::string& op, std::vector<std::string> ins, std::vector<std::string> outs,
              std::map<std::string, Attribute> attrs = {}, const std::string& domain = "") {
    Node n;
    n.op_type = op;
    n.domain = domain;
    n.opset = domain.empty() ? g_->opsets[""] : 1;
    n.name = op + "_" + std::to_string(g_->nodes.size());
    for (const std::string& in : ins) n.inputs.push_back(in.empty() ? -1 : Ref(in));
    const int index = static_cast<int>(g_->nodes.size());
    for (const std::string& out : outs) {
      if (out.empty()) { n.outputs.push_back(-1); continue; }
      Value v;
      v.name = out;
      v.producer = index;
      n.outputs.push_back(g_->AddValue(std::move(v)));
    }
    n.attributes = std::move(attrs);
    g_->AddNode(std::move(n));
    return *this;
  }
  Builder& Output(const std::string& name) {
    g_->outputs.push_back(Ref(name));
    return *this;
  }
  std::shared_ptr<Graph> graph() const { return g_; }

 private:
  // An existing value, or an enclosing-scope value of a subgraph.
  int Ref(const std::string& name) {
    const int id = g_->FindValue(name);
    if (id >= 0) return id;
    Value v;
    v.name = name;
    v.outer_scope = true;
    return g_->AddValue(std::move(v));
  }
  std::shared_ptr<Graph> g_;
};

Result<std::vector<RtValue>> RunGraph(std::shared_ptr<Graph> g, std::vector<std::pair<std::string, RtValue>> in) {
  IDEM_ASSIGN_OR_RETURN(auto s, Session::FromGraph(std::move(g), SessionOptions{}));
  return s->Run(std::move(in));
}

template <typename T>
Tensor T1(std::vector<T> v, Shape shape) { return Tensor::FromVector<T>(v, std::move(shape)); }

template <typename T>
void ExpectTensor(const RtValue& v, const Shape& shape, const std::vector<T>& want) {
  ASSERT_TRUE(IsTensor(v));
  const Tensor& t = std::get<Tensor>(v);
  ASSERT_EQ(t.dtype(), DTypeOf<T>::value);
  ASSERT_EQ(t.shape(), shape);
  ASSERT_EQ(t.numel(), static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(t.data<T>()[i], want[i]) << "element " << i;
}

void ExpectNear(const RtValue& v, const Shape& shape, const std::vector<double>& want, double tol = 1e-6) {
  ASSERT_TRUE(IsTensor(v));
  const Tensor& t = std::get<Tensor>(v);
  ASSERT_EQ(t.shape(), shape);
  ASSERT_EQ(t.numel(), static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(t.DoubleAt(static_cast<int64_t>(i)), want[i], tol * std::max(1.0, std::fabs(want[i]))) << "element " << i;
}

// ---------------------------------------------------------------------------------------------
// Loop

// Body (i, cond, v) -> (v + 1 < 5, v + 1, v + 1).
std::shared_ptr<Graph> CountingBody(int opset, bool cond_false_constant = false) {
  Builder b(opset, "body");
  b.Input("i", TensorType(DType::kI64, {}))
      .Input("c", TensorType(DType::kBool, {}))
      .Input("v", TensorType(DType::kF32, {}))
      .Const("one", Tensor::Scalar<float>(1.0f))
      .Const("five", Tensor::Scalar<float>(5.0f))
      .Const("no", Tensor::Scalar<bool>(false))
      .Op("Add", {"v", "one"}, {"v2"})
      .Op("Identity", {"v2"}, {"scan"});
  if (cond_false_constant) b.Op("Identity", {"no"}, {"c2"});
  else b.Op("Less", {"v2", "five"}, {"c2"});
  b.Output("c2").Output("v2").Output("scan");
  return b.graph();
}

TEST(ControlFlowTest, LoopWithoutTripCountRunsWhileBodyConditionHolds) {
  Builder b(16);
  b.Input("cond", TensorType(DType::kBool, {}))
      .Input("v0", TensorType(DType::kF32, {}))
      .Op("Loop", {"", "cond", "v0"}, {"v", "scan"}, {{"body", AGraph(CountingBody(16))}})
      .Output("v").Output("scan");
  auto r = RunGraph(b.graph(), {{"cond", Tensor::Scalar<bool>(true)}, {"v0", Tensor::Scalar<float>(0.0f)}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectTensor<float>((*r)[0], {}, {5});
  ExpectTensor<float>((*r)[1], {5}, {1, 2, 3, 4, 5});
}

TEST(ControlFlowTest, LoopWithTripCountAndNoCondIgnoresBodyCondition) {
  Builder b(11);
  b.Input("M", TensorType(DType::kI64, {}))
      .Input("v0", TensorType(DType::kF32, {}))
      .Op("Loop", {"M", "", "v0"}, {"v", "scan"}, {{"body", AGraph(CountingBody(11, true))}})
      .Output("v").Output("scan");
  auto r = RunGraph(b.graph(), {{"M", Tensor::Scalar<int64_t>(3)}, {"v0", Tensor::Scalar<float>(10.0f)}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectTensor<float>((*r)[0], {}, {13});
  ExpectTensor<float>((*r)[1], {3}, {11, 12, 13});
}

TEST(ControlFlowTest, LoopWithNeitherTripCountNorCondEndsOnBodyCondition) {
  Builder b(13);
  b.Input("v0", TensorType(DType::kF32, {}))
      .Op("Loop", {"", "", "v0"}, {"v", "scan"}, {{"body", AGraph(CountingBody(13, true))}})
      .Output("v").Output("scan");
  auto r = RunGraph(b.graph(), {{"v0", Tensor::Scalar<float>(0.0f)}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectTensor<float>((*r)[0], {}, {1});
  ExpectTensor<float>((*r)[1], {1}, {1});
}

TEST(ControlFlowTest, LoopStopsAtFalseConditionBeforeTripCount) {
  Builder b(13);
  b.Input("M", TensorType(DType::kI64, {}))
      .Input("cond", TensorType(DType::kBool, {}))
      .Input("v0", TensorType(DType::kF32, {}))
      .Op("Loop", {"M", "cond", "v0"}, {"v", "scan"}, {{"body", AGraph(CountingBody(13))}})
      .Output("v").Output("scan");
  auto r = RunGraph(b.graph(), {{"M", Tensor::Scalar<int64_t>(100)}, {"cond", Tensor::Scalar<bool>(true)},
                                {"v0", Tensor::Scalar<float>(2.0f)}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectTensor<float>((*r)[0], {}, {5});
  ExpectTensor<float>((*r)[1], {3}, {3, 4, 5});
}

TEST(ControlFlowTest, LoopWithZeroTripsReturnsInitialValuesAndEmptyScans) {
  Builder body(13, "body");
  body.Input("i", TensorType(DType::kI64, {}))
      .Input("c", TensorType(DType::kBool, {}))
      .Input("v", TensorType(DType::kF32, {2}))
      .Op("Identity", {"c"}, {"c2"})
      .Op("Identity", {"v"}, {"v2"})
      .Op("Identity", {"v"}, {"scan"});
  body.graph()->values[static_cast<size_t>(body.graph()->FindValue("scan"))].type = TensorType(DType::kF32, {2});
  body.Output("c2").Output("v2").Output("scan");
  Builder b(13);
  b.Input("M", TensorType(DType::kI64, {}))
      .Input("v0", TensorType(DType::kF32, {2}))
      .Op("Loop", {"M", "", "v0"}, {"v", "scan"}, {{"body", AGraph(body.graph())}})
      .Output("v").Output("scan");
  auto r = RunGraph(b.graph(), {{"M", Tensor::Scalar<int64_t>(0)}, {"v0", T1<float>({7, 8}, {2})}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectTensor<float>((*r)[0], {2}, {7, 8});
  ExpectTensor<float>((*r)[1], {0, 2}, {});
}

TEST(ControlFlowTest, LoopRejectsNonBooleanCondition) {
  Builder b(13);
  b.Input("cond", TensorType(DType::kI64, {}))
      .Input("v0", TensorType(DType::kF32, {}))
      .Op("Loop", {"", "cond", "v0"}, {"v", "scan"}, {{"body", AGraph(CountingBody(13))}})
      .Output("v");
  auto r = RunGraph(b.graph(), {{"cond", Tensor::Scalar<int64_t>(1)}, {"v0", Tensor::Scalar<float>(0.0f)}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("bool"), std::string::npos) << r.status().message();
}

TEST(ControlFlowTest, IfReadsOuterScopeAndRejectsMultiElementCondition) {
  Builder then_b(13, "then");
  then_b.Op("Identity", {"x"}, {"t"}).Output("t");
  Builder else_b(13, "else");
  else_b.Op("Neg", {"x"}, {"e"}).Output("e");
  Builder b(13);
  b.Input("cond", TensorType(DType::kBool, {-1}, true))
      .Input("x", TensorType(DType::kF32, {2}))
      .Op("If", {"cond"}, {"y"}, {{"then_branch", AGraph(then_b.graph())}, {"else_branch", AGraph(else_b.graph())}})
      .Output("y");
  auto g = b.graph();
  auto r = RunGraph(g, {{"cond", T1<bool>({false}, {1})}, {"x", T1<float>({1, -2}, {2})}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectTensor<float>((*r)[0], {2}, {-1, 2});
  auto bad = RunGraph(g, {{"cond", T1<bool>({true, true}, {2})}, {"x", T1<float>({1, -2}, {2})}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Scan

// Body (s, x) -> (s + x, s + x, s + x): a running sum with two scan outputs.
std::shared_ptr<Graph> RunningSumBody(int opset) {
  Builder b(opset, "body");
  b.Input("s", TensorType(DType::kF32, {-1}, true))
      .Input("x", TensorType(DType::kF32, {-1}, true))
      .Op("Add", {"s", "x"}, {"s2"})
      .Op("Identity", {"s2"}, {"o1"})
      .Op("Identity", {"s2"}, {"o2"})
      .Output("s2").Output("o1").Output("o2");
  return b.graph();
}

TEST(ControlFlowTest, ScanHonoursInputAndOutputAxesAndDirections) {
  Builder b(11);
  b.Input("s0", TensorType(DType::kF32, {2}))
      .Input("X", TensorType(DType::kF32, {2, 3}))
      .Op("Scan", {"s0", "X"}, {"s", "y1", "y2"},
          {{"body", AGraph(RunningSumBody(11))},
           {"num_scan_inputs", AInt(1)},
           {"scan_input_axes", AInts({-1})},
           {"scan_input_directions", AInts({1})},
           {"scan_output_axes", AInts({1, 0})},
           {"scan_output_directions", AInts({0, 1})}})
      .Output("s").Output("y1").Output("y2");
  auto r = RunGraph(b.graph(), {{"s0", T1<float>({0, 0}, {2})}, {"X", T1<float>({1, 2, 3, 4, 5, 6}, {2, 3})}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  // Columns visited in reverse: [3,6], [2,5], [1,4]; running sums [3,6], [5,11], [6,15].
  ExpectTensor<float>((*r)[0], {2}, {6, 15});
  ExpectTensor<float>((*r)[1], {2, 3}, {3, 5, 6, 6, 11, 15});
  ExpectTensor<float>((*r)[2], {3, 2}, {6, 15, 5, 11, 3, 6});
}

TEST(ControlFlowTest, Scan8HonoursSequenceLensAndDirections) {
  Builder b(8);
  b.Input("lens", TensorType(DType::kI64, {2}))
      .Input("s0", TensorType(DType::kF32, {2, 1}))
      .Input("X", TensorType(DType::kF32, {2, 3, 1}))
      .Op("Scan", {"lens", "s0", "X"}, {"s", "y1", "y2"},
          {{"body", AGraph(RunningSumBody(8))}, {"num_scan_inputs", AInt(1)}, {"directions", AInts({1})}})
      .Output("s").Output("y1");
  auto r = RunGraph(b.graph(), {{"lens", T1<int64_t>({3, 1}, {2})},
                                {"s0", T1<float>({0, 100}, {2, 1})},
                                {"X", T1<float>({1, 2, 3, 10, 20, 30}, {2, 3, 1})}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  // Batch 0 backwards over 3 steps: 3, 2, 1 -> 3, 5, 6. Batch 1 over its 1 step: 100 + 10.
  ExpectTensor<float>((*r)[0], {2, 1}, {6, 110});
  ExpectTensor<float>((*r)[1], {2, 3, 1}, {3, 5, 6, 110, 0, 0});
}

TEST(ControlFlowTest, Scan8RejectsSequenceLengthBeyondMaximum) {
  Builder b(8);
  b.Input("lens", TensorType(DType::kI64, {1}))
      .Input("s0", TensorType(DType::kF32, {1, 1}))
      .Input("X", TensorType(DType::kF32, {1, 2, 1}))
      .Op("Scan", {"lens", "s0", "X"}, {"s", "y1", "y2"},
          {{"body", AGraph(RunningSumBody(8))}, {"num_scan_inputs", AInt(1)}})
      .Output("s");
  auto r = RunGraph(b.graph(), {{"lens", T1<int64_t>({3}, {1})},
                                {"s0", T1<float>({0}, {1, 1})},
                                {"X", T1<float>({1, 2}, {1, 2, 1})}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("sequence_lens"), std::string::npos) << r.status().message();
}

// ---------------------------------------------------------------------------------------------
// Sequences

TEST(SequenceOpsTest, InsertEraseAtWithNegativePositionsOnStrings) {
  Builder b(12);
  b.Input("a", TensorType(DType::kString, {1}))
      .Input("b", TensorType(DType::kString, {2}))
      .Const("m1", Tensor::Scalar<int64_t>(-1))
      .Const("m2", Tensor::Scalar<int32_t>(-2))
      .Op("SequenceEmpty", {}, {"s0"}, {{"dtype", AInt(static_cast<int64_t>(DType::kString))}})
      .Op("SequenceInsert", {"s0", "a"}, {"s1"})          // [a]
      .Op("SequenceInsert", {"s1", "b", "m1"}, {"s2"})    // [b, a]
      .Op("SequenceInsert", {"s2", "a"}, {"s3"})          // [b, a, a]
      .Op("SequenceErase", {"s3", "m2"}, {"s4"})          // [b, a]
      .Op("SequenceAt", {"s4", "m2"}, {"first"})          // b
      .Op("SequenceLength", {"s4"}, {"len"})
      .Op("ConcatFromSequence", {"s4"}, {"cat"}, {{"axis", AInt(0)}})
      .Output("first").Output("len").Output("cat");
  auto r = RunGraph(b.graph(), {{"a", T1<std::string>({"x"}, {1})}, {"b", T1<std::string>({"p", "q"}, {2})}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectTensor<std::string>((*r)[0], {2}, {"p", "q"});
  ExpectTensor<int64_t>((*r)[1], {}, {2});
  ExpectTensor<std::string>((*r)[2], {3}, {"p", "q", "x"});
}

TEST(SequenceOpsTest, PositionsOutOfRangeAndTypeMismatchAreErrors) {
  Builder b(12);
  b.Input("x", TensorType(DType::kF32, {1}))
      .Input("pos", TensorType(DType::kI64, {}))
      .Op("SequenceConstruct", {"x", "x"}, {"s"})
      .Op("SequenceAt", {"s", "pos"}, {"y"})
      .Output("y");
  auto g = b.graph();
  auto ok = RunGraph(g, {{"x", T1<float>({4}, {1})}, {"pos", Tensor::Scalar<int64_t>(-2)}});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  ExpectTensor<float>((*ok)[0], {1}, {4});
  for (int64_t p : {2, -3}) {
    auto r = RunGraph(g, {{"x", T1<float>({4}, {1})}, {"pos", Tensor::Scalar<int64_t>(p)}});
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("out of range"), std::string::npos) << r.status().message();
  }

  Builder c(12);
  c.Input("x", TensorType(DType::kF32, {1}))
      .Input("i", TensorType(DType::kI32, {1}))
      .Op("SequenceConstruct", {"x"}, {"s"})
      .Op("SequenceInsert", {"s", "i"}, {"s2"})
      .Output("s2");
  auto r = RunGraph(c.graph(), {{"x", T1<float>({4}, {1})}, {"i", T1<int32_t>({1}, {1})}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(SequenceOpsTest, SplitToSequenceForms) {
  Builder b(13);
  b.Input("x", TensorType(DType::kI32, {5, 2}))
      .Const("two", Tensor::Scalar<int64_t>(2))
      .Const("parts", T1<int64_t>({0, 4, 1}, {3}))
      .Op("SplitToSequence", {"x", "two"}, {"s1"})
      .Op("SplitToSequence", {"x", "parts"}, {"s2"})
      .Op("SplitToSequence", {"x"}, {"s3"}, {{"axis", AInt(-1)}, {"keepdims", AInt(0)}})
      .Output("s1").Output("s2").Output("s3");
  auto r = RunGraph(b.graph(), {{"x", T1<int32_t>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {5, 2})}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(IsSequence((*r)[0]));
  const auto& s1 = std::get<TensorSequence>((*r)[0]).items;  // chunks of 2, 2, 1 rows
  ASSERT_EQ(s1.size(), 3u);
  ExpectTensor<int32_t>(s1[0], {2, 2}, {0, 1, 2, 3});
  ExpectTensor<int32_t>(s1[2], {1, 2}, {8, 9});
  const auto& s2 = std::get<TensorSequence>((*r)[1]).items;  // 0, 4, 1 rows
  ASSERT_EQ(s2.size(), 3u);
  ExpectTensor<int32_t>(s2[0], {0, 2}, {});
  ExpectTensor<int32_t>(s2[1], {4, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  ExpectTensor<int32_t>(s2[2], {1, 2}, {8, 9});
  const auto& s3 = std::get<TensorSequence>((*r)[2]).items;  // columns, squeezed
  ASSERT_EQ(s3.size(), 2u);
  ExpectTensor<int32_t>(s3[1], {5}, {1, 3, 5, 7, 9});

  Builder bad(13);
  bad.Input("x", TensorType(DType::kI32, {5}))
      .Const("parts", T1<int64_t>({2, 2}, {2}))
      .Op("SplitToSequence", {"x", "parts"}, {"s"})
      .Output("s");
  auto e = RunGraph(bad.graph(), {{"x", T1<int32_t>({0, 1, 2, 3, 4}, {5})}});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
}

TEST(SequenceOpsTest, ConcatFromSequenceStacksOnNewAxisAndChecksShapes) {
  Builder b(13);
  b.Input("x", TensorType(DType::kI64, {2}))
      .Input("y", TensorType(DType::kI64, {2}))
      .Op("SequenceConstruct", {"x", "y"}, {"s"})
      .Op("ConcatFromSequence", {"s"}, {"stack1"}, {{"axis", AInt(1)}, {"new_axis", AInt(1)}})
      .Op("ConcatFromSequence", {"s"}, {"stack0"}, {{"axis", AInt(-2)}, {"new_axis", AInt(1)}})
      .Output("stack1").Output("stack0");
  auto r = RunGraph(b.graph(), {{"x", T1<int64_t>({1, 2}, {2})}, {"y", T1<int64_t>({3, 4}, {2})}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectTensor<int64_t>((*r)[0], {2, 2}, {1, 3, 2, 4});
  ExpectTensor<int64_t>((*r)[1], {2, 2}, {1, 2, 3, 4});

  Builder bad(13);
  bad.Input("x", TensorType(DType::kI64, {2}))
      .Input("y", TensorType(DType::kI64, {3}))
      .Op("SequenceConstruct", {"x", "y"}, {"s"})
      .Op("ConcatFromSequence", {"s"}, {"c"}, {{"axis", AInt(0)}, {"new_axis", AInt(1)}})
      .Output("c");
  auto e = RunGraph(bad.graph(), {{"x", T1<int64_t>({1, 2}, {2})}, {"y", T1<int64_t>({3, 4, 5}, {3})}});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
}

TEST(SequenceOpsTest, SequenceMapOverEmptySequenceKeepsBodyElementType) {
  Builder body(17, "body");
  body.Input("e", TensorType(DType::kF32, {-1}, true)).Op("Shape", {"e"}, {"shape"});
  body.graph()->values[static_cast<size_t>(body.graph()->FindValue("shape"))].type = TensorType(DType::kI64, {1});
  body.Output("shape");
  Builder b(17);
  b.Op("SequenceEmpty", {}, {"s"})
      .Op("SequenceMap", {"s"}, {"shapes"}, {{"body", AGraph(body.graph())}})
      .Output("shapes");
  auto r = RunGraph(b.graph(), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(IsSequence((*r)[0]));
  EXPECT_EQ(std::get<TensorSequence>((*r)[0]).elem, DType::kI64);
  EXPECT_TRUE(std::get<TensorSequence>((*r)[0]).items.empty());
}

TEST(SequenceOpsTest, SequenceMapRequiresEqualLengthsAndPassesTensorsUnchanged) {
  Builder body(17, "body");
  body.Input("e", TensorType(DType::kF32, {-1}, true))
      .Input("f", TensorType(DType::kF32, {-1}, true))
      .Input("t", TensorType(DType::kF32, {-1}, true))
      .Op("Add", {"e", "f"}, {"ef"})
      .Op("Mul", {"ef", "t"}, {"o"})
      .Output("o");
  Builder b(17);
  b.Input("s1", SeqType(DType::kF32))
      .Input("s2", SeqType(DType::kF32))
      .Input("t", TensorType(DType::kF32, {2}))
      .Op("SequenceMap", {"s1", "s2", "t"}, {"out"}, {{"body", AGraph(body.graph())}})
      .Output("out");
  auto g = b.graph();
  TensorSequence s1{DType::kF32, {T1<float>({1, 2}, {2}), T1<float>({3, 4}, {2})}};
  TensorSequence s2{DType::kF32, {T1<float>({10, 20}, {2}), T1<float>({30, 40}, {2})}};
  auto r = RunGraph(g, {{"s1", s1}, {"s2", s2}, {"t", T1<float>({1, -1}, {2})}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(IsSequence((*r)[0]));
  const auto& items = std::get<TensorSequence>((*r)[0]).items;
  ASSERT_EQ(items.size(), 2u);
  ExpectTensor<float>(items[0], {2}, {11, -22});
  ExpectTensor<float>(items[1], {2}, {33, -44});
  s2.items.pop_back();
  auto e = RunGraph(g, {{"s1", s1}, {"s2", s2}, {"t", T1<float>({1, -1}, {2})}});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Optionals

TEST(OptionalOpsTest, EmptyAndPresentOptionals) {
  Builder b(15);
  b.Input("x", TensorType(DType::kF32, {1}))
      .Op("Optional", {}, {"none"}, {{"type", AType(TensorType(DType::kF32, {1}))}})
      .Op("Optional", {"x"}, {"some"})
      .Op("OptionalHasElement", {"none"}, {"h0"})
      .Op("OptionalHasElement", {"some"}, {"h1"})
      .Op("OptionalHasElement", {"x"}, {"h2"})
      .Op("OptionalGetElement", {"some"}, {"got"})
      .Output("h0").Output("h1").Output("h2").Output("got").Output("none");
  auto r = RunGraph(b.graph(), {{"x", T1<float>({3}, {1})}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectTensor<bool>((*r)[0], {}, {false});
  ExpectTensor<bool>((*r)[1], {}, {true});
  ExpectTensor<bool>((*r)[2], {}, {true});
  ExpectTensor<float>((*r)[3], {1}, {3});
  EXPECT_TRUE(IsNone((*r)[4]));

  Builder c(15);
  c.Input("o", OptType(DType::kF32)).Op("OptionalGetElement", {"o"}, {"y"}).Output("y");
  auto e = RunGraph(c.graph(), {{"o", RtValue(std::monostate{})}});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("empty"), std::string::npos) << e.status().message();

  Builder d(15);
  d.Op("Optional", {}, {"none"}).Output("none");
  auto f = RunGraph(d.graph(), {});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("type"), std::string::npos) << f.status().message();
}

// ---------------------------------------------------------------------------------------------
// Gradient expansion

Result<std::vector<RtValue>> ExpandAndRun(std::shared_ptr<Graph> g, std::vector<std::pair<std::string, RtValue>> in) {
  IDEM_RETURN_IF_ERROR(ExpandGradientNodes(*g));
  for (const Node& n : g->nodes)
    if (n.op_type == "Gradient") return Internal("a Gradient node survived the expansion");
  return RunGraph(std::move(g), std::move(in));
}

void GradAttrs(std::map<std::string, Attribute>* m, std::vector<std::string> xs, std::string y,
               std::vector<std::string> zs = {}) {
  (*m)["xs"] = AStrs(std::move(xs));
  (*m)["y"] = AStr(std::move(y));
  if (!zs.empty()) (*m)["zs"] = AStrs(std::move(zs));
}

// y = A * B + C with A [2,3], B [3], C [1]: dA = B broadcast, dB = column sums of A, dC = 6.
void BroadcastCase(int opset, bool static_shapes) {
  SCOPED_TRACE("opset " + std::to_string(opset) + (static_shapes ? " static" : " dynamic"));
  Builder b(opset);
  std::map<std::string, Attribute> ga;
  GradAttrs(&ga, {"A", "B", "C"}, "y");
  b.Input("A", TensorType(DType::kF32, static_shapes ? std::vector<int64_t>{2, 3} : std::vector<int64_t>{-1, -1}))
      .Input("B", TensorType(DType::kF32, static_shapes ? std::vector<int64_t>{3} : std::vector<int64_t>{-1}))
      .Input("C", TensorType(DType::kF32, {1}, static_shapes))
      .Op("Mul", {"A", "B"}, {"ab"})
      .Op("Add", {"ab", "C"}, {"y"})
      .Op("Gradient", {"A", "B", "C"}, {"dA", "dB", "dC"}, ga, "ai.onnx.preview.training")
      .Output("dA").Output("dB").Output("dC");
  auto r = ExpandAndRun(b.graph(), {{"A", T1<float>({1, 2, 3, 4, 5, 6}, {2, 3})},
                                    {"B", T1<float>({10, 20, 30}, {3})},
                                    {"C", T1<float>({7}, {1})}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectNear((*r)[0], {2, 3}, {10, 20, 30, 10, 20, 30});
  ExpectNear((*r)[1], {3}, {5, 7, 9});
  ExpectNear((*r)[2], {1}, {6});
}

TEST(GradientExpansionTest, BroadcastingGradientsAreReduced) {
  BroadcastCase(12, true);
  BroadcastCase(13, true);
  BroadcastCase(13, false);
}

TEST(GradientExpansionTest, BroadcastWithUnknownShapesNeedsOpset13) {
  Builder b(12);
  std::map<std::string, Attribute> ga;
  GradAttrs(&ga, {"A"}, "y");
  b.Input("A", TensorType(DType::kF32, {-1}))
      .Input("B", TensorType(DType::kF32, {-1, -1}))
      .Op("Mul", {"A", "B"}, {"y"})
      .Op("Gradient", {"A"}, {"dA"}, ga, "ai.onnx.preview.training")
      .Output("dA");
  Status st = ExpandGradientNodes(*b.graph());
  EXPECT_EQ(st.code(), StatusCode::kUnsupported) << st.message();
}

struct MatMulCase {
  Shape a, b;
  std::vector<float> av, bv;
  Shape da_shape, db_shape;
  std::vector<double> da, db;
};

TEST(GradientExpansionTest, MatMulGradientsForAllRankCombinations) {
  // y = sum(A @ B) seeds ones: dA[..., i, k] = sum_j B[k, j] (summed over broadcast batch),
  // dB[k, j] = sum over batch and i of A[..., i, k].
  const std::vector<MatMulCase> cases = {
      {{2, 3}, {3, 2}, {1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 5, 6}, {2, 3}, {3, 2}, {3, 7, 11, 3, 7, 11}, {5, 5, 7, 7, 9, 9}},
      {{2, 1, 3}, {3, 2}, {1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 5, 6}, {2, 1, 3}, {3, 2}, {3, 7, 11, 3, 7, 11},
       {5, 5, 7, 7, 9, 9}},
      {{3}, {3, 2}, {1, 2, 3}, {1, 2, 3, 4, 5, 6}, {3}, {3, 2}, {3, 7, 11}, {1, 1, 2, 2, 3, 3}},
      {{2, 3}, {3}, {1, 2, 3, 4, 5, 6}, {1, 2, 3}, {2, 3}, {3}, {1, 2, 3, 1, 2, 3}, {5, 7, 9}},
      {{3}, {3}, {1, 2, 3}, {4, 5, 6}, {3}, {3}, {4, 5, 6}, {1, 2, 3}},
  };
  for (int opset : {12, 13}) {
    for (const MatMulCase& c : cases) {
      SCOPED_TRACE("opset " + std::to_string(opset) + " A " + ShapeToString(c.a) + " B " + ShapeToString(c.b));
      Builder b(opset);
      std::map<std::string, Attribute> ga;
      GradAttrs(&ga, {"A", "B"}, "y");
      b.Input("A", TensorType(DType::kF32, c.a))
          .Input("B", TensorType(DType::kF32, c.b))
          .Op("MatMul", {"A", "B"}, {"y"})
          .Op("Gradient", {"A", "B"}, {"dA", "dB"}, ga, "ai.onnx.preview.training")
          .Output("dA").Output("dB");
      auto r = ExpandAndRun(b.graph(), {{"A", T1<float>(c.av, c.a)}, {"B", T1<float>(c.bv, c.b)}});
      ASSERT_TRUE(r.ok()) << r.status().message();
      ExpectNear((*r)[0], c.da_shape, c.da);
      ExpectNear((*r)[1], c.db_shape, c.db);
    }
  }
}

TEST(GradientExpansionTest, UnaryChainMatchesClosedFormDerivatives) {
  // y = Sum(Tanh(Exp(Neg(x))), Sigmoid(x) / (x - k), Relu(Identity(x)))
  Builder b(13);
  std::map<std::string, Attribute> ga;
  GradAttrs(&ga, {"x"}, "y");
  b.Input("x", TensorType(DType::kF64, {4}))
      .Const("k", Tensor::Scalar<double>(3.0))
      .Op("Neg", {"x"}, {"n"})
      .Op("Exp", {"n"}, {"e"})
      .Op("Tanh", {"e"}, {"t"})
      .Op("Sigmoid", {"x"}, {"s"})
      .Op("Sub", {"x", "k"}, {"d"})
      .Op("Div", {"s", "d"}, {"q"})
      .Op("Identity", {"x"}, {"i"})
      .Op("Relu", {"i"}, {"r"})
      .Op("Sum", {"t", "q", "r"}, {"y"})
      .Op("Gradient", {"x"}, {"dx"}, ga, "ai.onnx.preview.training")
      .Output("dx");
  const std::vector<double> xs = {-1.5, -0.25, 0.5, 2.0};
  auto r = ExpandAndRun(b.graph(), {{"x", T1<double>(xs, {4})}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<double> want;
  for (double x : xs) {
    const double e = std::exp(-x);
    const double th = std::tanh(e);
    const double s = 1.0 / (1.0 + std::exp(-x));
    const double d_tanh = (1 - th * th) * e * -1.0;
    const double d_q = (s * (1 - s)) / (x - 3.0) - s / ((x - 3.0) * (x - 3.0));
    const double d_relu = x > 0 ? 1.0 : 0.0;
    want.push_back(d_tanh + d_q + d_relu);
  }
  ExpectNear((*r)[0], {4}, want, 1e-10);
}

TEST(GradientExpansionTest, ReusedValuesAccumulateAndUnreachedInputsGetZeros) {
  Builder b(13);
  std::map<std::string, Attribute> ga;
  GradAttrs(&ga, {"x", "w"}, "y", {"z"});
  b.Input("x", TensorType(DType::kF32, {3}))
      .Input("w", TensorType(DType::kF32, {2}))
      .Input("z", TensorType(DType::kF32, {3}))
      .Op("Mul", {"x", "x"}, {"xx"})
      .Op("Mul", {"xx", "z"}, {"y"})
      .Op("Gradient", {"x", "w", "z"}, {"dx", "dw"}, ga, "ai.onnx.preview.training")
      .Output("dx").Output("dw");
  auto r = ExpandAndRun(b.graph(), {{"x", T1<float>({1, 2, 3}, {3})},
                                    {"w", T1<float>({5, 5}, {2})},
                                    {"z", T1<float>({1, 10, 100}, {3})}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectNear((*r)[0], {3}, {2, 40, 600});  // 2 x z
  ExpectNear((*r)[1], {2}, {0, 0});
}

TEST(GradientExpansionTest, GradientAtOtherInputsClonesTheForwardGraph) {
  Builder b(13);
  std::map<std::string, Attribute> ga;
  GradAttrs(&ga, {"x"}, "y");
  b.Input("x", TensorType(DType::kF32, {2}))
      .Input("x1", TensorType(DType::kF32, {2}))
      .Op("Mul", {"x", "x"}, {"sq"})
      .Op("Exp", {"sq"}, {"y"})
      .Op("Gradient", {"x1"}, {"dx"}, ga, "ai.onnx.preview.training")
      .Output("y").Output("dx");
  auto r = ExpandAndRun(b.graph(), {{"x", T1<float>({0, 0}, {2})}, {"x1", T1<float>({0.5f, -1}, {2})}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectNear((*r)[0], {2}, {1, 1});
  ExpectNear((*r)[1], {2}, {2 * 0.5 * std::exp(0.25), -2 * std::exp(1.0)});
}

TEST(GradientExpansionTest, UnsupportedForwardOpIsNamed) {
  Builder b(13);
  std::map<std::string, Attribute> ga;
  GradAttrs(&ga, {"x"}, "y");
  b.Input("x", TensorType(DType::kF32, {2}))
      .Op("Log", {"x"}, {"y"})
      .Op("Gradient", {"x"}, {"dx"}, ga, "ai.onnx.preview.training")
      .Output("dx");
  Status st = ExpandGradientNodes(*b.graph());
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("Log"), std::string::npos) << st.message();
}

TEST(GradientExpansionTest, MissingValueNamesAreInvalidModels) {
  Builder b(13);
  std::map<std::string, Attribute> ga;
  GradAttrs(&ga, {"nope"}, "x");
  b.Input("x", TensorType(DType::kF32, {2}))
      .Op("Gradient", {"x"}, {"dx"}, ga, "ai.onnx.preview.training")
      .Output("dx");
  Status st = ExpandGradientNodes(*b.graph());
  EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("nope"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace idem
