#pragma once
// The trainer's --device value, parsed and checked before any data is read, so that a device this LibTorch
// cannot use fails at once with the flag in the message.
#include <torch/types.h>

#include <string>

namespace cvtk::detection {

// "cpu", "cuda", "cuda:N", or another device type LibTorch names (mps, xpu, ...). Throws
// std::invalid_argument "--device VALUE: why" when VALUE is not a device string, when this LibTorch was built
// without that device type (e.g. "--device cuda: this LibTorch was built without CUDA; use --device cpu"),
// when it sees no such device or index N is out of range, for meta (no data), and when a tensor cannot be
// allocated there.
torch::Device parse_train_device(const std::string& value);

}  // namespace cvtk::detection
