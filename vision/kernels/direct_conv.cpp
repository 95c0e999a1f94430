#include "vision/kernels/direct_conv.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "vision/kernels/cpu_features.h"
#include "vision/nn/tracked.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define CVTK_DIRECT_CONV_AVX2 1
#endif

namespace cvtk::vision {
namespace {

struct Geometry {
  const float* in;
  int64_t sn, sc, sh, sw;  // input strides in elements
  const float* taps;       // [cin * k * k, cout]
  const float* bias;       // nullptr: none
  float* out;              // [n, oh, ow, cout]
  int64_t cin, cout, h, w, oh, ow, k, stride, pad;
  bool relu;
};

// One output row (image b, row y), whatever the CPU.
void row_portable(const Geometry& g, int64_t b, int64_t y, float* acc) {
  const int64_t iy0 = y * g.stride - g.pad;
  const int64_t ky0 = std::max<int64_t>(0, -iy0), ky1 = std::min(g.k, g.h - iy0);
  for (int64_t xo = 0; xo < g.ow; ++xo) {
    const int64_t ix0 = xo * g.stride - g.pad;
    const int64_t kx0 = std::max<int64_t>(0, -ix0), kx1 = std::min(g.k, g.w - ix0);
    for (int64_t o = 0; o < g.cout; ++o) acc[o] = g.bias ? g.bias[o] : 0.f;
    for (int64_t ci = 0; ci < g.cin; ++ci)
      for (int64_t ky = ky0; ky < ky1; ++ky)
        for (int64_t kx = kx0; kx < kx1; ++kx) {
          const float v = g.in[b * g.sn + ci * g.sc + (iy0 + ky) * g.sh + (ix0 + kx) * g.sw];
          const float* t = g.taps + ((ci * g.k + ky) * g.k + kx) * g.cout;
          for (int64_t o = 0; o < g.cout; ++o) acc[o] += v * t[o];
        }
    float* dst = g.out + ((b * g.oh + y) * g.ow + xo) * g.cout;
    for (int64_t o = 0; o < g.cout; ++o) dst[o] = g.relu ? std::max(acc[o], 0.f) : acc[o];  // keeps NaN
  }
}

#ifdef CVTK_DIRECT_CONV_AVX2

#define CVTK_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

// Vector v of a group of NV: the last one is masked unless the group is full.
template <int NV, bool kFull>
CVTK_AVX2 __m256 load_lanes(const float* p, int v, __m256i mask) {
  if (!kFull && v == NV - 1) return _mm256_maskload_ps(p, mask);
  return _mm256_loadu_ps(p);
}

template <int NV, bool kFull>
CVTK_AVX2 void store_lanes(float* p, int v, __m256 x, __m256i mask, bool relu) {
  if (relu) x = _mm256_max_ps(_mm256_setzero_ps(), x);  // v second: NaN stays
  if (!kFull && v == NV - 1)
    _mm256_maskstore_ps(p, mask, x);
  else
    _mm256_storeu_ps(p, x);
}

// Output channels [cb, cb + 8 * NV) of one output row. Four neighbouring interior pixels share each
// tap's weight loads; border pixels skip the taps that fall in the padding.
template <int NV, bool kFull>
__attribute__((target("avx2,fma"))) void group_avx2(const Geometry& g, int64_t b, int64_t y, int64_t cb, __m256i mask) {
  // Locals, not g's fields: the stores through out may alias g as far as the compiler knows.
  const int64_t k = g.k, s = g.stride, co = g.cout, iy0 = y * s - g.pad, sc = g.sc, sh = g.sh, sw = g.sw;
  const int64_t ky0 = std::max<int64_t>(0, -iy0), ky1 = std::min(k, g.h - iy0);
  const int64_t in_lo = (g.pad + s - 1) / s;
  const int64_t in_hi = g.w + g.pad - k >= 0 ? (g.w + g.pad - k) / s + 1 : 0;
  const float* image = g.in + b * g.sn;
  const float* taps = g.taps + cb;
  float* out = g.out + (b * g.oh + y) * g.ow * co + cb;
  __m256 bias[NV];
  for (int v = 0; v < NV; ++v)
    bias[v] = g.bias ? load_lanes<NV, kFull>(g.bias + cb + 8 * v, v, mask) : _mm256_setzero_ps();
  int64_t xo = 0;
  while (xo < g.ow) {
    if (xo >= in_lo && xo + 4 <= in_hi) {
      __m256 acc[4][NV];
      for (int p = 0; p < 4; ++p)
        for (int v = 0; v < NV; ++v) acc[p][v] = bias[v];
      for (int64_t ci = 0; ci < g.cin; ++ci)
        for (int64_t ky = ky0; ky < ky1; ++ky) {
          const float* src = image + ci * sc + (iy0 + ky) * sh + (xo * s - g.pad) * sw;
          const float* t = taps + (ci * k + ky) * k * co;
          for (int64_t kx = 0; kx < k; ++kx, t += co) {
            __m256 wv[NV];
            for (int v = 0; v < NV; ++v) wv[v] = load_lanes<NV, kFull>(t + 8 * v, v, mask);
            for (int p = 0; p < 4; ++p) {
              const __m256 a = _mm256_broadcast_ss(src + (p * s + kx) * sw);
              for (int v = 0; v < NV; ++v) acc[p][v] = _mm256_fmadd_ps(a, wv[v], acc[p][v]);
            }
          }
        }
      for (int p = 0; p < 4; ++p)
        for (int v = 0; v < NV; ++v) store_lanes<NV, kFull>(out + (xo + p) * co + 8 * v, v, acc[p][v], mask, g.relu);
      xo += 4;
      continue;
    }
    const int64_t ix0 = xo * s - g.pad;
    const int64_t kx0 = std::max<int64_t>(0, -ix0), kx1 = std::min(k, g.w - ix0);
    __m256 acc[NV];
    for (int v = 0; v < NV; ++v) acc[v] = bias[v];
    for (int64_t ci = 0; ci < g.cin; ++ci)
      for (int64_t ky = ky0; ky < ky1; ++ky)
        for (int64_t kx = kx0; kx < kx1; ++kx) {
          const __m256 a = _mm256_broadcast_ss(image + ci * sc + (iy0 + ky) * sh + (ix0 + kx) * sw);
          const float* t = taps + ((ci * k + ky) * k + kx) * co;
          for (int v = 0; v < NV; ++v) acc[v] = _mm256_fmadd_ps(a, load_lanes<NV, kFull>(t + 8 * v, v, mask), acc[v]);
        }
    for (int v = 0; v < NV; ++v) store_lanes<NV, kFull>(out + xo * co + 8 * v, v, acc[v], mask, g.relu);
    ++xo;
  }
}

__attribute__((target("avx2,fma"))) void row_avx2(const Geometry& g, int64_t b, int64_t y) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i all = _mm256_set1_epi32(-1);
  int64_t cb = 0;
  for (; cb + 24 <= g.cout; cb += 24) group_avx2<3, true>(g, b, y, cb, all);
  const int64_t rest = g.cout - cb;
  if (rest == 0) return;
  const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(rest - 8 * ((rest - 1) / 8))), lane);
  const bool full = rest % 8 == 0;
  if (rest <= 8)
    full ? group_avx2<1, true>(g, b, y, cb, mask) : group_avx2<1, false>(g, b, y, cb, mask);
  else if (rest <= 16)
    full ? group_avx2<2, true>(g, b, y, cb, mask) : group_avx2<2, false>(g, b, y, cb, mask);
  else
    group_avx2<3, false>(g, b, y, cb, mask);
}

