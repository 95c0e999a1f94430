#pragma once
// NMS, batched NMS and soft-NMS (detection/nms.h) written only with ATen tensor operations, so they run on
// every device LibTorch has; nms(), batched_nms(), soft_nms() and batched_soft_nms() use them for tensors
// that are not on the CPU. Same contracts and results as the CPU kernels: IoUs come from box_iou(), whose
// operations round as the kernels' do, thresholds are rounded to the boxes' dtype as the kernels do, and
// ties go to the lower index. Labels are compared, not offset into the coordinates (an offset would change
// the IoUs' rounding). Indices are int64 on the boxes' device. Inputs are those nms.h describes (checked
// there, not here). Not covered: NaN scores, which gaussian soft-NMS also makes from the NaN IoU of two
// empty boxes (box_iou's 0 / 0). Here they rank below every number; the CPU kernel's order for them is
// an accident of its list handling, so the two may differ.
//
// Cost for N boxes (each "op" is one kernel launch on the device):
//   nms, batched_nms: an N x N bool suppression matrix (N^2 bytes; only its upper triangle is computed,
//     1024 rows at a time, about N^2 / 2 IoUs), then a loop over the N boxes in score order of 3 ops on the
//     boxes after it, O(N^2) work in all. No host round trip inside the loop, one for the result; with
//     max_keep, one every 64 boxes to stop early.
//   soft_nms, batched_soft_nms: per picked box, about 40 ops of O(N) (its IoUs with all boxes, the decay);
//     at most one pick per box scoring >= min_score, one host round trip every 32 picks to stop when no box
//     is left, O(N^2) work in all and O(N) memory.
#include <torch/types.h>

#include "detection/nms.h"

namespace cvtk::detection {

torch::Tensor nms_generic(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold,
                          int64_t max_keep = -1);

torch::Tensor batched_nms_generic(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& labels,
                                  double iou_threshold);

SoftNmsResult soft_nms_generic(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold,
                               double sigma = 0.5, double min_score = 1e-3,
                               SoftNmsMethod method = SoftNmsMethod::linear);

SoftNmsResult batched_soft_nms_generic(const torch::Tensor& boxes, const torch::Tensor& scores,
                                       const torch::Tensor& labels, double iou_threshold, double sigma = 0.5,
                                       double min_score = 1e-3, SoftNmsMethod method = SoftNmsMethod::linear);

}  // namespace cvtk::detection
