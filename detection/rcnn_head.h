#pragma once
// ThunderNet's light R-CNN subnet (§3.4): the 245-d PSRoIAlign feature of each RoI -> one fully
// connected 1024-d layer + ReLU (the paper; the authors' released code uses two, `num_fc = 2`) ->
// K+1 class logits (softmax, index 0 = background) and 4K class-specific box deltas (BoxCoder weights
// 10, 10, 5, 5). Init as mmdetection's defaults: shared fc Xavier-uniform, cls N(0, 0.01), box N(0, 0.001).
//
// Training targets: proposals plus the ground-truth boxes are matched at IoU 0.5 (foreground >= 0.5,
// background below), 512 RoIs per image with at most 25% foreground. Inference: softmax scores, decoded
// and clipped class-specific boxes, score >= 0.05, per-class NMS 0.5 (or Soft-NMS), at most 100 per image.
#include <torch/torch.h>

#include <array>
#include <vector>

#include "detection/box_coder.h"
#include "detection/ground_truth.h"
#include "detection/matcher.h"

namespace cvtk::detection {

struct RcnnOptions {
  int64_t fc_channels = 1024;
  int num_fc = 1;
  MatcherOptions match{0.5, 0.5, false};
  int64_t batch_per_image = 512;
  double positive_fraction = 0.25;
  bool add_ground_truth = true;
  std::array<double, 4> box_weights = {10, 10, 5, 5};
  double box_loss_beta = 1.0 / 9;
  double score_threshold = 0.05;
  double nms_iou = 0.5;
  int64_t max_detections = 100;
  bool soft_nms = false;  // linear Soft-NMS (sigma 0.5) instead of hard NMS
};

// RoIs chosen for training with their targets.
struct RoiTargets {
  torch::Tensor rois;    // [R, 5] (batch index, x1, y1, x2, y2)
  torch::Tensor labels;  // [R] int64, 0 background, k + 1 for class k
  torch::Tensor deltas;  // [R, 4] regression targets (zeros for background)
  int64_t foreground = 0;
};

struct RcnnOutput {
  torch::Tensor logits;  // [R, K + 1]
  torch::Tensor deltas;  // [R, 4K]
};

struct RcnnLosses {
  torch::Tensor classification;  // mean cross-entropy over sampled RoIs
  torch::Tensor box;             // smooth-L1 over foreground RoIs / number of RoIs
};

struct ImageDetections {
  torch::Tensor boxes;   // [D, 4] float32, input-tensor pixels (the caller maps them to the original image)
  torch::Tensor scores;  // [D]
  torch::Tensor labels;  // [D] int64, dataset class index
};

class RcnnHeadImpl : public torch::nn::Module {
 public:
  RcnnHeadImpl(int64_t in_features, int64_t num_classes, const RcnnOptions& options);
  RcnnOutput forward(const torch::Tensor& pooled);  // pooled: [R, ...] flattened per RoI

  RoiTargets select_training_rois(const std::vector<torch::Tensor>& proposals,
                                  const std::vector<GroundTruth>& targets) const;
  RcnnLosses loss(const RcnnOutput& out, const RoiTargets& targets) const;
  // rois: [R, 5]; returns one ImageDetections per image of the batch.
  std::vector<ImageDetections> postprocess(const RcnnOutput& out, const torch::Tensor& rois, int64_t batch,
                                           double width, double height) const;
  const RcnnOptions& options() const { return options_; }
  int64_t num_classes() const { return num_classes_; }

  torch::nn::Sequential shared{nullptr};  // num_fc x (Linear, ReLU)
  torch::nn::Linear cls{nullptr}, box{nullptr};

 private:
  RcnnOptions options_;
  int64_t num_classes_;
  BoxCoder coder_;
};
TORCH_MODULE(RcnnHead);

}  // namespace cvtk::detection
