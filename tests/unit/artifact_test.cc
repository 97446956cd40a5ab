// The .idem artifact: header encoding (incl. offsets beyond 4 GiB), graph round trip through the
// FlatBuffers metadata, zero-copy loading of weights and prepared states, refusal of corrupt,
// truncated, version-mismatched and foreign files, and the memory planner.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "artifact/artifact.h"
#include "artifact/compiler.h"
#include "artifact/format.h"
#include "artifact/inspect.h"
#include "artifact/memory_plan.h"
#include "onnx/import.h"
#include "runtime/executor.h"
#include "runtime/session.h"

#include "temp_dir_test.h"

namespace fs = std::filesystem;

namespace idem::artifact {
namespace {

std::string ReadFile(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
void WriteFile(const std::string& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class ArtifactTest : public idem::testing::TempDirTest {};

// x[2,4] -> MatMul(W) -> Add(b) -> Relu -> Reshape[4,4] -> If(cond){Neg}{Identity} -> y;
// a string Constant -> labels. Exercises prepared states, subgraphs with outer-scope reads,
// tensor attributes and string tensors.
onnx::ModelProto TestModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("artifact_test");
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("main");
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  auto add_init = [&](const char* name, std::vector<int64_t> dims, int n) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (int i = 0; i < n; ++i) t->add_float_data(dist(rng));
  };
  add_init("W", {4, 8}, 32);
  add_init("b", {8}, 8);
  auto* shape = g->add_initializer();
  shape->set_name("shape");
  shape->set_data_type(onnx::TensorProto::INT64);
  shape->add_dims(2);
  shape->add_int64_data(4);
  shape->add_int64_data(4);
  auto add_input = [&](onnx::GraphProto* gr, const char* name, int type, std::vector<int64_t> dims, bool output) {
    auto* v = output ? gr->add_output() : gr->add_input();
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    auto* sh = tt->mutable_shape();
    for (int64_t d : dims) sh->add_dim()->set_dim_value(d);
  };
  add_input(g, "x", onnx::TensorProto::FLOAT, {2, 4}, false);
  add_input(g, "cond", onnx::TensorProto::BOOL, {}, false);
  auto node = [&](onnx::GraphProto* gr, const char* op, const char* name, std::vector<std::string> in,
                  std::vector<std::string> out) {
    auto* n = gr->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto& s : in) n->add_input(s);
    for (auto& s : out) n->add_output(s);
    return n;
  };
  node(g, "MatMul", "mm", {"x", "W"}, {"mm_out"});
  node(g, "Add", "add", {"mm_out", "b"}, {"a"});
  node(g, "Relu", "relu", {"a"}, {"r"});
  node(g, "Reshape", "reshape", {"r", "shape"}, {"rs"});
  auto* iff = node(g, "If", "if", {"cond"}, {"y"});
  for (int branch = 0; branch < 2; ++branch) {
    auto* at = iff->add_attribute();
    at->set_name(branch == 0 ? "then_branch" : "else_branch");
    at->set_type(onnx::AttributeProto::GRAPH);
    onnx::GraphProto* sub = at->mutable_g();
    sub->set_name(branch == 0 ? "then" : "else");
    node(sub, branch == 0 ? "Neg" : "Identity", branch == 0 ? "neg" : "ident", {"rs"}, {"t"});
    add_input(sub, "t", onnx::TensorProto::FLOAT, {4, 4}, true);
  }
  auto* c = node(g, "Constant", "labels_const", {}, {"labels"});
  auto* at = c->add_attribute();
  at->set_name("value");
  at->set_type(onnx::AttributeProto::TENSOR);
  at->mutable_t()->set_data_type(onnx::TensorProto::STRING);
  at->mutable_t()->add_dims(3);
  at->mutable_t()->add_string_data("cat");
  at->mutable_t()->add_string_data(std::string("d\0g", 3));
  at->mutable_t()->add_string_data("");
  add_input(g, "y", onnx::TensorProto::FLOAT, {4, 4}, true);
  auto* lo = g->add_output();
  lo->set_name("labels");
  lo->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::STRING);
  return m;
}

std::shared_ptr<Graph> ImportTestModel() {
  ImportOptions io;
  io.has_kernel = HasKernel;
  auto r = ImportOnnxBytes(TestModel().SerializeAsString(), "", io);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r->graph;
}

