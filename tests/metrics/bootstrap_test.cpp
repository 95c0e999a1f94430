// The image-level bootstrap (metrics/bootstrap.h) on cases whose bootstrap distribution can be worked
// out by hand, its determinism across seeds and thread counts, its errors, and the one-line summary.
#include "metrics/bootstrap.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <random>
#include <stdexcept>

#include "metrics/evaluate.h"
#include "tests/metrics/ground_truth.h"

using namespace cvtk;
using data::Box;
using data::Detection;

using cvtk::testing::make_gt;
using cvtk::testing::obj;

namespace {

metrics::BootstrapResult run(const data::Dataset& gt, const std::vector<Detection>& dets, int replicates, uint64_t seed,
                             int threads = 0) {
  metrics::BootstrapOptions o;
  o.replicates = replicates;
  o.seed = seed;
  o.threads = threads;
  return metrics::bootstrap(gt, dets, o);
}

// A validation set the size of BCCD val: 73 images, 3 classes, 5 objects each; per object a shifted
// box of its class and a loose box of another class, and per image two boxes on background: 1022
// detections. std::mt19937's raw output is fully specified, so the case is the same everywhere.
struct Case {
  data::Dataset gt;
  std::vector<Detection> dets;
};

Case val_sized_case() {
  Case c;
  c.gt = make_gt(73, 3);
  std::mt19937 rng(11);
  for (auto& im : c.gt.images) {
    for (int k = 0; k < 5; ++k) {
      const double x = static_cast<double>(rng() % 150), y = static_cast<double>(rng() % 150);
      const double w = 10 + static_cast<double>(rng() % 40), h = 10 + static_cast<double>(rng() % 40);
      const int label = static_cast<int>(rng() % 3);
      im.objects.push_back(obj({x, y, x + w, y + h}, label));
      const double dx = static_cast<double>(rng() % 9) - 4, dy = static_cast<double>(rng() % 9) - 4;
      const double score = static_cast<double>(rng() % 1000) / 1000;
      c.dets.push_back({im.id, label, score, {x + dx, y + dy, x + w + dx, y + h + dy}});
      const int other = static_cast<int>((label + 1 + rng() % 2) % 3);
      c.dets.push_back({im.id, other, score / 2, {x, y, x + w * 0.7, y + h * 0.7}});
    }
    for (int k = 0; k < 4; ++k) {
      const double x = static_cast<double>(rng() % 180), y = static_cast<double>(rng() % 180);
      c.dets.push_back(
          {im.id, static_cast<int>(rng() % 3), static_cast<double>(rng() % 1000) / 1000, {x, y, x + 20, y + 20}});
    }
  }
  return c;
}

void expect_same(const metrics::BootstrapFigure& a, const metrics::BootstrapFigure& b) {
  EXPECT_EQ(a.samples, b.samples);  // bit for bit
  EXPECT_EQ(a.sd, b.sd);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
  EXPECT_EQ(a.skipped, b.skipped);
}

}  // namespace

TEST(Bootstrap, PerfectDetectionsDoNotVary) {
  // Every image holds both classes and every object is detected exactly, alone: each replicate scores
  // exactly 1 on all three figures (AP 1 is a sum of exact recall steps times precision 1).
  auto gt = make_gt(10, 2);
  std::vector<Detection> dets;
  for (auto& im : gt.images) {
    const double s = static_cast<double>(im.id);
    im.objects = {obj({s, s, s + 30, s + 40}, 0), obj({100, 100 + s, 150, 130 + s}, 1), obj({5, 150, 45, 190}, 1)};
    for (const auto& o : im.objects) dets.push_back({im.id, o.label, 0.5 + s / 100, o.box});
  }
  const auto r = run(gt, dets, 50, 7);
  EXPECT_EQ(r.replicates, 50u);
  EXPECT_EQ(r.images, 10u);
  for (const auto* f : {&r.map50, &r.coco_ap, &r.coco_ap50}) {
    EXPECT_EQ(f->value, 1.0);
    EXPECT_EQ(f->sd, 0.0);
    EXPECT_EQ(f->lo, 1.0);
    EXPECT_EQ(f->hi, 1.0);
    EXPECT_EQ(f->skipped, 0u);
    ASSERT_EQ(f->samples.size(), 50u);
    for (double x : f->samples) EXPECT_EQ(x, 1.0);
  }
}

