#include "detection/detector_tensor.h"

#include <stdexcept>

namespace cvtk {

std::vector<Detection> detect(const Detector& detector, const torch::Tensor& image) {
  if (!image.defined() || image.dim() != 3 || image.size(0) != 3 || image.scalar_type() != torch::kUInt8 ||
      !image.device().is_cpu())
    throw std::invalid_argument("cvtk::detect: expected a uint8 [3, H, W] RGB tensor on the CPU, got " +
                                (image.defined() ? std::string(image.toString()) + " " + c10::str(image.sizes())
                                                 : std::string("an undefined tensor")));
  // cv::Mat holds the channels interleaved.
  const torch::Tensor hwc = image.permute({1, 2, 0}).contiguous();
  const cv::Mat rgb(int(hwc.size(0)), int(hwc.size(1)), CV_8UC3, const_cast<uint8_t*>(hwc.data_ptr<uint8_t>()));
  return detector.detect(rgb, ChannelOrder::rgb);
}

}  // namespace cvtk