void ExpectSameType(const ValueType& a, const ValueType& b) {
  EXPECT_EQ(ValueTypeToString(a), ValueTypeToString(b));
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.optional_of, b.optional_of);
  ASSERT_EQ(a.dims.size(), b.dims.size());
  for (size_t i = 0; i < a.dims.size(); ++i) EXPECT_EQ(a.dims[i].symbol, b.dims[i].symbol);
}

void ExpectSameGraph(const Graph& a, const Graph& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(a.opsets, b.opsets);
  ASSERT_EQ(a.values.size(), b.values.size());
  for (size_t i = 0; i < a.values.size(); ++i) {
    const Value &x = a.values[i], &y = b.values[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(b.FindValue(x.name), static_cast<int>(i));
    ExpectSameType(x.type, y.type);
    EXPECT_EQ(x.producer, y.producer);
    EXPECT_EQ(x.is_graph_input, y.is_graph_input);
    EXPECT_EQ(x.has_initializer, y.has_initializer);
    EXPECT_EQ(x.outer_scope, y.outer_scope);
    if (x.has_initializer) {
      EXPECT_TRUE(x.initializer.Equals(y.initializer)) << x.name;
    }
  }
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const Node &x = a.nodes[i], &y = b.nodes[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.op_type, y.op_type);
    EXPECT_EQ(x.domain, y.domain);
    EXPECT_EQ(x.opset, y.opset);
    EXPECT_EQ(x.inputs, y.inputs);
    EXPECT_EQ(x.outputs, y.outputs);
    EXPECT_EQ(x.provenance, y.provenance);
    EXPECT_EQ(y.index, static_cast<int>(i));
    ASSERT_EQ(x.attributes.size(), y.attributes.size());
    for (const auto& [name, ax] : x.attributes) {
      const Attribute* ay = y.FindAttribute(name);
      ASSERT_NE(ay, nullptr) << name;
      EXPECT_EQ(ax.kind, ay->kind);
      EXPECT_EQ(std::memcmp(&ax.f, &ay->f, sizeof(float)), 0);
      EXPECT_EQ(ax.i, ay->i);
      EXPECT_EQ(ax.s, ay->s);
      EXPECT_EQ(ax.t.defined(), ay->t.defined());
      if (ax.t.defined()) {
        EXPECT_TRUE(ax.t.Equals(ay->t));
      }
      EXPECT_EQ(ax.floats, ay->floats);
      EXPECT_EQ(ax.ints, ay->ints);
      EXPECT_EQ(ax.strings, ay->strings);
      ASSERT_EQ(ax.tensors.size(), ay->tensors.size());
      for (size_t k = 0; k < ax.tensors.size(); ++k) EXPECT_TRUE(ax.tensors[k].Equals(ay->tensors[k]));
      EXPECT_EQ(static_cast<bool>(ax.g), static_cast<bool>(ay->g));
      if (ax.g) ExpectSameGraph(*ax.g, *ay->g);
      ASSERT_EQ(ax.graphs.size(), ay->graphs.size());
      for (size_t k = 0; k < ax.graphs.size(); ++k) ExpectSameGraph(*ax.graphs[k], *ay->graphs[k]);
      ExpectSameType(ax.type, ay->type);
    }
  }
}

bool InMapping(const Tensor& t, const ArtifactInfo& info) {
  const auto* p = static_cast<const uint8_t*>(t.raw());
  return p >= info.mapped_data && p + t.nbytes() <= info.mapped_data + info.mapped_size;
}

// ---------------------------------------------------------------- header

