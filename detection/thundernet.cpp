#include "detection/thundernet.h"

#include <stdexcept>

#include "vision/backbones/registry.h"

namespace cvtk::detection {

ThunderNetImpl::ThunderNetImpl(ThunderNetOptions options) : options_(std::move(options)) {
  vision::BackboneOptions bo;
  bo.with_classifier = false;
  bo.aux_logits = false;
  backbone_ = vision::create_backbone(options_.backbone, bo);
  register_module("backbone", backbone_);
  int64_t c4 = -1, c5 = -1;
  for (const auto& f : backbone_->feature_specs()) {
    if (f.name == "c4") c4 = f.channels;
    if (f.name == "c5") c5 = f.channels;
  }
  if (c4 < 0 || c5 < 0)
    throw std::invalid_argument("ThunderNet: backbone '" + options_.backbone + "' has no c4/c5 maps");
  const int64_t thin = options_.pooled_channels * options_.pooled_size * options_.pooled_size;
  options_.roi_align.pooled_size = int(options_.pooled_size);
  options_.roi_align.output_channels = int(options_.pooled_channels);
  options_.roi_align.spatial_scale = 1.0 / options_.anchors.stride;
  cem_ = register_module("cem", ContextEnhancement(c4, c5, thin));
  rpn_ = register_module("rpn", RegionProposal(thin, options_.anchors, options_.rpn));
  sam_ = register_module("sam", SpatialAttention(options_.rpn.channels, thin));
  head_ = register_module("rcnn", RcnnHead(thin, options_.num_classes, options_.rcnn));
}

ThunderNetImpl::Trunk ThunderNetImpl::trunk(const torch::Tensor& images) {
  const auto maps = backbone_->features(images);
  const auto cem = cem_->forward(vision::BackboneImpl::pick(maps, "c4"), vision::BackboneImpl::pick(maps, "c5"));
  Trunk t;
  t.rpn = rpn_->forward(cem);
  t.sam = sam_->forward(cem, t.rpn.features);
  return t;
}

LossTerms ThunderNetImpl::forward_train(const torch::Tensor& images, const std::vector<GroundTruth>& targets) {
  TORCH_CHECK(int64_t(targets.size()) == images.size(0), "ThunderNet: ", targets.size(), " targets for a batch of ",
              images.size(0));
  auto t = trunk(images);
  const double w = double(images.size(3)), h = double(images.size(2));
  auto proposals = rpn_->proposals(t.rpn, w, h, true);
  auto rois = head_->select_training_rois(proposals, targets);
  auto pooled = ps_roi_align(t.sam, rois.rois.to(images.device()), options_.roi_align);
  auto out = head_->forward(pooled);
  auto rpn_losses = rpn_->loss(t.rpn, targets);
  auto head_losses = head_->loss(out, rois);
  LossTerms l;
  l.rpn_objectness = rpn_losses.objectness;
  l.rpn_box = rpn_losses.box;
  l.rcnn_classification = head_losses.classification;
  l.rcnn_box = head_losses.box;
  l.foreground_rois = rois.foreground;
  return l;
}

torch::Tensor with_batch_index(const std::vector<torch::Tensor>& proposals) {
  std::vector<torch::Tensor> rois;
  for (size_t i = 0; i < proposals.size(); ++i)
    rois.push_back(
        torch::cat({torch::full({proposals[i].size(0), 1}, float(i), proposals[i].options()), proposals[i]}, 1));
  return torch::cat(rois);
}

std::vector<ImageDetections> ThunderNetImpl::detect(const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  auto t = trunk(images);
  const double w = double(images.size(3)), h = double(images.size(2));
  const auto rois = with_batch_index(rpn_->proposals(t.rpn, w, h, false));
  auto out = head_->forward(ps_roi_align(t.sam, rois, options_.roi_align));
  return head_->postprocess(out, rois, images.size(0), w, h);
}

RawOutputs ThunderNetImpl::raw_outputs(const torch::Tensor& images, const torch::Tensor& rois) {
  torch::NoGradGuard no_grad;
  auto t = trunk(images);
  auto out = head_->forward(ps_roi_align(t.sam, rois.to(images.device()), options_.roi_align));
  return {t.rpn.logits, t.rpn.deltas, out.logits, out.deltas};
}

void ThunderNetImpl::freeze_backbone(int stages, bool batch_norm) {
  static const std::vector<std::vector<std::string>> prefixes = {{"conv1"}, {"stage2"}, {"stage3"}, {"stage4"}};
  for (auto& p : backbone_->named_parameters()) {
    for (int s = 0; s < stages && s < int(prefixes.size()); ++s)
      for (const auto& pre : prefixes[s])
        if (p.key().rfind(pre, 0) == 0) p.value().set_requires_grad(false);
  }
  freeze_bn_ = batch_norm;
  if (batch_norm) {
    for (auto& m : backbone_->modules(false))
      if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get()))
        for (auto& p : bn->parameters()) p.set_requires_grad(false);
  }
  train(is_training());
}

void ThunderNetImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (on && freeze_bn_)
    for (auto& m : backbone_->modules(false))
      if (dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) m->eval();
}

std::vector<std::string> model_names() { return {"thundernet-snet49", "thundernet-snet146", "thundernet-snet535"}; }

ThunderNetOptions model_options(const std::string& name, int64_t num_classes) {
  const std::string prefix = "thundernet-";
  if (name.rfind(prefix, 0) != 0) {
    std::string list;
    for (const auto& n : model_names()) list += " " + n;
    throw std::invalid_argument("unknown model '" + name + "'; known:" + list + " (or thundernet-<backbone>)");
  }
  ThunderNetOptions o;
  o.backbone = name.substr(prefix.size());
  o.num_classes = num_classes;
  return o;
}

}  // namespace cvtk::detection
