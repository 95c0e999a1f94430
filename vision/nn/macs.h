#pragma once
// Multiply-accumulate counting for `cvtk models`: while a MacCounter lives on a thread, the counted
// forward helpers below add the MACs of each convolution, linear layer and attention product run on
// that thread. Models call these helpers instead of module->forward so the count needs no hooks.
#include <torch/torch.h>

#include <cstdint>

namespace cvtk::vision {

class MacCounter {
 public:
  MacCounter();
  ~MacCounter();
  MacCounter(const MacCounter&) = delete;
  MacCounter& operator=(const MacCounter&) = delete;
  int64_t macs() const { return macs_; }
  static void add(int64_t macs);  // no-op without a live counter

 private:
  int64_t macs_ = 0;
  MacCounter* previous_;
};

torch::Tensor counted(torch::nn::Conv2d& conv, const torch::Tensor& x);
torch::Tensor counted(torch::nn::Linear& linear, const torch::Tensor& x);
// A Sequential's forward with its Conv2d and Linear children counted.
torch::Tensor counted(torch::nn::Sequential& seq, torch::Tensor x);
// a @ b with a [.., n, k] and b [.., k, m].
torch::Tensor counted_matmul(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace cvtk::vision