TEST(ArtifactHeader, RoundTripsSectionsBeyond4GiB) {
  Header h;
  h.idem_version = "7.8.9";
  h.flags = kFlagPreparedWeights;
  const uint64_t meta_off = kHeaderSize, meta_size = 1000;
  const uint64_t w_off = (uint64_t{5} << 30) + 64;  // 5 GiB + 64: needs 64-bit offsets
  const uint64_t w_size = (uint64_t{3} << 30) + 12345;
  Section meta{SectionKind::kMetadata, meta_off, meta_size, Sha256("m", 1)};
  Section w{SectionKind::kWeights, w_off, w_size, Sha256("w", 1)};
  h.sections = {meta, w};
  auto enc = EncodeHeader(h);
  ASSERT_TRUE(enc.ok());
  auto dec = DecodeHeader(enc->data(), w_off + w_size, "7.8.9");
  ASSERT_TRUE(dec.ok()) << dec.status().message();
  ASSERT_EQ(dec->sections.size(), 2u);
  EXPECT_EQ(dec->sections[1].offset, w_off);
  EXPECT_EQ(dec->sections[1].size, w_size);
  EXPECT_EQ(dec->sections[1].sha256, w.sha256);
  EXPECT_EQ(dec->sections[0].size, meta_size);
  EXPECT_EQ(dec->flags, kFlagPreparedWeights);
  EXPECT_EQ(dec->idem_version, "7.8.9");
  // One byte short of the weight section's end (a > 4 GiB truncation), and one byte too many.
  auto short_file = DecodeHeader(enc->data(), w_off + w_size - 1, "7.8.9");
  ASSERT_FALSE(short_file.ok());
  EXPECT_NE(short_file.status().message().find("truncated"), std::string::npos) << short_file.status().message();
  EXPECT_FALSE(DecodeHeader(enc->data(), w_off + w_size + 1, "7.8.9").ok());
  // A size that overflows offset + size is refused, not wrapped.
  Header bad = h;
  bad.sections[1].size = UINT64_MAX - 10;
  auto enc_bad = EncodeHeader(bad);
  ASSERT_TRUE(enc_bad.ok());
  EXPECT_FALSE(DecodeHeader(enc_bad->data(), w_off + w_size, "7.8.9").ok());
  // Another idem version is refused by name.
  auto other = DecodeHeader(enc->data(), w_off + w_size, "7.8.10");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("built by idem 7.8.9"), std::string::npos) << other.status().message();
}

TEST(ArtifactHeader, EveryBitOfTheHeaderIsChecked) {
  Header h;
  h.idem_version = IdemVersion();
  h.sections = {{SectionKind::kMetadata, kHeaderSize, 64, Sha256("x", 1)}};
  auto enc = EncodeHeader(h);
  ASSERT_TRUE(enc.ok());
  ASSERT_TRUE(DecodeHeader(enc->data(), kHeaderSize + 64, IdemVersion()).ok());
  for (size_t byte = 0; byte < kHeaderSize; ++byte)
    for (int bit = 0; bit < 8; bit += 3) {
      auto b = *enc;
      b[byte] ^= static_cast<uint8_t>(1u << bit);
      auto r = DecodeHeader(b.data(), kHeaderSize + 64, IdemVersion());
      // Bytes after the checksummed part hold the checksum itself; all bytes are covered.
      EXPECT_FALSE(r.ok()) << "flipped bit " << bit << " of byte " << byte;
    }
}

// ---------------------------------------------------------------- round trip

