// The public CLI on bad input (malformed models, bad files, bad arguments) and its determinism
// across thread counts. Every failure must be one line "idem: error: ...", a non-zero exit, and
// never a crash.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "cli_test_util.h"

#include "temp_dir_test.h"

namespace fs = std::filesystem;

namespace {

using idem::testing::CliResult;
using idem::testing::RunCli;

class CliTest : public idem::testing::TempDirTest {
 protected:
  // A valid model y = Relu(x + w), x: float[2,3], w an initializer.
  static onnx::ModelProto ValidModel() {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(13);
    onnx::GraphProto* g = m.mutable_graph();
    g->set_name("g");
    auto* w = g->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(2);
    w->add_dims(3);
    for (int i = 0; i < 6; ++i) w->add_float_data(static_cast<float>(i) - 2.5f);
    auto* x = g->add_input();
    x->set_name("x");
    auto* tt = x->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_value(2);
    tt->mutable_shape()->add_dim()->set_dim_value(3);
    auto* add = g->add_node();
    add->set_op_type("Add");
    add->set_name("add");
    add->add_input("x");
    add->add_input("w");
    add->add_output("s");
    auto* relu = g->add_node();
    relu->set_op_type("Relu");
    relu->set_name("relu");
    relu->add_input("s");
    relu->add_output("y");
    auto* y = g->add_output();
    y->set_name("y");
    y->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    return m;
  }

  std::string InputPb() {
    onnx::TensorProto t;
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_dims(2);
    t.add_dims(3);
    for (int i = 0; i < 6; ++i) t.add_float_data(1.0f);
    return Write("x.pb", t.SerializeAsString());
  }

  // Expects a clean failure: non-zero exit, no crash, exactly one line naming the problem.
  void ExpectCleanError(const CliResult& r, const std::string& needle) {
    EXPECT_FALSE(r.crashed) << r.output;
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.rfind("idem: error: ", 0), 0u) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << "expected '" << needle << "' in: " << r.output;
  }

  std::string RunModel(const onnx::ModelProto& m) {
    return Write("model.onnx", m.SerializeAsString());
  }

};

TEST_F(CliTest, ValidModelRunsAndWritesOutputs) {
  const std::string model = RunModel(ValidModel());
  const CliResult r = RunCli("run " + model + " --input x=" + InputPb() + " --output-dir " + (dir_ / "out").string() +
                             " --print");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir_ / "out" / "y.npy"));
  // relu(1 + (i - 2.5)) for i = 0..5 = 0, 0, 0.5, 1.5, 2.5, 3.5
  EXPECT_NE(r.output.find("y: f32 [2,3] [0, 0, 0.5, 1.5, 2.5, 3.5]"), std::string::npos) << r.output;
}

TEST_F(CliTest, BenchReportsLatencyAndChecksEveryRunsBits) {
  const std::string model = RunModel(ValidModel());
  const CliResult r = RunCli("bench " + model + " --input x=" + InputPb() + " --warmup 1 --runs 3 --threads 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"runs\": 3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"threads\": 2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"identical_outputs\": true"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"median_ms\": "), std::string::npos) << r.output;
  const CliResult text = RunCli("bench " + model + " --input x=" + InputPb() + " --runs 2");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("outputs of all 4 runs bitwise identical"), std::string::npos) << text.output;
  // Errors are one clean line: a missing input, a bad run count.
  const CliResult missing = RunCli("bench " + model + " --runs 2");
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("missing input 'x'"), std::string::npos) << missing.output;
  const CliResult usage = RunCli("bench " + model + " --runs 0");
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
}

