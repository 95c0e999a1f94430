#pragma once
// The collectives a data-parallel run needs, on a c10d process group: Gloo on CPU tensors (LibTorch's
// ProcessGroupGloo), NCCL for CUDA tensors where LibTorch was built with CUDA; rendezvous through a
// c10d::TCPStore hosted by rank 0 at World::master_addr:master_port. c10d stays inside the .cpp.
//
// Timeouts: every collective and the rendezvous give up after `timeout` (c10d's own default is 30
// minutes, which would hide a dead rank that long).
//
// Failures: when a collective fails (a peer's connection closed) or times out, DistributedError is
// thrown with one line naming the rank(s) to blame: the surviving ranks record themselves in the
// store and, within a few seconds, the ranks that did not are named ("rank 1 of 2 is gone or hung");
// when the store itself is unreachable, rank 0, which hosts it, is named. After a failure the c10d
// objects are abandoned rather than destroyed, so leaving the process cannot block on a hung peer.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/types.h>

#include "detection/distributed/world.h"

namespace cvtk::detection::distributed {

class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ProcessGroup {
 public:
  // An all-reduce in flight; wait() on the group that started it.
  struct Pending;
  using Handle = std::shared_ptr<Pending>;

  // Blocks until every rank has joined (or the timeout passes: DistributedError). cuda: NCCL for CUDA
  // tensors (std::invalid_argument where this LibTorch has no NCCL), else Gloo for CPU tensors.
  ProcessGroup(const World& world, std::chrono::milliseconds timeout, bool cuda = false);
  // A second, independent group over the same ranks and rendezvous store (every rank creates it):
  // its collectives are ordered apart from the base group's, so two streams of collectives issued
  // from different places (gradient buckets, synchronised BatchNorm) cannot interleave differently
  // on different ranks.
  ProcessGroup(const ProcessGroup& base, const std::string& name);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  const World& world() const { return world_; }
  int rank() const { return world_.rank; }
  int size() const { return world_.size; }
  std::string backend() const;  // "gloo" or "nccl"

  // Sum over the ranks, in place. t must be contiguous; every rank passes the same shape and dtype, and
  // every rank issues its collectives in the same order.
  Handle allreduce_sum_async(const torch::Tensor& t);
  void wait(const Handle& pending);
  void allreduce_sum(const torch::Tensor& t) { wait(allreduce_sum_async(t)); }
  void allreduce_max(const torch::Tensor& t);
  // rank `root`'s values into every rank's tensors, in place (tensors of one dtype are sent as one buffer).
  void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);
  std::string broadcast_string(const std::string& s, int root = 0);
  void barrier();

 private:
  struct Impl;
  void connect(const std::string& prefix, bool cuda);
  [[noreturn]] void fail(const std::string& operation, const std::exception& e);
  World world_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cvtk::detection::distributed