TEST_F(ArtifactTest, GraphPreparedStatesAndOutputsRoundTrip) {
  auto graph = ImportTestModel();
  ASSERT_TRUE(graph);
  graph->nodes[1].provenance = {"add", "original_add_1"};
  ThreadPool pool(2);
  auto exec = Executor::Create(graph, &pool);
  ASSERT_TRUE(exec.ok()) << exec.status().message();
  const auto states = (*exec)->prepared_states();
  ASSERT_NE(states.at(graph.get())[0], nullptr) << "MatMul with a constant B must have a prepared state";

  ArtifactInput in;
  in.graph = graph.get();
  in.prepared = &states;
  in.producer = "artifact_test";
  in.opt_level = 1;
  in.input_shapes = {{"x", {2, 4}}};
  in.ops_before = {{"MatMul", 1}};
  in.ops_after = {{"MatMul", 1}};
  const std::string path = Path("m.idem");
  ASSERT_TRUE(WriteArtifact(in, path).ok());
  EXPECT_FALSE(fs::exists(path + ".tmp"));

  auto loaded = LoadArtifact(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  ExpectSameGraph(*graph, *loaded->graph);
  const ArtifactInfo& info = loaded->info;
  EXPECT_EQ(info.idem_version, IdemVersion());
  EXPECT_EQ(info.producer, "artifact_test");
  EXPECT_EQ(info.opt_level, 1);
  EXPECT_EQ(info.input_shapes.at("x"), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(info.determinism_flags, kDeterminismAll);
  EXPECT_NE(info.determinism_statement.find("D5"), std::string::npos);
  ASSERT_EQ(info.inputs.size(), 2u);
  EXPECT_EQ(info.inputs[0].name, "x");
  EXPECT_EQ(ValueTypeToString(info.inputs[0].type), "tensor(float)[2,4]");
  ASSERT_EQ(info.kernels.size(), graph->nodes.size());
  EXPECT_EQ(info.kernels[0].op, "MatMul");
  EXPECT_EQ(info.kernels[0].variant, "prepacked");
  EXPECT_EQ(info.kernels[2].variant, "default");
  EXPECT_EQ(info.schedule.size(), graph->nodes.size());

  // Zero copy: initializers and prepared tensors point into the mapping, 64-byte aligned.
  const Graph& lg = *loaded->graph;
  const Value& w = lg.values[static_cast<size_t>(lg.FindValue("W"))];
  EXPECT_TRUE(InMapping(w.initializer, info));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w.initializer.raw()) % 64, 0u);
  const auto& lstates = loaded->prepared.at(&lg);
  ASSERT_EQ(lstates.size(), lg.nodes.size());
  ASSERT_NE(lstates[0], nullptr);
  const PreparedState& orig = *states.at(graph.get())[0];
  ASSERT_EQ(lstates[0]->tensors.size(), orig.tensors.size());
  for (size_t k = 0; k < orig.tensors.size(); ++k) {
    EXPECT_TRUE(lstates[0]->tensors[k].Equals(orig.tensors[k]));
    EXPECT_TRUE(InMapping(lstates[0]->tensors[k], info));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(lstates[0]->tensors[k].raw()) % 64, 0u);
  }
  // Subgraphs have their own (empty) state lists.
  const Graph& then_g = *lg.nodes[4].attributes.at("then_branch").g;
  EXPECT_EQ(loaded->prepared.at(&then_g).size(), then_g.nodes.size());

  // Running the loaded artifact gives the same bits as the original graph, for both branches.
  SessionOptions so;
  auto s1 = Session::FromGraph(graph, so);
  auto s2 = Session::FromPrepared(loaded->graph, loaded->prepared, so);
  ASSERT_TRUE(s1.ok() && s2.ok());
  std::vector<float> xs = {0.5f, -1.f, 2.f, 0.25f, -0.75f, 1.5f, 3.f, -2.f};
  for (bool c : {true, false}) {
    auto run = [&](const Session& s) {
      return s.Run({{"x", Tensor::FromVector<float>(xs, {2, 4})}, {"cond", Tensor::Scalar<bool>(c)}});
    };
    auto o1 = run(**s1);
    auto o2 = run(**s2);
    ASSERT_TRUE(o1.ok() && o2.ok()) << (o1.ok() ? o2.status().message() : o1.status().message());
    ASSERT_EQ(o1->size(), 2u);
    EXPECT_TRUE(std::get<Tensor>((*o1)[0]).Equals(std::get<Tensor>((*o2)[0])));
    EXPECT_TRUE(std::get<Tensor>((*o1)[1]).Equals(std::get<Tensor>((*o2)[1])));
    EXPECT_EQ(std::get<Tensor>((*o2)[1]).data<std::string>()[1], std::string("d\0g", 3));
  }
  // The mapping outlives the LoadedArtifact: the session keeps it alive through its tensors.
  loaded = Result<LoadedArtifact>(InvalidArgument("dropped"));
  auto o3 = (*s2)->Run({{"x", Tensor::FromVector<float>(xs, {2, 4})}, {"cond", Tensor::Scalar<bool>(true)}});
  ASSERT_TRUE(o3.ok());
}

TEST_F(ArtifactTest, WritingIsDeterministic) {
  // Two independent imports and preparations (different thread counts) give identical bytes.
  std::string bytes[2];
  for (int i = 0; i < 2; ++i) {
    auto graph = ImportTestModel();
    ThreadPool pool(i + 1);
    auto exec = Executor::Create(graph, &pool);
    ASSERT_TRUE(exec.ok());
    const auto states = (*exec)->prepared_states();
    ArtifactInput in;
    in.graph = graph.get();
    in.prepared = &states;
    const std::string p = Path("d" + std::to_string(i) + ".idem");
    ASSERT_TRUE(WriteArtifact(in, p).ok());
    bytes[i] = ReadFile(p);
  }
  EXPECT_GT(bytes[0].size(), kHeaderSize);
  EXPECT_EQ(bytes[0], bytes[1]);
}

