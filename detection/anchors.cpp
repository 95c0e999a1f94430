#include "detection/anchors.h"

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace cvtk::detection {

AnchorGenerator::AnchorGenerator(AnchorOptions options) : options_(std::move(options)) {
  if (options_.sizes.empty() || options_.ratios.empty() || !(options_.stride > 0))
    throw std::invalid_argument("anchors: need at least one size, one ratio and a positive stride");
  std::vector<float> v;
  for (double r : options_.ratios) {
    if (!(r > 0)) throw std::invalid_argument("anchors: ratio must be positive, got " + std::to_string(r));
    for (double s : options_.sizes) {
      if (!(s > 0)) throw std::invalid_argument("anchors: size must be positive, got " + std::to_string(s));
      const double w = s / std::sqrt(r), h = s * std::sqrt(r);
      v.insert(v.end(), {float(-w / 2), float(-h / 2), float(w / 2), float(h / 2)});
    }
  }
  cell_ = torch::from_blob(v.data(), {int64_t(v.size() / 4), 4}, torch::kFloat32).clone();
}

int64_t AnchorGenerator::anchors_per_location() const { return cell_.size(0); }

torch::Tensor AnchorGenerator::cell_anchors() const { return cell_; }

torch::Tensor AnchorGenerator::grid(int64_t height, int64_t width, torch::Device device) const {
  const double s = options_.stride;
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  auto xs = (torch::arange(width, opts) + 0.5) * s;
  auto ys = (torch::arange(height, opts) + 0.5) * s;
  auto yy = ys.view({height, 1}).expand({height, width}).reshape({-1});
  auto xx = xs.view({1, width}).expand({height, width}).reshape({-1});
  auto shifts = torch::stack({xx, yy, xx, yy}, 1);  // [HW, 4]
  return (shifts.view({-1, 1, 4}) + cell_.to(device).view({1, -1, 4})).reshape({-1, 4});
}

}  // namespace cvtk::detection