TEST(Bootstrap, SameSeedSameResultOtherSeedClose) {
  const Case c = val_sized_case();
  const auto a = run(c.gt, c.dets, 200, 1);
  const auto b = run(c.gt, c.dets, 200, 1);
  expect_same(a.map50, b.map50);
  expect_same(a.coco_ap, b.coco_ap);
  expect_same(a.coco_ap50, b.coco_ap50);

  // Another seed draws other replicates, with about the same spread: for B = 200 the s.d. of a
  // s.d. estimate is about sd / sqrt(2 B) = 5% of it, so two estimates differ by about 7%; 35% is
  // five times that.
  const auto other = run(c.gt, c.dets, 200, 2);
  EXPECT_NE(a.map50.samples, other.map50.samples);
  EXPECT_EQ(a.map50.value, other.map50.value);  // the point value does not resample
  for (auto [x, y] : {std::pair{&a.map50, &other.map50}, std::pair{&a.coco_ap, &other.coco_ap},
                      std::pair{&a.coco_ap50, &other.coco_ap50}}) {
    ASSERT_GT(x->sd, 0);
    EXPECT_LT(std::abs(x->sd - y->sd), 0.35 * x->sd);
    EXPECT_LE(x->lo, x->hi);
    EXPECT_NEAR(x->lo, y->lo, 4 * x->sd);
    EXPECT_NEAR(x->hi, y->hi, 4 * x->sd);
  }
}

TEST(Bootstrap, ThreadCountDoesNotChangeTheResult) {
  const Case c = val_sized_case();
  EXPECT_EQ(c.dets.size(), 1022u);
  const auto t0 = std::chrono::steady_clock::now();
  const auto parallel = run(c.gt, c.dets, 200, 5);
  const auto t1 = std::chrono::steady_clock::now();
  const auto serial = run(c.gt, c.dets, 200, 5, 1);
  const auto t2 = std::chrono::steady_clock::now();
  expect_same(parallel.map50, serial.map50);
  expect_same(parallel.coco_ap, serial.coco_ap);
  expect_same(parallel.coco_ap50, serial.coco_ap50);
  // Every class has 100+ objects over 73 images: no replicate misses one.
  EXPECT_EQ(parallel.map50.skipped, 0u);
  EXPECT_EQ(parallel.coco_ap.skipped, 0u);
  // Not an assertion: the figure is for reading.
  std::cout << "[ timing  ] 200 replicates, 73 images, 1022 detections: "
            << std::chrono::duration<double>(t1 - t0).count() << " s on all cores, "
            << std::chrono::duration<double>(t2 - t1).count() << " s on one thread\n"
            << "[ describe] " << metrics::describe(parallel) << "\n";
}

