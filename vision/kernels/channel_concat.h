#pragma once
// Channel concatenation for ShuffleNet-style units, with the units' closing ReLUs and channel
// permutations done in the same pass. A stride-1 unit splits its input in two, transforms one half and
// concatenates; run as separate ops that is a cat, a ReLU over the branch, and either a channel shuffle
// (torchvision) or strided even/odd slices that the next unit's matrix product must copy (Megvii). Here
// one pass writes the output in the order the next unit wants.
#include <torch/types.h>

#include "vision/kernels/epilogue.h"

namespace cvtk::vision {

// Where channel i of cat(a, b) (C channels, C even unless kConcat) lands in the output:
//   kConcat       i
//   kInterleave   i < C/2 ? 2i : 2(i - C/2) + 1    (ShuffleNet's channel shuffle with 2 groups)
//   kDeinterleave i even ? i/2 : C/2 + i/2          (even channels first, then odd: the inverse)
enum class ChannelOrder { kConcat, kInterleave, kDeinterleave };

// Whether x [N, C, H, W] is pixel-major with one stride between pixels: ChannelsLast, or a range of
// channels of a ChannelsLast tensor. Such a map is a matrix [N*H*W, C] with row stride *pixel_stride.
bool pixel_rows(const torch::Tensor& x, int64_t* pixel_stride = nullptr);

// Each input finishes its layer's epilogue on the way (epilogue.h): a value v of channel k of a becomes
// v + ea.bias[k] (undefined: v), then max(., 0) if ea.relu (NaN stays NaN); likewise for b with eb.
// a and b share N, H, W. Output [N, Ca + Cb, H, W] ChannelsLast. CPU float pixel-major untracked inputs take
// one fused pass; anything else runs as torch ops, with autograd.
torch::Tensor concat_channels(const torch::Tensor& a, const Epilogue& ea, const torch::Tensor& b, const Epilogue& eb,
                              ChannelOrder order);

// For each of `rows` pixels, channel i < count of src (row stride lds floats) to column dst_cols[i] of
// dst (row stride ldd): the pass-through half of a unit written where the unit's output order wants it.
// CPU floats; src and dst must not overlap.
void scatter_channels(const float* src, int64_t lds, int64_t rows, int64_t count, const int64_t* dst_cols, float* dst,
                      int64_t ldd);

}  // namespace cvtk::vision
