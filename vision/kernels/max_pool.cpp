#include "vision/kernels/max_pool.h"

#include "vision/kernels/cpu_features.h"
#include "vision/nn/tracked.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <limits>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define CVTK_MAX_POOL_AVX2 1
#endif

namespace cvtk::vision {
namespace {

struct PoolGeometry {
  const float* in;
  float* out;
  int64_t c, h, w, oh, ow, k, stride, pad;
};

// One output row (image b, row y) whatever the CPU.
void pool_row_portable(const PoolGeometry& g, int64_t b, int64_t y) {
  const int64_t c = g.c;
  const int64_t y0 = std::max<int64_t>(y * g.stride - g.pad, 0), y1 = std::min(y * g.stride - g.pad + g.k, g.h);
  for (int64_t xo = 0; xo < g.ow; ++xo) {
    float* dst = g.out + ((b * g.oh + y) * g.ow + xo) * c;
    for (int64_t k = 0; k < c; ++k) dst[k] = -std::numeric_limits<float>::infinity();
    const int64_t x0 = std::max<int64_t>(xo * g.stride - g.pad, 0), x1 = std::min(xo * g.stride - g.pad + g.k, g.w);
    for (int64_t yi = y0; yi < y1; ++yi)
      for (int64_t xi = x0; xi < x1; ++xi) {
        const float* src = g.in + ((b * g.h + yi) * g.w + xi) * c;
        for (int64_t k = 0; k < c; ++k) {
          const float v = src[k], m = dst[k];
          dst[k] = (v > m || v != v) ? v : m;
        }
      }
  }
}

#ifdef CVTK_MAX_POOL_AVX2

// 8 channels at a time; NaN is tracked in a mask because vmaxps keeps only its second operand's NaN.
__attribute__((target("avx2"))) void pool_row_avx2(const PoolGeometry& g, int64_t b, int64_t y) {
  const int64_t c = g.c;
  const int64_t y0 = std::max<int64_t>(y * g.stride - g.pad, 0), y1 = std::min(y * g.stride - g.pad + g.k, g.h);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256 nan = _mm256_set1_ps(std::numeric_limits<float>::quiet_NaN());
  for (int64_t xo = 0; xo < g.ow; ++xo) {
    const int64_t x0 = std::max<int64_t>(xo * g.stride - g.pad, 0), x1 = std::min(xo * g.stride - g.pad + g.k, g.w);
    float* dst = g.out + ((b * g.oh + y) * g.ow + xo) * c;
    for (int64_t cb = 0; cb < c; cb += 8) {
      const bool full = cb + 8 <= c;
      const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(std::min<int64_t>(c - cb, 8))), lane);
      __m256 m = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
      __m256 seen_nan = _mm256_setzero_ps();
      for (int64_t yi = y0; yi < y1; ++yi)
        for (int64_t xi = x0; xi < x1; ++xi) {
          const float* src = g.in + ((b * g.h + yi) * g.w + xi) * c + cb;
          const __m256 v = full ? _mm256_loadu_ps(src) : _mm256_maskload_ps(src, mask);
          m = _mm256_max_ps(m, v);
          seen_nan = _mm256_or_ps(seen_nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        }
      m = _mm256_blendv_ps(m, nan, seen_nan);
      if (full)
        _mm256_storeu_ps(dst + cb, m);
      else
        _mm256_maskstore_ps(dst + cb, mask, m);
    }
  }
}

#endif  // CVTK_MAX_POOL_AVX2

}  // namespace

torch::Tensor max_pool2d(const torch::Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  const bool fast = x.dim() == 4 && x.device().is_cpu() && x.scalar_type() == torch::kFloat &&
                    x.is_contiguous(torch::MemoryFormat::ChannelsLast) && !tracked({x}) && kernel > 0 && stride > 0 &&
                    padding >= 0 && 2 * padding <= kernel;
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t oh = fast ? (h + 2 * padding - kernel) / stride + 1 : 0,
                ow = fast ? (w + 2 * padding - kernel) / stride + 1 : 0;
  if (!fast || oh <= 0 || ow <= 0 || c == 0) return torch::max_pool2d(x, kernel, stride, padding);
  auto out = torch::empty({n, c, oh, ow}, x.options().memory_format(torch::MemoryFormat::ChannelsLast));
  const PoolGeometry g{x.data_ptr<float>(), out.data_ptr<float>(), c, h, w, oh, ow, kernel, stride, padding};
  at::parallel_for(0, n * oh, 1, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
#ifdef CVTK_MAX_POOL_AVX2
      if (use_avx2_kernels()) {
        pool_row_avx2(g, row / oh, row % oh);
        continue;
      }
#endif
      pool_row_portable(g, row / oh, row % oh);
    }
  });
  return out;
}

}  // namespace cvtk::vision
