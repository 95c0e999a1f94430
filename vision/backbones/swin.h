#pragma once
// Swin Transformer V1 (Liu et al. 2021) as torchvision 0.14 builds it (swin_t, swin_s, swin_b):
// channels-last tokens [N, H, W, C], 4x4 patch embedding, shifted-window attention (window 7, shift 3
// on odd blocks) with a learnt relative position bias and the shifted-window mask, patch merging
// between stages, stochastic depth growing linearly over the blocks. Parameter names are torchvision's.
// The layers are in swin_blocks.h.
//
// Any input size works: each block pads its map to a multiple of the window (padding is not masked,
// as in torchvision) and drops the shift when the window covers the padded map; patch merging pads
// odd sizes. Feature maps (NCHW): c2..c5 = the outputs of stages 1..4, strides 4, 8, 16, 32.
#include <torch/torch.h>

#include "vision/backbones/backbone.h"

namespace cvtk::vision {

struct SwinConfig {
  std::string name;
  int64_t embed_dim = 96;
  std::vector<int64_t> depths = {2, 2, 6, 2};
  std::vector<int64_t> heads = {3, 6, 12, 24};
  int64_t window = 7;
  double mlp_ratio = 4.0;
  double stochastic_depth = 0.2;
};

SwinConfig swin_config(const std::string& size);  // "t", "s" or "b"

class SwinImpl : public BackboneImpl {
 public:
  SwinImpl(SwinConfig config, const BackboneOptions& options);
  std::vector<FeatureSpec> feature_specs() const override;
  FeatureMaps features(const torch::Tensor& x) override;
  torch::Tensor forward(const torch::Tensor& x) override;
  bool has_classifier() const override { return !head.is_empty(); }
  int64_t default_input_size() const override { return 224; }

  // torchvision's `features`: [0] = (patch_embed, Permute, patch_norm), then each stage's Sequential of
  // SwinBlocks, with a PatchMerging between stages.
  const torch::nn::ModuleList& layers() const { return layers_; }
  torch::nn::Conv2d patch_embed{nullptr};
  torch::nn::LayerNorm patch_norm{nullptr}, norm{nullptr};
  torch::nn::Linear head{nullptr};

 private:
  // Runs the network up to the last stage; fills maps when given.
  torch::Tensor run(const torch::Tensor& x, FeatureMaps* maps);
  SwinConfig config_;
  torch::nn::ModuleList layers_{nullptr};
};
TORCH_MODULE(Swin);

}  // namespace cvtk::vision
