#pragma once
// cvtk::Detector on a LibTorch tensor, for applications that hold their images as tensors. Unlike
// detection/detector.h this header includes LibTorch.
#include <vector>

#include <torch/types.h>

#include "detection/detector.h"

namespace cvtk {

// image: uint8 [3, H, W] RGB on the CPU (torchvision's layout), any strides; it is not changed. The
// detections detector.detect() gives for the H x W RGB cv::Mat holding the same pixels, with boxes in
// its pixels. std::invalid_argument for any other dtype, shape or device.
std::vector<Detection> detect(const Detector& detector, const torch::Tensor& image);

}  // namespace cvtk
