#include "detection/rcnn_head.h"

#include "detection/nms.h"
#include "detection/rpn.h"
#include "vision/nn/macs.h"

namespace cvtk::detection {

namespace nn = torch::nn;

RcnnHeadImpl::RcnnHeadImpl(int64_t in, int64_t num_classes, const RcnnOptions& options)
    : options_(options), num_classes_(num_classes), coder_(options.box_weights) {
  if (num_classes < 1) throw std::invalid_argument("R-CNN head: need at least one class");
  if (options.num_fc < 1 || options.num_fc > 2) throw std::invalid_argument("R-CNN head: num_fc must be 1 or 2");
  shared = register_module("shared", nn::Sequential());
  int64_t c = in;
  for (int i = 0; i < options.num_fc; ++i) {
    nn::Linear fc(c, options.fc_channels);
    nn::init::xavier_uniform_(fc->weight);
    nn::init::zeros_(fc->bias);
    shared->push_back(fc);
    shared->push_back(nn::ReLU(true));
    c = options.fc_channels;
  }
  cls = register_module("cls", nn::Linear(c, num_classes + 1));
  box = register_module("box", nn::Linear(c, 4 * num_classes));
  nn::init::normal_(cls->weight, 0, 0.01);
  nn::init::normal_(box->weight, 0, 0.001);
  nn::init::zeros_(cls->bias);
  nn::init::zeros_(box->bias);
}

RcnnOutput RcnnHeadImpl::forward(const torch::Tensor& pooled) {
  auto x = vision::counted(shared, pooled.flatten(1));
  return {vision::counted(cls, x), vision::counted(box, x)};
}

RoiTargets RcnnHeadImpl::select_training_rois(const std::vector<torch::Tensor>& proposals,
                                              const std::vector<GroundTruth>& targets) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> rois, labels, deltas;
  RoiTargets t;
  for (size_t i = 0; i < proposals.size(); ++i) {
    const auto& gt = targets[i];
    auto boxes = options_.add_ground_truth && gt.boxes.size(0) ? torch::cat({proposals[i], gt.boxes}) : proposals[i];
    auto iou = gt.boxes.size(0) ? box_iou(gt.boxes, boxes) : torch::zeros({0, boxes.size(0)});
    auto m = match_boxes(iou, boxes.size(0), options_.match);
    auto [pos, neg] = sample_balanced(m.index, options_.batch_per_image, options_.positive_fraction,
                                      sampling_generator(gt.sampling_seed, 1));
    auto chosen = torch::cat({pos, neg});
    auto chosen_boxes = boxes.index_select(0, chosen);
    auto l = torch::zeros({chosen.numel()}, torch::kInt64);
    auto d = torch::zeros({chosen.numel(), 4});
    if (pos.numel()) {
      auto g = m.index.index_select(0, pos);
      l.narrow(0, 0, pos.numel()).copy_(gt.labels.index_select(0, g) + 1);
      d.narrow(0, 0, pos.numel())
          .copy_(coder_.encode(gt.boxes.index_select(0, g), chosen_boxes.narrow(0, 0, pos.numel())));
    }
    rois.push_back(torch::cat({torch::full({chosen.numel(), 1}, float(i)), chosen_boxes}, 1));
    labels.push_back(l);
    deltas.push_back(d);
    t.foreground += pos.numel();
  }
  t.rois = torch::cat(rois);
  t.labels = torch::cat(labels);
  t.deltas = torch::cat(deltas);
  return t;
}

RcnnLosses RcnnHeadImpl::loss(const RcnnOutput& out, const RoiTargets& t) const {
  RcnnLosses l;
  l.classification = torch::cross_entropy_loss(out.logits, t.labels);
  auto fg = torch::nonzero(t.labels > 0).view(-1);
  if (fg.numel() == 0) {
    l.box = out.deltas.sum() * 0;
    return l;
  }
  auto cls = t.labels.index_select(0, fg) - 1;
  auto pred = out.deltas.index_select(0, fg).view({-1, num_classes_, 4});
  pred = pred.gather(1, cls.view({-1, 1, 1}).expand({-1, 1, 4})).squeeze(1);
  l.box = smooth_l1_sum(pred, t.deltas.index_select(0, fg), options_.box_loss_beta) /
          double(std::max<int64_t>(t.labels.numel(), 1));
  return l;
}

std::vector<ImageDetections> RcnnHeadImpl::postprocess(const RcnnOutput& out, const torch::Tensor& rois, int64_t batch,
                                                       double width, double height) const {
  torch::NoGradGuard no_grad;
  auto probs = torch::softmax(out.logits, 1);
  auto boxes = clip_boxes(coder_.decode(out.deltas, rois.narrow(1, 1, 4)), width, height);  // [R, 4K]
  auto batch_index = rois.select(1, 0).to(torch::kInt64);
  std::vector<ImageDetections> result;
  for (int64_t b = 0; b < batch; ++b) {
    auto sel = torch::nonzero(batch_index == b).view(-1);
    auto s = probs.index_select(0, sel).narrow(1, 1, num_classes_);    // [r, K]
    auto bx = boxes.index_select(0, sel).view({-1, num_classes_, 4});  // [r, K, 4]
    auto flat_scores = s.reshape({-1});
    auto keep = torch::nonzero(flat_scores >= options_.score_threshold).view(-1);
    auto sc = flat_scores.index_select(0, keep);
    auto lb = keep.remainder(num_classes_);
    auto bb = bx.reshape({-1, 4}).index_select(0, keep);
    auto valid = torch::nonzero((bb.select(1, 2) > bb.select(1, 0)) & (bb.select(1, 3) > bb.select(1, 1))).view(-1);
    sc = sc.index_select(0, valid), lb = lb.index_select(0, valid), bb = bb.index_select(0, valid);
    torch::Tensor kept_idx, kept_scores;
    if (options_.soft_nms) {
      auto r = batched_soft_nms(bb, sc, lb, options_.nms_iou, 0.5, options_.score_threshold);
      kept_idx = r.keep;
      kept_scores = r.scores;
    } else {
      kept_idx = batched_nms(bb, sc, lb, options_.nms_iou);
      kept_scores = sc.index_select(0, kept_idx);
    }
    if (kept_idx.numel() > options_.max_detections) {
      kept_idx = kept_idx.narrow(0, 0, options_.max_detections);
      kept_scores = kept_scores.narrow(0, 0, options_.max_detections);
    }
    result.push_back({bb.index_select(0, kept_idx), kept_scores, lb.index_select(0, kept_idx)});
  }
  return result;
}

}  // namespace cvtk::detection
