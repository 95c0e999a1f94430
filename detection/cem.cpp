#include "detection/cem.h"

namespace cvtk::detection {

namespace F = torch::nn::functional;

ContextEnhancementImpl::ContextEnhancementImpl(int64_t c4_channels, int64_t c5_channels, int64_t out_channels) {
  auto conv = [&](int64_t in) { return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out_channels, 1).bias(true)); };
  c4_ = register_module("c4_lat", conv(c4_channels));
  c5_ = register_module("c5_lat", conv(c5_channels));
  glb_ = register_module("c_glb", conv(c5_channels));
  for (auto* c : {&c4_, &c5_, &glb_}) {
    torch::nn::init::xavier_uniform_((*c)->weight);
    torch::nn::init::zeros_((*c)->bias);
  }
}

torch::Tensor ContextEnhancementImpl::forward(const torch::Tensor& c4, const torch::Tensor& c5) {
  auto local = c4_->forward(c4);
  auto up = F::interpolate(c5_->forward(c5), F::InterpolateFuncOptions()
                                                 .size(std::vector<int64_t>{c4.size(2), c4.size(3)})
                                                 .mode(torch::kNearest));
  auto glb = glb_->forward(c5.mean({2, 3}, true));
  return local + up + glb;
}

}  // namespace cvtk::detection
