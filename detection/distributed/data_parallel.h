#pragma once
// The data-parallel side of one training run: the process group, the gradient averager and the few
// small collectives the epoch loop needs so that every rank takes the same decisions (losses for the
// log and the non-finite check, stop requests, validation weights). One process runs without it.
//
// Protocol per step, identical on every rank: gather_losses (one all-reduce of 5 x world doubles),
// then backward with the bucketed gradient all-reduce (grad_bucketer.h), then agree_stop (one
// all-reduce of 3 flags). Per validation: the weights from rank 0, then the detections gathered.
#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "detection/distributed/grad_bucketer.h"
#include "detection/distributed/process_group.h"

namespace cvtk::detection::distributed {

class DataParallel {
 public:
  // sync_bn: also a process group for synchronised BatchNorm (sync_batchnorm.h).
  DataParallel(const World& world, std::chrono::milliseconds timeout, bool cuda, bool sync_bn = false);

  ProcessGroup& group() { return *group_; }
  ProcessGroup& batchnorm_group() { return sync_bn_group_ ? *sync_bn_group_ : *group_; }
  int rank() const { return group_->rank(); }
  int size() const { return group_->size(); }

  // Rank 0's parameters and buffers into every rank's module (the same starting point everywhere).
  void broadcast_module(torch::nn::Module& module);
  void broadcast(const std::vector<torch::Tensor>& tensors) { group_->broadcast(tensors, 0); }

  // Hooks on the module's trainable parameters; call before the first step.
  void attach(torch::nn::Module& module);
  void begin_backward() { averager_->begin(); }
  void finish_backward() { averager_->finish(); }  // gradients are now the mean over the ranks

  // Every rank's (total, four terms) of this step, indexed by rank.
  std::vector<std::array<double, 5>> gather_losses(const std::array<double, 5>& mine);
  // Element-wise OR over the ranks.
  std::array<bool, 3> agree_stop(const std::array<bool, 3>& mine);

  // "1.23 MB all-reduced per step in 2 buckets; after backward 4.5 ms/step not hidden (backward 120 ms/step)"
  std::string describe_communication() const;
  const BucketStats* stats() const { return averager_ ? &averager_->stats() : nullptr; }

 private:
  std::unique_ptr<ProcessGroup> group_, sync_bn_group_;
  std::unique_ptr<GradientAverager> averager_;
};

}  // namespace cvtk::detection::distributed
