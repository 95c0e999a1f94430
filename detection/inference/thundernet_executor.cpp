#include "detection/inference/thundernet_executor.h"

#include <ATen/record_function.h>

#include "vision/kernels/channel_concat.h"
#include "vision/kernels/pointwise_conv.h"
#include "vision/nn/macs.h"

namespace cvtk::detection {

namespace F = torch::nn::functional;

ThunderNetExecutor::ThunderNetExecutor(ThunderNet model) : model_(std::move(model)) {
  TORCH_CHECK(model_, "ThunderNetExecutor: no model");
  rebuild();
}

void ThunderNetExecutor::rebuild() {
  torch::NoGradGuard no_grad;
  if (backbone_)
    backbone_->rebuild();
  else
    backbone_ = vision::optimize_for_inference(model_->backbone());
  const auto& rpn = *model_->rpn();
  rpn_trunk_ = vision::FoldedSequential(rpn.trunk);
  rpn_heads_ = vision::stack_layers(rpn.cls->weight, rpn.cls->bias, rpn.box->weight, rpn.box->bias);
  const auto& sam = *model_->sam();
  sam_ = vision::FoldedConv(*sam.conv, *sam.bn, /*relu=*/false);
  const auto& head = *model_->head();
  rcnn_heads_ = vision::stack_layers(head.cls->weight, head.cls->bias, head.box->weight, head.box->bias);
  const auto& cem = *model_->cem();
  cem_c5_bias_ = cem.c5_lat->bias + cem.c4_lat->bias;
  sources_.take(vision::module_tensors(*model_));
}

void ThunderNetExecutor::refresh() {
  if (sources_.changed()) rebuild();
}

torch::Tensor ThunderNetExecutor::context(const torch::Tensor& c4, const torch::Tensor& c5) const {
  auto& cem = *model_->cem();
  const auto glb = vision::pointwise_conv2d(c5.mean({2, 3}, true), cem.c_glb->weight, cem.c_glb->bias);
  const auto size =
      F::InterpolateFuncOptions().size(std::vector<int64_t>{c4.size(2), c4.size(3)}).mode(torch::kNearest);
  if (!(vision::pixel_rows(c4) && vision::pixel_rows(c5) && c4.is_contiguous(torch::MemoryFormat::ChannelsLast))) {
    return vision::pointwise_conv2d(c4, cem.c4_lat->weight, cem.c4_lat->bias) +
           F::interpolate(vision::pointwise_conv2d(c5, cem.c5_lat->weight, cem.c5_lat->bias), size) + glb;
  }
  // The same sum with one pass over the output instead of four: the biases and the global branch go
  // into C5's lateral before upsampling (a quarter of the pixels), and C4's lateral product
  // accumulates straight into the upsampled map.
  const int64_t n = c4.size(0), h = c4.size(2), w = c4.size(3), out = cem.c4_lat->weight.size(0);
  auto c5_lat = vision::pointwise_conv2d(c5, cem.c5_lat->weight, cem_c5_bias_);
  c5_lat += glb;
  auto sum = F::interpolate(c5_lat, size).contiguous(torch::MemoryFormat::ChannelsLast);
  sum.as_strided({n * h * w, out}, {out, 1})
      .addmm_(c4.as_strided({n * h * w, c4.size(1)}, {c4.size(1), 1}), cem.c4_lat->weight.view({out, -1}).t());
  vision::MacCounter::add(n * h * w * out * c4.size(1));
  return sum;
}

ThunderNetExecutor::Trunk ThunderNetExecutor::trunk(const torch::Tensor& images) {
  vision::FeatureMaps maps;
  {
    RECORD_FUNCTION("thundernet::backbone", std::vector<c10::IValue>());
    maps = backbone_->features(images);
  }
  torch::Tensor cem;
  {
    RECORD_FUNCTION("thundernet::cem", std::vector<c10::IValue>());
    cem = context(vision::BackboneImpl::pick(maps, "c4"), vision::BackboneImpl::pick(maps, "c5"));
  }
  Trunk t;
  {
    RECORD_FUNCTION("thundernet::rpn", std::vector<c10::IValue>());
    t.rpn.features = rpn_trunk_.forward(cem);
    const int64_t n = cem.size(0), h = cem.size(2), w = cem.size(3), a = rpn_heads_.split;
    // Both 1x1 heads as one matrix product whose rows are locations: [N*H*W, A + 4A] is already
    // location-major, anchor-minor (AnchorGenerator::grid's order), so no permuted copy is needed.
    const auto y = vision::pointwise_conv2d(t.rpn.features, rpn_heads_.weight, rpn_heads_.bias)
                       .permute({0, 2, 3, 1})
                       .reshape({n, h * w, 5 * a});
    t.rpn.logits = y.narrow(2, 0, a).reshape({n, -1});
    t.rpn.deltas = y.narrow(2, a, 4 * a).reshape({n, -1, 4});
    t.rpn.anchors = model_->rpn()->anchors(h, w, cem.device());
  }
  RECORD_FUNCTION("thundernet::sam", std::vector<c10::IValue>());
  t.sam = cem * sam_.forward(t.rpn.features).sigmoid_();
  return t;
}

RcnnOutput ThunderNetExecutor::head(const torch::Tensor& pooled) const {
  RcnnHead module = model_->head();  // a holder of the same module, callable
  const auto x = module->shared->forward(pooled.flatten(1));
  // One product instead of two: about 0.1 ms of 1.5 at 200 RoIs on 2 threads.
  const auto y = torch::addmm(rcnn_heads_.bias, x, rcnn_heads_.weight.t());
  const int64_t k = rcnn_heads_.split;
  vision::MacCounter::add(y.numel() * x.size(1));
  return {y.narrow(1, 0, k), y.narrow(1, k, y.size(1) - k).contiguous()};
}

std::vector<ImageDetections> ThunderNetExecutor::detect(const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  refresh();
  auto t = trunk(images);
  const double w = double(images.size(3)), h = double(images.size(2));
  std::vector<torch::Tensor> proposals;
  {
    RECORD_FUNCTION("thundernet::proposals", std::vector<c10::IValue>());
    proposals = model_->rpn()->proposals(t.rpn, w, h, false);
  }
  const auto rois = with_batch_index(proposals);
  torch::Tensor pooled;
  {
    RECORD_FUNCTION("thundernet::ps_roi_align", std::vector<c10::IValue>());
    pooled = ps_roi_align(t.sam, rois, options().roi_align);
  }
  RcnnOutput out;
  {
    RECORD_FUNCTION("thundernet::rcnn_head", std::vector<c10::IValue>());
    out = head(pooled);
  }
  RECORD_FUNCTION("thundernet::postprocess", std::vector<c10::IValue>());
  return model_->head()->postprocess(out, rois, images.size(0), w, h);
}

RawOutputs ThunderNetExecutor::raw_outputs(const torch::Tensor& images, const torch::Tensor& rois) {
  torch::NoGradGuard no_grad;
  refresh();
  auto t = trunk(images);
  auto out = head(ps_roi_align(t.sam, rois.to(images.device()), options().roi_align));
  return {t.rpn.logits, t.rpn.deltas, out.logits, out.deltas};
}

ThunderNetExecutor optimize_for_inference(ThunderNet model) { return ThunderNetExecutor(std::move(model)); }

}  // namespace cvtk::detection
