// Random erasing statistics over many draws: how often it fires, region area and aspect within the
// configured ranges, object-aware regions inside their boxes, fills, and the box policy.
#include <gtest/gtest.h>

#include <cmath>

#include "augment/random_erasing.h"

using namespace cvtk::augment;
using cvtk::data::Box;
using cvtk::data::Object;

namespace {

Sample make(int w, int h, std::vector<Box> boxes) {
  cvtk::data::ImageRecord rec;
  for (size_t i = 0; i < boxes.size(); ++i) rec.objects.push_back(Object{boxes[i], static_cast<int>(i)});
  return make_sample(rec, 0, cv::Mat(h, w, CV_8UC3, cv::Scalar(1, 2, 3)));
}

RandomErasingOptions opts(RandomErasingOptions::Mode mode, double p, double sh) {
  RandomErasingOptions o;
  o.mode = mode;
  o.p = p;
  o.sh = sh;
  return o;
}

// The rounded sides can come from some area in [lo, hi] * W * H and aspect in [r1, 1/r1].
void expect_region_in_ranges(const cv::Rect& r, int W, int H, const RandomErasingOptions& o) {
  const double wmin = r.width - 0.5, wmax = r.width + 0.5, hmin = r.height - 0.5, hmax = r.height + 0.5;
  const double area = double(W) * H;
  EXPECT_LE(wmin * hmin, o.sh * area + 1e-9) << r;
  EXPECT_GE(wmax * hmax, o.sl * area - 1e-9) << r;
  EXPECT_LE(hmin / wmax, 1.0 / o.r1 + 1e-9) << r;
  EXPECT_GE(hmax / wmin, o.r1 - 1e-9) << r;
  EXPECT_GE(r.x, 0);
  EXPECT_GE(r.y, 0);
  EXPECT_LE(r.x + r.width, W);
  EXPECT_LE(r.y + r.height, H);
}

TEST(RandomErasing, ImageModeFrequencyAreaAspect) {
  const RandomErasingOptions o = opts(RandomErasingOptions::Mode::image, 0.5, 0.4);
  const RandomErasing t(o);
  const int W = 120, H = 90, n = 4000;
  int fired = 0;
  double sum_fraction = 0, sum_log_aspect = 0;
  for (int i = 0; i < n; ++i) {
    Sample s = make(W, H, {});
    Rng rng(5, 0, static_cast<uint64_t>(i));
    const std::vector<cv::Rect> rects = t.erase(s, rng);
    ASSERT_LE(rects.size(), 1u);
    if (rects.empty()) continue;
    ++fired;
    const cv::Rect& r = rects[0];
    expect_region_in_ranges(r, W, H, o);
    sum_fraction += double(r.area()) / (W * H);
    sum_log_aspect += std::log(double(r.height) / r.width);
    // Exactly the region changed.
    cv::Mat diff;
    cv::absdiff(s.image, cv::Scalar(1, 2, 3), diff);
    cv::Mat outside = diff.clone();
    outside(r).setTo(cv::Scalar::all(0));
    EXPECT_EQ(cv::countNonZero(outside.reshape(1)), 0);
  }
  // Binomial(4000, 0.5): sd 32; allow 5 sd.
  EXPECT_NEAR(fired, n / 2, 160);
  // Areas U(0.02, 0.4) with some rejections of large regions: mean a bit below 0.21.
  const double mean_fraction = sum_fraction / fired;
  EXPECT_GT(mean_fraction, 0.12);
  EXPECT_LT(mean_fraction, 0.22);
  // Linear aspect in [0.3, 3.33]: tall regions are more frequent than wide ones (paper's sampling).
  EXPECT_GT(sum_log_aspect / fired, 0.2);
}

TEST(RandomErasing, ObjectModeRegionsInsideTheirBoxes) {
  const RandomErasingOptions o = opts(RandomErasingOptions::Mode::object, 0.5, 0.2);
  const RandomErasing t(o);
  const std::vector<Box> boxes = {Box{10.3, 5.7, 60.2, 40.9}, Box{70, 50, 118, 88}, Box{0, 50, 30, 88}};
  const int n = 2000;
  std::vector<int> per_box(boxes.size(), 0);
  for (int i = 0; i < n; ++i) {
    Sample s = make(120, 90, boxes);
    Rng rng(6, 1, static_cast<uint64_t>(i));
    for (const cv::Rect& r : t.erase(s, rng)) {
      bool inside_some = false;
      for (size_t k = 0; k < boxes.size(); ++k) {
        const Box& b = boxes[k];
        const int x1 = int(std::ceil(b.x1)), y1 = int(std::ceil(b.y1)), x2 = int(std::floor(b.x2)),
                  y2 = int(std::floor(b.y2));
        if (r.x >= x1 && r.y >= y1 && r.x + r.width <= x2 && r.y + r.height <= y2) {
          inside_some = true;
          // The box interior acts as the image for the ranges.
          expect_region_in_ranges(cv::Rect(r.x - x1, r.y - y1, r.width, r.height), x2 - x1, y2 - y1, o);
          ++per_box[k];
          break;
        }
      }
      EXPECT_TRUE(inside_some) << r;
    }
    EXPECT_EQ(s.objects.size(), boxes.size());  // object mode never drops boxes
  }
  // Boxes overlap nowhere here, so each region is attributed to its own box: about p * n each.
  for (int c : per_box) EXPECT_NEAR(c, n / 2, 120);
}

TEST(RandomErasing, FillModes) {
  for (const char* fill : {"zero", "mean", "const", "random"}) {
    RandomErasingOptions o = opts(RandomErasingOptions::Mode::image, 1.0, 0.4);
    o.sl = 0.3;
    o.fill = std::string(fill) == "zero"    ? RandomErasingOptions::Fill::zero
             : std::string(fill) == "mean"  ? RandomErasingOptions::Fill::mean
             : std::string(fill) == "const" ? RandomErasingOptions::Fill::constant
                                            : RandomErasingOptions::Fill::random;
    o.value = 200;
    const RandomErasing t(o);
    Sample s = make(100, 100, {});
    Rng rng(1, 2, 3);
    const auto rects = t.erase(s, rng);
    ASSERT_EQ(rects.size(), 1u) << fill;
    const cv::Scalar m = cv::mean(s.image(rects[0]));
    if (std::string(fill) == "zero") {
      EXPECT_EQ(m, cv::Scalar(0, 0, 0, 0));
    }
    if (std::string(fill) == "mean") {
      EXPECT_EQ(m, cv::Scalar(124, 116, 104, 0));
    }
    if (std::string(fill) == "const") {
      EXPECT_EQ(m, cv::Scalar(200, 200, 200, 0));
    }
    if (std::string(fill) == "random") {
      for (int c = 0; c < 3; ++c) EXPECT_NEAR(m[c], 127.5, 8) << c;
    }
  }
}

TEST(RandomErasing, DropPolicyUsesVisibleFraction) {
  RandomErasingOptions o = opts(RandomErasingOptions::Mode::image, 1.0, 0.4);
  o.drop_occluded = true;
  o.min_visible = 0.6;
  const RandomErasing t(o);
  const std::vector<Box> boxes = {Box{10, 10, 40, 40}, Box{50, 20, 90, 70}, Box{5, 60, 25, 95}};
  int dropped_total = 0;
  for (int i = 0; i < 500; ++i) {
    Sample s = make(100, 100, boxes);
    Rng rng(8, 0, static_cast<uint64_t>(i));
    const auto rects = t.erase(s, rng);
    ASSERT_EQ(rects.size(), 1u);
    const cv::Rect& r = rects[0];
    size_t expected_kept = 0;
    for (const Box& b : boxes) {
      const double ix = std::max(0.0, std::min(b.x2, double(r.x + r.width)) - std::max(b.x1, double(r.x)));
      const double iy = std::max(0.0, std::min(b.y2, double(r.y + r.height)) - std::max(b.y1, double(r.y)));
      expected_kept += 1.0 - ix * iy / b.area() >= 0.6;
    }
    EXPECT_EQ(s.objects.size(), expected_kept);
    EXPECT_EQ(s.objects.size() + static_cast<size_t>(s.dropped_objects), boxes.size());
    dropped_total += s.dropped_objects;
  }
  EXPECT_GT(dropped_total, 0);
}

TEST(RandomErasing, DefaultsFollowThePaper) {
  const auto d = [](const std::string& spec) { return make_random_erasing(parse_spec_tokens(spec)[0])->describe(); };
  EXPECT_EQ(d("erase()"), "erase(p=0.5,sl=0.02,sh=0.4,r1=0.3,fill=random,attempts=100,mode=image,boxes=keep)");
  EXPECT_EQ(d("erase(mode=object)"), "erase(p=0.5,sl=0.02,sh=0.2,r1=0.3,fill=random,attempts=100,mode=object)");
  EXPECT_NE(d("erase(mode=both,boxes=drop,min_visible=0.3)").find("sh=0.2"), std::string::npos);
}

TEST(RandomErasing, ImpossibleRegionErasesNothing) {
  RandomErasingOptions o = opts(RandomErasingOptions::Mode::image, 1.0, 1.0);
  o.sl = 0.99;
  o.r1 = 0.01;  // almost every draw is far too tall or too wide
  o.attempts = 1;
  int empty = 0;
  for (int i = 0; i < 200; ++i) {
    Rng rng(0, 0, static_cast<uint64_t>(i));
    empty += erasing_region(50, 50, o, rng).empty();
  }
  EXPECT_GT(empty, 150);
}

}  // namespace
