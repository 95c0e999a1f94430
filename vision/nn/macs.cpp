#include "vision/nn/macs.h"

namespace cvtk::vision {
namespace {
thread_local MacCounter* g_counter = nullptr;
}

MacCounter::MacCounter() : previous_(g_counter) { g_counter = this; }
MacCounter::~MacCounter() { g_counter = previous_; }
void MacCounter::add(int64_t macs) {
  if (g_counter) g_counter->macs_ += macs;
}

torch::Tensor counted(torch::nn::Conv2d& conv, const torch::Tensor& x) {
  torch::Tensor y = conv->forward(x);
  if (g_counter) {
    const auto& w = conv->weight;  // [out, in / groups, kh, kw]
    MacCounter::add(y.numel() * w.size(1) * w.size(2) * w.size(3));
  }
  return y;
}

torch::Tensor counted(torch::nn::Linear& linear, const torch::Tensor& x) {
  torch::Tensor y = linear->forward(x);
  if (g_counter) MacCounter::add(y.numel() * linear->weight.size(1));
  return y;
}

torch::Tensor counted(torch::nn::Sequential& seq, torch::Tensor x) {
  for (auto& m : *seq) {
    if (g_counter) {
      if (auto c = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(m.ptr())) {
        torch::nn::Conv2d holder(c);
        x = counted(holder, x);
        continue;
      }
      if (auto l = std::dynamic_pointer_cast<torch::nn::LinearImpl>(m.ptr())) {
        torch::nn::Linear holder(l);
        x = counted(holder, x);
        continue;
      }
    }
    x = m.forward(x);
  }
  return x;
}

torch::Tensor counted_matmul(const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor y = torch::matmul(a, b);
  if (g_counter) MacCounter::add(y.numel() * a.size(-1));
  return y;
}

}  // namespace cvtk::vision
