#pragma once
// ThunderNet (Qin et al. 2019): a two-stage detector for small devices.
//
//   image [N,3,H,W] -> backbone C4 (stride 16), C5 (stride 32)
//     -> CEM (245 ch, C4's size) -> compressed RPN (trunk 256 ch, 25 anchors/cell) -> proposals
//     -> SAM: CEM * sigmoid(conv(RPN trunk)) -> PSRoIAlign (5 ch x 7 x 7 = 245-d per RoI)
//     -> light R-CNN head (fc 1024) -> class scores and class-specific boxes.
//
// Boxes in and out are x1 y1 x2 y2 in the input tensor's pixels; mapping to the original image is
// the caller's (the Sample's matrix, augment/sample.h). Parameter names: "backbone.*" are the
// registered backbone's own (torchvision-style) names, so backbone weights load by name with the prefix.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "detection/anchors.h"
#include "detection/cem.h"
#include "detection/ps_roi_align.h"
#include "detection/rcnn_head.h"
#include "detection/rpn.h"
#include "detection/sam.h"
#include "vision/backbones/backbone.h"

namespace cvtk::detection {

struct ThunderNetOptions {
  std::string backbone = "snet49";
  int64_t num_classes = 20;     // dataset classes, background excluded
  int64_t pooled_size = 7;      // PSRoIAlign bins per side (p)
  int64_t pooled_channels = 5;  // channels per bin (alpha); CEM width = alpha * p * p = 245
  AnchorOptions anchors;
  RpnOptions rpn;
  RcnnOptions rcnn;
  PsRoiAlignOptions roi_align;  // the authors' choice: max of 2x2 samples, no half-pixel offset
};

struct LossTerms {
  torch::Tensor rpn_objectness, rpn_box, rcnn_classification, rcnn_box;
  int64_t foreground_rois = 0;
  torch::Tensor total() const { return rpn_objectness + rpn_box + rcnn_classification + rcnn_box; }
};

// The dense outputs inference reads before any selection (top-k, NMS, thresholds), for checking one
// inference path against another with a tolerance: selections of an untrained model's near-tied scores
// may legitimately differ between kernels, these values may not.
struct RawOutputs {
  torch::Tensor rpn_logits;   // [N, H*W*A]
  torch::Tensor rpn_deltas;   // [N, H*W*A, 4]
  torch::Tensor rcnn_logits;  // [R, K + 1] for the given RoIs
  torch::Tensor rcnn_deltas;  // [R, 4K]
};

class ThunderNetImpl : public torch::nn::Module {
 public:
  explicit ThunderNetImpl(ThunderNetOptions options);

  LossTerms forward_train(const torch::Tensor& images, const std::vector<GroundTruth>& targets);
  // Detection through the plain modules in their current mode, without gradients: the reference the
  // inference executor (detection/inference/thundernet_executor.h, what every command runs) is
  // checked against.
  std::vector<ImageDetections> detect(const torch::Tensor& images);
  // detect()'s path up to the heads; rois [R, 5] (batch index, x1, y1, x2, y2 in input pixels) stand
  // in for the proposals.
  RawOutputs raw_outputs(const torch::Tensor& images, const torch::Tensor& rois);

  // Fine-tuning from pretrained weights: freeze the first `stages` backbone stages (1 = conv1, 2 = +
  // stage2 ...) and/or keep the backbone's BatchNorm in inference mode with frozen affine parameters.
  void freeze_backbone(int stages, bool batch_norm);
  void train(bool on = true) override;

  const ThunderNetOptions& options() const { return options_; }
  const vision::Backbone& backbone() const { return backbone_; }
  const ContextEnhancement& cem() const { return cem_; }
  const RegionProposal& rpn() const { return rpn_; }
  const SpatialAttention& sam() const { return sam_; }
  const RcnnHead& head() const { return head_; }

 private:
  struct Trunk {
    torch::Tensor sam;  // attended thin map for PSRoIAlign
    RpnOutput rpn;
  };
  Trunk trunk(const torch::Tensor& images);

  ThunderNetOptions options_;
  vision::Backbone backbone_;
  ContextEnhancement cem_{nullptr};
  RegionProposal rpn_{nullptr};
  SpatialAttention sam_{nullptr};
  RcnnHead head_{nullptr};
  bool freeze_bn_ = false;
};
TORCH_MODULE(ThunderNet);

// Per-image proposals [P_i, 4] as RoIs [sum P_i, 5]: (image index, x1, y1, x2, y2).
torch::Tensor with_batch_index(const std::vector<torch::Tensor>& proposals);

// The named models `cvtk train --model` accepts: thundernet-snet49, thundernet-snet146, thundernet-snet535,
// and thundernet-<any registered backbone with c4 and c5>.
std::vector<std::string> model_names();
ThunderNetOptions model_options(const std::string& name, int64_t num_classes);

}  // namespace cvtk::detection
