#include "detection/cem.h"

#include "vision/nn/layers.h"
#include "vision/nn/macs.h"
#include "vision/nn/tracked.h"

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
  // Pixel-major maps (an inference-prepared model) run the 1x1 convs as matrix products in place;
  // NCHW maps (training) keep ATen's convolutions rather than pay a transposing copy.
  const bool pixel_major =
      c4.is_contiguous(torch::MemoryFormat::ChannelsLast) && c5.is_contiguous(torch::MemoryFormat::ChannelsLast);
  auto lateral = [&](torch::nn::Conv2d& conv, const torch::Tensor& x) {
    return pixel_major ? vision::pointwise_conv2d(x, conv->weight, conv->bias) : conv->forward(x);
  };
  if (pixel_major && !vision::tracked({c4, c5, c4_->weight, c5_->weight, glb_->weight})) {
    // The same sum with one pass over the output instead of four: the biases and the global branch go
    // into C5's lateral before upsampling (a quarter of the pixels), and C4's lateral product
    // accumulates straight into the upsampled map.
    const int64_t n = c4.size(0), h = c4.size(2), w = c4.size(3), out = c4_->weight.size(0);
    auto c5_lat = vision::pointwise_conv2d(c5, c5_->weight, c5_->bias + c4_->bias);
    c5_lat += vision::pointwise_conv2d(c5.mean({2, 3}, true), glb_->weight, glb_->bias);
    auto sum =
        F::interpolate(c5_lat, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kNearest))
            .contiguous(torch::MemoryFormat::ChannelsLast);
    sum.as_strided({n * h * w, out}, {out, 1})
        .addmm_(c4.as_strided({n * h * w, c4.size(1)}, {c4.size(1), 1}), c4_->weight.view({out, -1}).t());
    vision::MacCounter::add(n * h * w * out * c4.size(1));
    return sum;
  }
  auto local = lateral(c4_, c4);
  auto up = F::interpolate(
      lateral(c5_, c5),
      F::InterpolateFuncOptions().size(std::vector<int64_t>{c4.size(2), c4.size(3)}).mode(torch::kNearest));
  // One pixel per image: a plain matrix product in either layout.
  auto glb = vision::pointwise_conv2d(c5.mean({2, 3}, true), glb_->weight, glb_->bias);
  return local + up + glb;
}

}  // namespace cvtk::detection
