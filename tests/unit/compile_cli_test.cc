// `idem compile`, `idem inspect` and `idem run MODEL.idem` through the CLI binary: reproducible
// builds (D5) across processes and thread counts, outputs of the artifact against the ONNX model
// (bitwise at --opt-level 0, within tolerance at 2), and clean refusal of bad files and arguments.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/npy.h"
#include "core/tensor.h"

#include "cli_test_util.h"

#include "temp_dir_test.h"

namespace fs = std::filesystem;

namespace {

using idem::testing::CliResult;
using idem::testing::RunCli;

std::string ReadFile(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void ExpectCleanError(const CliResult& r, int code, const std::string& what) {
  EXPECT_FALSE(r.crashed) << r.output;
  EXPECT_EQ(r.exit_code, code) << r.output;
  EXPECT_EQ(r.output.rfind("idem: error: ", 0), 0u) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find(what), std::string::npos) << r.output;
}

const std::string kDemo = std::string(IDEM_SOURCE_DIR) + "/models/demo_cnn.onnx";
const std::string kDemoInput = std::string(IDEM_SOURCE_DIR) + "/models/demo_cnn_input.npy";

// A small pre-LN transformer block in decomposed ONNX form (LayerNorm from ReduceMean/Sub/Mul/
// Sqrt/Div, single-head attention MatMul-Scale-Softmax-MatMul, GELU from Erf), random weights.
onnx::ModelProto TransformerModel() {
  constexpr int S = 8, D = 16, F = 32;
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("compile_cli_test");
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("block");
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.f, 0.3f);
  auto init = [&](const std::string& name, std::vector<int64_t> dims, bool random, float value = 0) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (int64_t d : dims) {
      t->add_dims(d);
      n *= d;
    }
    for (int64_t i = 0; i < n; ++i) t->add_float_data(random ? dist(rng) : value);
  };
  auto node = [&](const char* op, std::vector<std::string> in, const std::string& out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(out + "_node");
    for (auto& s : in) n->add_input(s);
    n->add_output(out);
    return n;
  };
  auto ints_attr = [](onnx::NodeProto* n, const char* name, std::vector<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  };
  auto* x = g->add_input();
  x->set_name("x");
  auto* tt = x->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int d : {1, S, D}) tt->mutable_shape()->add_dim()->set_dim_value(d);
  for (const char* w : {"Wq", "Wk", "Wv", "Wo"}) init(w, {D, D}, true);
  init("W1", {D, F}, true);
  init("b1", {F}, true);
  init("W2", {F, D}, true);
  init("gamma", {D}, true);
  init("beta", {D}, true);
  init("eps", {}, false, 1e-5f);
  init("scale", {}, false, 0.25f);
  init("half", {}, false, 0.5f);
  init("one", {}, false, 1.0f);
  init("sqrt2", {}, false, 1.4142135f);
  ints_attr(node("ReduceMean", {"x"}, "mu"), "axes", {-1});
  node("Sub", {"x", "mu"}, "xc");
  node("Mul", {"xc", "xc"}, "sq");
  ints_attr(node("ReduceMean", {"sq"}, "var"), "axes", {-1});
  node("Add", {"var", "eps"}, "var_eps");
  node("Sqrt", {"var_eps"}, "std");
  node("Div", {"xc", "std"}, "xn");
  node("Mul", {"xn", "gamma"}, "xg");
  node("Add", {"xg", "beta"}, "ln");
  node("MatMul", {"ln", "Wq"}, "q");
  node("MatMul", {"ln", "Wk"}, "k");
  node("MatMul", {"ln", "Wv"}, "v");
  ints_attr(node("Transpose", {"k"}, "kt"), "perm", {0, 2, 1});
  node("MatMul", {"q", "kt"}, "s");
  node("Mul", {"s", "scale"}, "ss");
  auto* sm = node("Softmax", {"ss"}, "p");
  auto* ax = sm->add_attribute();
  ax->set_name("axis");
  ax->set_type(onnx::AttributeProto::INT);
  ax->set_i(-1);
  node("MatMul", {"p", "v"}, "att");
  node("MatMul", {"att", "Wo"}, "o");
  node("Add", {"x", "o"}, "r");
  node("MatMul", {"r", "W1"}, "h0");
  node("Add", {"h0", "b1"}, "h");
  node("Div", {"h", "sqrt2"}, "hs");
  node("Erf", {"hs"}, "e");
  node("Add", {"e", "one"}, "e1");
  node("Mul", {"h", "e1"}, "he");
  node("Mul", {"he", "half"}, "gelu");
  node("MatMul", {"gelu", "W2"}, "f");
  node("Add", {"r", "f"}, "y");
  auto* y = g->add_output();
  y->set_name("y");
  auto* yt = y->mutable_type()->mutable_tensor_type();
  yt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int d : {1, S, D}) yt->mutable_shape()->add_dim()->set_dim_value(d);
  return m;
}

