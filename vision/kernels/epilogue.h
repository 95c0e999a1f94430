#pragma once
// What a layer still owes its output before the next reader sees it: bias[c] added (when defined),
// then max(., 0) (when relu). The inference kernels that read a map (depthwise_conv2d,
// concat_channels) apply its epilogue as they load it, so the layer that produced the map need not
// write it a second time.
#include <torch/types.h>

namespace cvtk::vision {

struct Epilogue {
  torch::Tensor bias;  // [C] float, or undefined: nothing to add
  bool relu = false;
  bool empty() const { return !bias.defined() && !relu; }
  // x [N, C, H, W] with the epilogue applied as torch ops; x itself when there is nothing to apply.
  torch::Tensor apply(const torch::Tensor& x) const;
};

}  // namespace cvtk::vision
