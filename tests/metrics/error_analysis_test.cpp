// TIDE's error types on cases small enough to type and score by hand, one per type; the ordering of the
// rules; the ΔAP figures against a slow reference that rebuilds and re-evaluates the data for every
// oracle; the baseline against metrics::evaluate; the confusion matrix and the score curves by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <tuple>

#include "tests/metrics/ground_truth.h"
#include "metrics/error_analysis.h"
#include "metrics/evaluate.h"

using namespace cvtk;
using data::Box;
using data::Detection;
using metrics::ErrorType;

using cvtk::testing::make_gt;
using cvtk::testing::obj;

namespace {

constexpr double kTol = 1e-12;
constexpr double kEps = std::numeric_limits<double>::epsilon();

// -1 true positive, -2 absorbed by an ignored object, -3 over max detections, else the ErrorType.
int code(const metrics::DetectionOutcome& o) {
  switch (o.outcome) {
    case metrics::Outcome::kTruePositive:
      return -1;
    case metrics::Outcome::kIgnored:
      return -2;
    case metrics::Outcome::kOverMaxDetections:
      return -3;
    case metrics::Outcome::kError:
      break;
  }
  return static_cast<int>(o.error);
}

size_t type_index(ErrorType t) { return static_cast<size_t>(t); }

// Only `type` occurs (count n), and every other type's ΔAP is 0.
void expect_only(const metrics::ErrorBreakdown& b, ErrorType type, size_t n) {
  for (size_t t = 0; t < metrics::kErrorTypes; ++t) {
    const auto name = metrics::error_type_name(static_cast<ErrorType>(t));
    EXPECT_EQ(b.errors[t], t == type_index(type) ? n : 0u) << name;
    if (t != type_index(type)) {
      EXPECT_EQ(b.delta_ap[t], 0.0) << name;
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// The slow reference: plain loops over plain copies. Each oracle edits the data the way its fix reads
// (a Loc winner takes its object's box, a Cls winner its object's class, removed detections and objects
// are erased) and the whole matching and AP are computed again from scratch.
namespace ref {

struct Det {
  Detection d;
  size_t input = 0;
  int image = 0;  // index into gt.images
};

bool ignored(const data::Object& o) { return o.crowd || o.difficult; }

double overlap(const Box& d, const data::Object& o) {
  if (!o.crowd) return data::iou(d, o.box);
  const double w = std::min(d.x2, o.box.x2) - std::max(d.x1, o.box.x1);
  const double h = std::min(d.y2, o.box.y2) - std::max(d.y1, o.box.y1);
  return (w > 0 && h > 0) ? w * h / d.area() : 0.0;
}

// Per image: highest scores first (ties in input order), at most max_det (0: all).
std::vector<Det> kept(const data::Dataset& gt, const std::vector<Detection>& dets, int max_det) {
  std::vector<Det> out;
  for (size_t im = 0; im < gt.images.size(); ++im) {
    std::vector<Det> mine;
    for (size_t i = 0; i < dets.size(); ++i)
      if (dets[i].image_id == gt.images[im].id) mine.push_back({dets[i], i, static_cast<int>(im)});
    std::stable_sort(mine.begin(), mine.end(), [](const Det& a, const Det& b) { return a.d.score > b.d.score; });
    if (max_det > 0 && mine.size() > static_cast<size_t>(max_det)) mine.resize(max_det);
    out.insert(out.end(), mine.begin(), mine.end());
  }
  return out;
}

struct Match {
  std::vector<int> status;  // per Det: -1 TP, -2 ignored, 0 false positive
  std::vector<int> object;  // matched object (TP)
  std::vector<std::vector<char>> matched;
};

// COCOeval's greedy rule per image and class, detections in list order (highest score first).
Match match(const data::Dataset& gt, const std::vector<Det>& dets, double tf) {
  Match m;
  m.status.assign(dets.size(), 0);
  m.object.assign(dets.size(), -1);
  for (const auto& im : gt.images) m.matched.emplace_back(im.objects.size(), 0);
  const double thr = std::min(tf, 1 - 1e-10);
  for (size_t j = 0; j < dets.size(); ++j) {
    const auto& objects = gt.images[dets[j].image].objects;
    int best_k = -1;
    double best = thr;
    for (size_t k = 0; k < objects.size(); ++k)
      if (objects[k].label == dets[j].d.label && !ignored(objects[k]) && !m.matched[dets[j].image][k] &&
          overlap(dets[j].d.box, objects[k]) >= best)
        best = overlap(dets[j].d.box, objects[k]), best_k = static_cast<int>(k);
    if (best_k >= 0) {
      m.status[j] = -1, m.object[j] = best_k, m.matched[dets[j].image][best_k] = 1;
      continue;
    }
    for (size_t k = 0; k < objects.size(); ++k)
      if (objects[k].label == dets[j].d.label && ignored(objects[k]) && overlap(dets[j].d.box, objects[k]) >= thr)
        m.status[j] = -2;
  }
  return m;
}

struct Typed {
  std::vector<int> type;    // per Det: ErrorType, or -1 / -2 from the matching
  std::vector<int> target;  // Loc, Cls, Dupe
};

// TIDE's rules, written out one after the other.
Typed type_errors(const data::Dataset& gt, const std::vector<Det>& dets, const Match& m, double tf, double tb) {
  Typed t;
  const double thr = std::min(tf, 1 - 1e-10);
  for (size_t j = 0; j < dets.size(); ++j) {
    t.type.push_back(m.status[j]);
    t.target.push_back(-1);
    if (m.status[j] != 0) continue;
    const auto& objects = gt.images[dets[j].image].objects;
    const Detection& d = dets[j].d;
    double same = -1, other = -1, used = -1, any = 0;
    int same_k = -1, other_k = -1, used_k = -1;
    bool counted = false;
    for (size_t k = 0; k < objects.size(); ++k) {
      if (ignored(objects[k])) continue;
      counted = true;
      const double v = data::iou(d.box, objects[k].box);
      any = std::max(any, v);
      if (objects[k].label == d.label && v > same) same = v, same_k = static_cast<int>(k);
      if (objects[k].label != d.label && v > other) other = v, other_k = static_cast<int>(k);
      if (objects[k].label == d.label && m.matched[dets[j].image][k] && v >= thr && v > used)
        used = v, used_k = static_cast<int>(k);
    }
    int type = static_cast<int>(ErrorType::kBoth), target = -1;
    if (!counted)
      type = static_cast<int>(ErrorType::kBackground);
    else if (same_k >= 0 && same >= tb && same < thr)
      type = static_cast<int>(ErrorType::kLocalization), target = same_k;
    else if (other_k >= 0 && other >= thr)
      type = static_cast<int>(ErrorType::kClassification), target = other_k;
    else if (used_k >= 0)
      type = static_cast<int>(ErrorType::kDuplicate), target = used_k;
    else if (any <= tb)
      type = static_cast<int>(ErrorType::kBackground);
    t.type[j] = type;
    t.target[j] = target;
  }
  return t;
}

bool targeted(const std::vector<Det>& dets, const Typed& t, int image, int k) {
  for (size_t j = 0; j < dets.size(); ++j)
    if (dets[j].image == image && t.target[j] == k &&
        (t.type[j] == static_cast<int>(ErrorType::kLocalization) ||
         t.type[j] == static_cast<int>(ErrorType::kClassification)))
      return true;
  return false;
}

// A Loc / Cls error's fix makes it a true positive: its object is unmatched and no error of the same
// type on that object ranks higher in the image (the list is in rank order within an image).
bool wins(const std::vector<Det>& dets, const Match& m, const Typed& t, size_t j) {
  if (m.matched[dets[j].image][t.target[j]]) return false;
  for (size_t i = 0; i < j; ++i)
    if (dets[i].image == dets[j].image && t.type[i] == t.type[j] && t.target[i] == t.target[j]) return false;
  return true;
}

// 101-point interpolated AP of (score, image id, input, tp) points, written out.
double class_ap(std::vector<std::tuple<double, int64_t, size_t, bool>> pts, size_t npos) {
  if (npos == 0) return 0;
  std::sort(pts.begin(), pts.end(), [](const auto& a, const auto& b) {
    if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) > std::get<0>(b);
    if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) < std::get<1>(b);
    return std::get<2>(a) < std::get<2>(b);
  });
  std::vector<double> rc, pr;
  double tp = 0, fp = 0;
  for (const auto& p : pts) {
    (std::get<3>(p) ? tp : fp) += 1;
    rc.push_back(tp / static_cast<double>(npos));
    pr.push_back(tp / (tp + fp + kEps));
  }
  double sum = 0;
  for (int r = 0; r <= 100; ++r) {
    const double point = r == 100 ? 1.0 : r * 0.01;
    for (size_t i = 0; i < rc.size(); ++i) {
      if (rc[i] < point) continue;
      sum += *std::max_element(pr.begin() + i, pr.end());
      break;
    }
  }
  return sum / 101;
}

// Per-class AP, -1 for classes without counted objects in `original`.
std::vector<double> evaluate(const data::Dataset& original, const data::Dataset& gt, const std::vector<Det>& dets,
                             double tf) {
  const Match m = match(gt, dets, tf);
  std::vector<double> ap;
  for (size_t c = 0; c < gt.classes.size(); ++c) {
    size_t before = 0, npos = 0;
    for (size_t im = 0; im < gt.images.size(); ++im) {
      for (const auto& o : original.images[im].objects) before += o.label == static_cast<int>(c) && !ignored(o);
      for (const auto& o : gt.images[im].objects) npos += o.label == static_cast<int>(c) && !ignored(o);
    }
    std::vector<std::tuple<double, int64_t, size_t, bool>> pts;
    for (size_t j = 0; j < dets.size(); ++j)
      if (dets[j].d.label == static_cast<int>(c) && m.status[j] != -2)
        pts.emplace_back(dets[j].d.score, gt.images[dets[j].image].id, dets[j].input, m.status[j] == -1);
    ap.push_back(before ? class_ap(pts, npos) : -1);
  }
  return ap;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  int n = 0;
  for (double x : v)
    if (x > -1) s += x, ++n;
  return n ? s / n : -1;
}

// The data as oracle `o` (an ErrorType, 6 FalsePos, 7 FalseNeg) leaves it.
std::pair<data::Dataset, std::vector<Det>> fixed(const data::Dataset& gt, const std::vector<Det>& dets, const Match& m,
                                                 const Typed& t, int o) {
  data::Dataset g = gt;
  for (size_t im = 0; im < gt.images.size(); ++im) {
    auto& objects = g.images[im].objects;
    objects.clear();
    for (size_t k = 0; k < gt.images[im].objects.size(); ++k) {
      const data::Object& ob = gt.images[im].objects[k];
      const bool unmatched = !ignored(ob) && !m.matched[im][k];
      if (o == static_cast<int>(ErrorType::kMissed) && unmatched && !targeted(dets, t, static_cast<int>(im), k))
        continue;
      if (o == 7 && unmatched) continue;
      objects.push_back(ob);
    }
  }
  std::vector<Det> out;
  for (size_t j = 0; j < dets.size(); ++j) {
    Det d = dets[j];
    const bool error = t.type[j] >= 0;
    if (error && (o == 6 || t.type[j] == o)) {
      if (o != static_cast<int>(ErrorType::kLocalization) && o != static_cast<int>(ErrorType::kClassification))
        continue;
      if (!wins(dets, m, t, j)) continue;
      const data::Object& target = gt.images[d.image].objects[t.target[j]];
      if (o == static_cast<int>(ErrorType::kLocalization)) d.d.box = target.box;
      if (o == static_cast<int>(ErrorType::kClassification)) d.d.label = target.label;
    }
    out.push_back(d);
  }
  return {g, out};
}

struct Result {
  std::vector<int> codes;  // per input detection, as code()
  std::array<size_t, metrics::kErrorTypes> counts{};
  std::vector<double> ap;                    // per class
  std::array<std::vector<double>, 8> fixed;  // per oracle, per class
};

Result run(const data::Dataset& gt, const std::vector<Detection>& dets, const metrics::ErrorOptions& o) {
  const std::vector<Det> list = kept(gt, dets, o.max_detections);
  const Match m = match(gt, list, o.foreground_iou);
  const Typed t = type_errors(gt, list, m, o.foreground_iou, o.background_iou);
  Result r;
  r.codes.assign(dets.size(), -3);
  for (size_t j = 0; j < list.size(); ++j) {
    r.codes[list[j].input] = t.type[j];
    if (t.type[j] >= 0) ++r.counts[t.type[j]];
  }
  for (size_t im = 0; im < gt.images.size(); ++im)
    for (size_t k = 0; k < gt.images[im].objects.size(); ++k)
      if (!ignored(gt.images[im].objects[k]) && !m.matched[im][k] && !targeted(list, t, static_cast<int>(im), k))
        ++r.counts[type_index(ErrorType::kMissed)];
  r.ap = evaluate(gt, gt, list, o.foreground_iou);
  for (int f = 0; f < 8; ++f) {
    const auto [g, d] = fixed(gt, list, m, t, f);
    r.fixed[f] = evaluate(gt, g, d, o.foreground_iou);
  }
  return r;
}

}  // namespace ref

namespace {

// analyze_errors against the reference: every detection's type, the counts, AP and every ΔAP.
void expect_matches_reference(const data::Dataset& gt, const std::vector<Detection>& dets,
                              const metrics::ErrorOptions& o = {}) {
  const metrics::ErrorBreakdown b = metrics::analyze_errors(gt, dets, o);
  const ref::Result r = ref::run(gt, dets, o);
  ASSERT_EQ(b.outcomes.size(), dets.size());
  for (size_t i = 0; i < dets.size(); ++i) EXPECT_EQ(code(b.outcomes[i]), r.codes[i]) << "detection " << i;
  for (size_t t = 0; t < metrics::kErrorTypes; ++t) EXPECT_EQ(b.errors[t], r.counts[t]) << t;
  EXPECT_NEAR(b.ap, ref::mean(r.ap), kTol);
  auto mean_delta = [&](int f) { return std::max(0.0, ref::mean(r.fixed[f]) - ref::mean(r.ap)); };
  for (size_t t = 0; t < metrics::kErrorTypes; ++t)
    EXPECT_NEAR(b.delta_ap[t], mean_delta(static_cast<int>(t)), kTol) << metrics::error_type_name(ErrorType(t));
  EXPECT_NEAR(b.delta_ap_false_positives, mean_delta(6), kTol);
  EXPECT_NEAR(b.delta_ap_false_negatives, mean_delta(7), kTol);
  for (size_t k = 0; k < gt.classes.size(); ++k) {
    const metrics::ClassErrors& c = b.classes[k];
    EXPECT_NEAR(c.ap, r.ap[k], kTol) << "class " << k;
    if (r.ap[k] <= -1) continue;
    for (size_t t = 0; t < metrics::kErrorTypes; ++t)
      EXPECT_NEAR(c.delta_ap[t], std::max(0.0, r.fixed[t][k] - r.ap[k]), kTol) << "class " << k << " type " << t;
    EXPECT_NEAR(c.delta_ap_false_positives, std::max(0.0, r.fixed[6][k] - r.ap[k]), kTol) << "class " << k;
    EXPECT_NEAR(c.delta_ap_false_negatives, std::max(0.0, r.fixed[7][k] - r.ap[k]), kTol) << "class " << k;
  }
}

// Jittered, relabelled and duplicated detections of random objects, plus background boxes; some images
// without objects; with `ignored`, some crowd and difficult objects.
std::pair<data::Dataset, std::vector<Detection>> random_case(uint32_t seed, int images, int classes, bool ignored) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  auto label = [&] { return static_cast<int>(u(rng) * classes) % classes; };
  data::Dataset gt = make_gt(images, classes);
  std::vector<Detection> dets;
  for (auto& im : gt.images) {
    const int n = static_cast<int>(u(rng) * 7);
    for (int j = 0; j < n; ++j) {
      const double x = u(rng) * 150, y = u(rng) * 150, w = 8 + u(rng) * 42, h = 8 + u(rng) * 42;
      const double r = u(rng);
      im.objects.push_back(obj({x, y, x + w, y + h}, label(), ignored && r < 0.05, ignored && r >= 0.05 && r < 0.1));
      const int copies = u(rng) < 0.85 ? (u(rng) < 0.25 ? 2 : 1) : 0;
      for (int c = 0; c < copies; ++c) {
        const double s = 0.7 * u(rng);  // jitter: IoUs from about 0.1 to 1
        const double dx = (u(rng) - 0.5) * s * w, dy = (u(rng) - 0.5) * s * h;
        const double dw = (u(rng) - 0.5) * s * w, dh = (u(rng) - 0.5) * s * h;
        const int l = u(rng) < 0.15 ? label() : im.objects.back().label;
        dets.push_back({im.id, l, u(rng), {x + dx, y + dy, x + dx + w + dw, y + dy + h + dh}});
      }
    }
    for (int j = static_cast<int>(u(rng) * 4); j > 0; --j) {
      const double x = u(rng) * 170, y = u(rng) * 170, w = 5 + u(rng) * 30, h = 5 + u(rng) * 30;
      dets.push_back({im.id, label(), u(rng), {x, y, x + w, y + h}});
    }
  }
  std::shuffle(dets.begin(), dets.end(), rng);
  return {gt, dets};
}

}  // namespace

TEST(ErrorAnalysis, LocalizationByHand) {
  auto gt = make_gt(1, 1);
  gt.images[0].objects = {obj({0, 0, 10, 10}), obj({50, 50, 60, 60})};
  // TP; a poor box on the matched object (IoU 0.4: Loc, its fix removes it); a poor box on the other
  // object (IoU 0.4: Loc, its fix makes it a TP).
  std::vector<Detection> dets = {
      {1, 0, 0.9, {0, 0, 10, 10}}, {1, 0, 0.85, {0, 0, 10, 25}}, {1, 0, 0.8, {50, 50, 60, 75}}};
  const auto b = metrics::analyze_errors(gt, dets);
  expect_only(b, ErrorType::kLocalization, 2);
  EXPECT_EQ(b.outcomes[1].object, 0);
  EXPECT_EQ(b.outcomes[2].object, 1);
  // TP, FP, FP: precision 1 to recall 0.5 (51 points). Fixed: TP, TP (the first Loc removed, not an FP).
  EXPECT_NEAR(b.ap, 51.0 / 101, kTol);
  EXPECT_NEAR(b.delta(ErrorType::kLocalization), 50.0 / 101, kTol);
  EXPECT_EQ(b.delta_ap_false_positives, 0.0);
  EXPECT_NEAR(b.delta_ap_false_negatives, 50.0 / 101, kTol);
  expect_matches_reference(gt, dets);
}

TEST(ErrorAnalysis, ClassificationByHand) {
  auto gt = make_gt(1, 2);
  gt.images[0].objects = {obj({0, 0, 10, 10}, 0), obj({50, 50, 60, 60}, 1)};
  // A perfect box on the class-1 object, labelled 0.
  std::vector<Detection> dets = {{1, 0, 0.9, {0, 0, 10, 10}}, {1, 0, 0.8, {50, 50, 60, 60}}};
  const auto b = metrics::analyze_errors(gt, dets);
  expect_only(b, ErrorType::kClassification, 1);
  EXPECT_EQ(b.classes[0].errors[type_index(ErrorType::kClassification)], 1u);  // the detection's class
  EXPECT_EQ(b.outcomes[1].object, 1);
  // Class 0: TP then FP, AP 1; class 1: nothing found, AP 0. Relabelled, class 1 is found.
  EXPECT_NEAR(b.ap, 0.5, kTol);
  EXPECT_NEAR(b.delta(ErrorType::kClassification), 0.5, kTol);
  EXPECT_NEAR(b.classes[1].delta_ap[type_index(ErrorType::kClassification)], 1.0, kTol);
  EXPECT_EQ(b.classes[0].delta_ap[type_index(ErrorType::kClassification)], 0.0);
  // Perfect recall removes class 1's only object: a class left without positives scores 0 (tidecv).
  EXPECT_EQ(b.delta_ap_false_negatives, 0.0);
  expect_matches_reference(gt, dets);
}

TEST(ErrorAnalysis, DuplicateByHand) {
  auto gt = make_gt(1, 1);
  gt.images[0].objects = {obj({0, 0, 10, 10}), obj({50, 50, 60, 60})};
  std::vector<Detection> dets = {
      {1, 0, 0.9, {0, 0, 10, 10}}, {1, 0, 0.8, {0, 0, 10, 10}}, {1, 0, 0.7, {50, 50, 60, 60}}};
  const auto b = metrics::analyze_errors(gt, dets);
  expect_only(b, ErrorType::kDuplicate, 1);
  EXPECT_EQ(b.outcomes[1].object, 0);
  // TP, FP, TP: precision 1 to recall 0.5, then 2/3. Without the duplicate: 1 throughout.
  EXPECT_NEAR(b.ap, (51 + 50 * 2.0 / 3) / 101, kTol);
  EXPECT_NEAR(b.delta(ErrorType::kDuplicate), 50.0 / 303, kTol);
  EXPECT_NEAR(b.delta_ap_false_positives, 50.0 / 303, kTol);
  EXPECT_EQ(b.delta_ap_false_negatives, 0.0);
  expect_matches_reference(gt, dets);
}

TEST(ErrorAnalysis, BackgroundByHand) {
  auto gt = make_gt(2, 1);
  gt.images[0].objects = {obj({0, 0, 10, 10}), obj({50, 50, 60, 60})};
  // One detection on an image without objects, one far from every object of its image.
  std::vector<Detection> dets = {{1, 0, 0.9, {0, 0, 10, 10}},
                                 {2, 0, 0.85, {0, 0, 10, 10}},
                                 {1, 0, 0.8, {150, 150, 160, 160}},
                                 {1, 0, 0.7, {50, 50, 60, 60}}};
  const auto b = metrics::analyze_errors(gt, dets);
  expect_only(b, ErrorType::kBackground, 2);
  // TP, FP, FP, TP: precision 1 to recall 0.5, then max(1/3, 1/2) = 1/2.
  EXPECT_NEAR(b.ap, 76.0 / 101, kTol);
  EXPECT_NEAR(b.delta(ErrorType::kBackground), 25.0 / 101, kTol);
  expect_matches_reference(gt, dets);
}

TEST(ErrorAnalysis, BothByHand) {
  auto gt = make_gt(1, 2);
  gt.images[0].objects = {obj({0, 0, 10, 10}, 0), obj({50, 50, 60, 60}, 1), obj({100, 100, 110, 110}, 0)};
  // Detection 1: class 0 at IoU 0.25 with the class-1 object: wrong class and poor box.
  std::vector<Detection> dets = {{1, 0, 0.9, {0, 0, 10, 10}},
                                 {1, 0, 0.8, {50, 50, 60, 90}},
                                 {1, 0, 0.7, {100, 100, 110, 110}},
                                 {1, 1, 0.6, {50, 50, 60, 60}}};
  const auto b = metrics::analyze_errors(gt, dets);
  expect_only(b, ErrorType::kBoth, 1);
  EXPECT_EQ(b.outcomes[1].object, -1);
  EXPECT_NEAR(b.ap, ((51 + 50 * 2.0 / 3) / 101 + 1) / 2, kTol);
  EXPECT_NEAR(b.delta(ErrorType::kBoth), 25.0 / 303, kTol);
  expect_matches_reference(gt, dets);
}

TEST(ErrorAnalysis, MissedByHand) {
  auto gt = make_gt(3, 1);
  gt.images[0].objects = {obj({0, 0, 10, 10}), obj({50, 50, 60, 60})};
  gt.images[1].objects = {obj({0, 0, 10, 10})};  // an image without any detection
  std::vector<Detection> dets = {{1, 0, 0.9, {0, 0, 10, 10}}};
  const auto b = metrics::analyze_errors(gt, dets);
  expect_only(b, ErrorType::kMissed, 2);
  ASSERT_EQ(b.missed.size(), 2u);
  EXPECT_EQ(b.missed[0], std::make_pair(0u, 1u));
  EXPECT_EQ(b.missed[1], std::make_pair(1u, 0u));
  // Recall 1/3 at precision 1 reaches 34 recall points; without the two misses, all 101.
  EXPECT_NEAR(b.ap, 34.0 / 101, kTol);
  EXPECT_NEAR(b.delta(ErrorType::kMissed), 67.0 / 101, kTol);
  EXPECT_NEAR(b.delta_ap_false_negatives, 67.0 / 101, kTol);
  expect_matches_reference(gt, dets);
}

TEST(ErrorAnalysis, OrderOfTheRulesDecidesInOneImage) {
  auto gt = make_gt(1, 2);
  gt.images[0].objects = {obj({0, 0, 10, 10}, 0),      obj({0, 0, 10, 11}, 1),    obj({30, 0, 40, 10}, 1),
                          obj({34, 0, 44, 10}, 0),     obj({100, 0, 110, 10}, 0), obj({150, 150, 160, 160}, 1),
                          obj({100, 100, 110, 110}, 0)};
  std::vector<Detection> dets = {
      {1, 0, 0.95, {0, 0, 10, 10}},        // TP on object 0
      {1, 0, 0.90, {30, 0, 40, 10}},       // Loc on 3 (IoU 0.43) before Cls on 2 (IoU 1)
      {1, 0, 0.85, {0, 0, 10, 10}},        // Cls on 1 (IoU 0.91) before Dupe of 0
      {1, 0, 0.80, {100, 0, 110, 10}},     // TP on 4
      {1, 0, 0.75, {100, 0, 110, 10}},     // Dupe of 4
      {1, 0, 0.70, {100, 100, 110, 200}},  // IoU exactly t_b with 6: Loc before Bkg
      {1, 1, 0.60, {100, 100, 110, 140}},  // class 1 at IoU 0.25 with class-0 object 6: Both
      {1, 1, 0.55, {180, 0, 190, 10}},     // Bkg
  };
  const auto b = metrics::analyze_errors(gt, dets);
  const std::vector<int> expected = {-1, 1, 0, -1, 3, 1, 2, 4};  // codes: see code()
  const std::vector<int> objects = {0, 3, 1, 4, 4, 6, -1, -1};
  for (size_t i = 0; i < dets.size(); ++i) {
    EXPECT_EQ(code(b.outcomes[i]), expected[i]) << "detection " << i;
    EXPECT_EQ(b.outcomes[i].object, objects[i]) << "detection " << i;
  }
  // Object 2 would have been the target of a Cls error had detection 1 not been typed Loc first: a Miss.
  EXPECT_EQ(b.count(ErrorType::kLocalization), 2u);
  EXPECT_EQ(b.count(ErrorType::kClassification), 1u);
  EXPECT_EQ(b.count(ErrorType::kDuplicate), 1u);
  EXPECT_EQ(b.count(ErrorType::kBoth), 1u);
  EXPECT_EQ(b.count(ErrorType::kBackground), 1u);
  EXPECT_EQ(b.count(ErrorType::kMissed), 2u);
  EXPECT_EQ(b.missed, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 2}, {0, 5}}));
  EXPECT_EQ(b.classes[0].errors[type_index(ErrorType::kLocalization)], 2u);
  EXPECT_EQ(b.classes[1].errors[type_index(ErrorType::kMissed)], 2u);
  EXPECT_EQ(b.true_positives, 2u);
  // Class 1 finds nothing, so removing its false positives or misses gains nothing; the duplicate ranks
  // below class 0's last true positive. Fixing Loc or Cls finds objects.
  EXPECT_GT(b.delta(ErrorType::kLocalization), 0.0);
  EXPECT_GT(b.delta(ErrorType::kClassification), 0.0);
  for (ErrorType t : {ErrorType::kDuplicate, ErrorType::kBoth, ErrorType::kBackground, ErrorType::kMissed})
    EXPECT_EQ(b.delta(t), 0.0) << metrics::error_type_name(t);
  expect_matches_reference(gt, dets);
}

