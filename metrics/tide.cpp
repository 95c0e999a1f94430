// TIDE's error types and oracle ΔAP (error_analysis.h, steps 3 and 4). The ranking is sorted once, and
// each oracle is then a linear walk over it that decides each data point's fate from its recorded outcome,
// so nine APs cost nine walks, not nine evaluations.
#include <algorithm>
#include <limits>
#include <utility>

#include "metrics/curves.h"
#include "metrics/error_analysis.h"
#include "metrics/error_matching.h"
#include "metrics/input_checks.h"

namespace cvtk::metrics {
namespace {

using detail::is_ignored;
using detail::kMatched;
using detail::kTargeted;
using detail::Matching;
using detail::mean_defined;

constexpr double kSpacing = std::numeric_limits<double>::epsilon();  // COCOeval's np.spacing(1)

// An oracle: fix one error type, or all false positives, or all false negatives, or nothing.
enum class Fix { kNothing, kType, kFalsePositives, kFalseNegatives };
struct Oracle {
  Fix fix = Fix::kNothing;
  ErrorType type = ErrorType::kBackground;
};

// A ranked detection's data point under an oracle: false when removed, else its class and whether it is
// a true positive.
bool data_point(const Matching& m, const Oracle& o, uint32_t i, int& label, bool& tp) {
  const DetectionOutcome& out = m.outcomes[i];
  label = (*m.dets)[i].label;
  tp = out.outcome == Outcome::kTruePositive;
  if (tp) return true;
  if (o.fix == Fix::kFalsePositives) return false;
  if (o.fix != Fix::kType || out.error != o.type) return true;
  if (o.type != ErrorType::kLocalization && o.type != ErrorType::kClassification) return false;
  if (!m.fix_wins[i]) return false;
  if (o.type == ErrorType::kClassification) label = m.gt->images[out.image].objects[out.object].label;
  tp = true;
  return true;
}

// Per-class buffers for the walks, reused from oracle to oracle.
struct Curves {
  std::vector<std::vector<double>> recall, precision, score;
  std::vector<double> tp, fp, q, s;
};

// Per-class AP under an oracle, with `positives` objects per class: -1 where the baseline has none.
std::vector<double> class_aps(const Matching& m, const std::vector<uint32_t>& ranked, const Oracle& o,
                              const std::vector<size_t>& positives, const std::vector<size_t>& baseline_gt, Curves& c) {
  const size_t K = positives.size();
  c.recall.resize(K);
  c.precision.resize(K);
  c.score.resize(K);
  for (size_t k = 0; k < K; ++k) c.recall[k].clear(), c.precision[k].clear(), c.score[k].clear();
  c.tp.assign(K, 0);
  c.fp.assign(K, 0);
  for (uint32_t i : ranked) {
    int label = 0;
    bool tp = false;
    if (!data_point(m, o, i, label, tp) || positives[label] == 0) continue;
    (tp ? c.tp : c.fp)[label] += 1;
    const double t = c.tp[label], f = c.fp[label];
    c.recall[label].push_back(t / static_cast<double>(positives[label]));
    c.precision[label].push_back(t / (f + t + kSpacing));
    c.score[label].push_back((*m.dets)[i].score);
  }
  std::vector<double> ap(K, -1);
  for (size_t k = 0; k < K; ++k) {
    if (baseline_gt[k] == 0) continue;
    if (positives[k] == 0) {
      ap[k] = 0;
      continue;
    }
    detail::sample_curve(c.recall[k], c.precision[k], c.score[k], detail::recall_points(), c.q, c.s);
    double sum = 0;
    for (double v : c.q) sum += v;
    ap[k] = sum / static_cast<double>(c.q.size());
  }
  return ap;
}

// Counts per class and type, and the missed objects.
void count(const Matching& m, ErrorBreakdown& b) {
  const data::Dataset& gt = *m.gt;
  for (size_t i = 0; i < m.outcomes.size(); ++i) {
    const DetectionOutcome& out = m.outcomes[i];
    ClassErrors& c = b.classes[(*m.dets)[i].label];
    switch (out.outcome) {
      case Outcome::kTruePositive:
        ++c.true_positives, ++c.detections, ++b.true_positives;
        break;
      case Outcome::kError:
        ++c.errors[static_cast<size_t>(out.error)], ++c.detections;
        break;
      case Outcome::kIgnored:
        ++b.ignored_detections;
        break;
      case Outcome::kOverMaxDetections:
        ++b.over_max_detections;
        break;
    }
  }
  for (uint32_t image : m.lists.order) {
    const auto& objects = gt.images[image].objects;
    for (size_t k = 0; k < objects.size(); ++k) {
      ClassErrors& c = b.classes[objects[k].label];
      if (is_ignored(objects[k])) {
        ++c.ignored_gt;
        continue;
      }
      ++c.gt;
      if (m.flags[m.object_begin[image] + k] & (kMatched | kTargeted)) continue;
      ++c.errors[static_cast<size_t>(ErrorType::kMissed)];
      b.missed.emplace_back(image, static_cast<uint32_t>(k));
    }
  }
  for (const ClassErrors& c : b.classes)
    for (size_t t = 0; t < kErrorTypes; ++t) b.errors[t] += c.errors[t];
}

// max(0, fixed - base) per class with a baseline AP, and for the mean.
struct Delta {
  std::vector<double> per_class;
  double mean = 0;
};

Delta delta(const std::vector<double>& base, const std::vector<double>& fixed) {
  Delta d;
  d.per_class.assign(base.size(), 0.0);
  for (size_t k = 0; k < base.size(); ++k)
    if (base[k] > -1) d.per_class[k] = std::max(0.0, fixed[k] - base[k]);
  const double mean = mean_defined(base);
  if (mean > -1) d.mean = std::max(0.0, mean_defined(fixed) - mean);
  return d;
}

// Runs the baseline and every oracle.
void fill_ap(const Matching& m, ErrorBreakdown& b) {
  const size_t K = b.classes.size();
  std::vector<size_t> gt(K), without_missed(K), matched(K);
  for (size_t k = 0; k < K; ++k) {
    gt[k] = b.classes[k].gt;
    without_missed[k] = gt[k] - b.classes[k].errors[static_cast<size_t>(ErrorType::kMissed)];
    matched[k] = b.classes[k].true_positives;
  }
  const std::vector<uint32_t> ranked = detail::ranking(m);
  Curves curves;
  const std::vector<double> base = class_aps(m, ranked, {}, gt, gt, curves);
  b.ap = mean_defined(base);
  for (size_t k = 0; k < K; ++k) b.classes[k].ap = base[k];
  for (size_t t = 0; t < kErrorTypes; ++t) {
    const Oracle o{Fix::kType, static_cast<ErrorType>(t)};
    const auto& positives = o.type == ErrorType::kMissed ? without_missed : gt;
    const Delta d = delta(base, class_aps(m, ranked, o, positives, gt, curves));
    b.delta_ap[t] = d.mean;
    for (size_t k = 0; k < K; ++k) b.classes[k].delta_ap[t] = d.per_class[k];
  }
  const Delta fp = delta(base, class_aps(m, ranked, {Fix::kFalsePositives}, gt, gt, curves));
  const Delta fn = delta(base, class_aps(m, ranked, {Fix::kFalseNegatives}, matched, gt, curves));
  b.delta_ap_false_positives = fp.mean;
  b.delta_ap_false_negatives = fn.mean;
  for (size_t k = 0; k < K; ++k) {
    b.classes[k].delta_ap_false_positives = fp.per_class[k];
    b.classes[k].delta_ap_false_negatives = fn.per_class[k];
  }
}
}  // namespace

const char* error_type_name(ErrorType type) {
  switch (type) {
    case ErrorType::kClassification:
      return "Cls";
    case ErrorType::kLocalization:
      return "Loc";
    case ErrorType::kBoth:
      return "Both";
    case ErrorType::kDuplicate:
      return "Dupe";
    case ErrorType::kBackground:
      return "Bkg";
    case ErrorType::kMissed:
      return "Miss";
  }
  return "?";
}

ErrorBreakdown analyze_errors(const data::Dataset& gt, const std::vector<data::Detection>& dets,
                              const ErrorOptions& options) {
  Matching m = detail::match(gt, dets, options, true);
  ErrorBreakdown b;
  b.options = options;
  b.detections = dets.size();
  b.classes.resize(gt.classes.size());
  for (size_t k = 0; k < gt.classes.size(); ++k) {
    b.classes[k].name = gt.classes[k];
    b.classes[k].label = static_cast<int>(k);
  }
  count(m, b);
  fill_ap(m, b);
  b.outcomes = std::move(m.outcomes);
  return b;
}

}  // namespace cvtk::metrics
