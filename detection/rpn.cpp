#include "detection/rpn.h"

#include "detection/nms.h"
#include "vision/kernels/pointwise_conv.h"
#include "vision/nn/macs.h"

#include <algorithm>
#include <tuple>

namespace cvtk::detection {

namespace nn = torch::nn;

RegionProposalImpl::RegionProposalImpl(int64_t in, const AnchorOptions& anchors, const RpnOptions& options)
    : options_(options), anchors_(anchors) {
  const int64_t c = options.channels, a = anchors_.anchors_per_location();
  trunk = register_module(
      "trunk", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, in, 5).padding(2).groups(in).bias(false)),
                              nn::BatchNorm2d(in), nn::ReLU(true), nn::Conv2d(nn::Conv2dOptions(in, c, 1).bias(false)),
                              nn::BatchNorm2d(c), nn::ReLU(true)));
  cls = register_module("cls", nn::Conv2d(nn::Conv2dOptions(c, a, 1)));
  box = register_module("box", nn::Conv2d(nn::Conv2dOptions(c, 4 * a, 1)));
  for (auto& p : named_parameters()) {
    if (p.key().find("weight") != std::string::npos && p.value().dim() == 4) nn::init::normal_(p.value(), 0, 0.01);
    if (p.key() == "cls.bias" || p.key() == "box.bias") nn::init::zeros_(p.value());
  }
}

RpnOutput RegionProposalImpl::forward(const torch::Tensor& cem) {
  RpnOutput out;
  out.features = vision::counted(trunk, cem);
  const int64_t n = cem.size(0), h = cem.size(2), w = cem.size(3), a = cls->weight.size(0);
  // Both 1x1 heads as one matrix product whose rows are locations (ATen's 1x1 convolution is several
  // times slower at these sizes, forward and backward): [N*H*W, A + 4A], location-major and
  // anchor-minor, the order of AnchorGenerator::grid (channels a * 4 + k of the box head are anchor
  // a's delta k).
  const auto y =
      vision::pointwise_conv2d(out.features, torch::cat({cls->weight, box->weight}), torch::cat({cls->bias, box->bias}))
          .permute({0, 2, 3, 1})
          .reshape({n, h * w, 5 * a});
  out.logits = y.narrow(2, 0, a).reshape({n, -1});
  out.deltas = y.narrow(2, a, 4 * a).reshape({n, -1, 4});
  out.anchors = anchors(h, w, cem.device());
  return out;
}

torch::Tensor RegionProposalImpl::anchors(int64_t height, int64_t width, torch::Device device) const {
  if (!anchors_cache_.defined() || anchors_cache_.device() != device || cached_grid_ != std::pair{height, width})
    anchors_cache_ = anchors_.grid(height, width, device), cached_grid_ = {height, width};
  return anchors_cache_;
}

namespace {

// The k highest scores of a 1-d float tensor and their indices, highest first, ties by lower index.
// ATen's topk took ~0.2 ms for 2000 of 10000 on 2 cores; a selection then a sort of the k winners
// takes a fraction of that.
std::tuple<torch::Tensor, torch::Tensor> top_k(const torch::Tensor& scores_in, int64_t k) {
  if (!(scores_in.device().is_cpu() && scores_in.scalar_type() == torch::kFloat && scores_in.dim() == 1)) {
    // Other devices and dtypes: a stable descending sort gives the same order (ties by lower index,
    // NaN first); topk leaves the order of ties to the device's kernel.
    auto [values, idx] = scores_in.sort(/*stable=*/true, /*dim=*/-1, /*descending=*/true);
    return {values.narrow(-1, 0, k), idx.narrow(-1, 0, k)};
  }
  const auto scores = scores_in.contiguous();
  const float* s = scores.data_ptr<float>();
  const int64_t n = scores.numel();
  auto idx = torch::empty({n}, torch::kInt64);
  int64_t* ix = idx.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) ix[i] = i;
  // NaN ranks above everything, as in topk.
  auto before = [s](int64_t a, int64_t b) {
    const float x = s[a], y = s[b];
    const bool x_nan = x != x, y_nan = y != y;
    if (x_nan || y_nan) return x_nan && y_nan ? a < b : x_nan;
    return x != y ? x > y : a < b;
  };
  if (k < n) std::nth_element(ix, ix + k, ix + n, before);
  std::sort(ix, ix + k, before);
  idx = idx.narrow(0, 0, k);
  return {scores.index_select(0, idx), idx};
}

}  // namespace

