#pragma once
// GoogLeNet (Inception v1, Szegedy et al. 2014) with batch normalisation, as torchvision 0.14 builds
// it, parameter for parameter (its "5x5" branch is a 3x3 convolution, as in torchvision). Auxiliary
// heads aux1 (after 4a) and aux2 (after 4d) run in training only. Feature maps at 224: c2 conv3
// (192 ch, 56x56), c3 inception3b (480, 28x28), c4 inception4e (832, 14x14), c5 inception5b (1024, 7x7).
#include <torch/torch.h>

#include "vision/backbones/backbone.h"

namespace cvtk::vision {

class GoogLeNetImpl : public BackboneImpl {
 public:
  explicit GoogLeNetImpl(const BackboneOptions& options);
  std::vector<FeatureSpec> feature_specs() const override;
  FeatureMaps features(const torch::Tensor& x) override;
  torch::Tensor forward(const torch::Tensor& x) override;
  bool has_classifier() const override { return !fc.is_empty(); }
  int64_t default_input_size() const override { return 224; }

  // Training forward: (logits, aux1, aux2); the aux outputs are undefined in eval mode. (torchvision's
  // named tuple labels aux1's output aux_logits2: match positions, not names.)
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> forward_with_aux(const torch::Tensor& x);

  const BackboneOptions& options() const { return options_; }
  torch::nn::Linear fc{nullptr};

 private:
  torch::Tensor run(const torch::Tensor& x, FeatureMaps* maps, torch::Tensor* aux1, torch::Tensor* aux2);
  BackboneOptions options_;
  std::vector<std::pair<std::string, torch::nn::AnyModule>> layers_;
  torch::nn::AnyModule aux1_, aux2_;
};
TORCH_MODULE(GoogLeNet);

}  // namespace cvtk::vision
