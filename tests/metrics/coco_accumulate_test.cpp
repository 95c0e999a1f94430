// The COCO accumulation reads precision at the recall points from the true positives alone, and
// computes the whole curve (recall and precision at every rank) only for what the report shows: the
// first IoU threshold and the sixth, area "all", the largest maxDet (metrics/coco_eval.cpp). Listing
// the thresholds in reverse moves every threshold from one computation to the other; a class's AP at
// one threshold must come out bit for bit the same either way.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "metrics/evaluate.h"
#include "tests/metrics/ground_truth.h"

using namespace cvtk;

namespace {

struct Case {
  data::Dataset gt;
  std::vector<data::Detection> dets;
};

Case random_case(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Case c{cvtk::testing::make_gt(40, 3), {}};
  int64_t id = 1;
  for (auto& im : c.gt.images) {
    const int n = static_cast<int>(u(rng) * 6);
    for (int j = 0; j < n; ++j) {
      const double w = 4 + u(rng) * 120, h = 4 + u(rng) * 120, x = u(rng) * (200 - w), y = u(rng) * (200 - h);
      data::Object o = cvtk::testing::obj({x, y, x + w, y + h}, static_cast<int>(u(rng) * 3), false, u(rng) < 0.1,
                                          u(rng) < 0.5 ? w * h * (0.4 + 0.6 * u(rng)) : -1);
      o.id = id++;
      im.objects.push_back(o);
      for (int k = 0; k < 3; ++k) {  // true positives of varied quality, and duplicates
        const double jx = (u(rng) - 0.5) * 0.5 * w, jy = (u(rng) - 0.5) * 0.5 * h;
        c.dets.push_back({im.id, o.label, std::round(u(rng) * 20) / 20, {x + jx, y + jy, x + w + jx, y + h + jy}});
      }
    }
    for (int k = 0; k < 4; ++k) {  // false positives
      const double w = 4 + u(rng) * 100, h = 4 + u(rng) * 100, x = u(rng) * 100, y = u(rng) * 100;
      c.dets.push_back({im.id, static_cast<int>(u(rng) * 3), std::round(u(rng) * 20) / 20, {x, y, x + w, y + h}});
    }
  }
  return c;
}

// A class's AP at one threshold (the mean of precision over the recall points).
double ap_at(const metrics::ClassReport& r, double iou) { return iou == 0.5 ? r.ap50 : r.ap75; }

}  // namespace

TEST(CocoAccumulate, RecallPointsFromTruePositivesEqualTheWholeCurve) {
  for (uint64_t seed = 1; seed <= 25; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Case c = random_case(seed);
    metrics::Protocol forward = metrics::coco_protocol();
    metrics::Protocol reverse = forward;
    std::reverse(reverse.iou_thresholds.begin(), reverse.iou_thresholds.end());
    const metrics::Report a = metrics::evaluate(c.gt, c.dets, forward);
    const metrics::Report b = metrics::evaluate(c.gt, c.dets, reverse);
    ASSERT_EQ(a.classes.size(), b.classes.size());
    for (size_t k = 0; k < a.classes.size(); ++k) {
      SCOPED_TRACE("class " + std::to_string(k));
      for (double iou : {0.5, 0.75}) {
        EXPECT_EQ(ap_at(a.classes[k], iou), ap_at(b.classes[k], iou)) << "IoU " << iou;
        EXPECT_GT(ap_at(a.classes[k], iou), 0.0);
      }
    }
  }
}
