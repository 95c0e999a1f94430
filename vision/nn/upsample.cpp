#include "vision/nn/upsample.h"

#include <stdexcept>

#include "vision/nn/macs.h"

namespace cvtk::vision {

namespace {

class PixelShuffleUpImpl : public torch::nn::Module {
 public:
  PixelShuffleUpImpl(int64_t channels, int64_t factor)
      : conv(register_module("conv",
                             torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels * factor * factor, 1)))),
        shuffle(register_module("shuffle", torch::nn::PixelShuffle(factor))) {}
  torch::Tensor forward(const torch::Tensor& x) { return shuffle->forward(counted(conv, x)); }
  torch::nn::Conv2d conv;
  torch::nn::PixelShuffle shuffle;
};
TORCH_MODULE(PixelShuffleUp);

// align_corners is only meaningful (and only accepted) for the interpolating modes.
template <class Mode>
torch::nn::AnyModule interpolation(Mode mode, int64_t factor, bool interpolating) {
  auto o = torch::nn::UpsampleOptions().scale_factor(std::vector<double>{double(factor), double(factor)}).mode(mode);
  if (interpolating) o.align_corners(false);
  return torch::nn::AnyModule(torch::nn::Upsample(o));
}

// Output size (H - 1) * f - 2p + k = H * f for k = 2f - f % 2 and p = ceil((f - 1) / 2); the kernel
// is the outer product of a triangle filter centred between (even k) or on (odd k) its middle taps.
torch::nn::AnyModule bilinear_transposed(int64_t channels, int64_t factor) {
  const int64_t k = 2 * factor - factor % 2, pad = factor / 2;
  torch::nn::ConvTranspose2d up(torch::nn::ConvTranspose2dOptions(channels, channels, k)
                                    .stride(factor)
                                    .padding(pad)
                                    .groups(channels)
                                    .bias(false));
  torch::NoGradGuard no_grad;
  const double centre = k % 2 == 1 ? double(factor - 1) : factor - 0.5;
  auto ramp = 1 - (torch::arange(k, torch::kFloat) - centre).abs() / double(factor);
  up->weight.copy_((ramp.unsqueeze(1) * ramp.unsqueeze(0)).expand({channels, 1, k, k}));
  return torch::nn::AnyModule(up);
}

}  // namespace

std::vector<std::string> upsampler_kinds() { return {"nearest", "bilinear", "bicubic", "pixelshuffle", "transposed"}; }

torch::nn::AnyModule make_upsampler(const std::string& kind, int64_t channels, int64_t factor) {
  if (factor < 1)
    throw std::invalid_argument("upsampler " + kind + ": factor must be at least 1, got " + std::to_string(factor));
  if (channels < 1)
    throw std::invalid_argument("upsampler " + kind + ": channels must be at least 1, got " + std::to_string(channels));
  if (kind == "nearest") return interpolation(torch::kNearest, factor, false);
  if (kind == "bilinear") return interpolation(torch::kBilinear, factor, true);
  if (kind == "bicubic") return interpolation(torch::kBicubic, factor, true);
  if (kind == "pixelshuffle") return torch::nn::AnyModule(PixelShuffleUp(channels, factor));
  if (kind == "transposed") return bilinear_transposed(channels, factor);
  std::string known;
  for (const auto& k : upsampler_kinds()) known += (known.empty() ? "" : ", ") + k;
  throw std::invalid_argument("unknown upsampler '" + kind + "' (expected " + known + ")");
}

}  // namespace cvtk::vision
