#pragma once
// Position-sensitive RoI Align (Light-Head R-CNN / ThunderNet), differentiable w.r.t. the features.
//
// Coordinates: a RoI (x1, y1, x2, y2) in input-image pixels maps to the feature map as
//   fx = x * spatial_scale - offset   (same for y),
// its size is max(fx2 - fx1, min_roi_size) per side, and it is cut into p x p equal bins. Each bin is
// sampled on a g_h x g_w grid at the centres of the grid cells, (k + 0.5) / g of the bin, with
// g = sampling_ratio, or ceil(roi_size / p) (at least 1) when sampling_ratio <= 0. A sample at (y, x) reads
// the map bilinearly: zero when y < -1 or y > H (same for x), otherwise y and x are clamped to [0, H - 1]
// ([0, W - 1]) and the four neighbours are blended. The bin's value is the max or the mean of its samples.
//
// Channels: output channel c of bin (i, j) (row i, column j) reads input channel (c * p + i) * p + j, so
// the input has alpha * p * p channels.
//
// Defaults are the official ThunderNet kernel (max, no half-pixel offset, min size 0.1, 2 x 2 samples);
// PsRoiAlignOptions::torchvision() is torchvision.ops.ps_roi_align (mean, offset 0.5, no minimum size).
// Deviation from torchvision: an empty or inverted RoI is floored at min_roi_size (torchvision lets the
// size go negative) and the adaptive grid has at least one sample (torchvision divides by zero).
#include <torch/types.h>

namespace cvtk::detection {

enum class PsReduce { max, mean };

struct PsRoiAlignOptions {
  int pooled_size = 7;      // bins per side (p)
  int output_channels = 5;  // channels per bin (alpha); the input has alpha * p * p channels
  double spatial_scale = 1.0 / 16;
  int sampling_ratio = 2;     // samples per bin side; <= 0: adaptive ceil(roi_size / p)
  double offset = 0.0;        // subtracted from scaled coordinates: 0 (official ThunderNet), 0.5 (torchvision)
  double min_roi_size = 0.1;  // RoI width/height floor in feature pixels (official 0.1, torchvision 0)
  PsReduce reduce = PsReduce::max;

  // torchvision.ops.ps_roi_align's rules: mean, offset 0.5, no minimum size. Keeps the given sizes.
  static PsRoiAlignOptions torchvision(int pooled_size = 7, int output_channels = 5, double spatial_scale = 1.0 / 16,
                                       int sampling_ratio = 2);
};

// features [N, alpha * p * p, H, W] (float32 or float64); rois [R, 5] (batch_index, x1, y1, x2, y2) in
// input-image pixels, on the features' device. Returns [R, alpha, p, p] of the features' dtype.
// Differentiable w.r.t. features: the gradient of a bin goes to its argmax sample (max; ties: the first in
// row-major sample order) or evenly to its samples (mean), spread over the four bilinear neighbours.
// CPU tensors run the kernel in ps_roi_align.cpp, in parallel over RoIs (forward) and over (image, channel)
// (backward); tensors on any other device run ps_roi_align_generic (ps_roi_align_generic.h), same results.
torch::Tensor ps_roi_align(const torch::Tensor& features, const torch::Tensor& rois,
                           const PsRoiAlignOptions& options = {});

}  // namespace cvtk::detection
