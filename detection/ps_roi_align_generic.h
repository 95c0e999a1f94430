#pragma once
// PSRoIAlign (detection/ps_roi_align.h) written only with ATen tensor operations, so it runs on every
// device LibTorch has; ps_roi_align() uses it for tensors that are not on the CPU. Same contract as the CPU
// kernel (coordinates, min_roi_size, sampling grid, bilinear rules, channel mapping, max / mean) and the
// same arithmetic: sample coordinates and bilinear weights are formed with the kernel's operations in the
// kernel's order, so on CPU the max output equals the kernel's bit for bit and the mean differs only by
// the order of its sum.
//
// Backward comes from autograd and equals the kernel's: for max, a bin's gradient goes to its first
// maximal sample in row-major sample order (iy * g_w + ix), the kernel's rule (it keeps a sample only when
// it is strictly greater than every earlier one); NaN samples never win, and a bin whose samples are all
// -inf or NaN outputs 0 and passes no gradient. For mean, evenly to the bin's samples.
//
// Cost: vectorised over RoIs, bins and samples. With G = the largest grid of any RoI (sampling_ratio, or the
// largest adaptive grid) it holds four int64 index tensors and about eight value tensors of
// R * alpha * p^2 * G_h * G_w elements (RoIs with a smaller adaptive grid are padded and masked). One host
// round trip per call, for the batch-index check and the largest grid.
#include <torch/types.h>

#include "detection/ps_roi_align.h"

namespace cvtk::detection {

// features [N, alpha * p * p, H, W] float32 / float64 on any device; rois [R, 5] (batch_index, x1, y1, x2,
// y2) in input-image pixels, moved to the features' device and dtype. Returns [R, alpha, p, p].
// Expects the shapes and dtypes ps_roi_align() checks; checks the batch indices itself.
torch::Tensor ps_roi_align_generic(const torch::Tensor& features, const torch::Tensor& rois,
                                   const PsRoiAlignOptions& options = {});

}  // namespace cvtk::detection
