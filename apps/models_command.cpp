// cvtk models: every registered backbone with its parameters, MACs and feature maps.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "vision/backbones/model_info.h"
#include "vision/backbones/registry.h"

namespace cvtk::apps {

void add_models_command(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto size = std::make_shared<int64_t>(0);
  auto names = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd =
      app.add_subcommand("models", "List the backbones: parameters, MACs at the default input size, feature maps");
  cmd->add_option("names", *names, "Only these backbones (default: all)");
  cmd->add_option("--size", *size, "Input side for MACs and map shapes (default: each model's own)");
  cmd->add_flag("--json", *json, "Print JSON");
  cmd->callback([=] {
    at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    std::vector<std::string> list = names->empty() ? vision::backbone_names() : *names;
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    if (!*json)
      std::printf("%-20s %12s %6s %10s  %s\n", "backbone", "parameters", "input", "MMACs",
                  "feature maps (channels@stride, HxW)");
    for (const auto& name : list) {
      const vision::ModelInfo info = vision::model_info(name, *size);
      nlohmann::ordered_json j = {
          {"name", name}, {"parameters", info.parameters}, {"input_size", info.input_size}, {"mmacs", info.macs / 1e6}};
      std::string maps;
      for (const auto& f : info.features) {
        j["features"].push_back({{"name", f.spec.name},
                                 {"channels", f.spec.channels},
                                 {"stride", f.spec.stride},
                                 {"height", f.height},
                                 {"width", f.width}});
        maps += f.spec.name + " " + std::to_string(f.spec.channels) + "@" + std::to_string(f.spec.stride) + " " +
                std::to_string(f.height) + "x" + std::to_string(f.width) + "  ";
      }
      out.push_back(j);
      if (!*json)
        std::printf("%-20s %12lld %6lld %10.1f  %s\n", name.c_str(), static_cast<long long>(info.parameters),
                    static_cast<long long>(info.input_size), info.macs / 1e6, maps.c_str());
    }
    if (*json) std::cout << out.dump(1) << "\n";
    std::fflush(stdout);
  });
}

}  // namespace cvtk::apps
