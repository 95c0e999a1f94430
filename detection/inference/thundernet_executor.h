#pragma once
// ThunderNet's eval-only executor: what `cvtk predict`, `cvtk eval --weights`, validation during
// training and cvtk::Detector run. Built from a trained ThunderNet (thundernet.h, the plain definition
// that trains) by optimize_for_inference; the detections equal the model's own detect() in eval mode
// up to float rounding (and the selections rounding can move: top-k, NMS and thresholds on near-tied
// scores), as RawOutputs checks before any selection.
//
// What it runs: the backbone's executor (vision/inference/backbone_executor.h); the Context
// Enhancement Module in one pass over its output (C5's lateral, with both biases and the global branch,
// upsampled, then C4's lateral product accumulated into it); the RPN trunk with its BatchNorms folded
// and its objectness and box heads stacked into one matrix product; the SAM's BatchNorm folded; the
// R-CNN head's class and box layers stacked. Proposals, PSRoIAlign and post-processing are the model's.
//
// Rules, as for backbone executors: eval semantics whatever the model's mode; detect() and
// raw_outputs() run without autograd whatever the caller's grad mode (detections are not
// differentiable; train with the model); built from the weights as they are, rebuilt on the next call
// after a parameter or buffer is moved or changed in place by a tensor operation, and by rebuild(),
// which training steps need (they leave no trace the executor could see). The model is
// shared and never modified. One call at a time per executor.
#include <memory>
#include <vector>

#include "detection/thundernet.h"
#include "vision/inference/backbone_executor.h"
#include "vision/inference/folding.h"

namespace cvtk::detection {

class ThunderNetExecutor {
 public:
  explicit ThunderNetExecutor(ThunderNet model);
  // images [N, 3, H, W] normalised float; boxes in the input tensor's pixels (as ThunderNet::detect).
  std::vector<ImageDetections> detect(const torch::Tensor& images);
  // The dense outputs before any selection, for the given RoIs [R, 5] (see thundernet.h RawOutputs).
  RawOutputs raw_outputs(const torch::Tensor& images, const torch::Tensor& rois);
  void rebuild();
  const ThunderNet& model() const { return model_; }
  const ThunderNetOptions& options() const { return model_->options(); }

 private:
  struct Trunk {
    torch::Tensor sam;  // attended thin map for PSRoIAlign
    RpnOutput rpn;
  };
  Trunk trunk(const torch::Tensor& images);
  torch::Tensor context(const torch::Tensor& c4, const torch::Tensor& c5) const;
  RcnnOutput head(const torch::Tensor& pooled) const;
  void refresh();

  ThunderNet model_;
  std::unique_ptr<vision::BackboneExecutor> backbone_;
  vision::FoldedSequential rpn_trunk_;
  vision::StackedLayers rpn_heads_, rcnn_heads_;
  vision::FoldedConv sam_;
  torch::Tensor cem_c5_bias_;  // C5's lateral bias plus C4's: both go in before upsampling
  vision::TensorSnapshot sources_;
};

ThunderNetExecutor optimize_for_inference(ThunderNet model);

}  // namespace cvtk::detection
