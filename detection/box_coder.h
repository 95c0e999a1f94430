#pragma once
// Box regression targets: the R-CNN parametrisation (Girshick et al.) of a box relative to a reference
// box (anchor or proposal), in continuous pixel coordinates without "+1" widths:
//   dx = wx * (gx - rx) / rw,  dy = wy * (gy - ry) / rh,  dw = ww * log(gw / rw),  dh = wh * log(gh / rh)
// where (x, y) are centres. The weights are the inverse of the target standard deviations: (1, 1, 1, 1)
// for the RPN, (10, 10, 5, 5) for the R-CNN head (stds 0.1, 0.1, 0.2, 0.2). Decoding clamps dw and dh at
// log(1000 / 16) so a wild prediction cannot overflow exp().
//
// Devices: any. CPU float tensors that autograd does not track take scalar loops over their data
// (the same float operations in the same order); everything else, CUDA included, takes the ATen
// tensor path, which runs where the tensors are.
#include <torch/types.h>

#include <array>

namespace cvtk::detection {

class BoxCoder {
 public:
  explicit BoxCoder(std::array<double, 4> weights = {1, 1, 1, 1});
  // boxes, references: [N, 4] -> deltas [N, 4].
  torch::Tensor encode(const torch::Tensor& boxes, const torch::Tensor& references) const;
  // deltas [N, 4 * k] (k boxes per reference), references [N, 4] -> boxes [N, 4 * k].
  torch::Tensor decode(const torch::Tensor& deltas, const torch::Tensor& references) const;
  const std::array<double, 4>& weights() const { return weights_; }

 private:
  std::array<double, 4> weights_;
};

// Clips boxes [N, 4] to [0, width] x [0, height].
torch::Tensor clip_boxes(const torch::Tensor& boxes, double width, double height);

}  // namespace cvtk::detection
