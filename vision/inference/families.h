#pragma once
// The executor families optimize_for_inference chooses from (backbone_executor.cpp keeps the list).
// Each returns its executor, not yet built, when the backbone belongs to the family, else nullptr.
#include <memory>

#include "vision/inference/backbone_executor.h"

namespace cvtk::vision {

std::unique_ptr<BackboneExecutor> shufflenet_executor(const Backbone& backbone);  // ShuffleNetV2, SNet
std::unique_ptr<BackboneExecutor> conv_bn_executor(const Backbone& backbone);     // Inception v3, GoogLeNet
std::unique_ptr<BackboneExecutor> swin_executor(const Backbone& backbone);        // Swin T/S/B

}  // namespace cvtk::vision
