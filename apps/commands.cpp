// The explicit list of cvtk's subcommands, in the order --help shows them.
#include "apps/command.h"

namespace cvtk::apps {

void add_data_command(CLI::App& app);      // apps/data_command.cpp
void add_synth_command(CLI::App& app);     // apps/synth_command.cpp
void add_augment_command(CLI::App& app);   // apps/augment_command.cpp
void add_models_command(CLI::App& app);    // apps/models_command.cpp
void add_classify_command(CLI::App& app);  // apps/classify_command.cpp
void add_train_command(CLI::App& app);     // apps/train_command.cpp
void add_eval_command(CLI::App& app);      // apps/eval_command.cpp
void add_report_command(CLI::App& app);    // apps/report_command.cpp
void add_predict_command(CLI::App& app);   // apps/predict_command.cpp

void add_commands(CLI::App& app) {
  add_data_command(app);
  add_synth_command(app);
  add_augment_command(app);
  add_models_command(app);
  add_classify_command(app);
  add_train_command(app);
  add_eval_command(app);
  add_report_command(app);
  add_predict_command(app);
}

}  // namespace cvtk::apps
