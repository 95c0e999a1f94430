#pragma once
// Building blocks the backbones share.
#include <torch/torch.h>

#include <functional>

namespace cvtk::vision {

// Conv2d (no bias) -> BatchNorm2d -> ReLU, with torchvision's BasicConv2d parameter names
// (conv.weight, bn.*). Spatial map: as the convolution's kernel, stride and padding.
struct ConvBnReluOptions {
  int64_t in, out;
  std::vector<int64_t> kernel = {1, 1}, stride = {1, 1}, padding = {0, 0};
  double bn_eps = 1e-5;
};
class ConvBnReluImpl : public torch::nn::Module {
 public:
  explicit ConvBnReluImpl(const ConvBnReluOptions& o);
  torch::Tensor forward(const torch::Tensor& x);
  // For an inference executor's private copy of a network (vision/inference/conv_bn_executor.cpp):
  // the unit then runs `fused` (its convolution with the BatchNorm folded in, and the ReLU) instead
  // of its three layers. Fusing a module's units this way keeps the network's topology in its own
  // forward; a trained model is never fused.
  void replace_for_inference(std::function<torch::Tensor(const torch::Tensor&)> fused) { fused_ = std::move(fused); }

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  std::function<torch::Tensor(const torch::Tensor&)> fused_;
};
TORCH_MODULE(ConvBnRelu);

// ShuffleNet's channel shuffle with `groups` groups: output channel g * (C / groups) + i becomes
// channel i * groups + g, so channels from different groups interleave. Spatial map: identity; a
// ChannelsLast input stays ChannelsLast.
torch::Tensor channel_shuffle(const torch::Tensor& x, int64_t groups);

}  // namespace cvtk::vision
