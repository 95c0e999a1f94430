#pragma once
// Eval-only executors for backbones. A backbone module (vision/backbones) is the plain trainable
// definition with one forward; optimize_for_inference(backbone) builds, from its current weights, the
// fast path for its family:
//   ShuffleNetV2 / SNet   BatchNorms folded, pixel-major (ChannelsLast) maps, 1x1 layers as packed
//                         matrix products, own stem, depthwise and max-pool kernels, units whose
//                         closing ReLU and channel shuffle need no extra pass (shufflenet_executor.cpp)
//   Inception v3, GoogLeNet   a private copy whose conv-BN-ReLU units are folded (conv_bn_executor.cpp)
//   Swin                  per-shape window plans with the position bias and shift mask added up, and a
//                         fused window attention over shared workspaces (swin_executor.cpp)
// Outputs equal the module's eval-mode outputs up to float rounding; maps may come back ChannelsLast.
//
// The rules, here and in every executor:
//   - Eval semantics always (BatchNorm running statistics, no dropout or stochastic depth), whatever
//     the module's train/eval mode.
//   - Never where autograd would record: features() and forward() throw std::logic_error when grad mode
//     is on and the input or any of the module's parameters requires grad (run the module itself for
//     gradients, or hold a torch::NoGradGuard / c10::InferenceMode).
//   - Built from the weights as they are: when a parameter or buffer of the module is moved or changed
//     in place by a tensor operation (weight loading, Module::to), the next call rebuilds first.
//     Training leaves no such trace (optimisers write through .data(), BatchNorm updates its running
//     statistics inside its kernel): call rebuild() after training steps, or build a new executor.
//   - The module is shared, not copied (except where a family says so), and never modified.
#include <memory>

#include "vision/backbones/backbone.h"
#include "vision/inference/folding.h"

namespace cvtk::vision {

class BackboneExecutor {
 public:
  virtual ~BackboneExecutor() = default;
  // As the module's features() and forward() in eval mode. forward() needs the classifier.
  FeatureMaps features(const torch::Tensor& x);
  torch::Tensor forward(const torch::Tensor& x);
  // Builds again from the module's current weights.
  void rebuild();
  const Backbone& module() const { return module_; }

 protected:
  explicit BackboneExecutor(Backbone module) : module_(std::move(module)) {}
  // Takes what the fast path needs from module(); called by rebuild().
  virtual void build() = 0;
  virtual FeatureMaps run_features(const torch::Tensor& x) = 0;
  virtual torch::Tensor run_forward(const torch::Tensor& x) = 0;

 private:
  void check(const torch::Tensor& x);
  Backbone module_;
  TensorSnapshot sources_;
};

// The executor for backbone's family, built. Throws std::invalid_argument for a backbone type no
// family claims.
std::unique_ptr<BackboneExecutor> optimize_for_inference(const Backbone& backbone);

}  // namespace cvtk::vision
