#include "detection/sam.h"

namespace cvtk::detection {

SpatialAttentionImpl::SpatialAttentionImpl(int64_t rpn_channels, int64_t cem_channels) {
  conv_ =
      register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(rpn_channels, cem_channels, 1).bias(false)));
  bn_ = register_module("bn", torch::nn::BatchNorm2d(cem_channels));
  torch::nn::init::normal_(conv_->weight, 0, 0.01);
}

torch::Tensor SpatialAttentionImpl::forward(const torch::Tensor& cem, const torch::Tensor& rpn) {
  if (folded_.defined() && !is_training()) {
    if (folded_.stale()) folded_ = vision::FoldedConv(conv_, bn_, false, channels_last_);
    return cem * folded_.forward(rpn).sigmoid_();
  }
  if (folded_.defined()) folded_.invalidate();  // running statistics move in training
  return cem * torch::sigmoid(bn_->forward(conv_->forward(rpn)));
}

int SpatialAttentionImpl::fold_for_inference(bool channels_last) {
  channels_last_ = channels_last;
  folded_ = vision::FoldedConv(conv_, bn_, false, channels_last);
  return 1;
}

}  // namespace cvtk::detection
