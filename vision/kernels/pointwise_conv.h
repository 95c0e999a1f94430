#pragma once
// A 1x1 convolution (stride 1, no padding, one group) as one matrix product over pixels: x [N, C, H, W],
// weight [O, C, 1, 1], bias [O] or undefined -> [N, O, H, W] whose memory is ChannelsLast (pixel-major),
// so `.permute({0, 2, 3, 1})` of the result is contiguous. Pixel-major input (ChannelsLast, or a channel
// range of it: see pixel_rows in channel_concat.h) is read in place; other layouts are copied once. ATen
// would run the same product through its unfold-based convolution (one thread at batch 1) or oneDNN,
// both slower here. Differentiable.
#include <torch/types.h>

namespace cvtk::vision {

torch::Tensor pointwise_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace cvtk::vision
