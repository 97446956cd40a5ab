// ISA selection through the public CLI (--isa, IDEM_ISA, `--print` naming the ISA) and D4 end to
// end: MatMul/Gemm models and the demo CNN give byte-identical outputs on every supported ISA and
// thread count.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "isa_test_util.h"
#include "kernels/simd/isa.h"

#include "temp_dir_test.h"

namespace fs = std::filesystem;

namespace idem::simd {
namespace {

using idem::testing::IsaScope;
using idem::testing::SupportedIsas;

struct CliResult {
  int exit_code = -1;
  std::string output;
};

CliResult RunCli(const std::string& env, const std::string& args) {
  const std::string cmd = env + " " + std::string(IDEM_CLI_PATH) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  CliResult r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class SimdIsaCliTest : public idem::testing::TempDirTest {
 protected:
  static void RandomTensor(onnx::TensorProto* t, const std::string& name, const std::vector<int64_t>& dims,
                           std::mt19937& rng) {
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (int64_t d : dims) {
      t->add_dims(d);
      n *= d;
    }
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int64_t i = 0; i < n; ++i) t->add_float_data(u(rng));
  }

  // y1 = MatMul(x [2,37,70], w [70,45]) (batched); y2 = Relu(Gemm(x2 [33,70], w2 [45,70]^T, c [45]));
  // y3 = Gemm(x3 [70,33]^T, w3 [70,29], c3 [33,1]) with alpha = 0.5, beta = 2.
  std::string MatMulModel() {
    std::mt19937 rng(17);
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(13);
    onnx::GraphProto* g = m.mutable_graph();
    g->set_name("matmul_gemm");
    RandomTensor(g->add_initializer(), "w", {70, 45}, rng);
    RandomTensor(g->add_initializer(), "w2", {45, 70}, rng);
    RandomTensor(g->add_initializer(), "c", {45}, rng);
    RandomTensor(g->add_initializer(), "w3", {70, 29}, rng);
    RandomTensor(g->add_initializer(), "c3", {33, 1}, rng);
    auto input = [&](const std::string& name, const std::vector<int64_t>& dims) {
      auto* in = g->add_input();
      in->set_name(name);
      auto* tt = in->mutable_type()->mutable_tensor_type();
      tt->set_elem_type(onnx::TensorProto::FLOAT);
      for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
    };
    input("x", {2, 37, 70});
    input("x2", {33, 70});
    input("x3", {70, 33});
    auto* n1 = g->add_node();
    n1->set_op_type("MatMul");
    n1->set_name("mm");
    n1->add_input("x");
    n1->add_input("w");
    n1->add_output("y1");
    auto* n2 = g->add_node();
    n2->set_op_type("Gemm");
    n2->set_name("gemm");
    n2->add_input("x2");
    n2->add_input("w2");
    n2->add_input("c");
    n2->add_output("g2");
    auto* tb = n2->add_attribute();
    tb->set_name("transB");
    tb->set_type(onnx::AttributeProto::INT);
    tb->set_i(1);
    auto* n3 = g->add_node();
    n3->set_op_type("Relu");
    n3->set_name("relu");
    n3->add_input("g2");
    n3->add_output("y2");
    auto* n4 = g->add_node();
    n4->set_op_type("Gemm");
    n4->set_name("gemm_t");
    n4->add_input("x3");
    n4->add_input("w3");
    n4->add_input("c3");
    n4->add_output("y3");
    for (auto [name, value] : {std::pair<const char*, float>{"alpha", 0.5f}, {"beta", 2.0f}}) {
      auto* a = n4->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::FLOAT);
      a->set_f(value);
    }
    auto* ta = n4->add_attribute();
    ta->set_name("transA");
    ta->set_type(onnx::AttributeProto::INT);
    ta->set_i(1);
    for (const char* out : {"y1", "y2", "y3"}) g->add_output()->set_name(out);
    return Write("matmul_gemm.onnx", m.SerializeAsString());
  }

