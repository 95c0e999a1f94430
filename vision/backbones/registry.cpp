#include "vision/backbones/registry.h"

#include <functional>
#include <utility>

#include "vision/backbones/googlenet.h"
#include "vision/backbones/inception_v3.h"
#include "vision/backbones/shufflenet_v2.h"
#include "vision/backbones/snet.h"
#include "vision/backbones/swin.h"

namespace cvtk::vision {
namespace {

using Factory = std::function<Backbone(const BackboneOptions&)>;

const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> kModels = {
      {"inception_v3", [](const BackboneOptions& o) { return Backbone(InceptionV3(o).ptr()); }},
      {"googlenet", [](const BackboneOptions& o) { return Backbone(GoogLeNet(o).ptr()); }},
      {"shufflenet_v2_x0_5",
       [](const BackboneOptions& o) { return Backbone(ShuffleNetV2(shufflenet_v2_config("0_5"), o).ptr()); }},
      {"shufflenet_v2_x1_0",
       [](const BackboneOptions& o) { return Backbone(ShuffleNetV2(shufflenet_v2_config("1_0"), o).ptr()); }},
      {"shufflenet_v2_x1_5",
       [](const BackboneOptions& o) { return Backbone(ShuffleNetV2(shufflenet_v2_config("1_5"), o).ptr()); }},
      {"shufflenet_v2_x2_0",
       [](const BackboneOptions& o) { return Backbone(ShuffleNetV2(shufflenet_v2_config("2_0"), o).ptr()); }},
      {"snet49", [](const BackboneOptions& o) { return Backbone(make_snet(49, o).ptr()); }},
      {"snet146", [](const BackboneOptions& o) { return Backbone(make_snet(146, o).ptr()); }},
      {"snet535", [](const BackboneOptions& o) { return Backbone(make_snet(535, o).ptr()); }},
      {"swin_t", [](const BackboneOptions& o) { return Backbone(Swin(swin_config("t"), o).ptr()); }},
      {"swin_s", [](const BackboneOptions& o) { return Backbone(Swin(swin_config("s"), o).ptr()); }},
      {"swin_b", [](const BackboneOptions& o) { return Backbone(Swin(swin_config("b"), o).ptr()); }},
  };
  return kModels;
}

}  // namespace

std::vector<std::string> backbone_names() {
  std::vector<std::string> names;
  for (const auto& [name, f] : registry()) names.push_back(name);
  return names;
}

Backbone create_backbone(const std::string& name, const BackboneOptions& options) {
  for (const auto& [n, factory] : registry())
    if (n == name) return factory(options);
  std::string names;
  for (const auto& [n, f] : registry()) names += (names.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown backbone '" + name + "' (available: " + names + ")");
}

}  // namespace cvtk::vision
