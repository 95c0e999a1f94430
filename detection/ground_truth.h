#pragma once
// The ground truth of one image as the detector's training code sees it.
#include <torch/types.h>

namespace cvtk::detection {

struct GroundTruth {
  torch::Tensor boxes;   // [G, 4] float32, x1 y1 x2 y2 in the input tensor's pixels
  torch::Tensor labels;  // [G] int64, dataset class index (0-based; the model adds its background)
};

}  // namespace cvtk::detection
