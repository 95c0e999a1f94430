#pragma once
// The ground truth of one image as the detector's training code sees it.
#include <optional>

#include <torch/types.h>

namespace cvtk::detection {

struct GroundTruth {
  torch::Tensor boxes;   // [G, 4] float32, x1 y1 x2 y2 in the input tensor's pixels
  torch::Tensor labels;  // [G] int64, dataset class index (0-based; the model adds its background)
  // When set, this image's anchor and RoI sampling draw from generators seeded with it instead of the
  // default generator, so an image is sampled the same in whatever batch or process it is trained
  // (the trainer derives it from the seed, the step and the dataset record: data-parallel runs equal
  // one process with the global batch).
  std::optional<uint64_t> sampling_seed = std::nullopt;
};

}  // namespace cvtk::detection