TEST(Bootstrap, TwoImagesOneFoundOneMissedByEnumeration) {
  // One class. Image 1's object is found exactly; image 2's is never detected. A replicate draws two
  // of them with replacement, four equally likely draws:
  //   (1, 1)        2 objects, 2 found: AP 1 on every protocol
  //   (1, 2), (2, 1) 2 objects, 1 found at precision 1, recall 1/2:
  //                 VOC all-point 1/2 * 1 = 0.5; COCO precision 1 at recall points 0, .01, .., .50
  //                 (51 of 101), 0 beyond: 51/101 at every IoU, so AP and AP50 both 51/101
  //   (2, 2)        2 objects, nothing found: AP 0
  auto gt = make_gt(2, 1);
  gt.images[0].objects = {obj({10, 10, 60, 60})};
  gt.images[1].objects = {obj({100, 100, 150, 150})};
  const std::vector<Detection> dets = {{1, 0, 0.9, {10, 10, 60, 60}}};
  const double half_coco = 51.0 / 101.0;

  // The mixed draw by hand agrees with the evaluator: it is the original data itself.
  EXPECT_NEAR(metrics::evaluate(gt, dets, metrics::voc_protocol()).headline(), 0.5, 1e-12);
  EXPECT_NEAR(metrics::evaluate(gt, dets, metrics::coco_protocol()).headline(), half_coco, 1e-12);

  const int kB = 2000;
  const auto r = run(gt, dets, kB, 3);
  EXPECT_NEAR(r.map50.value, 0.5, 1e-12);
  EXPECT_NEAR(r.coco_ap.value, half_coco, 1e-12);
  EXPECT_NEAR(r.coco_ap50.value, half_coco, 1e-12);

  for (auto [f, half] :
       {std::pair{&r.map50, 0.5}, std::pair{&r.coco_ap, half_coco}, std::pair{&r.coco_ap50, half_coco}}) {
    // Exact bootstrap distribution: 1, half, half, 0 with probability 1/4 each.
    const double values[] = {1.0, half, half, 0.0};
    double mean = 0, var = 0;
    for (double v : values) mean += v / 4;
    for (double v : values) var += (v - mean) * (v - mean) / 4;
    const double exact_sd = std::sqrt(var);

    EXPECT_EQ(f->skipped, 0u);
    size_t ones = 0, halves = 0, zeros = 0;
    for (double x : f->samples) {
      if (std::abs(x - 1) < 1e-12)
        ++ones;
      else if (std::abs(x - half) < 1e-12)
        ++halves;
      else if (std::abs(x) < 1e-12)
        ++zeros;
      else
        ADD_FAILURE() << "replicate value " << x << " is none of 1, " << half << ", 0";
    }
    EXPECT_EQ(ones + halves + zeros, static_cast<size_t>(kB));
    // A frequency of p over B = 2000 draws has s.e. sqrt(p (1 - p) / B) <= 0.0112; 0.05 is > 4 s.e.
    EXPECT_NEAR(ones / double(kB), 0.25, 0.05);
    EXPECT_NEAR(halves / double(kB), 0.5, 0.05);
    EXPECT_NEAR(zeros / double(kB), 0.25, 0.05);
    // The s.e. of a sample s.d. is about sqrt((m4 - sd^4) / B) / (2 sd), m4 the fourth central moment:
    // for 1, 0.5, 0.5, 0 that is sqrt((1/32 - 1/64) / 2000) / (2 * 0.354) = 0.004; 0.02 is 5 s.e.
    EXPECT_NEAR(f->sd, exact_sd, 0.02);
    // A quarter of the replicates are 0 and a quarter 1: the 2.5% and 97.5% points fall inside those.
    EXPECT_EQ(f->lo, 0.0);
    EXPECT_EQ(f->hi, 1.0);
  }
}

TEST(Bootstrap, ReplicatesWithoutGroundTruthAreSkipped) {
  // Image 1's object is found exactly; image 2 is empty. Draws (1, 1), (1, 2), (2, 1) score 1; (2, 2)
  // has no ground truth, every figure -1: skipped, a quarter of the replicates.
  auto gt = make_gt(2, 1);
  gt.images[0].objects = {obj({10, 10, 60, 60})};
  const std::vector<Detection> dets = {{1, 0, 0.9, {10, 10, 60, 60}}};
  const int kB = 400;
  const auto r = run(gt, dets, kB, 9);
  for (const auto* f : {&r.map50, &r.coco_ap, &r.coco_ap50}) {
    // A perfect COCO AP, a mean of means, may differ from 1 by an ulp depending on the image count.
    EXPECT_DOUBLE_EQ(f->value, 1.0);
    EXPECT_NEAR(f->skipped / double(kB), 0.25, 0.1);  // s.e. 0.022
    size_t minus = 0;
    for (double x : f->samples) {
      if (x == -1)
        ++minus;
      else
        EXPECT_DOUBLE_EQ(x, 1.0);
    }
    EXPECT_EQ(minus, f->skipped);
    EXPECT_NEAR(f->sd, 0.0, 1e-12);
    EXPECT_DOUBLE_EQ(f->lo, 1.0);
    EXPECT_DOUBLE_EQ(f->hi, 1.0);
  }
}

