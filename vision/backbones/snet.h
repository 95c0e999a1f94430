#pragma once
// SNet49 / SNet146 / SNet535, ThunderNet's backbones (Qin et al. 2019): ShuffleNetV2 with 5x5
// depthwise convolutions in the Megvii unit layout, widths from the paper and the authors' code
// (../shared/reference/models.md §1.2), Megvii initialisation.
//
//   variant  conv1  stage2  stage3 (C4)  stage4  conv5   C5
//   snet49     24     60      120         240    512    512 (conv5)
//   snet146    24    132      264         528     -     528 (stage4)
//   snet535    48    248      496         992     -     992 (stage4)
//
// C4 is at stride 16 and C5 at stride 32: a 320x320 input gives C4 20x20 and C5 10x10.
#include "vision/backbones/shufflenet_v2.h"

namespace cvtk::vision {

ShuffleNetV2Config snet_config(int variant);  // 49, 146 or 535
ShuffleNetV2 make_snet(int variant, const BackboneOptions& options);

}  // namespace cvtk::vision
