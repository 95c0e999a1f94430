// Each protocol rule on a case small enough to compute by hand, a slow reference for the COCO matcher,
// and properties (perfect detections, input order, thread count).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "tests/metrics/ground_truth.h"
#include "metrics/evaluate.h"
#include "metrics/voc_eval.h"

using namespace cvtk;
using data::Box;
using data::Detection;

using cvtk::testing::make_gt;
using cvtk::testing::obj;

namespace {

double ap(const data::Dataset& gt, const std::vector<Detection>& dets, const char* protocol) {
  return metrics::evaluate(gt, dets, metrics::protocol_by_name(protocol)).classes.at(0).ap;
}

}  // namespace

TEST(VocRules, ElevenPointAndAllPointByHand) {
  // Two objects; detections ranked TP, FP, TP: recall 0.5, 0.5, 1; precision 1, 0.5, 2/3.
  auto gt = make_gt(1, 1);
  gt.images[0].objects = {obj({0, 0, 10, 10}), obj({50, 50, 60, 60})};
  std::vector<Detection> dets = {
      {1, 0, 0.9, {0, 0, 10, 10}}, {1, 0, 0.8, {100, 100, 110, 110}}, {1, 0, 0.7, {50, 50, 60, 60}}};
  // All-point: 0.5 * 1 + 0.5 * 2/3.
  EXPECT_NEAR(ap(gt, dets, "voc"), 0.5 + 0.5 * 2.0 / 3, 1e-12);
  // 11-point: t = 0..0.5 -> 1 (6 points), t = 0.6..1 -> 2/3 (5 points).
  EXPECT_NEAR(ap(gt, dets, "voc07"), (6 * 1.0 + 5 * 2.0 / 3) / 11, 1e-12);
}

TEST(VocRules, ThresholdIsStrictAndDuplicatesAreFalsePositives) {
  auto gt = make_gt(1, 1);
  gt.images[0].objects = {obj({0, 0, 10, 10})};
  // IoU exactly 0.5 (box of area 200 containing the 100 of the object) does not match.
  EXPECT_EQ(ap(gt, {{1, 0, 0.9, {0, 0, 20, 10}}}, "voc"), 0.0);
  // Duplicate: second detection on the same object is a FP, no fall-back.
  auto r = metrics::evaluate(gt, {{1, 0, 0.9, {0, 0, 10, 10}}, {1, 0, 0.8, {0, 0, 10, 10}}}, metrics::voc_protocol());
  EXPECT_EQ(r.classes[0].tp, 1u);
  EXPECT_EQ(r.classes[0].fp, 1u);
  EXPECT_DOUBLE_EQ(r.classes[0].ap, 1.0);
}

TEST(VocRules, DifficultObjectsAreNeitherFoundNorMissed) {
  auto gt = make_gt(1, 1);
  gt.images[0].objects = {obj({0, 0, 10, 10}), obj({50, 50, 60, 60}, 0, true)};
  // A detection on the difficult object vanishes from the ranking; missing it costs nothing.
  std::vector<Detection> dets = {{1, 0, 0.95, {50, 50, 60, 60}}, {1, 0, 0.9, {0, 0, 10, 10}}};
  auto r = metrics::evaluate(gt, dets, metrics::voc_protocol());
  EXPECT_DOUBLE_EQ(r.classes[0].ap, 1.0);
  EXPECT_EQ(r.classes[0].gt, 1u);
  EXPECT_EQ(r.classes[0].ignored_gt, 1u);
  EXPECT_EQ(r.classes[0].tp + r.classes[0].fp, 1u);
}

TEST(VocRules, RecallExactlyThreeTenthsDoesNotReachTheThreshold) {
  // numpy's arange gives 0.30000000000000004: a recall of exactly 3/10 does not count for it.
  std::vector<double> rec = {0.1, 0.2, 0.3}, prec = {1, 1, 1};
  EXPECT_NEAR(metrics::detail::voc07_ap(rec, prec), 3.0 / 11, 1e-15);
  std::vector<double> rec2 = {0.5}, prec2 = {0.5};
  EXPECT_NEAR(metrics::detail::voc_all_point_ap(rec2, prec2), 0.25, 1e-15);
}