TEST(ErrorAnalysis, IgnoredObjectsAbsorbDetectionsAndAreNotErrors) {
  auto gt = make_gt(2, 1);
  gt.images[0].objects = {obj({0, 0, 10, 10}), obj({100, 100, 200, 200}, 0, false, true),
                          obj({50, 50, 60, 60}, 0, true)};
  gt.images[1].objects = {obj({0, 0, 50, 50}, 0, false, true)};      // only a crowd: "no ground truth"
  std::vector<Detection> dets = {{1, 0, 0.9, {110, 110, 120, 120}},  // inside the crowd
                                 {1, 0, 0.8, {0, 0, 10, 10}},
                                 {2, 0, 0.7, {150, 150, 160, 160}},  // Bkg: the image has no counted object
                                 {2, 0, 0.6, {10, 10, 20, 20}},      // inside image 2's crowd
                                 {1, 0, 0.5, {50, 50, 60, 60}},      // on the difficult object, twice
                                 {1, 0, 0.4, {50, 50, 60, 60}}};
  const auto b = metrics::analyze_errors(gt, dets);
  EXPECT_EQ(b.ignored_detections, 4u);
  EXPECT_EQ(b.true_positives, 1u);
  expect_only(b, ErrorType::kBackground, 1);
  EXPECT_EQ(b.classes[0].gt, 1u);
  EXPECT_EQ(b.classes[0].ignored_gt, 3u);
  EXPECT_EQ(b.outcomes[0].object, 1);
  EXPECT_EQ(b.outcomes[5].object, 2);
  EXPECT_NEAR(b.ap, 1.0, kTol);
  expect_matches_reference(gt, dets);
}

