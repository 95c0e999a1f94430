#pragma once
// ThunderNet's compressed Region Proposal Network (§3.2 of the paper, models.md §1.4).
//
// Trunk: 5x5 depthwise conv on the CEM map -> BN -> ReLU -> 1x1 conv to 256 -> BN -> ReLU (the SAM reads
// this tensor too). Heads: 1x1 conv to A objectness logits (sigmoid, as the authors' code) and to 4A box
// deltas, A = anchors per cell (25). All RPN convs start from N(0, 0.01).
//
// Proposals are decoded from the anchors (BoxCoder weights 1,1,1,1), clipped to the input image, tiny
// ones dropped, the top pre_nms by objectness kept, NMS at 0.7, then the top post_nms. They are detached:
// the R-CNN loss does not flow back through box coordinates.
#include <torch/torch.h>

#include <vector>

#include "detection/anchors.h"
#include "detection/box_coder.h"
#include "detection/ground_truth.h"
#include "detection/matcher.h"

namespace cvtk::detection {

struct RpnOptions {
  int64_t channels = 256;
  MatcherOptions match{0.7, 0.3, true};
  int64_t batch_per_image = 256;
  double positive_fraction = 0.5;
  int64_t pre_nms_train = 2000, post_nms_train = 1000;  // authors' code: 2000 -> 1000 in training
  int64_t pre_nms_test = 2000, post_nms_test = 200;     // paper and authors' code: 200 RoIs at test
  double nms_iou = 0.7;
  double min_size = 1e-3;          // pixels; proposals narrower or shorter are dropped
  double box_loss_beta = 1.0 / 9;  // smooth-L1 transition point
};

struct RpnOutput {
  torch::Tensor features;  // [N, channels, H, W], the trunk output (SAM input)
  torch::Tensor logits;    // [N, H*W*A]
  torch::Tensor deltas;    // [N, H*W*A, 4]
  torch::Tensor anchors;   // [H*W*A, 4]; kept by the module between calls of one map size: read only
};

struct RpnLosses {
  torch::Tensor objectness;  // mean binary cross-entropy over sampled anchors
  torch::Tensor box;         // smooth-L1 over positive anchors, divided by the number sampled
};

class RegionProposalImpl : public torch::nn::Module {
 public:
  RegionProposalImpl(int64_t in_channels, const AnchorOptions& anchors, const RpnOptions& options);
  RpnOutput forward(const torch::Tensor& cem);
  // Per image [P, 4] proposals in input pixels (detached), at most post_nms of them.
  std::vector<torch::Tensor> proposals(const RpnOutput& out, double image_width, double image_height,
                                       bool training) const;
  RpnLosses loss(const RpnOutput& out, const std::vector<GroundTruth>& targets) const;
  const RpnOptions& options() const { return options_; }
  int64_t anchors_per_location() const { return anchors_.anchors_per_location(); }
  // [H*W*A, 4] anchors of an H x W map, kept between calls of one map size and device: read only.
  torch::Tensor anchors(int64_t height, int64_t width, torch::Device device) const;

  torch::nn::Sequential trunk{nullptr};
  torch::nn::Conv2d cls{nullptr}, box{nullptr};

 private:
  RpnOptions options_;
  AnchorGenerator anchors_;
  BoxCoder coder_;
  mutable torch::Tensor anchors_cache_;
  mutable std::pair<int64_t, int64_t> cached_grid_{-1, -1};  // (H, W) of anchors_cache_
};
TORCH_MODULE(RegionProposal);

// Smooth-L1 summed over all elements (beta = 0 gives L1).
torch::Tensor smooth_l1_sum(const torch::Tensor& input, const torch::Tensor& target, double beta);

}  // namespace cvtk::detection
