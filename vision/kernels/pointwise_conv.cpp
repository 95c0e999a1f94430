#include "vision/kernels/pointwise_conv.h"

#include <ATen/ATen.h>

#include "vision/kernels/channel_concat.h"
#include "vision/nn/macs.h"
#include "vision/nn/tracked.h"

namespace cvtk::vision {

torch::Tensor pointwise_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  TORCH_CHECK(
      x.dim() == 4 && weight.dim() == 4 && weight.size(2) == 1 && weight.size(3) == 1 && weight.size(1) == x.size(1),
      "pointwise_conv2d: expected x [N, C, H, W] and weight [O, C, 1, 1], got ", x.sizes(), " and ", weight.sizes());
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), out = weight.size(0);
  // At batch 1 on small maps these convolutions take tens of microseconds each, so the views are made
  // with one as_strided each instead of permute/reshape/t chains (a few microseconds per op).
  // Under autograd the ordinary view ops are kept: as_strided's backward is generic and slow.
  const bool autograd = tracked({x, weight, bias});
  int64_t pixel_stride = 0;
  const torch::Tensor rows = !autograd && pixel_rows(x, &pixel_stride)
                                 ? x.as_strided({n * h * w, c}, {pixel_stride, 1})
                                 : x.permute({0, 2, 3, 1}).reshape({n * h * w, c});
  const torch::Tensor wt =
      !autograd && weight.is_contiguous() ? weight.as_strided({c, out}, {1, c}) : weight.reshape({out, c}).t();
  torch::Tensor y = bias.defined() ? torch::addmm(bias, rows, wt) : torch::mm(rows, wt);
  MacCounter::add(y.numel() * c);
  if (autograd) return y.view({n, h, w, out}).permute({0, 3, 1, 2});
  return y.as_strided({n, out, h, w}, {h * w * out, 1, w * out, out});
}

}  // namespace cvtk::vision
