#pragma once
// Synchronised BatchNorm (--sync-bn): while a scope lives on this thread, every BatchNorm in training
// mode normalises with the mean and variance of the global batch (all ranks' images) instead of its
// own shard's, and updates its running statistics with them, so W processes with batch B compute the
// forward (and, through the same all-reduces in backward, the gradients) of one process with batch
// W x B.
//
// How: torch::nn::BatchNorm*'s forward calls aten::batch_norm, which has no extension point in the
// C++ frontend; the scope adds a dispatch key (DeferredInit, otherwise unused by LibTorch's own
// operators; every other operator falls through it) under which aten::batch_norm runs
// sync_batch_norm below: per channel, the sum of the shard's values and count, all-reduced (mean),
// then the sum of squared deviations, all-reduced (biased variance for normalising, the unbiased one
// for the running variance), as in one process. The sums accumulate in float64, so the statistics
// (rounded to float32) do not depend on how the batch is split over the ranks. The all-reduces are
// autograd functions whose backward all-reduces the gradient, so backward is exact too. They run on
// the DataParallel's own BatchNorm process group, apart from the gradient buckets. Inference-mode
// BatchNorm (frozen, eval) and calls outside a scope are untouched.
namespace cvtk::detection::distributed {

class DataParallel;

class SyncBatchNormScope {
 public:
  explicit SyncBatchNormScope(DataParallel* dp);  // nullptr: does nothing
  ~SyncBatchNormScope();
  SyncBatchNormScope(const SyncBatchNormScope&) = delete;
  SyncBatchNormScope& operator=(const SyncBatchNormScope&) = delete;

 private:
  void* guard_ = nullptr;  // the dispatch key guard (kept out of this header)
  DataParallel* previous_ = nullptr;
  bool active_ = false;
};

// Training-mode BatchNorm calls the synchronised path has served in this process (for tests).
long sync_batch_norm_calls();

}  // namespace cvtk::detection::distributed