std::vector<torch::Tensor> RegionProposalImpl::proposals(const RpnOutput& out, double width, double height,
                                                         bool training) const {
  torch::NoGradGuard no_grad;
  const int64_t pre = training ? options_.pre_nms_train : options_.pre_nms_test;
  const int64_t post = training ? options_.post_nms_train : options_.post_nms_test;
  std::vector<torch::Tensor> result;
  const int64_t n = out.logits.size(0);
  for (int64_t i = 0; i < n; ++i) {
    auto scores = out.logits[i];
    const int64_t k = std::min<int64_t>(pre, scores.numel());
    auto [top, idx] = top_k(scores, k);
    auto boxes = coder_.decode(out.deltas[i].index_select(0, idx), out.anchors.index_select(0, idx));
    boxes = clip_boxes(boxes, width, height);
    auto keep = torch::nonzero(((boxes.select(1, 2) - boxes.select(1, 0)) >= options_.min_size) &
                               ((boxes.select(1, 3) - boxes.select(1, 1)) >= options_.min_size))
                    .view(-1);
    boxes = boxes.index_select(0, keep);
    top = top.index_select(0, keep);
    auto kept = nms(boxes, top, options_.nms_iou, post);
    result.push_back(boxes.index_select(0, kept).contiguous());
  }
  return result;
}

torch::Tensor smooth_l1_sum(const torch::Tensor& input, const torch::Tensor& target, double beta) {
  auto d = (input - target).abs();
  if (beta <= 0) return d.sum();
  return torch::where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta).sum();
}

RpnLosses RegionProposalImpl::loss(const RpnOutput& out, const std::vector<GroundTruth>& targets) const {
  std::vector<torch::Tensor> logits, labels, pred_deltas, target_deltas;
  int64_t sampled = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    torch::Tensor pos, neg;
    Match m;
    {
      torch::NoGradGuard no_grad;
      const auto& gt = targets[i].boxes;
      auto iou = gt.size(0) ? box_iou(gt, out.anchors) : torch::zeros({0, out.anchors.size(0)});
      m = match_boxes(iou, out.anchors.size(0), options_.match);
      std::tie(pos, neg) = sample_balanced(m.index, options_.batch_per_image, options_.positive_fraction,
                                           sampling_generator(targets[i].sampling_seed, 0));
    }
    auto l = out.logits[int64_t(i)];
    logits.push_back(l.index_select(0, pos));
    logits.push_back(l.index_select(0, neg));
    labels.push_back(torch::ones({pos.numel()}));
    labels.push_back(torch::zeros({neg.numel()}));
    sampled += pos.numel() + neg.numel();
    if (pos.numel()) {
      torch::NoGradGuard no_grad;
      auto matched = targets[i].boxes.index_select(0, m.index.index_select(0, pos));
      target_deltas.push_back(coder_.encode(matched, out.anchors.index_select(0, pos)));
    }
    if (pos.numel()) pred_deltas.push_back(out.deltas[int64_t(i)].index_select(0, pos));
  }
  RpnLosses losses;
  const double denom = std::max<int64_t>(sampled, 1);
  losses.objectness =
      torch::binary_cross_entropy_with_logits(torch::cat(logits), torch::cat(labels), {}, {}, at::Reduction::Sum) /
      denom;
  losses.box = pred_deltas.empty()
                   ? out.deltas.sum() * 0
                   : smooth_l1_sum(torch::cat(pred_deltas), torch::cat(target_deltas), options_.box_loss_beta) / denom;
  return losses;
}

}  // namespace cvtk::detection
