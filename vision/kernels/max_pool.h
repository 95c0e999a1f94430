#pragma once
// Max pooling for inference on pixel-major (ChannelsLast) float maps, the layout prepared CNN
// backbones run in. ATen's ChannelsLast kernel also writes an int64 index per output and took
// 0.6-1 ms for the ShuffleNet/SNet stem pool at 320x320 here; this one runs 8 channels per instruction
// (AVX2 where the CPU has it, see cpu_features.h) and writes only the maxima. Same semantics as
// torch::max_pool2d with ceil_mode false: padding never wins, NaN propagates. Anything else (autograd, NCHW, other
// dtypes, ceil_mode) goes to torch::max_pool2d.
#include <torch/types.h>

namespace cvtk::vision {

torch::Tensor max_pool2d(const torch::Tensor& x, int64_t kernel, int64_t stride, int64_t padding);

}  // namespace cvtk::vision