// --profile: the model's two nodes (Add, Relu) appear per op type and per node, in text and JSON,
// after runs whose bits were checked like the timed ones.
TEST_F(CliTest, BenchProfileListsEveryOpAndNode) {
  const std::string model = RunModel(ValidModel());
  const CliResult text = RunCli("bench " + model + " --input x=" + InputPb() + " --runs 3 --profile");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("outputs of all 8 runs bitwise identical"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("profile (3 runs; per run, nodes total"), std::string::npos) << text.output;
  for (const char* op : {"    Add ", "    Relu "}) EXPECT_NE(text.output.find(op), std::string::npos) << op << text.output;
  EXPECT_NE(text.output.find("slowest nodes:"), std::string::npos) << text.output;
  const CliResult json = RunCli("bench " + model + " --input x=" + InputPb() + " --runs 2 --profile --json --top 1");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find("\"profile_runs\": 2"), std::string::npos) << json.output;
  EXPECT_NE(json.output.find("{\"op\": \"Add\", \"nodes\": 1"), std::string::npos) << json.output;
  EXPECT_NE(json.output.find("{\"op\": \"Relu\", \"nodes\": 1"), std::string::npos) << json.output;
  // --top 1: one node listed.
  const size_t top = json.output.find("\"top_nodes\": [");
  ASSERT_NE(top, std::string::npos) << json.output;
  EXPECT_EQ(json.output.find("\"node\": ", top), json.output.rfind("\"node\": ")) << json.output;
}

TEST_F(CliTest, TruncatedModelIsRefused) {
  const std::string bytes = ValidModel().SerializeAsString();
  for (size_t cut : {bytes.size() / 4, bytes.size() / 2, bytes.size() - 3}) {
    const std::string model = Write("trunc.onnx", bytes.substr(0, cut));
    ExpectCleanError(RunCli("run " + model + " --input x=" + InputPb() + " --output-dir " + dir_.string()),
                     "model");
  }
}

TEST_F(CliTest, RandomBytesAreRefused) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 20; ++trial) {
    std::string bytes(static_cast<size_t>(16 + trial * 97), '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const std::string model = Write("random.onnx", bytes);
    const CliResult r = RunCli("run " + model + " --output-dir " + dir_.string());
    EXPECT_FALSE(r.crashed) << r.output;
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.output.rfind("idem: error: ", 0), 0u) << r.output;
  }
  ExpectCleanError(RunCli("run " + Write("empty.onnx", "") + " --output-dir " + dir_.string()), "empty");
}

TEST_F(CliTest, WrongGraphsAreRefused) {
  {  // a node reads a value nobody produces
    onnx::ModelProto m = ValidModel();
    m.mutable_graph()->mutable_node(1)->set_input(0, "nowhere");
    ExpectCleanError(RunCli("run " + RunModel(m) + " --output-dir " + dir_.string()), "'nowhere'");
  }
  {  // a cycle
    onnx::ModelProto m = ValidModel();
    m.mutable_graph()->mutable_node(0)->set_input(0, "y");
    ExpectCleanError(RunCli("run " + RunModel(m) + " --output-dir " + dir_.string()), "cycle");
  }
  {  // an unknown operator is refused at load, naming op, domain, opset and node
    onnx::ModelProto m = ValidModel();
    m.mutable_graph()->mutable_node(1)->set_op_type("NoSuchOp");
    const CliResult r = RunCli("run " + RunModel(m) + " --output-dir " + dir_.string());
    ExpectCleanError(r, "NoSuchOp (domain ai.onnx, opset 13) at node 'relu'");
    EXPECT_EQ(r.exit_code, 3);
  }
  {  // a value produced twice
    onnx::ModelProto m = ValidModel();
    m.mutable_graph()->mutable_node(1)->set_output(0, "s");
    ExpectCleanError(RunCli("run " + RunModel(m) + " --output-dir " + dir_.string()), "more than once");
  }
  {  // a graph output nobody produces
    onnx::ModelProto m = ValidModel();
    m.mutable_graph()->mutable_output(0)->set_name("ghost");
    ExpectCleanError(RunCli("run " + RunModel(m) + " --output-dir " + dir_.string()), "'ghost'");
  }
  {  // an initializer whose data does not match its shape
    onnx::ModelProto m = ValidModel();
    m.mutable_graph()->mutable_initializer(0)->add_dims(7);
    ExpectCleanError(RunCli("run " + RunModel(m) + " --output-dir " + dir_.string()), "'w'");
  }
  {  // no graph at all
    onnx::ModelProto m;
    m.set_ir_version(8);
    ExpectCleanError(RunCli("run " + RunModel(m) + " --output-dir " + dir_.string()), "no graph");
  }
}

