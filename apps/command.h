#pragma once
// How a subcommand plugs into the cvtk binary. A subcommand file defines one add_<name>_command
// function that creates its CLI11 subcommand, binds the flags to a library options struct, and sets
// a callback that calls one library function and returns the process exit code through set_exit_code.
#include <CLI/CLI.hpp>

namespace cvtk::apps {

// The exit code main() returns once the chosen subcommand's callback has run (default 0).
void set_exit_code(int code);
int exit_code();

// Every command, registered in this order (apps/commands.cpp holds the list): cvtk-models.
void add_commands(CLI::App& app);
// The commands that need no LibTorch (apps/commands_without_models.cpp): cvtk (apps/models_program.h).
void add_commands_without_models(CLI::App& app);

}  // namespace cvtk::apps
