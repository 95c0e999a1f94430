#include "detection/box_coder.h"

#include <torch/torch.h>

#include <cmath>

namespace cvtk::detection {

namespace {
const double kClamp = std::log(1000.0 / 16);
}

BoxCoder::BoxCoder(std::array<double, 4> weights) : weights_(weights) {}

torch::Tensor BoxCoder::encode(const torch::Tensor& boxes, const torch::Tensor& refs) const {
  auto rw = refs.select(1, 2) - refs.select(1, 0), rh = refs.select(1, 3) - refs.select(1, 1);
  auto rx = refs.select(1, 0) + 0.5 * rw, ry = refs.select(1, 1) + 0.5 * rh;
  auto gw = boxes.select(1, 2) - boxes.select(1, 0), gh = boxes.select(1, 3) - boxes.select(1, 1);
  auto gx = boxes.select(1, 0) + 0.5 * gw, gy = boxes.select(1, 1) + 0.5 * gh;
  return torch::stack({weights_[0] * (gx - rx) / rw, weights_[1] * (gy - ry) / rh,
                       weights_[2] * torch::log(gw / rw), weights_[3] * torch::log(gh / rh)},
                      1);
}

torch::Tensor BoxCoder::decode(const torch::Tensor& deltas, const torch::Tensor& refs) const {
  const int64_t n = deltas.size(0);
  auto d = deltas.reshape({n, -1, 4});
  auto rw = (refs.select(1, 2) - refs.select(1, 0)).unsqueeze(1);
  auto rh = (refs.select(1, 3) - refs.select(1, 1)).unsqueeze(1);
  auto rx = refs.select(1, 0).unsqueeze(1) + 0.5 * rw, ry = refs.select(1, 1).unsqueeze(1) + 0.5 * rh;
  auto dx = d.select(2, 0) / weights_[0], dy = d.select(2, 1) / weights_[1];
  auto dw = (d.select(2, 2) / weights_[2]).clamp_max(kClamp);
  auto dh = (d.select(2, 3) / weights_[3]).clamp_max(kClamp);
  auto cx = dx * rw + rx, cy = dy * rh + ry;
  auto w = torch::exp(dw) * rw, h = torch::exp(dh) * rh;
  return torch::stack({cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h}, 2).reshape({n, -1});
}

torch::Tensor clip_boxes(const torch::Tensor& boxes, double width, double height) {
  auto b = boxes.reshape({-1, 4});
  return torch::stack({b.select(1, 0).clamp(0, width), b.select(1, 1).clamp(0, height),
                       b.select(1, 2).clamp(0, width), b.select(1, 3).clamp(0, height)},
                      1)
      .reshape(boxes.sizes());
}

}  // namespace cvtk::detection
