#pragma once
// Shared building blocks.
#include <torch/torch.h>

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
  // Inference speed-up: folds the BatchNorm statistics into the convolution, used in eval mode
  // until the module trains again or its weights change through load (call again after loading).
  void fuse_for_inference();
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  ConvBnReluOptions options_;
  torch::Tensor fused_weight_, fused_bias_;
};
TORCH_MODULE(ConvBnRelu);

// Calls fuse_for_inference on every ConvBnRelu in a module tree; returns how many were fused.
int fuse_for_inference(torch::nn::Module& module);

// ShuffleNet's channel shuffle with `groups` groups: output channel g * (C / groups) + i becomes
// channel i * groups + g, so channels from different groups interleave. Spatial map: identity.
torch::Tensor channel_shuffle(const torch::Tensor& x, int64_t groups);

// Upsampling layers a detector or a user may want, built from LibTorch's modules:
//   nearest | bilinear | bicubic  torch::nn::Upsample by `factor` (align_corners false)
//   pixelshuffle                  1x1 conv to channels * factor^2, then PixelShuffle(factor)
//   transposed                    ConvTranspose2d(k = 2 * factor, s = factor, p = factor / 2),
//                                 initialised to bilinear interpolation (FCN)
// Output: [N, channels, H * factor, W * factor] for every kind.
torch::nn::AnyModule make_upsampler(const std::string& kind, int64_t channels, int64_t factor);

}  // namespace cvtk::vision
