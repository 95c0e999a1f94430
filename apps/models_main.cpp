// cvtk-models: every cvtk command, with LibTorch. cvtk starts it (apps/models_program.h) for the
// commands that run or describe models, and for --help, which lists every command.
#include "apps/allocator.h"
#include "apps/cli_main.h"
#include "apps/command.h"

int main(int argc, char** argv) {
  cvtk::keep_freed_memory();
  CLI::App app;
  cvtk::apps::configure_top_level(app);
  cvtk::apps::add_commands(app);
  return cvtk::apps::run_command_line(app, argc, argv);
}
