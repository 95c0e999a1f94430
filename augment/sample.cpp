#include "augment/sample.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cvtk::augment {

Sample make_sample(const data::ImageRecord& rec, size_t index, cv::Mat rgb) {
  Sample s;
  s.image = std::move(rgb);
  s.objects = rec.objects;
  s.original_width = s.image.cols;
  s.original_height = s.image.rows;
  s.index = index;
  s.image_id = rec.id;
  return s;
}

data::Box map_box(const cv::Matx33d& m, const data::Box& b) {
  const double xs[4] = {b.x1, b.x2, b.x2, b.x1}, ys[4] = {b.y1, b.y1, b.y2, b.y2};
  double x1 = std::numeric_limits<double>::infinity(), y1 = x1, x2 = -x1, y2 = -x1;
  for (int k = 0; k < 4; ++k) {
    const cv::Vec3d p = m * cv::Vec3d(xs[k], ys[k], 1.0);
    const double w = p[2] != 0 ? p[2] : 1.0;
    x1 = std::min(x1, p[0] / w);
    x2 = std::max(x2, p[0] / w);
    y1 = std::min(y1, p[1] / w);
    y2 = std::max(y2, p[1] / w);
  }
  return {x1, y1, x2, y2};
}

namespace {
data::Box clip(data::Box b, double w, double h) {
  b.x1 = std::clamp(b.x1, 0.0, w);
  b.x2 = std::clamp(b.x2, 0.0, w);
  b.y1 = std::clamp(b.y1, 0.0, h);
  b.y2 = std::clamp(b.y2, 0.0, h);
  return b;
}
}  // namespace

data::Box to_original(const Sample& s, const data::Box& box) {
  return clip(map_box(s.to_original, box), s.original_width, s.original_height);
}

void clip_and_drop(Sample& s) {
  const double w = s.image.cols, h = s.image.rows;
  size_t kept = 0;
  for (size_t i = 0; i < s.objects.size(); ++i) {
    data::Object o = s.objects[i];
    o.box = clip(o.box, w, h);
    if (o.box.width() < kMinBoxSide || o.box.height() < kMinBoxSide) {
      ++s.dropped_objects;
      continue;
    }
    s.objects[kept++] = o;
  }
  s.objects.resize(kept);
}

void apply_geometry(Sample& s, const cv::Matx33d& forward) {
  for (data::Object& o : s.objects) o.box = map_box(forward, o.box);
  s.to_original = s.to_original * forward.inv();
  clip_and_drop(s);
}

}  // namespace cvtk::augment
