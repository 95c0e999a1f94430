#pragma once
// The backbone interface: a network that maps an image batch to named feature maps.
//
// Input: [N, 3, H, W] float, already normalised as the model expects (see each model's header).
// Output of features(): named maps in increasing stride order. Standard names: "c2".."c5" at strides
// 4, 8, 16, 32 (ceil of H/stride for "same"-padded models); models add their own names where a
// detector needs them. feature_specs() lists every map's channels and stride without running.
// forward() returns classification logits [N, num_classes] and requires the classifier head.
//
// Parameter names follow torchvision's state_dict keys wherever torchvision has the model, so weights
// exported from torchvision load by name (vision/backbones/weights.h).
//
// A backbone is the plain trainable definition with one forward. Fast inference is a separate,
// eval-only executor built from it: vision/inference/backbone_executor.h.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cvtk::vision {

struct FeatureSpec {
  std::string name;  // "c4"
  int64_t channels = 0;
  int64_t stride = 0;  // input pixels per feature cell
};

using FeatureMaps = std::vector<std::pair<std::string, torch::Tensor>>;

struct BackboneOptions {
  bool with_classifier = true;  // build the classification head (and, for Inception, aux heads)
  int64_t num_classes = 1000;
  bool aux_logits = true;        // Inception v3 / GoogLeNet: build aux heads (used in training only)
  bool transform_input = false;  // Inception v3 / GoogLeNet: torchvision's transform_input
  double stochastic_depth = -1;  // Swin: override the drop-path rate (-1: the model's default)
};

class BackboneImpl : public torch::nn::Module {
 public:
  virtual std::vector<FeatureSpec> feature_specs() const = 0;
  virtual FeatureMaps features(const torch::Tensor& x) = 0;
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  virtual bool has_classifier() const = 0;
  virtual int64_t default_input_size() const = 0;  // square side used for MFLOPs and checks

  // A map by name; throws std::invalid_argument listing the available names when absent.
  static torch::Tensor pick(const FeatureMaps& maps, const std::string& name);
};

using Backbone = std::shared_ptr<BackboneImpl>;

}  // namespace cvtk::vision
