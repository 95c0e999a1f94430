#include "vision/kernels/epilogue.h"

#include <ATen/ATen.h>

namespace cvtk::vision {

torch::Tensor Epilogue::apply(const torch::Tensor& x) const {
  if (empty()) return x;
  torch::Tensor y = bias.defined() ? x + bias.view({1, -1, 1, 1}) : x.clone();
  return relu ? y.relu_() : y;
}

}  // namespace cvtk::vision