TEST(VocRules, ClassWithoutGroundTruthIsUndefinedAndLeftOutOfMap) {
  auto gt = make_gt(2, 2);
  gt.images[0].objects = {obj({0, 0, 10, 10}, 0)};
  auto r = metrics::evaluate(gt, {{1, 0, 0.9, {0, 0, 10, 10}}, {2, 1, 0.5, {0, 0, 10, 10}}}, metrics::voc_protocol());
  EXPECT_DOUBLE_EQ(r.classes[0].ap, 1.0);
  EXPECT_EQ(r.classes[1].ap, -1);
  EXPECT_DOUBLE_EQ(r.headline(), 1.0);
  EXPECT_FALSE(r.warnings.empty());
}

TEST(VocRules, NoDetectionsForAClassGivesZero) {
  auto gt = make_gt(1, 2);
  gt.images[0].objects = {obj({0, 0, 10, 10}, 0), obj({20, 20, 30, 30}, 1)};
  auto r = metrics::evaluate(gt, {{1, 0, 0.9, {0, 0, 10, 10}}}, metrics::voc_protocol());
  EXPECT_DOUBLE_EQ(r.classes[1].ap, 0.0);
  EXPECT_DOUBLE_EQ(r.headline(), 0.5);
}

TEST(CocoRules, CrowdRegionsAbsorbDetectionsAndAreIgnored) {
  auto gt = make_gt(1, 1);
  gt.images[0].objects = {obj({0, 0, 10, 10}), obj({100, 100, 200, 200}, 0, false, true)};
  // Three detections inside the crowd region (IoU with it is intersection / detection area = 1):
  // all ignored, not false positives. One TP on the object.
  std::vector<Detection> dets = {{1, 0, 0.9, {110, 110, 120, 120}},
                                 {1, 0, 0.8, {130, 130, 140, 140}},
                                 {1, 0, 0.7, {0, 0, 10, 10}},
                                 {1, 0, 0.6, {150, 150, 160, 160}}};
  auto r = metrics::evaluate(gt, dets, metrics::coco_protocol());
  EXPECT_NEAR(r.classes[0].ap, 1.0 - 2.220446049250313e-16, 1e-15);  // pycocotools' eps in precision
  EXPECT_EQ(r.classes[0].gt, 1u);
  EXPECT_EQ(r.classes[0].ignored_gt, 1u);
  EXPECT_EQ(r.classes[0].fp, 0u);
}

TEST(CocoRules, AreaRangesUseTheAnnotationAreaAndAreInclusive) {
  auto gt = make_gt(1, 1);
  // Box area 400 (small) but annotation area exactly 1024: small and medium both include it.
  gt.images[0].objects = {obj({0, 0, 20, 20}, 0, false, false, 1024)};
  auto r = metrics::evaluate(gt, {{1, 0, 0.9, {0, 0, 20, 20}}}, metrics::coco_protocol());
  EXPECT_NEAR(r.find("AP small")->value, 1.0, 1e-12);
  EXPECT_NEAR(r.find("AP medium")->value, 1.0, 1e-12);
  EXPECT_EQ(r.find("AP large")->value, -1);  // no ground truth in range: undefined, not 0
}

TEST(CocoRules, MaxDetsCutsPerImagePerCategory) {
  auto gt = make_gt(1, 1);
  gt.images[0].objects = {obj({0, 0, 10, 10}), obj({50, 50, 60, 60})};
  // The best-scored detection is a FP; with maxDets 1 only it counts, so AR@1 is 0; AR@10 is 1.
  std::vector<Detection> dets = {
      {1, 0, 0.9, {100, 100, 110, 110}}, {1, 0, 0.8, {0, 0, 10, 10}}, {1, 0, 0.7, {50, 50, 60, 60}}};
  auto r = metrics::evaluate(gt, dets, metrics::coco_protocol());
  EXPECT_EQ(r.find("AR@1")->value, 0.0);
  EXPECT_NEAR(r.find("AR@10")->value, 1.0, 1e-12);
}

TEST(CocoRules, TiesKeepFileOrderWithinAnImageAndImageIdOrderAcross) {
  auto gt = make_gt(2, 1);
  gt.images[0].objects = {obj({0, 0, 10, 10})};
  gt.images[1].objects = {obj({0, 0, 10, 10})};
  // Equal scores: a FP in image 2 and a TP in image 1. Image 1's comes first whatever the input order.
  std::vector<Detection> a = {{2, 0, 0.5, {100, 100, 110, 110}}, {1, 0, 0.5, {0, 0, 10, 10}}};
  std::vector<Detection> b = {a[1], a[0]};
  const double pa = metrics::evaluate(gt, a, metrics::coco_protocol()).classes[0].ap;
  const double pb = metrics::evaluate(gt, b, metrics::coco_protocol()).classes[0].ap;
  EXPECT_EQ(pa, pb);
  // Precision 1 up to recall 0.5 (51 points), then 0: (51 * (1 - eps)) / 101 at every threshold.
  EXPECT_NEAR(pa, 51.0 / 101, 1e-12);
}

