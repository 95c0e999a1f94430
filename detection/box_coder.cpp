#include "detection/box_coder.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "vision/nn/tracked.h"

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
  return torch::stack({weights_[0] * (gx - rx) / rw, weights_[1] * (gy - ry) / rh, weights_[2] * torch::log(gw / rw),
                       weights_[3] * torch::log(gh / rh)},
                      1);
}

namespace {

// Whether a box op may take its scalar-loop path: CPU float tensors that autograd will not track. The
// loops do the tensor path's float operations in the same order (exp may differ in the last bit);
// they exist because the proposal and detection steps decode a few thousand boxes per image, where the
// tensor path's two dozen small ops cost more than the arithmetic.
bool scalar_path(const torch::Tensor& a, const torch::Tensor& b) {
  return a.device().is_cpu() && b.device().is_cpu() && a.scalar_type() == torch::kFloat &&
         b.scalar_type() == torch::kFloat && !vision::tracked({a, b});
}

}  // namespace

torch::Tensor BoxCoder::decode(const torch::Tensor& deltas, const torch::Tensor& refs) const {
  const int64_t n = deltas.size(0);
  if (scalar_path(deltas, refs) && deltas.dim() == 2 && refs.dim() == 2 && refs.size(1) == 4 && refs.size(0) == n &&
      deltas.size(1) % 4 == 0) {
    const auto d = deltas.contiguous(), r = refs.contiguous();
    auto out = torch::empty(d.sizes(), d.options());
    const int64_t k = d.size(1) / 4;
    const float w0 = float(weights_[0]), w1 = float(weights_[1]), w2 = float(weights_[2]), w3 = float(weights_[3]);
    const float clamp = float(kClamp);
    const float *dp = d.data_ptr<float>(), *rp = r.data_ptr<float>();
    float* op = out.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      const float* q = rp + 4 * i;
      const float rw = q[2] - q[0], rh = q[3] - q[1];
      const float rx = q[0] + 0.5f * rw, ry = q[1] + 0.5f * rh;
      for (int64_t j = 0; j < k; ++j) {
        const float* e = dp + (i * k + j) * 4;
        float* o = op + (i * k + j) * 4;
        const float dw = std::min(e[2] / w2, clamp), dh = std::min(e[3] / w3, clamp);
        const float cx = e[0] / w0 * rw + rx, cy = e[1] / w1 * rh + ry;
        const float w = std::exp(dw) * rw, h = std::exp(dh) * rh;
        o[0] = cx - 0.5f * w, o[1] = cy - 0.5f * h, o[2] = cx + 0.5f * w, o[3] = cy + 0.5f * h;
      }
    }
    return out;
  }
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
  if (scalar_path(boxes, boxes) && boxes.numel() % 4 == 0) {
    auto out = boxes.clone(torch::MemoryFormat::Contiguous);  // one copy whatever the input layout
    float* p = out.data_ptr<float>();
    // Same as clamp(0, limit): NaN stays NaN.
    auto clip = [](float v, float hi) { return v < 0.f ? 0.f : (v > hi ? hi : v); };
    const float w = float(width), h = float(height);
    for (int64_t i = 0; i < out.numel(); i += 4)
      p[i] = clip(p[i], w), p[i + 1] = clip(p[i + 1], h), p[i + 2] = clip(p[i + 2], w), p[i + 3] = clip(p[i + 3], h);
    return out;
  }
  auto b = boxes.reshape({-1, 4});
  return torch::stack({b.select(1, 0).clamp(0, width), b.select(1, 1).clamp(0, height), b.select(1, 2).clamp(0, width),
                       b.select(1, 3).clamp(0, height)},
                      1)
      .reshape(boxes.sizes());
}

}  // namespace cvtk::detection
