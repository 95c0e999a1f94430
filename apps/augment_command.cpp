// cvtk augment preview | list: look at what a pipeline does to a dataset's images.
#include <iostream>
#include <memory>

#include "apps/command.h"
#include "apps/image_limit_option.h"
#include "augment/pipeline.h"
#include "augment/preview.h"

namespace cvtk::apps {

void add_augment_command(CLI::App& app) {
  CLI::App* aug = app.add_subcommand("augment", "Preview augmentation pipelines and list transforms and presets");
  aug->require_subcommand(1);
  {
    auto o = std::make_shared<augment::PreviewOptions>();
    auto data = std::make_shared<std::string>(), out = std::make_shared<std::string>();
    CLI::App* cmd = aug->add_subcommand("preview", "Write augmented samples with their boxes drawn, and a mosaic");
    add_max_pixels_option(*cmd);
    cmd->add_option("--data", *data, "Dataset: VOC directory, COCO .json, or YOLO directory")->required();
    cmd->add_option("--split", o->split, "Split to read");
    cmd->add_option("--pipeline", o->pipeline, "Preset name or pipeline spec, e.g. 'hflip(p=0.5) resize()'")
        ->capture_default_str();
    cmd->add_option("--n", o->n, "Number of images (the first n of the split)")->capture_default_str();
    cmd->add_option("--size", o->size, "Batch (context) size used by resize() without a size")->capture_default_str();
    cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
    cmd->add_option("--columns", o->columns, "Mosaic columns")->capture_default_str();
    cmd->add_option("--out", *out, "Output directory; when it holds anything, a numbered one is used (preview2, ...)")
        ->required();
    cmd->add_flag("--exist-ok", o->exist_ok, "Replace the contents of --out instead");
    cmd->callback([=] {
      o->dataset = *data;
      o->out = *out;
      try {
        augment::pipeline_from_text(o->pipeline);
      } catch (const std::exception& e) {
        throw std::invalid_argument("--pipeline: " + std::string(e.what()));
      }
      augment::write_preview(*o, std::cout);
    });
  }
  {
    CLI::App* cmd = aug->add_subcommand("list", "Print the registered transforms and the presets");
    cmd->callback([] { augment::print_registry(std::cout); });
  }
}

}  // namespace cvtk::apps
