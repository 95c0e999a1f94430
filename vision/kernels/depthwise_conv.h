#pragma once
// Depthwise convolution (groups == in == out channels, square kernel) for inference on pixel-major
// (ChannelsLast) float maps, the layout prepared CNN backbones run in. ATen hands these to oneDNN,
// which here reached about 3 GMAC/s per core on ShuffleNet/SNet shapes (30-245 channels, 10-80 px
// maps): per-call weight reorders and a kernel tuned for wide channel counts. This one keeps 8
// channels of 4 neighbouring output pixels in registers and streams the taps (an AVX2/FMA body where the
// CPU has it, see cpu_features.h; a portable loop elsewhere): 1.5-2.5x ATen's time on those shapes.
//
// x [N, C, H, W] ChannelsLast; taps [k*k, C] (tap-major: the weight [C, 1, k, k] transposed, see
// depthwise_taps); bias [C] or undefined. Output [N, C, OH, OW] ChannelsLast with
// OH = (H + 2 * padding - k) / stride + 1, zero padding, no dilation.
// input: the epilogue the layer before still owes its output (epilogue.h), applied as values are read:
// every input value v is taken as max(v + bias[c], 0) (or v + bias[c], or max(v, 0)), so that layer
// need not write it back. relu_output applies max(., 0) to the result.
#include <torch/types.h>

#include "vision/kernels/epilogue.h"

namespace cvtk::vision {

// Whether depthwise_conv2d's fast path takes x: CPU float ChannelsLast, untracked by autograd.
bool depthwise_fast_path(const torch::Tensor& x);

// weight [C, 1, k, k] -> taps [k*k, C], contiguous.
torch::Tensor depthwise_taps(const torch::Tensor& weight);

// Fast path only: x must pass depthwise_fast_path (checked).
torch::Tensor depthwise_conv2d(const torch::Tensor& x, const torch::Tensor& taps, const torch::Tensor& bias,
                               int64_t kernel, int64_t stride, int64_t padding, const Epilogue& input,
                               bool relu_output);

}  // namespace cvtk::vision
