#include "apps/cli_main.h"

#include <cstdio>
#include <exception>
#include <string>

#include "apps/command.h"
#include "apps/error_text.h"
#include "cvtk_version.h"

namespace cvtk::apps {
namespace {
int g_exit_code = 0;
}
void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }

void configure_top_level(CLI::App& app) {
  app.description("cvtk: train, evaluate and inspect object detectors");
  app.set_version_flag("--version", std::string("cvtk ") + CVTK_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
}

int run_command_line(CLI::App& app, int argc, char** argv) {
  try {
    // CLI11 reports a misspelt subcommand as "a subcommand is required", and a misspelt flag as a
    // missing required option: name them instead.
    if (auto unknown = unknown_command_or_option(app, argc, argv)) {
      std::fprintf(stderr, "cvtk: error: %s\n", unknown->c_str());
      return 2;
    }
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "cvtk: error: %s\n", usage_error_text(app, e).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cvtk: error: %s\n", one_line(e.what()).c_str());
    return 2;
  } catch (...) {
    std::fprintf(stderr, "cvtk: error: unknown failure\n");
    return 2;
  }
  return exit_code();
}

}  // namespace cvtk::apps
