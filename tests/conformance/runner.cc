// Conformance runner: feeds every case of the ONNX backend test data (Debian libonnx-testdata)
// through the public CLI (`idem run`) and compares outputs like ONNX's backend tests do:
// rtol 1e-3, atol 1e-7 for floating point (NaN equals NaN), exact for integers, bools and strings.
//
// Prints one line per failing or unsupported case, a per-suite and per-op summary, and a final
// line "N passed, M failed". Unsupported cases are listed and counted as failures, never as passes.
// With --floor FILE, exits non-zero when a suite passes fewer cases than its checked-in floor.
#include <onnx/onnx-data_pb.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/npy.h"
#include "onnx/tensor_proto.h"

namespace fs = std::filesystem;
using namespace idem;

namespace {

struct Options {
  std::string idem = "build/idem";
  std::string data = "/usr/share/libonnx-testdata/data";
  std::string floor_file;
  std::string filter;
  std::vector<std::string> suites;
  int jobs = 2;
  int timeout_s = 120;
  bool verbose = false;
  bool list_failures_only = false;
};

enum class Outcome { kPass, kFail, kUnsupported };

struct CaseResult {
  std::string suite, name;
  Outcome outcome = Outcome::kFail;
  std::string reason;
  bool plain = true;  // only tensor inputs/outputs of non-bf16 types
  std::set<std::string> ops;
};

std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string FirstLine(std::string s) {
  const size_t nl = s.find('\n');
  if (nl != std::string::npos) s = s.substr(0, nl);
  if (s.size() > 300) s = s.substr(0, 300) + "...";
  return s;
}

// Runs argv with stderr captured to `err_path`; returns the exit code, or -1 on timeout.
int RunProcess(const std::vector<std::string>& argv, const std::string& err_path, int timeout_s) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) { dup2(fd, 2); dup2(fd, 1); close(fd); }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) return -2;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// Compares one tensor against the expected one; returns "" when equal within tolerance.
std::string CompareTensor(const Tensor& expected, const Tensor& actual) {
  if (expected.dtype() != actual.dtype())
    return StrCat("dtype ", DTypeOnnxName(actual.dtype()), " != expected ", DTypeOnnxName(expected.dtype()));
  if (expected.shape() != actual.shape())
    return StrCat("shape ", ShapeToString(actual.shape()), " != expected ", ShapeToString(expected.shape()));
  const int64_t n = expected.numel();
  if (expected.dtype() == DType::kString) {
    for (int64_t i = 0; i < n; ++i)
      if (expected.data<std::string>()[i] != actual.data<std::string>()[i])
        return StrCat("element ", i, ": \"", actual.data<std::string>()[i], "\" != expected \"",
                      expected.data<std::string>()[i], "\"");
    return "";
  }
  if (IsFloat(expected.dtype())) {
    int64_t bad = 0, first = -1;
    double worst = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double e = expected.DoubleAt(i), a = actual.DoubleAt(i);
      bool ok;
      if (std::isnan(e) || std::isnan(a)) ok = std::isnan(e) && std::isnan(a);
      else if (std::isinf(e) || std::isinf(a)) ok = e == a;
      else ok = std::fabs(a - e) <= 1e-7 + 1e-3 * std::fabs(e);
      if (!ok) {
        ++bad;
        if (first < 0) first = i;
        if (!std::isnan(a - e)) worst = std::max(worst, std::fabs(a - e));
      }
    }
    if (bad == 0) return "";
    return StrCat(bad, "/", n, " elements differ (max abs error ", worst, "; first at ", first, ": got ",
                  actual.DoubleAt(first), ", expected ", expected.DoubleAt(first), ")");
  }
  for (int64_t i = 0; i < n; ++i)
    if (expected.IntAt(i) != actual.IntAt(i) ||
        (expected.dtype() == DType::kU64 && expected.data<uint64_t>()[i] != actual.data<uint64_t>()[i]))
      return StrCat("element ", i, ": ", actual.IntAt(i), " != expected ", expected.IntAt(i));
  return "";
}

// Reads what `idem run` wrote for output `name` (tensor .npy, sequence dir, or .none marker).
Result<RtValue> ReadActual(const fs::path& dir, const std::string& name) {
  const std::string stem = OutputFileStem(name);
  if (fs::exists(dir / (stem + ".npy"))) {
    IDEM_ASSIGN_OR_RETURN(Tensor t, ReadNpy((dir / (stem + ".npy")).string()));
    return RtValue(std::move(t));
  }
  if (fs::is_directory(dir / stem)) {
    TensorSequence seq;
    for (size_t i = 0;; ++i) {
      const fs::path p = dir / stem / (std::to_string(i) + ".npy");
      if (!fs::exists(p)) break;
      IDEM_ASSIGN_OR_RETURN(Tensor t, ReadNpy(p.string()));
      seq.items.push_back(std::move(t));
    }
    return RtValue(std::move(seq));
  }
  if (fs::exists(dir / (stem + ".none"))) return RtValue();
  return IoError("no output file for '", name, "'");
}

