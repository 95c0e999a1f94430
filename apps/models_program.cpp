#include "apps/models_program.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#ifndef CVTK_MODELS_PROGRAM_DIR
#define CVTK_MODELS_PROGRAM_DIR "../libexec/cvtk"
#endif

namespace fs = std::filesystem;

namespace cvtk::apps {
namespace {

constexpr const char* kModelsProgram = "cvtk-models";
char** g_argv = nullptr;

// Beside the executable first (the build tree puts both programs in one directory), then the
// installed layout's path from bin/ to libexec/cvtk/.
fs::path find_models_program(std::string& tried) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    tried = "/proc/self/exe could not be read: " + ec.message();
    return {};
  }
  for (const fs::path& dir : {self.parent_path(), self.parent_path() / CVTK_MODELS_PROGRAM_DIR}) {
    const fs::path candidate = (dir / kModelsProgram).lexically_normal();
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    tried += (tried.empty() ? "" : ", ") + candidate.string();
  }
  return {};
}

}  // namespace

void keep_command_line(char** argv) { g_argv = argv; }

int hand_over_to_models() {
  std::string tried;
  const fs::path program = find_models_program(tried);
  if (program.empty()) {
    std::fprintf(stderr,
                 "cvtk: error: this command needs the model program %s, which is not installed (looked for %s)\n",
                 kModelsProgram, tried.c_str());
    return 2;
  }
  std::cout.flush();
  std::fflush(nullptr);
  ::execv(program.c_str(), g_argv);
  std::fprintf(stderr, "cvtk: error: cannot start %s: %s\n", program.c_str(), std::strerror(errno));
  return 2;
}

}  // namespace cvtk::apps
