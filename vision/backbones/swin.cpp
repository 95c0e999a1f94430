#include "vision/backbones/swin.h"

#include "vision/backbones/swin_blocks.h"
#include "vision/nn/init.h"
#include "vision/nn/macs.h"

namespace cvtk::vision {
namespace {

// Holds the place of torchvision's Permute in features.0 so the LayerNorm keeps the key features.0.2.
class PermuteImpl : public torch::nn::Module {
 public:
  torch::Tensor forward(const torch::Tensor& x) { return x.permute({0, 2, 3, 1}); }
};
TORCH_MODULE(Permute);

}  // namespace

SwinConfig swin_config(const std::string& size) {
  SwinConfig c;
  c.name = "swin_" + size;
  if (size == "t") {
  } else if (size == "s") {
    c.depths = {2, 2, 18, 2};
    c.stochastic_depth = 0.3;
  } else if (size == "b") {
    c.embed_dim = 128;
    c.depths = {2, 2, 18, 2};
    c.heads = {4, 8, 16, 32};
    c.stochastic_depth = 0.5;
  } else {
    throw std::invalid_argument("swin: unknown size '" + size + "' (t, s or b)");
  }
  return c;
}

SwinImpl::SwinImpl(SwinConfig config, const BackboneOptions& options) : config_(std::move(config)) {
  if (options.stochastic_depth >= 0) config_.stochastic_depth = options.stochastic_depth;
  const int64_t C = config_.embed_dim;
  layers_ = torch::nn::ModuleList();
  patch_embed = torch::nn::Conv2d(torch::nn::Conv2dOptions(3, C, 4).stride(4));
  patch_norm = torch::nn::LayerNorm(torch::nn::LayerNormOptions({C}));
  layers_->push_back(torch::nn::ModuleList(patch_embed, Permute(), patch_norm));
  int64_t total = 0, block = 0;
  for (int64_t d : config_.depths) total += d;
  for (size_t s = 0; s < config_.depths.size(); ++s) {
    const int64_t dim = C << s;
    torch::nn::Sequential stage;
    for (int64_t j = 0; j < config_.depths[s]; ++j, ++block) {
      const double p = config_.stochastic_depth * static_cast<double>(block) / static_cast<double>(total - 1);
      stage->push_back(
          SwinBlock(dim, config_.heads[s], config_.window, j % 2 == 0 ? 0 : config_.window / 2, config_.mlp_ratio, p));
    }
    layers_->push_back(stage);
    if (s + 1 < config_.depths.size()) layers_->push_back(PatchMerging(dim));
  }
  register_module("features", layers_);
  const int64_t last = C << (config_.depths.size() - 1);
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({last})));
  if (options.with_classifier) head = register_module("head", torch::nn::Linear(last, options.num_classes));
  init_swin(*this);
}

std::vector<FeatureSpec> SwinImpl::feature_specs() const {
  const int64_t C = config_.embed_dim;
  return {{"c2", C, 4}, {"c3", 2 * C, 8}, {"c4", 4 * C, 16}, {"c5", 8 * C, 32}};
}

torch::Tensor SwinImpl::run(const torch::Tensor& x, FeatureMaps* maps) {
  torch::Tensor y = patch_norm->forward(counted(patch_embed, x).permute({0, 2, 3, 1}));
  static const char* kNames[] = {"c2", "c3", "c4", "c5"};
  int stage = 0;
  for (size_t i = 1; i < layers_->size(); ++i) {
    if (auto seq = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(layers_->ptr(i))) {
      for (auto& m : *seq) y = m.forward(y);
      if (maps) maps->emplace_back(kNames[stage], y.permute({0, 3, 1, 2}));
      ++stage;
    } else {
      y = layers_[i]->as<PatchMergingImpl>()->forward(y);
    }
  }
  return y;
}

FeatureMaps SwinImpl::features(const torch::Tensor& x) {
  FeatureMaps maps;
  run(x, &maps);
  return maps;
}

torch::Tensor SwinImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(!head.is_empty(), config_.name, ": built without a classifier");
  torch::Tensor y = norm->forward(run(x, nullptr));
  return counted(head, y.mean({1, 2}));
}

}  // namespace cvtk::vision
