#include "vision/nn/layers.h"

#include "vision/nn/channel_concat.h"
#include "vision/nn/depthwise_conv.h"
#include "vision/nn/macs.h"
#include "vision/nn/tracked.h"

namespace cvtk::vision {

void TensorVersions::track(std::vector<torch::Tensor> tensors) {
  tensors_ = std::move(tensors);
  versions_.clear();
  for (const auto& t : tensors_) versions_.push_back(t.defined() ? t._version() : 0);
}

bool TensorVersions::changed() const {
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].defined() && tensors_[i]._version() != versions_[i]) return true;
  return false;
}

std::pair<torch::Tensor, torch::Tensor> StackedLayers::get(const torch::Tensor& weight_a, const torch::Tensor& bias_a,
                                                           const torch::Tensor& weight_b, const torch::Tensor& bias_b) {
  const std::vector<torch::Tensor> now = {weight_a, bias_a, weight_b, bias_b};
  // Module::to() swaps a parameter's data in place without a version bump: compare device and dtype too.
  bool same = weight_.defined() && !versions_.changed() && weight_.device() == weight_a.device() &&
              weight_.scalar_type() == weight_a.scalar_type();
  for (size_t i = 0; same && i < now.size(); ++i)
    same = now[i].unsafeGetTensorImpl() == sources_[i].unsafeGetTensorImpl();
  if (!same) {
    torch::NoGradGuard no_grad;
    weight_ = torch::cat({weight_a, weight_b});
    bias_ = torch::cat({bias_a, bias_b});
    sources_ = now;
    versions_.track(now);
  }
  return {weight_, bias_};
}

FoldedConv::FoldedConv(const torch::nn::Conv2d& conv, const torch::nn::BatchNorm2d& bn, bool relu, bool channels_last)
    : conv_(conv), bn_(bn), relu_(relu) {
  TORCH_CHECK(c10::holds_alternative<torch::ExpandingArray<2>>(conv->options.padding()) &&
                  c10::holds_alternative<torch::enumtype::kZeros>(conv->options.padding_mode()),
              "FoldedConv: only explicit zero padding is supported");
  TORCH_CHECK(bn->options.affine() && bn->options.track_running_stats(),
              "FoldedConv: the BatchNorm needs affine parameters and running statistics");
  torch::NoGradGuard no_grad;
  const auto scale = bn->weight / torch::sqrt(bn->running_var + bn->options.eps());
  weight_ = conv->weight * scale.view({-1, 1, 1, 1});
  weight_ = weight_.contiguous(channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous);
  bias_ =
      conv->bias.defined() ? bn->bias + (conv->bias - bn->running_mean) * scale : bn->bias - bn->running_mean * scale;
  const auto one = torch::ExpandingArray<2>(1), zero = torch::ExpandingArray<2>(0);
  pointwise_ = channels_last && conv->weight.size(2) == 1 && conv->weight.size(3) == 1 && conv->options.groups() == 1 &&
               *conv->options.stride() == *one && *conv->options.dilation() == *one &&
               *c10::get<torch::ExpandingArray<2>>(conv->options.padding()) == *zero;
  const auto k = conv->weight.size(2);
  const auto stride = *conv->options.stride(), pad = *c10::get<torch::ExpandingArray<2>>(conv->options.padding());
  depthwise_ = channels_last && conv->options.groups() == conv->options.in_channels() &&
               conv->options.out_channels() == conv->options.in_channels() && conv->weight.size(3) == k &&
               stride[0] == stride[1] && pad[0] == pad[1] && *conv->options.dilation() == *one;
  if (depthwise_) taps_ = depthwise_taps(weight_);
  sources_.track({conv->weight, conv->bias, bn->weight, bn->bias, bn->running_mean, bn->running_var});
}

torch::Tensor pointwise_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  TORCH_CHECK(
      x.dim() == 4 && weight.dim() == 4 && weight.size(2) == 1 && weight.size(3) == 1 && weight.size(1) == x.size(1),
      "pointwise_conv2d: expected x [N, C, H, W] and weight [O, C, 1, 1], got ", x.sizes(), " and ", weight.sizes());
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), out = weight.size(0);
  // At batch 1 on small maps these convolutions take tens of microseconds each, so the views are made
  // with one as_strided each instead of permute/reshape/t chains (a few microseconds per op).
  // Under autograd the ordinary view ops are kept: as_strided's backward is generic and slow.
  const bool autograd = tracked({x, weight, bias});
  int64_t pixel_stride = 0;
  const torch::Tensor rows = !autograd && pixel_rows(x, &pixel_stride)
                                 ? x.as_strided({n * h * w, c}, {pixel_stride, 1})
                                 : x.permute({0, 2, 3, 1}).reshape({n * h * w, c});
  const torch::Tensor wt =
      !autograd && weight.is_contiguous() ? weight.as_strided({c, out}, {1, c}) : weight.reshape({out, c}).t();
  torch::Tensor y = bias.defined() ? torch::addmm(bias, rows, wt) : torch::mm(rows, wt);
  MacCounter::add(y.numel() * c);
  if (autograd) return y.view({n, h, w, out}).permute({0, 3, 1, 2});
  return y.as_strided({n, out, h, w}, {h * w * out, 1, w * out, out});
}

torch::Tensor PendingMap::finish() const {
  if (!bias.defined() && !relu) return value;
  torch::Tensor y = bias.defined() ? value + bias.view({1, -1, 1, 1}) : value.clone();
  return relu ? y.relu_() : y;
}

