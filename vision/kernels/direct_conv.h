#pragma once
// A direct convolution for layers with few input channels: the stems of CNN backbones (ShuffleNet and
// SNet: 3 -> 24 or 48 channels, 3x3 stride 2; Inception: 3 -> 32; GoogLeNet: 3 -> 64, 7x7). ATen hands
// these to oneDNN, which took 1.1-1.4 ms for the SNet49 stem at 320x320 on 2 threads here (about
// 15 GMAC/s) plus a copy of the image to ChannelsLast. This one reads the image in whatever layout it
// comes (NCHW or ChannelsLast), keeps 24 output channels of 4 neighbouring pixels in registers and
// streams the taps (AVX2/FMA where the CPU has it, cpu_features.h; a portable loop elsewhere).
//
// x [N, Cin, H, W] float on the CPU, any strides; taps [Cin * k * k, Cout] (direct_taps of the weight
// [Cout, Cin, k, k]); bias [Cout] or undefined. Output [N, Cout, OH, OW] ChannelsLast with
// OH = (H + 2 * padding - k) / stride + 1 (same for OW), zero padding, no dilation, one group;
// max(., 0) applied when relu (NaN stays NaN).
#include <torch/types.h>

namespace cvtk::vision {

// Whether direct_conv2d takes x: a CPU float [N, C, H, W] tensor untracked by autograd.
bool direct_conv_takes(const torch::Tensor& x);

// weight [Cout, Cin, k, k] -> taps [Cin * k * k, Cout] (row (ci * k + ky) * k + kx), contiguous.
torch::Tensor direct_taps(const torch::Tensor& weight);

torch::Tensor direct_conv2d(const torch::Tensor& x, const torch::Tensor& taps, const torch::Tensor& bias,
                            int64_t kernel, int64_t stride, int64_t padding, bool relu);

}  // namespace cvtk::vision
