// Label placement (vision/image/label_layout.h) on hand-made cases, and draw_boxes keeping labels apart
// and inside the image.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "vision/image/draw.h"
#include "vision/image/label_layout.h"

namespace {

using cvtk::image::LabelRequest;
using cvtk::image::place_labels;

bool inside(const cv::Rect& r, cv::Size image) {
  return r.x >= 0 && r.y >= 0 && r.br().x <= image.width && r.br().y <= image.height;
}

TEST(LabelLayout, AboveTheBoxWhenThereIsRoom) {
  const auto r = place_labels({{cv::Rect(50, 40, 30, 30), cv::Size(20, 10), 0.9}}, {200, 100});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], cv::Rect(50, 30, 20, 10));
}

TEST(LabelLayout, InsideTheTopAtTheTopEdgeAndBelowWhenTheBoxIsShort) {
  // At the image's top edge: no room above, so inside along the top.
  auto r = place_labels({{cv::Rect(10, 0, 40, 40), cv::Size(20, 10), 0.9}}, {100, 100});
  EXPECT_EQ(r[0], cv::Rect(10, 0, 20, 10));
  // A box reaching above the image: inside, starting at the image's top row.
  r = place_labels({{cv::Rect(10, -5, 40, 40), cv::Size(20, 10), 0.9}}, {100, 100});
  EXPECT_EQ(r[0], cv::Rect(10, 0, 20, 10));
}

TEST(LabelLayout, OverlappingBoxesGetLabelsThatDoNotOverlapAndTheBestScoreKeepsItsPlace) {
  // Two boxes with the same top-left area: the higher score takes the place above the box.
  const std::vector<LabelRequest> req = {{cv::Rect(40, 40, 50, 50), cv::Size(30, 10), 0.5},
                                         {cv::Rect(42, 41, 50, 50), cv::Size(30, 10), 0.9}};
  const auto r = place_labels(req, {200, 200});
  EXPECT_EQ(r[1], cv::Rect(42, 31, 30, 10));
  EXPECT_EQ((r[0] & r[1]).area(), 0) << r[0] << " " << r[1];
  EXPECT_TRUE(inside(r[0], {200, 200}));
}

TEST(LabelLayout, ManyLabelsInACrowdNeverOverlapWhileThereIsRoom) {
  // Ten nearly identical boxes in a big image: every label finds a free place.
  std::vector<LabelRequest> req;
  for (int i = 0; i < 10; ++i) req.push_back({cv::Rect(100 + i, 100 + i, 120, 120), cv::Size(40, 12), 0.1 * i});
  const cv::Size image(400, 400);
  const auto r = place_labels(req, image);
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_TRUE(inside(r[i], image)) << r[i];
    EXPECT_EQ(r[i].size(), cv::Size(40, 12));
    for (size_t j = 0; j < i; ++j) EXPECT_EQ((r[i] & r[j]).area(), 0) << i << " " << j << ": " << r[i] << r[j];
  }
}

TEST(LabelLayout, BoxesAtTheImageEdgesKeepTheirLabelsInside) {
  const cv::Size image(100, 80);
  const std::vector<LabelRequest> req = {
      {cv::Rect(90, 30, 20, 20), cv::Size(30, 10), 0.9},     // right edge: shifted left
      {cv::Rect(-10, 70, 30, 20), cv::Size(30, 10), 0.8},    // bottom-left corner, past the image
      {cv::Rect(0, 0, 100, 80), cv::Size(30, 10), 0.7},      // the whole image
      {cv::Rect(200, 200, 10, 10), cv::Size(30, 10), 0.6}};  // wholly outside
  const auto r = place_labels(req, image);
  for (const auto& p : r) {
    EXPECT_TRUE(inside(p, image)) << p;
    EXPECT_EQ(p.size(), cv::Size(30, 10));
  }
  EXPECT_EQ(r[0], cv::Rect(70, 20, 30, 10));  // above, pushed left to fit
  EXPECT_EQ(r[2].y, 0);                       // inside the top of the whole-image box
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < i; ++j) EXPECT_EQ((r[i] & r[j]).area(), 0) << r[i] << r[j];
}

