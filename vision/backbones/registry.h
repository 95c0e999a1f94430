#pragma once
// The backbone registry: every model cvtk can build, by name. The list is registry.cpp.
#include <string>
#include <vector>

#include "vision/backbones/backbone.h"

namespace cvtk::vision {

// inception_v3, googlenet, shufflenet_v2_x0_5 .. x2_0, snet49, snet146, snet535, swin_t, swin_s, swin_b.
std::vector<std::string> backbone_names();

// Throws std::invalid_argument listing the names when unknown. Weights are initialised as the
// reference implementation does (torchvision's scheme, or Megvii's for SNet).
Backbone create_backbone(const std::string& name, const BackboneOptions& options = {});

}  // namespace cvtk::vision
