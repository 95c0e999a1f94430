// cvtk: train, evaluate and inspect object detectors. See README.md for every subcommand.
#include <cstdio>
#include <exception>
#include <string>

#include "apps/command.h"
#include "cvtk_version.h"
#include "vision/nn/allocator.h"

namespace cvtk::apps {
namespace {
int g_exit_code = 0;
}
void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }
}  // namespace cvtk::apps

int main(int argc, char** argv) {
  cvtk::vision::keep_freed_memory();
  CLI::App app{"cvtk: train, evaluate and inspect object detectors"};
  app.set_version_flag("--version", std::string("cvtk ") + CVTK_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  cvtk::apps::add_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cvtk: error: %s\n", e.what());
    return 2;
  }
  return cvtk::apps::exit_code();
}