// A weight section over 2 GiB (beyond any 32-bit FlatBuffers offset): y = Identity(big), where
// big is a 2.25 GiB uint8 initializer placed after a small one, so its offset and end need 64 bits
// of FlatBuffers-free addressing. Skipped when the machine lacks memory or disk.
TEST_F(ArtifactTest, WeightsBeyond2GiBRoundTrip) {
  constexpr int64_t kBig = (int64_t{9} << 28) + 13;  // 2.25 GiB + 13 bytes
  uint64_t avail_kb = 0;
  {
    std::ifstream mi("/proc/meminfo");
    std::string key;
    uint64_t v;
    std::string unit;
    while (mi >> key >> v >> unit)
      if (key == "MemAvailable:") avail_kb = v;
  }
  std::error_code ec;
  const auto space = fs::space(dir_, ec);
  if (avail_kb < (uint64_t{8} << 20) || ec || space.available < (uint64_t{6} << 30))
    GTEST_SKIP() << "needs 8 GiB of free memory and 6 GiB of disk";
  auto g = std::make_shared<Graph>();
  ValueType small_t;
  small_t.kind = ValueType::Kind::kTensor;
  small_t.elem = DType::kF32;
  Value small{"small", small_t, -1, false, true, Tensor::FromVector<float>({1.f, 2.f, 3.f}, {3}), false};
  g->AddValue(small);
  ValueType big_t;
  big_t.kind = ValueType::Kind::kTensor;
  big_t.elem = DType::kU8;
  Tensor big = Tensor::Make(DType::kU8, {kBig});
  uint8_t* d = big.data<uint8_t>();
  const std::vector<int64_t> probes = {0, 1, (int64_t{1} << 31) - 1, int64_t{1} << 31, (int64_t{1} << 32) / 2 + 7, kBig - 1};
  for (int64_t p : probes) d[p] = static_cast<uint8_t>(17 + p % 200);
  const int big_id = g->AddValue(Value{"big", big_t, -1, false, true, std::move(big), false});
  const int y = g->AddValue(Value{"y", big_t, 0, false, false, {}, false});
  Node n;
  n.name = "id";
  n.op_type = "Identity";
  n.opset = 13;
  n.inputs = {big_id};
  n.outputs = {y};
  g->AddNode(std::move(n));
  g->outputs = {y};
  g->opsets[""] = 13;
  PreparedStates states;
  states[g.get()] = {nullptr};
  ArtifactInput in;
  in.graph = g.get();
  in.prepared = &states;
  const std::string path = Path("big.idem");
  ASSERT_TRUE(WriteArtifact(in, path).ok());
  g.reset();  // frees the 2.25 GiB source before loading
  auto loaded = LoadArtifact(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_GT(loaded->info.weight_bytes, uint64_t{1} << 31);
  const Tensor& lb = loaded->graph->values[1].initializer;
  ASSERT_EQ(lb.numel(), kBig);
  EXPECT_TRUE(InMapping(lb, loaded->info));
  auto session = Session::FromPrepared(loaded->graph, loaded->prepared, SessionOptions());
  ASSERT_TRUE(session.ok());
  auto out = (*session)->Run({});
  ASSERT_TRUE(out.ok()) << out.status().message();
  const Tensor& t = std::get<Tensor>((*out)[0]);
  ASSERT_EQ(t.numel(), kBig);
  for (int64_t p : probes) EXPECT_EQ(t.data<uint8_t>()[p], static_cast<uint8_t>(17 + p % 200)) << p;
  EXPECT_EQ(t.data<uint8_t>()[kBig - 2], 0);
  EXPECT_FLOAT_EQ(loaded->graph->values[0].initializer.data<float>()[2], 3.f);
}

// ---------------------------------------------------------------- refusal of bad files

class CorruptArtifactTest : public ArtifactTest {
 protected:
  void SetUp() override {
    ArtifactTest::SetUp();
    auto graph = ImportTestModel();
    auto exec = Executor::Create(graph);
    ASSERT_TRUE(exec.ok());
    const auto states = (*exec)->prepared_states();
    ArtifactInput in;
    in.graph = graph.get();
    in.prepared = &states;
    ASSERT_TRUE(WriteArtifact(in, Path("good.idem")).ok());
    good_ = ReadFile(Path("good.idem"));
    auto h = DecodeHeader(reinterpret_cast<const uint8_t*>(good_.data()), good_.size(), IdemVersion());
    ASSERT_TRUE(h.ok());
    header_ = *h;
  }

  // Loads `bytes` and expects a clean one-line refusal containing `what`.
  void ExpectRefused(const std::string& bytes, const std::string& what, const std::string& ctx) {
    const std::string p = Path("bad.idem");
    WriteFile(p, bytes);
    auto r = LoadArtifact(p);
    ASSERT_FALSE(r.ok()) << ctx;
    const std::string& msg = r.status().message();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << ctx << ": " << msg;
    // Through Session::Load too (as `idem run` does), when the magic is intact.
    if (bytes.size() >= 4 && HasArtifactMagic(reinterpret_cast<const uint8_t*>(bytes.data()), 4)) {
      EXPECT_FALSE(Session::Load(p, SessionOptions()).ok()) << ctx;
    }
  }

  std::string good_;
  Header header_;
};

TEST_F(CorruptArtifactTest, GoodFileLoads) { EXPECT_TRUE(LoadArtifact(Path("good.idem")).ok()); }

TEST_F(CorruptArtifactTest, TruncationAtManyOffsetsIsRefused) {
  std::vector<size_t> cuts = {0, 1, 3, 4, 7, 8, 100, kHeaderSize - 1, kHeaderSize, kHeaderSize + 1};
  for (const Section& s : header_.sections) {
    cuts.push_back(s.offset);
    cuts.push_back(s.offset + s.size / 2);
    if (s.size > 0) cuts.push_back(s.offset + s.size - 1);
  }
  for (size_t k = 1; k < 40; ++k) cuts.push_back(good_.size() * k / 40);
  cuts.push_back(good_.size() - 1);
  for (size_t cut : cuts) {
    if (cut >= good_.size()) continue;
    const std::string what = cut == 0 ? "empty" : cut < 4 ? "magic" : "truncated";
    ExpectRefused(good_.substr(0, cut), what, "cut at " + std::to_string(cut));
  }
  // Extra bytes at the end are refused too.
  ExpectRefused(good_ + std::string(1, '\0'), "unexpected bytes", "one extra byte");
}

TEST_F(CorruptArtifactTest, FlippedBitInEachSectionIsRefused) {
  struct Case {
    size_t pos;
    std::string what;
  };
  std::vector<Case> cases = {{9, "header checksum"}, {40 + 10, "header checksum"}, {kHeaderDigestOffset + 3, "header checksum"}};
  for (const Section& s : header_.sections) {
    ASSERT_GT(s.size, 0u);
    const std::string what = std::string(SectionKindName(s.kind)) + " section checksum";
    for (uint64_t at : {s.offset, s.offset + s.size / 3, s.offset + s.size - 1}) cases.push_back({at, what});
  }
  // Padding between the metadata and the weights.
  const Section& meta = header_.sections[0];
  if (meta.offset + meta.size < header_.sections[1].offset) cases.push_back({meta.offset + meta.size, "padding"});
  for (const Case& c : cases) {
    std::string b = good_;
    b[c.pos] = static_cast<char>(b[c.pos] ^ 0x10);
    ExpectRefused(b, c.what, "flip at " + std::to_string(c.pos));
  }
}

TEST_F(CorruptArtifactTest, WrongVersionsAndForeignFilesAreRefused) {
  // Another idem version, with a valid header checksum (as a real older build would write).
  Header h = header_;
  h.idem_version = "0.0.1";
  auto enc = EncodeHeader(h);
  ASSERT_TRUE(enc.ok());
  std::string b = good_;
  std::memcpy(b.data(), enc->data(), kHeaderSize);
  ExpectRefused(b, "built by idem 0.0.1", "idem version");
  // Another format version.
  h = header_;
  h.format_version = kFormatVersion + 1;
  enc = EncodeHeader(h);
  b = good_;
  std::memcpy(b.data(), enc->data(), kHeaderSize);
  ExpectRefused(b, "format version " + std::to_string(kFormatVersion + 1), "format version");
  // Wrong magic, an empty file, an ONNX file, text.
  b = good_;
  b[0] = 'X';
  ExpectRefused(b, "bad magic", "magic");
  ExpectRefused("", "empty", "empty file");
  ExpectRefused(TestModel().SerializeAsString(), "bad magic", "onnx file");
  ExpectRefused("IDEM", "truncated", "magic only");
  EXPECT_FALSE(LoadArtifact(Path("does_not_exist.idem")).ok());
}

TEST_F(CorruptArtifactTest, MetadataThatPassesChecksumsButIsInvalidIsRefused) {
  // A crafted file: garbage metadata with a correct checksum must fail the FlatBuffers verifier.
  std::string b = good_;
  const Section& meta = header_.sections[0];
  for (uint64_t i = meta.offset + 8; i < meta.offset + meta.size; i += 7) b[i] = static_cast<char>(b[i] * 31 + 17);
  Header h = header_;
  h.sections[0].sha256 = Sha256(b.data() + meta.offset, meta.size);
  auto enc = EncodeHeader(h);
  ASSERT_TRUE(enc.ok());
  std::memcpy(b.data(), enc->data(), kHeaderSize);
  ExpectRefused(b, "corrupt", "crafted metadata");
}

TEST_F(CorruptArtifactTest, SkippingWeightVerificationStillChecksMetadata) {
  std::string b = good_;
  const Section& w = header_.sections[1];
  b[w.offset + 5] = static_cast<char>(b[w.offset + 5] ^ 1);
  WriteFile(Path("w.idem"), b);
  LoadOptions fast;
  fast.verify_weights = false;
  EXPECT_TRUE(LoadArtifact(Path("w.idem"), fast).ok());  // documented: weights unchecked
  EXPECT_FALSE(LoadArtifact(Path("w.idem")).ok());
  b = good_;
  b[header_.sections[0].offset + 5] ^= 1;
  WriteFile(Path("m.idem"), b);
  EXPECT_FALSE(LoadArtifact(Path("m.idem"), fast).ok());
}

// ---------------------------------------------------------------- memory plan

// x -> Add(c) -> a -> Relu -> b -> Mul(c) -> m -> Add(c) -> d (output); every value 32x32 floats.
std::shared_ptr<Graph> ChainGraph() {
  auto g = std::make_shared<Graph>();
  auto type = [] {
    ValueType t;
    t.kind = ValueType::Kind::kTensor;
    t.elem = DType::kF32;
    t.has_shape = true;
    t.dims = {{32, ""}, {32, ""}};
    return t;
  };
  Value x{"x", type(), -1, true, false, {}, false};
  g->inputs.push_back(g->AddValue(x));
  Value c{"c", type(), -1, false, true, Tensor::Make(DType::kF32, {32, 32}), false};
  g->AddValue(c);
  auto add_node = [&](const char* op, std::vector<int> in, const char* out) {
    Value v{out, type(), static_cast<int>(g->nodes.size()), false, false, {}, false};
    const int id = g->AddValue(v);
    Node n;
    n.name = out;
    n.op_type = op;
    n.opset = 13;
    n.inputs = std::move(in);
    n.outputs = {id};
    g->AddNode(std::move(n));
    return id;
  };
  const int a = add_node("Add", {0, 1}, "a");   // node 0
  const int b = add_node("Relu", {a}, "b");     // node 1: in place of a
  const int m = add_node("Mul", {b, 1}, "m");   // node 2
  const int d = add_node("Add", {m, 1}, "d");   // node 3
  g->outputs.push_back(d);
  return g;
}

TEST(MemoryPlan, ChainReusesAndPlacesInPlace) {
  auto g = ChainGraph();
  const MemoryPlan p = PlanMemory(*g);
  ASSERT_EQ(p.values.size(), 4u);
  EXPECT_TRUE(p.unplanned.empty());
  EXPECT_EQ(p.naive_bytes, 4u * 4096);
  // a and b share one buffer (in place); m overlaps it in time; d reuses a's slot after node 2.
  const PlannedValue &a = p.values[0], &b = p.values[1], &m = p.values[2], &d = p.values[3];
  EXPECT_EQ(b.inplace_of, a.value);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.offset, 0u);
  EXPECT_EQ(m.offset, 4096u);
  EXPECT_EQ(d.offset, 0u);
  EXPECT_EQ(d.last, 4);  // a graph output lives to the end
  EXPECT_EQ(p.arena_bytes, 8192u);
}

