// TIDE's error types and oracle ΔAP, the confusion matrix and the score curves (error_analysis.h).
//
// One pass matches and types every detection image by image, with per-object flags instead of per-error
// objects; the ranking is sorted once, and each oracle is then a linear walk over it that decides each
// data point's fate from its recorded outcome, so nine APs cost nine walks, not nine evaluations.
#include "metrics/error_analysis.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "metrics/curves.h"
#include "metrics/input_checks.h"

namespace cvtk::metrics {
namespace {

constexpr double kSpacing = std::numeric_limits<double>::epsilon();  // COCOeval's np.spacing(1)
constexpr double kMaxMatchIou = 1 - 1e-10;                           // COCOeval's cap on the threshold

// COCOeval's IoU (maskApi.c bbIou) with its operation order, so the baseline reproduces its AP50 to
// the last bit; crowd regions divide by the detection's area.
double box_iou(const data::Box& d, const data::Box& g, bool crowd) {
  const double w = std::min(d.x2, g.x2) - std::max(d.x1, g.x1);
  if (w <= 0) return 0;
  const double h = std::min(d.y2, g.y2) - std::max(d.y1, g.y1);
  if (h <= 0) return 0;
  const double i = w * h;
  const double da = (d.x2 - d.x1) * (d.y2 - d.y1);
  const double u = crowd ? da : da + (g.x2 - g.x1) * (g.y2 - g.y1) - i;
  return i / u;
}

bool is_ignored(const data::Object& o) { return o.crowd || o.difficult; }

using detail::mean_defined;

// Per detection: the index of its image in gt.images, after metrics::evaluate's checks.
std::vector<uint32_t> check_input(const data::Dataset& gt, const std::vector<data::Detection>& dets) {
  const auto index = detail::index_images(gt);
  detail::check_object_labels(gt);
  const auto images = detail::detection_images(gt, dets, index);
  return std::vector<uint32_t>(images.begin(), images.end());
}

void check_options(const ErrorOptions& o) {
  if (!(o.background_iou >= 0 && o.background_iou <= o.foreground_iou && o.foreground_iou > 0 && o.foreground_iou <= 1))
    throw std::invalid_argument("error analysis: IoU thresholds must satisfy 0 <= background (" +
                                std::to_string(o.background_iou) + ") <= foreground (" +
                                std::to_string(o.foreground_iou) + ") <= 1, foreground > 0");
  if (o.max_detections < 0)
    throw std::invalid_argument("error analysis: max detections " + std::to_string(o.max_detections) + " < 0");
}

// Images in ascending id (COCOeval's accumulation order, which decides ties between equal scores) and
// each image's detections in descending score, ties in input order.
struct ImageLists {
  std::vector<uint32_t> order;  // indices into gt.images
  std::vector<size_t> begin;    // per position in order: the image's first entry in dets (one more at the end)
  std::vector<uint32_t> dets;
};

// Keeps detections with score >= min_score, then at most max_per_image (0: all) per image.
ImageLists list_by_image(const data::Dataset& gt, const std::vector<data::Detection>& dets,
                         const std::vector<uint32_t>& det_image, double min_score, int max_per_image) {
  ImageLists l;
  const size_t n_images = gt.images.size();
  l.order.resize(n_images);
  for (size_t i = 0; i < n_images; ++i) l.order[i] = static_cast<uint32_t>(i);
  std::stable_sort(l.order.begin(), l.order.end(),
                   [&](uint32_t a, uint32_t b) { return gt.images[a].id < gt.images[b].id; });
  std::vector<uint32_t> position(n_images);
  for (size_t p = 0; p < n_images; ++p) position[l.order[p]] = static_cast<uint32_t>(p);
  // A counting sort by image position keeps input order within an image without a per-image container.
  std::vector<size_t> fill(n_images + 1, 0);
  for (size_t i = 0; i < dets.size(); ++i)
    if (dets[i].score >= min_score) ++fill[position[det_image[i]] + 1];
  for (size_t p = 0; p < n_images; ++p) fill[p + 1] += fill[p];
  l.begin = fill;
  std::vector<uint32_t> grouped(fill[n_images]);
  for (size_t i = 0; i < dets.size(); ++i)
    if (dets[i].score >= min_score) grouped[fill[position[det_image[i]]]++] = static_cast<uint32_t>(i);
  l.dets.reserve(grouped.size());
  for (size_t p = 0; p < n_images; ++p) {
    auto first = grouped.begin() + l.begin[p], last = grouped.begin() + l.begin[p + 1];
    std::stable_sort(first, last, [&](uint32_t a, uint32_t b) { return dets[a].score > dets[b].score; });
    if (max_per_image > 0 && last - first > max_per_image) last = first + max_per_image;
    l.begin[p] = l.dets.size();
    l.dets.insert(l.dets.end(), first, last);
  }
  l.begin[n_images] = l.dets.size();
  return l;
}

// Per-object flags, in one byte per object of the dataset.
enum ObjectFlag : uint8_t { kMatched = 1, kTargeted = 2, kLocClaimed = 4, kClsClaimed = 8 };

// Step 1 and 2 of analyze_errors, and what the oracles need from them.
struct Matching {
  const data::Dataset* gt = nullptr;
  const std::vector<data::Detection>* dets = nullptr;
  double t_match = 0.5, t_background = 0.1;
  ImageLists lists;
  std::vector<size_t> object_begin;  // per gt.images index: its first object in `flags`
  std::vector<uint8_t> flags;
  std::vector<DetectionOutcome> outcomes;
  std::vector<char> fix_wins;  // Loc / Cls error whose fix makes it a true positive
  std::vector<double> ious;    // one image's detection x object IoUs, reused
};

// COCOeval's greedy walk in one image, all classes at once: a class's detections keep their relative
// order, and a detection only looks at objects of its class.
void match_image(Matching& m, size_t p) {
  const auto& dets = *m.dets;
  const uint32_t image = m.lists.order[p];
  const auto& objects = m.gt->images[image].objects;
  uint8_t* flags = m.flags.data() + m.object_begin[image];
  const size_t G = objects.size(), first = m.lists.begin[p], D = m.lists.begin[p + 1] - first;
  m.ious.resize(D * G);
  for (size_t d = 0; d < D; ++d)
    for (size_t k = 0; k < G; ++k)
      m.ious[d * G + k] = box_iou(dets[m.lists.dets[first + d]].box, objects[k].box, objects[k].crowd);
  for (size_t d = 0; d < D; ++d) {
    const uint32_t i = m.lists.dets[first + d];
    DetectionOutcome& out = m.outcomes[i];
    out.image = image;
    // Counted objects first; an ignored one only when no counted one matches. Equal IoUs: the later
    // object, as COCOeval's `iou < best` test.
    for (const bool ignored_pass : {false, true}) {
      double best = m.t_match;
      int found = -1;
      for (size_t k = 0; k < G; ++k) {
        if (objects[k].label != dets[i].label || is_ignored(objects[k]) != ignored_pass) continue;
        if (!ignored_pass && (flags[k] & kMatched)) continue;
        if (m.ious[d * G + k] < best) continue;
        best = m.ious[d * G + k];
        found = static_cast<int>(k);
      }
      if (found < 0) continue;
      out.outcome = ignored_pass ? Outcome::kIgnored : Outcome::kTruePositive;
      out.object = found;
      if (!ignored_pass) flags[found] |= kMatched;
      break;
    }
    if (out.outcome == Outcome::kOverMaxDetections) out.outcome = Outcome::kError;
  }
}

// The first of TIDE's rules that holds for one false positive (IoUs in m.ious, row d).
void type_error(const Matching& m, size_t d, const data::Detection& det, const std::vector<data::Object>& objects,
                const uint8_t* flags, bool image_has_counted, DetectionOutcome& out) {
  const size_t G = objects.size();
  double best_same = -1, best_other = -1, best_used = -1, best_any = 0;
  int same = -1, other = -1, used = -1;
  for (size_t k = 0; k < G; ++k) {
    if (is_ignored(objects[k])) continue;
    const double v = m.ious[d * G + k];
    best_any = std::max(best_any, v);
    if (objects[k].label != det.label) {
      if (v > best_other) best_other = v, other = static_cast<int>(k);
      continue;
    }
    if (v > best_same) best_same = v, same = static_cast<int>(k);
    if ((flags[k] & kMatched) && v >= m.t_match && v > best_used) best_used = v, used = static_cast<int>(k);
  }
  out.object = -1;
  if (!image_has_counted) {
    out.error = ErrorType::kBackground;
  } else if (same >= 0 && best_same >= m.t_background && best_same < m.t_match) {
    out.error = ErrorType::kLocalization;
    out.object = same;
  } else if (other >= 0 && best_other >= m.t_match) {
    out.error = ErrorType::kClassification;
    out.object = other;
  } else if (used >= 0) {
    out.error = ErrorType::kDuplicate;
    out.object = used;
  } else if (best_any <= m.t_background) {
    out.error = ErrorType::kBackground;
  } else {
    out.error = ErrorType::kBoth;
  }
}

// Types the image's false positives in ranking order, so the first Loc (Cls) error on an unmatched
// object is the highest-ranked one and claims its fix.
void type_image(Matching& m, size_t p) {
  const auto& dets = *m.dets;
  const uint32_t image = m.lists.order[p];
  const auto& objects = m.gt->images[image].objects;
  uint8_t* flags = m.flags.data() + m.object_begin[image];
  const bool has_counted = std::any_of(objects.begin(), objects.end(), [](const auto& o) { return !is_ignored(o); });
  const size_t first = m.lists.begin[p], D = m.lists.begin[p + 1] - first;
  for (size_t d = 0; d < D; ++d) {
    const uint32_t i = m.lists.dets[first + d];
    DetectionOutcome& out = m.outcomes[i];
    if (out.outcome != Outcome::kError) continue;
    type_error(m, d, dets[i], objects, flags, has_counted, out);
    if (out.error != ErrorType::kLocalization && out.error != ErrorType::kClassification) continue;
    uint8_t& f = flags[out.object];
    f |= kTargeted;
    const uint8_t claim = out.error == ErrorType::kLocalization ? kLocClaimed : kClsClaimed;
    if (!(f & kMatched) && !(f & claim)) {
      f |= claim;
      m.fix_wins[i] = 1;
    }
  }
}

Matching match(const data::Dataset& gt, const std::vector<data::Detection>& dets, const ErrorOptions& o,
               bool type_errors) {
  check_options(o);
  Matching m;
  m.gt = &gt;
  m.dets = &dets;
  m.t_match = std::min(o.foreground_iou, kMaxMatchIou);
  m.t_background = o.background_iou;
  const std::vector<uint32_t> det_image = check_input(gt, dets);
  m.lists = list_by_image(gt, dets, det_image, -std::numeric_limits<double>::infinity(), o.max_detections);
  m.object_begin.resize(gt.images.size() + 1, 0);
  for (size_t i = 0; i < gt.images.size(); ++i) m.object_begin[i + 1] = m.object_begin[i] + gt.images[i].objects.size();
  m.flags.assign(m.object_begin.back(), 0);
  m.outcomes.assign(dets.size(), {});
  for (size_t i = 0; i < dets.size(); ++i) m.outcomes[i].image = det_image[i];
  m.fix_wins.assign(dets.size(), 0);
  for (size_t p = 0; p < m.lists.order.size(); ++p) {
    match_image(m, p);
    if (type_errors) type_image(m, p);
  }
  return m;
}

// The true and false positives in COCOeval's accumulation order: descending score, ties in the image
// lists' order (ascending image id, then input order).
std::vector<uint32_t> ranking(const Matching& m) {
  std::vector<uint32_t> ranked;
  ranked.reserve(m.lists.dets.size());
  for (uint32_t i : m.lists.dets)
    if (m.outcomes[i].outcome == Outcome::kTruePositive || m.outcomes[i].outcome == Outcome::kError)
      ranked.push_back(i);
  const auto& dets = *m.dets;
  std::stable_sort(ranked.begin(), ranked.end(), [&](uint32_t a, uint32_t b) { return dets[a].score > dets[b].score; });
  return ranked;
}

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
  const std::vector<uint32_t> ranked = ranking(m);
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

// One image's row of the confusion matrix (see error_analysis.h for the rule).
void assign_image(const std::vector<data::Detection>& dets, const std::vector<data::Object>& objects,
                  const uint32_t* first, const uint32_t* last, double iou_threshold, std::vector<char>& taken,
                  ConfusionMatrix& cm) {
  const size_t K = cm.classes.size(), G = objects.size();
  taken.assign(G, 0);
  for (const uint32_t* it = first; it != last; ++it) {
    const data::Detection& d = dets[*it];
    double best = -1;
    int found = -1;
    bool absorbed = false;
    for (size_t k = 0; k < G; ++k) {
      if (is_ignored(objects[k])) {
        absorbed = absorbed || box_iou(d.box, objects[k].box, objects[k].crowd) >= iou_threshold;
        continue;
      }
      const double v = taken[k] ? -1 : box_iou(d.box, objects[k].box, false);
      if (v >= iou_threshold && v > best) best = v, found = static_cast<int>(k);
    }
    if (found >= 0) {
      taken[found] = 1;
      ++cm.counts[objects[found].label][d.label];
    } else if (absorbed) {
      ++cm.ignored_detections;
    } else {
      ++cm.counts[K][d.label];
    }
  }
  for (size_t k = 0; k < G; ++k)
    if (!is_ignored(objects[k]) && !taken[k]) ++cm.counts[objects[k].label][K];
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
  Matching m = match(gt, dets, options, true);
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

std::vector<ScoreCurve> score_curves(const data::Dataset& gt, const std::vector<data::Detection>& dets,
                                     const ErrorOptions& options) {
  const Matching m = match(gt, dets, options, false);
  std::vector<ScoreCurve> curves(gt.classes.size());
  for (size_t k = 0; k < curves.size(); ++k) {
    curves[k].name = gt.classes[k];
    curves[k].label = static_cast<int>(k);
  }
  for (const auto& im : gt.images)
    for (const auto& o : im.objects)
      if (!is_ignored(o)) ++curves[o.label].gt;
  // A class's detections are contiguous by score in the ranking, so a point is final once a lower
  // score of its class follows; an equal score overwrites it.
  for (uint32_t i : ranking(m)) {
    ScoreCurve& c = curves[dets[i].label];
    const bool tp = m.outcomes[i].outcome == Outcome::kTruePositive;
    const size_t t = (c.true_positives.empty() ? 0 : c.true_positives.back()) + tp;
    const size_t f = (c.false_positives.empty() ? 0 : c.false_positives.back()) + !tp;
    if (c.score.empty() || c.score.back() != dets[i].score) {
      c.score.push_back(dets[i].score);
      c.true_positives.push_back(0), c.false_positives.push_back(0);
      c.precision.push_back(0), c.recall.push_back(0), c.f1.push_back(0);
    }
    const double td = static_cast<double>(t), fd = static_cast<double>(f), n = static_cast<double>(c.gt);
    c.true_positives.back() = t;
    c.false_positives.back() = f;
    c.precision.back() = td / (td + fd);
    c.recall.back() = c.gt ? td / n : 0;
    c.f1.back() = 2 * td / (2 * td + fd + (n - td));  // the operating point's expression (curves.cpp)
  }
  return curves;
}

ConfusionMatrix confusion_matrix(const data::Dataset& gt, const std::vector<data::Detection>& dets,
                                 const ConfusionOptions& options) {
  if (std::isnan(options.score_threshold)) throw std::invalid_argument("confusion matrix: score threshold is NaN");
  if (!(options.iou_threshold > 0 && options.iou_threshold <= 1))
    throw std::invalid_argument("confusion matrix: IoU threshold " + std::to_string(options.iou_threshold) +
                                " is not in (0, 1]");
  const std::vector<uint32_t> det_image = check_input(gt, dets);
  const ImageLists lists = list_by_image(gt, dets, det_image, options.score_threshold, 0);
  ConfusionMatrix cm;
  cm.options = options;
  cm.classes = gt.classes;
  const size_t K = gt.classes.size();
  cm.counts.assign(K + 1, std::vector<size_t>(K + 1, 0));
  cm.below_score_threshold = dets.size() - lists.dets.size();
  std::vector<char> taken;
  for (size_t p = 0; p < lists.order.size(); ++p)
    assign_image(dets, gt.images[lists.order[p]].objects, lists.dets.data() + lists.begin[p],
                 lists.dets.data() + lists.begin[p + 1], options.iou_threshold, taken, cm);
  cm.normalized.assign(K + 1, std::vector<double>(K + 1, 0.0));
  for (size_t r = 0; r <= K; ++r) {
    size_t sum = 0;
    for (size_t v : cm.counts[r]) sum += v;
    if (sum == 0) continue;
    for (size_t c = 0; c <= K; ++c) cm.normalized[r][c] = static_cast<double>(cm.counts[r][c]) / sum;
  }
  return cm;
}

}  // namespace cvtk::metrics
