// cvtk synth: write the synthetic detection dataset the demo and tests use.
#include <iostream>
#include <memory>

#include "apps/command.h"
#include "vision/data/synth.h"

namespace cvtk::apps {

void add_synth_command(CLI::App& app) {
  auto o = std::make_shared<data::SynthOptions>();
  auto out = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("synth", "Write a synthetic shapes detection dataset in VOC layout");
  cmd->add_option("out", *out, "Output directory (must not exist)")->required();
  cmd->add_option("--train", o->train_images, "Training images")->capture_default_str();
  cmd->add_option("--val", o->val_images, "Validation images")->capture_default_str();
  cmd->add_option("--width", o->width, "Image width, pixels")->capture_default_str();
  cmd->add_option("--height", o->height, "Image height, pixels")->capture_default_str();
  cmd->add_option("--max-objects", o->max_objects, "Most objects per image")->capture_default_str();
  cmd->add_option("--min-size", o->min_size, "Smallest shape, pixels")->capture_default_str();
  cmd->add_option("--max-size", o->max_size, "Largest shape, pixels")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed: the same seed gives the same files")->capture_default_str();
  cmd->callback([=] {
    const data::SynthSummary s = data::write_synthetic_dataset(*out, *o);
    std::cout << "wrote " << s.images << " images (" << o->train_images << " train, " << o->val_images << " val) with "
              << s.objects << " objects to " << *out << "\n";
    const auto& names = data::synth_class_names();
    for (size_t k = 0; k < names.size(); ++k) std::cout << "  " << names[k] << ": " << s.objects_per_class[k] << "\n";
  });
}

}  // namespace cvtk::apps
