#include "vision/kernels/depthwise_conv.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "vision/kernels/cpu_features.h"
#include "vision/nn/tracked.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define CVTK_DEPTHWISE_AVX2 1
#endif

namespace cvtk::vision {
namespace {

struct Geometry {
  const float* in;
  const float* taps;
  const float* bias;     // nullptr: no bias
  const float* in_bias;  // C zeros when the input has no bias to add
  float* out;
  int64_t c, h, w, oh, ow, k, stride, pad;
  bool relu_in, relu_out;
  bool add_in_bias;  // in_bias is the caller's (else zeros, not added)
};

// One output row (image b, row y), any channel count, whatever the CPU.
void row_portable(const Geometry& g, int64_t b, int64_t y, float* acc) {
  const int64_t c = g.c, iy0 = y * g.stride - g.pad;
  const int64_t ky0 = std::max<int64_t>(0, -iy0), ky1 = std::min(g.k, g.h - iy0);
  for (int64_t xo = 0; xo < g.ow; ++xo) {
    const int64_t ix0 = xo * g.stride - g.pad;
    const int64_t kx0 = std::max<int64_t>(0, -ix0), kx1 = std::min(g.k, g.w - ix0);
    for (int64_t ch = 0; ch < c; ++ch) acc[ch] = g.bias ? g.bias[ch] : 0.f;
    for (int64_t ky = ky0; ky < ky1; ++ky)
      for (int64_t kx = kx0; kx < kx1; ++kx) {
        const float* src = g.in + ((b * g.h + iy0 + ky) * g.w + ix0 + kx) * c;
        const float* t = g.taps + (ky * g.k + kx) * c;
        // std::max(v, 0) keeps NaN, as torch's relu does.
        if (g.relu_in)
          for (int64_t ch = 0; ch < c; ++ch) acc[ch] += std::max(src[ch] + g.in_bias[ch], 0.f) * t[ch];
        else
          for (int64_t ch = 0; ch < c; ++ch) acc[ch] += (src[ch] + g.in_bias[ch]) * t[ch];
      }
    float* dst = g.out + ((b * g.oh + y) * g.ow + xo) * c;
    for (int64_t ch = 0; ch < c; ++ch) dst[ch] = g.relu_out ? std::max(acc[ch], 0.f) : acc[ch];
  }
}

#ifdef CVTK_DEPTHWISE_AVX2

#define CVTK_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

// kFull: all 8 lanes are channels; otherwise the lanes past the channel count are masked off.
template <bool kFull>
CVTK_AVX2 __m256 load8(const float* p, __m256i mask) {
  if constexpr (kFull)
    return _mm256_loadu_ps(p);
  else
    return _mm256_maskload_ps(p, mask);
}

// max(0, v + b) with v second: _mm256_max_ps returns its second operand when either is NaN.
template <bool kFull, bool kRelu, bool kBias>
CVTK_AVX2 __m256 load_input(const float* p, __m256 b, __m256i mask) {
  __m256 v = load8<kFull>(p, mask);
  if constexpr (kBias) v = _mm256_add_ps(v, b);
  if constexpr (kRelu)
    return _mm256_max_ps(_mm256_setzero_ps(), v);
  else
    return v;
}

template <bool kFull>
CVTK_AVX2 void store8(float* p, __m256 v, __m256i mask, bool relu) {
  if (relu) v = _mm256_max_ps(_mm256_setzero_ps(), v);
  if constexpr (kFull)
    _mm256_storeu_ps(p, v);
  else
    _mm256_maskstore_ps(p, mask, v);
}

// Channels [cb, cb + 8) of one output row. Four neighbouring interior pixels share each tap's weight
// load and give four independent FMA chains; border pixels skip the taps that fall in the padding.
template <bool kFull, bool kReluIn, bool kBias>
__attribute__((target("avx2,fma"))) void block_avx2(const Geometry& g, int64_t b, int64_t y, int64_t cb, __m256i mask) {
  const int64_t c = g.c, k = g.k, s = g.stride, iy0 = y * s - g.pad;
  const int64_t ky0 = std::max<int64_t>(0, -iy0), ky1 = std::min(k, g.h - iy0);
  // Interior: output columns whose taps all fall inside the image horizontally.
  const int64_t in_lo = (g.pad + s - 1) / s;
  const int64_t in_hi = g.w + g.pad - k >= 0 ? (g.w + g.pad - k) / s + 1 : 0;
  const float* image = g.in + b * g.h * g.w * c + cb;
  const float* taps = g.taps + cb;
  float* out = g.out + (b * g.oh + y) * g.ow * c + cb;
  const __m256 bias = g.bias ? load8<kFull>(g.bias + cb, mask) : _mm256_setzero_ps();
  const __m256 ib = load8<kFull>(g.in_bias + cb, mask);
  int64_t xo = 0;
  while (xo < g.ow) {
    if (xo >= in_lo && xo + 4 <= in_hi) {
      __m256 a0 = bias, a1 = bias, a2 = bias, a3 = bias;
      for (int64_t ky = ky0; ky < ky1; ++ky) {
        const float* p = image + ((iy0 + ky) * g.w + xo * s - g.pad) * c;
        const float* t = taps + ky * k * c;
        for (int64_t kx = 0; kx < k; ++kx, p += c, t += c) {
          const __m256 wv = load8<kFull>(t, mask);
          a0 = _mm256_fmadd_ps(load_input<kFull, kReluIn, kBias>(p, ib, mask), wv, a0);
          a1 = _mm256_fmadd_ps(load_input<kFull, kReluIn, kBias>(p + s * c, ib, mask), wv, a1);
          a2 = _mm256_fmadd_ps(load_input<kFull, kReluIn, kBias>(p + 2 * s * c, ib, mask), wv, a2);
          a3 = _mm256_fmadd_ps(load_input<kFull, kReluIn, kBias>(p + 3 * s * c, ib, mask), wv, a3);
        }
      }
      store8<kFull>(out + xo * c, a0, mask, g.relu_out);
      store8<kFull>(out + (xo + 1) * c, a1, mask, g.relu_out);
      store8<kFull>(out + (xo + 2) * c, a2, mask, g.relu_out);
      store8<kFull>(out + (xo + 3) * c, a3, mask, g.relu_out);
      xo += 4;
      continue;
    }
    const int64_t ix0 = xo * s - g.pad;
    const int64_t kx0 = std::max<int64_t>(0, -ix0), kx1 = std::min(k, g.w - ix0);
    __m256 a = bias;
    for (int64_t ky = ky0; ky < ky1; ++ky)
      for (int64_t kx = kx0; kx < kx1; ++kx)
        a = _mm256_fmadd_ps(load_input<kFull, kReluIn, kBias>(image + ((iy0 + ky) * g.w + ix0 + kx) * c, ib, mask),
                            load8<kFull>(taps + (ky * k + kx) * c, mask), a);
    store8<kFull>(out + xo * c, a, mask, g.relu_out);
    ++xo;
  }
}

// The block body for this call's input epilogue (bias added or not, ReLU or not).
template <bool kFull>
__attribute__((target("avx2,fma"))) void block_dispatch(const Geometry& g, int64_t b, int64_t y, int64_t cb,
                                                        __m256i mask) {
  if (g.relu_in)
    g.add_in_bias ? block_avx2<kFull, true, true>(g, b, y, cb, mask)
                  : block_avx2<kFull, true, false>(g, b, y, cb, mask);
  else
    g.add_in_bias ? block_avx2<kFull, false, true>(g, b, y, cb, mask)
                  : block_avx2<kFull, false, false>(g, b, y, cb, mask);
}

__attribute__((target("avx2,fma"))) void row_avx2(const Geometry& g, int64_t b, int64_t y) {
  const __m256i all = _mm256_set1_epi32(-1);
  int64_t cb = 0;
  for (; cb + 8 <= g.c; cb += 8) block_dispatch<true>(g, b, y, cb, all);
  if (cb < g.c) {
    const __m256i mask =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(int(g.c - cb)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    block_dispatch<false>(g, b, y, cb, mask);
  }
}

#endif  // CVTK_DEPTHWISE_AVX2

}  // namespace

bool depthwise_fast_path(const torch::Tensor& x) {
  return x.dim() == 4 && x.device().is_cpu() && x.scalar_type() == torch::kFloat &&
         x.is_contiguous(torch::MemoryFormat::ChannelsLast) && !tracked({x});
}

torch::Tensor depthwise_taps(const torch::Tensor& weight) {
  TORCH_CHECK(weight.dim() == 4 && weight.size(1) == 1 && weight.size(2) == weight.size(3),
              "depthwise_taps: expected a weight [C, 1, k, k], got ", weight.sizes());
  return weight.reshape({weight.size(0), -1}).t().contiguous();
}

torch::Tensor depthwise_conv2d(const torch::Tensor& x, const torch::Tensor& taps, const torch::Tensor& bias,
                               int64_t kernel, int64_t stride, int64_t padding, const Epilogue& input,
                               bool relu_output) {
  const torch::Tensor& input_bias = input.bias;
  const bool relu_input = input.relu;
  TORCH_CHECK(depthwise_fast_path(x),
              "depthwise_conv2d: expected an untracked CPU float ChannelsLast [N, C, H, W] input, got ", x.sizes(), " ",
              x.scalar_type());
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  TORCH_CHECK(kernel > 0 && stride > 0 && padding >= 0, "depthwise_conv2d: bad kernel/stride/padding ", kernel, "/",
              stride, "/", padding);
  TORCH_CHECK(taps.dim() == 2 && taps.size(0) == kernel * kernel && taps.size(1) == c && taps.is_contiguous() &&
                  taps.scalar_type() == torch::kFloat,
              "depthwise_conv2d: expected taps [", kernel * kernel, ", ", c, "] contiguous float, got ", taps.sizes());
  TORCH_CHECK(!bias.defined() || (bias.numel() == c && bias.is_contiguous() && bias.scalar_type() == torch::kFloat),
              "depthwise_conv2d: expected a bias of ", c, " floats");
  TORCH_CHECK(!input_bias.defined() ||
                  (input_bias.numel() == c && input_bias.is_contiguous() && input_bias.scalar_type() == torch::kFloat),
              "depthwise_conv2d: expected an input bias of ", c, " floats");
  thread_local std::vector<float> zeros;  // the input bias when there is none, without an allocation per call
  if (!input_bias.defined() && zeros.size() < size_t(c)) zeros.assign(size_t(c), 0.f);
  const int64_t oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1;
  TORCH_CHECK(h + 2 * padding >= kernel && w + 2 * padding >= kernel, "depthwise_conv2d: a ", h, "x", w,
              " map is smaller than the ", kernel, "x", kernel, " kernel");
  auto out = torch::empty({n, c, oh, ow}, x.options().memory_format(torch::MemoryFormat::ChannelsLast));
  if (out.numel() == 0) return out;
  const Geometry g{x.data_ptr<float>(),
                   taps.data_ptr<float>(),
                   bias.defined() ? bias.data_ptr<float>() : nullptr,
                   input_bias.defined() ? input_bias.data_ptr<float>() : zeros.data(),
                   out.data_ptr<float>(),
                   c,
                   h,
                   w,
                   oh,
                   ow,
                   kernel,
                   stride,
                   padding,
                   relu_input,
                   relu_output,
                   input_bias.defined()};
  at::parallel_for(0, n * oh, 1, [&](int64_t begin, int64_t end) {
#ifdef CVTK_DEPTHWISE_AVX2
    if (use_avx2_kernels()) {
      for (int64_t r = begin; r < end; ++r) row_avx2(g, r / oh, r % oh);
      return;
    }
#endif
    std::vector<float> acc(c);
    for (int64_t r = begin; r < end; ++r) row_portable(g, r / oh, r % oh, acc.data());
  });
  return out;
}

}  // namespace cvtk::vision
