#include "detection/sam.h"

#include "vision/nn/macs.h"

namespace cvtk::detection {

SpatialAttentionImpl::SpatialAttentionImpl(int64_t rpn_channels, int64_t cem_channels) {
  conv =
      register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(rpn_channels, cem_channels, 1).bias(false)));
  bn = register_module("bn", torch::nn::BatchNorm2d(cem_channels));
  torch::nn::init::normal_(conv->weight, 0, 0.01);
}

torch::Tensor SpatialAttentionImpl::forward(const torch::Tensor& cem, const torch::Tensor& rpn) {
  return cem * torch::sigmoid(bn->forward(vision::counted(conv, rpn)));
}

}  // namespace cvtk::detection