TEST_F(CliTest, BadInputsAreRefused) {
  const std::string model = RunModel(ValidModel());
  const std::string out = " --output-dir " + dir_.string();
  ExpectCleanError(RunCli("run " + model + out), "missing input 'x'");
  ExpectCleanError(RunCli("run " + model + " --input x=" + dir_.string() + "/nope.pb" + out), "nope.pb");
  ExpectCleanError(RunCli("run " + model + " --input x=" + Write("bad.pb", "\xff\xff\xff") + out), "bad.pb");
  ExpectCleanError(RunCli("run " + model + " --input q=" + InputPb() + out), "no input named 'q'");
  ExpectCleanError(RunCli("run " + model + " --input x" + out), "NAME=PATH");
  onnx::TensorProto wrong;  // wrong shape
  wrong.set_data_type(onnx::TensorProto::FLOAT);
  wrong.add_dims(3);
  for (int i = 0; i < 3; ++i) wrong.add_float_data(1.0f);
  ExpectCleanError(RunCli("run " + model + " --input x=" + Write("w.pb", wrong.SerializeAsString()) + out), "shape");
  onnx::TensorProto wrong_type;  // wrong dtype
  wrong_type.set_data_type(onnx::TensorProto::INT64);
  wrong_type.add_dims(2);
  wrong_type.add_dims(3);
  for (int i = 0; i < 6; ++i) wrong_type.add_int64_data(1);
  ExpectCleanError(RunCli("run " + model + " --input x=" + Write("t.pb", wrong_type.SerializeAsString()) + out),
                   "element type float");
  const CliResult usage = RunCli("run " + model + " --threads 0" + out);
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
}

TEST_F(CliTest, ExternalDataNextToTheModelIsLoaded) {
  onnx::ModelProto m = ValidModel();
  onnx::TensorProto* w = m.mutable_graph()->mutable_initializer(0);
  std::string raw;
  for (float v : {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f}) raw.append(reinterpret_cast<const char*>(&v), 4);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add_entry = [&](const std::string& k, const std::string& v) {
    auto* e = w->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add_entry("location", "weights.bin");
  add_entry("offset", "8");
  add_entry("length", "24");
  Write("weights.bin", std::string(8, 'x') + raw);
  const std::string model = RunModel(m);
  const CliResult r = RunCli("run " + model + " --input x=" + InputPb() + " --output-dir " + (dir_ / "out").string() +
                             " --print");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("y: f32 [2,3] [0, 0, 0.5, 1.5, 2.5, 3.5]"), std::string::npos) << r.output;

  w->mutable_external_data(0)->set_value("../escape.bin");  // must stay next to the model
  ExpectCleanError(RunCli("run " + RunModel(m) + " --input x=" + InputPb() + " --output-dir " + dir_.string()),
                   "relative to the model");
  w->mutable_external_data(0)->set_value("missing.bin");
  ExpectCleanError(RunCli("run " + RunModel(m) + " --input x=" + InputPb() + " --output-dir " + dir_.string()),
                   "missing.bin");
}