torch::Tensor FoldedConv::forward(const torch::Tensor& x) const {
  // A 1x1 layer finishing here adds its bias inside the product (addmm) rather than in a pass after it.
  if (pointwise_ && x.dim() == 4) {
    torch::Tensor y = pointwise_conv2d(x, weight_, bias_);
    return relu_ ? y.relu_() : y;
  }
  return forward(PendingMap{x, {}, false}).finish();
}

PendingMap FoldedConv::forward(const PendingMap& x) const {
  const auto& o = conv_->options;
  if (depthwise_ && depthwise_fast_path(x.value)) {
    torch::Tensor y = depthwise_conv2d(x.value, taps_, bias_, weight_.size(2), (*o.stride())[0],
                                       (*c10::get<torch::ExpandingArray<2>>(o.padding()))[0], x.bias, x.relu, relu_);
    MacCounter::add(y.numel() * weight_.size(2) * weight_.size(3));
    return {y, {}, false};
  }
  const torch::Tensor in = x.finish();
  if (pointwise_ && in.dim() == 4) return {pointwise_conv2d(in, weight_, {}), bias_, relu_};
  torch::Tensor y = torch::conv2d(in, weight_, bias_, *o.stride(), *c10::get<torch::ExpandingArray<2>>(o.padding()),
                                  *o.dilation(), o.groups());
  MacCounter::add(y.numel() * weight_.size(1) * weight_.size(2) * weight_.size(3));
  return {relu_ ? y.relu_() : y, {}, false};
}

FoldedSequential::FoldedSequential(const torch::nn::Sequential& seq, bool channels_last)
    : seq_(seq), channels_last_(channels_last) {
  const auto children = seq->children();
  for (size_t i = 0; i < seq->size(); ++i) {
    auto conv = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(children[i]);
    auto bn = i + 1 < seq->size() ? std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(children[i + 1]) : nullptr;
    if (conv && bn) {
      const bool relu = i + 2 < seq->size() && std::dynamic_pointer_cast<torch::nn::ReLUImpl>(children[i + 2]);
      convs_.emplace_back(torch::nn::Conv2d(conv), torch::nn::BatchNorm2d(bn), relu, channels_last);
      plain_.emplace_back();
      i += relu ? 2 : 1;
    } else {
      convs_.emplace_back();
      plain_.push_back(*(seq->begin() + i));
    }
  }
}

int FoldedSequential::folded() const {
  int n = 0;
  for (const auto& c : convs_) n += c.defined();
  return n;
}

void FoldedSequential::invalidate() {
  for (auto& c : convs_) c.invalidate();
}

void FoldedSequential::refresh() {
  for (auto& c : convs_)
    if (c.stale()) {
      *this = FoldedSequential(seq_, channels_last_);
      return;
    }
}

torch::Tensor FoldedSequential::forward(torch::Tensor x) {
  refresh();
  for (size_t i = 0; i < convs_.size(); ++i) x = convs_[i].defined() ? convs_[i].forward(x) : plain_[i].forward(x);
  return x;
}

torch::Tensor forward_folded(torch::nn::Sequential& seq, FoldedSequential& folded, bool training,
                             const torch::Tensor& x) {
  if (folded.defined() && !training && !tracked(*seq, x)) return folded.forward(x);
  if (folded.defined()) folded.invalidate();
  return counted(seq, x);
}

ConvBnReluImpl::ConvBnReluImpl(const ConvBnReluOptions& o) : options_(o) {
  conv = register_module(
      "conv", torch::nn::Conv2d(
                  torch::nn::Conv2dOptions(o.in, o.out, o.kernel).stride(o.stride).padding(o.padding).bias(false)));
  bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(o.out).eps(o.bn_eps)));
}

torch::Tensor ConvBnReluImpl::forward(const torch::Tensor& x) {
  if (folded_.defined() && !is_training() && !tracked(*this, x)) {
    if (folded_.stale()) fold_for_inference(channels_last_);
    return folded_.forward(x);
  }
  if (folded_.defined() && is_training()) folded_.invalidate();
  return bn->forward(counted(conv, x)).relu_();
}

int ConvBnReluImpl::fold_for_inference(bool channels_last) {
  channels_last_ = channels_last;
  folded_ = FoldedConv(conv, bn, /*relu=*/true, channels_last);
  return 1;
}

int fuse_for_inference(torch::nn::Module& module, bool channels_last) {
  int n = 0;
  if (auto* f = dynamic_cast<InferenceFoldable*>(&module)) n += f->fold_for_inference(channels_last);
  for (auto& m : module.modules(/*include_self=*/false))
    if (auto* f = dynamic_cast<InferenceFoldable*>(m.get())) n += f->fold_for_inference(channels_last);
  return n;
}

torch::Tensor channel_shuffle(const torch::Tensor& x, int64_t groups) {
  const auto n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  TORCH_CHECK(c % groups == 0, "channel_shuffle: ", c, " channels do not split into ", groups, " groups");
  if (x.is_contiguous(torch::MemoryFormat::ChannelsLast) && !x.is_contiguous()) {
    // Shuffle within each pixel's channel vector, so the result stays ChannelsLast.
    return x.permute({0, 2, 3, 1})
        .reshape({n, h, w, groups, c / groups})
        .transpose(3, 4)
        .reshape({n, h, w, c})
        .permute({0, 3, 1, 2});
  }
  return x.view({n, groups, c / groups, h, w}).transpose(1, 2).reshape({n, c, h, w});
}

}  // namespace cvtk::vision
