#pragma once
// Box overlap and non-maximum suppression. Boxes are [N, 4] (x1, y1, x2, y2) in continuous coordinates
// (width x2 - x1, no +1), float32 or float64; scores (and labels) are [N], scores of the same dtype, all
// on one device. All return int64 indices into the input, on that device. Coordinates are not changed.
// CPU tensors run the kernels in nms.cpp; tensors on any other device run the ATen versions in
// nms_generic.h, same results.
#include <torch/types.h>

namespace cvtk::detection {

// IoU of every pair: [N, 4] x [M, 4] -> [N, M] (the boxes' dtype). Two empty boxes give NaN (0 / 0),
// as torchvision.ops.box_iou.
torch::Tensor box_iou(const torch::Tensor& a, const torch::Tensor& b);

// Greedy NMS as torchvision.ops.nms: visits boxes by descending score (ties: lower index first) and keeps a
// box unless its IoU with an already kept box is > iou_threshold. Returns the kept indices in that order.
// max_keep >= 0 stops after that many kept boxes: the result is the first max_keep of the full result,
// at a fraction of the cost when most boxes would survive (proposal generation keeps 200 of 2000).
torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold, int64_t max_keep = -1);

// NMS within each label: boxes of different labels never suppress each other. labels [N] integer.
// Returns kept indices sorted by descending score (ties: lower index first).
torch::Tensor batched_nms(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& labels,
                          double iou_threshold);

enum class SoftNmsMethod { linear, gaussian };

struct SoftNmsResult {
  torch::Tensor keep;    // int64 indices into the input
  torch::Tensor scores;  // their decayed scores; both sorted by decayed score, descending
};

// Soft-NMS (Bodla et al. 2017) as mmcv's soft_nms: repeatedly takes the box with the highest current score
// (ties: lower index first) and decays every remaining box by its IoU with it:
//   linear    score *= 1 - iou when iou >= iou_threshold (mmcv compares with >=)
//   gaussian  score *= exp(-iou^2 / sigma)
// A box whose score is below min_score is dropped. Unlike mmcv, this also applies to the top box: every
// returned score is >= min_score.
SoftNmsResult soft_nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold,
                       double sigma = 0.5, double min_score = 1e-3, SoftNmsMethod method = SoftNmsMethod::linear);

// Soft-NMS within each label; the results of all labels merged by decayed score (ties: lower index first).
SoftNmsResult batched_soft_nms(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& labels,
                               double iou_threshold, double sigma = 0.5, double min_score = 1e-3,
                               SoftNmsMethod method = SoftNmsMethod::linear);

}  // namespace cvtk::detection
