// idem command-line tool. Contract: DESIGN.md §4. Every failure prints one line
// "idem: error: <what>" to stderr and exits non-zero (1 = error, 2 = usage, 3 = unsupported model).
#include <CLI/CLI.hpp>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/digest.h"
#include "core/npy.h"
#include "kernels/simd/isa.h"
#include "onnx/tensor_proto.h"
#include "runtime/session.h"

namespace {

using namespace idem;

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnsupported = 3;

int Fail(const Status& st) {
  std::string msg = st.message();
  for (char& c : msg)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "idem: error: %s\n", msg.c_str());
  return st.code() == StatusCode::kUnsupported ? kExitUnsupported : kExitError;
}

std::string ValuePreview(const Tensor& t, int count) {
  std::string s;
  const int64_t n = std::min<int64_t>(t.numel(), count);
  for (int64_t i = 0; i < n; ++i) {
    if (i) s += ", ";
    if (t.dtype() == DType::kString) {
      s += "\"" + t.data<std::string>()[i] + "\"";
    } else if (IsFloat(t.dtype())) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.6g", t.DoubleAt(i));
      s += buf;
    } else if (t.dtype() == DType::kU64) {
      s += std::to_string(t.data<uint64_t>()[i]);
    } else {
      s += std::to_string(t.IntAt(i));
    }
  }
  if (t.numel() > n) s += ", ...";
  return s;
}

void PrintTensor(const std::string& name, const Tensor& t) {
  std::printf("%s: %s %s [%s] sha256=%s\n", name.c_str(), DTypeName(t.dtype()), ShapeToString(t.shape()).c_str(),
              ValuePreview(t, 6).c_str(), TensorSha256(t).c_str());
}

Status WriteOutput(const std::filesystem::path& dir, const std::string& name, const RtValue& v, bool print) {
  const std::string file = OutputFileStem(name);
  if (IsTensor(v)) {
    IDEM_RETURN_IF_ERROR(WriteNpy((dir / (file + ".npy")).string(), std::get<Tensor>(v)));
    if (print) PrintTensor(name, std::get<Tensor>(v));
  } else if (IsSequence(v)) {
    const auto& seq = std::get<TensorSequence>(v);
    const auto sub = dir / file;
    std::error_code ec;
    std::filesystem::create_directories(sub, ec);
    if (ec) return IoError("cannot create directory '", sub.string(), "'");
    for (size_t i = 0; i < seq.items.size(); ++i) {
      IDEM_RETURN_IF_ERROR(WriteNpy((sub / (std::to_string(i) + ".npy")).string(), seq.items[i]));
      if (print) PrintTensor(name + "[" + std::to_string(i) + "]", seq.items[i]);
    }
    if (print) std::printf("%s: sequence of %zu tensors\n", name.c_str(), seq.items.size());
  } else {
    // An empty optional: an empty marker file.
    FILE* f = std::fopen((dir / (file + ".none")).string().c_str(), "wb");
    if (f == nullptr) return IoError("cannot write '", (dir / (file + ".none")).string(), "'");
    std::fclose(f);
    if (print) std::printf("%s: none (empty optional)\n", name.c_str());
  }
  return Status::Ok();
}

Result<RtValue> ReadInput(const std::string& path, const ValueType& type) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".npy") {
    IDEM_ASSIGN_OR_RETURN(Tensor t, ReadNpy(path));
    return RtValue(std::move(t));
  }
  return ReadValuePb(path, type);
}

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string output_dir;
  int threads = 1;
  uint64_t seed = 0;
  bool print = false;
  std::string isa;  // empty: IDEM_ISA or the best the CPU supports
};

// Chooses the kernels' ISA: --isa, else the environment variable IDEM_ISA, else the best one.
Status SelectIsa(const std::string& name) {
  if (name.empty()) return simd::InitIsaFromEnvironment();
  IDEM_ASSIGN_OR_RETURN(simd::Isa isa, simd::ParseIsa(name));
  return simd::SetIsa(isa).WithContext("--isa");
}

int RunCommand(const RunArgs& a) {
  if (Status st = SelectIsa(a.isa); !st.ok()) return Fail(st);
  SessionOptions so;
  so.threads = a.threads;
  so.seed = a.seed;
  auto session = Session::Load(a.model, so);
  if (!session.ok()) return Fail(session.status());
  const Session& s = **session;

  std::vector<std::pair<std::string, RtValue>> inputs;
  for (const std::string& spec : a.inputs) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
      return Fail(InvalidArgument("--input expects NAME=PATH, got '", spec, "'"));
    const std::string name = spec.substr(0, eq), path = spec.substr(eq + 1);
    ValueType type;
    for (const IoInfo& info : s.inputs())
      if (info.name == name) type = info.type;
    auto v = ReadInput(path, type);
    if (!v.ok()) return Fail(v.status().WithContext("input '" + name + "'"));
    inputs.emplace_back(name, std::move(v).value());
  }
  auto outputs = s.Run(std::move(inputs));
  if (!outputs.ok()) return Fail(outputs.status());

  const std::filesystem::path dir(a.output_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) return Fail(IoError("cannot create output directory '", a.output_dir, "'"));
  if (a.print) std::printf("isa: %s\n", simd::CurrentIsaName());
  for (size_t i = 0; i < outputs->size(); ++i) {
    Status st = WriteOutput(dir, s.outputs()[i].name, (*outputs)[i], a.print);
    if (!st.ok()) return Fail(st);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"idem: bitwise-reproducible ONNX compiler and runtime"};
  app.require_subcommand(1);
  RunArgs run;
  CLI::App* run_cmd = app.add_subcommand("run", "Run a model on inputs and write its outputs as .npy files");
  run_cmd->add_option("model", run.model, "model file (.onnx)")->required();
  run_cmd->add_option("--input,-i", run.inputs, "NAME=PATH (.npy or ONNX TensorProto .pb); repeat per input");
  run_cmd->add_option("--output-dir,-o", run.output_dir, "directory for <output>.npy files")->required();
  run_cmd->add_option("--threads,-t", run.threads, "intra-op threads (changes speed, never results)")
      ->check(CLI::Range(1, 1024));
  run_cmd->add_option("--seed", run.seed, "seed for random operators");
  run_cmd->add_option("--isa", run.isa, "kernel instruction set: scalar, avx2 or avx512 (changes speed, never results)")
      ->check(CLI::IsMember({"scalar", "avx2", "avx512"}));
  run_cmd->add_flag("--print", run.print, "print shape, dtype, first values and SHA-256 of each output");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n') c = ' ';
    std::fprintf(stderr, "idem: error: %s (see idem --help)\n", msg.c_str());
    return kExitUsage;
  }
  if (*run_cmd) return RunCommand(run);
  return kExitUsage;
}
