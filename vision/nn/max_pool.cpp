#include "vision/nn/max_pool.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <limits>

namespace cvtk::vision {

torch::Tensor max_pool2d(const torch::Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  const bool fast = x.dim() == 4 && x.device().is_cpu() && x.scalar_type() == torch::kFloat &&
                    x.is_contiguous(torch::MemoryFormat::ChannelsLast) && !(torch::GradMode::is_enabled() && x.requires_grad()) &&
                    kernel > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernel;
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t oh = fast ? (h + 2 * padding - kernel) / stride + 1 : 0, ow = fast ? (w + 2 * padding - kernel) / stride + 1 : 0;
  if (!fast || oh <= 0 || ow <= 0 || c == 0) return torch::max_pool2d(x, kernel, stride, padding);
  auto out = torch::empty({n, c, oh, ow}, x.options().memory_format(torch::MemoryFormat::ChannelsLast));
  const float* in = x.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, n * oh, 8, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t b = row / oh, y = row % oh;
      const int64_t y0 = std::max<int64_t>(y * stride - padding, 0), y1 = std::min(y * stride - padding + kernel, h);
      for (int64_t xo = 0; xo < ow; ++xo) {
        float* dst = o + (row * ow + xo) * c;
        for (int64_t k = 0; k < c; ++k) dst[k] = -std::numeric_limits<float>::infinity();
        const int64_t x0 = std::max<int64_t>(xo * stride - padding, 0), x1 = std::min(xo * stride - padding + kernel, w);
        for (int64_t yi = y0; yi < y1; ++yi)
          for (int64_t xi = x0; xi < x1; ++xi) {
            const float* src = in + ((b * h + yi) * w + xi) * c;
            for (int64_t k = 0; k < c; ++k) {
              const float v = src[k], m = dst[k];
              dst[k] = (v > m || v != v) ? v : m;
            }
          }
      }
    }
  });
  return out;
}

}  // namespace cvtk::vision
