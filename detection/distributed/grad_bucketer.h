#pragma once
// Gradient averaging over the ranks of a data-parallel run, overlapped with backward.
//
// The trainable parameters are grouped, in reverse registration order (roughly the order backward
// produces their gradients: head first, backbone stem last), into buckets of at most bucket_bytes.
// A hook on each parameter copies its gradient into its bucket's flat buffer as autograd produces
// it; when a bucket is complete, its all-reduce starts at once (asynchronously) while backward goes
// on with the earlier layers. Buckets are launched strictly in bucket order, so every rank issues the
// same sequence of collectives whatever order its hooks fire in. finish() launches what is left
// (a parameter that received no gradient on this rank contributes zeros), waits, and writes each
// parameter's gradient as the mean over the ranks.
//
// Outside begin()..finish() the hooks do nothing (validation, other backward passes).
#include <cstddef>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "detection/distributed/process_group.h"

namespace cvtk::detection::distributed {

struct BucketStats {
  size_t buckets = 0, bytes_per_step = 0;  // all-reduced per step, each rank
  long steps = 0;
  double backward_s = 0;  // begin() .. the last gradient hook, summed over steps
  double exposed_s = 0;   // finish(): communication not hidden behind backward, summed over steps
};

class GradientAverager {
 public:
  static constexpr size_t kDefaultBucketBytes = size_t(4) << 20;

  GradientAverager(std::vector<torch::Tensor> parameters, ProcessGroup& group,
                   size_t bucket_bytes = kDefaultBucketBytes);
  ~GradientAverager();  // removes the hooks
  GradientAverager(const GradientAverager&) = delete;
  GradientAverager& operator=(const GradientAverager&) = delete;

  void begin();   // before backward
  void finish();  // after backward: parameters' .grad() hold the averages
  const BucketStats& stats() const { return stats_; }

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::vector<unsigned> hooks_;
  BucketStats stats_;
};

}  // namespace cvtk::detection::distributed
