#pragma once
// What both cvtk programs do with their command line once their subcommands are registered: parse,
// run the chosen subcommand, and turn every failure into one "cvtk: error: ..." line and an exit code
// (README "Exit codes": 0 success; 1 problems found; 2 a usage or input error; 130 interrupted).
#include <CLI/CLI.hpp>

namespace cvtk::apps {

// The top-level app every cvtk program starts from: description, --version, one subcommand required.
void configure_top_level(CLI::App& app);

// Parses argv with app, runs the subcommand's callback, returns the process exit code.
int run_command_line(CLI::App& app, int argc, char** argv);

}  // namespace cvtk::apps
