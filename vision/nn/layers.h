#pragma once
// Shared building blocks.
#include <torch/torch.h>

namespace cvtk::vision {

// Inference folding. A module with an eval-only fast path derives from InferenceFoldable, and
// fuse_for_inference(tree) calls fold_for_inference on each such module. Folding leaves parameters,
// buffers and the state_dict as they are: the folded tensors live beside them, are used in eval mode
// only, and are rebuilt when a source tensor changes in place (weight loading and optimiser steps
// move its version counter) or after a training-mode forward (BatchNorm's running statistics update
// without moving it). Training mode always runs the plain path.
class InferenceFoldable {
 public:
  virtual ~InferenceFoldable() = default;
  // channels_last: the model will run on ChannelsLast inputs; keep folded 4-d weights in that format.
  // Returns how many BatchNorms were folded.
  virtual int fold_for_inference(bool channels_last) = 0;
};

// Remembers the version counters of some tensors, to tell when any was modified in place.
class TensorVersions {
 public:
  void track(std::vector<torch::Tensor> tensors);
  bool changed() const;

 private:
  std::vector<torch::Tensor> tensors_;
  std::vector<int64_t> versions_;
};

// Two layers that read the same input, stacked for running them as one product when untracked:
// [weight_a; weight_b] and [bias_a; bias_b] along dim 0, kept between calls and rebuilt when any of the
// four tensors is another tensor, was changed in place (weight loading; AdamW steps) or moved to
// another device or dtype. LibTorch 1.13's SGD writes through .data() without moving the version
// counter, so owners also drop the cache on every tracked (training) forward.
class StackedLayers {
 public:
  std::pair<torch::Tensor, torch::Tensor> get(const torch::Tensor& weight_a, const torch::Tensor& bias_a,
                                              const torch::Tensor& weight_b, const torch::Tensor& bias_b);

 private:
  torch::Tensor weight_, bias_;
  std::vector<torch::Tensor> sources_;
  TensorVersions versions_;
};

// A 1x1 convolution (stride 1, no padding, one group) as one matrix product over pixels: x [N, C, H, W],
// weight [O, C, 1, 1], bias [O] or undefined -> [N, O, H, W] whose memory is ChannelsLast (pixel-major),
// so `.permute({0, 2, 3, 1})` of the result is contiguous. Pixel-major input (ChannelsLast, or a channel
// range of it: see pixel_rows) is read in place; other layouts are copied once. ATen would run the same
// product through its unfold-based convolution (one thread at batch 1) or oneDNN, both slower here.
// Differentiable.
torch::Tensor pointwise_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// A map whose producing layer still owes its epilogue: the map's values are value + bias[c] (bias
// undefined: value), then max(., 0) when relu. Fused readers (depthwise_conv2d, concat_channels)
// apply it as they load, which saves writing the map twice.
struct PendingMap {
  torch::Tensor value, bias;
  bool relu = false;
  torch::Tensor finish() const;  // the values, epilogue applied
};

// A convolution with a BatchNorm's eval statistics folded in: conv(x, W * s) + (beta - mean * s),
// s = gamma / sqrt(var + eps), then an optional in-place ReLU.
class FoldedConv {
 public:
  FoldedConv() = default;
  FoldedConv(const torch::nn::Conv2d& conv, const torch::nn::BatchNorm2d& bn, bool relu, bool channels_last);
  bool defined() const { return weight_.defined(); }
  bool stale() const { return stale_ || sources_.changed(); }
  void invalidate() { stale_ = true; }
  torch::Tensor forward(const torch::Tensor& x) const;
  // The same layer with epilogues carried across layers: a pending input epilogue is applied as the
  // depthwise kernel reads (elsewhere it is applied first), and a 1x1 layer leaves its own bias and
  // ReLU pending for the next reader.
  PendingMap forward(const PendingMap& x) const;

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  bool relu_ = false, stale_ = false;
  bool pointwise_ = false;  // 1x1, stride 1, no padding, one group: run as a matrix product
  bool depthwise_ = false;  // groups == in == out channels, square: run by depthwise_conv2d
  torch::Tensor weight_, bias_, taps_;
  TensorVersions sources_;
};

// An eval-only stand-in for a Sequential: each Conv2d directly followed by a BatchNorm2d runs as one
// FoldedConv (taking a ReLU that follows it along); other children run as they are.
class FoldedSequential {
 public:
  FoldedSequential() = default;
  FoldedSequential(const torch::nn::Sequential& seq, bool channels_last);
  bool defined() const { return !seq_.is_empty(); }
  int folded() const;  // how many BatchNorms this folded
  void invalidate();   // fold again before the next folded forward
  void refresh();      // fold again now if a source tensor changed
  size_t size() const { return convs_.size(); }
  // Step i when it is a folded convolution (else undefined), for callers that fuse across steps.
  const FoldedConv& step(size_t i) const { return convs_.at(i); }
  // Runs the folded steps, folding again first when a source tensor changed.
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Sequential seq_{nullptr};
  bool channels_last_ = false;
  std::vector<FoldedConv> convs_;            // one per step; undefined for a plain step
  std::vector<torch::nn::AnyModule> plain_;  // one per step; empty for a folded step
};

// A Sequential's forward for modules that hold a FoldedSequential of it: the folded steps in eval mode
// when folded is defined; otherwise the Sequential itself, MACs counted (training invalidates folded).
torch::Tensor forward_folded(torch::nn::Sequential& seq, FoldedSequential& folded, bool training,
                             const torch::Tensor& x);

// Conv2d (no bias) -> BatchNorm2d -> ReLU, with torchvision's BasicConv2d parameter names
// (conv.weight, bn.*). Spatial map: as the convolution's kernel, stride and padding.
struct ConvBnReluOptions {
  int64_t in, out;
  std::vector<int64_t> kernel = {1, 1}, stride = {1, 1}, padding = {0, 0};
  double bn_eps = 1e-5;
};
class ConvBnReluImpl : public torch::nn::Module, public InferenceFoldable {
 public:
  explicit ConvBnReluImpl(const ConvBnReluOptions& o);
  torch::Tensor forward(const torch::Tensor& x);
  int fold_for_inference(bool channels_last = false) override;
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  ConvBnReluOptions options_;
  bool channels_last_ = false;
  FoldedConv folded_;
};
TORCH_MODULE(ConvBnRelu);

// Calls fold_for_inference on every InferenceFoldable in a module tree (the root included); returns
// how many BatchNorms were folded. Eval-only, with no undo: see InferenceFoldable.
int fuse_for_inference(torch::nn::Module& module, bool channels_last = false);

// ShuffleNet's channel shuffle with `groups` groups: output channel g * (C / groups) + i becomes
// channel i * groups + g, so channels from different groups interleave. Spatial map: identity.
torch::Tensor channel_shuffle(const torch::Tensor& x, int64_t groups);

}  // namespace cvtk::vision