#endif  // CVTK_DIRECT_CONV_AVX2

}  // namespace

bool direct_conv_takes(const torch::Tensor& x) {
  return x.dim() == 4 && x.device().is_cpu() && x.scalar_type() == torch::kFloat && !tracked({x});
}

torch::Tensor direct_taps(const torch::Tensor& weight) {
  TORCH_CHECK(weight.dim() == 4 && weight.size(2) == weight.size(3),
              "direct_taps: expected a weight [Cout, Cin, k, k], got ", weight.sizes());
  return weight.reshape({weight.size(0), -1}).t().contiguous();
}

torch::Tensor direct_conv2d(const torch::Tensor& x, const torch::Tensor& taps, const torch::Tensor& bias,
                            int64_t kernel, int64_t stride, int64_t padding, bool relu) {
  TORCH_CHECK(direct_conv_takes(x), "direct_conv2d: expected an untracked CPU float [N, C, H, W] input, got ",
              x.sizes(), " ", x.scalar_type());
  TORCH_CHECK(kernel > 0 && stride > 0 && padding >= 0, "direct_conv2d: bad kernel/stride/padding ", kernel, "/",
              stride, "/", padding);
  const int64_t n = x.size(0), cin = x.size(1), h = x.size(2), w = x.size(3);
  TORCH_CHECK(cin > 0, "direct_conv2d: an input without channels");
  TORCH_CHECK(taps.dim() == 2 && taps.size(0) == cin * kernel * kernel && taps.is_contiguous() &&
                  taps.scalar_type() == torch::kFloat,
              "direct_conv2d: expected taps [", cin * kernel * kernel, ", Cout] contiguous float, got ", taps.sizes());
  const int64_t cout = taps.size(1);
  TORCH_CHECK(!bias.defined() || (bias.numel() == cout && bias.is_contiguous() && bias.scalar_type() == torch::kFloat),
              "direct_conv2d: expected a bias of ", cout, " floats");
  TORCH_CHECK(h + 2 * padding >= kernel && w + 2 * padding >= kernel, "direct_conv2d: a ", h, "x", w,
              " map is smaller than the ", kernel, "x", kernel, " kernel");
  const int64_t oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1;
  auto out = torch::empty({n, cout, oh, ow}, x.options().memory_format(torch::MemoryFormat::ChannelsLast));
  if (out.numel() == 0) return out;
  const Geometry g{x.data_ptr<float>(),
                   x.stride(0),
                   x.stride(1),
                   x.stride(2),
                   x.stride(3),
                   taps.data_ptr<float>(),
                   bias.defined() ? bias.data_ptr<float>() : nullptr,
                   out.data_ptr<float>(),
                   cin,
                   cout,
                   h,
                   w,
                   oh,
                   ow,
                   kernel,
                   stride,
                   padding,
                   relu};
  at::parallel_for(0, n * oh, 1, [&](int64_t begin, int64_t end) {
#ifdef CVTK_DIRECT_CONV_AVX2
    if (use_avx2_kernels()) {
      for (int64_t r = begin; r < end; ++r) row_avx2(g, r / oh, r % oh);
      return;
    }
#endif
    std::vector<float> acc(static_cast<size_t>(cout));
    for (int64_t r = begin; r < end; ++r) row_portable(g, r / oh, r % oh, acc.data());
  });
  return out;
}

}  // namespace cvtk::vision
