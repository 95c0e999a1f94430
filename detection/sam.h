#pragma once
// Spatial Attention Module (ThunderNet §3.3): re-weights the CEM map with the RPN trunk's features,
//   out = cem * sigmoid(BN(conv1x1(rpn)))
// so regions the RPN finds object-like are emphasised before PSRoIAlign. Gradients are not stopped:
// the R-CNN loss also trains the RPN trunk through this module, as the paper intends.
#include <torch/torch.h>

namespace cvtk::detection {

class SpatialAttentionImpl : public torch::nn::Module {
 public:
  SpatialAttentionImpl(int64_t rpn_channels, int64_t cem_channels);
  torch::Tensor forward(const torch::Tensor& cem, const torch::Tensor& rpn);

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(SpatialAttention);

}  // namespace cvtk::detection
