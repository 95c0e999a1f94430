#include "vision/kernels/channel_concat.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "vision/nn/tracked.h"

namespace cvtk::vision {

bool pixel_rows(const torch::Tensor& x, int64_t* pixel_stride) {
  if (x.dim() != 4) return false;
  const int64_t c = x.size(1), h = x.size(2), w = x.size(3), s = x.stride(3);
  const bool rows = (x.stride(1) == 1 || c == 1) && s >= c && (h == 1 || x.stride(2) == w * s) &&
                    (x.size(0) == 1 || x.stride(0) == h * w * s);
  if (rows && pixel_stride) *pixel_stride = s;
  return rows;
}

namespace {

inline float act(float v, bool relu) { return relu ? std::max(v, 0.f) : v; }  // std::max(NaN, 0) is NaN

bool valid_bias(const torch::Tensor& bias, int64_t c) {
  return !bias.defined() ||
         (bias.numel() == c && bias.is_contiguous() && bias.scalar_type() == torch::kFloat && bias.device().is_cpu());
}

torch::Tensor reorder(const torch::Tensor& cat, ChannelOrder order) {
  const int64_t n = cat.size(0), c = cat.size(1), h = cat.size(2), w = cat.size(3);
  if (order == ChannelOrder::kConcat) return cat.contiguous(torch::MemoryFormat::ChannelsLast);
  const auto groups = order == ChannelOrder::kInterleave ? std::vector<int64_t>{n, 2, c / 2, h, w}
                                                         : std::vector<int64_t>{n, c / 2, 2, h, w};
  return cat.reshape(groups).transpose(1, 2).reshape({n, c, h, w}).contiguous(torch::MemoryFormat::ChannelsLast);
}

}  // namespace

torch::Tensor concat_channels(const torch::Tensor& a, const Epilogue& ea, const torch::Tensor& b, const Epilogue& eb,
                              ChannelOrder order) {
  const torch::Tensor &bias_a = ea.bias, &bias_b = eb.bias;
  const bool relu_a = ea.relu, relu_b = eb.relu;
  TORCH_CHECK(
      a.dim() == 4 && b.dim() == 4 && a.size(0) == b.size(0) && a.size(2) == b.size(2) && a.size(3) == b.size(3),
      "concat_channels: expected [N, C, H, W] maps of one size, got ", a.sizes(), " and ", b.sizes());
  const int64_t ca = a.size(1), cb = b.size(1), c = ca + cb;
  TORCH_CHECK(order == ChannelOrder::kConcat || c % 2 == 0, "concat_channels: ", c,
              " channels cannot be interleaved in two halves");
  int64_t sa = 0, sb = 0;
  TORCH_CHECK(!bias_a.defined() || bias_a.numel() == ca, "concat_channels: bias_a needs ", ca, " values");
  TORCH_CHECK(!bias_b.defined() || bias_b.numel() == cb, "concat_channels: bias_b needs ", cb, " values");
  const bool fast = !tracked({a, b, bias_a, bias_b}) && a.device().is_cpu() && b.device().is_cpu() &&
                    a.scalar_type() == torch::kFloat && b.scalar_type() == torch::kFloat && pixel_rows(a, &sa) &&
                    pixel_rows(b, &sb) && valid_bias(bias_a, ca) && valid_bias(bias_b, cb);
  if (!fast) return reorder(torch::cat({ea.apply(a), eb.apply(b)}, 1), order);
  thread_local std::vector<float> zeros;  // the bias of an input without one, without an allocation per call
  if (zeros.size() < size_t(std::max(ca, cb))) zeros.assign(size_t(std::max(ca, cb)), 0.f);
  const float* ba = bias_a.defined() ? bias_a.data_ptr<float>() : zeros.data();
  const float* bb = bias_b.defined() ? bias_b.data_ptr<float>() : zeros.data();

  const int64_t n = a.size(0), h = a.size(2), w = a.size(3), half = c / 2;
  auto out = torch::empty({n, c, h, w}, a.options().memory_format(torch::MemoryFormat::ChannelsLast));
  const float* pa = a.data_ptr<float>();
  const float* pb = b.data_ptr<float>();
  float* po = out.data_ptr<float>();
  at::parallel_for(0, n * h * w, 256, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float* ra = pa + p * sa;
      const float* rb = pb + p * sb;
      float* ro = po + p * c;
      // Channel i of cat(a, b), activated.
      auto src = [&](int64_t i) { return i < ca ? act(ra[i] + ba[i], relu_a) : act(rb[i - ca] + bb[i - ca], relu_b); };
      switch (order) {
        case ChannelOrder::kConcat:
          for (int64_t i = 0; i < ca; ++i) ro[i] = act(ra[i] + ba[i], relu_a);
          for (int64_t i = 0; i < cb; ++i) ro[ca + i] = act(rb[i] + bb[i], relu_b);
          break;
        case ChannelOrder::kInterleave:
          if (ca == half) {  // equal halves (every ShuffleNet unit): a's channels go even, b's odd
            for (int64_t i = 0; i < half; ++i) {
              ro[2 * i] = act(ra[i] + ba[i], relu_a);
              ro[2 * i + 1] = act(rb[i] + bb[i], relu_b);
            }
          } else {
            for (int64_t i = 0; i < half; ++i) {
              ro[2 * i] = src(i);
              ro[2 * i + 1] = src(half + i);
            }
          }
          break;
        case ChannelOrder::kDeinterleave:
          if (ca % 2 == 0) {  // pairs never straddle a and b: two plain loops the compiler vectorises
            for (int64_t i = 0; i < ca / 2; ++i) {
              ro[i] = act(ra[2 * i] + ba[2 * i], relu_a);
              ro[half + i] = act(ra[2 * i + 1] + ba[2 * i + 1], relu_a);
            }
            for (int64_t i = 0; i < cb / 2; ++i) {
              ro[ca / 2 + i] = act(rb[2 * i] + bb[2 * i], relu_b);
              ro[half + ca / 2 + i] = act(rb[2 * i + 1] + bb[2 * i + 1], relu_b);
            }
          } else {
            for (int64_t i = 0; i < half; ++i) {
              ro[i] = src(2 * i);
              ro[half + i] = src(2 * i + 1);
            }
          }
          break;
      }
    }
  });
  return out;
}

void scatter_channels(const float* src, int64_t lds, int64_t rows, int64_t count, const int64_t* dst_cols, float* dst,
                      int64_t ldd) {
  // Even channels to one run of columns and odd ones to another (the Megvii order) is two strided reads.
  bool split = count % 2 == 0;
  for (int64_t i = 2; split && i < count; ++i) split = dst_cols[i] == dst_cols[i - 2] + 1;
  const int64_t even = count ? dst_cols[0] : 0, odd = count > 1 ? dst_cols[1] : 0;
  at::parallel_for(0, rows, 512, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float* s = src + p * lds;
      float* d = dst + p * ldd;
      if (split) {
        for (int64_t i = 0; i < count / 2; ++i) d[even + i] = s[2 * i];
        for (int64_t i = 0; i < count / 2; ++i) d[odd + i] = s[2 * i + 1];
      } else {
        for (int64_t i = 0; i < count; ++i) d[dst_cols[i]] = s[i];
      }
    }
  });
}

}  // namespace cvtk::vision