TEST_F(CliTest, GraphInputThatShadowsAnInitializerIsOptional) {
  onnx::ModelProto m = ValidModel();
  auto* w_in = m.mutable_graph()->add_input();  // w is now also an input, defaulting to its initializer
  w_in->set_name("w");
  w_in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  const std::string model = RunModel(m);
  CliResult r = RunCli("run " + model + " --input x=" + InputPb() + " --output-dir " + dir_.string() + " --print");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[0, 0, 0.5, 1.5, 2.5, 3.5]"), std::string::npos) << r.output;
  onnx::TensorProto w;  // an explicit value overrides the initializer
  w.set_data_type(onnx::TensorProto::FLOAT);
  w.add_dims(2);
  w.add_dims(3);
  for (int i = 0; i < 6; ++i) w.add_float_data(static_cast<float>(i));
  r = RunCli("run " + model + " --input x=" + InputPb() + " --input w=" + Write("w.pb", w.SerializeAsString()) +
             " --output-dir " + dir_.string() + " --print");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[1, 2, 3, 4, 5, 6]"), std::string::npos) << r.output;
}

// Random ops: values depend on (seed, node, index) only — equal across thread counts, different
// across seeds.
TEST_F(CliTest, RandomOpsDependOnSeedNotThreads) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("rand");
  auto* n = g->add_node();
  n->set_op_type("RandomNormal");
  n->set_name("noise");
  n->add_output("z");
  auto* shape = n->add_attribute();
  shape->set_name("shape");
  shape->set_type(onnx::AttributeProto::INTS);
  shape->add_ints(64);
  shape->add_ints(1024);
  g->add_output()->set_name("z");
  const std::string model = RunModel(m);
  auto digest = [&](int threads, int seed) {
    const CliResult r = RunCli("run " + model + " --output-dir " + dir_.string() + " --print --threads " +
                               std::to_string(threads) + " --seed " + std::to_string(seed));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const size_t at = r.output.find("sha256=");
    return at == std::string::npos ? std::string() : r.output.substr(at, 71);
  };
  const std::string a = digest(1, 7);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(digest(3, 7), a);
  EXPECT_EQ(digest(8, 7), a);
  EXPECT_NE(digest(1, 8), a);
}

// `idem run` gives byte-identical output files for any thread count (DESIGN.md D2).
TEST(CliDeterminismTest, ThreadCountDoesNotChangeOutputBytes) {
  const fs::path model = fs::path(IDEM_SOURCE_DIR) / "models" / "demo_cnn.onnx";
  const fs::path input = fs::path(IDEM_SOURCE_DIR) / "models" / "demo_cnn_input.npy";
  ASSERT_TRUE(fs::exists(model)) << model;
  const fs::path base = fs::temp_directory_path() / ("idem_threads_" + std::to_string(::getpid()));
  std::string reference;
  for (int threads : {1, 2, 3, 8}) {
    const fs::path out = base / std::to_string(threads);
    const CliResult r = RunCli("run " + model.string() + " --input input=" + input.string() + " --output-dir " +
                               out.string() + " --threads " + std::to_string(threads));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::ifstream f(out / "probabilities.npy", std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    ASSERT_FALSE(ss.str().empty());
    if (threads == 1) reference = ss.str();
    else EXPECT_EQ(ss.str(), reference) << "threads=" << threads;
  }
  fs::remove_all(base);
}

// Golden digest of the demo model (STYLE.md "Golden digests"): the same bits on every run,
// machine and thread count.
TEST(CliGoldenTest, DemoModelMatchesGoldenDigest) {
  const fs::path src(IDEM_SOURCE_DIR);
  std::ifstream golden(src / "tests" / "golden" / "demo_cnn.sha256");
  std::string line, name, digest;
  while (std::getline(golden, line))
    if (!line.empty() && line[0] != '#') std::istringstream(line) >> name >> digest;
  ASSERT_EQ(digest.size(), 64u);
  const fs::path out = fs::temp_directory_path() / ("idem_golden_" + std::to_string(::getpid()));
  const CliResult r = RunCli("run " + (src / "models" / "demo_cnn.onnx").string() + " --input input=" +
                             (src / "models" / "demo_cnn_input.npy").string() + " --output-dir " + out.string() +
                             " --print");
  fs::remove_all(out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(name + ": "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sha256=" + digest), std::string::npos) << r.output;
}

}  // namespace
