#pragma once
// Anchor boxes for a single-level, stride-16 RPN (ThunderNet: 5 scales x 5 aspect ratios = 25 anchors
// per feature cell).
//
// Convention (our choice, recorded in README): anchors are centred on their cell's centre,
// ((x + 0.5) * stride, (y + 0.5) * stride), in continuous input-image pixels (DESIGN.md §3). For scale s
// (side in pixels of the square anchor) and ratio r = height / width, an anchor has area s^2, width
// s / sqrt(r) and height s * sqrt(r); no rounding, no "+1". Order: location-major (y, then x), then
// within a cell ratio-major (ratio index * num_scales + scale index), which is the channel order of the
// RPN's 1x1 heads ([A] logits, [A * 4] deltas grouped per anchor).
#include <torch/types.h>

#include <vector>

namespace cvtk::detection {

struct AnchorOptions {
  std::vector<double> sizes = {32, 64, 128, 256, 512};            // square-root of the anchor area, pixels
  std::vector<double> ratios = {0.5, 0.75, 1.0, 4.0 / 3.0, 2.0};  // height / width
  double stride = 16;
};

class AnchorGenerator {
 public:
  explicit AnchorGenerator(AnchorOptions options = {});
  int64_t anchors_per_location() const;
  // The anchors of one cell centred on (0, 0): [A, 4].
  torch::Tensor cell_anchors() const;
  // All anchors of a feature map of height x width cells: [height * width * A, 4] float32, cached
  // per size.
  torch::Tensor grid(int64_t height, int64_t width, torch::Device device = torch::kCPU) const;
  const AnchorOptions& options() const { return options_; }

 private:
  AnchorOptions options_;
  torch::Tensor cell_;
};

}  // namespace cvtk::detection
