// One generic checker over every registered transform (and a few variants of each), on synthetic
// images whose boxes are drawn as filled rectangles:
//   geometric/output transforms: each box maps like the pixels (its mask's bounding box, 2 px);
//   photometric/occluding transforms: boxes unchanged;
//   all: to_original takes current boxes and pixel positions back to the original image.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "augment/pipeline.h"
#include "augment/registry.h"
#include "augment/spec.h"

using namespace cvtk::augment;
using cvtk::data::Box;
using cvtk::data::Object;

namespace {

std::vector<std::string> specs_to_check() {
  std::vector<std::string> specs;
  for (const TransformInfo& t : transform_registry()) specs.push_back(t.example);
  for (const char* extra :
       {"hflip(p=1)", "expand(p=1,max_ratio=3)", "iou_crop(trials=200)", "resize(scale=0.5)",
        "resize(97,61,interp=nearest)", "resize(interp=bicubic)", "resize(128,128,mode=letterbox,pad=0)",
        "resize(300,200,interp=area)", "resize(150,150,interp=lanczos)", "erase(p=1,mode=image)",
        "erase(p=1,mode=object,fill=zero)", "photometric(p=1)"})
    specs.push_back(extra);
  return specs;
}

const Context kContext{160, 120};

Sample base_sample(cv::Mat image, std::vector<Box> boxes) {
  cvtk::data::ImageRecord rec;
  rec.id = 7;
  for (size_t i = 0; i < boxes.size(); ++i) rec.objects.push_back(Object{boxes[i], static_cast<int>(i)});
  return make_sample(rec, 3, std::move(image));
}

std::vector<Box> random_boxes(Rng& rng, int w, int h, int n) {
  std::vector<Box> out;
  for (int i = 0; i < n; ++i) {
    const int bw = static_cast<int>(rng.integer(24, w / 2)), bh = static_cast<int>(rng.integer(24, h / 2));
    const int x = static_cast<int>(rng.integer(0, w - bw)), y = static_cast<int>(rng.integer(0, h - bh));
    out.push_back(Box{double(x), double(y), double(x + bw), double(y + bh)});
  }
  return out;
}

class TransformCheck : public ::testing::TestWithParam<std::string> {};

TEST_P(TransformCheck, BoxesFollowPixelsAndMapBack) {
  const Pipeline p = parse_pipeline(GetParam());
  ASSERT_EQ(p.size(), 1u);
  const Transform& t = *p.transforms()[0];
  const bool geometric = t.kind() == Transform::Kind::geometric || t.kind() == Transform::Kind::output;
  const int W = 200, H = 150;
  int checked = 0;
  for (uint64_t seed = 0; seed < 24; ++seed) {
    Rng box_rng(99, 0, seed, 7);
    const std::vector<Box> boxes = random_boxes(box_rng, W, H, 1 + static_cast<int>(seed % 3));

    // 1. The full sample on a smooth gradient image: R encodes x, G encodes y of the original.
    cv::Mat grad(H, W, CV_8UC3);
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        grad.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar((x + 0.5) * 255.0 / W), uchar((y + 0.5) * 255.0 / H), 128);
    Sample s = base_sample(grad.clone(), boxes);
    Rng rng(1, 0, seed);
    t.apply(s, rng, kContext);
    ASSERT_EQ(s.image.type(), CV_8UC3);
    EXPECT_EQ(s.original_width, W);
    EXPECT_EQ(s.original_height, H);
    EXPECT_EQ(s.objects.size() + static_cast<size_t>(s.dropped_objects), boxes.size() - 0) << t.describe();

    if (!geometric) {
      // Pixel-only: boxes and matrix untouched (erase(boxes=keep), photometric).
      ASSERT_EQ(s.objects.size(), boxes.size());
      for (size_t i = 0; i < boxes.size(); ++i) EXPECT_EQ(s.objects[i].box, boxes[i]);
      EXPECT_EQ(cv::norm(cv::Mat(s.to_original - cv::Matx33d::eye())), 0.0);
      EXPECT_EQ(s.image.size(), grad.size());
      continue;
    }

    // Every kept box maps back inside its original box (equal to it unless clipped by a crop).
    for (const Object& o : s.objects) {
      const Box back = to_original(s, o.box);
      const Box& orig = boxes[static_cast<size_t>(o.label)];
      EXPECT_GE(back.x1, orig.x1 - 1e-6) << t.describe();
      EXPECT_GE(back.y1, orig.y1 - 1e-6);
      EXPECT_LE(back.x2, orig.x2 + 1e-6);
      EXPECT_LE(back.y2, orig.y2 + 1e-6);
      if (t.name() != "iou_crop") {
        EXPECT_NEAR(back.x1, orig.x1, 1e-6);
        EXPECT_NEAR(back.x2, orig.x2, 1e-6);
      }
    }
    // Pixels: a current pixel centre that maps inside the original image carries the gradient value of
    // the original position it maps to.
    const double slope_x = 255.0 / W, slope_y = 255.0 / H;
    const double sx = std::max(1.0, double(W) / s.image.cols), sy = std::max(1.0, double(H) / s.image.rows);
    for (int y = 2; y < s.image.rows - 2; y += 5) {
      for (int x = 2; x < s.image.cols - 2; x += 5) {
        const cv::Vec3d q = s.to_original * cv::Vec3d(x + 0.5, y + 0.5, 1);
        if (q[0] < 3 * sx || q[1] < 3 * sy || q[0] > W - 3 * sx || q[1] > H - 3 * sy) continue;
        const cv::Vec3b v = s.image.at<cv::Vec3b>(y, x);
        EXPECT_NEAR(v[0], q[0] * slope_x, 1.5 + slope_x * sx) << t.describe() << " at " << x << "," << y;
        EXPECT_NEAR(v[1], q[1] * slope_y, 1.5 + slope_y * sy) << t.describe() << " at " << x << "," << y;
      }
    }

    // 2. Each box alone as a white mask through the same random stream: the mask's bounding box is
    // the transformed box (2 px).
    for (size_t i = 0; i < boxes.size(); ++i) {
      cv::Mat mask(H, W, CV_8UC3, cv::Scalar::all(0));
      const Box& b = boxes[i];
      mask(cv::Rect(int(b.x1), int(b.y1), int(b.width()), int(b.height()))).setTo(cv::Scalar::all(255));
      Sample m = base_sample(mask, boxes);
      Rng mrng(1, 0, seed);
      t.apply(m, mrng, kContext);
      const Object* found = nullptr;
      for (const Object& o : m.objects)
        if (o.label == static_cast<int>(i)) found = &o;
      if (!found) continue;
      cv::Mat ch, bin;
      cv::extractChannel(m.image, ch, 0);
      cv::threshold(ch, bin, 160, 255, cv::THRESH_BINARY);
      const cv::Rect r = cv::boundingRect(bin);
      ASSERT_GT(r.area(), 0) << t.describe();
      EXPECT_NEAR(found->box.x1, r.x, 2.0) << t.describe() << " seed " << seed;
      EXPECT_NEAR(found->box.y1, r.y, 2.0) << t.describe() << " seed " << seed;
      EXPECT_NEAR(found->box.x2, r.x + r.width, 2.0) << t.describe() << " seed " << seed;
      EXPECT_NEAR(found->box.y2, r.y + r.height, 2.0) << t.describe() << " seed " << seed;
      ++checked;
    }
  }
  if (geometric) {
    EXPECT_GT(checked, 10) << t.describe();
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, TransformCheck, ::testing::ValuesIn(specs_to_check()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n;
                           for (char c : info.param) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n + "_" + std::to_string(info.index);
                         });

TEST(TransformCheck, EveryRegisteredTransformIsChecked) {
  std::set<std::string> names;
  for (const std::string& s : specs_to_check()) names.insert(parse_spec_tokens(s)[0].name);
  for (const TransformInfo& t : transform_registry()) EXPECT_TRUE(names.count(t.name)) << t.name;
}

TEST(TransformCheck, DescribeIsOneLineThatParsesBack) {
  for (const std::string& spec : specs_to_check()) {
    const Pipeline p = parse_pipeline(spec);
    const std::string d = p.transforms()[0]->describe();
    EXPECT_EQ(d.find('\n'), std::string::npos);
    EXPECT_EQ(parse_pipeline(d).transforms()[0]->describe(), d) << spec;
  }
}

TEST(TransformCheck, DegenerateBoxesAreDroppedAndCounted) {
  cv::Mat img(100, 100, CV_8UC3, cv::Scalar::all(0));
  Sample s = base_sample(img, {Box{10, 10, 50, 50}, Box{98, 10, 99.5, 20}});
  // Shrinking by 4: the 1.5 px wide box becomes 0.375 px wide and is dropped.
  Rng rng(0, 0, 0);
  parse_pipeline("resize(25,25)").apply(s, rng, {});
  ASSERT_EQ(s.objects.size(), 1u);
  EXPECT_EQ(s.dropped_objects, 1);
  EXPECT_NEAR(s.objects[0].box.x2, 12.5, 1e-9);
}

}  // namespace
