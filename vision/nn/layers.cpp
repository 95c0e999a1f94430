#include "vision/nn/layers.h"

#include "vision/nn/macs.h"

namespace cvtk::vision {

ConvBnReluImpl::ConvBnReluImpl(const ConvBnReluOptions& o) : options_(o) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in, o.out, o.kernel)
                                                        .stride(o.stride)
                                                        .padding(o.padding)
                                                        .bias(false)));
  bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(o.out).eps(o.bn_eps)));
}

torch::Tensor ConvBnReluImpl::forward(const torch::Tensor& x) {
  if (fused_weight_.defined() && !is_training()) {
    torch::Tensor y = torch::conv2d(x, fused_weight_, fused_bias_, options_.stride, options_.padding);
    MacCounter::add(y.numel() * conv->weight.size(1) * conv->weight.size(2) * conv->weight.size(3));
    return y.relu_();
  }
  fused_weight_ = torch::Tensor();
  return bn->forward(counted(conv, x)).relu_();
}

void ConvBnReluImpl::fuse_for_inference() {
  torch::NoGradGuard no_grad;
  const auto scale = bn->weight / torch::sqrt(bn->running_var + bn->options.eps());
  fused_weight_ = (conv->weight * scale.view({-1, 1, 1, 1})).contiguous();
  fused_bias_ = bn->bias - bn->running_mean * scale;
}

int fuse_for_inference(torch::nn::Module& module) {
  int n = 0;
  for (auto& m : module.modules(/*include_self=*/false))
    if (auto c = std::dynamic_pointer_cast<ConvBnReluImpl>(m)) {
      c->fuse_for_inference();
      ++n;
    }
  return n;
}

torch::Tensor channel_shuffle(const torch::Tensor& x, int64_t groups) {
  const auto n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  TORCH_CHECK(c % groups == 0, "channel_shuffle: ", c, " channels do not split into ", groups, " groups");
  return x.view({n, groups, c / groups, h, w}).transpose(1, 2).reshape({n, c, h, w});
}

namespace {

class PixelShuffleUpImpl : public torch::nn::Module {
 public:
  PixelShuffleUpImpl(int64_t channels, int64_t factor)
      : conv(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels * factor * factor, 1)))),
        shuffle(register_module("shuffle", torch::nn::PixelShuffle(factor))) {}
  torch::Tensor forward(const torch::Tensor& x) { return shuffle->forward(counted(conv, x)); }
  torch::nn::Conv2d conv;
  torch::nn::PixelShuffle shuffle;
};
TORCH_MODULE(PixelShuffleUp);

}  // namespace

torch::nn::AnyModule make_upsampler(const std::string& kind, int64_t channels, int64_t factor) {
  TORCH_CHECK(factor >= 1, "upsampler: factor must be >= 1, got ", factor);
  if (kind == "nearest")
    return torch::nn::AnyModule(torch::nn::Upsample(
        torch::nn::UpsampleOptions().scale_factor(std::vector<double>{double(factor), double(factor)}).mode(torch::kNearest)));
  if (kind == "bilinear" || kind == "bicubic") {
    auto o = torch::nn::UpsampleOptions().scale_factor(std::vector<double>{double(factor), double(factor)}).align_corners(false);
    if (kind == "bilinear") o.mode(torch::kBilinear);
    else o.mode(torch::kBicubic);
    return torch::nn::AnyModule(torch::nn::Upsample(o));
  }
  if (kind == "pixelshuffle") return torch::nn::AnyModule(PixelShuffleUp(channels, factor));
  if (kind == "transposed") {
    const int64_t k = 2 * factor;
    torch::nn::ConvTranspose2d up(torch::nn::ConvTranspose2dOptions(channels, channels, k).stride(factor).padding(factor / 2).groups(channels).bias(false));
    // Bilinear kernel: the outer product of a triangle filter.
    torch::NoGradGuard no_grad;
    const double centre = factor - (k % 2 == 1 ? 1.0 : 0.5);
    auto ramp = 1 - (torch::arange(k, torch::kFloat) - centre).abs() / factor;
    up->weight.copy_((ramp.unsqueeze(1) * ramp.unsqueeze(0)).expand({channels, 1, k, k}));
    return torch::nn::AnyModule(up);
  }
  throw std::invalid_argument("unknown upsampler '" + kind + "' (expected nearest, bilinear, bicubic, pixelshuffle or transposed)");
}

}  // namespace cvtk::vision
