// cvtk: train, evaluate and inspect object detectors. See README.md for every subcommand.
//
// This is the program users run. It has no LibTorch: it runs data, synth, report and eval on a detections
// file itself and hands every other command line to cvtk-models (apps/models_program.h), so a command
// behaves, prints and exits the same whichever program runs it. Exit codes: README "Exit codes".
#include <string>

#include "apps/allocator.h"
#include "apps/cli_main.h"
#include "apps/command.h"
#include "apps/models_program.h"

namespace {

bool has_command(CLI::App& app, const std::string& name) {
  return !app.get_subcommands([&](CLI::App* c) { return c->get_name() == name; }).empty();
}

}  // namespace

int main(int argc, char** argv) {
  cvtk::apps::keep_command_line(argv);
  CLI::App app;
  cvtk::apps::configure_top_level(app);
  cvtk::apps::add_commands_without_models(app);
  // Options before the command (--help, --version), no command, or one this program lacks: the model
  // program, which has every command, answers.
  if (argc < 2 || !has_command(app, argv[1])) return cvtk::apps::hand_over_to_models();
  cvtk::keep_freed_memory();
  return cvtk::apps::run_command_line(app, argc, argv);
}
