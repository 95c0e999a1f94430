#pragma once
// Running the cvtk binary as a user does, for the command-line tests: its exit code and everything it
// printed, and the checks every failing command must pass.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/common.h"

namespace cvtk::testing {

struct CliRun {
  int code;            // the exit code; -1 when the process did not exit normally (a crash)
  std::string output;  // stdout and stderr
  std::string err;     // stderr alone (when run with run_cvtk_split)
};

// Runs a shell command line and collects what it writes to its standard output.
inline CliRun run_shell(const std::string& cmd) {
  CliRun r{-1, "", ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// args is appended to the binary's path as it is: quote paths with spaces yourself. cwd: where to run.
inline CliRun run_cvtk(const std::string& args, const std::string& cwd = "") {
  const std::string cd = cwd.empty() ? "" : "cd '" + cwd + "' && ";
  return run_shell(cd + cvtk_binary().string() + " " + args + " 2>&1");
}

// Like run_cvtk, with stderr alone in err (and output) and stdout discarded.
inline CliRun run_cvtk_stderr(const std::string& args) {
  CliRun r = run_shell(cvtk_binary().string() + " " + args + " 2>&1 >/dev/null");
  r.err = r.output;
  return r;
}

// A failed command: exit code 2 and exactly one line on stderr, "cvtk: error: ...", with no library
// stack trace in it.
inline ::testing::AssertionResult FailsWithOneLine(const CliRun& r) {
  if (r.code != 2) return ::testing::AssertionFailure() << "exit code " << r.code << ", expected 2; output:\n" << r.err;
  std::string e = r.err;
  while (!e.empty() && e.back() == '\n') e.pop_back();
  if (e.find('\n') != std::string::npos)
    return ::testing::AssertionFailure() << "more than one line on stderr:\n" << r.err;
  if (e.rfind("cvtk: error: ", 0) != 0)
    return ::testing::AssertionFailure() << "stderr does not start with 'cvtk: error: ': " << e;
  for (const char* trace : {"frame #", "Exception raised from", "terminate called"})
    if (e.find(trace) != std::string::npos)
      return ::testing::AssertionFailure() << "a stack trace reached the user: " << e;
  return ::testing::AssertionSuccess();
}

}  // namespace cvtk::testing
