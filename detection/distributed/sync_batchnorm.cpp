#include "detection/distributed/sync_batchnorm.h"

#include <atomic>
#include <mutex>

#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>

#include "detection/distributed/data_parallel.h"

namespace cvtk::detection::distributed {

namespace {

constexpr auto kKey = c10::DispatchKey::DeferredInit;
thread_local DataParallel* t_current = nullptr;
std::atomic<long> g_calls{0};

// Sum over the ranks; backward sums the gradients over the ranks (every rank's output depends on
// every rank's input).
struct AllReduceSum : public torch::autograd::Function<AllReduceSum> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, int64_t group) {
    ctx->saved_data["group"] = group;
    auto out = x.detach().contiguous().clone();
    reinterpret_cast<ProcessGroup*>(group)->allreduce_sum(out);
    return out;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* group = reinterpret_cast<ProcessGroup*>(ctx->saved_data["group"].toInt());
    auto g = grads[0].contiguous().clone();
    group->allreduce_sum(g);
    return {g, torch::Tensor()};
  }
};

torch::Tensor sync_batch_norm(const torch::Tensor& input, const c10::optional<torch::Tensor>& weight,
                              const c10::optional<torch::Tensor>& bias,
                              const c10::optional<torch::Tensor>& running_mean,
                              const c10::optional<torch::Tensor>& running_var, bool training, double momentum,
                              double eps, bool cudnn_enabled) {
  c10::impl::ExcludeDispatchKeyGuard plain(kKey);
  DataParallel* dp = t_current;
  if (!training || !dp || input.dim() < 2)
    return at::batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled);
  ++g_calls;
  const int64_t c = input.size(1);
  std::vector<int64_t> dims = {0}, shape(size_t(input.dim()), 1);
  for (int64_t d = 2; d < input.dim(); ++d) dims.push_back(d);
  shape[1] = c;
  const auto group = reinterpret_cast<int64_t>(&dp->batchnorm_group());
  const double local_count = double(input.numel() / std::max<int64_t>(c, 1));
  auto first = AllReduceSum::apply(
      torch::cat({input.sum(dims, false, torch::kFloat64), torch::full({1}, local_count, torch::kFloat64)}), group);
  const double n = first[c].item<double>();
  const auto mean = (first.narrow(0, 0, c) / n).to(input.scalar_type());
  const auto centred = input - mean.view(shape);
  const auto var = (AllReduceSum::apply((centred * centred).sum(dims, false, torch::kFloat64), group) / n);
  auto y = centred * (var + eps).rsqrt().to(input.scalar_type()).view(shape);
  if (weight && weight->defined()) y = y * weight->view(shape);
  if (bias && bias->defined()) y = y + bias->view(shape);
  torch::NoGradGuard no_grad;
  if (running_mean && running_mean->defined())
    running_mean->mul_(1 - momentum).add_(mean.detach().to(running_mean->scalar_type()), momentum);
  if (running_var && running_var->defined())
    running_var->mul_(1 - momentum)
        .add_((var.detach() * (n / std::max(n - 1, 1.0))).to(running_var->scalar_type()), momentum);
  return y;
}

void register_kernel() {
  static std::once_flag once;
  std::call_once(once, [] {
    static torch::Library fallthrough(torch::Library::IMPL, "_", kKey, __FILE__, __LINE__);
    fallthrough.fallback(torch::CppFunction::makeFallthrough());
    static torch::Library aten(torch::Library::IMPL, "aten", kKey, __FILE__, __LINE__);
    aten.impl("batch_norm", TORCH_FN(sync_batch_norm));
  });
}

}  // namespace

long sync_batch_norm_calls() { return g_calls; }

SyncBatchNormScope::SyncBatchNormScope(DataParallel* dp) {
  if (!dp) return;
  register_kernel();
  previous_ = t_current;
  t_current = dp;
  guard_ = new c10::impl::IncludeDispatchKeyGuard(kKey);
  active_ = true;
}

SyncBatchNormScope::~SyncBatchNormScope() {
  if (!active_) return;
  delete static_cast<c10::impl::IncludeDispatchKeyGuard*>(guard_);
  t_current = previous_;
}

}  // namespace cvtk::detection::distributed
