#include "detection/distributed/data_parallel.h"

#include <algorithm>
#include <cstdio>

namespace cvtk::detection::distributed {

DataParallel::DataParallel(const World& world, std::chrono::milliseconds timeout, bool cuda, bool sync_bn)
    : group_(std::make_unique<ProcessGroup>(world, timeout, cuda)) {
  if (sync_bn) sync_bn_group_ = std::make_unique<ProcessGroup>(*group_, "sync_bn");
}

void DataParallel::broadcast_module(torch::nn::Module& module) {
  std::vector<torch::Tensor> tensors;
  for (auto& p : module.parameters()) tensors.push_back(p);
  for (auto& b : module.buffers()) tensors.push_back(b);
  group_->broadcast(tensors, 0);
}

void DataParallel::attach(torch::nn::Module& module) {
  averager_ = std::make_unique<GradientAverager>(module.parameters(), *group_);
}

std::vector<std::array<double, 5>> DataParallel::gather_losses(const std::array<double, 5>& mine) {
  // Each rank fills its own row; the sum is everyone's rows (adding zeros is exact).
  auto t = torch::zeros({size(), 5}, torch::kFloat64);
  double* p = t.data_ptr<double>();
  std::copy(mine.begin(), mine.end(), p + rank() * 5);
  group_->allreduce_sum(t);
  std::vector<std::array<double, 5>> all(static_cast<size_t>(size()));
  for (int r = 0; r < size(); ++r) std::copy(p + r * 5, p + r * 5 + 5, all[size_t(r)].begin());
  return all;
}

std::array<bool, 3> DataParallel::agree_stop(const std::array<bool, 3>& mine) {
  auto t = torch::tensor({int32_t(mine[0]), int32_t(mine[1]), int32_t(mine[2])}, torch::kInt32);
  group_->allreduce_max(t);
  const int32_t* p = t.data_ptr<int32_t>();
  return {p[0] != 0, p[1] != 0, p[2] != 0};
}

std::string DataParallel::describe_communication() const {
  if (!averager_) return "no gradient all-reduce";
  const auto& s = averager_->stats();
  const double steps = double(std::max<long>(s.steps, 1));
  char line[256];
  std::snprintf(line, sizeof line,
                "%.2f MB all-reduced per step in %zu buckets (%s); communication not hidden by backward %.1f "
                "ms/step (backward %.1f ms/step, %ld steps)",
                double(s.bytes_per_step) / 1e6, s.buckets, group_->backend().c_str(), 1e3 * s.exposed_s / steps,
                1e3 * s.backward_s / steps, s.steps);
  return line;
}

}  // namespace cvtk::detection::distributed
