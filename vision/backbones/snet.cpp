#include "vision/backbones/snet.h"

#include "vision/nn/init.h"

namespace cvtk::vision {

ShuffleNetV2Config snet_config(int variant) {
  ShuffleNetV2Config c;
  c.name = "snet" + std::to_string(variant);
  c.kernel = 5;
  c.flavour = ShuffleFlavour::kMegvii;
  c.fc_bias = false;
  switch (variant) {
    case 49:
      c.channels = {24, 60, 120, 240};
      c.conv5 = 512;
      break;
    case 146:
      c.channels = {24, 132, 264, 528};
      break;
    case 535:
      c.channels = {48, 248, 496, 992};
      c.dropout = 0.2;
      break;
    default:
      throw std::invalid_argument("snet: unknown variant " + std::to_string(variant) + " (49, 146 or 535)");
  }
  return c;
}

ShuffleNetV2 make_snet(int variant, const BackboneOptions& options) {
  ShuffleNetV2 net(snet_config(variant), options);
  init_megvii(*net, "conv1.0.weight");
  return net;
}

}  // namespace cvtk::vision
