// cvtk report: the training report (OUT/report.html) of a run directory, made again from its files;
// cvtk train writes it itself after every epoch.
#include <iostream>
#include <memory>

#include "apps/command.h"
#include "metrics/training_report.h"

namespace cvtk::apps {

void add_report_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("report", "Write RUN/report.html: a training run's curves, epochs and images");
  cmd->add_option("run", *dir, "A cvtk train output directory (holds results.jsonl)")->required();
  cmd->callback([=] {
    const auto page = metrics::write_training_report(*dir);
    std::cout << "wrote " << page.string() << "\n";
  });
}

}  // namespace cvtk::apps
