#pragma once
// Context Enhancement Module (ThunderNet §3.2): merges local (C4), larger-context (C5) and global
// (pooled C5) features into the thin feature map the RPN and PSRoIAlign read.
//
//   out = conv_c4(C4) + nearest_resize(conv_c5(C5), size of C4) + conv_glb(mean_hw(C5))   (broadcast)
//
// Every conv is 1x1 with bias, no normalisation or activation (as the authors' code); channels = alpha *
// p * p (245 for ThunderNet). C5 is resized *to C4's size*, not by a factor 2, because at 240 px input
// C5 is 8x8 and C4 15x15 (models.md §1.1). The inference executor (detection/inference) runs the same
// sum in one pass over the output.
#include <torch/torch.h>

namespace cvtk::detection {

class ContextEnhancementImpl : public torch::nn::Module {
 public:
  ContextEnhancementImpl(int64_t c4_channels, int64_t c5_channels, int64_t out_channels);
  torch::Tensor forward(const torch::Tensor& c4, const torch::Tensor& c5);

  torch::nn::Conv2d c4_lat{nullptr}, c5_lat{nullptr}, c_glb{nullptr};
};
TORCH_MODULE(ContextEnhancement);

}  // namespace cvtk::detection
