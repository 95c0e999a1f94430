#pragma once
// Inception v3 (Szegedy et al. 2015) as torchvision 0.14 builds it, parameter for parameter: the
// unpadded stem, Mixed_5b..7c blocks, the auxiliary classifier (run in training only) and
// transform_input (maps an ImageNet-normalised input to the [-1, 1] scaling of the ported weights).
// Expects 299x299 inputs (at least 75x75). Feature maps: c2 after maxpool1 (64 ch, 73x73 at 299),
// c3 Mixed_5d (288, 35x35), c4 Mixed_6e (768, 17x17), c5 Mixed_7c (2048, 8x8): nominal strides
// 4, 8, 16, 32, a little smaller than size / stride because the stem does not pad.
#include <torch/torch.h>

#include "vision/backbones/backbone.h"

namespace cvtk::vision {

class InceptionV3Impl : public BackboneImpl {
 public:
  explicit InceptionV3Impl(const BackboneOptions& options);
  std::vector<FeatureSpec> feature_specs() const override;
  FeatureMaps features(const torch::Tensor& x) override;
  torch::Tensor forward(const torch::Tensor& x) override;
  bool has_classifier() const override { return !fc.is_empty(); }
  int64_t default_input_size() const override { return 299; }

  // Training forward with the auxiliary head: (logits, aux logits); aux is undefined in eval mode or
  // without aux heads.
  std::pair<torch::Tensor, torch::Tensor> forward_with_aux(const torch::Tensor& x);

  const BackboneOptions& options() const { return options_; }
  torch::nn::Linear fc{nullptr};

 private:
  torch::Tensor run(const torch::Tensor& x, FeatureMaps* maps, torch::Tensor* aux);
  BackboneOptions options_;
  std::vector<std::pair<std::string, torch::nn::AnyModule>> layers_;  // in forward order
  torch::nn::AnyModule aux_;
};
TORCH_MODULE(InceptionV3);

// torchvision's transform_input: x'_c = x_c * std_c / 0.5 + (mean_c - 0.5) / 0.5.
torch::Tensor inception_transform_input(const torch::Tensor& x);

}  // namespace cvtk::vision