TEST(ErrorAnalysis, MaxDetectionsIsPerImageAcrossClasses) {
  auto gt = make_gt(1, 2);
  gt.images[0].objects = {obj({0, 0, 10, 10}, 0)};
  std::vector<Detection> dets = {
      {1, 1, 0.9, {100, 100, 110, 110}}, {1, 0, 0.7, {0, 0, 10, 10}}, {1, 0, 0.8, {150, 150, 160, 160}}};
  metrics::ErrorOptions o;
  o.max_detections = 2;
  const auto capped = metrics::analyze_errors(gt, dets, o);
  EXPECT_EQ(capped.over_max_detections, 1u);
  EXPECT_EQ(code(capped.outcomes[1]), -3);
  EXPECT_EQ(capped.count(ErrorType::kMissed), 1u);
  EXPECT_EQ(capped.ap, 0.0);
  o.max_detections = 0;
  const auto all = metrics::analyze_errors(gt, dets, o);
  EXPECT_EQ(all.over_max_detections, 0u);
  EXPECT_EQ(code(all.outcomes[1]), -1);
  EXPECT_NEAR(all.ap, 0.5, kTol);  // FP then TP
  expect_matches_reference(gt, dets, o);
}

TEST(ErrorAnalysis, EmptyInputs) {
  const auto none = metrics::analyze_errors(make_gt(0, 0), {});
  EXPECT_EQ(none.ap, -1);
  EXPECT_TRUE(none.classes.empty());
  auto gt = make_gt(2, 2);
  gt.images[0].objects = {obj({0, 0, 10, 10}, 0)};
  const auto b = metrics::analyze_errors(gt, {});
  expect_only(b, ErrorType::kMissed, 1);
  EXPECT_EQ(b.ap, 0.0);
  EXPECT_EQ(b.classes[1].ap, -1);
  // Fixing the only miss leaves class 0 without positives: 0, as tidecv, so no gain.
  EXPECT_EQ(b.delta(ErrorType::kMissed), 0.0);
  // Detections only on a class without ground truth: typed, but no AP to lose.
  const auto c = metrics::analyze_errors(gt, {{2, 1, 0.5, {0, 0, 10, 10}}});
  EXPECT_EQ(c.count(ErrorType::kBackground), 1u);
  EXPECT_EQ(c.delta(ErrorType::kBackground), 0.0);
}

