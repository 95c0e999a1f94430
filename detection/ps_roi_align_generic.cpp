#include "detection/ps_roi_align_generic.h"

#include <torch/torch.h>

#include <limits>
#include <string>

namespace cvtk::detection {
namespace {

// v rounded to the features' dtype. The kernel converts its options to that dtype before any arithmetic;
// a scalar rounded the same way gives the same results whether ATen computes a float32 op with it in
// float or in double (double holds a product of two floats exactly and rounds sums only once).
c10::Scalar in_dtype(double v, torch::ScalarType t) { return t == torch::kFloat ? double(float(v)) : v; }

// Bilinear taps along one axis: the neighbours lo, hi (int64) and their weights, the kernel's rule. A
// coordinate outside [-1, size] gets zero weights and lo = hi = 0 (the sample reads 0); otherwise it is
// clamped to [0, size - 1], hi = min(lo + 1, size - 1) and w_hi = v - lo.
struct Taps {
  torch::Tensor lo, hi, w_lo, w_hi;
};

Taps axis_taps(const torch::Tensor& v, int64_t size) {
  const auto outside = (v < -1) | (v > size);
  const auto clamped = v.clamp(0, size - 1);
  const auto lo = clamped.floor();
  const auto l = clamped - lo;
  const auto lo_index = lo.to(torch::kLong);
  return {lo_index.masked_fill(outside, 0), (lo_index + 1).clamp_max(size - 1).masked_fill(outside, 0),
          (1 - l).masked_fill(outside, 0), l.masked_fill(outside, 0)};
}

Taps view(const Taps& t, at::IntArrayRef shape) {
  return {t.lo.view(shape), t.hi.view(shape), t.w_lo.view(shape), t.w_hi.view(shape)};
}

// The taps of one slot per output: t viewed as `shape` (slots last) and broadcast to slot's leading
// dimensions, then slot [..., 1] (int64) gathered from the last dimension.
Taps pick(const Taps& t, at::IntArrayRef shape, const torch::Tensor& slot) {
  auto sizes = slot.sizes().vec();
  sizes.back() = shape.back();
  auto one = [&](const torch::Tensor& x) { return x.view(shape).expand(sizes).gather(-1, slot); };
  return {one(t.lo), one(t.hi), one(t.w_lo), one(t.w_hi)};
}

// Sample coordinates along one axis, [R, p, slots]: start + k * bin + (s + 0.5) * bin / grid for bin k and
// grid slot s, with the kernel's operations in the kernel's order.
torch::Tensor sample_coordinates(const torch::Tensor& start, const torch::Tensor& bin, const torch::Tensor& grid, int p,
                                 int64_t slots) {
  const auto k = torch::arange(p, start.options());
  const auto s = torch::arange(slots, start.options()) + 0.5;
  const auto corner = start.unsqueeze(1) + k * bin.unsqueeze(1);  // [R, p]
  const auto within = s * bin.unsqueeze(1) / grid.unsqueeze(1);   // [R, slots]
  return corner.unsqueeze(2) + within.unsqueeze(1);
}

// How every RoI is sampled. All RoIs share a grid of grid_h x grid_w slots (the largest one); a RoI with a
// smaller adaptive grid uses the first slots of each axis, marked in used_y / used_x.
struct Sampling {
  torch::Tensor batch;           // [R] int64 image index
  Taps ys, xs;                   // [R, p, grid_h] and [R, p, grid_w]: bin k's sample rows / columns
  torch::Tensor used_y, used_x;  // [R, grid_h], [R, grid_w] bool
  torch::Tensor count;           // [R] samples per bin (features' dtype)
  int64_t grid_h = 0, grid_w = 0;
  bool padded = false;  // some slots are unused (adaptive grids)
};

Sampling make_sampling(const torch::Tensor& rois, const PsRoiAlignOptions& o, int64_t images, int64_t height,
                       int64_t width) {
  const auto t = rois.scalar_type();
  const auto scale = in_dtype(o.spatial_scale, t), offset = in_dtype(o.offset, t);
  const auto min_size = in_dtype(o.min_roi_size, t);
  const int p = o.pooled_size;
  Sampling s;
  s.batch = rois.select(1, 0).to(torch::kLong);  // truncates, as the kernel's static_cast
  const auto x0 = rois.select(1, 1) * scale - offset, y0 = rois.select(1, 2) * scale - offset;
  const auto bin_w = (rois.select(1, 3) * scale - offset - x0).clamp_min(min_size) / p;
  const auto bin_h = (rois.select(1, 4) * scale - offset - y0).clamp_min(min_size) / p;
  s.padded = o.sampling_ratio <= 0;
  const auto grid_h = s.padded ? bin_h.ceil().clamp_min(1) : torch::full_like(bin_h, o.sampling_ratio);
  const auto grid_w = s.padded ? bin_w.ceil().clamp_min(1) : torch::full_like(bin_w, o.sampling_ratio);

  // The call's one host round trip: the batch-index check and the largest grid, which sizes what follows.
  const auto bad = (s.batch < 0) | (s.batch >= images);
  const auto host = torch::stack({bad.any().to(t), grid_h.max(), grid_w.max()}).to(torch::kCPU, torch::kDouble);
  if (host[0].item<double>() != 0) {
    const int64_t k = bad.nonzero()[0][0].item<int64_t>();
    const auto value = rois[k][0];
    TORCH_CHECK(false, "ps_roi_align: roi ", k, " has batch index ",
                t == torch::kFloat ? c10::str(value.item<float>()) : c10::str(value.item<double>()), ", outside [0, ",
                images, ")");
  }
  s.grid_h = static_cast<int64_t>(host[1].item<double>());
  s.grid_w = static_cast<int64_t>(host[2].item<double>());
  s.ys = axis_taps(sample_coordinates(y0, bin_h, grid_h, p, s.grid_h), height);
  s.xs = axis_taps(sample_coordinates(x0, bin_w, grid_w, p, s.grid_w), width);
  s.used_y = torch::arange(s.grid_h, rois.options()).unsqueeze(0) < grid_h.unsqueeze(1);
  s.used_x = torch::arange(s.grid_w, rois.options()).unsqueeze(0) < grid_w.unsqueeze(1);
  s.count = grid_h * grid_w;
  return s;
}

// Bilinear reads of the flat features at taps y and x, broadcast against `plane` (the element offset of each
// output's input channel plane); the kernel's y_lo * (x_lo * v00 + x_hi * v01) + y_hi * (x_lo * v10 + x_hi * v11).
torch::Tensor bilinear(const torch::Tensor& flat, const torch::Tensor& plane, const Taps& y, const Taps& x,
                       int64_t width) {
  const auto row_lo = plane + y.lo * width, row_hi = plane + y.hi * width;
  const auto at = [&](const torch::Tensor& row, const torch::Tensor& col) { return flat.take(row + col); };
  return y.w_lo * (x.w_lo * at(row_lo, x.lo) + x.w_hi * at(row_lo, x.hi)) +
         y.w_hi * (x.w_lo * at(row_hi, x.lo) + x.w_hi * at(row_hi, x.hi));
}

// Every sample of every bin, laid out [R, alpha, p (bin row), grid_h, p (bin column), grid_w]: the column
// taps then vary along the last two dimensions together, so the broadcast element-wise ops run inner loops
// of p * grid_w elements rather than grid_w (several times faster on CPU).
torch::Tensor all_samples(const torch::Tensor& flat, const torch::Tensor& plane, const Sampling& s, int64_t width) {
  const int64_t R = plane.size(0), p = plane.size(2);
  return bilinear(flat, plane.view({R, plane.size(1), p, 1, p, 1}), view(s.ys, {R, 1, p, s.grid_h, 1, 1}),
                  view(s.xs, {R, 1, 1, 1, p, s.grid_w}), width);
}

// Which slots a RoI's grid uses, in all_samples' layout.
torch::Tensor used_slots(const Sampling& s) {
  return s.used_y.view({-1, 1, 1, s.grid_h, 1, 1}) & s.used_x.view({-1, 1, 1, 1, 1, s.grid_w});
}

torch::Tensor pooled_mean(const torch::Tensor& flat, const torch::Tensor& plane, const Sampling& s, int64_t width) {
  auto v = all_samples(flat, plane, s, width);
  if (s.padded) v = v.masked_fill(used_slots(s).logical_not(), 0);
  return v.sum({3, 5}) / s.count.view({-1, 1, 1, 1});
}

// The bin's first maximal sample in row-major order is found without gradient, then read again with
// gradient, so autograd sends the bin's gradient to that sample alone (to its four bilinear neighbours).
torch::Tensor pooled_max(const torch::Tensor& flat, const torch::Tensor& plane, const Sampling& s, int64_t width) {
  const int64_t R = plane.size(0), alpha = plane.size(1), p = plane.size(2), slots = s.grid_h * s.grid_w;
  torch::Tensor slot, found;
  {
    torch::NoGradGuard no_grad;
    auto v = all_samples(flat, plane, s, width);
    auto excluded = v.isnan();
    if (s.padded) excluded = excluded | used_slots(s).logical_not();
    // Each bin's samples in row-major order (iy * grid_w + ix) along the last dimension.
    v = v.masked_fill(excluded, -std::numeric_limits<double>::infinity())
            .permute({0, 1, 2, 4, 3, 5})
            .reshape({R, alpha, p, p, slots});
    const auto best = v.amax(-1, true);
    const auto hit = v.eq(best) & best.gt(-std::numeric_limits<double>::infinity());
    // Hits ranked slots, slots - 1, ..., 1 in row-major order: the argmax is unique and is the first hit
    // (torch::max and argmax do not promise which index wins a tie on every device and version).
    const auto rank = torch::arange(slots, 0, -1, s.batch.options());
    slot = (hit * rank).argmax(-1, true);
    found = hit.any(-1);
  }
  const auto slot_y = torch::div(slot, s.grid_w, "floor"), slot_x = slot.remainder(s.grid_w);
  const auto ys = pick(s.ys, {R, 1, p, 1, s.grid_h}, slot_y);
  const auto xs = pick(s.xs, {R, 1, 1, p, s.grid_w}, slot_x);
  return bilinear(flat, plane.unsqueeze(-1), ys, xs, width).squeeze(-1).masked_fill(found.logical_not(), 0);
}

}  // namespace

torch::Tensor ps_roi_align_generic(const torch::Tensor& features_in, const torch::Tensor& rois_in,
                                   const PsRoiAlignOptions& o) {
  const auto features = features_in.contiguous();
  const auto rois = rois_in.detach().to(features.device(), features.scalar_type());
  const int64_t R = rois.size(0), C = features.size(1), H = features.size(2), W = features.size(3);
  const int p = o.pooled_size, alpha = o.output_channels;
  const auto flat = features.reshape(-1);
  // Empty outputs stay in the graph (an empty sum of the features), so backward gives zero gradients.
  if (R == 0 || H == 0 || W == 0) return features.new_zeros({R, alpha, p, p}) + flat.narrow(0, 0, 0).sum();
  const auto s = make_sampling(rois, o, features.size(0), H, W);
  // Output (r, c, i, j) reads image batch[r], channel (c * p + i) * p + j.
  const auto channel = torch::arange(int64_t(alpha) * p * p, s.batch.options()).view({alpha, p, p});
  const auto plane = (s.batch.view({R, 1, 1, 1}) * C + channel) * (H * W);
  return o.reduce == PsReduce::max ? pooled_max(flat, plane, s, W) : pooled_mean(flat, plane, s, W);
}

}  // namespace cvtk::detection
