#include "vision/nn/blocks.h"

#include "vision/nn/macs.h"

namespace cvtk::vision {

ConvBnReluImpl::ConvBnReluImpl(const ConvBnReluOptions& o) {
  conv = register_module(
      "conv", torch::nn::Conv2d(
                  torch::nn::Conv2dOptions(o.in, o.out, o.kernel).stride(o.stride).padding(o.padding).bias(false)));
  bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(o.out).eps(o.bn_eps)));
}

torch::Tensor ConvBnReluImpl::forward(const torch::Tensor& x) {
  if (fused_) return fused_(x);
  return bn->forward(counted(conv, x)).relu_();
}

torch::Tensor channel_shuffle(const torch::Tensor& x, int64_t groups) {
  const auto n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  TORCH_CHECK(c % groups == 0, "channel_shuffle: ", c, " channels do not split into ", groups, " groups");
  if (x.is_contiguous(torch::MemoryFormat::ChannelsLast) && !x.is_contiguous()) {
    // Shuffle within each pixel's channel vector, so the result stays ChannelsLast.
    return x.permute({0, 2, 3, 1})
        .reshape({n, h, w, groups, c / groups})
        .transpose(3, 4)
        .reshape({n, h, w, c})
        .permute({0, 3, 1, 2});
  }
  return x.view({n, groups, c / groups, h, w}).transpose(1, 2).reshape({n, c, h, w});
}

}  // namespace cvtk::vision
