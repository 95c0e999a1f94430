#include "vision/backbones/backbone.h"

namespace cvtk::vision {

torch::Tensor BackboneImpl::pick(const FeatureMaps& maps, const std::string& name) {
  std::string names;
  for (const auto& [n, t] : maps) {
    if (n == name) return t;
    names += (names.empty() ? "" : ", ") + n;
  }
  throw std::invalid_argument("no feature map '" + name + "' (available: " + names + ")");
}

}  // namespace cvtk::vision