TEST(MemoryPlan, NoLiveValuesOverlapOnARandomDag) {
  // Random DAGs of elementwise ops with random sizes: live values never share bytes, offsets are
  // aligned, and planning twice gives the same plan.
  std::mt19937 rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    Graph g;
    auto type = [&](int64_t n) {
      ValueType t;
      t.kind = ValueType::Kind::kTensor;
      t.elem = DType::kF32;
      t.has_shape = true;
      t.dims = {{n, ""}};
      return t;
    };
    g.inputs.push_back(g.AddValue(Value{"x", type(8), -1, true, false, {}, false}));
    const int nodes = 5 + static_cast<int>(rng() % 30);
    for (int i = 0; i < nodes; ++i) {
      const int nv = static_cast<int>(g.values.size());
      const int in0 = static_cast<int>(rng() % static_cast<unsigned>(nv));
      const int in1 = static_cast<int>(rng() % static_cast<unsigned>(nv));
      const int64_t n = 1 + static_cast<int64_t>(rng() % 100);
      const int id = g.AddValue(Value{"v" + std::to_string(i), type(rng() % 3 == 0 ? 8 : n), i, false, false, {}, false});
      Node node;
      node.op_type = rng() % 2 ? "Relu" : "Add";
      node.opset = 13;
      node.inputs = node.op_type == "Relu" ? std::vector<int>{in0} : std::vector<int>{in0, in1};
      node.outputs = {id};
      g.AddNode(std::move(node));
    }
    g.outputs.push_back(static_cast<int>(g.values.size()) - 1);
    const MemoryPlan p = PlanMemory(g);
    const MemoryPlan q = PlanMemory(g);
    ASSERT_EQ(p.values.size(), q.values.size());
    for (size_t i = 0; i < p.values.size(); ++i) EXPECT_EQ(p.values[i].offset, q.values[i].offset);
    EXPECT_LE(p.arena_bytes, AlignUp(p.naive_bytes, 64) + 64 * p.values.size());
    for (size_t i = 0; i < p.values.size(); ++i) {
      EXPECT_EQ(p.values[i].offset % 64, 0u);
      EXPECT_LE(p.values[i].offset + p.values[i].size, p.arena_bytes);
      for (size_t j = i + 1; j < p.values.size(); ++j) {
        // Values joined in place share bytes by design.
        std::set<int> chain_i = {p.values[i].value}, chain_j = {p.values[j].value};
        for (int k = static_cast<int>(i); k >= 0 && p.values[static_cast<size_t>(k)].inplace_of >= 0;) {
          const int src = p.values[static_cast<size_t>(k)].inplace_of;
          chain_i.insert(src);
          k = -1;
          for (size_t t = 0; t < p.values.size(); ++t)
            if (p.values[t].value == src) k = static_cast<int>(t);
        }
        for (int k = static_cast<int>(j); k >= 0 && p.values[static_cast<size_t>(k)].inplace_of >= 0;) {
          const int src = p.values[static_cast<size_t>(k)].inplace_of;
          chain_j.insert(src);
          k = -1;
          for (size_t t = 0; t < p.values.size(); ++t)
            if (p.values[t].value == src) k = static_cast<int>(t);
        }
        bool related = false;
        for (int v : chain_i) related |= chain_j.count(v) > 0;
        if (!related) {
          EXPECT_FALSE(PlannedOverlap(p.values[i], p.values[j])) << "trial " << trial << " " << i << "," << j;
        }
      }
    }
  }
}

TEST(ArtifactInspect, FlopsAndParameters) {
  auto g = ImportTestModel();
  int64_t unknown = -1;
  // MatMul [2,4] x [4,8]: 2 * 16 outputs... 2 * (2*8) * 4 = 128.
  EXPECT_EQ(EstimateFlops(*g, &unknown), 128);
  EXPECT_EQ(unknown, 0);
  EXPECT_EQ(ParameterCount(*g), 32 + 8 + 2);  // initializers W, b, shape (a Constant's value is an attribute)
}

}  // namespace
}  // namespace idem::artifact