TEST(CocoRules, EmptyImagesAndNoDetections) {
  auto gt = make_gt(3, 1);
  gt.images[0].objects = {obj({0, 0, 10, 10})};
  auto r = metrics::evaluate(gt, {}, metrics::coco_protocol());
  EXPECT_EQ(r.classes[0].ap, 0.0);  // ground truth, no detection: 0, not undefined
  // A detection on an image without objects is a false positive.
  auto r2 = metrics::evaluate(gt, {{3, 0, 0.9, {0, 0, 10, 10}}, {1, 0, 0.8, {0, 0, 10, 10}}}, metrics::coco_protocol());
  EXPECT_NEAR(r2.classes[0].ap, 0.5, 1e-12);
}

TEST(Properties, PerfectDetectionsScoreOneAndResultsIgnoreOrderAndThreads) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  auto gt = make_gt(40, 4);
  std::vector<Detection> perfect, noisy;
  for (auto& im : gt.images)
    for (int j = 0; j < 5; ++j) {
      const double x = u(rng) * 150, y = u(rng) * 150, w = 5 + u(rng) * 45, h = 5 + u(rng) * 45;
      const int label = static_cast<int>(u(rng) * 4);
      im.objects.push_back(obj({x, y, x + w, y + h}, label));
      perfect.push_back({im.id, label, 0.5 + 0.5 * u(rng), {x, y, x + w, y + h}});
      noisy.push_back({im.id, label, u(rng), {x + u(rng) * 4, y + u(rng) * 4, x + w, y + h}});
      noisy.push_back({im.id, static_cast<int>(u(rng) * 4), u(rng), {x, y, x + 20, y + 20}});
    }
  for (const char* name : {"voc07", "voc"})
    EXPECT_NEAR(metrics::evaluate(gt, perfect, metrics::protocol_by_name(name)).headline(), 1.0, 1e-12);
  EXPECT_NEAR(metrics::evaluate(gt, perfect, metrics::coco_protocol()).headline(), 1.0, 1e-12);
  // Scores are distinct here, so the input order must not matter; nor the thread count.
  auto shuffled = noisy;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  auto reversed_gt = gt;
  std::reverse(reversed_gt.images.begin(), reversed_gt.images.end());
  for (const char* name : {"voc07", "voc", "coco"}) {
    metrics::Protocol p1 = metrics::protocol_by_name(name), p2 = p1;
    p1.threads = 1;
    p2.threads = 2;
    const auto a = metrics::evaluate(gt, noisy, p1);
    const auto b = metrics::evaluate(reversed_gt, shuffled, p2);
    ASSERT_EQ(a.summary.size(), b.summary.size());
    for (size_t i = 0; i < a.summary.size(); ++i)
      EXPECT_EQ(a.summary[i].value, b.summary[i].value) << name << " " << a.summary[i].name;
    EXPECT_GT(a.headline(), 0.05) << name;
    EXPECT_LT(a.headline(), 0.95) << name;
  }
}

TEST(BadInput, InMemoryDetectionsAreChecked) {
  auto gt = make_gt(1, 1);
  EXPECT_THROW(metrics::evaluate(gt, {{7, 0, 0.5, {0, 0, 1, 1}}}, metrics::voc_protocol()), std::invalid_argument);
  EXPECT_THROW(metrics::evaluate(gt, {{1, 3, 0.5, {0, 0, 1, 1}}}, metrics::voc_protocol()), std::invalid_argument);
  EXPECT_THROW(metrics::evaluate(gt, {{1, 0, std::nan(""), {0, 0, 1, 1}}}, metrics::voc_protocol()),
               std::invalid_argument);
  EXPECT_THROW(metrics::evaluate(gt, {{1, 0, 0.5, {5, 0, 1, 1}}}, metrics::voc_protocol()), std::invalid_argument);
  metrics::Protocol p = metrics::voc_protocol();
  p.classes = {"nope"};
  EXPECT_THROW(metrics::evaluate(gt, {}, p), std::invalid_argument);
}