TEST(ErrorAnalysis, BadInputNamesTheDetection) {
  auto gt = make_gt(1, 1);
  const Detection ok{1, 0, 0.5, {0, 0, 1, 1}};
  auto message = [&](const Detection& bad) {
    try {
      metrics::analyze_errors(gt, {ok, ok, bad});
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_EQ(message({7, 0, 0.5, {0, 0, 1, 1}}), "detection 2: image id 7 is not in the ground truth");
  EXPECT_EQ(message({1, 3, 0.5, {0, 0, 1, 1}}), "detection 2: label 3 is out of range (1 classes)");
  EXPECT_EQ(message({1, 0, std::nan(""), {0, 0, 1, 1}}), "detection 2: score is not finite");
  EXPECT_EQ(message({1, 0, 0.5, {0, 0, INFINITY, 1}}), "detection 2: box is not finite");
  EXPECT_EQ(message({1, 0, 0.5, {5, 0, 1, 1}}), "detection 2: box has x2 < x1 or y2 < y1");
  EXPECT_THROW(metrics::confusion_matrix(gt, {ok, {7, 0, 0.5, {0, 0, 1, 1}}}), std::invalid_argument);
  EXPECT_THROW(metrics::score_curves(gt, {ok, {1, 0, 0.5, {5, 0, 1, 1}}}), std::invalid_argument);
  metrics::ErrorOptions o;
  o.background_iou = 0.6;
  EXPECT_THROW(metrics::analyze_errors(gt, {}, o), std::invalid_argument);
  auto dup = make_gt(2, 1);
  dup.images[1].id = 1;
  EXPECT_THROW(metrics::analyze_errors(dup, {}), std::invalid_argument);
}

TEST(ErrorAnalysis, RandomCasesMatchTheSlowReference) {
  for (const bool ignored : {false, true}) {
    SCOPED_TRACE(ignored ? "with crowd and difficult objects" : "all objects counted");
    const auto [gt, dets] = random_case(ignored ? 11 : 7, 50, 3, ignored);
    const auto b = metrics::analyze_errors(gt, dets);
    for (size_t t = 0; t < metrics::kErrorTypes; ++t)  // every type occurs, so every oracle is exercised
      EXPECT_GT(b.errors[t], 0u) << metrics::error_type_name(ErrorType(t));
    EXPECT_GT(b.ap, 0.2);
    EXPECT_LT(b.ap, 0.9);
    expect_matches_reference(gt, dets);
    metrics::ErrorOptions o;
    o.max_detections = 4;
    o.foreground_iou = 0.6;
    o.background_iou = 0.2;
    expect_matches_reference(gt, dets, o);
  }
}

TEST(ErrorAnalysis, BaselineIsCocoAp50) {
  for (const bool crowds : {false, true}) {
    SCOPED_TRACE(crowds ? "with crowd regions" : "all objects counted");
    auto [gt, dets] = random_case(3, 50, 3, crowds);
    for (auto& im : gt.images)
      for (auto& o : im.objects) o.difficult = false;  // COCOeval knows crowds only
    const auto b = metrics::analyze_errors(gt, dets);
    const auto report = metrics::evaluate(gt, dets, metrics::coco_protocol());
    EXPECT_NEAR(b.ap, report.find("AP50")->value, kTol);
    for (size_t k = 0; k < gt.classes.size(); ++k) {
      EXPECT_EQ(b.classes[k].ap, report.classes[k].ap50) << k;
      EXPECT_EQ(b.classes[k].true_positives, report.classes[k].tp) << k;
      EXPECT_EQ(b.classes[k].detections - b.classes[k].true_positives, report.classes[k].fp) << k;
    }
  }
}

TEST(ScoreCurves, ByHandWithTiedScores) {
  auto gt = make_gt(1, 2);
  gt.images[0].objects = {obj({0, 0, 10, 10}), obj({50, 50, 60, 60}), obj({100, 100, 110, 110}),
                          obj({150, 0, 200, 50}, 0, false, true)};
  std::vector<Detection> dets = {{1, 0, 0.9, {0, 0, 10, 10}},      {1, 0, 0.8, {150, 150, 160, 160}},
                                 {1, 0, 0.8, {50, 50, 60, 60}},    {1, 0, 0.7, {0, 150, 10, 160}},
                                 {1, 0, 0.75, {160, 10, 170, 20}},  // absorbed by the crowd: no point
                                 {1, 1, 0.6, {0, 0, 10, 10}}};
  const auto curves = metrics::score_curves(gt, dets);
  ASSERT_EQ(curves.size(), 2u);
  const auto& c = curves[0];
  EXPECT_EQ(c.gt, 3u);
  EXPECT_EQ(c.score, (std::vector<double>{0.9, 0.8, 0.7}));
  EXPECT_EQ(c.true_positives, (std::vector<size_t>{1, 2, 2}));
  EXPECT_EQ(c.false_positives, (std::vector<size_t>{0, 1, 2}));
  const std::vector<double> p = {1, 2.0 / 3, 0.5}, r = {1.0 / 3, 2.0 / 3, 2.0 / 3}, f1 = {0.5, 2.0 / 3, 4.0 / 7};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(c.precision[i], p[i], kTol) << i;
    EXPECT_NEAR(c.recall[i], r[i], kTol) << i;
    EXPECT_NEAR(c.f1[i], f1[i], kTol) << i;
  }
  // A class without ground truth: recall and F1 0.
  EXPECT_EQ(curves[1].gt, 0u);
  EXPECT_EQ(curves[1].recall, (std::vector<double>{0}));
  EXPECT_EQ(curves[1].f1, (std::vector<double>{0}));
  EXPECT_TRUE(metrics::score_curves(make_gt(1, 1), {})[0].score.empty());
}

TEST(ScoreCurves, BestF1IsTheReportsOperatingPoint) {
  const auto [gt, dets] = random_case(5, 50, 3, false);
  const auto curves = metrics::score_curves(gt, dets);
  const auto report = metrics::evaluate(gt, dets, metrics::coco_protocol());
  for (size_t k = 0; k < curves.size(); ++k) {
    const auto& c = curves[k];
    ASSERT_FALSE(c.f1.empty());
    const size_t best = std::max_element(c.f1.begin(), c.f1.end()) - c.f1.begin();
    EXPECT_EQ(c.f1[best], report.classes[k].best_f1) << k;
    EXPECT_EQ(c.score[best], report.classes[k].best_f1_score) << k;
    EXPECT_EQ(c.true_positives[best], report.classes[k].best_f1_tp) << k;
    EXPECT_EQ(c.false_positives[best], report.classes[k].best_f1_fp) << k;
  }
}

TEST(ConfusionMatrix, EveryRowAndColumnKindByHand) {
  auto gt = make_gt(2, 2);
  gt.images[0].objects = {obj({0, 0, 10, 10}, 0),       obj({50, 50, 60, 60}, 1),
                          obj({100, 100, 110, 110}, 0), obj({150, 0, 200, 50}, 1, false, true),
                          obj({0, 100, 10, 110}, 1),    obj({100, 0, 110, 10}, 1),
                          obj({150, 150, 160, 160}, 0), obj({150, 150, 160, 162}, 1)};
  std::vector<Detection> dets = {
      {1, 0, 0.9, {0, 0, 10, 10}},        // object 0: (c0, c0)
      {1, 0, 0.85, {50, 50, 60, 60}},     // object 1: (c1, c0)
      {1, 1, 0.8, {180, 180, 190, 190}},  // nothing: (spurious, c1)
      {1, 0, 0.3, {100, 100, 110, 110}},  // below the score threshold: object 2 is missed
      {1, 1, 0.75, {160, 10, 170, 20}},   // inside the crowd: dropped
      {1, 0, 0.7, {0, 0, 10, 10}},        // object 0 already taken: (spurious, c0)
      {1, 1, 0.65, {0, 100, 10, 110}},    // object 4: (c1, c1)
      {1, 1, 0.6, {150, 150, 160, 160}},  // IoU 1 with class-0 object 6 beats 0.83 with 7: (c0, c1)
      {2, 0, 0.95, {0, 0, 10, 10}},       // an image without objects: (spurious, c0)
  };
  const auto cm = metrics::confusion_matrix(gt, dets);
  ASSERT_EQ(cm.counts.size(), 3u);
  EXPECT_EQ(cm.spurious_row(), 2u);
  EXPECT_EQ(cm.missed_column(), 2u);
  const std::vector<std::vector<size_t>> expected = {{1, 1, 1}, {1, 1, 2}, {2, 1, 0}};  // objects 5, 7 missed
  EXPECT_EQ(cm.counts, expected);
  EXPECT_EQ(cm.ignored_detections, 1u);
  EXPECT_EQ(cm.below_score_threshold, 1u);
  const std::vector<std::vector<double>> normalized = {
      {1.0 / 3, 1.0 / 3, 1.0 / 3}, {0.25, 0.25, 0.5}, {2.0 / 3, 1.0 / 3, 0}};
  for (size_t r = 0; r < 3; ++r)
    for (size_t c = 0; c < 3; ++c) EXPECT_NEAR(cm.normalized[r][c], normalized[r][c], kTol) << r << "," << c;
  // A lower threshold lets detection 3 take object 2.
  metrics::ConfusionOptions o;
  o.score_threshold = 0.3;
  EXPECT_EQ(metrics::confusion_matrix(gt, dets, o).counts[0], (std::vector<size_t>{2, 1, 0}));
  const auto empty = metrics::confusion_matrix(make_gt(1, 1), {});
  EXPECT_EQ(empty.counts, (std::vector<std::vector<size_t>>{{0, 0}, {0, 0}}));
  EXPECT_EQ(empty.normalized, (std::vector<std::vector<double>>{{0, 0}, {0, 0}}));
}

// COCO val's size: 5,000 images, ~37,000 objects, 500,000 detections. Set CVTK_SLOW_TESTS=1 to run.
TEST(ErrorAnalysis, CocoValSizedSlow) {
  if (!std::getenv("CVTK_SLOW_TESTS")) GTEST_SKIP() << "set CVTK_SLOW_TESTS=1 to time a COCO-val-sized case";
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(0, 1);
  data::Dataset gt = make_gt(5000, 80);
  std::vector<Detection> dets;
  dets.reserve(500000);
  for (auto& im : gt.images) {
    const int n = 1 + static_cast<int>(u(rng) * 13.8);
    for (int j = 0; j < n; ++j) {
      const double x = u(rng) * 500, y = u(rng) * 400, w = 4 + u(rng) * 120, h = 4 + u(rng) * 120;
      im.objects.push_back(obj({x, y, x + w, y + h}, static_cast<int>(u(rng) * 80) % 80));
    }
    for (int j = 0; j < 100; ++j) {
      const auto& o = im.objects[j % im.objects.size()];
      const double s = j < 2 * n ? 0.3 : 3;
      const double dx = (u(rng) - 0.5) * s * o.box.width(), dy = (u(rng) - 0.5) * s * o.box.height();
      const int label = u(rng) < 0.8 ? o.label : static_cast<int>(u(rng) * 80) % 80;
      dets.push_back({im.id, label, u(rng), {o.box.x1 + dx, o.box.y1 + dy, o.box.x2 + dx, o.box.y2 + dy}});
    }
  }
  auto time = [](auto&& fn) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  metrics::ErrorBreakdown b;
  const double t_errors = time([&] { b = metrics::analyze_errors(gt, dets); });
  const double t_confusion = time([&] { metrics::confusion_matrix(gt, dets); });
  const double t_curves = time([&] { metrics::score_curves(gt, dets); });
  const double t_eval = time([&] { metrics::evaluate(gt, dets, metrics::coco_protocol()); });
  std::printf(
      "%zu images, %zu objects, %zu detections: analyze_errors %.2f s, confusion_matrix %.2f s, "
      "score_curves %.2f s (metrics::evaluate coco: %.2f s)\n",
      gt.images.size(), gt.object_count(), dets.size(), t_errors, t_confusion, t_curves, t_eval);
  size_t typed = b.true_positives;
  for (size_t t = 0; t + 1 < metrics::kErrorTypes; ++t) typed += b.errors[t];
  EXPECT_EQ(typed, dets.size());
  EXPECT_LT(t_errors, 10.0);
}