std::string CompareValue(const RtValue& expected, const RtValue& actual) {
  if (IsNone(expected) != IsNone(actual)) return IsNone(expected) ? "expected an empty optional" : "got an empty optional";
  if (IsNone(expected)) return "";
  if (IsTensor(expected)) {
    if (!IsTensor(actual)) return "expected a tensor";
    const Tensor& e = std::get<Tensor>(expected);
    Tensor a = std::get<Tensor>(actual);
    if (e.dtype() == DType::kBF16 && a.dtype() == DType::kU16) {  // .npy has no bfloat16: raw bits
      a = MakeTensorView(DType::kBF16, a.shape(), Buffer::View(a.raw(), a.nbytes(), nullptr), 0).Clone();
    }
    return CompareTensor(e, a);
  }
  if (!IsSequence(actual)) return "expected a sequence";
  const auto& es = std::get<TensorSequence>(expected).items;
  const auto& as = std::get<TensorSequence>(actual).items;
  if (es.size() != as.size()) return StrCat("sequence length ", as.size(), " != expected ", es.size());
  for (size_t i = 0; i < es.size(); ++i) {
    const std::string r = CompareTensor(es[i], as[i]);
    if (!r.empty()) return StrCat("sequence item ", i, ": ", r);
  }
  return "";
}

CaseResult RunCase(const Options& opt, const std::string& suite, const fs::path& dir, const fs::path& scratch) {
  CaseResult res;
  res.suite = suite;
  res.name = dir.filename().string();
  onnx::ModelProto model;
  const std::string bytes = ReadText((dir / "model.onnx").string());
  if (!model.ParseFromString(bytes)) {
    res.reason = "cannot parse model.onnx";
    return res;
  }
  std::set<std::string> inits;
  for (const auto& i : model.graph().initializer()) inits.insert(i.name());
  std::vector<const onnx::ValueInfoProto*> inputs, outputs;
  for (const auto& i : model.graph().input())
    if (!inits.count(i.name())) inputs.push_back(&i);
  for (const auto& o : model.graph().output()) outputs.push_back(&o);
  auto plain_type = [](const onnx::TypeProto& t) {
    return t.has_tensor_type() && t.tensor_type().elem_type() != onnx::TensorProto::BFLOAT16;
  };
  for (const auto* v : inputs) res.plain = res.plain && plain_type(v->type());
  for (const auto* v : outputs) res.plain = res.plain && plain_type(v->type());
  for (const auto& n : model.graph().node()) res.ops.insert(n.op_type());
  if (res.ops.size() > 1) res.ops.erase("Constant");

  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) {
    res.reason = "no test data sets";
    return res;
  }
  for (const fs::path& set : sets) {
    std::vector<std::string> argv = {opt.idem, "run", (dir / "model.onnx").string()};
    for (size_t i = 0;; ++i) {
      const fs::path p = set / ("input_" + std::to_string(i) + ".pb");
      if (!fs::exists(p)) break;
      // The ONNX backend runner binds input files to the non-initializer inputs in order.
      if (i >= inputs.size()) {
        res.reason = "more input files than model inputs";
        return res;
      }
      argv.push_back("--input");
      argv.push_back(inputs[i]->name() + "=" + p.string());
    }
    fs::remove_all(scratch);
    fs::create_directories(scratch);
    const fs::path out = scratch / "out";
    argv.push_back("--output-dir");
    argv.push_back(out.string());
    const std::string err_path = (scratch / "stderr.txt").string();
    const int rc = RunProcess(argv, err_path, opt.timeout_s);
    if (rc != 0) {
      res.outcome = rc == 3 ? Outcome::kUnsupported : Outcome::kFail;
      res.reason = rc == -1 ? StrCat("timeout after ", opt.timeout_s, " s")
                   : rc >= 128 ? StrCat("crashed with signal ", rc - 128, ": ", FirstLine(ReadText(err_path)))
                               : FirstLine(ReadText(err_path));
      return res;
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      const fs::path p = set / ("output_" + std::to_string(i) + ".pb");
      if (!fs::exists(p)) continue;
      auto expected = ReadValuePb(p.string(), ValueTypeFromProto(outputs[i]->type()));
      if (!expected.ok()) {
        res.reason = "cannot read expected output: " + expected.status().message();
        return res;
      }
      auto actual = ReadActual(out, outputs[i]->name());
      if (!actual.ok()) {
        res.reason = actual.status().message();
        return res;
      }
      const std::string diff = CompareValue(*expected, *actual);
      if (!diff.empty()) {
        res.reason = StrCat(set.filename().string(), " output '", outputs[i]->name(), "': ", diff);
        return res;
      }
    }
  }
  res.outcome = Outcome::kPass;
  return res;
}

std::map<std::string, int> ReadFloor(const std::string& path) {
  std::map<std::string, int> floor;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string suite;
    int n = 0;
    if (ss >> suite >> n) floor[suite] = n;
  }
  return floor;
}

