#include "detection/ps_roi_align.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <vector>

#include "detection/ps_roi_align_generic.h"

namespace cvtk::detection {

PsRoiAlignOptions PsRoiAlignOptions::torchvision(int pooled_size, int output_channels, double spatial_scale,
                                                 int sampling_ratio) {
  PsRoiAlignOptions o;
  o.pooled_size = pooled_size;
  o.output_channels = output_channels;
  o.spatial_scale = spatial_scale;
  o.sampling_ratio = sampling_ratio;
  o.offset = 0.5;
  o.min_roi_size = 0.0;
  o.reduce = PsReduce::mean;
  return o;
}

namespace {

// A RoI on the feature map: top-left corner, bin size and sampling grid.
template <typename T>
struct RoiGeometry {
  int64_t batch;
  T y0, x0, bin_h, bin_w;
  int grid_h, grid_w;
};

template <typename T>
RoiGeometry<T> roi_geometry(const T* roi, const PsRoiAlignOptions& o) {
  const T scale = static_cast<T>(o.spatial_scale), offset = static_cast<T>(o.offset);
  const T min_size = static_cast<T>(o.min_roi_size), p = static_cast<T>(o.pooled_size);
  RoiGeometry<T> g;
  g.batch = static_cast<int64_t>(roi[0]);
  g.x0 = roi[1] * scale - offset;
  g.y0 = roi[2] * scale - offset;
  const T w = std::max(roi[3] * scale - offset - g.x0, min_size);
  const T h = std::max(roi[4] * scale - offset - g.y0, min_size);
  g.bin_h = h / p;
  g.bin_w = w / p;
  g.grid_h = o.sampling_ratio > 0 ? o.sampling_ratio : std::max(1, static_cast<int>(std::ceil(h / p)));
  g.grid_w = o.sampling_ratio > 0 ? o.sampling_ratio : std::max(1, static_cast<int>(std::ceil(w / p)));
  return g;
}

// Bilinear interpolation is separable: a sample (y, x) reads rows (lo, hi) with weights (w_lo, w_hi) and
// columns likewise. A coordinate outside [-1, size] gets zero weights (so the sample reads 0 and scatters
// nothing); otherwise it is clamped to [0, size - 1].
template <typename T>
struct Axis {
  int32_t lo, hi;
  T w_lo, w_hi;
};

template <typename T>
inline Axis<T> axis(T v, int64_t size) {
  if (v < -1 || v > size) return {0, 0, 0, 0};
  if (v <= 0) v = 0;
  int64_t lo = static_cast<int64_t>(v), hi;
  if (lo >= size - 1) {
    hi = lo = size - 1;
    v = static_cast<T>(lo);
  } else {
    hi = lo + 1;
  }
  const T l = v - lo;
  return {static_cast<int32_t>(lo), static_cast<int32_t>(hi), 1 - l, l};
}

// The sample coordinates of every RoI along both axes: for RoI r, ys[y_begin[r] + i * grid_h + iy] is
// sample row iy of bin row i, xs[x_begin[r] + j * grid_w + ix] sample column ix of bin column j.
template <typename T>
struct Samples {
  std::vector<RoiGeometry<T>> geometry;
  std::vector<int64_t> y_begin, x_begin;
  std::vector<Axis<T>> ys, xs;
};

// One sample resolved against a map's strides: the element offsets of its four neighbours within a
// channel plane (row-major: top-left, top-right, bottom-left, bottom-right) and the axis weights. row /
// pixel are the element strides between rows and between neighbouring pixels of one channel (W and 1 for
// NCHW maps, W*C and C for pixel-major ones).
template <typename T>
struct Tap {
  int64_t o[4];
  T y_lo, y_hi, x_lo, x_hi;
};

template <typename T>
inline Tap<T> tap(const Axis<T>& y, const Axis<T>& x, int64_t row, int64_t pixel) {
  return {{y.lo * row + x.lo * pixel, y.lo * row + x.hi * pixel, y.hi * row + x.lo * pixel, y.hi * row + x.hi * pixel},
          y.w_lo,
          y.w_hi,
          x.w_lo,
          x.w_hi};
}

template <typename T>
inline T read(const T* plane, const Tap<T>& t) {
  return t.y_lo * (t.x_lo * plane[t.o[0]] + t.x_hi * plane[t.o[1]]) +
         t.y_hi * (t.x_lo * plane[t.o[2]] + t.x_hi * plane[t.o[3]]);
}

template <typename T>
inline void scatter(T* plane, int64_t width, const Axis<T>& y, const Axis<T>& x, T g) {
  T* lo = plane + y.lo * width;
  T* hi = plane + y.hi * width;
  const T g_lo = g * y.w_lo, g_hi = g * y.w_hi;
  lo[x.lo] += g_lo * x.w_lo;
  lo[x.hi] += g_lo * x.w_hi;
  hi[x.lo] += g_hi * x.w_lo;
  hi[x.hi] += g_hi * x.w_hi;
}

void check_inputs(const torch::Tensor& features, const torch::Tensor& rois, const PsRoiAlignOptions& o) {
  TORCH_CHECK(o.pooled_size > 0 && o.output_channels > 0, "ps_roi_align: pooled_size and output_channels must be ",
              "positive, got ", o.pooled_size, " and ", o.output_channels);
  TORCH_CHECK(features.dim() == 4, "ps_roi_align: features should be a 4d tensor [N, C, H, W], got ", features.dim(),
              "D ", features.sizes());
  TORCH_CHECK(features.scalar_type() == torch::kFloat || features.scalar_type() == torch::kDouble,
              "ps_roi_align: features should be float32 or float64, got ", features.scalar_type());
  const int64_t want = int64_t(o.output_channels) * o.pooled_size * o.pooled_size;
  TORCH_CHECK(features.size(1) == want,
              "ps_roi_align: features should have output_channels * pooled_size^2 = ", o.output_channels, " * ",
              o.pooled_size, "^2 = ", want, " channels, got ", features.size(1));
  TORCH_CHECK(rois.dim() == 2 && rois.size(1) == 5,
              "ps_roi_align: rois should be [R, 5] (batch_index, x1, y1, x2, y2), ", "got ", rois.sizes());
  TORCH_CHECK(features.device() == rois.device(), "ps_roi_align: features and rois should be on the same device, got ",
              features.device(), " and ", rois.device());
}

template <typename T>
Samples<T> make_samples(const torch::Tensor& rois, const PsRoiAlignOptions& o, int64_t batch, int64_t height,
                        int64_t width) {
  const int64_t n = rois.size(0);
  const int p = o.pooled_size;
  const T* r = rois.data_ptr<T>();
  Samples<T> s;
  s.geometry.resize(n);
  s.y_begin.resize(n);
  s.x_begin.resize(n);
  for (int64_t k = 0; k < n; ++k) {
    const auto g = s.geometry[k] = roi_geometry(r + 5 * k, o);
    TORCH_CHECK(g.batch >= 0 && g.batch < batch, "ps_roi_align: roi ", k, " has batch index ", r[5 * k],
                ", outside [0, ", batch, ")");
    s.y_begin[k] = static_cast<int64_t>(s.ys.size());
    s.x_begin[k] = static_cast<int64_t>(s.xs.size());
    // Sample iy of bin row i sits at (iy + 0.5) / grid_h of the bin.
    for (int i = 0; i < p; ++i)
      for (int iy = 0; iy < g.grid_h; ++iy)
        s.ys.push_back(
            axis(g.y0 + i * g.bin_h + static_cast<T>(iy + T(0.5)) * g.bin_h / static_cast<T>(g.grid_h), height));
    for (int j = 0; j < p; ++j)
      for (int ix = 0; ix < g.grid_w; ++ix)
        s.xs.push_back(
            axis(g.x0 + j * g.bin_w + static_cast<T>(ix + T(0.5)) * g.bin_w / static_cast<T>(g.grid_w), width));
  }
  return s;
}

// Forward: output [R, alpha, p, p] and, for max, the argmax sample of each bin (-1 when it has none).
std::pair<torch::Tensor, torch::Tensor> forward_impl(const torch::Tensor& features_in, const torch::Tensor& rois_in,
                                                     const PsRoiAlignOptions& o) {
  // Pixel-major (ChannelsLast) maps, what prepared models produce, are read in place rather than copied.
  const bool pixel_major = features_in.is_contiguous(torch::MemoryFormat::ChannelsLast) && !features_in.is_contiguous();
  const auto features = pixel_major ? features_in : features_in.contiguous();
  const auto rois = rois_in.to(features.scalar_type()).contiguous();
  const int64_t R = rois.size(0), C = features.size(1), H = features.size(2), W = features.size(3);
  const int64_t channel_stride = pixel_major ? 1 : H * W, row_stride = pixel_major ? W * C : W,
                pixel_stride = pixel_major ? C : 1;
  const int p = o.pooled_size, alpha = o.output_channels;
  auto output = torch::zeros({R, alpha, p, p}, features.options());
  auto argmax =
      torch::full({o.reduce == PsReduce::max ? R : 0, alpha, p, p}, -1, features.options().dtype(torch::kInt));
  if (R == 0 || H == 0 || W == 0) return {output, argmax};
  AT_DISPATCH_FLOATING_TYPES(features.scalar_type(), "ps_roi_align_forward", [&] {
    const auto samples = make_samples<scalar_t>(rois, o, features.size(0), H, W);
    const scalar_t* in = features.data_ptr<scalar_t>();
    scalar_t* out = output.data_ptr<scalar_t>();
    int32_t* arg = argmax.data_ptr<int32_t>();
    const bool is_max = o.reduce == PsReduce::max;
    at::parallel_for(0, R, 4, [&](int64_t begin, int64_t end) {
      std::vector<Tap<scalar_t>> taps;
      for (int64_t r = begin; r < end; ++r) {
        const auto& g = samples.geometry[r];
        const scalar_t* image = in + g.batch * C * H * W;
        const int gh = g.grid_h, gw = g.grid_w;
        const scalar_t count = static_cast<scalar_t>(gh * gw);
        taps.resize(size_t(gh) * gw);
        for (int i = 0; i < p; ++i) {
          const Axis<scalar_t>* ys = samples.ys.data() + samples.y_begin[r] + i * gh;
          for (int j = 0; j < p; ++j) {
            const Axis<scalar_t>* xs = samples.xs.data() + samples.x_begin[r] + j * gw;
            // The bin's samples, resolved once for its alpha channels.
            for (int iy = 0; iy < gh; ++iy)
              for (int ix = 0; ix < gw; ++ix) taps[iy * gw + ix] = tap(ys[iy], xs[ix], row_stride, pixel_stride);
            for (int c = 0; c < alpha; ++c) {
              const scalar_t* plane = image + ((int64_t(c) * p + i) * p + j) * channel_stride;
              const int64_t o_idx = ((r * alpha + c) * p + i) * p + j;
              if (is_max) {
                scalar_t best = -std::numeric_limits<scalar_t>::infinity();
                int best_k = -1;
                for (int k = 0; k < gh * gw; ++k) {
                  const scalar_t v = read(plane, taps[k]);
                  if (v > best) best = v, best_k = k;
                }
                out[o_idx] = best_k < 0 ? scalar_t(0) : best;
                arg[o_idx] = best_k;
              } else {
                scalar_t sum = 0;
                for (int k = 0; k < gh * gw; ++k) sum += read(plane, taps[k]);
                out[o_idx] = sum / count;
              }
            }
          }
        }
      }
    });
  });
  return {output, argmax};
}

// Backward: parallel over (image, input channel); each task owns one plane of grad_input, so no races.
torch::Tensor backward_impl(const torch::Tensor& grad_in, const torch::Tensor& rois_in, const torch::Tensor& argmax,
                            const std::vector<int64_t>& shape, const PsRoiAlignOptions& o) {
  const auto grad = grad_in.contiguous();
  const auto rois = rois_in.to(grad.scalar_type()).contiguous();
  const int64_t N = shape[0], C = shape[1], H = shape[2], W = shape[3], R = rois.size(0);
  auto grad_input = torch::zeros(shape, grad.options());
  if (R == 0 || H == 0 || W == 0) return grad_input;
  const int p = o.pooled_size, alpha = o.output_channels;
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "ps_roi_align_backward", [&] {
    const auto samples = make_samples<scalar_t>(rois, o, N, H, W);
    std::vector<std::vector<int64_t>> by_image(N);
    for (int64_t r = 0; r < R; ++r) by_image[samples.geometry[r].batch].push_back(r);
    const scalar_t* go = grad.data_ptr<scalar_t>();
    const int32_t* arg = o.reduce == PsReduce::max ? argmax.data_ptr<int32_t>() : nullptr;
    scalar_t* gi = grad_input.data_ptr<scalar_t>();
    at::parallel_for(0, N * C, 8, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const int64_t n = t / C, cin = t % C;
        const int c = static_cast<int>(cin / (int64_t(p) * p)), i = static_cast<int>((cin / p) % p),
                  j = static_cast<int>(cin % p);
        scalar_t* plane = gi + t * H * W;
        for (const int64_t r : by_image[n]) {
          const int64_t o_idx = ((r * alpha + c) * p + i) * p + j;
          const scalar_t g_out = go[o_idx];
          if (g_out == 0) continue;
          const int gh = samples.geometry[r].grid_h, gw = samples.geometry[r].grid_w;
          const Axis<scalar_t>* ys = samples.ys.data() + samples.y_begin[r] + i * gh;
          const Axis<scalar_t>* xs = samples.xs.data() + samples.x_begin[r] + j * gw;
          if (arg) {
            const int k = arg[o_idx];
            if (k >= 0) scatter(plane, W, ys[k / gw], xs[k % gw], g_out);
          } else {
            const scalar_t share = g_out / (gh * gw);
            for (int iy = 0; iy < gh; ++iy)
              for (int ix = 0; ix < gw; ++ix) scatter(plane, W, ys[iy], xs[ix], share);
          }
        }
      }
    });
  });
  return grad_input;
}