class CompileCliTest : public idem::testing::TempDirTest {
 protected:
  std::string Transformer() { return Write("block.onnx", TransformerModel().SerializeAsString()); }
  std::string TransformerInput() {
    std::mt19937 rng(5);
    std::normal_distribution<float> dist(0.f, 1.f);
    std::vector<float> v(8 * 16);
    for (float& f : v) f = dist(rng);
    const std::string p = Path("x.npy");
    EXPECT_TRUE(idem::WriteNpy(p, idem::Tensor::FromVector<float>(v, {1, 8, 16})).ok());
    return p;
  }
  void Compile(const std::string& model, const std::string& out, const std::string& extra) {
    const CliResult r = RunCli("compile " + model + " -o " + out + " " + extra);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_FALSE(r.crashed);
  }
  // Runs `model` with `input` (NAME=PATH) and returns the bytes of output `out`.npy.
  std::string RunOutput(const std::string& model, const std::string& input, const std::string& out,
                        const std::string& tag, const std::string& extra = "") {
    const std::string dir = Path("out_" + tag);
    const CliResult r = RunCli("run " + model + " --input " + input + " -o " + dir + " " + extra);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return ReadFile(dir + "/" + out + ".npy");
  }
  void ExpectClose(const std::string& ref_npy_path, const std::string& got_npy_path, double tol) {
    auto a = idem::ReadNpy(ref_npy_path);
    auto b = idem::ReadNpy(got_npy_path);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->shape(), b->shape());
    for (int64_t i = 0; i < a->numel(); ++i) {
      const double x = a->data<float>()[i], y = b->data<float>()[i];
      ASSERT_LE(std::fabs(x - y), tol * (1 + std::fabs(x))) << "element " << i;
    }
  }
};

TEST_F(CompileCliTest, DemoCnnBuildIsReproducibleAcrossProcessesAndThreads) {
  for (const std::string shape : {"", "--input-shape input:1,3,64,64"}) {
    Compile(kDemo, Path("a.idem"), "--threads 1 " + shape);
    Compile(kDemo, Path("b.idem"), "--threads 2 " + shape);
    const std::string a = ReadFile(Path("a.idem")), b = ReadFile(Path("b.idem"));
    EXPECT_GT(a.size(), 4096u);
    EXPECT_EQ(a.substr(0, 4), "IDEM");
    EXPECT_TRUE(a == b) << "artifacts differ (" << shape << ")";
  }
}

TEST_F(CompileCliTest, TransformerBuildIsReproducibleAcrossProcessesAndThreads) {
  const std::string model = Transformer();
  for (const std::string level : {"0", "2"}) {
    Compile(model, Path("a.idem"), "--threads 1 --opt-level " + level);
    Compile(model, Path("b.idem"), "--threads 2 --opt-level " + level);
    const std::string a = ReadFile(Path("a.idem"));
    EXPECT_TRUE(a == ReadFile(Path("b.idem"))) << "opt-level " << level;
  }
}

TEST_F(CompileCliTest, OptLevel0ArtifactIsBitwiseEqualToOnnx) {
  Compile(kDemo, Path("demo.idem"), "--opt-level 0");
  const std::string in = "input=" + kDemoInput;
  const std::string ref = RunOutput(kDemo, in, "probabilities", "onnx");
  ASSERT_GT(ref.size(), 80u);
  EXPECT_TRUE(RunOutput(Path("demo.idem"), in, "probabilities", "idem") == ref);
  EXPECT_TRUE(RunOutput(Path("demo.idem"), in, "probabilities", "idem_t2", "--threads 2") == ref);

  const std::string block = Transformer();
  Compile(block, Path("block.idem"), "--opt-level 0");
  const std::string xin = "x=" + TransformerInput();
  const std::string bref = RunOutput(block, xin, "y", "block_onnx");
  ASSERT_GT(bref.size(), 8u * 16 * 4);
  EXPECT_TRUE(RunOutput(Path("block.idem"), xin, "y", "block_idem") == bref);
}

TEST_F(CompileCliTest, OptLevel2ArtifactMatchesOnnxWithinTolerance) {
  Compile(kDemo, Path("demo.idem"), "--opt-level 2");
  const std::string in = "input=" + kDemoInput;
  RunOutput(kDemo, in, "probabilities", "onnx");
  RunOutput(Path("demo.idem"), in, "probabilities", "idem");
  ExpectClose(Path("out_onnx/probabilities.npy"), Path("out_idem/probabilities.npy"), 1e-5);

  const std::string block = Transformer();
  Compile(block, Path("block.idem"), "--opt-level 2");
  const std::string xin = "x=" + TransformerInput();
  RunOutput(block, xin, "y", "b_onnx");
  RunOutput(Path("block.idem"), xin, "y", "b_idem");
  ExpectClose(Path("out_b_onnx/y.npy"), Path("out_b_idem/y.npy"), 1e-4);
}