int Usage() {
  std::fprintf(stderr,
               "usage: idem_conformance [--idem PATH] [--data DIR] [--suite NAME]... [--filter REGEX]\n"
               "                        [--jobs N] [--timeout S] [--floor FILE] [--verbose]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--idem") opt.idem = next();
    else if (a == "--data") opt.data = next();
    else if (a == "--floor") opt.floor_file = next();
    else if (a == "--filter") opt.filter = next();
    else if (a == "--suite") opt.suites.push_back(next());
    else if (a == "--jobs") opt.jobs = std::max(1, std::atoi(next().c_str()));
    else if (a == "--timeout") opt.timeout_s = std::max(1, std::atoi(next().c_str()));
    else if (a == "--verbose" || a == "-v") opt.verbose = true;
    else return Usage();
  }
  if (opt.suites.empty()) opt.suites = {"node", "simple", "pytorch-converted", "pytorch-operator"};
  opt.idem = fs::absolute(opt.idem).string();
  if (!fs::exists(opt.idem)) {
    std::fprintf(stderr, "idem_conformance: idem binary '%s' not found\n", opt.idem.c_str());
    return 2;
  }
  std::regex filter;
  try {
    filter = std::regex(opt.filter.empty() ? ".*" : opt.filter);
  } catch (const std::regex_error&) {
    std::fprintf(stderr, "idem_conformance: invalid --filter regex\n");
    return 2;
  }

  std::vector<std::pair<std::string, fs::path>> cases;
  for (const auto& suite : opt.suites) {
    const fs::path sd = fs::path(opt.data) / suite;
    if (!fs::is_directory(sd)) {
      std::fprintf(stderr, "idem_conformance: test data suite '%s' not found under %s\n", suite.c_str(), opt.data.c_str());
      return 2;
    }
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(sd))
      if (e.is_directory() && fs::exists(e.path() / "model.onnx") && std::regex_search(e.path().filename().string(), filter))
        dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs) cases.emplace_back(suite, d);
  }

  const fs::path scratch_root = fs::temp_directory_path() / ("idem_conformance_" + std::to_string(getpid()));
  std::vector<CaseResult> results(cases.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < opt.jobs; ++w)
    workers.emplace_back([&, w] {
      for (size_t i; (i = next.fetch_add(1)) < cases.size();)
        results[i] = RunCase(opt, cases[i].first, cases[i].second, scratch_root / std::to_string(w));
    });
  for (auto& t : workers) t.join();
  fs::remove_all(scratch_root);

  struct Count { int pass = 0, fail = 0, unsupported = 0, plain_pass = 0, plain_total = 0; };
  std::map<std::string, Count> per_suite;
  std::map<std::string, Count> per_op;
  int passed = 0, failed = 0;
  for (const auto& r : results) {
    Count& c = per_suite[r.suite];
    if (r.plain) ++c.plain_total;
    if (r.outcome == Outcome::kPass) {
      ++c.pass;
      ++passed;
      if (r.plain) ++c.plain_pass;
      if (opt.verbose) std::printf("PASS %s/%s\n", r.suite.c_str(), r.name.c_str());
    } else {
      ++failed;
      (r.outcome == Outcome::kUnsupported ? c.unsupported : c.fail)++;
      std::printf("%s %s/%s: %s\n", r.outcome == Outcome::kUnsupported ? "UNSUPPORTED" : "FAIL", r.suite.c_str(),
                  r.name.c_str(), r.reason.c_str());
    }
    for (const auto& op : r.ops) {
      Count& oc = per_op[op];
      if (r.outcome == Outcome::kPass) ++oc.pass;
      else if (r.outcome == Outcome::kUnsupported) ++oc.unsupported;
      else ++oc.fail;
    }
  }
  std::printf("\nPer op (cases containing the op: passed/total, unsupported):\n");
  for (const auto& [op, c] : per_op)
    if (c.fail + c.unsupported > 0 || opt.verbose)
      std::printf("  %-28s %4d/%-4d%s\n", op.c_str(), c.pass, c.pass + c.fail + c.unsupported,
                  c.unsupported ? StrCat("  (", c.unsupported, " unsupported)").c_str() : "");
  std::printf("\nPer suite:\n");
  for (const auto& [suite, c] : per_suite)
    std::printf("  %-18s %4d/%-4d passed (%d failed, %d unsupported); plain-tensor cases %d/%d\n", suite.c_str(),
                c.pass, c.pass + c.fail + c.unsupported, c.fail, c.unsupported, c.plain_pass, c.plain_total);
  int rc = 0;
  if (!opt.floor_file.empty()) {
    for (const auto& [suite, min] : ReadFloor(opt.floor_file)) {
      if (!per_suite.count(suite)) continue;
      if (per_suite[suite].pass < min) {
        std::printf("FLOOR: suite %s passed %d cases, below the checked-in floor of %d\n", suite.c_str(),
                    per_suite[suite].pass, min);
        rc = 1;
      }
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return rc;
}
