#pragma once
// Spatial Attention Module (ThunderNet §3.3): re-weights the CEM map with the RPN trunk's features,
//   out = cem * sigmoid(BN(conv1x1(rpn)))
// so regions the RPN finds object-like are emphasised before PSRoIAlign. Gradients are not stopped:
// the R-CNN loss also trains the RPN trunk through this module, as the paper intends.
#include <torch/torch.h>

#include "vision/nn/layers.h"

namespace cvtk::detection {

class SpatialAttentionImpl : public torch::nn::Module, public vision::InferenceFoldable {
 public:
  SpatialAttentionImpl(int64_t rpn_channels, int64_t cem_channels);
  torch::Tensor forward(const torch::Tensor& cem, const torch::Tensor& rpn);
  // Eval-only: the BatchNorm folded into the 1x1 convolution (vision::InferenceFoldable).
  int fold_for_inference(bool channels_last) override;

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  vision::FoldedConv folded_;
  bool channels_last_ = false;
};
TORCH_MODULE(SpatialAttention);

}  // namespace cvtk::detection
