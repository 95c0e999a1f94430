#pragma once
// Upsampling layers: a map [N, C, H, W] becomes [N, C, H * factor, W * factor], for every kind and
// every integer factor >= 1. Coordinates: output pixel (y, x) covers input position
// ((y + 0.5) / factor - 0.5, (x + 0.5) / factor - 0.5), the half-pixel convention of
// torch's interpolate with align_corners=false, so boxes scale by exactly `factor`.
//
//   nearest | bilinear | bicubic  interpolation (torch::nn::Upsample), no parameters
//   pixelshuffle                  a 1x1 convolution to C * factor^2 channels, then PixelShuffle(factor):
//                                 output (c, y * factor + i, x * factor + j) is conv channel
//                                 c * factor^2 + i * factor + j at (y, x); learned
//   transposed                    a depthwise ConvTranspose2d, kernel 2 * factor - factor % 2, stride
//                                 factor, padding ceil((factor - 1) / 2), initialised to bilinear
//                                 interpolation (FCN's kernel): until trained it equals `bilinear`
//                                 away from the border (factor pixels); learned
#include <string>
#include <vector>

#include <torch/torch.h>

namespace cvtk::vision {

// The kinds, in the order above.
std::vector<std::string> upsampler_kinds();

// std::invalid_argument for an unknown kind, a factor below 1 or channels below 1.
torch::nn::AnyModule make_upsampler(const std::string& kind, int64_t channels, int64_t factor);

}  // namespace cvtk::vision
