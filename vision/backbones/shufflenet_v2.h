#pragma once
// ShuffleNetV2 (Ma et al. 2018) and the unit SNet reuses.
//
// Two unit flavours compute the same kind of function with different weight layouts
// (../shared/reference/models.md §1.2.1):
//   kTorchvision  both branches output oup/2; stride-1 units split channels into halves and a
//                 groups=2 channel shuffle follows every concat. Parameter names are torchvision's
//                 (branch1, branch2), so torchvision weights load by name.
//   kMegvii       the projection branch keeps its input width; stride-1 units pass even channels
//                 through and feed odd channels to the main branch; no shuffle after the concat (the
//                 next unit's even/odd split is the shuffle). Parameter names: branch_proj, branch_main.
//
// Feature maps for a [N, 3, H, W] input ("same" padding, stride-2 steps round up):
//   c2 after the stem max-pool (stride 4), c3 stage2 (8), c4 stage3 (16), c5 conv5 when the model
//   has one, else stage4 (32).
#include <torch/torch.h>

#include "vision/backbones/backbone.h"

namespace cvtk::vision {

enum class ShuffleFlavour { kTorchvision, kMegvii };

struct ShuffleUnitOptions {
  int64_t inp, oup, stride;
  int64_t kernel = 3;  // depthwise kernel: 3 for ShuffleNetV2, 5 for SNet
  ShuffleFlavour flavour = ShuffleFlavour::kTorchvision;
};

class ShuffleUnitImpl : public torch::nn::Module {
 public:
  explicit ShuffleUnitImpl(const ShuffleUnitOptions& o);
  torch::Tensor forward(const torch::Tensor& x);

  const ShuffleUnitOptions& options() const { return o_; }
  // Depthwise conv -> BN -> 1x1 conv -> BN -> ReLU on stride-2 units; empty (or null) on stride-1 ones.
  const torch::nn::Sequential& branch_proj() const { return proj_; }
  // 1x1 conv -> BN -> ReLU -> depthwise conv -> BN -> 1x1 conv -> BN -> ReLU.
  const torch::nn::Sequential& branch_main() const { return main_; }

 private:
  ShuffleUnitOptions o_;
  torch::nn::Sequential proj_{nullptr}, main_{nullptr};
};
TORCH_MODULE(ShuffleUnit);

struct ShuffleNetV2Config {
  std::string name;
  std::vector<int64_t> repeats = {4, 8, 4};
  std::vector<int64_t> channels;  // conv1, stage2, stage3, stage4
  int64_t conv5 = 0;              // 1x1 conv after stage4 (0: none)
  int64_t kernel = 3;
  ShuffleFlavour flavour = ShuffleFlavour::kTorchvision;
  bool fc_bias = true;
  double dropout = 0;  // before the classifier
};

class ShuffleNetV2Impl : public BackboneImpl {
 public:
  ShuffleNetV2Impl(ShuffleNetV2Config config, const BackboneOptions& options);
  std::vector<FeatureSpec> feature_specs() const override;
  FeatureMaps features(const torch::Tensor& x) override;
  torch::Tensor forward(const torch::Tensor& x) override;
  bool has_classifier() const override { return !fc.is_empty(); }
  int64_t default_input_size() const override { return 224; }

  const ShuffleNetV2Config& config() const { return config_; }
  torch::nn::Sequential conv1{nullptr}, stage2{nullptr}, stage3{nullptr}, stage4{nullptr}, conv5{nullptr};
  torch::nn::Linear fc{nullptr};

 private:
  ShuffleNetV2Config config_;
};
TORCH_MODULE(ShuffleNetV2);

// torchvision's four widths: 0.5, 1.0, 1.5, 2.0.
ShuffleNetV2Config shufflenet_v2_config(const std::string& width);

}  // namespace cvtk::vision
