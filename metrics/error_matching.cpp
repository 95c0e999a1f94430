// Steps 1 and 2 of the error analysis (error_matching.h): one pass matches and types every detection
// image by image, with per-object flags instead of per-error objects.
#include "metrics/error_matching.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "metrics/input_checks.h"

namespace cvtk::metrics::detail {
namespace {

constexpr double kMaxMatchIou = 1 - 1e-10;  // COCOeval's cap on the threshold

void check_options(const ErrorOptions& o) {
  if (!(o.background_iou >= 0 && o.background_iou <= o.foreground_iou && o.foreground_iou > 0 && o.foreground_iou <= 1))
    throw std::invalid_argument("error analysis: IoU thresholds must satisfy 0 <= background (" +
                                std::to_string(o.background_iou) + ") <= foreground (" +
                                std::to_string(o.foreground_iou) + ") <= 1, foreground > 0");
  if (o.max_detections < 0)
    throw std::invalid_argument("error analysis: max detections " + std::to_string(o.max_detections) + " < 0");
}

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
}  // namespace

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

// Per detection: the index of its image in gt.images, after metrics::evaluate's checks.
std::vector<uint32_t> check_input(const data::Dataset& gt, const std::vector<data::Detection>& dets) {
  const auto index = index_images(gt);
  check_object_labels(gt);
  const auto images = detection_images(gt, dets, index);
  return std::vector<uint32_t>(images.begin(), images.end());
}
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
}  // namespace cvtk::metrics::detail
