// The commands the LibTorch-free cvtk runs itself, in the order --help shows them (a subsequence of
// apps/commands.cpp's list).
#include "apps/command.h"

namespace cvtk::apps {

void add_data_command(CLI::App& app);    // apps/data_command.cpp
void add_synth_command(CLI::App& app);   // apps/synth_command.cpp
void add_eval_command(CLI::App& app);    // apps/eval_command.cpp
void add_report_command(CLI::App& app);  // apps/report_command.cpp

void add_commands_without_models(CLI::App& app) {
  add_data_command(app);
  add_synth_command(app);
  add_eval_command(app);
  add_report_command(app);
}

}  // namespace cvtk::apps