  std::string InputPb(const std::string& file, const std::vector<int64_t>& dims, uint32_t seed) {
    std::mt19937 rng(seed);
    onnx::TensorProto t;
    RandomTensor(&t, "", dims, rng);
    return Write(file, t.SerializeAsString());
  }

};

TEST_F(SimdIsaCliTest, PrintNamesTheIsaAndEnvironmentSelectsIt) {
  const std::string model = MatMulModel();
  const std::string inputs = " --input x=" + InputPb("x.pb", {2, 37, 70}, 1) + " --input x2=" +
                             InputPb("x2.pb", {33, 70}, 2) + " --input x3=" + InputPb("x3.pb", {70, 33}, 3);
  for (Isa isa : SupportedIsas()) {
    const std::string name = IsaName(isa);
    CliResult r = RunCli("", "run " + model + inputs + " --output-dir " + dir_.string() + " --print --isa " + name);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.rfind("isa: " + name + "\n", 0), 0u) << r.output;
    r = RunCli("IDEM_ISA=" + name, "run " + model + inputs + " --output-dir " + dir_.string() + " --print");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.rfind("isa: " + name + "\n", 0), 0u) << r.output;
  }
  // --isa wins over the environment.
  CliResult r = RunCli("IDEM_ISA=avx512", "run " + model + inputs + " --output-dir " + dir_.string() +
                                              " --print --isa scalar");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("isa: scalar\n", 0), 0u) << r.output;
  // Bad values: one clean error line naming the problem.
  r = RunCli("IDEM_ISA=sse9", "run " + model + inputs + " --output-dir " + dir_.string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.output.rfind("idem: error: ", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("IDEM_ISA"), std::string::npos) << r.output;
  r = RunCli("", "run " + model + inputs + " --output-dir " + dir_.string() + " --isa sse9");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.output.rfind("idem: error: ", 0), 0u) << r.output;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (IsaSupported(isa)) continue;
    r = RunCli("", "run " + model + inputs + " --output-dir " + dir_.string() + " --isa " + IsaName(isa));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("not supported"), std::string::npos) << r.output;
  }
}

// D4 + D2 end to end: the same output bytes for every ISA and thread count.
TEST_F(SimdIsaCliTest, OutputsAreIdenticalOnEveryIsaAndThreadCount) {
  struct Run {
    std::string model, inputs;
    std::vector<std::string> outputs;
  };
  std::vector<Run> runs;
  runs.push_back({MatMulModel(),
                  " --input x=" + InputPb("x.pb", {2, 37, 70}, 4) + " --input x2=" + InputPb("x2.pb", {33, 70}, 5) +
                      " --input x3=" + InputPb("x3.pb", {70, 33}, 6),
                  {"y1.npy", "y2.npy", "y3.npy"}});
  const fs::path demo = fs::path(IDEM_SOURCE_DIR) / "models" / "demo_cnn.onnx";
  const fs::path demo_in = fs::path(IDEM_SOURCE_DIR) / "models" / "demo_cnn_input.npy";
  if (fs::exists(demo)) runs.push_back({demo.string(), " --input input=" + demo_in.string(), {"probabilities.npy"}});
  for (const Run& run : runs) {
    std::vector<std::string> reference;
    for (Isa isa : SupportedIsas())
      for (int threads : {1, 2, 3, 8}) {
        const fs::path out = dir_ / (std::string(IsaName(isa)) + "_" + std::to_string(threads));
        const CliResult r = RunCli("", "run " + run.model + run.inputs + " --output-dir " + out.string() +
                                           " --isa " + IsaName(isa) + " --threads " + std::to_string(threads));
        ASSERT_EQ(r.exit_code, 0) << r.output;
        std::vector<std::string> got;
        for (const std::string& o : run.outputs) {
          got.push_back(ReadFile(out / o));
          ASSERT_FALSE(got.back().empty()) << o;
        }
        if (reference.empty()) {
          reference = got;
        } else {
          for (size_t i = 0; i < got.size(); ++i)
            EXPECT_EQ(got[i], reference[i]) << run.model << " " << run.outputs[i] << " isa=" << IsaName(isa)
                                            << " threads=" << threads;
        }
      }
  }
}

}  // namespace
}  // namespace idem::simd
