#include "detection/cem.h"

#include "vision/kernels/pointwise_conv.h"
#include "vision/nn/macs.h"

namespace cvtk::detection {

namespace F = torch::nn::functional;

ContextEnhancementImpl::ContextEnhancementImpl(int64_t c4_channels, int64_t c5_channels, int64_t out_channels) {
  auto conv = [&](int64_t in) { return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out_channels, 1).bias(true)); };
  c4_lat = register_module("c4_lat", conv(c4_channels));
  c5_lat = register_module("c5_lat", conv(c5_channels));
  c_glb = register_module("c_glb", conv(c5_channels));
  for (auto* c : {&c4_lat, &c5_lat, &c_glb}) {
    torch::nn::init::xavier_uniform_((*c)->weight);
    torch::nn::init::zeros_((*c)->bias);
  }
}

torch::Tensor ContextEnhancementImpl::forward(const torch::Tensor& c4, const torch::Tensor& c5) {
  const auto up = F::interpolate(
      vision::counted(c5_lat, c5),
      F::InterpolateFuncOptions().size(std::vector<int64_t>{c4.size(2), c4.size(3)}).mode(torch::kNearest));
  // One pixel per image: a plain matrix product.
  return vision::counted(c4_lat, c4) + up + vision::pointwise_conv2d(c5.mean({2, 3}, true), c_glb->weight, c_glb->bias);
}

}  // namespace cvtk::detection
