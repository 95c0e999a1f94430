#pragma once
// BatchNorm folding for the eval-only executors (backbone_executor.h, detection/inference): a
// convolution followed by a BatchNorm in eval mode is one convolution,
//   conv(x, W * s) + (beta - running_mean * s),   s = gamma / sqrt(running_var + eps).
// Folded layers are snapshots taken when an executor is built: they copy what they need from the
// trained module and do not follow later changes to it (the executor watches its sources and rebuilds).
// They run on pixel-major (ChannelsLast) maps, the layout every CNN executor uses.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "vision/kernels/epilogue.h"
#include "vision/kernels/packed_gemm.h"

namespace cvtk::vision {

// A map whose producing layer still owes its epilogue.
struct PendingMap {
  torch::Tensor value;
  Epilogue epilogue;
  torch::Tensor finish() const { return epilogue.apply(value); }
};

// A Conv2d (explicit zero padding) with the BatchNorm that follows it folded in, and optionally the
// ReLU after that. Weights are kept ChannelsLast. 1x1 stride-1 layers run as one matrix product
// (PackedWeights on untracked CPU float pixel-major maps, else pointwise_conv2d), depthwise layers with
// square kernels by depthwise_conv2d, stems (at most 4 input channels, square kernel) by
// direct_conv2d, others by torch::conv2d.
class FoldedConv {
 public:
  FoldedConv() = default;
  FoldedConv(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn, bool relu);
  bool defined() const { return weight_.defined(); }
  torch::Tensor forward(const torch::Tensor& x) const;
  // The same layer with epilogues carried across layers: a pending input epilogue is applied as the
  // depthwise kernel reads (elsewhere it is applied first), and a 1x1 layer off the packed path leaves
  // its own bias and ReLU pending for the next reader.
  PendingMap forward(const PendingMap& x) const;

  // What fused executors build their own passes from.
  const torch::Tensor& weight() const { return weight_; }  // folded, [O, I/groups, kh, kw]
  const torch::Tensor& bias() const { return bias_; }      // folded, [O]
  bool relu() const { return relu_; }
  bool pointwise() const { return pointwise_; }
  bool depthwise() const { return depthwise_; }
  bool direct() const { return direct_; }
  int64_t stride() const { return stride_[0]; }

 private:
  torch::Tensor weight_, bias_, taps_;
  PackedWeights packed_;  // pointwise layers
  int64_t stride_[2] = {1, 1}, padding_[2] = {0, 0}, dilation_[2] = {1, 1}, groups_ = 1;
  bool relu_ = false;
  bool pointwise_ = false;  // 1x1, stride 1, no padding, one group
  bool depthwise_ = false;  // groups == in == out channels, square kernel, equal strides and paddings
  bool direct_ = false;     // one group, at most 4 input channels, square kernel, equal strides and paddings
};

// A Sequential with each Conv2d that a BatchNorm2d follows folded into one FoldedConv (taking a ReLU
// that follows along); other children run as they are.
class FoldedSequential {
 public:
  FoldedSequential() = default;
  explicit FoldedSequential(const torch::nn::Sequential& seq);
  int folded() const;  // how many BatchNorms were folded
  bool all_folded() const;
  size_t size() const { return convs_.size(); }
  const FoldedConv& step(size_t i) const { return convs_.at(i); }  // undefined for a plain step
  torch::Tensor forward(torch::Tensor x) const;
  // Every step folded (checked): runs them with the last step's epilogue left pending.
  PendingMap forward_pending(const torch::Tensor& x) const;

 private:
  std::vector<FoldedConv> convs_;                    // one per step; undefined for a plain step
  mutable std::vector<torch::nn::AnyModule> plain_;  // one per step; empty for a folded step
};

// Two layers that read the same input, as one: weight [Oa + Ob, ...] and bias [Oa + Ob] stacked along
// dim 0, so one matrix product runs both; split = Oa.
struct StackedLayers {
  torch::Tensor weight, bias;
  int64_t split = 0;
};
StackedLayers stack_layers(const torch::Tensor& weight_a, const torch::Tensor& bias_a, const torch::Tensor& weight_b,
                           const torch::Tensor& bias_b);

// What an executor was built from: the storage, device, dtype and version counter of each source
// tensor, so that moving it (Module::to) or changing it in place by a tensor operation (weight loading)
// is seen. Training leaves no trace here (optimisers write through .data(), BatchNorm's
// running statistics move inside its kernel): executors are rebuilt after training steps.
class TensorSnapshot {
 public:
  void take(std::vector<torch::Tensor> tensors);
  bool changed() const;

 private:
  struct Entry {
    const void* data = nullptr;
    int64_t version = 0;
    torch::Device device = torch::kCPU;
    torch::ScalarType dtype = torch::kFloat;
  };
  std::vector<torch::Tensor> tensors_;
  std::vector<Entry> entries_;
};

// Every parameter and buffer of a module tree, for TensorSnapshot.
std::vector<torch::Tensor> module_tensors(const torch::nn::Module& module);

}  // namespace cvtk::vision