TEST_F(CompileCliTest, ArtifactIsRecognizedByContentNotExtension) {
  Compile(kDemo, Path("demo.idem"), "");
  fs::copy_file(Path("demo.idem"), Path("renamed.onnx"));
  const std::string in = "input=" + kDemoInput;
  EXPECT_TRUE(RunOutput(Path("renamed.onnx"), in, "probabilities", "a") ==
              RunOutput(kDemo, in, "probabilities", "b"));
}

TEST_F(CompileCliTest, InspectPrintsSignaturePlanAndDeterminism) {
  Compile(kDemo, Path("demo.idem"), "--input-shape input:2,3,64,64");
  const CliResult r = RunCli("inspect " + Path("demo.idem"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* s : {"input: tensor(float)[2,3,64,64]", "probabilities: tensor(float)[2,10]", "ops (before -> after",
                        "parameters: ", "FLOPs", "memory plan: arena ", "naive total", "weight section: ",
                        "metadata  offset", "weights   offset", "sha256 ", "determinism: D1 D2 D3 D4 D5 D6",
                        "--input-shape input:2,3,64,64"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;
  // With static shapes the intermediate values are planned, and reuse makes the arena smaller.
  EXPECT_EQ(r.output.find("memory plan: arena 0 bytes"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("FLOPs (estimate: Conv/MatMul/Gemm and fused forms, 2 per multiply-add): 0 "), std::string::npos);
}

TEST_F(CompileCliTest, DumpGraphAndLogInfo) {
  const CliResult r = RunCli("compile " + kDemo + " -o " + Path("d.idem") + " --dump-graph " + Path("g.txt") + " --log info");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[1/5] import"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[5/5] write"), std::string::npos) << r.output;
  const std::string dump = ReadFile(Path("g.txt"));
  EXPECT_NE(dump.find("Conv"), std::string::npos) << dump.substr(0, 500);
  // Quiet by default when stderr is not a terminal.
  const CliResult quiet = RunCli("compile " + kDemo + " -o " + Path("e.idem"));
  EXPECT_EQ(quiet.exit_code, 0);
  EXPECT_EQ(quiet.output, "");
}

TEST_F(CompileCliTest, BadArtifactsAreRefusedWithOneLine) {
  Compile(kDemo, Path("demo.idem"), "");
  const std::string good = ReadFile(Path("demo.idem"));
  const std::string in = " --input input=" + kDemoInput + " -o " + Path("o");
  ExpectCleanError(RunCli("run " + Write("t.idem", good.substr(0, good.size() / 2)) + in), 1, "truncated");
  std::string flipped = good;
  flipped[good.size() - 100] ^= 4;
  ExpectCleanError(RunCli("run " + Write("f.idem", flipped) + in), 1, "weights section checksum mismatch");
  ExpectCleanError(RunCli("inspect " + Write("f2.idem", flipped)), 1, "checksum");
  ExpectCleanError(RunCli("inspect " + kDemo), 1, "bad magic");
  ExpectCleanError(RunCli("inspect " + Write("empty.idem", "")), 1, "empty");
  ExpectCleanError(RunCli("inspect " + Path("missing.idem")), 1, "cannot open");
  // The fast path skips only the weights' digest.
  EXPECT_EQ(RunCli("run " + Path("f.idem") + in + " --no-verify").exit_code, 0);
}

TEST_F(CompileCliTest, BadCompileArgumentsAreRefused) {
  const std::string out = " -o " + Path("x.idem");
  EXPECT_EQ(RunCli("compile " + kDemo + out + " --opt-level 3").exit_code, 2);
  EXPECT_EQ(RunCli("compile " + kDemo).exit_code, 2);
  EXPECT_EQ(RunCli("compile " + kDemo + out + " --log loud").exit_code, 2);
  ExpectCleanError(RunCli("compile " + kDemo + out + " --input-shape input:1,x,64,64"), 1, "not a non-negative integer");
  ExpectCleanError(RunCli("compile " + kDemo + out + " --input-shape nosuch:1,3,64,64"), 1, "nosuch");
  ExpectCleanError(RunCli("compile " + kDemo + out + " --input-shape input:1,3,64"), 1, "input");
  ExpectCleanError(RunCli("compile " + Path("missing.onnx") + out), 1, "missing.onnx");
  EXPECT_FALSE(fs::exists(Path("x.idem")));
  // An operator idem cannot run: exit 3, nothing written.
  onnx::ModelProto m = TransformerModel();
  m.mutable_graph()->mutable_node(0)->set_op_type("NoSuchOp");
  ExpectCleanError(RunCli("compile " + Write("u.onnx", m.SerializeAsString()) + out), 3, "NoSuchOp");
  EXPECT_FALSE(fs::exists(Path("x.idem")));
}

}  // namespace