TEST(LabelLayout, TinyImagesCutLabelsToTheImage) {
  const auto r =
      place_labels({{cv::Rect(2, 2, 4, 4), cv::Size(40, 12), 0.9}, {cv::Rect(1, 1, 2, 2), {5, 5}, 0.1}}, {8, 6});
  EXPECT_EQ(r[0], cv::Rect(0, 0, 8, 6));
  EXPECT_TRUE(inside(r[1], {8, 6}));
  EXPECT_EQ(r[1].size(), cv::Size(5, 5));
  EXPECT_TRUE(place_labels({{cv::Rect(0, 0, 1, 1), cv::Size(4, 4), 1}}, {0, 0})[0].empty());
  EXPECT_TRUE(place_labels({{cv::Rect(0, 0, 1, 1), cv::Size(0, 0), 1}}, {10, 10})[0].empty());
  EXPECT_TRUE(place_labels({}, {10, 10}).empty());
}

TEST(LabelLayout, TiesKeepTheInputOrder) {
  const std::vector<LabelRequest> req = {{cv::Rect(40, 40, 50, 50), cv::Size(30, 10), 0.5},
                                         {cv::Rect(40, 40, 50, 50), cv::Size(30, 10), 0.5}};
  const auto r = place_labels(req, {200, 200});
  EXPECT_EQ(r[0], cv::Rect(40, 30, 30, 10));
  EXPECT_EQ((r[0] & r[1]).area(), 0);
}

TEST(LabelStyle, ScalesWithTheImageAndInkContrasts) {
  const auto small = cvtk::image::label_style({128, 128}), bccd = cvtk::image::label_style({640, 480}),
             hd = cvtk::image::label_style({1920, 1080});
  EXPECT_DOUBLE_EQ(small.font_scale, 0.3);
  EXPECT_DOUBLE_EQ(bccd.font_scale, 0.4);
  EXPECT_DOUBLE_EQ(hd.font_scale, 0.9);
  EXPECT_LT(small.box_thickness, hd.box_thickness);
  EXPECT_EQ(cvtk::image::ink_for({255, 225, 25}), cv::Scalar(0, 0, 0));     // yellow: black text
  EXPECT_EQ(cvtk::image::ink_for({0, 0, 128}), cv::Scalar(255, 255, 255));  // navy: white text
  EXPECT_EQ(cvtk::image::ink_for({128, 128, 128}), cv::Scalar(0, 0, 0));
}

// Two boxes at the same place in two classes: each label's background is drawn whole in its own class
// colour (nothing drawn over it), and nothing leaves the image.
TEST(DrawBoxes, LabelsOfOverlappingBoxesStaySeparate) {
  cv::Mat img(120, 160, CV_8UC3, cv::Scalar::all(0));
  const cvtk::data::Box box{30, 40, 90, 100};
  cvtk::image::draw_boxes(img, {{box, "a", 0.9, 0}, {box, "b", 0.8, 1}});
  const auto style = cvtk::image::label_style(img.size());
  auto label_size = [&](const std::string& text) {
    int baseline = 0;
    const cv::Size ts =
        cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, style.font_scale, style.text_thickness, &baseline);
    return cv::Size(ts.width + 2 * style.padding, ts.height + baseline + 2 * style.padding);
  };
  const cv::Rect drawn(30, 40, 60, 60);
  const auto places =
      place_labels({{drawn, label_size("a 0.90"), 0.9}, {drawn, label_size("b 0.80"), 0.8}}, img.size());
  ASSERT_EQ((places[0] & places[1]).area(), 0);
  for (int k = 0; k < 2; ++k) {
    const cv::Scalar c = cvtk::image::class_colour(k);
    const cv::Vec3b colour{uchar(c[0]), uchar(c[1]), uchar(c[2])};
    // The label's top-left pixel is background (the text starts after the padding).
    EXPECT_EQ(img.at<cv::Vec3b>(places[size_t(k)].y, places[size_t(k)].x), colour) << k << " " << places[size_t(k)];
    // Its colour fills most of the label: nothing else was drawn over it.
    cv::Mat mask;
    cv::inRange(img(places[size_t(k)]), colour, colour, mask);
    EXPECT_GT(cv::countNonZero(mask), places[size_t(k)].area() / 2) << k;
  }
}

}  // namespace
