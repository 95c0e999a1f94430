// Detection-op speed at ThunderNet's sizes: PSRoIAlign forward and forward + backward over a batch of
// 8 images x 512 RoIs on 20 x 20 x 245 maps (alpha 5, p 7; SNet146 at 320 x 320), for the official
// (max) and torchvision (mean) rules, and NMS / batched NMS / soft-NMS on 2,000 and 12,000 boxes.
// --generic 1 also times the device-generic ATen versions (ps_roi_align_generic.h, nms_generic.h) on the
// same inputs on CPU, on a line of their own under each kernel line (generic soft-NMS only on 2,000 boxes).
// Usage: ps_roi_align_bench [--threads N] [--repeat N] [--images N] [--rois N] [--generic 0|1]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "detection/nms.h"
#include "detection/nms_generic.h"
#include "detection/ps_roi_align.h"
#include "detection/ps_roi_align_generic.h"
#include "apps/allocator.h"

using namespace cvtk::detection;

namespace {

// Best and median wall time of `repeat` runs, in milliseconds.
std::pair<double, double> time_ms(int repeat, const std::function<void()>& f) {
  f();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return {t.front(), t[t.size() / 2]};
}

// RoIs over a 320 x 320 image: sizes from 8 to 320 px, some crossing the border.
torch::Tensor make_rois(int images, int per_image) {
  const int64_t n = int64_t(images) * per_image;
  const auto b = torch::arange(images, torch::kFloat).repeat_interleave(per_image);
  const auto size = torch::exp(torch::rand({n}) * std::log(40.0)) * 8;
  const auto cx = torch::rand({n}) * 340 - 10, cy = torch::rand({n}) * 340 - 10;
  const auto ar = torch::exp((torch::rand({n}) - 0.5) * 1.4);
  const auto w = size * ar.sqrt(), h = size / ar.sqrt();
  return torch::stack({b, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2}, 1);
}

torch::Tensor make_boxes(int64_t n) {
  const auto xy = torch::rand({n, 2}) * 300;
  const auto wh = torch::rand({n, 2}) * 100 + 4;
  return torch::cat({xy, xy + wh}, 1);
}

using PsRoiAlignFn = torch::Tensor (*)(const torch::Tensor&, const torch::Tensor&, const PsRoiAlignOptions&);

void bench_ps_roi_align(const torch::Tensor& features, const torch::Tensor& rois, int repeat, bool generic) {
  for (const auto& [name, o] : {std::pair<const char*, PsRoiAlignOptions>{"max  (official)", PsRoiAlignOptions{}},
                                {"mean (torchvision)", PsRoiAlignOptions::torchvision(7, 5, 1.0 / 16, 2)}}) {
    for (const PsRoiAlignFn f : {&ps_roi_align, generic ? &ps_roi_align_generic : PsRoiAlignFn(nullptr)}) {
      if (!f) continue;
      const auto fwd = time_ms(repeat, [&] {
        torch::NoGradGuard g;
        f(features, rois, o);
      });
      const auto x = features.clone().requires_grad_(true);
      const auto grad_out = torch::randn({rois.size(0), 5, 7, 7});
      const auto both = time_ms(repeat, [&] {
        x.mutable_grad() = torch::Tensor();
        f(x, rois, o).backward(grad_out);
      });
      std::printf("  %-20s forward %7.2f / %7.2f   forward+backward %7.2f / %7.2f\n",
                  f == &ps_roi_align ? name : "  generic (ATen)", fwd.first, fwd.second, both.first, both.second);
    }
  }
}

void bench_nms(int64_t n, int repeat, bool generic) {
  const auto boxes = make_boxes(n);
  const auto scores = torch::rand({n});
  const auto labels = torch::randint(0, 80, {n}, torch::kLong);
  const auto variants = generic ? std::vector<bool>{false, true} : std::vector<bool>{false};
  auto tag = [&](bool g) { return !generic ? "" : g ? "generic " : "kernel  "; };
  for (const double t : {0.5, 0.7}) {
    for (const bool g : variants) {
      int64_t kept = 0;
      const auto a = time_ms(repeat, [&] { kept = (g ? nms_generic : nms)(boxes, scores, t, -1).numel(); });
      const auto b = time_ms(repeat, [&] { (g ? batched_nms_generic : batched_nms)(boxes, scores, labels, t); });
      std::printf("  %sn %6lld IoU %.1f  nms %7.2f / %7.2f (kept %lld)   batched_nms (80 labels) %7.2f / %7.2f\n",
                  tag(g), static_cast<long long>(n), t, a.first, a.second, static_cast<long long>(kept), b.first,
                  b.second);
    }
  }
  for (const bool g : variants) {
    if (g && n > 2000) continue;  // about 40 small ops per picked box: seconds at 12,000 boxes
    const int r = std::max(1, repeat / 5);
    const auto s = time_ms(r, [&] { (g ? soft_nms_generic : soft_nms)(boxes, scores, 0.5, 0.5, 1e-3, {}); });
    const auto bs = time_ms(
        r, [&] { (g ? batched_soft_nms_generic : batched_soft_nms)(boxes, scores, labels, 0.5, 0.5, 1e-3, {}); });
    std::printf("  %sn %6lld soft_nms linear 0.5 %8.2f / %8.2f   batched_soft_nms (80 labels) %7.2f / %7.2f\n", tag(g),
                static_cast<long long>(n), s.first, s.second, bs.first, bs.second);
  }
}

}  // namespace

int main(int argc, char** argv) {
  cvtk::keep_freed_memory();
  int threads = 0, repeat = 10, images = 8, rois_per_image = 512;
  bool generic = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (a == "--repeat")
      repeat = std::atoi(argv[i + 1]);
    else if (a == "--images")
      images = std::atoi(argv[i + 1]);
    else if (a == "--rois")
      rois_per_image = std::atoi(argv[i + 1]);
    else if (a == "--generic")
      generic = std::atoi(argv[i + 1]) != 0;
  }
  if (threads > 0) at::set_num_threads(threads);
  torch::manual_seed(0);
  std::printf("threads %d, repeat %d (best / median ms)\n", at::get_num_threads(), repeat);

  const auto features = torch::randn({images, 245, 20, 20});
  const auto rois = make_rois(images, rois_per_image);
  std::printf("PSRoIAlign: %d images x %d RoIs, features [%d, 245, 20, 20], output [%lld, 5, 7, 7]\n", images,
              rois_per_image, images, static_cast<long long>(rois.size(0)));
  bench_ps_roi_align(features, rois, repeat, generic);
  std::printf("NMS (boxes over a 400 x 400 area, sizes 4..104 px, IoU 0.5 / 0.7)\n");
  for (const int64_t n : {2000, 12000}) bench_nms(n, repeat, generic);
  return 0;
}