TEST(Bootstrap, ReplicatesMissingAClassAreSkipped) {
  // Class 0 only in image 1, found; class 1 only in image 2, missed: mAP 0.5 on the original. The
  // evaluator would give (1, 1) mAP 1 and (2, 2) mAP 0 by leaving the absent class out; those are
  // means over another set of classes, so they are skipped and only the mixed draws, 0.5, remain.
  auto gt = make_gt(2, 2);
  gt.images[0].objects = {obj({10, 10, 60, 60}, 0)};
  gt.images[1].objects = {obj({100, 100, 150, 150}, 1)};
  const std::vector<Detection> dets = {{1, 0, 0.9, {10, 10, 60, 60}}};
  const int kB = 400;
  const auto r = run(gt, dets, kB, 4);
  EXPECT_EQ(r.map50.value, 0.5);
  EXPECT_NEAR(r.map50.skipped / double(kB), 0.5, 0.1);  // s.e. 0.025
  for (double x : r.map50.samples) EXPECT_TRUE(x == -1 || x == 0.5) << x;
  EXPECT_EQ(r.map50.sd, 0.0);
  EXPECT_EQ(r.map50.lo, 0.5);
  EXPECT_EQ(r.map50.hi, 0.5);
  EXPECT_EQ(r.coco_ap.skipped, r.map50.skipped);  // the same replicates miss a class
}

TEST(Bootstrap, Errors) {
  auto gt = make_gt(3, 1);
  gt.images[0].objects = {obj({10, 10, 60, 60})};
  const std::vector<Detection> dets = {{1, 0, 0.9, {10, 10, 60, 60}}};
  EXPECT_THROW(run(gt, dets, 1, 0), std::invalid_argument);
  EXPECT_THROW(run(gt, dets, 0, 0), std::invalid_argument);
  EXPECT_THROW(run(gt, dets, -5, 0), std::invalid_argument);
  EXPECT_NO_THROW(run(gt, dets, 2, 0));
  EXPECT_THROW(run(make_gt(0, 1), {}, 200, 0), std::invalid_argument);
  // A detection of an image the ground truth does not have: the evaluator's error.
  EXPECT_THROW(run(gt, {{99, 0, 0.9, {10, 10, 60, 60}}}, 200, 0), std::invalid_argument);
}

TEST(BootstrapDescribe, OneLine) {
  metrics::BootstrapResult r;
  r.replicates = 200;
  r.images = 73;
  r.map50.value = 0.8421;
  r.map50.sd = 0.0214;
  r.map50.lo = 0.8029;
  r.map50.hi = 0.8794;
  EXPECT_EQ(metrics::describe(r),
            "mAP@0.5 0.842 +/- 0.021 (s.d. over 200 bootstrap resamples of the 73 validation images; 95% "
            "0.803-0.879)");
  r.map50.skipped = 3;
  EXPECT_EQ(metrics::describe(r),
            "mAP@0.5 0.842 +/- 0.021 (s.d. over 197 bootstrap resamples of the 73 validation images; 95% "
            "0.803-0.879; 3 more missed a class and were left out)");
  r.map50.sd = r.map50.lo = r.map50.hi = -1;
  r.map50.skipped = 199;
  EXPECT_EQ(metrics::describe(r),
            "mAP@0.5 0.842 (no bootstrap s.d.: 199 of 200 resamples of the 73 validation images miss a class)");
  r.map50.value = -1;
  EXPECT_EQ(metrics::describe(r), "mAP@0.5 undefined on the 73 validation images (no ground truth)");
}
