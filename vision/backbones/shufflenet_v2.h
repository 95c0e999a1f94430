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
#include "vision/nn/layers.h"

namespace cvtk::vision {

enum class ShuffleFlavour { kTorchvision, kMegvii };

struct ShuffleUnitOptions {
  int64_t inp, oup, stride;
  int64_t kernel = 3;  // depthwise kernel: 3 for ShuffleNetV2, 5 for SNet
  ShuffleFlavour flavour = ShuffleFlavour::kTorchvision;
};

class ShuffleUnitImpl : public torch::nn::Module, public InferenceFoldable {
 public:
  explicit ShuffleUnitImpl(const ShuffleUnitOptions& o);
  torch::Tensor forward(const torch::Tensor& x);
  int fold_for_inference(bool channels_last) override;

  // Eval path of a folded unit on pixel-major float maps (see pixel_rows): each ReLU is applied where
  // its output is read next (a depthwise conv's loads, or the closing concat) instead of in a pass of
  // its own, and the concat writes the channel order the next unit reads, so no unit copies its input
  // halves. Megvii flavour: in_split says x holds its channels even-first then odd (as written with
  // out_split), which only stride-1 units accept; the torchvision flavour ignores both flags and keeps
  // the ordinary order. Callers check prepared(x) first; the result equals forward's up to rounding.
  bool prepared(const torch::Tensor& x) const;
  torch::Tensor forward_prepared(const torch::Tensor& x, bool in_split, bool out_split);
  bool stride_one() const { return o_.stride == 1; }

 private:
  ShuffleUnitOptions o_;
  torch::nn::Sequential proj_{nullptr}, main_{nullptr};
  FoldedSequential folded_proj_, folded_main_;
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

class ShuffleNetV2Impl : public BackboneImpl, public InferenceFoldable {
 public:
  ShuffleNetV2Impl(ShuffleNetV2Config config, const BackboneOptions& options);
  std::vector<FeatureSpec> feature_specs() const override;
  FeatureMaps features(const torch::Tensor& x) override;
  torch::Tensor forward(const torch::Tensor& x) override;
  bool has_classifier() const override { return !fc.is_empty(); }
  int64_t default_input_size() const override { return 224; }
  int fold_for_inference(bool channels_last) override;  // conv1 and conv5; the units fold themselves

  const ShuffleNetV2Config& config() const { return config_; }
  torch::nn::Sequential conv1{nullptr}, stage2{nullptr}, stage3{nullptr}, stage4{nullptr}, conv5{nullptr};
  torch::nn::Linear fc{nullptr};

 private:
  // A stage's units in order: forward_prepared when every unit can take it, else the plain forward.
  torch::Tensor run_stage(torch::nn::Sequential& stage, const torch::Tensor& x);

  ShuffleNetV2Config config_;
  FoldedSequential folded_conv1_, folded_conv5_;
};
TORCH_MODULE(ShuffleNetV2);

// torchvision's four widths: 0.5, 1.0, 1.5, 2.0.
ShuffleNetV2Config shufflenet_v2_config(const std::string& width);

}  // namespace cvtk::vision
