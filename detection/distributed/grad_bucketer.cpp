#include "detection/distributed/grad_bucketer.h"

#include <chrono>
#include <mutex>

namespace cvtk::detection::distributed {

namespace {
using clock_type = std::chrono::steady_clock;
}

struct GradientAverager::State {
  struct Bucket {
    torch::Tensor flat;
    std::vector<size_t> params;
    size_t waiting = 0;  // parameters not yet arrived this step
    ProcessGroup::Handle pending;
  };
  ProcessGroup* group = nullptr;
  std::vector<torch::Tensor> params;
  std::vector<size_t> bucket_of, offset_of;
  std::vector<char> arrived;
  std::vector<Bucket> buckets;
  size_t next_launch = 0;
  bool armed = false;
  clock_type::time_point last_hook;
  std::mutex mutex;

  torch::Tensor slot(size_t i) {
    return buckets[bucket_of[i]].flat.narrow(0, int64_t(offset_of[i]), params[i].numel()).view(params[i].sizes());
  }
  // Launches complete buckets in bucket order (the same order on every rank).
  void launch_ready() {
    while (next_launch < buckets.size() && buckets[next_launch].waiting == 0) {
      buckets[next_launch].pending = group->allreduce_sum_async(buckets[next_launch].flat);
      ++next_launch;
    }
  }
  void arrive(size_t i, const torch::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed) return;
    torch::NoGradGuard no_grad;
    if (arrived[i]) {
      // A second gradient for the same parameter in one backward: hooks on leaves see the sum, so
      // this only happens with retain_graph-style repeated backward, which training does not do.
      TORCH_CHECK(bucket_of[i] >= next_launch, "gradient of a parameter arrived after its bucket was sent");
      slot(i).add_(grad);
      return;
    }
    slot(i).copy_(grad);
    arrived[i] = 1;
    last_hook = clock_type::now();
    --buckets[bucket_of[i]].waiting;
    launch_ready();
  }
};

GradientAverager::GradientAverager(std::vector<torch::Tensor> parameters, ProcessGroup& group, size_t bucket_bytes)
    : state_(std::make_shared<State>()) {
  auto& s = *state_;
  s.group = &group;
  for (auto& p : parameters)
    if (p.requires_grad()) s.params.push_back(p);
  s.bucket_of.resize(s.params.size());
  s.offset_of.resize(s.params.size());
  s.arrived.assign(s.params.size(), 0);
  size_t bytes = bucket_bytes;  // start a new bucket on the first parameter
  for (size_t k = s.params.size(); k-- > 0;) {
    const auto& p = s.params[k];
    const size_t b = size_t(p.numel()) * p.element_size();
    if (s.buckets.empty() || bytes + b > bucket_bytes ||
        p.scalar_type() != s.params[s.buckets.back().params[0]].scalar_type()) {
      s.buckets.emplace_back();
      bytes = 0;
    }
    s.bucket_of[k] = s.buckets.size() - 1;
    s.offset_of[k] = bytes / p.element_size();
    s.buckets.back().params.push_back(k);
    bytes += b;
    stats_.bytes_per_step += b;
  }
  for (auto& bucket : s.buckets) {
    int64_t n = 0;
    for (size_t k : bucket.params) n += s.params[k].numel();
    bucket.flat = torch::zeros({n}, s.params[bucket.params[0]].options().requires_grad(false));
  }
  stats_.buckets = s.buckets.size();
  std::weak_ptr<State> weak = state_;
  for (size_t k = 0; k < s.params.size(); ++k)
    hooks_.push_back(s.params[k].register_hook([weak, k](const torch::Tensor& grad) {
      if (auto st = weak.lock()) st->arrive(k, grad);
    }));
}

GradientAverager::~GradientAverager() {
  for (size_t k = 0; k < hooks_.size(); ++k) state_->params[k].remove_hook(hooks_[k]);
}

void GradientAverager::begin() {
  auto& s = *state_;
  std::lock_guard<std::mutex> lock(s.mutex);
  std::fill(s.arrived.begin(), s.arrived.end(), 0);
  for (auto& b : s.buckets) {
    b.waiting = b.params.size();
    b.pending.reset();
  }
  s.next_launch = 0;
  s.armed = true;
  s.last_hook = clock_type::now();
  stats_.backward_s -= std::chrono::duration<double>(s.last_hook.time_since_epoch()).count();
}

void GradientAverager::finish() {
  auto& s = *state_;
  std::unique_lock<std::mutex> lock(s.mutex);
  s.armed = false;
  stats_.backward_s += std::chrono::duration<double>(s.last_hook.time_since_epoch()).count();
  const auto t0 = clock_type::now();
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < s.params.size(); ++k)
    if (!s.arrived[k]) {
      s.slot(k).zero_();
      s.arrived[k] = 1;
      --s.buckets[s.bucket_of[k]].waiting;
    }
  s.launch_ready();
  const double world = double(s.group->size());
  for (auto& b : s.buckets) {
    s.group->wait(b.pending);
    b.flat.div_(world);
  }
  for (size_t k = 0; k < s.params.size(); ++k) {
    auto& p = s.params[k];
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    p.mutable_grad().copy_(s.slot(k));
  }
  stats_.exposed_s += std::chrono::duration<double>(clock_type::now() - t0).count();
  ++stats_.steps;
}

}  // namespace cvtk::detection::distributed
