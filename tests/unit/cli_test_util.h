// Runs the `idem` binary under test (IDEM_CLI_PATH, set by tests/CMakeLists.txt) from the CLI tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace idem::testing {

struct CliResult {
  int exit_code = -1;
  bool crashed = false;  // killed by a signal, or exit status >= 128
  std::string output;    // stdout and stderr, interleaved
};

// Runs `idem ARGS` through the shell and collects its output and exit status.
inline CliResult RunCli(const std::string& args) {
  const std::string cmd = std::string(IDEM_CLI_PATH) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  CliResult r;
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.crashed = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) >= 128);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace idem::testing
