#include "vision/inference/folding.h"

#include "vision/kernels/channel_concat.h"
#include "vision/kernels/depthwise_conv.h"
#include "vision/kernels/direct_conv.h"
#include "vision/kernels/pointwise_conv.h"
#include "vision/nn/macs.h"
#include "vision/nn/tracked.h"

namespace cvtk::vision {

FoldedConv::FoldedConv(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn, bool relu)
    : relu_(relu) {
  const auto& o = conv.options;
  TORCH_CHECK(c10::holds_alternative<torch::ExpandingArray<2>>(o.padding()) &&
                  c10::holds_alternative<torch::enumtype::kZeros>(o.padding_mode()),
              "FoldedConv: only explicit zero padding is supported");
  TORCH_CHECK(bn.options.affine() && bn.options.track_running_stats(),
              "FoldedConv: the BatchNorm needs affine parameters and running statistics");
  torch::NoGradGuard no_grad;
  const auto scale = bn.weight / torch::sqrt(bn.running_var + bn.options.eps());
  weight_ = (conv.weight * scale.view({-1, 1, 1, 1})).contiguous(torch::MemoryFormat::ChannelsLast);
  bias_ = conv.bias.defined() ? bn.bias + (conv.bias - bn.running_mean) * scale : bn.bias - bn.running_mean * scale;
  const auto pad = *c10::get<torch::ExpandingArray<2>>(o.padding());
  for (int i = 0; i < 2; ++i) {
    stride_[i] = (*o.stride())[i];
    padding_[i] = pad[i];
    dilation_[i] = (*o.dilation())[i];
  }
  groups_ = o.groups();
  const int64_t kh = conv.weight.size(2), kw = conv.weight.size(3);
  const bool unit_dilation = dilation_[0] == 1 && dilation_[1] == 1;
  pointwise_ = kh == 1 && kw == 1 && groups_ == 1 && stride_[0] == 1 && stride_[1] == 1 && padding_[0] == 0 &&
               padding_[1] == 0 && unit_dilation;
  depthwise_ = groups_ == o.in_channels() && o.out_channels() == o.in_channels() && kh == kw &&
               stride_[0] == stride_[1] && padding_[0] == padding_[1] && unit_dilation;
  direct_ = !depthwise_ && groups_ == 1 && o.in_channels() <= 4 && kh == kw && stride_[0] == stride_[1] &&
            padding_[0] == padding_[1] && unit_dilation;
  if (depthwise_) taps_ = depthwise_taps(weight_);
  if (direct_) taps_ = direct_taps(weight_);
  if (pointwise_) packed_ = PackedWeights(weight_, bias_);
}

namespace {

// Whether the packed product takes x: an untracked CPU float pixel-major map.
bool packed_takes(const torch::Tensor& x, int64_t* pixel_stride) {
  return x.dim() == 4 && x.device().is_cpu() && x.scalar_type() == torch::kFloat && !tracked({x}) &&
         pixel_rows(x, pixel_stride);
}

}  // namespace

torch::Tensor FoldedConv::forward(const torch::Tensor& x) const {
  int64_t pixel_stride = 0;
  if (pointwise_ && packed_takes(x, &pixel_stride)) {
    const int64_t n = x.size(0), h = x.size(2), w = x.size(3), out = packed_.n();
    auto y = torch::empty({n, out, h, w}, x.options().memory_format(torch::MemoryFormat::ChannelsLast));
    packed_.run(x.data_ptr<float>(), pixel_stride, n * h * w, relu_, y.data_ptr<float>(), out);
    MacCounter::add(y.numel() * packed_.k());
    return y;
  }
  if (direct_ && direct_conv_takes(x)) {
    torch::Tensor y = direct_conv2d(x, taps_, bias_, weight_.size(2), stride_[0], padding_[0], relu_);
    MacCounter::add(y.numel() * weight_.size(1) * weight_.size(2) * weight_.size(3));
    return y;
  }
  // A 1x1 layer finishing here adds its bias inside the product (addmm) rather than in a pass after it.
  if (pointwise_ && x.dim() == 4) {
    torch::Tensor y = pointwise_conv2d(x, weight_, bias_);
    return relu_ ? y.relu_() : y;
  }
  return forward(PendingMap{x, {}}).finish();
}

PendingMap FoldedConv::forward(const PendingMap& x) const {
  if (depthwise_ && depthwise_fast_path(x.value)) {
    torch::Tensor y =
        depthwise_conv2d(x.value, taps_, bias_, weight_.size(2), stride_[0], padding_[0], x.epilogue, relu_);
    MacCounter::add(y.numel() * weight_.size(2) * weight_.size(3));
    return {y, {}};
  }
  const torch::Tensor in = x.finish();
  int64_t pixel_stride = 0;
  if ((pointwise_ && packed_takes(in, &pixel_stride)) || (direct_ && direct_conv_takes(in))) return {forward(in), {}};
  if (pointwise_ && in.dim() == 4) return {pointwise_conv2d(in, weight_, {}), {bias_, relu_}};
  torch::Tensor y = torch::conv2d(in, weight_, bias_, stride_, padding_, dilation_, groups_);
  MacCounter::add(y.numel() * weight_.size(1) * weight_.size(2) * weight_.size(3));
  return {relu_ ? y.relu_() : y, {}};
}

FoldedSequential::FoldedSequential(const torch::nn::Sequential& seq) {
  const auto children = seq->children();
  for (size_t i = 0; i < children.size(); ++i) {
    auto conv = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(children[i]);
    auto bn =
        i + 1 < children.size() ? std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(children[i + 1]) : nullptr;
    if (conv && bn) {
      const bool relu = i + 2 < children.size() && std::dynamic_pointer_cast<torch::nn::ReLUImpl>(children[i + 2]);
      convs_.emplace_back(*conv, *bn, relu);
      plain_.emplace_back();
      i += relu ? 2 : 1;
    } else {
      convs_.emplace_back();
      plain_.push_back(*(seq->begin() + static_cast<std::ptrdiff_t>(i)));
    }
  }
}

int FoldedSequential::folded() const {
  int n = 0;
  for (const auto& c : convs_) n += c.defined();
  return n;
}

bool FoldedSequential::all_folded() const { return !convs_.empty() && folded() == static_cast<int>(convs_.size()); }

torch::Tensor FoldedSequential::forward(torch::Tensor x) const {
  for (size_t i = 0; i < convs_.size(); ++i) x = convs_[i].defined() ? convs_[i].forward(x) : plain_[i].forward(x);
  return x;
}

PendingMap FoldedSequential::forward_pending(const torch::Tensor& x) const {
  TORCH_CHECK(all_folded(), "FoldedSequential::forward_pending: a step is not a folded convolution");
  PendingMap y{x, {}};
  for (const auto& c : convs_) y = c.forward(y);
  return y;
}

StackedLayers stack_layers(const torch::Tensor& weight_a, const torch::Tensor& bias_a, const torch::Tensor& weight_b,
                           const torch::Tensor& bias_b) {
  torch::NoGradGuard no_grad;
  return {torch::cat({weight_a, weight_b}).contiguous(), torch::cat({bias_a, bias_b}), weight_a.size(0)};
}

void TensorSnapshot::take(std::vector<torch::Tensor> tensors) {
  tensors_ = std::move(tensors);
  entries_.clear();
  for (const auto& t : tensors_) {
    Entry e;
    if (t.defined()) e = {t.data_ptr(), t._version(), t.device(), t.scalar_type()};
    entries_.push_back(e);
  }
}

bool TensorSnapshot::changed() const {
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const auto& t = tensors_[i];
    if (!t.defined()) continue;
    const auto& e = entries_[i];
    if (t._version() != e.version || t.data_ptr() != e.data || t.device() != e.device || t.scalar_type() != e.dtype)
      return true;
  }
  return false;
}

std::vector<torch::Tensor> module_tensors(const torch::nn::Module& module) {
  std::vector<torch::Tensor> all = module.parameters();
  for (const auto& b : module.buffers()) all.push_back(b);
  return all;
}

}  // namespace cvtk::vision
