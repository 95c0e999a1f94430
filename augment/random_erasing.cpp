#include "augment/random_erasing.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace cvtk::augment {
namespace {

void fill_rect(cv::Mat& img, const cv::Rect& r, const RandomErasingOptions& o, Rng& rng) {
  cv::Mat roi = img(r);
  switch (o.fill) {
    case RandomErasingOptions::Fill::mean:
      roi.setTo(cv::Scalar(124, 116, 104));
      return;
    case RandomErasingOptions::Fill::zero:
      roi.setTo(cv::Scalar::all(0));
      return;
    case RandomErasingOptions::Fill::constant:
      roi.setTo(cv::Scalar::all(o.value));
      return;
    case RandomErasingOptions::Fill::random:
      break;
  }
  const size_t row_bytes = static_cast<size_t>(r.width) * img.elemSize();
  for (int y = 0; y < r.height; ++y) {
    uchar* p = roi.ptr<uchar>(y);
    size_t i = 0;
    for (; i + 8 <= row_bytes; i += 8) {
      const uint64_t v = rng.next();
      std::memcpy(p + i, &v, 8);
    }
    if (i < row_bytes) {
      const uint64_t v = rng.next();
      std::memcpy(p + i, &v, row_bytes - i);
    }
  }
}

const char* mode_name(RandomErasingOptions::Mode m) {
  switch (m) {
    case RandomErasingOptions::Mode::image:
      return "image";
    case RandomErasingOptions::Mode::object:
      return "object";
    case RandomErasingOptions::Mode::both:
      return "both";
  }
  return "?";
}

}  // namespace

cv::Rect erasing_region(int width, int height, const RandomErasingOptions& o, Rng& rng) {
  const double area = static_cast<double>(width) * height;
  for (int a = 0; a < o.attempts; ++a) {
    const double target = rng.uniform(o.sl, o.sh) * area;
    const double ratio = rng.uniform(o.r1, 1.0 / o.r1);
    const int h = static_cast<int>(std::lround(std::sqrt(target * ratio)));
    const int w = static_cast<int>(std::lround(std::sqrt(target / ratio)));
    if (w < 1 || h < 1 || w > width || h > height) continue;
    const int x = static_cast<int>(rng.integer(0, width - w)), y = static_cast<int>(rng.integer(0, height - h));
    return {x, y, w, h};
  }
  return {};
}

std::string RandomErasing::describe() const {
  static const char* fills[] = {"random", "mean", "zero", "const"};
  std::string s = "erase(p=" + format_number(o_.p) + ",sl=" + format_number(o_.sl) + ",sh=" + format_number(o_.sh) +
                  ",r1=" + format_number(o_.r1) + ",fill=" + fills[static_cast<int>(o_.fill)];
  if (o_.fill == RandomErasingOptions::Fill::constant) s += ",value=" + std::to_string(o_.value);
  s += ",attempts=" + std::to_string(o_.attempts) + ",mode=" + mode_name(o_.mode);
  if (o_.mode != RandomErasingOptions::Mode::object) {
    s += std::string(",boxes=") + (o_.drop_occluded ? "drop" : "keep");
    if (o_.drop_occluded) s += ",min_visible=" + format_number(o_.min_visible);
  }
  return s + ")";
}

std::vector<cv::Rect> RandomErasing::erase(Sample& s, Rng& rng) const {
  std::vector<cv::Rect> done;
  if (o_.mode != RandomErasingOptions::Mode::object && rng.bernoulli(o_.p)) {
    const cv::Rect r = erasing_region(s.image.cols, s.image.rows, o_, rng);
    if (!r.empty()) {
      fill_rect(s.image, r, o_, rng);
      done.push_back(r);
      if (o_.drop_occluded) {
        const data::Box e{double(r.x), double(r.y), double(r.x + r.width), double(r.y + r.height)};
        size_t kept = 0;
        for (size_t i = 0; i < s.objects.size(); ++i) {
          const data::Box& b = s.objects[i].box;
          const data::Box in{std::max(b.x1, e.x1), std::max(b.y1, e.y1), std::min(b.x2, e.x2), std::min(b.y2, e.y2)};
          const double visible = b.area() > 0 ? 1.0 - in.area() / b.area() : 0.0;
          if (visible < o_.min_visible) {
            ++s.dropped_objects;
            continue;
          }
          s.objects[kept++] = s.objects[i];
        }
        s.objects.resize(kept);
      }
    }
  }
  if (o_.mode != RandomErasingOptions::Mode::image) {
    for (const data::Object& obj : s.objects) {
      if (!rng.bernoulli(o_.p)) continue;
      const int x1 = std::max(0, static_cast<int>(std::ceil(obj.box.x1)));
      const int y1 = std::max(0, static_cast<int>(std::ceil(obj.box.y1)));
      const int x2 = std::min(s.image.cols, static_cast<int>(std::floor(obj.box.x2)));
      const int y2 = std::min(s.image.rows, static_cast<int>(std::floor(obj.box.y2)));
      if (x2 - x1 < 1 || y2 - y1 < 1) continue;
      cv::Rect r = erasing_region(x2 - x1, y2 - y1, o_, rng);
      if (r.empty()) continue;
      r.x += x1;
      r.y += y1;
      fill_rect(s.image, r, o_, rng);
      done.push_back(r);
    }
  }
  return done;
}

void RandomErasing::apply(Sample& s, Rng& rng, const Context&) const { erase(s, rng); }

std::shared_ptr<const Transform> make_random_erasing(const SpecArgs& a) {
  RandomErasingOptions o;
  const std::string mode = a.choice("mode", "image", {"image", "object", "both"});
  o.mode = mode == "image"    ? RandomErasingOptions::Mode::image
           : mode == "object" ? RandomErasingOptions::Mode::object
                              : RandomErasingOptions::Mode::both;
  o.p = a.number("p", o.p, 0, 1);
  o.sl = a.number("sl", o.sl, 0, 1);
  o.sh = a.number("sh", o.mode == RandomErasingOptions::Mode::image ? 0.4 : 0.2, 0, 1);
  if (o.sh < o.sl) a.fail("sh must be >= sl");
  o.r1 = a.number("r1", o.r1, 1e-3, 1);
  const std::string fill = a.choice("fill", "random", {"random", "mean", "zero", "const"});
  o.fill = fill == "random" ? RandomErasingOptions::Fill::random
           : fill == "mean" ? RandomErasingOptions::Fill::mean
           : fill == "zero" ? RandomErasingOptions::Fill::zero
                            : RandomErasingOptions::Fill::constant;
  o.value = static_cast<int>(a.number("value", 0, 0, 255));
  if (a.has("value") && o.fill != RandomErasingOptions::Fill::constant) a.fail("value= needs fill=const");
  o.attempts = static_cast<int>(a.number("attempts", o.attempts, 1, 100000));
  o.drop_occluded = a.choice("boxes", "keep", {"keep", "drop"}) == "drop";
  o.min_visible = a.number("min_visible", o.min_visible, 0, 1);
  a.finish();
  return std::make_shared<RandomErasing>(o);
}

}  // namespace cvtk::augment