class PsRoiAlignFunction : public torch::autograd::Function<PsRoiAlignFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& features,
                               const torch::Tensor& rois, const PsRoiAlignOptions& o) {
    auto [output, argmax] = forward_impl(features, rois, o);
    ctx->saved_data["rois"] = rois;
    ctx->saved_data["argmax"] = argmax;
    ctx->saved_data["shape"] = features.sizes().vec();
    ctx->saved_data["pooled_size"] = int64_t(o.pooled_size);
    ctx->saved_data["output_channels"] = int64_t(o.output_channels);
    ctx->saved_data["spatial_scale"] = o.spatial_scale;
    ctx->saved_data["sampling_ratio"] = int64_t(o.sampling_ratio);
    ctx->saved_data["offset"] = o.offset;
    ctx->saved_data["min_roi_size"] = o.min_roi_size;
    ctx->saved_data["max"] = o.reduce == PsReduce::max;
    return output;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    PsRoiAlignOptions o;
    o.pooled_size = static_cast<int>(ctx->saved_data["pooled_size"].toInt());
    o.output_channels = static_cast<int>(ctx->saved_data["output_channels"].toInt());
    o.spatial_scale = ctx->saved_data["spatial_scale"].toDouble();
    o.sampling_ratio = static_cast<int>(ctx->saved_data["sampling_ratio"].toInt());
    o.offset = ctx->saved_data["offset"].toDouble();
    o.min_roi_size = ctx->saved_data["min_roi_size"].toDouble();
    o.reduce = ctx->saved_data["max"].toBool() ? PsReduce::max : PsReduce::mean;
    const auto shape = ctx->saved_data["shape"].toIntVector();
    auto grad_input = backward_impl(grad_outputs[0], ctx->saved_data["rois"].toTensor(),
                                    ctx->saved_data["argmax"].toTensor(), shape, o);
    return {grad_input, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor ps_roi_align(const torch::Tensor& features, const torch::Tensor& rois, const PsRoiAlignOptions& options) {
  check_inputs(features, rois, options);
  // The kernel above is CPU code (data pointers, at::parallel_for); every other device gets the ATen version.
  if (!features.device().is_cpu()) return ps_roi_align_generic(features, rois, options);
  return PsRoiAlignFunction::apply(features, rois.detach(), options);
}

}  // namespace cvtk::detection
