#include "augment/iou_crop.h"

#include <cmath>
#include <vector>

namespace cvtk::augment {
namespace {
constexpr double kModes[] = {-1, 0.1, 0.3, 0.5, 0.7, 0.9};  // -1: keep the image
constexpr int kRounds = 10;
}  // namespace

std::string IouCrop::describe() const {
  return "iou_crop(min_scale=" + format_number(o_.min_scale) + ",max_aspect=" + format_number(o_.max_aspect) +
         ",trials=" + std::to_string(o_.trials) + ")";
}

void IouCrop::apply(Sample& s, Rng& rng, const Context&) const {
  if (s.objects.empty()) return;
  const double W = s.image.cols, H = s.image.rows;
  for (int round = 0; round < kRounds; ++round) {
    const double min_iou = kModes[rng.integer(0, 5)];
    if (min_iou < 0) return;
    for (int t = 0; t < o_.trials; ++t) {
      const double w = rng.uniform(o_.min_scale * W, W), h = rng.uniform(o_.min_scale * H, H);
      if (h / w < 1.0 / o_.max_aspect || h / w > o_.max_aspect) continue;
      const double left = rng.uniform(0, W - w), top = rng.uniform(0, H - h);
      const cv::Rect r(static_cast<int>(left), static_cast<int>(top), static_cast<int>(w), static_cast<int>(h));
      if (r.width < 1 || r.height < 1) continue;
      const data::Box crop{double(r.x), double(r.y), double(r.x + r.width), double(r.y + r.height)};
      bool ok = true, any_centre = false;
      for (const data::Object& o : s.objects) {
        if (data::iou(o.box, crop) < min_iou) {
          ok = false;
          break;
        }
        const double cx = 0.5 * (o.box.x1 + o.box.x2), cy = 0.5 * (o.box.y1 + o.box.y2);
        any_centre |= cx > crop.x1 && cx < crop.x2 && cy > crop.y1 && cy < crop.y2;
      }
      if (!ok || !any_centre) continue;
      std::vector<data::Object> kept;
      for (const data::Object& o : s.objects) {
        const double cx = 0.5 * (o.box.x1 + o.box.x2), cy = 0.5 * (o.box.y1 + o.box.y2);
        if (cx > crop.x1 && cx < crop.x2 && cy > crop.y1 && cy < crop.y2)
          kept.push_back(o);
        else
          ++s.dropped_objects;
      }
      s.objects = std::move(kept);
      s.image = s.image(r).clone();
      apply_geometry(s, cv::Matx33d(1, 0, -r.x, 0, 1, -r.y, 0, 0, 1));
      return;
    }
  }
}

std::shared_ptr<const Transform> make_iou_crop(const SpecArgs& a) {
  IouCropOptions o;
  o.min_scale = a.number("min_scale", o.min_scale, 0.01, 1);
  o.max_aspect = a.number("max_aspect", o.max_aspect, 1, 100);
  o.trials = static_cast<int>(a.number("trials", o.trials, 1, 10000));
  a.finish();
  return std::make_shared<IouCrop>(o);
}

}  // namespace cvtk::augment
